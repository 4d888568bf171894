//===- MaskSpecialize.cpp - skip empty blocks, unmask full ones ----------===//
//
// The kv loop that attn-tile builds visits every kv-block and masks every
// element (the mask, and kv < seqlen_k for the tail). This pass rewrites it to
//
//   %lo, %hi = attn.mask_kv_range (b, h) q [q0, q0 + BQ - 1] ...
//   scf.for %kb = %lo to %hi {
//     %any, %all = attn.mask_block_class (b, h) q [...] kv [kv0, kv0 + BK - 1]
//     scf.if %any {                       // empty blocks: no loads, no math
//       load K, V
//       online_update ... kv_bound %Sk masked !%all mask {...}
//     }                                   // full blocks skip mask and bound
//   }
//
// The range and class ops keep the mask region; attn-expand-block-analysis
// turns them into interval arithmetic.
//
//===----------------------------------------------------------------------===//
#include "compiler/passes/Passes.h"
#include "compiler/passes/RegionUtils.h"

#include "dialects/attn/AttnOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace faopt {
#define GEN_PASS_DEF_ATTNMASKSPECIALIZE
#include "compiler/passes/Passes.h.inc"
} // namespace faopt

using namespace mlir;
using namespace faopt;
using namespace faopt::attn;

namespace {

/// Matches a tile-form update with a kv bound sitting directly in the kv loop
/// attn-tile produced: kv0 = %kb * BK, the running state threaded through the
/// loop's iter_args and its results yielded back in order.
struct SpecializeKvLoop : OpRewritePattern<OnlineUpdateOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(OnlineUpdateOp update,
                                PatternRewriter &rewriter) const override {
    if (!update.isTileForm() || !update.getKvBound() || update.getMasked())
      return rewriter.notifyMatchFailure(update, "not an unspecialised tile update");
    auto loop = dyn_cast<scf::ForOp>(update->getParentOp());
    if (!loop)
      return rewriter.notifyMatchFailure(update, "not directly in a loop");
    Value iv = loop.getInductionVar();
    Value kv0 = update.getPosition()[3];
    auto mul = kv0.getDefiningOp<arith::MulIOp>();
    APInt blockKv;
    if (!mul || mul.getLhs() != iv ||
        !matchPattern(mul.getRhs(), m_ConstantInt(&blockKv)))
      return rewriter.notifyMatchFailure(update, "kv0 is not %kb * BK");
    if (!matchPattern(loop.getLowerBound(), m_Zero()) ||
        !matchPattern(loop.getStep(), m_One()))
      return rewriter.notifyMatchFailure(update, "loop is not 0..n step 1");
    auto yield = cast<scf::YieldOp>(loop.getBody()->getTerminator());
    auto iterArgs = loop.getRegionIterArgs();
    if (iterArgs.size() != 3 || update.getMax() != iterArgs[0] ||
        update.getSum() != iterArgs[1] || update.getAcc() != iterArgs[2] ||
        yield.getOperands() != ValueRange(update->getResults()))
      return rewriter.notifyMatchFailure(update, "state not threaded through");
    int64_t bk = blockKv.getSExtValue();
    int64_t bq = update.getQuery().getType().getDimSize(0);

    Location loc = update.getLoc();
    Value bIdx = update.getPosition()[0], hIdx = update.getPosition()[1];
    Value q0 = update.getPosition()[2];
    Value bound = update.getKvBound();
    Region &mask = update.getMask();

    // Loop bounds from the mask, computed once per program.
    rewriter.setInsertionPoint(loop);
    Value qLast = arith::AddIOp::create(
        rewriter, loc, q0, arith::ConstantIndexOp::create(rewriter, loc, bq - 1));
    auto range =
        MaskKvRangeOp::create(rewriter, loc, bIdx, hIdx, q0, qLast, bound,
                              update.getParams(), rewriter.getI64IntegerAttr(bk));
    cloneMaskOrTrue(rewriter, loc, mask, range.getMask(),
                    update.getParams().getTypes());
    rewriter.modifyOpInPlace(loop, [&] {
      loop.setLowerBound(range.getLower());
      loop.setUpperBound(range.getUpper());
    });

    // Per-block classification, placed right after kv0.
    rewriter.setInsertionPointAfter(mul);
    Value kvLast = arith::AddIOp::create(
        rewriter, loc, kv0, arith::ConstantIndexOp::create(rewriter, loc, bk - 1));
    auto cls = MaskBlockClassOp::create(rewriter, loc, bIdx, hIdx, q0, qLast,
                                        kv0, kvLast, bound, update.getParams());
    cloneMaskOrTrue(rewriter, loc, mask, cls.getMask(),
                    update.getParams().getTypes());

    // Everything after the classification (the K/V loads and the update)
    // moves under `if (any)`; empty blocks yield the state unchanged.
    rewriter.setInsertionPoint(yield);
    auto ifAny = scf::IfOp::create(rewriter, loc, update->getResultTypes(),
                                   cls.getAny(), /*withElseRegion=*/true);
    Block *thenBlock = ifAny.thenBlock();
    SmallVector<Operation *> toMove;
    for (Operation *op = cls->getNextNode(); op != ifAny; op = op->getNextNode())
      toMove.push_back(op);
    for (Operation *op : toMove)
      rewriter.moveOpBefore(op, thenBlock, thenBlock->end());
    rewriter.setInsertionPointToEnd(ifAny.elseBlock());
    scf::YieldOp::create(rewriter, loc, iterArgs);

    // Inside: one update; the mask and bound apply only when the block is
    // not full (a uniform branch in the decomposed code).
    rewriter.setInsertionPoint(update);
    Value trueV = arith::ConstantIntOp::create(rewriter, loc, 1, 1);
    Value partial = arith::XOrIOp::create(rewriter, loc, cls.getAll(), trueV);
    rewriter.modifyOpInPlace(update, [&] {
      update.getMaskedMutable().assign(partial);
    });
    rewriter.setInsertionPointToEnd(thenBlock);
    scf::YieldOp::create(rewriter, loc, update->getResults());
    rewriter.modifyOpInPlace(yield,
                             [&] { yield->setOperands(ifAny->getResults()); });
    return success();
  }
};

struct AttnMaskSpecializePass
    : faopt::impl::AttnMaskSpecializeBase<AttnMaskSpecializePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<SpecializeKvLoop>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
