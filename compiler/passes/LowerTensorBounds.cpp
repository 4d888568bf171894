//===- LowerTensorBounds.cpp - attn.tensor_bounds as a loop nest ----------===//
//
// The minimum and maximum of a tensor over a box, by a loop nest over it:
// the innermost index in groups of 32 independent reads (a GPU thread keeps
// them in flight instead of waiting for each in turn), then one at a time;
// min / max in the element type, widened once:
//
//   %min, %max = attn.tensor_bounds %ids[%b, %q0] to [%b, %q1]
// becomes
//   %r:2 = scf.for %i = %b to %b + 1 iter_args(INT32_MAX, INT32_MIN) {
//     scf.for %j = %q0 to %q0 + 32 * n step 32 { 32 x (load, minsi, maxsi) }
//     scf.for %j = ... to %q1 + 1 { load, minsi, maxsi } }
//   %min = select(empty box, INT64_MAX, index_cast %r#0), %max likewise
//
// The CPU target runs it; the GPU target calls faopt::tensor_bounds instead.
//
//===----------------------------------------------------------------------===//
#include "compiler/passes/Passes.h"

#include "dialects/attn/AttnOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <functional>
#include <limits>

namespace faopt {
#define GEN_PASS_DEF_ATTNLOWERTENSORBOUNDS
#include "compiler/passes/Passes.h.inc"
} // namespace faopt

using namespace mlir;
using namespace faopt::attn;

namespace {

constexpr int64_t kReadsInFlight = 32;

struct TensorBoundsToLoops : OpRewritePattern<TensorBoundsOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(TensorBoundsOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    OpBuilder &b = rewriter;
    Value source = op.getTensor();
    auto elem = cast<IntegerType>(
        cast<MemRefType>(source.getType()).getElementType());
    auto index = [&](int64_t c) -> Value {
      return arith::ConstantIndexOp::create(b, loc, c);
    };
    unsigned width = elem.getWidth();
    Value init[2] = {
        arith::ConstantOp::create(
            b, loc, b.getIntegerAttr(elem, APInt::getSignedMaxValue(width))),
        arith::ConstantOp::create(
            b, loc, b.getIntegerAttr(elem, APInt::getSignedMinValue(width)))};
    SmallVector<Value> at;
    // Folds the entry at `at` into (min, max).
    auto fold = [&](OpBuilder &ob, ValueRange acc) -> SmallVector<Value> {
      Value x = memref::LoadOp::create(ob, loc, source, at);
      return {arith::MinSIOp::create(ob, loc, acc[0], x),
              arith::MaxSIOp::create(ob, loc, acc[1], x)};
    };
    using Body =
        function_ref<SmallVector<Value>(OpBuilder &, Value, ValueRange)>;
    auto loopOver = [&](OpBuilder &ob, Value lo, Value end, int64_t step,
                        ValueRange acc, Body body) -> SmallVector<Value> {
      auto loop = scf::ForOp::create(
          ob, loc, lo, end, arith::ConstantIndexOp::create(ob, loc, step), acc);
      OpBuilder ib = OpBuilder::atBlockBegin(loop.getBody());
      SmallVector<Value> r =
          body(ib, loop.getInductionVar(), loop.getRegionIterArgs());
      scf::YieldOp::create(ib, loc, r);
      return SmallVector<Value>(loop.getResults());
    };
    ValueRange lower = op.getLower(), upper = op.getUpper();
    Value one = index(1);
    std::function<SmallVector<Value>(OpBuilder &, unsigned, ValueRange)> nest =
        [&](OpBuilder &ob, unsigned d, ValueRange acc) -> SmallVector<Value> {
      Value lo = lower[d];
      Value end = arith::AddIOp::create(ob, loc, upper[d], one);
      if (d + 1 < lower.size())
        return loopOver(ob, lo, end, 1, acc,
                        [&](OpBuilder &ib, Value i, ValueRange a) {
                          at.push_back(i);
                          SmallVector<Value> r = nest(ib, d + 1, a);
                          at.pop_back();
                          return r;
                        });
      Value group = arith::ConstantIndexOp::create(ob, loc, kReadsInFlight);
      Value count = arith::MaxSIOp::create(
          ob, loc, arith::SubIOp::create(ob, loc, end, lo), index(0));
      Value grouped = arith::MulIOp::create(
          ob, loc, arith::DivUIOp::create(ob, loc, count, group), group);
      Value groupsEnd = arith::AddIOp::create(ob, loc, lo, grouped);
      SmallVector<Value> r = loopOver(
          ob, lo, groupsEnd, kReadsInFlight, acc,
          [&](OpBuilder &ib, Value i, ValueRange a) {
            SmallVector<Value> cur(a);
            for (int64_t k = 0; k < kReadsInFlight; ++k) {
              at.push_back(k ? arith::AddIOp::create(
                                   ib, loc, i,
                                   arith::ConstantIndexOp::create(ib, loc, k))
                             : i);
              cur = fold(ib, cur);
              at.pop_back();
            }
            return cur;
          });
      return loopOver(ob, groupsEnd, end, 1, r,
                      [&](OpBuilder &ib, Value i, ValueRange a) {
                        at.push_back(i);
                        SmallVector<Value> c = fold(ib, a);
                        at.pop_back();
                        return c;
                      });
    };
    SmallVector<Value> range = nest(b, 0, init);
    // An empty box gives [max, min] of index (the element type's extremes
    // could be entries).
    Value empty = arith::ConstantIntOp::create(b, loc, false, 1);
    for (auto [lo, hi] : llvm::zip(lower, upper))
      empty = arith::OrIOp::create(
          b, loc, empty,
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, hi, lo));
    auto widen = [&](Value v) -> Value {
      return arith::IndexCastOp::create(b, loc, b.getIndexType(), v);
    };
    Value min = arith::SelectOp::create(
        b, loc, empty, index(std::numeric_limits<int64_t>::max()),
        widen(range[0]));
    Value max = arith::SelectOp::create(
        b, loc, empty, index(std::numeric_limits<int64_t>::min()),
        widen(range[1]));
    rewriter.replaceOp(op, {min, max});
    return success();
  }
};

struct AttnLowerTensorBoundsPass
    : faopt::impl::AttnLowerTensorBoundsBase<AttnLowerTensorBoundsPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<TensorBoundsToLoops>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
