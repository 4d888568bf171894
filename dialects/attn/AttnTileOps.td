//===- AttnTileOps.td - attn dialect: tile and role ops -----*- tablegen -*-===//
//
// The ops attn-tile and the GPU passes produce: tile copies (loads, TMA
// prefetches, waits, releases, stores), the copy roles and the run-time
// program hand-out, tile products and row operations. Included by
// AttnOps.td at the place they had there, so the generated op list (and
// its order) is the dialect's one list.
//
//===----------------------------------------------------------------------===//

#ifndef FAOPT_ATTN_TILE_OPS_TD
#define FAOPT_ATTN_TILE_OPS_TD

//===----------------------------------------------------------------------===//
// Tiles: loads and stores against global memory
//===----------------------------------------------------------------------===//

def Attn_TileLoadOp : Attn_Op<"tile_load"> {
  let summary = "read a block of rows of one (batch, head) into a tile";
  let description = [{
    `tile[i, :] = source[batch, head, row + i, :]` for `row + i < bound`, and
    zero beyond it. `source` is a rank-4 memref [batch, heads, seq, dim] (any
    strides) read into a [rows, dim] tile, or a rank-3 memref into a [rows]
    tile.
  }];
  let arguments = (ins Arg<AnyStridedMemRef, "", [MemRead]>:$source,
                       Index:$batch, Index:$head, Index:$row, Index:$bound);
  let results = (outs AnyStaticShapeTensor:$tile);
  let assemblyFormat = [{
    $source `[` $batch `,` $head `,` $row `]` `bound` $bound attr-dict
    `:` type($source) `->` type($tile)
  }];
  let hasVerifier = 1;
}

def Attn_TileStoreOp : Attn_Op<"tile_store", [AttrSizedOperandSegments]> {
  let summary = "write a tile to a block of rows of one (batch, head)";
  let description = [{
    `dest[batch, head, row + i, ...] = tile[i, ...]` for `row + i < bound`;
    rows at or beyond `bound` are not written. Element types may differ only
    when the tile is f32 and is rounded to dest's type.

    With `staged_in %src stage %s round %r when %held` (GPU, TMA; added by
    attn-stage-output-in-v): where %held holds, this program still holds
    stage %s (fill %r) of the buffer of `src`'s tiles, and the tile is
    staged there for its store instead of in a region of its own; the op
    then also releases that stage (attn.tile_release), once the store has
    read it. Where %held does not hold, no stage is held and the tile is
    written without staging.
  }];
  let arguments = (ins AnyStaticShapeTensor:$tile,
                       Arg<AnyStridedMemRef, "", [MemWrite]>:$dest,
                       Index:$batch, Index:$head, Index:$row, Index:$bound,
                       Optional<AnyStridedMemRef>:$staging_source,
                       Optional<Index>:$staging_stage,
                       Optional<Index>:$staging_round,
                       Optional<I1>:$staging_held);
  let assemblyFormat = [{
    $tile `,` $dest `[` $batch `,` $head `,` $row `]` `bound` $bound
    (`staged_in` $staging_source^ `stage` $staging_stage `round`
     $staging_round `when` $staging_held)? attr-dict
    `:` type($tile) `,` type($dest) (`,` type($staging_source)^)?
  }];
  let builders = [
    OpBuilder<(ins "::mlir::Value":$tile, "::mlir::Value":$dest,
                   "::mlir::Value":$batch, "::mlir::Value":$head,
                   "::mlir::Value":$row, "::mlir::Value":$bound), [{
      build($_builder, $_state, tile, dest, batch, head, row, bound,
            ::mlir::Value(), ::mlir::Value(), ::mlir::Value(),
            ::mlir::Value());
    }]>
  ];
  let hasVerifier = 1;
}

def Attn_TilePrefetchOp : Attn_Op<"tile_prefetch"> {
  let summary = "start copying a tile into a shared-memory stage (GPU)";
  let description = [{
    Starts an asynchronous copy of the rows attn.tile_load would read
    (`tile_type` rows of (batch, head) from `row`, zero past `bound`) into
    stage `stage` of the buffer that holds tiles of `source`. It yields
    nothing: a later attn.tile_wait with the same source and stage returns
    the data. attn-pipeline-kv-loads introduces it so that block j + 1 is
    fetched while block j is computed. `round` counts the earlier fills of
    this stage (0 for the first): a copy engine that signals completion on a
    barrier per stage (TMA) tells the rounds apart by it.
  }];
  let arguments = (ins Arg<AnyStridedMemRef, "", [MemRead, MemWrite]>:$source,
                       Index:$batch, Index:$head, Index:$row, Index:$bound,
                       Index:$stage, Index:$round, TypeAttr:$tile_type);
  let assemblyFormat = [{
    $source `[` $batch `,` $head `,` $row `]` `bound` $bound `stage` $stage
    `round` $round attr-dict `:` type($source) `->` $tile_type
  }];
  let hasVerifier = 1;
}

def Attn_CopyProducerOp : Attn_Op<"copy_producer", [Pure]> {
  let summary = "whether this thread issues the kernel's tile copies (GPU, TMA)";
  let description = [{
    True in the one thread of a TMA kernel's producer warpgroup that issues
    the copies (attn.tile_prefetch), false in the consumer threads that
    compute; the producer warpgroup's other threads have exited.
    attn-warp-specialize branches on it: the producer runs the slice of the
    kernel body that computes the prefetches, the consumers the rest.
  }];
  let results = (outs I1:$result);
  let assemblyFormat = "attr-dict";
}

def Attn_WorkersOp : Attn_Op<"workers", [Pure]> {
  let summary = "how many programs of a persistent kernel run at once (GPU)";
  let description = [{
    The number of CTAs a persistent launch starts (gridDim.x); worker w
    runs programs w, then one per row of `workers` programs after it
    (attn-persistent-programs). The runtime launches min(programs, SMs)
    of them, so it is at least 1 and at most the program count; a launch
    of one CTA per program starts every program (attn-schedule-grid
    compares it with the program count to tell the two apart). Only in a
    kernel function (attn.kernel).
  }];
  let results = (outs Index:$result);
  let assemblyFormat = "attr-dict";
  let hasVerifier = 1;
}

def Attn_NextProgramOp : Attn_Op<"next_program"> {
  let summary = "a persistent worker's t-th program, handed out at run time (GPU, TMA)";
  let description = [{
    The program worker `worker` (of `workers`) runs in the t-th iteration of
    its loop over programs (`scf.for {attn.programs, attn.hand_out}`,
    attn-persistent-programs): t = 0 gives the worker index; later ones
    come from `counter` (one int32 per launch, zero at launch), which hands
    out programs workers, workers + 1, ... in attn-schedule-grid's order to
    whichever worker asks first, so the workers balance lengths known only
    at run time (kv-block lists). A result at or past `total` means no more
    programs, and every later t gives one too (monotone), so a loop whose
    body runs only below `total` may stop there (attn.no_more_programs).

    After attn-warp-specialize the op is in both roles: with `producer`
    (the copy thread) it claims the program, waits for its Q stage to be
    empty, publishes the index in shared memory and, past the end, completes
    that stage's fill without a copy; without it (the consumers) it waits
    for that fill and reads the index. Program t's Q stage is 0 and its
    fill t, or with two Q tiles (attn.q_stages = 2 on the loop) stage
    t mod 2 and fill t / 2. With `producer` and
    `publish_later` it only claims the program: an attn.publish_program
    later in the same iteration does the rest, with values the consumers
    read (attn.program_value) instead of loading them. Only in a TMA kernel
    function (attn.kernel).
  }];
  let arguments = (ins Index:$t, Index:$worker, Index:$workers, Index:$total,
                       Arg<MemRefRankOf<[I32], [1]>, "the launch's program counter",
                           [MemRead, MemWrite]>:$counter,
                       UnitAttr:$producer, UnitAttr:$publish_later);
  let results = (outs Index:$result);
  let assemblyFormat = [{
    $t `of` $worker `workers` $workers `below` $total `counter` $counter
    (`producer` $producer^)? (`publish_later` $publish_later^)? attr-dict `:` type($counter)
  }];
  let hasVerifier = 1;
}

def Attn_PublishProgramOp : Attn_Op<"publish_program",
    [MemoryEffects<[MemRead<DefaultResource>, MemWrite<DefaultResource>]>]> {
  let summary = "the copy thread publishes a claimed program with values (GPU, TMA)";
  let description = [{
    After `attn.next_program ... producer publish_later` returned `program`
    for the worker's t-th program: waits for program t's Q stage to be
    empty (the consumers are done with the program before it in that
    stage: t - 1, or t - 2 with two Q tiles, and with what it published),
    stores the program (at most `total`) and `values` in that stage's
    slots, and past the end completes the stage's fill without a copy.
    Program t's Q fill, issued after it, makes them visible to the
    consumers with the tile; `attn.program_value of %t {index = i}` reads
    values[i] (attn-hand-over-list-header). At most 8 values.
  }];
  let arguments = (ins Index:$t, Index:$program, Index:$total,
                       Variadic<I32>:$values);
  let assemblyFormat = [{
    $program `for` $t `below` $total (`with` $values^)? attr-dict
  }];
  let hasVerifier = 1;
}

def Attn_ProgramValueOp : Attn_Op<"program_value",
    [MemoryEffects<[MemRead<DefaultResource>]>]> {
  let summary = "a value the copy thread published with the current program (GPU, TMA)";
  let description = [{
    In the consumers, after their attn.next_program for the worker's t-th
    program: values[index] of the copy thread's attn.publish_program for
    the same program (`t` picks the slots of that program's Q stage when
    the worker has two Q tiles, attn.q_stages = 2).
  }];
  let arguments = (ins Index:$t,
                       ConfinedAttr<I64Attr, [IntNonNegative, IntMaxValue<7>]>:$index);
  let results = (outs I32:$result);
  let assemblyFormat = "`of` $t attr-dict";
  let hasVerifier = 1;
}

def Attn_NoMoreProgramsOp : Attn_Op<"no_more_programs"> {
  let summary = "the enclosing loop over programs has nothing left to run (GPU)";
  let description = [{
    In the branch of a hand-out loop's body (`scf.for {attn.programs,
    attn.hand_out}`) taken when attn.next_program returned a program past
    the end (directly in that loop's `scf.if {attn.program_guard}`): every
    later iteration would take it too, so the lowering leaves the loop
    (`break`). The `scf.for` reads as if the remaining iterations were
    empty, but the lowering relies on the `break`: after
    attn-warp-specialize a later attn.next_program would wait for a
    program that is never published.
  }];
  let assemblyFormat = "attr-dict";
  let hasVerifier = 1;
}

def Attn_AwaitListBuilderOp : Attn_Op<"await_list_builder"> {
  let summary = "wait until the kv-block list builder's writes are visible (GPU)";
  let description = [{
    Blocks until the grid launched before this kernel in its stream (the
    list builder that writes the kernel's `attn.block_lists` argument) has
    finished and its writes are visible. The runtime launches a kernel
    right after its list builder with programmatic dependent launch (sm90a),
    so the kernel's CTAs may start while the builder still runs: everything
    before this op (barrier setup, index math, the first Q copy) overlaps
    the builder, nothing before it may read the lists. Without programmatic
    dependent launch the builder has finished already and this returns at
    once (PTX griddepcontrol.wait). attn-await-list-builder inserts one
    before each role's first read of the lists. Only in a kernel function
    (attn.kernel).
  }];
  let assemblyFormat = "attr-dict";
  let hasVerifier = 1;
}

def Attn_ResetProgramCounterOp : Attn_Op<"reset_program_counter"> {
  let summary = "a list builder zeroes its kernel's program counter (GPU)";
  let description = [{
    In a kv-block list builder (attn.block_list_builder): thread 0 of
    program 0 sets `counter`, the program counter of the kernel launched
    right after the builder (attn-persistent-programs' hand-out), to 0, so
    the launch needs no memset of its own between the previous kernel and
    the builder. The kernel reads the counter only after waiting for the
    builder (attn.await_list_builder); a builder launched on its own (lists
    built once for many launches) gets a null counter and writes nothing.
    attn-builder-resets-counter adds it.
  }];
  let arguments = (ins Arg<MemRefRankOf<[I32], [1]>, "the kernel's program counter",
                           [MemWrite]>:$counter);
  let assemblyFormat = "$counter attr-dict `:` type($counter)";
  let hasVerifier = 1;
}

def Attn_StageRowOp : Attn_Op<"stage_row"> {
  let summary = "a list builder's thread block copies one row of a tensor "
                "input into shared memory (GPU)";
  let description = [{
    In a kv-block list builder (attn.block_list_builder), per list row:
    the thread block copies `tensor[lead..., 0 .. size)` (the whole last
    dimension) into shared memory and returns a view of the tensor whose
    reads of that row are served from there. It is the same tensor: the
    result has the source's type in memory space 3 (workgroup), and every
    read through it gives what the same read of `tensor` would; reads whose
    last index falls outside the copy, and every read where nothing was
    copied (a row longer than `capacity` entries, not contiguous, or not
    16-byte aligned: decided at run time, the same way in every thread),
    go to the tensor. Reads through the view must use the staged leading
    indices (attn-stage-builder-rows routes only those through it).

    ```mlir
    %ids_s = attn.stage_row %ids[%b] {capacity = 8192 : i64}
        : memref<?x?xi32, strided<[?, ?], offset: ?>>
        -> memref<?x?xi32, strided<[?, ?], offset: ?>, 3>
    ```
  }];
  let arguments = (ins Arg<AnyMemRef, "the tensor input", [MemRead]>:$tensor,
                       Variadic<Index>:$lead, I64Attr:$capacity);
  let results = (outs AnyMemRef:$staged);
  let assemblyFormat = [{
    $tensor `[` $lead `]` attr-dict `:` type($tensor) `->` type($staged)
  }];
  let hasVerifier = 1;
}

def Attn_TileWaitOp : Attn_Op<"tile_wait"> {
  let summary = "the tile an earlier tile_prefetch put in a stage (GPU)";
  let description = [{
    Returns what attn.tile_load with the same operands would, taking it from
    stage `stage` once the prefetch that filled it (in round `round`) has
    completed. `ahead` is true when the prefetch of the next stage has been
    issued and may stay in flight.
  }];
  let arguments = (ins Arg<AnyStridedMemRef, "", [MemRead]>:$source,
                       Index:$batch, Index:$head, Index:$row, Index:$bound,
                       Index:$stage, Index:$round, I1:$ahead);
  let results = (outs AnyStaticShapeTensor:$tile);
  let assemblyFormat = [{
    $source `[` $batch `,` $head `,` $row `]` `bound` $bound `stage` $stage
    `round` $round `ahead` $ahead attr-dict `:` type($source) `->` type($tile)
  }];
  let hasVerifier = 1;
}

def Attn_TileReleaseOp : Attn_Op<"tile_release", [AttrSizedOperandSegments]> {
  let summary = "hand a shared-memory stage back to the copies (GPU)";
  let description = [{
    Marks the end of this iteration's use of stage `stage` (filled in round
    `round`) of the buffer that holds tiles of `source`: no tile taken from
    it with attn.tile_wait is read after this point, so the next prefetch
    into the stage may overwrite it. It also stands for a wait when the
    iteration skipped its tile_wait (a guarded block), so every round of a
    stage is consumed exactly once. attn-pipeline-kv-loads places one per
    pipelined source at the end of the kv loop body. Copies that
    synchronise with CTA barriers (cp.async) need nothing here; producer /
    consumer copies (TMA) signal the stage's "empty" barrier.
    With `when %c`: only where %c holds, and never standing for a wait (its
    tile must have been waited for): attn-release-q-early releases Q's stage
    in the kv loop's last iteration, when the stage may already hold the
    next fill.
    With `after %sums` (row sums of a softmax, never negative): the release
    is issued only once %sums is computed; the TMA lowering predicates the
    arrive on them (`!(sum < -1)`, always true, NaN included), a data
    dependence the CUDA compiler cannot schedule around. It never stands
    for a wait either. attn-overlap-softmax's late-k-release
    releases K's stage this way just before the wait for P V: ptxas places
    that wait as early as the arrives around it allow, so with K released
    before the softmax the wait lands before every exponential
    (docs/performance.md item 80).
  }];
  // A write on the source: it hands the stage back (a barrier arrive), so
  // it is never dead code even though it returns nothing.
  let arguments = (ins Arg<AnyStridedMemRef, "", [MemRead, MemWrite]>:$source,
                       Index:$stage, Index:$round, Optional<I1>:$when,
                       Optional<RankedTensorOf<[F32]>>:$after);
  let assemblyFormat = [{
    $source `stage` $stage `round` $round (`when` $when^)?
    (`after` $after^)? attr-dict `:` type($source) (`,` type($after)^)?
  }];
  let builders = [
    OpBuilder<(ins "::mlir::Value":$source, "::mlir::Value":$stage,
                   "::mlir::Value":$round), [{
      build($_builder, $_state, source, stage, round, ::mlir::Value(),
            ::mlir::Value());
    }]>,
    OpBuilder<(ins "::mlir::Value":$source, "::mlir::Value":$stage,
                   "::mlir::Value":$round, "::mlir::Value":$when), [{
      build($_builder, $_state, source, stage, round, when, ::mlir::Value());
    }]>
  ];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Tiles: compute
//===----------------------------------------------------------------------===//

def Attn_TileMatmulOp : Attn_Op<"tile_matmul", [Pure]> {
  let summary = "tile matrix product with f32 accumulation";
  let description = [{
    `result = acc + lhs · rhs` (or `lhs · rhsᵀ` with `transpose_rhs`), products
    of lhs/rhs elements accumulated in f32. Without `acc` it starts at zero.

    With `async` (GPU, wgmma) the product is only started: the tensor cores
    work on it while the thread goes on, and its result may be read only
    through attn.tile_mma_wait (directly or after passing through scf.if
    results), which the verifier checks. attn-overlap-softmax sets it.
  }];
  let arguments = (ins AnyStaticShapeTensor:$lhs, AnyStaticShapeTensor:$rhs,
                       Optional<AnyStaticShapeTensor>:$acc,
                       UnitAttr:$transpose_rhs, UnitAttr:$async);
  let results = (outs AnyStaticShapeTensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs (`acc` $acc^)? attr-dict `:` type(operands) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Attn_TileMmaWaitOp : Attn_Op<"tile_mma_wait",
    [AllTypesMatch<["tile", "result"]>,
     MemoryEffects<[MemRead<DefaultResource>, MemWrite<DefaultResource>]>]> {
  let summary = "wait for started tile products (GPU, wgmma)";
  let description = [{
    Waits until at most `pending` of the products this thread started with
    `attn.tile_matmul {async}` are still running (the most recent ones;
    products finish in the order they were started), then returns `tile`,
    the result of one of the finished products, now safe to read. With
    `pending = 1` after starting S(j+1) and then P V(j), S(j+1) is ready
    while P V(j) still runs. It has memory effects so that nothing moves it.
  }];
  let arguments = (ins AnyStaticShapeTensor:$tile,
                       ConfinedAttr<I64Attr, [IntNonNegative]>:$pending);
  let results = (outs AnyStaticShapeTensor:$result);
  let assemblyFormat = [{
    $tile `pending` $pending attr-dict `:` type($tile)
  }];
}

def Attn_TileMapOp : Attn_Op<"tile_map",
    [RecursiveMemoryEffects, AllTypesMatch<["tile", "result"]>,
     DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmBlockArgumentNames", "getAsmResultNames"]>]> {
  let summary = "elementwise function of a score tile and each element's position";
  let description = [{
    `result[i, j] = body(tile[i, j], batch, head, row + i, col + j)`. The body
    may use values defined above it (a sequence bound, say).
  }];
  let arguments = (ins AnyStaticShapeTensor:$tile, Index:$batch, Index:$head,
                       Index:$row, Index:$col);
  let results = (outs AnyStaticShapeTensor:$result);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    $tile `at` `(` $batch `,` $head `,` $row `,` $col `)` attr-dict-with-keyword
    $body `:` type($tile)
  }];
  let hasVerifier = 1;
}

def Attn_TileReduceOp : Attn_Op<"tile_reduce",
    [Pure, AllTypesMatch<["init", "result"]>]> {
  let summary = "row reduction of a tile, combined with an initial row vector";
  let description = [{
    `result[i] = init[i] ⊕ (⊕_j tile[i, j])` for ⊕ = max or +.
  }];
  let arguments = (ins Attn_ReduceKindAttr:$kind, AnyStaticShapeTensor:$tile,
                       AnyStaticShapeTensor:$init);
  let results = (outs AnyStaticShapeTensor:$result);
  let assemblyFormat = [{
    $kind $tile `,` $init attr-dict `:` type($tile) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Attn_TileExp2Op : Attn_Op<"tile_exp2",
    [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "exp2 of a tile minus its row maximum, scaled";
  let description = [{
    `result[i, ...] = exp2(k · (input[i, ...] - m'[i]))` with k = `exp_scale`
    and `m'[i] = 0` where `max[i] = -inf` (so an all-masked row gives zeros,
    not NaN): one multiply-add and one exp2 per element. Works on rank-2
    tiles and on rank-1 row vectors.
  }];
  let arguments = (ins AnyStaticShapeTensor:$input, AnyStaticShapeTensor:$max,
                       DefaultValuedAttr<F32Attr, "1.0f">:$exp_scale);
  let results = (outs AnyStaticShapeTensor:$result);
  let assemblyFormat = [{
    $input `,` $max attr-dict `:` type($input) `,` type($max)
  }];
  let hasVerifier = 1;
}

def Attn_TileScaleRowsOp : Attn_Op<"tile_scale_rows",
    [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "multiply each row of a tile (or each element of a row vector)";
  let description = [{ `result[i, ...] = input[i, ...] · factor[i]`. }];
  let arguments = (ins AnyStaticShapeTensor:$input,
                       AnyStaticShapeTensor:$factor);
  let results = (outs AnyStaticShapeTensor:$result);
  let assemblyFormat = [{
    $input `,` $factor attr-dict `:` type($input) `,` type($factor)
  }];
  let hasVerifier = 1;
}

#endif // FAOPT_ATTN_TILE_OPS_TD
