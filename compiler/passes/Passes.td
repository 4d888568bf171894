//===- Passes.td - faopt's attention passes ----------------*- tablegen -*-===//
//
// Target-independent steps from attn.attention to tile operations. The order
// per target is listed once, in compiler/pipeline/Pipeline.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef FAOPT_PASSES_TD
#define FAOPT_PASSES_TD

include "mlir/Pass/PassBase.td"

def AttnOnlineSoftmax : Pass<"attn-online-softmax", "mlir::func::FuncOp"> {
  let summary = "Rewrite attn.attention as the online-softmax recurrence";
  let description = [{
    softmax(Q Kᵀ · scale) V becomes attn.online_init / attn.online_update /
    attn.online_finalize: a running row maximum and sum, an accumulator that
    is rescaled instead of renormalised, and one division at the end
    (FlashAttention-2). Scores move to the base-2 domain: scale · log2(e) is
    folded into one multiplication in the logits region (or, with a score
    modifier, the scale before it and log2(e) after it), so the recurrence
    uses exp2. The LSE result is formed from the final max and sum.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect"];
}

def AttnTile : Pass<"attn-tile", "mlir::func::FuncOp"> {
  let summary = "Map the online form onto a grid of q-blocks with a serial kv loop";
  let description = [{
    Turns a function holding one batched online recurrence into a kernel:
    memref arguments (q, k, v, o[, lse]) viewed as [batch, heads, seq, dim]
    with arbitrary strides, an scf.forall grid over (q-block, batch·heads),
    and inside it a serial scf.for over kv-blocks applying the tile form of
    attn.online_update. Tile sizes come from the target's description
    (compiler/targets/TargetDesc) and the head dims, and are recorded on the
    function as `attn.tiling`.
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"sm80\"",
           "target whose budgets choose the tiles: sm80, sm90a or cpu">,
    Option<"blockQ", "block-q", "int64_t", /*default=*/"0",
           "override the query tile size (0: let the target choose)">,
    Option<"blockKv", "block-kv", "int64_t", /*default=*/"0",
           "override the key/value tile size (0: let the target choose)">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect"];
}

def AttnMaskSpecialize : Pass<"attn-mask-specialize", "mlir::func::FuncOp"> {
  let summary = "Skip empty kv-blocks and drop mask code from full ones";
  let description = [{
    For each kv loop, bounds the loop by attn.mask_kv_range (the kv-blocks a
    q-block may see) and classifies every block with attn.mask_block_class:
    empty blocks are skipped before their K/V tiles are loaded; the update
    gets `masked !all`, so full blocks run with no mask and no bounds check
    and only partial blocks evaluate the mask. Sequence-length bounds are part of the same analysis,
    so the tail block is simply "partial".
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::scf::SCFDialect"];
}

def AttnBlockLists : Pass<"attn-block-lists", "mlir::ModuleOp"> {
  let summary = "Classify blocks of data-dependent masks once, into lists";
  let description = [{
    For a kernel whose mask reads tensors (document ids, a block layout),
    adds a second function, `<kernel>_block_lists`, that classifies every
    (q-block, kv-block) pair with attn.mask_block_class {bound_tensor_reads}
    (the reads bounded by their minimum and maximum over the block) and
    writes, per q-block, the list of non-empty kv-blocks with a partial flag
    (attn.block_list_build). The kernel gains a last argument, the lists
    (`attn.block_lists = {per_batch, per_head}`: whether rows exist per
    batch and per head), and its kv loop walks its row of the list: empty
    blocks cost nothing, full ones run unmasked. The builder runs first, on
    the same arguments. Kernels whose masks read no tensor are unchanged.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect"];
}

def AttnExpandBlockAnalysis
    : Pass<"attn-expand-block-analysis", "mlir::func::FuncOp"> {
  let summary = "Lower block classification to interval arithmetic";
  let description = [{
    attn.mask_block_class becomes interval arithmetic over the mask region:
    every index value gets a [lo, hi] range and every i1 a (may be true, may
    be false) pair, computed with arith ops from the block's index ranges.
    attn.mask_kv_range becomes two binary searches over kv-block prefixes and
    suffixes using the same classifier; interval arithmetic is monotone under
    inclusion, so the searches are exact for what the classifier can prove.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::scf::SCFDialect"];
}

def AttnLowerTensorBounds
    : Pass<"attn-lower-tensor-bounds", "mlir::func::FuncOp"> {
  let summary = "Lower attn.tensor_bounds to a loop nest over its box";
  let description = [{
    Each attn.tensor_bounds becomes a loop nest over its box: the innermost
    index in groups of 32 independent reads, then one at a time; the
    minimum and maximum kept in the element type and widened once; an
    empty box gives [INT64_MAX, INT64_MIN]. The CPU target runs this; the
    GPU target calls faopt::tensor_bounds instead.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect"];
}

def AttnDecompose : Pass<"attn-decompose", "mlir::func::FuncOp"> {
  let summary = "Decompose tile-form online updates into tile operations";
  let description = [{
    attn.online_update on tiles becomes: S = Q Kᵀ (attn.tile_matmul), logits
    and mask applied elementwise with positions (attn.tile_map), the new row
    max (attn.tile_reduce <max>), P = exp2(S - m) and alpha =
    exp2(m_old - m_new) (attn.tile_exp2), the rescaled sum and accumulator
    (attn.tile_scale_rows, attn.tile_reduce <sum>) and acc += P V
    (attn.tile_matmul with P rounded to V's type). attn.online_init becomes
    constant tiles.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::scf::SCFDialect"];
}

def AttnDropListedTileTerms
    : Pass<"attn-drop-listed-tile-terms", "mlir::func::FuncOp"> {
  let summary = "Drop mask terms a listed tile is known to satisfy";
  let description = [{
    In a kernel driven by kv-block lists (attn-block-lists), the updates of
    a listed partial tile apply every conjunct of the mask per score, among
    them a block layout's `L[b, h, q / B, kv / B'] != 0`. Such a conjunct
    is uniform over the tile when B is a multiple of block_q and B' of
    block_kv, and the list builder evaluates it exactly there (point
    intervals, the layout read bounded over a one-entry box), so a tile
    where it is false is never listed: in every listed tile it is true, and
    this pass replaces it by `true` in the attn.online_update's mask region
    (never its logits region). Only conjuncts of ops the builder's interval
    analysis models exactly on single values (index arithmetic, division by
    constants, signed compares, min/max, select, i1 logic, integer tensor
    reads, sizes) and that read a tensor. Why: the layout read made the
    block-sparse d = 128 consumers spill (20 local-memory instructions;
    handed out, some in the hot loop; 0 without it, docs/performance.md
    item 52). On GPU targets faopt-compile and the runtime run it by
    default where a kernel's programs are handed out at run time (H200:
    block-sparse +1.8%, item 71), not one CTA per program, where it lost
    3% and ptxas then waits for P V before the softmax (item 53);
    `--[no-]drop-listed-tile-terms` and `FAOPT_DROP_LISTED_TERMS=1|0`
    force it (faopt::dropsListedTerms). The CPU target always runs it, so
    its numerics check it.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

#endif // FAOPT_PASSES_TD
