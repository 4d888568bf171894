//===- ExpandBlockAnalysis.cpp - block classification to arith ------------===//
//
// attn.mask_block_class -> interval arithmetic (MaskIntervals).
// attn.mask_kv_range    -> closed-form bounds where the mask is linear in kv
//   (q >= kv gives kv <= q_last, ...), else binary searches with the same
//   classifier:
//   lower = first block x with a possibly-attended key in [0, (x+1)·BK)
//   upper = first block x >= lower with none in [x·BK, kv_bound)
// Both predicates are monotone in x because interval arithmetic is monotone
// under inclusion, so the searches are valid for every mask.
//
//===----------------------------------------------------------------------===//
#include "compiler/passes/MaskIntervals.h"
#include "compiler/passes/Passes.h"

#include "dialects/attn/AttnOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace faopt {
#define GEN_PASS_DEF_ATTNEXPANDBLOCKANALYSIS
#include "compiler/passes/Passes.h.inc"
} // namespace faopt

using namespace mlir;
using namespace faopt;
using namespace faopt::attn;

namespace {

struct ExpandBlockClass : OpRewritePattern<MaskBlockClassOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MaskBlockClassOp op,
                                PatternRewriter &rewriter) const override {
    PositionBox box{op.getBatch(),   op.getHead(),   op.getQFirst(),
                    op.getQLast(),   op.getKvFirst(), op.getKvLast(),
                    op.getKvBound(), op.getParams()};
    box.boundTensorReads = op.getBoundTensorReads();
    BlockClass cls = emitMaskBlockClass(rewriter, op.getLoc(), op.getMask(), box);
    rewriter.replaceOp(op, {cls.any, cls.all});
    return success();
  }
};

/// Emits `first x in [lo, hi) with pred(x)` for a predicate that is false up
/// to some point and true after it (hi when it never holds).
Value emitFirstTrue(OpBuilder &b, Location loc, Value lo, Value hi,
                    function_ref<Value(OpBuilder &, Value)> pred) {
  Type idx = b.getIndexType();
  auto search = scf::WhileOp::create(
      b, loc, TypeRange{idx, idx}, ValueRange{lo, hi},
      [&](OpBuilder &bb, Location l, ValueRange args) {
        Value more = arith::CmpIOp::create(bb, l, arith::CmpIPredicate::ult,
                                           args[0], args[1]);
        scf::ConditionOp::create(bb, l, more, args);
      },
      [&](OpBuilder &bb, Location l, ValueRange args) {
        Value one = arith::ConstantIndexOp::create(bb, l, 1);
        Value sum = arith::AddIOp::create(bb, l, args[0], args[1]);
        Value mid = arith::ShRUIOp::create(bb, l, sum, one);
        Value holds = pred(bb, mid);
        Value next = arith::AddIOp::create(bb, l, mid, one);
        Value newLo = arith::SelectOp::create(bb, l, holds, args[0], next);
        Value newHi = arith::SelectOp::create(bb, l, holds, mid, args[1]);
        scf::YieldOp::create(bb, l, ValueRange{newLo, newHi});
      });
  return search.getResult(0);
}

struct ExpandKvRange : OpRewritePattern<MaskKvRangeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MaskKvRangeOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
    Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
    Value bk = arith::ConstantIndexOp::create(rewriter, loc, op.getBlockKv());
    Value bound = op.getKvBound();
    Value numBlocks = arith::CeilDivUIOp::create(rewriter, loc, bound, bk);
    Value lastKey = arith::SubIOp::create(rewriter, loc, bound, one);
    auto classify = [&](OpBuilder &b, Value kvFirst, Value kvLast) {
      PositionBox box{op.getBatch(), op.getHead(), op.getQFirst(),
                      op.getQLast(),  kvFirst,     kvLast,
                      bound,          op.getParams()};
      return emitMaskBlockClass(b, loc, op.getMask(), box);
    };
    // Closed form where the mask is linear in kv (causal, windows,
    // prefixes): kv in [kvLo, kvHi] -> blocks [kvLo / BK, kvHi / BK + 1).
    PositionBox qBox{op.getBatch(), op.getHead(), op.getQFirst(),
                     op.getQLast(), Value(), Value(), bound, op.getParams()};
    KvBounds kv = emitKvBounds(rewriter, loc, op.getMask(), qBox);
    auto clamp = [&](Value v, Value lo, Value hi) -> Value {
      Value up = arith::MaxSIOp::create(rewriter, loc, v, lo);
      return arith::MinSIOp::create(rewriter, loc, up, hi);
    };
    // A side the mask leaves unconstrained is the whole range; a side it
    // constrains non-linearly is searched.
    Value lower, upper;
    if (kv.loKnown && !kv.lo) {
      lower = zero;
    } else if (kv.lo) {
      Value block = arith::FloorDivSIOp::create(rewriter, loc, kv.lo, bk);
      lower = clamp(block, zero, numBlocks);
    } else {
      // The first block whose prefix [0, (x+1)·BK - 1] may hold an attended
      // key.
      lower = emitFirstTrue(
          rewriter, loc, zero, numBlocks, [&](OpBuilder &b, Value x) {
            Value next = arith::AddIOp::create(b, loc, x, one);
            Value end = arith::MulIOp::create(b, loc, next, bk);
            Value last = arith::SubIOp::create(b, loc, end, one);
            return classify(b, zero, last).any;
          });
    }
    if (kv.hiKnown && !kv.hi) {
      upper = numBlocks;
    } else if (kv.hi) {
      Value last = arith::MinSIOp::create(rewriter, loc, kv.hi, lastKey);
      Value block = arith::FloorDivSIOp::create(rewriter, loc, last, bk);
      upper = clamp(arith::AddIOp::create(rewriter, loc, block, one), lower,
                    numBlocks);
    } else {
      // The first block from `lower` whose suffix [x·BK, kv_bound - 1]
      // holds no attended key.
      upper = emitFirstTrue(
          rewriter, loc, lower, numBlocks, [&](OpBuilder &b, Value x) {
            Value first = arith::MulIOp::create(b, loc, x, bk);
            Value any = classify(b, first, lastKey).any;
            Value trueV = arith::ConstantIntOp::create(b, loc, 1, 1);
            return Value(arith::XOrIOp::create(b, loc, any, trueV));
          });
    }
    rewriter.replaceOp(op, {lower, upper});
    return success();
  }
};

struct AttnExpandBlockAnalysisPass
    : faopt::impl::AttnExpandBlockAnalysisBase<AttnExpandBlockAnalysisPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<ExpandBlockClass, ExpandKvRange>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
