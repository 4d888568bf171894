//===- ScalarToEmitC.cpp - arith / math / func to readable EmitC ----------===//
//
// MLIR's ArithToEmitC guards every signed operation against overflow with
// unsigned casts, which makes index arithmetic unreadable. Kernel index
// arithmetic here stays far from overflow (sizes and positions below 2^62),
// so these patterns emit plain C operators on int64_t and use small helpers
// from the device header (faopt::floor_div, faopt::udiv, faopt::imin, ...)
// where C has no operator with the op's exact semantics. Constants become
// literals, so the C++ reads `q0 + 127`, not `v3 + v4`.
//
//===----------------------------------------------------------------------===//
#include "compiler/targets/gpu/ConvertToEmitC.h"

#include "dialects/attn/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/EmitC/IR/EmitC.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Transforms/DialectConversion.h"
#include "llvm/ADT/SmallString.h"
#include <cmath>

using namespace mlir;

namespace faopt::gpu {

std::string floatLiteral(double v) {
  if (std::isnan(v))
    return "NAN";
  if (std::isinf(v))
    return v < 0 ? "(-INFINITY)" : "INFINITY";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  std::string s = buf;
  if (s.find_first_of(".e") == std::string::npos)
    s += ".0";
  return s + "f";
}

namespace {

struct ConstantLowering : OpConversionPattern<arith::ConstantOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(arith::ConstantOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Type type = getTypeConverter()->convertType(op.getType());
    if (!type || isa<emitc::OpaqueType>(type))
      return rewriter.notifyMatchFailure(op, "not a scalar constant");
    std::string text;
    if (auto i = dyn_cast<IntegerAttr>(op.getValue())) {
      if (op.getType().isInteger(1))
        text = i.getValue().getBoolValue() ? "true" : "false";
      else
        text = std::to_string(i.getValue().getSExtValue());
    } else if (auto f = dyn_cast<FloatAttr>(op.getValue())) {
      text = floatLiteral(f.getValueAsDouble());
    } else {
      return rewriter.notifyMatchFailure(op, "unsupported constant");
    }
    rewriter.replaceOpWithNewOp<emitc::LiteralOp>(op, type, text);
    return success();
  }
};

/// Ops that are one C operator.
template <typename From, typename To>
struct BinaryLowering : OpConversionPattern<From> {
  using OpConversionPattern<From>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(From op, typename From::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Type type = this->getTypeConverter()->convertType(op.getType());
    if (!type || isa<ShapedType>(op.getType()))
      return rewriter.notifyMatchFailure(op, "not scalar");
    rewriter.replaceOpWithNewOp<To>(op, type, adaptor.getLhs(),
                                    adaptor.getRhs());
    return success();
  }
};

/// Ops that are a call to a helper of the device header or libdevice. With
/// `i32Variant`, an i32 op calls `<callee>32` (attn-narrow-index-math's
/// 32-bit twins; one name per width keeps C++ overloads unambiguous).
template <typename From>
struct CallLowering : OpConversionPattern<From> {
  CallLowering(const TypeConverter &converter, MLIRContext *ctx,
               StringRef callee, bool i32Variant = false)
      : OpConversionPattern<From>(converter, ctx), callee(callee.str()),
        i32Variant(i32Variant) {}
  LogicalResult
  matchAndRewrite(From op, typename From::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (isa<ShapedType>(op->getResult(0).getType()))
      return rewriter.notifyMatchFailure(op, "not scalar");
    Type type =
        this->getTypeConverter()->convertType(op->getResult(0).getType());
    std::string name = callee;
    if (i32Variant && op->getResult(0).getType().isInteger(32))
      name += "32";
    rewriter.replaceOpWithNewOp<emitc::CallOpaqueOp>(
        op, TypeRange{type}, name, adaptor.getOperands());
    return success();
  }
  std::string callee;
  bool i32Variant;
};

struct CmpILowering : OpConversionPattern<arith::CmpIOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(arith::CmpIOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    using P = arith::CmpIPredicate;
    Type i1 = rewriter.getI1Type();
    Value a = adaptor.getLhs(), b = adaptor.getRhs();
    const char *unsignedHelper = nullptr;
    emitc::CmpPredicate pred;
    switch (op.getPredicate()) {
    case P::eq: pred = emitc::CmpPredicate::eq; break;
    case P::ne: pred = emitc::CmpPredicate::ne; break;
    case P::slt: pred = emitc::CmpPredicate::lt; break;
    case P::sle: pred = emitc::CmpPredicate::le; break;
    case P::sgt: pred = emitc::CmpPredicate::gt; break;
    case P::sge: pred = emitc::CmpPredicate::ge; break;
    case P::ult: unsignedHelper = "faopt::ult"; break;
    case P::ule: unsignedHelper = "faopt::ule"; break;
    case P::ugt: unsignedHelper = "faopt::ugt"; break;
    case P::uge: unsignedHelper = "faopt::uge"; break;
    }
    if (unsignedHelper)
      rewriter.replaceOpWithNewOp<emitc::CallOpaqueOp>(
          op, TypeRange{i1},
          std::string(unsignedHelper) +
              (op.getLhs().getType().isInteger(32) ? "32" : ""),
          ValueRange{a, b});
    else
      rewriter.replaceOpWithNewOp<emitc::CmpOp>(op, i1, pred, a, b);
    return success();
  }
};

struct CmpFLowering : OpConversionPattern<arith::CmpFOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(arith::CmpFOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    using P = arith::CmpFPredicate;
    emitc::CmpPredicate pred;
    switch (op.getPredicate()) {
    case P::OEQ: pred = emitc::CmpPredicate::eq; break;
    case P::UNE: pred = emitc::CmpPredicate::ne; break;
    case P::OLT: pred = emitc::CmpPredicate::lt; break;
    case P::OLE: pred = emitc::CmpPredicate::le; break;
    case P::OGT: pred = emitc::CmpPredicate::gt; break;
    case P::OGE: pred = emitc::CmpPredicate::ge; break;
    default:
      return op.emitOpError() << "predicate "
                              << arith::stringifyCmpFPredicate(op.getPredicate())
                              << " has no C operator in the GPU lowering";
    }
    rewriter.replaceOpWithNewOp<emitc::CmpOp>(op, rewriter.getI1Type(), pred,
                                              adaptor.getLhs(),
                                              adaptor.getRhs());
    return success();
  }
};

/// i1 and/or/xor are logical operators (the mask language); wider integers
/// are bitwise.
template <typename From, typename Logical, typename Bitwise>
struct BoolLowering : OpConversionPattern<From> {
  using OpConversionPattern<From>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(From op, typename From::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Type type = this->getTypeConverter()->convertType(op.getType());
    if (op.getType().isInteger(1))
      rewriter.replaceOpWithNewOp<Logical>(op, type, adaptor.getLhs(),
                                           adaptor.getRhs());
    else
      rewriter.replaceOpWithNewOp<Bitwise>(op, type, adaptor.getLhs(),
                                           adaptor.getRhs());
    return success();
  }
};

/// x ^ true on i1 is `!x`; other i1 xors are `!=`.
struct XOrLowering : OpConversionPattern<arith::XOrIOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(arith::XOrIOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Type type = getTypeConverter()->convertType(op.getType());
    if (!op.getType().isInteger(1)) {
      rewriter.replaceOpWithNewOp<emitc::BitwiseXorOp>(
          op, type, adaptor.getLhs(), adaptor.getRhs());
      return success();
    }
    auto isTrue = [](Value v) {
      auto c = v.getDefiningOp<arith::ConstantOp>();
      auto i = c ? dyn_cast<IntegerAttr>(c.getValue()) : IntegerAttr();
      return i && i.getValue().getBoolValue();
    };
    if (isTrue(op.getRhs()))
      rewriter.replaceOpWithNewOp<emitc::LogicalNotOp>(op, type,
                                                       adaptor.getLhs());
    else if (isTrue(op.getLhs()))
      rewriter.replaceOpWithNewOp<emitc::LogicalNotOp>(op, type,
                                                       adaptor.getRhs());
    else
      rewriter.replaceOpWithNewOp<emitc::CmpOp>(op, type,
                                                emitc::CmpPredicate::ne,
                                                adaptor.getLhs(),
                                                adaptor.getRhs());
    return success();
  }
};

struct SelectLowering : OpConversionPattern<arith::SelectOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(arith::SelectOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (isa<ShapedType>(op.getType()))
      return rewriter.notifyMatchFailure(op, "not scalar");
    rewriter.replaceOpWithNewOp<emitc::ConditionalOp>(
        op, getTypeConverter()->convertType(op.getType()),
        adaptor.getCondition(), adaptor.getTrueValue(),
        adaptor.getFalseValue());
    return success();
  }
};

/// Casts: index <-> i64 vanish (both are int64_t); numeric conversions are
/// C casts.
template <typename From>
struct CastLowering : OpConversionPattern<From> {
  using OpConversionPattern<From>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(From op, typename From::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (isa<ShapedType>(op.getType()))
      return rewriter.notifyMatchFailure(op, "not scalar");
    Type type = this->getTypeConverter()->convertType(op.getType());
    Value in = adaptor.getOperands()[0];
    if (in.getType() == type)
      rewriter.replaceOp(op, in);
    else
      rewriter.replaceOpWithNewOp<emitc::CastOp>(op, type, in);
    return success();
  }
};

struct NegFLowering : OpConversionPattern<arith::NegFOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(arith::NegFOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOpWithNewOp<emitc::UnaryMinusOp>(
        op, getTypeConverter()->convertType(op.getType()),
        adaptor.getOperand());
    return success();
  }
};

// func.func -> emitc.func; kernels and device functions get their CUDA
// specifiers from ConvertToEmitC afterwards.
struct FuncLowering : OpConversionPattern<func::FuncOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(func::FuncOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    const TypeConverter &converter = *getTypeConverter();
    TypeConverter::SignatureConversion signature(op.getNumArguments());
    for (auto [i, t] : llvm::enumerate(op.getArgumentTypes())) {
      Type c = converter.convertType(t);
      if (!c)
        return rewriter.notifyMatchFailure(op, "argument type");
      signature.addInputs(i, c);
    }
    SmallVector<Type> results;
    if (failed(converter.convertTypes(op.getResultTypes(), results)))
      return rewriter.notifyMatchFailure(op, "result type");
    auto fn = emitc::FuncOp::create(
        rewriter, op.getLoc(), op.getName(),
        rewriter.getFunctionType(signature.getConvertedTypes(), results));
    for (NamedAttribute attr : op->getDiscardableAttrs())
      fn->setAttr(attr.getName(), attr.getValue());
    rewriter.inlineRegionBefore(op.getBody(), fn.getBody(), fn.end());
    if (failed(rewriter.convertRegionTypes(&fn.getBody(), converter,
                                           &signature)))
      return failure();
    rewriter.eraseOp(op);
    return success();
  }
};

struct ReturnLowering : OpConversionPattern<func::ReturnOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(func::ReturnOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (adaptor.getOperands().size() > 1)
      return op.emitOpError() << "multiple results have no C equivalent here";
    rewriter.replaceOpWithNewOp<emitc::ReturnOp>(
        op, adaptor.getOperands().empty() ? Value()
                                          : adaptor.getOperands().front());
    return success();
  }
};

/// attn.tensor_bounds -> `faopt::MinMax v = faopt::tensor_bounds(t,
/// lower..., upper...)`, then faopt::min_of(v) / faopt::max_of(v): one call
/// for both results (the device header reduces a box shared by a warp with
/// all its lanes).
struct TensorBoundsLowering
    : OpConversionPattern<faopt::attn::TensorBoundsOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(faopt::attn::TensorBoundsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Type pair = emitc::OpaqueType::get(op.getContext(), "faopt::MinMax");
    Type index = getTypeConverter()->convertType(op.getMin().getType());
    Value bounds = emitc::CallOpaqueOp::create(rewriter, loc, TypeRange{pair},
                                               "faopt::tensor_bounds",
                                               adaptor.getOperands())
                       .getResult(0);
    Value min = emitc::CallOpaqueOp::create(rewriter, loc, TypeRange{index},
                                            "faopt::min_of", bounds)
                    .getResult(0);
    Value max = emitc::CallOpaqueOp::create(rewriter, loc, TypeRange{index},
                                            "faopt::max_of", bounds)
                    .getResult(0);
    rewriter.replaceOp(op, {min, max});
    return success();
  }
};

} // namespace

void populateScalarToEmitCPatterns(TypeConverter &converter,
                                   RewritePatternSet &patterns) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<TensorBoundsLowering, ConstantLowering, CmpILowering,
               CmpFLowering, XOrLowering,
               SelectLowering, NegFLowering, FuncLowering, ReturnLowering,
               BinaryLowering<arith::AddIOp, emitc::AddOp>,
               BinaryLowering<arith::SubIOp, emitc::SubOp>,
               BinaryLowering<arith::MulIOp, emitc::MulOp>,
               BinaryLowering<arith::DivSIOp, emitc::DivOp>,
               BinaryLowering<arith::RemSIOp, emitc::RemOp>,
               BinaryLowering<arith::ShRSIOp, emitc::BitwiseRightShiftOp>,
               BinaryLowering<arith::AddFOp, emitc::AddOp>,
               BinaryLowering<arith::SubFOp, emitc::SubOp>,
               BinaryLowering<arith::MulFOp, emitc::MulOp>,
               BinaryLowering<arith::DivFOp, emitc::DivOp>,
               BoolLowering<arith::AndIOp, emitc::LogicalAndOp,
                            emitc::BitwiseAndOp>,
               BoolLowering<arith::OrIOp, emitc::LogicalOrOp,
                            emitc::BitwiseOrOp>,
               CastLowering<arith::IndexCastOp>,
               CastLowering<arith::IndexCastUIOp>,
               CastLowering<arith::SIToFPOp>, CastLowering<arith::UIToFPOp>,
               CastLowering<arith::FPToSIOp>, CastLowering<arith::ExtFOp>,
               CastLowering<arith::TruncFOp>, CastLowering<arith::ExtSIOp>,
               CastLowering<arith::TruncIOp>>(converter, ctx);
  auto call = [&](auto tag, StringRef callee, bool i32Variant = false) {
    using Op = decltype(tag);
    patterns.add<CallLowering<Op>>(converter, ctx, callee, i32Variant);
  };
  call(arith::DivUIOp(), "faopt::udiv", /*i32Variant=*/true);
  call(arith::RemUIOp(), "faopt::urem", /*i32Variant=*/true);
  call(arith::CeilDivUIOp(), "faopt::ceil_div_u", /*i32Variant=*/true);
  call(arith::CeilDivSIOp(), "faopt::ceil_div", /*i32Variant=*/true);
  call(arith::FloorDivSIOp(), "faopt::floor_div", /*i32Variant=*/true);
  call(arith::ShRUIOp(), "faopt::shr_u");
  call(arith::MinSIOp(), "faopt::imin", /*i32Variant=*/true);
  call(arith::MaxSIOp(), "faopt::imax", /*i32Variant=*/true);
  call(arith::MaximumFOp(), "fmaxf");
  call(arith::MinimumFOp(), "fminf");
  call(arith::MaxNumFOp(), "fmaxf");
  call(arith::MinNumFOp(), "fminf");
  call(math::TanhOp(), "tanhf");
  call(math::ExpOp(), "expf");
  call(math::Exp2Op(), "exp2f");
  call(math::LogOp(), "logf");
  call(math::Log2Op(), "log2f");
  call(math::SqrtOp(), "sqrtf");
  call(math::AbsFOp(), "fabsf");
  call(math::AbsIOp(), "faopt::iabs");
  call(faopt::attn::AddSatOp(), "faopt::add_sat32");
  call(faopt::attn::SubSatOp(), "faopt::sub_sat32");
  call(math::FmaOp(), "fmaf");
  // Reads of tensor inputs (document ids, lengths, biases) in per-element
  // functions; the spec's expressions clamp the indices.
  call(memref::LoadOp(), "faopt::load");
}

} // namespace faopt::gpu
