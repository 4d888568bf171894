//===- Passes.td - the GPU targets' lowering to CUDA C++ ---*- tablegen -*-===//

#ifndef FAOPT_GPU_PASSES_TD
#define FAOPT_GPU_PASSES_TD

include "mlir/Pass/PassBase.td"

def AttnOverlapSoftmax : Pass<"attn-overlap-softmax", "mlir::func::FuncOp"> {
  let summary = "Run each kv-block's softmax while the tensor cores do the previous P V";
  let description = [{
    FlashAttention-3's intra-warpgroup overlap, for kernels with wgmma
    products and TMA copies (attn.tiling mma = "wgmma", copy = "tma"): the
    product O += P V of kv-block j - 1 is started in iteration j right after
    S = Q Kᵀ of block j (attn.tile_matmul {async}), and waited for
    (attn.tile_mma_wait) only after block j's softmax. P, V's stage and a
    "pending" flag become loop-carried; the last product runs after the
    loop. Other kernels are left alone. With rounded-p, P crosses the back
    edge rounded to the operand type (#attn.register_operand) rather than in
    f32. K's stage is released right after S's wait; with late-k-release
    just before the wait for P V, ordered after the softmax's row sums
    (attn.tile_release `after`), so that the CUDA compiler keeps that wait
    after the exponentials (docs/performance.md items 80, 81); with
    block-layouts-only too (the pipeline's default), only in kernels driven
    by a block layout, where the H200 measured it faster.
  }];
  let options = [
    Option<"roundedP", "rounded-p", "bool", /*default=*/"true",
           "carry P rounded (a register operand), rounded once the previous "
           "P V is done; false: in f32, rounded at the top of the next "
           "iteration (docs/performance.md item 50)">,
    Option<"lateKRelease", "late-k-release", "bool", /*default=*/"false",
           "release K's stage just before the wait for P V, after the row "
           "sums (ptxas then runs the softmax under P V, measured mixed on "
           "the H200, docs/performance.md items 80, 81); by default right "
           "after S's wait">,
    Option<"blockLayoutsOnly", "block-layouts-only", "bool",
           /*default=*/"false",
           "with late-k-release: only in kernels driven by kv-block lists "
           "whose mask does not bound kv by q (block layouts)">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect"];
}

def AttnWarpSpecialize : Pass<"attn-warp-specialize", "mlir::func::FuncOp"> {
  let summary = "Give the TMA copy producer its own slice of the kernel body";
  let description = [{
    For kernels with attn.tiling copy = "tma": the body of the attn.grid
    scf.forall splits on attn.copy_producer. The producer thread runs the
    backward slice of the body that computes the attn.tile_prefetch
    operands (loops, branches, index math, block-list reads) and issues
    the copies; the consumers run the body without prefetches. They meet
    at the stages' full / empty barriers (attn.tile_wait, attn.tile_release).
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect"];
}

def AttnAwaitListBuilder : Pass<"attn-await-list-builder", "mlir::func::FuncOp"> {
  let summary = "Wait for the kv-block list builder right before the first list read";
  let description = [{
    For kernels with an attn.block_lists argument (written by the list
    builder launched just before them): in each role of the attn.grid body
    (attn-warp-specialize's copy thread and consumers, or the whole body),
    inserts attn.await_list_builder before the outermost op holding the
    role's first read of the lists, or of the program counter where the
    builder zeroes it (attn.reset_by_builder). With programmatic dependent launch the
    kernel starts while the builder finishes; everything before the wait
    (barrier setup, index math, the first Q copy) overlaps it.
  }];
}

def AttnBuilderResetsCounter : Pass<"attn-builder-resets-counter", "mlir::ModuleOp"> {
  let summary = "Let the list builder zero its kernel's program counter";
  let description = [{
    For a kernel whose programs are handed out at run time (an argument
    marked attn.program_counter, attn-persistent-programs) and whose kv-block
    lists come from a list builder in the same module (attn.block_list_builder):
    the builder gains the counter as its last argument (memref<1xi32>
    {attn.program_counter}) and starts with attn.reset_program_counter, and
    the kernel's counter argument is marked attn.reset_by_builder, so that
    attn-await-list-builder puts its wait before the first claim too. The
    runtime then passes the counter to the builder (the manifest says so)
    instead of zeroing it with a memset of its own before the builder: one
    stream operation fewer between the previous kernel and the builder
    (on the H200 +0.1-0.5% on the list-driven variants at 8k, within the
    run-to-run noise: docs/performance.md item 73).
  }];
}

def AttnStageBuilderRows : Pass<"attn-stage-builder-rows", "mlir::ModuleOp"> {
  let summary = "Copy the tensor row a list builder's row reads into shared memory first";
  let description = [{
    In each kv-block list builder (attn.block_list_builder), per list row
    (the grid body holding attn.block_list_build and the attn.key_ranges
    after it): a tensor argument of 32-bit entries that the row's bodies
    read at least twice (attn.tensor_bounds, memref.load), every read with
    the same leading indices (a single point in each but the last
    dimension), is staged: attn.stage_row before the build copies
    `tensor[lead..., 0 .. size)` into shared memory, and the bodies' reads
    (and memref.dim) take its view instead. The reads then cost
    shared-memory latency instead of a global round trip each (the document
    builder's q ids, kv ids, order check and key searches are four such
    rounds in a row). The view falls back to the tensor where the copy was
    not made (a row longer than `capacity` entries, say), so results never
    change. At most one tensor per builder (static shared memory).
  }];
  let options = [
    Option<"capacity", "capacity", "int64_t", /*default=*/"8192",
           "entries (32-bit) of shared memory for the staged row">,
  ];
}

def AttnOutlineTileMaps : Pass<"attn-outline-tile-maps", "mlir::ModuleOp"> {
  let summary = "Outline attn.tile_map bodies into per-element device functions";
  let description = [{
    Each attn.tile_map body (logits, score modifier, mask) becomes a private
    function `(score: f32, b, h, q, kv: index, captured...) -> f32` marked
    `attn.device_function`; the tile_map's body then only calls it, passing
    the values it used from above (a sequence bound, say). The GPU lowering
    hands that function to faopt::map_positions, which applies it to the
    fragment elements each thread holds.

    The body of each attn.block_list_build is outlined too, as
    `(kv_block: index, captured...) -> i32` returning 0 (empty), 1
    (partial) or 2 (full); faopt::build_block_list calls it per kv-block.
    Before that, the builder's launch facts are stated on its ops
    (`attn.range`: fewer than 2^31 rows, sequences of at most 2^29, hence
    q-blocks below 2^29 / block_q), so the classifier's and the key
    function's captured values get ranges and attn-narrow-index-math can
    move the builder's arithmetic to i32.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::func::FuncDialect"];
}

def AttnIsolateKvBounds : Pass<"attn-isolate-kv-bounds", "mlir::ModuleOp"> {
  let summary = "Turn mask terms linear in kv into per-row bounds on kv";
  let description = [{
    In each `attn.device_function` with an argument marked
    `attn.kv_position`, rewrites every and/or tree of compares that are
    linear in kv with coefficient +-1 (`q - kv <= w`, `kv < sk`, ...) into
    at most two compares, `kv >= lower && kv <= upper`, whose bounds depend
    only on the row's values (max / min of the terms' bounds; a || of
    same-side bounds gives the loosest); `floor((kv + s) / C) == x` with a
    constant C (chunked attention) is a bound from each side, and so is
    `floor((kv + s) / d) == x` with d given at run time (either sign: the
    bounds take d's sign at run time, so no per-score division is left).
    Other terms stay, joined by &&.
    Exact for every input: bounds are built only from values with a known
    `attn.range` plus at most one unbounded value per term (a parameter),
    clamped first to a range where the compare cannot change.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def AttnSortedKeysAsBounds : Pass<"attn-sorted-keys-as-bounds", "mlir::ModuleOp"> {
  let summary = "Let the list builder turn a key-equality mask term into per-row kv ranges";
  let description = [{
    For a kernel with kv-block lists whose masked score map has a conjunct
    `x == y`, x computed from q (and b, h) and y from kv (and b, h) by
    side-effect-free ops and tensor reads (document ids: `doc[b, q] ==
    doc[b, kv]`; reads with clamped indices; the map must also test
    `kv < seqlen_k` and start at q-block * block_q): the list builder gets
    an attn.key_ranges after its attn.block_list_build, which checks at
    run time that the column keys are sorted over the span of the row's
    listed kv-blocks and, if so, writes each q row's first and last
    matching kv after the list (`key_range_rows` on the lists argument:
    the runtime sizes the rows for them). The kernel reads
    that flag before its kv loop and runs one of two copies of the loop:
    one whose masked map tests `first(q) <= kv <= last(q)` instead of the
    compare (per-row bounds for attn-kv-bounds-in-rows), or the loop as it
    was. TMA kernels only (attn.tiling copy = "tma"). Runs before
    attn-outline-tile-maps; the pipeline runs it unless row-bound masks are
    off (docs/performance.md item 41).
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::memref::MemRefDialect"];
}

def AttnReleaseQEarly : Pass<"attn-release-q-early", "mlir::func::FuncOp"> {
  let summary = "Release Q's stage after the kv loop's last S = Q K^T, not after the loop";
  let description = [{
    In a kernel (attn.kernel) where a tile release directly follows an
    scf.for whose matrix products read that tile, waited for before the loop
    (Q in a persistent kernel: attn-pipeline-kv-loads releases it after the
    kv loop), the release moves into the loop, right after the last op that
    holds one of those products or its wait, predicated on the iteration
    being the last (`attn.tile_release ... when`); the release after the
    loop stays for a loop with no iteration. So the copy thread loads the
    next program's Q while the consumers still run their last softmax, P V
    and O store. Runs after attn-warp-specialize. With `bands-only` (the
    pipeline's default, release-q-early=auto) only loops whose lower bound
    is neither a constant, nor a chunk's start (`(x / d) * d`), nor found by
    a binary search (an scf.while): the closed-form bands of masks linear in
    kv on both sides (sliding windows), where it was measured to gain;
    chunks and masks from block 0 lost (docs/performance.md items 58, 70,
    75, 76). Where it moves Q's release, the copy thread's Q prefetch moves
    after the program's first K / V prefetch (the op before the copy
    thread's kv loop), unless the programs have two Q tiles: sliding
    window 1024 +1.5% on the H200 (item 84).
  }];
  let options = [
    Option<"bandsOnly", "bands-only", "bool", "false",
           "only kv loops whose first block is a closed form moving with "
           "the program (sliding windows)">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def AttnStageOutputInV : Pass<"attn-stage-output-in-v", "mlir::func::FuncOp"> {
  let summary = "Stage a persistent kernel's O tile in the V stage of its last P V";
  let description = [{
    In a kernel whose loop over programs has attn.kv_stages = 3
    (attn-persistent-programs), the release of V's stage in the guarded
    P V after the kv loop (attn-overlap-softmax's last product) moves onto
    the O store (`attn.tile_store ... staged_in %V stage %s round %r when
    %held`, %held the guard's condition): the store stages the tile in that
    stage and releases it once the TMA store has read it, so O needs no
    region of its own and a third K/V stage fits (224 KiB at d = 128).
    FlashAttention-3 lines O up with V's shared memory the same way. A
    program that ran no P V holds no stage and stores without staging.
    Runs after attn-warp-specialize and attn-release-q-early; fails where
    no such P V precedes the store. With `by-copy-thread` (opt-in; slower
    on the H200, item 92 of docs/performance.md) the kernel gets
    attn.output_by_copy_thread:
    the consumers release the stage right after writing O into it, and the
    copy thread stores it by TMA when it comes to refill that stage, so no
    consumer waits for the store to read shared memory.
    With `defer-read-wait` the kernel gets attn.output_wait_at_next_q: the
    storing thread does not wait for the store to read the stage; it waits,
    and hands the stage back, right after the next program's Q wait (or at
    the kernel's end). The copy thread refills that stage only after the
    next program's first blocks, whose waits come after Q's, so nothing
    waits for itself. With `same-blocks-only` (the pipeline's auto) only
    where Q is released after the kv loop (no attn.early_q_release: where
    it is released early the copy thread runs ahead and wants the stage
    back sooner) and every program reads the same kv-blocks (the loop from
    a constant block to a bound that does not depend on the program:
    dense). On the H200 dense gained 2-3%, while prefix-LM lost 3% and
    causal gained under 1% (item 94), the window and the run-time chunk
    lost 3% (item 91).
  }];
  let options = [
    Option<"byCopyThread", "by-copy-thread", "bool", /*default=*/"false",
           "the copy thread stores the staged O (attn.output_by_copy_thread)">,
    Option<"deferReadWait", "defer-read-wait", "bool", /*default=*/"false",
           "the staged store's read wait and release after the next "
           "program's Q wait (attn.output_wait_at_next_q)">,
    Option<"sameBlocksOnly", "same-blocks-only", "bool",
           /*default=*/"false",
           "defer-read-wait only where Q is released after kv loops that "
           "read the same blocks in every program">
  ];
}

def AttnHandOverListHeader : Pass<"attn-hand-over-list-header", "mlir::func::FuncOp"> {
  let summary = "The copy thread loads each handed-out program's list head for the consumers";
  let description = [{
    In a kernel whose programs are handed out at run time (both roles'
    `scf.for {attn.hand_out}` after attn-warp-specialize): the consumers'
    loads of the kv-block lists directly in their program guard whose
    indices come from the program index by side-effect-free ops (the
    list's count and first entries, a key-range flag; at most 8) are
    cloned into the copy thread after its attn.next_program (now
    `publish_later`), which publishes them with the program
    (attn.publish_program, waiting for Q's stage to be empty); the
    consumers read them (attn.program_value). Runs after
    attn-await-list-builder (whose wait precedes each role's loop over
    programs) and attn-sorted-keys-as-bounds (whose key-range flag is one
    of those loads).
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect"];
}

def AttnKvBoundsInRows : Pass<"attn-kv-bounds-in-rows", "mlir::ModuleOp"> {
  let summary = "Evaluate a mask's per-row kv bounds once per row, not per score";
  let description = [{
    After attn-isolate-kv-bounds, a device function F whose result is
    `select(kv >= lower && kv <= upper, x, -inf)` (either compare may be
    missing; no other mask term), with lower and upper free of kv and F
    called only from attn.tile_map bodies, is split in three: `F_kv_first`
    and `F_kv_last` return the row's bounds (the same arguments, score and
    kv unused; a missing bound is -2^31 or 2^31 - 1), and F returns x. In
    the bound functions, a term that adds or subtracts a value without a
    range (a parameter, clamped to +-2^41 by attn-isolate-kv-bounds)
    becomes attn.add_sat / attn.sub_sat on i32 with the value clamped to
    i32, where the other operand's range keeps that exact for every
    compare with kv; a bound that fits i32 is returned as i32.
    Every attn.tile_map calling F gets `attn.kv_bounds = [@F_kv_first,
    @F_kv_last]`, which the GPU lowering turns into
    `faopt::map_positions_in_rows`: per row, the bounds relative to the
    thread's first column, then per score two compares against a constant
    column offset and a select. Only in modules whose kernel is a TMA
    kernel (attn.tiling copy = "tma"), where it was measured; masks with
    other terms (document ids, block layouts) are left alone: there the
    split form spills. With `bands-only`, only masks whose two bounds both
    read q (the tile_map's q position) are split, unless the lower one is
    a chunk start C * (q / C) with C a multiple of block_q and block_kv
    (it never cuts a block) or computed from a division by a run-time
    value (a chunk given at launch, whose usual sizes are tile multiples;
    item 77): sliding windows and constant chunks that cut blocks, not
    causal or prefix-LM masks, windows open on one side or tile-aligned
    chunks (the pipeline's default; docs/performance.md item 40).
  }];
  let options = [
    Option<"bandsOnly", "bands-only", "bool", /*default=*/"false",
           "split only bands: both kv bounds read q, the lower one not a tile-aligned or run-time chunk start">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::func::FuncDialect"];
}

def AttnUnswitchMaskedBlocks : Pass<"attn-unswitch-masked-blocks", "mlir::func::FuncOp"> {
  let summary = "Branch once per kv iteration between a full and a masked block";
  let description = [{
    In a TMA kernel (attn.tiling copy = "tma"), an scf.if that chooses
    between the full-block score map and a masked one whose mask is only
    per-row kv bounds (attn.tile_map with `attn.kv_bounds`, from
    attn-kv-bounds-in-rows), in the kv iteration's "this block has work"
    branch or directly in a loop body (list-driven kernels), on a
    condition computed outside that block or by side-effect-free ops of
    it that can move to its start (a list entry's class bit), moves out:
    the block becomes one scf.if on that condition with a copy of the
    whole iteration on each side. The softmax then runs as straight-line
    code on each side instead of around a branch between the products
    and the row maximum. The pipeline runs it after attn-kv-bounds-in-rows
    (its row-bound-masks option; bands by default, docs/performance.md
    items 38, 40).
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect"];
}

def AttnNarrowIndexMath : Pass<"attn-narrow-index-math", "mlir::ModuleOp"> {
  let summary = "Move provably small index arithmetic of device functions to i32";
  let description = [{
    In each `attn.device_function` (the per-element logits/mask bodies and
    the kv-block classifier), bounds every index value from the
    `attn.range = array<i64: lo, hi>` of the function's arguments
    (positions, sequence lengths and sizes; attn-outline-tile-maps sets
    them) through constants, + - *, division and remainder by constants,
    min/max, select and casts, and rewrites each operation whose operands
    and result fit in 32 bits (and each compare of two such values) to i32.
    Values it cannot bound (run-time parameters, loop variables) keep their
    64-bit operations, so results are unchanged for every input. Kernels
    (`attn.kernel`) and list builders (`attn.block_list_builder`) too, on
    the facts their launches guarantee (`attn.range` on their ops, stated by
    attn-schedule-grid and attn-outline-tile-maps).
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def AttnPipelineKvLoads : Pass<"attn-pipeline-kv-loads", "mlir::func::FuncOp"> {
  let summary = "Fetch the next kv-block's K/V tiles while computing this one";
  let description = [{
    Software pipelining over two shared-memory stages: the K and V tiles of
    the kv loop become attn.tile_prefetch (issued one iteration ahead, the
    first before the loop) and attn.tile_wait (where the tile is used). Block
    j + 1 then streams in while block j is computed. Needs `stages = 2` in the
    kernel's attn.tiling; with one stage the loop is left alone.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::scf::SCFDialect"];
}

def AttnScheduleGrid : Pass<"attn-schedule-grid", "mlir::func::FuncOp"> {
  let summary = "Order the kernel's programs: head groups, longest q-blocks first";
  let description = [{
    The (q-block, batch * heads) grid becomes one linear program index, in
    the order the hardware dispatches CTAs. Heads are taken in groups;
    within a group, q-blocks go in descending order with the group's heads
    fastest, so under a causal mask the longest programs start first and the
    short ones fill the tail (longest-processing-time first, as
    FlashAttention-3 does), and the CTAs running at one time read the same
    K/V tiles. A group holds the heads whose K and V fit in half the L2, but
    where a program's work follows its q-block (a kv loop bound, or a
    branch around a product, computed from it) never fewer programs than
    `min-group-programs`: with fewer, the last
    group's longest programs start late and set the makespan (a simulation
    of 264 slots put a 16-head causal 16k grid at 86% with 3-head groups,
    99.6% with one group; measured on an H200, 0.91x vs 1.04x FA2). Both are
    computed at run time from seqlen_q, seqlen_k, the head dims and
    heads / kv_heads (consecutive query heads share a kv head under GQA).
    Kernels driven by run-time kv-block lists (an argument with
    attn.block_lists) whose mask does not bound kv by q (no
    `kv_range_follows_q` in it: a block layout, not causal documents) take
    the L2 fit alone: their programs' lengths come from the data, so no
    order puts the longest first, and the floor's one group of every head
    made the CTAs running at one time read the K/V of all of them
    (block-sparse 25% at 8k on the H200: an L2 hit rate of 38% and 9x the
    ideal DRAM reads, against 65% for a 16-block band; +14% without the
    floor; docs/performance.md item 51). So do kernels whose programs all do
    the same work (dense, key padding, score modifiers only): the floor
    put every head's K/V in flight (d128 dense +7-22% without it, item 82).
    Where the floor applies to a fixed schedule (not list-driven) and the
    launch is persistent (attn.workers below the program count), the group
    is capped at 2W / gcd(2W, nq) heads: whole row pairs of
    attn-persistent-programs' snake, each balanced on its own, so fewer
    heads' K/V are in flight (causal d128 +13 / +20 / +20 / +5% at 512 /
    1k / 2k / 4k, item 83).
  }];
  let options = [
    Option<"l2Bytes", "l2-bytes", "int64_t", /*default=*/"50 * 1024 * 1024",
           "L2 cache size of the target; K/V groups use half of it">,
    Option<"minGroupPrograms", "min-group-programs", "int64_t",
           /*default=*/"2048",
           "fewest programs in a head group (about 8 waves of 2 CTAs on 132 SMs)">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect"];
}

def AttnPersistentPrograms : Pass<"attn-persistent-programs", "mlir::func::FuncOp"> {
  let summary = "Run the programs of a TMA kernel on one CTA per SM (persistent)";
  let description = [{
    For kernels with attn.tiling copy = "tma", after attn-schedule-grid:
    the attn.grid scf.forall over the programs becomes a forall over
    `attn.workers` (the CTAs the launch starts, one per SM) whose body
    loops over the worker's programs (scf.for {attn.programs}). Worker w
    takes one program from each row of `workers` consecutive programs, in
    snake order (w in even rows, workers - 1 - w in odd ones): programs
    come longest first (attn-schedule-grid), so each worker's work evens
    out. A CTA no longer starts cold per program: the copy thread loads
    the next program's Q, K and V while the consumers finish the last
    one (attn-pipeline-kv-loads numbers fills across programs). The O
    tile then needs a staging region of its own (the next Q may be landing
    in Q's): kernels whose tiles leave no room for it (d = 256) are left
    alone. With list-kernels=false, so are kernels that read run-time
    kv-block lists (an attn.block_lists argument): their programs' lengths
    come from the data (for comparisons: the pipeline passes true since
    session 23, docs/performance.md item 53). With q-stages=2 (where
    the second Q tile fits) the loop over programs gets attn.q_stages = 2:
    attn-pipeline-kv-loads then alternates the programs' Q between two
    tiles, so the copy thread issues the next program's Q as soon as it
    has issued this one's last K/V instead of after the consumers' kv loop.

    Kernels with run-time kv-block lists (with hand-out, the default) take
    their programs at run time instead: the kernel gains a counter argument
    (memref<1xi32> {attn.program_counter}, zero at launch) and the loop over
    programs becomes `scf.for %t = 0 to %total {attn.programs,
    attn.hand_out}` whose body is `%p = attn.next_program` and the old
    body under `scf.if %p < %total` (else attn.no_more_programs): the
    worker that is free first takes the next program in attn-schedule-
    grid's order, so run-time lengths balance (docs/performance.md item 47).
    With q-stages=2 this loop gets attn.q_stages = 2 as well (where the
    second Q tile and the program slots fit): program t takes Q tile
    t mod 2 and its slots, so the copy thread publishes and loads the
    next program, and then its first K / V, without waiting for the
    consumers to release this one's Q. q-stages=0 (auto, the default)
    asks for two Q tiles here and one for fixed schedules, as measured
    on the H200 (docs/performance.md item 64).

    With kv-stages=3, or kv-stages=0 (auto, the default) for fixed
    schedules (where a third K and V stage fits next to the Q tiles and O
    fits a V stage, the O tile staged there instead of a region of its own)
    the loop over programs gets attn.kv_stages = 3: attn-pipeline-kv-loads
    numbers fills modulo 3, so the copy thread runs up to two blocks ahead
    of the consumers, and attn-stage-output-in-v stages O in the stage of
    the program's last P V.
  }];
  let options = [
    Option<"sharedMemoryBytes", "shared-memory-bytes", "int64_t",
           /*default=*/"227 * 1024",
           "shared memory one CTA may use on the target">,
    Option<"listKernels", "list-kernels", "bool", /*default=*/"true",
           "also kernels driven by run-time kv-block lists">,
    Option<"handOut", "hand-out", "bool", /*default=*/"true",
           "kernels with run-time kv-block lists take their programs from a "
           "run-time counter (attn.next_program) instead of the snake">,
    Option<"qStages", "q-stages", "int64_t", /*default=*/"0",
           "Q tiles per worker: 2 lets the next program's Q land during "
           "this one's kv loop (where it fits; recorded as attn.q_stages "
           "on the loop over programs for attn-pipeline-kv-loads); 0 "
           "(auto): 2 for handed-out programs, 1 for fixed schedules">,
    Option<"kvStages", "kv-stages", "int64_t", /*default=*/"0",
           "K/V stages per worker: 3 lets the copy thread load two blocks "
           "ahead, across programs too (where it fits with the Q tiles and "
           "O staged in V's stage: attn.kv_stages = 3 on the loop over "
           "programs, for attn-pipeline-kv-loads and "
           "attn-stage-output-in-v); 0 (auto): 3 for fixed schedules, 2 "
           "for handed-out programs">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::scf::SCFDialect"];
}

def AttnConvertToEmitC : Pass<"attn-convert-to-emitc", "mlir::ModuleOp"> {
  let summary = "Lower decomposed attention kernels to EmitC (CUDA C++)";
  let description = [{
    The kernel function becomes an `extern "C" __global__` emitc.func taking
    one faopt::Tensor view per memref; the grid forall (one linear index,
    after attn-schedule-grid) becomes blockIdx.x;
    tile operations become calls into the device-primitive header
    (faopt_sm80.cuh) on register fragments and shared-memory tiles, with
    shared memory laid out here (Q/O staging, K, V); index arithmetic
    becomes int64_t C arithmetic; scf becomes C control flow. Each lowered
    tile op is preceded by a comment naming it, and key values get a comment
    naming what they hold. A shared-memory plan over the target's per-block
    limit is an error at the kernel (the driver would refuse the launch).
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"sm80\"",
           "GPU target: sm80 or sm90a">
  ];
  let dependentDialects = ["::mlir::emitc::EmitCDialect"];
}

#endif // FAOPT_GPU_PASSES_TD
