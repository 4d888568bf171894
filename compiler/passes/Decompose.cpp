//===- Decompose.cpp - tile-form online updates to tile operations --------===//
//
//   s     = tile_matmul q, k {transpose_rhs}                 Q Kᵀ, f32
//   t     = tile_map s at (b, h, q0, kv0) { logits; mask ? t : -inf }
//           (with `masked %p`: scf.if %p { that } else { logits only })
//   m'    = tile_reduce <max> t, m
//   p     = tile_exp2 t, m'                                   exp2(k (t - m'))
//   alpha = tile_exp2 m, m'                                   exp2(k (m - m'))
//   l'    = tile_reduce <sum> p, (tile_scale_rows l, alpha)
//   acc'  = tile_matmul (truncf p), v acc (tile_scale_rows acc, alpha)
//
// attn.online_init on tiles becomes constant tiles (-inf, 0, 0).
//
//===----------------------------------------------------------------------===//
#include "compiler/passes/Passes.h"
#include "compiler/passes/RegionUtils.h"

#include "dialects/attn/AttnOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include <limits>

namespace faopt {
#define GEN_PASS_DEF_ATTNDECOMPOSE
#include "compiler/passes/Passes.h.inc"
} // namespace faopt

using namespace mlir;
using namespace faopt;
using namespace faopt::attn;

namespace {

Value splat(OpBuilder &b, Location loc, RankedTensorType type, float value) {
  return arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(type, b.getF32FloatAttr(value)));
}

struct DecomposeInit : OpRewritePattern<OnlineInitOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(OnlineInitOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.getAcc().getType().hasStaticShape())
      return rewriter.notifyMatchFailure(op, "batched form: tile it first");
    Location loc = op.getLoc();
    rewriter.replaceOp(
        op, {splat(rewriter, loc, op.getMax().getType(),
                   -std::numeric_limits<float>::infinity()),
             splat(rewriter, loc, op.getSum().getType(), 0.0f),
             splat(rewriter, loc, op.getAcc().getType(), 0.0f)});
    return success();
  }
};

struct DecomposeUpdate : OpRewritePattern<OnlineUpdateOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(OnlineUpdateOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.isTileForm())
      return rewriter.notifyMatchFailure(op, "batched form: tile it first");
    Location loc = op.getLoc();
    auto f32 = rewriter.getF32Type();
    auto qT = op.getQuery().getType(), kT = op.getKey().getType();
    auto sType = RankedTensorType::get({qT.getDimSize(0), kT.getDimSize(0)}, f32);
    auto pos = op.getPosition();

    Value s = TileMatmulOp::create(rewriter, loc, sType, op.getQuery(),
                                   op.getKey(), /*acc=*/Value(),
                                   /*transpose_rhs=*/true);

    // Logits, then the mask and the kv bound (if any) as -inf; with
    // `masked`, only under that (uniform) condition.
    auto buildMap = [&](bool applyMask) -> Value {
      auto map = TileMapOp::create(rewriter, loc, s, pos[0], pos[1], pos[2],
                                   pos[3]);
      OpBuilder::InsertionGuard guard(rewriter);
      Type idx = rewriter.getIndexType();
      Block *body = rewriter.createBlock(&map.getBody(), {},
                                         {f32, idx, idx, idx, idx},
                                         SmallVector<Location>(5, loc));
      // The regions' parameter arguments become the update's param values,
      // which the map body uses from above.
      SmallVector<Value> logitsArgs(body->getArguments());
      llvm::append_range(logitsArgs, op.getParams());
      Value t = inlineRegionBody(rewriter, op.getLogits(), logitsArgs).front();
      Value keep;
      if (applyMask && !op.getMask().empty())
        keep = inlineRegionBody(rewriter, op.getMask(),
                                ArrayRef<Value>(logitsArgs).drop_front())
                   .front();
      if (Value bound = op.getKvBound(); applyMask && bound) {
        Value inBounds = arith::CmpIOp::create(
            rewriter, loc, arith::CmpIPredicate::slt, body->getArgument(4),
            bound);
        keep = keep ? Value(arith::AndIOp::create(rewriter, loc, keep, inBounds))
                    : inBounds;
      }
      if (keep) {
        Value negInf = arith::ConstantOp::create(
            rewriter, loc,
            rewriter.getF32FloatAttr(-std::numeric_limits<float>::infinity()));
        t = arith::SelectOp::create(rewriter, loc, keep, t, negInf);
      }
      YieldOp::create(rewriter, loc, t);
      return map.getResult();
    };
    Value t;
    if (Value masked = op.getMasked()) {
      auto branch = scf::IfOp::create(rewriter, loc, sType, masked,
                                      /*withElseRegion=*/true);
      rewriter.setInsertionPointToStart(branch.thenBlock());
      scf::YieldOp::create(rewriter, loc, buildMap(/*applyMask=*/true));
      rewriter.setInsertionPointToStart(branch.elseBlock());
      scf::YieldOp::create(rewriter, loc, buildMap(/*applyMask=*/false));
      rewriter.setInsertionPointAfter(branch);
      t = branch.getResult(0);
    } else {
      t = buildMap(/*applyMask=*/true);
    }

    Value mNew = TileReduceOp::create(rewriter, loc, ReduceKind::max, t,
                                      op.getMax());
    FloatAttr k = op.getExpScaleAttr();
    Value p = TileExp2Op::create(rewriter, loc, t, mNew, k);
    Value alpha = TileExp2Op::create(rewriter, loc, op.getMax(), mNew, k);
    Value lScaled = TileScaleRowsOp::create(rewriter, loc, op.getSum(), alpha);
    Value lNew = TileReduceOp::create(rewriter, loc, ReduceKind::sum, p, lScaled);
    Value accScaled =
        TileScaleRowsOp::create(rewriter, loc, op.getAcc(), alpha);
    Type vElem = op.getValue().getType().getElementType();
    Value pOperand = p;
    if (vElem != f32)
      pOperand = arith::TruncFOp::create(
          rewriter, loc, RankedTensorType::get(sType.getShape(), vElem), p);
    Value accNew = TileMatmulOp::create(rewriter, loc, op.getAcc().getType(),
                                        pOperand, op.getValue(), accScaled,
                                        /*transpose_rhs=*/false);
    rewriter.replaceOp(op, {mNew, lNew, accNew});
    return success();
  }
};

struct AttnDecomposePass : faopt::impl::AttnDecomposeBase<AttnDecomposePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<DecomposeInit, DecomposeUpdate>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
