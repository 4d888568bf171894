//===- LowerTilesToLinalg.cpp - tile ops to linalg (CPU target) -----------===//
//
// Each tile op becomes one structured op on tensors; bufferization and the
// standard LLVM conversions take it from there. The CPU target is the
// reference the GPU kernels are checked against, so this lowering is written
// to be obviously right rather than fast.
//
//===----------------------------------------------------------------------===//
#include "compiler/targets/cpu/Passes.h"

#include "compiler/passes/RegionUtils.h"
#include "dialects/attn/AttnOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"
#include <limits>

namespace faopt::cpu {
#define GEN_PASS_DEF_ATTNLOWERTILESTOLINALG
#include "compiler/targets/cpu/Passes.h.inc"
} // namespace faopt::cpu

using namespace mlir;
using namespace faopt;
using namespace faopt::attn;

namespace {

using BodyFn = function_ref<Value(OpBuilder &, Location, ValueRange)>;

/// A linalg.generic producing a fresh tensor of `type` (or updating `init`),
/// with identity or row-broadcast maps given by `maps`.
Value buildGeneric(OpBuilder &b, Location loc, RankedTensorType type,
                   ValueRange inputs, Value init, ArrayRef<AffineMap> maps,
                   ArrayRef<utils::IteratorType> iterators, BodyFn body) {
  if (!init)
    init = tensor::EmptyOp::create(b, loc, type.getShape(),
                                   type.getElementType());
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, inputs, ValueRange{init}, maps,
      iterators, [&](OpBuilder &nb, Location nl, ValueRange args) {
        linalg::YieldOp::create(nb, nl, body(nb, nl, args));
      });
  return generic.getResult(0);
}

/// Maps for an elementwise op over a rank-r tile whose second operand (if
/// any) is a row vector broadcast along the row.
SmallVector<AffineMap> rowBroadcastMaps(MLIRContext *ctx, int64_t rank,
                                        bool withRowVector) {
  AffineMap identity = AffineMap::getMultiDimIdentityMap(rank, ctx);
  AffineMap row = AffineMap::get(rank, 0, getAffineDimExpr(0, ctx));
  SmallVector<AffineMap> maps{identity};
  if (withRowVector)
    maps.push_back(row);
  maps.push_back(identity);
  return maps;
}

SmallVector<utils::IteratorType> parallel(int64_t rank) {
  return SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel);
}

Value toF32(OpBuilder &b, Location loc, Value v) {
  if (v.getType().isF32())
    return v;
  return arith::ExtFOp::create(b, loc, b.getF32Type(), v);
}

Value fromF32(OpBuilder &b, Location loc, Value v, Type to) {
  if (to.isF32())
    return v;
  return arith::TruncFOp::create(b, loc, to, v);
}

Value f32Const(OpBuilder &b, Location loc, float v) {
  return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
}

/// exp2 with the -inf row maximum read as 0 (attn.tile_exp2's contract).
Value safeMax(OpBuilder &b, Location loc, Value m) {
  Value negInf = f32Const(b, loc, -std::numeric_limits<float>::infinity());
  Value isNegInf =
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, m, negInf);
  return arith::SelectOp::create(b, loc, isNegInf, f32Const(b, loc, 0.0f), m);
}

struct LowerTileLoad : OpConversionPattern<TileLoadOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(TileLoadOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = op.getTile().getType();
    Location loc = op.getLoc();
    auto generate = tensor::GenerateOp::create(
        rewriter, loc, type, ValueRange(),
        [&](OpBuilder &b, Location l, ValueRange ivs) {
          Value row = arith::AddIOp::create(b, l, adaptor.getRow(), ivs[0]);
          Value inBounds = arith::CmpIOp::create(
              b, l, arith::CmpIPredicate::slt, row, adaptor.getBound());
          // Out-of-bounds rows read row 0 (which exists whenever a program
          // runs) and are replaced by zero.
          Value safeRow = arith::SelectOp::create(
              b, l, inBounds, row, arith::ConstantIndexOp::create(b, l, 0));
          SmallVector<Value> idx{adaptor.getBatch(), adaptor.getHead(), safeRow};
          if (type.getRank() == 2)
            idx.push_back(ivs[1]);
          Value x = memref::LoadOp::create(b, l, adaptor.getSource(), idx);
          Value zero = arith::ConstantOp::create(
              b, l, b.getZeroAttr(type.getElementType()));
          Value v = arith::SelectOp::create(b, l, inBounds, x, zero);
          tensor::YieldOp::create(b, l, v);
        });
    rewriter.replaceOp(op, generate.getResult());
    return success();
  }
};

struct LowerTileStore : OpConversionPattern<TileStoreOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(TileStoreOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = op.getTile().getType();
    Type destElem = op.getDest().getType().getElementType();
    Value c0 = arith::ConstantIndexOp::create(rewriter, loc, 0);
    Value c1 = arith::ConstantIndexOp::create(rewriter, loc, 1);
    // Rows to write: min(rows, bound - row), never negative.
    Value left = arith::SubIOp::create(rewriter, loc, adaptor.getBound(),
                                       adaptor.getRow());
    Value rows = arith::MinSIOp::create(
        rewriter, loc,
        arith::ConstantIndexOp::create(rewriter, loc, type.getDimSize(0)),
        arith::MaxSIOp::create(rewriter, loc, left, c0));
    scf::ForOp::create(
        rewriter, loc, c0, rows, c1, ValueRange(),
        [&](OpBuilder &b, Location l, Value i, ValueRange) {
          Value row = arith::AddIOp::create(b, l, adaptor.getRow(), i);
          auto store = [&](OpBuilder &sb, ValueRange tileIdx,
                           ValueRange memIdx) {
            Value x = tensor::ExtractOp::create(sb, l, adaptor.getTile(),
                                                tileIdx);
            if (x.getType() != destElem)
              x = arith::TruncFOp::create(sb, l, destElem, x);
            memref::StoreOp::create(sb, l, x, adaptor.getDest(), memIdx);
          };
          if (type.getRank() == 1) {
            store(b, {i}, {adaptor.getBatch(), adaptor.getHead(), row});
          } else {
            Value cols =
                arith::ConstantIndexOp::create(b, l, type.getDimSize(1));
            scf::ForOp::create(
                b, l, c0, cols, c1, ValueRange(),
                [&](OpBuilder &ib, Location il, Value j, ValueRange) {
                  store(ib, {i, j},
                        {adaptor.getBatch(), adaptor.getHead(), row, j});
                  scf::YieldOp::create(ib, il);
                });
          }
          scf::YieldOp::create(b, l);
        });
    rewriter.eraseOp(op);
    return success();
  }
};

struct LowerTileMatmul : OpConversionPattern<TileMatmulOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(TileMatmulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    auto type = op.getResult().getType();
    Value init = adaptor.getAcc();
    if (!init) {
      Value empty = tensor::EmptyOp::create(rewriter, loc, type.getShape(),
                                            type.getElementType());
      init = linalg::FillOp::create(rewriter, loc,
                                    f32Const(rewriter, loc, 0.0f), empty)
                 .getResult(0);
    }
    AffineExpr i = getAffineDimExpr(0, ctx), j = getAffineDimExpr(1, ctx),
               k = getAffineDimExpr(2, ctx);
    SmallVector<AffineMap> maps{
        AffineMap::get(3, 0, {i, k}, ctx),
        op.getTransposeRhs() ? AffineMap::get(3, 0, {j, k}, ctx)
                             : AffineMap::get(3, 0, {k, j}, ctx),
        AffineMap::get(3, 0, {i, j}, ctx)};
    SmallVector<utils::IteratorType> iterators{utils::IteratorType::parallel,
                                               utils::IteratorType::parallel,
                                               utils::IteratorType::reduction};
    Value result = buildGeneric(
        rewriter, loc, type, {adaptor.getLhs(), adaptor.getRhs()}, init, maps,
        iterators, [](OpBuilder &b, Location l, ValueRange a) -> Value {
          Value p = arith::MulFOp::create(b, l, toF32(b, l, a[0]),
                                          toF32(b, l, a[1]));
          return arith::AddFOp::create(b, l, a[2], p);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct LowerTileMap : OpConversionPattern<TileMapOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(TileMapOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = op.getTile().getType();
    Value result = buildGeneric(
        rewriter, loc, type, {adaptor.getTile()}, Value(),
        rowBroadcastMaps(op.getContext(), 2, false), parallel(2),
        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          Value i = linalg::IndexOp::create(b, l, 0);
          Value j = linalg::IndexOp::create(b, l, 1);
          Value q = arith::AddIOp::create(b, l, adaptor.getRow(), i);
          Value kv = arith::AddIOp::create(b, l, adaptor.getCol(), j);
          return inlineRegionBody(b, op.getBody(),
                                  {a[0], adaptor.getBatch(), adaptor.getHead(),
                                   q, kv})
              .front();
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct LowerTileReduce : OpConversionPattern<TileReduceOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(TileReduceOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    MLIRContext *ctx = op.getContext();
    SmallVector<AffineMap> maps{AffineMap::getMultiDimIdentityMap(2, ctx),
                                AffineMap::get(2, 0, getAffineDimExpr(0, ctx))};
    bool isMax = op.getKind() == ReduceKind::max;
    Value result = buildGeneric(
        rewriter, op.getLoc(), op.getResult().getType(), {adaptor.getTile()},
        adaptor.getInit(), maps,
        {utils::IteratorType::parallel, utils::IteratorType::reduction},
        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          if (isMax)
            return arith::MaximumFOp::create(b, l, a[1], a[0]);
          return arith::AddFOp::create(b, l, a[1], a[0]);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// tile_exp2 and tile_scale_rows: elementwise with a row vector.
template <typename OpTy>
struct LowerRowBroadcast : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = op.getResult().getType();
    int64_t rank = type.getRank();
    auto operands = adaptor.getOperands();
    Value result = buildGeneric(
        rewriter, op.getLoc(), type, {operands[0], operands[1]}, Value(),
        rowBroadcastMaps(op.getContext(), rank, true), parallel(rank),
        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          if constexpr (std::is_same_v<OpTy, TileExp2Op>) {
            Value d = arith::SubFOp::create(b, l, a[0], safeMax(b, l, a[1]));
            Value k = f32Const(b, l, op.getExpScale().convertToFloat());
            return math::Exp2Op::create(b, l,
                                        arith::MulFOp::create(b, l, d, k));
          } else {
            return arith::MulFOp::create(b, l, a[0], a[1]);
          }
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// o = acc / l (0 where l = 0); lse = ln2 · (k·m + log2 l) (-inf where l = 0).
struct LowerFinalize : OpConversionPattern<OnlineFinalizeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(OnlineFinalizeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (op.getAcc().getType().getRank() != 2)
      return rewriter.notifyMatchFailure(op, "batched form: tile it first");
    Location loc = op.getLoc();
    auto oType = op.getOutput().getType();
    Type oElem = oType.getElementType();
    Value o = buildGeneric(
        rewriter, loc, oType, {adaptor.getAcc(), adaptor.getSum()}, Value(),
        rowBroadcastMaps(op.getContext(), 2, true), parallel(2),
        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          Value zero = f32Const(b, l, 0.0f);
          Value empty =
              arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ, a[1], zero);
          Value q = arith::DivFOp::create(b, l, a[0], a[1]);
          Value v = arith::SelectOp::create(b, l, empty, zero, q);
          return fromF32(b, l, v, oElem);
        });
    SmallVector<Value> results{o};
    if (op.getLse()) {
      auto lseType = cast<RankedTensorType>(op.getLse().getType());
      Value lse = buildGeneric(
          rewriter, loc, lseType, {adaptor.getMax(), adaptor.getSum()}, Value(),
          SmallVector<AffineMap>(3, AffineMap::getMultiDimIdentityMap(
                                        1, op.getContext())),
          parallel(1), [&](OpBuilder &b, Location l, ValueRange a) -> Value {
            Value zero = f32Const(b, l, 0.0f);
            Value empty = arith::CmpFOp::create(
                b, l, arith::CmpFPredicate::OEQ, a[1], zero);
            Value log2l = math::Log2Op::create(b, l, a[1]);
            Value k = f32Const(b, l, op.getExpScale().convertToFloat());
            Value sum = arith::AddFOp::create(
                b, l, arith::MulFOp::create(b, l, a[0], k), log2l);
            Value ln = arith::MulFOp::create(
                b, l, sum, f32Const(b, l, static_cast<float>(M_LN2)));
            Value negInf =
                f32Const(b, l, -std::numeric_limits<float>::infinity());
            return arith::SelectOp::create(b, l, empty, negInf, ln);
          });
      results.push_back(lse);
    }
    rewriter.replaceOp(op, results);
    return success();
  }
};

struct AttnLowerTilesToLinalgPass
    : faopt::cpu::impl::AttnLowerTilesToLinalgBase<AttnLowerTilesToLinalgPass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    ConversionTarget target(*ctx);
    target.addLegalDialect<arith::ArithDialect, linalg::LinalgDialect,
                           math::MathDialect, memref::MemRefDialect,
                           scf::SCFDialect, tensor::TensorDialect>();
    target.addIllegalDialect<AttnDialect>();
    RewritePatternSet patterns(ctx);
    patterns.add<LowerTileLoad, LowerTileStore, LowerTileMatmul, LowerTileMap,
                 LowerTileReduce, LowerRowBroadcast<TileExp2Op>,
                 LowerRowBroadcast<TileScaleRowsOp>, LowerFinalize>(ctx);
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      return signalPassFailure();
    // Kernels (and their list builders) are called through memref
    // descriptors (CpuRunner).
    if (getOperation()->hasAttr("attn.kernel") ||
        getOperation()->hasAttr("attn.block_list_builder"))
      getOperation()->setAttr("llvm.emit_c_interface",
                              UnitAttr::get(&getContext()));
  }
};

} // namespace
