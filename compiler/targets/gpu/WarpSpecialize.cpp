//===- WarpSpecialize.cpp - a producer thread runs the copy slice ----------===//
//
// In a TMA kernel (attn.tiling copy = "tma") one thread of the producer
// warpgroup issues every tile copy. This pass gives it its own program: the
// slice of the kernel body that computes the copies, and nothing else.
//
//   scf.forall (%p) ... {attn.grid} { body }
// becomes
//   scf.forall (%p) ... {attn.grid} {
//     %producer = attn.copy_producer
//     scf.if %producer {
//       body, keeping only attn.tile_prefetch, the values its operands are
//       computed from (index math, block-list reads, loop-carried entries)
//       and the loops and branches around it
//     } else {
//       body without attn.tile_prefetch
//     }
//   }
//
// The two sides meet only at the stages' barriers: a prefetch (producer)
// waits until its stage is empty and starts the copy, which completes on
// the stage's full barrier; attn.tile_wait (consumer) waits for that, and
// attn.tile_release says the stage is empty again. So the producer runs
// ahead by up to the number of stages, as far as the consumers' releases
// allow, and the consumers' loop carries no copy code at all. Both sides
// walk the same kv-blocks in the same order because they run the same
// loops on the same values.
//
// The slice is a backward closure from the prefetches through operands,
// loop-carried values (scf.for iter_args: init and yield), branch results
// (scf.if yields) and the conditions and bounds of the regions around
// them. Loop-carried values outside it (the softmax state) are made
// loop-invariant and everything the slice does not need is then dead and
// folded away.
//
//===----------------------------------------------------------------------===//
#include "compiler/targets/gpu/Passes.h"

#include "compiler/targets/gpu/GridLoop.h"

#include "dialects/attn/AttnOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/SetVector.h"

namespace faopt::gpu {
#define GEN_PASS_DEF_ATTNWARPSPECIALIZE
#include "compiler/targets/gpu/Passes.h.inc"
} // namespace faopt::gpu

using namespace mlir;
using namespace faopt::attn;

namespace {

/// The values the prefetches in `region` need, as described in the header.
llvm::DenseSet<Value> copySlice(Region &region) {
  llvm::DenseSet<Value> needed;
  SmallVector<Value> work;
  auto need = [&](Value v) {
    if (needed.insert(v).second)
      work.push_back(v);
  };
  auto needControl = [&](Operation *op) {
    for (Operation *p = op->getParentOp(); p && region.isAncestor(p->getParentRegion());
         p = p->getParentOp()) {
      if (auto ifOp = dyn_cast<scf::IfOp>(p))
        need(ifOp.getCondition());
      else if (auto forOp = dyn_cast<scf::ForOp>(p)) {
        need(forOp.getLowerBound());
        need(forOp.getUpperBound());
        need(forOp.getStep());
      } else {
        for (Value v : p->getOperands())
          need(v);
      }
    }
  };
  region.walk([&](TilePrefetchOp pre) {
    for (Value v : pre->getOperands())
      need(v);
    needControl(pre);
  });
  while (!work.empty()) {
    Value v = work.pop_back_val();
    if (auto arg = dyn_cast<BlockArgument>(v)) {
      auto loop = dyn_cast<scf::ForOp>(arg.getOwner()->getParentOp());
      if (!loop || !region.isAncestor(loop->getParentRegion()))
        continue;
      if (arg.getArgNumber() == 0) { // the induction variable
        needControl(loop.getBody()->getTerminator());
        continue;
      }
      unsigned i = arg.getArgNumber() - 1;
      need(loop.getInitArgs()[i]);
      need(loop.getBody()->getTerminator()->getOperand(i));
      needControl(loop.getBody()->getTerminator());
      continue;
    }
    Operation *def = v.getDefiningOp();
    if (!region.isAncestor(def->getParentRegion()))
      continue;
    needControl(def);
    unsigned i = cast<OpResult>(v).getResultNumber();
    if (auto loop = dyn_cast<scf::ForOp>(def)) {
      need(loop.getRegionIterArgs()[i]);
      continue;
    }
    if (auto ifOp = dyn_cast<scf::IfOp>(def)) {
      need(ifOp.getCondition());
      need(ifOp.thenYield()->getOperand(i));
      if (ifOp.elseBlock())
        need(ifOp.elseYield()->getOperand(i));
      continue;
    }
    for (Value operand : def->getOperands())
      need(operand);
    // Values used inside the op's own regions (a tile_map body, say).
    def->walk([&](Operation *nested) {
      if (nested != def)
        for (Value operand : nested->getOperands())
          need(operand);
    });
  }
  return needed;
}

/// Folds away what `region` computes beyond the slice: loop-carried values
/// outside it become loop-invariant, then dead code and empty or unused
/// branch and loop parts go.
LogicalResult simplify(Region &region, MLIRContext *ctx) {
  RewritePatternSet patterns(ctx);
  scf::ForOp::getCanonicalizationPatterns(patterns, ctx);
  scf::IfOp::getCanonicalizationPatterns(patterns, ctx);
  GreedyRewriteConfig config;
  config.setRegionSimplificationLevel(GreedySimplifyRegionLevel::Disabled);
  return applyPatternsGreedily(region, std::move(patterns), config);
}

LogicalResult specialize(scf::ForallOp grid) {
  MLIRContext *ctx = grid.getContext();
  Block *body = grid.getBody();
  Location loc = grid.getLoc();
  IRRewriter rewriter(ctx);
  rewriter.setInsertionPointToStart(body);
  Value producer = CopyProducerOp::create(rewriter, loc, rewriter.getI1Type());
  auto split = scf::IfOp::create(rewriter, loc, TypeRange{}, producer,
                                 /*withElse=*/true);
  // Everything after the split (but the terminator) goes to the consumers;
  // the producer gets a copy.
  Block *consumer = split.elseBlock();
  SmallVector<Operation *> ops;
  for (Operation &op : llvm::make_range(std::next(split->getIterator()),
                                        body->getTerminator()->getIterator()))
    ops.push_back(&op);
  for (Operation *op : ops)
    rewriter.moveOpBefore(op, consumer->getTerminator());
  IRMapping map;
  rewriter.setInsertionPoint(split.thenBlock()->getTerminator());
  for (Operation *op : ops)
    rewriter.clone(*op, map);

  // Producer: loop-carried values outside the slice become loop-invariant;
  // the consumers' side effects go; the rest is then dead. Programs handed
  // out at run time are claimed on this side, awaited on the other.
  Region &prod = split.getThenRegion();
  prod.walk([&](NextProgramOp next) { next.setProducer(true); });
  llvm::DenseSet<Value> needed = copySlice(prod);
  prod.walk([&](scf::ForOp loop) {
    Operation *yield = loop.getBody()->getTerminator();
    for (auto [i, arg] : llvm::enumerate(loop.getRegionIterArgs()))
      if (!needed.contains(arg))
        yield->setOperand(i, arg);
  });
  SmallVector<Operation *> sideEffects;
  prod.walk([&](Operation *op) {
    if (isa<TileReleaseOp, TileStoreOp, TileMmaWaitOp>(op))
      sideEffects.push_back(op);
  });
  for (Operation *op : sideEffects) {
    if (auto w = dyn_cast<TileMmaWaitOp>(op))
      rewriter.replaceAllUsesWith(w.getResult(), w.getTile());
    rewriter.eraseOp(op);
  }
  // The greedy driver erases unused pure and read-only ops; a tile_map
  // calls its score function, so it goes here once unused.
  for (bool erased = true; erased;) {
    if (failed(simplify(prod, ctx)))
      return grid.emitError()
             << "attn-warp-specialize: folding the copy slice did not converge";
    SmallVector<TileMapOp> unused;
    prod.walk([&](TileMapOp m) {
      if (m->use_empty())
        unused.push_back(m);
    });
    erased = !unused.empty();
    for (TileMapOp m : unused)
      rewriter.eraseOp(m);
  }
  // Whatever is left must be copy work: index math, list reads, control.
  WalkResult leftover = prod.walk([&](Operation *op) -> WalkResult {
    if (isa<TileWaitOp, TileMatmulOp, TileMapOp, TileReduceOp, TileExp2Op,
            TileScaleRowsOp, OnlineFinalizeOp>(op)) {
      op->emitError() << "attn-warp-specialize: the copy producer would keep "
                         "this op (it feeds a prefetch's operands)";
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  if (leftover.wasInterrupted())
    return failure();

  // Consumers: no copies to issue.
  SmallVector<TilePrefetchOp> prefetches;
  split.getElseRegion().walk([&](TilePrefetchOp p) { prefetches.push_back(p); });
  for (TilePrefetchOp p : prefetches)
    rewriter.eraseOp(p);
  if (failed(simplify(split.getElseRegion(), ctx)))
    return grid.emitError()
           << "attn-warp-specialize: folding the consumer side did not converge";
  return success();
}

struct AttnWarpSpecialize
    : faopt::gpu::impl::AttnWarpSpecializeBase<AttnWarpSpecialize> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    auto tiling = func->getAttrOfType<TilingAttr>("attn.tiling");
    // The kernel only: a list builder (attn.block_list_builder) has no copies.
    if (!func->hasAttr("attn.kernel") || !tiling || tiling.getCopy() != "tma")
      return;
    scf::ForallOp grid = faopt::gpu::gridLoop(func);
    if (!grid) {
      func.emitError() << "attn-warp-specialize: expected one attn.grid "
                          "scf.forall (run attn-schedule-grid first)";
      return signalPassFailure();
    }
    if (failed(specialize(grid)))
      signalPassFailure();
  }
};

} // namespace
