//===- UnswitchMaskedBlocks.cpp - one branch per kv iteration -------------===//
//
// attn-mask-specialize picks each kv-block's score map at run time, so the
// consumers' kv iteration reads
//
//   scf.if %work {                          // the block has unmasked scores
//     ops before (wait for K, S = Q K^T, P V of the previous block, ...)
//     %s = scf.if %full { tile_map (score) } else { tile_map (masked) }
//     ops after (row max, exp2, row sums, rescale)
//   }
//
// with %full computed before %work's branch (list-driven kernels hold the
// choice in the loop body itself, on a class bit of a carried list entry;
// the ops computing it move to the body's start). This pass moves the
// choice out, to one branch per iteration around two copies of it:
//
//   scf.if %work {
//     scf.if %full { ops before; tile_map (score); ops after }
//     else         { ops before; tile_map (masked); ops after }
//   }
//
// Why: the branch between the products and the row maximum splits the
// softmax into pieces the CUDA compiler schedules separately. On the H200
// (sliding window 1024 at 8k, persistent; docs/performance.md item 38) a
// masked block costs ~40% more than a full one, and hand-edited kernels
// (nvcc) gained 4% with both changes (no spills) and lost 2% with the
// unswitch alone (the copies spill). So only masked maps whose mask is
// just per-row kv bounds (`attn.kv_bounds`) are unswitched, only in TMA
// kernels.
//
// Status: on by default where attn-kv-bounds-in-rows splits, which the
// pipeline asks of bands only (row-bound-masks=auto). The compiler's first
// version spilled 32 bytes where the hand-made one spilled none; with
// 32-bit row bounds it spills none and ran the window 1024 at 8k 6.4%
// faster on the H200 (m6 predicted 4%); causal 8k was 2.8% slower with it
// (its one masked block per program does not pay for the second copy)
// and 9% slower with the row bounds alone (docs/performance.md item 40).
//
// With k such choices in one block the copies would multiply (2^k); the
// kernels have one per kv iteration. The condition must be the same for
// every thread of the CTA (a block's class, a list entry's bit): the
// copies hold barriers, mbarrier waits and wgmma, which the threads must
// reach together; both conditions the kernels use are.
//
//===----------------------------------------------------------------------===//
#include "compiler/targets/gpu/Passes.h"

#include "dialects/attn/AttnOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace faopt::gpu {
#define GEN_PASS_DEF_ATTNUNSWITCHMASKEDBLOCKS
#include "compiler/targets/gpu/Passes.h.inc"
} // namespace faopt::gpu

using namespace mlir;
using namespace faopt::attn;

namespace {

/// The tile_map a branch of `choice` consists of (with its yield), if any.
TileMapOp onlyMap(Region &branch) {
  if (branch.empty() || branch.front().getOperations().size() != 2)
    return nullptr;
  return dyn_cast<TileMapOp>(branch.front().front());
}

/// The ops of `block` that compute `v`, in block order, if they can all
/// move to the block's start: side-effect free, without regions, reading
/// only values from outside the block, its arguments (a loop's induction
/// variable and carried values) or each other. Empty if `v` comes from
/// outside; nullopt if it cannot move.
std::optional<SmallVector<Operation *>> hoistableSlice(Value v, Block *block) {
  SmallVector<Operation *> slice;
  SmallVector<Value> work = {v};
  llvm::SmallPtrSet<Operation *, 8> seen;
  while (!work.empty()) {
    Operation *def = work.pop_back_val().getDefiningOp();
    if (!def || def->getBlock() != block || !seen.insert(def).second)
      continue;
    if (!isPure(def) || def->getNumRegions() != 0)
      return std::nullopt;
    slice.push_back(def);
    llvm::append_range(work, def->getOperands());
  }
  llvm::sort(slice, [](Operation *x, Operation *y) { return x->isBeforeInBlock(y); });
  return slice;
}

/// Whether `choice` picks between a full-block map and a bounds-only masked
/// one on a condition that can be computed at the start of the block it
/// sits in, and that block is a branch of an scf.if (the kv iteration's
/// work guard) or a loop's body (list-driven kernels, whose iteration
/// reads each block's class from the list: the condition comes from a
/// carried value).
bool isUnswitchable(scf::IfOp choice) {
  if (choice.getNumResults() != 1 || !choice.elseBlock())
    return false;
  TileMapOp a = onlyMap(choice.getThenRegion());
  TileMapOp b = onlyMap(choice.getElseRegion());
  if (!a || !b ||
      a->hasAttr("attn.kv_bounds") == b->hasAttr("attn.kv_bounds"))
    return false;
  Block *block = choice->getBlock();
  if (!isa<scf::IfOp, scf::ForOp>(block->getParentOp()))
    return false;
  std::optional<SmallVector<Operation *>> slice =
      hoistableSlice(choice.getCondition(), block);
  // Something besides the choice to copy: a block of nothing but the
  // choice is already unswitched (the outer scf.if this pass makes).
  return slice && block->getOperations().size() > slice->size() + 2;
}

/// Rewrites `block` (all but its yield) into scf.if %cond with a copy of it
/// per side, each with `choice` replaced by that side's ops.
void unswitch(scf::IfOp choice) {
  Block *block = choice->getBlock();
  Operation *yield = block->getTerminator();
  // The condition's ops first (in order, pure: nothing they read moves).
  SmallVector<Operation *> slice =
      *hoistableSlice(choice.getCondition(), block);
  llvm::SmallPtrSet<Operation *, 8> inSlice(slice.begin(), slice.end());
  Operation *firstOther = nullptr;
  for (Operation &op : *block)
    if (!inSlice.contains(&op)) {
      firstOther = &op;
      break;
    }
  for (Operation *op : slice)
    op->moveBefore(firstOther);
  SmallVector<Operation *> ops;
  for (Operation &op : block->without_terminator())
    if (!inSlice.contains(&op))
      ops.push_back(&op);
  IRRewriter rewriter(choice.getContext());
  rewriter.setInsertionPoint(ops.front());
  auto split = scf::IfOp::create(rewriter, choice.getLoc(),
                                 yield->getOperandTypes(),
                                 choice.getCondition(), /*withElse=*/true);
  auto fill = [&](Block *side, Block *pick) {
    // Without results the builder gave each side its yield already.
    const bool hasYield = !side->empty();
    OpBuilder b = hasYield ? OpBuilder(side->getTerminator())
                           : OpBuilder::atBlockEnd(side);
    IRMapping map;
    for (Operation *op : ops) {
      if (op != choice.getOperation()) {
        b.clone(*op, map);
        continue;
      }
      for (Operation &inner : pick->without_terminator())
        b.clone(inner, map);
      for (auto [result, value] :
           llvm::zip(choice.getResults(), pick->getTerminator()->getOperands()))
        map.map(result, map.lookupOrDefault(value));
    }
    if (hasYield)
      return;
    SmallVector<Value> results;
    for (Value v : yield->getOperands())
      results.push_back(map.lookupOrDefault(v));
    scf::YieldOp::create(b, choice.getLoc(), results);
  };
  fill(split.thenBlock(), choice.thenBlock());
  fill(split.elseBlock(), choice.elseBlock());
  yield->setOperands(split.getResults());
  for (Operation *op : llvm::reverse(ops))
    rewriter.eraseOp(op);
}

struct AttnUnswitchMaskedBlocksPass
    : faopt::gpu::impl::AttnUnswitchMaskedBlocksBase<
          AttnUnswitchMaskedBlocksPass> {
  void runOnOperation() override {
    func::FuncOp fn = getOperation();
    auto tiling = fn->getAttrOfType<TilingAttr>("attn.tiling");
    if (!fn->hasAttr("attn.kernel") || !tiling || tiling.getCopy() != "tma")
      return;
    // One at a time: unswitching copies and erases a whole block, which may
    // hold other candidates (the copies hold none: their choice is gone).
    while (true) {
      scf::IfOp choice;
      fn.walk([&](scf::IfOp op) {
        if (!choice && isUnswitchable(op))
          choice = op;
      });
      if (!choice)
        break;
      unswitch(choice);
    }
  }
};

} // namespace
