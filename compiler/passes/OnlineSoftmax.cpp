//===- OnlineSoftmax.cpp - attn.attention to the online recurrence --------===//
//
// softmax(s) V over a row, s = score(scale · q·kᵀ), is computed block by block
// with a running max m and sum l (FlashAttention):
//   m' = max(m, rowmax t),  p = exp2(k (t - m')),  l' = exp2(k (m - m')) l + Σ p,
//   acc' = exp2(k (m - m')) acc + p V,             o = acc / l at the very end,
// where exp2(k t) = exp(s): exp2 (one instruction on GPUs) replaces exp, and
// k = scale · log2(e) rides on the exponent's multiply-add.
//
//===----------------------------------------------------------------------===//
#include "compiler/passes/Passes.h"
#include "compiler/passes/RegionUtils.h"

#include "dialects/attn/AttnOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include <cmath>

namespace faopt {
#define GEN_PASS_DEF_ATTNONLINESOFTMAX
#include "compiler/passes/Passes.h.inc"
} // namespace faopt

using namespace mlir;
using namespace faopt;
using namespace faopt::attn;

namespace {

constexpr double kLog2e = 1.4426950408889634;

/// Fills `logits` with ^bb0(s, b, h, q, kv) and returns the exp_scale that
/// makes exp2(exp_scale · logit) the natural exponential:
///   no score modifier: logit = s,                          k = scale·log2 e
///   with one:          logit = score(s · scale, b, h, q, kv), k = log2 e
/// Either way the multiply folds into the exponent's multiply-add.
float buildLogitsRegion(OpBuilder &b, Location loc, Region &logits,
                        float scale, Region &score, TypeRange params) {
  Type idx = b.getIndexType();
  OpBuilder::InsertionGuard guard(b);
  SmallVector<Type> argTypes{b.getF32Type(), idx, idx, idx, idx};
  llvm::append_range(argTypes, params);
  Block *block = b.createBlock(&logits, {}, argTypes,
                               SmallVector<Location>(argTypes.size(), loc));
  Value s = block->getArgument(0);
  if (score.empty()) {
    YieldOp::create(b, loc, s);
    return static_cast<float>(scale * kLog2e);
  }
  Value cScale = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(scale));
  Value scaled = arith::MulFOp::create(b, loc, s, cScale);
  SmallVector<Value> args{scaled};
  llvm::append_range(args, block->getArguments().drop_front());
  Value modified = inlineRegionBody(b, score, args).front();
  YieldOp::create(b, loc, modified);
  return static_cast<float>(kLog2e);
}

struct AttentionToOnline : OpRewritePattern<AttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Layout layout = op.getLayout();
    auto qType = op.getQuery().getType();
    unsigned hd = headsDim(layout), sd = seqDim(layout);

    // Running state in logical [batch, heads, seq_q(, d_v)] order.
    SmallVector<int64_t> rowShape{qType.getDimSize(0), qType.getDimSize(hd),
                                  qType.getDimSize(sd)};
    SmallVector<int64_t> accShape(rowShape);
    accShape.push_back(op.getHeadDimV());
    SmallVector<Value> dynamicSizes;
    for (unsigned dim : {0u, hd, sd})
      if (qType.isDynamicDim(dim))
        dynamicSizes.push_back(
            tensor::DimOp::create(rewriter, loc, op.getQuery(), dim));
    auto f32 = rewriter.getF32Type();
    auto rowType = RankedTensorType::get(rowShape, f32);
    auto accType = RankedTensorType::get(accShape, f32);
    auto init = OnlineInitOp::create(rewriter, loc, rowType, rowType, accType,
                                     dynamicSizes);

    auto update = OnlineUpdateOp::create(
        rewriter, loc, op.getQuery(), op.getKey(), op.getValue(), init.getMax(),
        init.getSum(), init.getAcc(), /*position=*/ValueRange(),
        /*kv_bound=*/Value(), /*masked=*/Value(), op.getParams(),
        op.getLayoutAttr(), rewriter.getF32FloatAttr(1.0f));
    float expScale =
        buildLogitsRegion(rewriter, loc, update.getLogits(),
                          op.getEffectiveScale(), op.getScore(),
                          op.getParams().getTypes());
    update.setExpScaleAttr(rewriter.getF32FloatAttr(expScale));
    if (!op.getMask().empty())
      rewriter.cloneRegionBefore(op.getMask(), update.getMask(),
                                 update.getMask().end());

    Type lseType = op.getLse() ? op.getLse().getType() : Type();
    auto finalize = OnlineFinalizeOp::create(
        rewriter, loc, op.getOutput().getType(), lseType, update.getNewMax(),
        update.getNewSum(), update.getNewAcc(), op.getLayoutAttr(),
        update.getExpScaleAttr());
    rewriter.replaceOp(op, finalize->getResults());
    return success();
  }
};

struct AttnOnlineSoftmaxPass
    : faopt::impl::AttnOnlineSoftmaxBase<AttnOnlineSoftmaxPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<AttentionToOnline>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
