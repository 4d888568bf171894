//===- AttnOps.td - attn dialect operations ----------------*- tablegen -*-===//
//
// Conventions shared by every op below:
//  * "position" operands are absolute indices: batch b, query head h, and the
//    first query row / key column a tile covers.
//  * Mask regions map (b, h, q, kv : index) to i1 (true = attend); logits and
//    score regions map (score : f32, b, h, q, kv : index) to f32. Ops with
//    such regions may take `params`: scalars (index or f32) and tensors /
//    memrefs the regions receive as further arguments, in order (sequence
//    lengths, run-time parameters and tensor inputs of the spec). The
//    regions stay isolated from above.
//  * The online form works in the base-2 domain: exponentials are
//    exp2(exp_scale · (logit − max)), with exp_scale = scale · log2(e) (or
//    log2(e) after a score modifier), one fused multiply-add per element.
//
//===----------------------------------------------------------------------===//

#ifndef FAOPT_ATTN_OPS_TD
#define FAOPT_ATTN_OPS_TD

include "dialects/attn/AttnAttrs.td"
include "mlir/IR/OpAsmInterface.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

// What mask and score regions may receive besides positions: scalars (index,
// f32) and small tensors (tensor level) or memrefs (tile level) they index.
def Attn_ParamType : AnyTypeOf<[Index, F32, AnyRankedTensor, AnyMemRef]>;

def Attn_YieldOp : Attn_Op<"yield", [Pure, Terminator]> {
  let summary = "terminates attn regions";
  let arguments = (ins Variadic<AnyType>:$values);
  let assemblyFormat = "attr-dict ($values^ `:` type($values))?";
}

//===----------------------------------------------------------------------===//
// Level 0: the specification
//===----------------------------------------------------------------------===//

def Attn_AttentionOp : Attn_Op<"attention",
    [RecursiveMemoryEffects, IsolatedFromAbove,
     DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmBlockArgumentNames", "getAsmResultNames"]>]> {
  let summary = "softmax(mask(score(Q Kᵀ · scale))) V";
  let description = [{
    `o[b, h, i, :] = Σ_j p[i, j] · v[b, h / g, j, :]` where
    `p = softmax_j(s)`, `s[i, j] = score(scale · q[b,h,i,:]·k[b,h/g,j,:], b, h, i, j)`
    where `mask(b, h, i, j)` holds and `-inf` elsewhere, and `g = heads / kv_heads`.

    Batch, heads and sequence lengths may be dynamic; head dimensions are
    static (d_qk for q and k, d_v for v and o). `layout` says whether tensors
    are [batch, heads, seq, dim] (bhsd) or [batch, seq, heads, dim] (bshd).
    The optional second result is the row log-sum-exp (natural log), laid out
    [batch, heads, seq_q]. A row whose every entry is masked yields o = 0 and
    lse = -inf. `scale` defaults to 1/sqrt(d_qk).

    `params` are scalars both regions receive after their position
    arguments; `param_names` names them ("seqlen_q", "seqlen_k" or a
    run-time parameter of the spec), one name per param.
  }];
  let arguments = (ins
    AnyRankedTensor:$query,
    AnyRankedTensor:$key,
    AnyRankedTensor:$value,
    Variadic<Attn_ParamType>:$params,
    OptionalAttr<F32Attr>:$scale,
    DefaultValuedAttr<Attn_LayoutAttr, "::faopt::attn::Layout::bhsd">:$layout,
    DefaultValuedAttr<Attn_SparsityAttr, "::faopt::attn::Sparsity::dense">:$sparsity,
    OptionalAttr<StrArrayAttr>:$param_names
  );
  let results = (outs AnyRankedTensor:$output, Optional<AnyRankedTensor>:$lse);
  let regions = (region MaxSizedRegion<1>:$mask, MaxSizedRegion<1>:$score);
  let assemblyFormat = [{
    $query `,` $key `,` $value (`params` `(` $params^ `:` type($params) `)`)?
    attr-dict-with-keyword (`mask` $mask^)? (`score` $score^)?
    `:` type($query) `,` type($key) `,` type($value) `->` type(results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The scale applied to Q·Kᵀ: the attribute, or 1/sqrt(d_qk).
    float getEffectiveScale();
    int64_t getHeadDimQK();
    int64_t getHeadDimV();
  }];
}

//===----------------------------------------------------------------------===//
// Level 1: the online-softmax recurrence (FlashAttention-2 form)
//===----------------------------------------------------------------------===//

def Attn_OnlineInitOp : Attn_Op<"online_init", [Pure]> {
  let summary = "initial running state: max = -inf, sum = 0, acc = 0";
  let description = [{
    Creates the running row maximum, running row sum and the unnormalised
    output accumulator of the online softmax. `acc` has shape
    [..., rows, d_v]; `max` and `sum` have shape [..., rows]. The operands
    give the dynamic dimensions of `acc`, in order.
  }];
  let arguments = (ins Variadic<Index>:$dynamic_sizes);
  let results = (outs AnyRankedTensor:$max, AnyRankedTensor:$sum,
                      AnyRankedTensor:$acc);
  let assemblyFormat = [{
    ($dynamic_sizes^)? attr-dict `:` type($max) `,` type($sum) `,` type($acc)
  }];
  let hasVerifier = 1;
}

def Attn_OnlineUpdateOp : Attn_Op<"online_update",
    [RecursiveMemoryEffects, IsolatedFromAbove, AttrSizedOperandSegments,
     DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmBlockArgumentNames", "getAsmResultNames"]>,
     AllTypesMatch<["max", "new_max"]>, AllTypesMatch<["sum", "new_sum"]>,
     AllTypesMatch<["acc", "new_acc"]>]> {
  let summary = "one step of the online softmax over a block of keys";
  let description = [{
    With `s = Q Kᵀ` (f32), `t = logits(s, b, h, q, kv)` where the mask holds
    (and kv < kv_bound, if given) and `-inf` elsewhere, and k = `exp_scale`:

        new_max = max(max, rowmax(t))
        alpha   = exp2(k · (max - new_max))
        p       = exp2(k · (t - new_max))
        new_sum = alpha · sum + rowsum(p)
        new_acc = alpha · acc + p V

    (with `new_max = -inf` read as 0 in both exponents, so that an all-masked
    row keeps sum = 0 instead of producing NaN). k > 0 turns logits into
    base-2 exponents: exp2(k · t) = exp(natural score); folding it into the
    exponent makes it one multiply-add per element. `p` is rounded to V's
    element type before the product, as the tensor cores consume it.

    Two forms:
    * batched: q, k, v are rank-4 tensors in `layout`; max and sum are
      [batch, heads, seq_q] and acc [batch, heads, seq_q, d_v]; no positions.
    * tile: q is [block_q, d_qk], k [block_kv, d_qk], v [block_kv, d_v], max
      and sum [block_q], acc [block_q, d_v]; `at (b, h, q0, kv0)` gives the
      absolute position of element (0, 0).

    With `masked %p` (tile form), the mask and kv_bound apply only when %p
    holds; otherwise every position of the tile is attended (the caller has
    proven the block full).
  }];
  let arguments = (ins
    AnyRankedTensor:$query, AnyRankedTensor:$key, AnyRankedTensor:$value,
    AnyRankedTensor:$max, AnyRankedTensor:$sum, AnyRankedTensor:$acc,
    Variadic<Index>:$position,
    Optional<Index>:$kv_bound,
    Optional<I1>:$masked,
    Variadic<Attn_ParamType>:$params,
    DefaultValuedAttr<Attn_LayoutAttr, "::faopt::attn::Layout::bhsd">:$layout,
    DefaultValuedAttr<F32Attr, "1.0f">:$exp_scale
  );
  let results = (outs AnyRankedTensor:$new_max, AnyRankedTensor:$new_sum,
                      AnyRankedTensor:$new_acc);
  let regions = (region SizedRegion<1>:$logits, MaxSizedRegion<1>:$mask);
  let assemblyFormat = [{
    $query `,` $key `,` $value `,` $max `,` $sum `,` $acc
    (`at` `(` $position^ `)`)? (`kv_bound` $kv_bound^)? (`masked` $masked^)?
    (`params` `(` $params^ `:` type($params) `)`)?
    attr-dict-with-keyword
    `logits` $logits (`mask` $mask^)?
    `:` type($query) `,` type($key) `,` type($value) `,` type($max) `,`
        type($sum) `,` type($acc)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    bool isTileForm() { return !getPosition().empty(); }
  }];
}

def Attn_OnlineFinalizeOp : Attn_Op<"online_finalize", [Pure]> {
  let summary = "deferred normalisation: o = acc / sum, lse = ln2·(k·max + log2 sum)";
  let description = [{
    Divides the accumulator by the running sum once, at the end
    (FlashAttention-2), and forms the natural-log LSE from the base-2 running
    state, k being the updates' `exp_scale`. Rows with sum = 0 (fully masked)
    give o = 0 and lse = -inf.
    Batched form: acc is [batch, heads, seq_q, d_v] and o is laid out per
    `layout`; tile form: acc is [block_q, d_v] and o the same shape.
  }];
  let arguments = (ins
    AnyRankedTensor:$max, AnyRankedTensor:$sum, AnyRankedTensor:$acc,
    DefaultValuedAttr<Attn_LayoutAttr, "::faopt::attn::Layout::bhsd">:$layout,
    DefaultValuedAttr<F32Attr, "1.0f">:$exp_scale
  );
  let results = (outs AnyRankedTensor:$output, Optional<AnyRankedTensor>:$lse);
  let assemblyFormat = [{
    $max `,` $sum `,` $acc attr-dict `:` type($max) `,` type($sum) `,`
    type($acc) `->` type(results)
  }];
  let hasVerifier = 1;
}

include "dialects/attn/AttnTileOps.td"

//===----------------------------------------------------------------------===//
// Block analysis: what a mask allows over a (q-block, kv-block) pair
//===----------------------------------------------------------------------===//

def Attn_MaskBlockClassOp : Attn_Op<"mask_block_class",
    [RecursiveMemoryEffects, IsolatedFromAbove,
     DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmBlockArgumentNames", "getAsmResultNames"]>]> {
  let summary = "classify a block of the score matrix as empty, partial or full";
  let description = [{
    Over q in [q_first, q_last] and kv in [kv_first, kv_last]:
    `any` is false only if the mask is false at every in-bounds position
    (kv < kv_bound): the block is empty. `all` is true only if every position
    is in bounds and the mask holds: the block is full and needs no masking.
    Both are conservative (a partial answer is always safe).

    With `bound_tensor_reads`, an integer tensor read in the mask is bounded
    by the minimum and maximum of the entries its indices can reach over the
    block (document ids, a block layout), found by a loop over those entries;
    without it a read may be anything. Set where a block is classified once
    (the block-list builder), not inside the attention loop.
  }];
  let arguments = (ins Index:$batch, Index:$head, Index:$q_first,
                       Index:$q_last, Index:$kv_first, Index:$kv_last,
                       Index:$kv_bound,
                       Variadic<Attn_ParamType>:$params,
                       UnitAttr:$bound_tensor_reads);
  let results = (outs I1:$any, I1:$all);
  let regions = (region SizedRegion<1>:$mask);
  let assemblyFormat = [{
    `(` $batch `,` $head `)` `q` `[` $q_first `,` $q_last `]`
    `kv` `[` $kv_first `,` $kv_last `]` `kv_bound` $kv_bound
    (`params` `(` $params^ `:` type($params) `)`)? attr-dict-with-keyword $mask
  }];
  let hasVerifier = 1;
}

def Attn_MaskKvRangeOp : Attn_Op<"mask_kv_range",
    [RecursiveMemoryEffects, IsolatedFromAbove,
     DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmBlockArgumentNames", "getAsmResultNames"]>]> {
  let summary = "the range of kv-blocks a q-block may attend to";
  let description = [{
    Returns [lower, upper), a range of kv-block indices (blocks of
    `block_kv` keys, within [0, ceil(kv_bound / block_kv))) outside of which
    no block is non-empty for q in [q_first, q_last], by the same analysis as
    attn.mask_block_class.
  }];
  let arguments = (ins Index:$batch, Index:$head, Index:$q_first,
                       Index:$q_last, Index:$kv_bound,
                       Variadic<Attn_ParamType>:$params,
                       I64Attr:$block_kv);
  let results = (outs Index:$lower, Index:$upper);
  let regions = (region SizedRegion<1>:$mask);
  let assemblyFormat = [{
    `(` $batch `,` $head `)` `q` `[` $q_first `,` $q_last `]`
    `kv_bound` $kv_bound `block` $block_kv
    (`params` `(` $params^ `:` type($params) `)`)? attr-dict-with-keyword $mask
  }];
  let hasVerifier = 1;
}

def Attn_BlockListBuildOp : Attn_Op<"block_list_build",
    [DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmBlockArgumentNames"]>]> {
  let summary = "write the list of kv-blocks one q-block attends to";
  let description = [{
    For kv-block kb in [lower, upper), the body yields (any, all), the class
    of the block (as attn.mask_block_class). The row `lists[batch, head,
    q_block, :]` receives the count of blocks with `any` at index 0, then
    one entry per such block in increasing kb: `2 * kb + 1` for a partial
    block (the mask must be applied), `2 * kb` for a full one. When no block
    is attended, index 1 still holds a valid entry (0), so a consumer may
    read it ahead unconditionally. The row must hold at least
    max(upper - lower, 1) + 1 entries.

    The attention kernel then loops over the list instead of [lower, upper):
    empty blocks are never visited, let alone loaded.
  }];
  let arguments = (ins MemRefRankOf<[I32], [4]>:$lists, Index:$batch,
                       Index:$head, Index:$q_block, Index:$lower,
                       Index:$upper);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    $lists `[` $batch `,` $head `,` $q_block `]` `kv_blocks` `[` $lower `,`
    $upper `)` attr-dict-with-keyword `:` type($lists) $body
  }];
  let hasVerifier = 1;
}

def Attn_KeyRangesOp : Attn_Op<"key_ranges",
    [DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmBlockArgumentNames"]>]> {
  let summary = "per-row kv ranges of an equality mask term, from sorted keys";
  let description = [{
    The body computes the two sides of a mask term `key(q) == key(kv)`:
    `body(p, true)` the row's key at q position p, `body(p, false)` the
    column's key at kv position p (both i64). This op writes the last
    `1 + 2 * rows` entries of `lists[batch, head, q_block, :]` (after the
    kv-block list, attn.block_list_build): first 1 when the column keys are
    non-decreasing over the kv range the row's list spans (its first to its
    last listed kv-block of `block_kv` positions, within [kv_begin,
    kv_end)), else 0; then, only when they are, for each row r in
    [0, rows) the first and the last kv in that range whose key equals the
    key of q = q_first + r (the first is one past the last where there is
    none). Sorted keys make each row's matches one run, so a kernel that
    visits only listed blocks may test `first <= kv <= last` instead of
    reading a key per score (attn-sorted-keys-as-bounds). A row with an
    empty list gets 0. The body must be defined at every position from 0
    to 8 x (the builder's threads) past kv_end and up to q_first + rows
    (it is evaluated past the span and at padding rows): tensor reads in
    it clamp their indices.
  }];
  let arguments = (ins MemRefRankOf<[I32], [4]>:$lists, Index:$batch,
                       Index:$head, Index:$q_block, Index:$q_first,
                       Index:$kv_begin, Index:$kv_end,
                       ConfinedAttr<I64Attr, [IntPositive]>:$rows,
                       ConfinedAttr<I64Attr, [IntPositive]>:$block_kv);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    $lists `[` $batch `,` $head `,` $q_block `]` `rows` $q_first `kv` `[`
    $kv_begin `,` $kv_end `)` attr-dict-with-keyword `:` type($lists) $body
  }];
  let hasVerifier = 1;
}

def Attn_AddSatOp : Attn_Op<"add_sat", [Pure, SameOperandsAndResultType]> {
  let summary = "i32 addition that saturates at INT32_MIN / INT32_MAX";
  let description = [{
    `lhs + rhs`, clamped to the i32 range instead of wrapping (PTX
    `add.sat.s32`). attn-kv-bounds-in-rows computes a mask's per-row kv
    bound with it where the exact sum may leave i32: a saturated bound
    still lies past the kv range on the same side, so compares with kv
    keep their answer.
  }];
  let arguments = (ins I32:$lhs, I32:$rhs);
  let results = (outs I32:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($result)";
}

def Attn_SubSatOp : Attn_Op<"sub_sat", [Pure, SameOperandsAndResultType]> {
  let summary = "i32 subtraction that saturates at INT32_MIN / INT32_MAX";
  let description = [{
    `lhs - rhs`, clamped to the i32 range instead of wrapping (PTX
    `sub.sat.s32`); see attn.add_sat.
  }];
  let arguments = (ins I32:$lhs, I32:$rhs);
  let results = (outs I32:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($result)";
}

def Attn_TensorBoundsOp : Attn_Op<"tensor_bounds",
    [AttrSizedOperandSegments]> {
  let summary = "smallest and largest entry of an integer tensor over a box";
  let description = [{
    The minimum and maximum of `tensor[i0, i1, ...]` over every index vector
    with `lower[d] <= i_d <= upper[d]` (bounds inclusive), sign-extended to
    index. An empty box (some upper[d] < lower[d]) gives min = INT64_MAX and
    max = INT64_MIN, which no comparison with a value can satisfy.

    The interval analysis emits it (`bound_tensor_reads`) to bound a tensor
    read over a block: document ids of a q-block, a block layout entry.
    attn-lower-tensor-bounds turns it into a loop nest; the GPU target calls
    faopt::tensor_bounds, which reduces a box shared by a whole warp with
    the warp's lanes together.

    ```mlir
    %min, %max = attn.tensor_bounds %ids[%b, %q0] to [%b, %q1] : memref<?x?xi32>
    ```
  }];
  let arguments = (ins Arg<AnyMemRef, "the tensor read", [MemRead]>:$tensor,
                       Variadic<Index>:$lower, Variadic<Index>:$upper);
  let results = (outs Index:$min, Index:$max);
  let assemblyFormat = [{
    $tensor `[` $lower `]` `to` ` ` `[` $upper `]` attr-dict `:` type($tensor)
  }];
  let hasVerifier = 1;
}

#endif // FAOPT_ATTN_OPS_TD
