//===- EmitCBuilders.h - shared pieces of the tile-op lowering -*- C++ -*-===//
//
// What the GPU lowering's patterns share (ConvertToEmitC.cpp,
// TileOpsToEmitC.cpp): the type converter (index -> int64_t, f32 tiles ->
// faopt::Acc / faopt::Rows fragments, memrefs -> faopt::Tensor views), small
// EmitC builders and the base of patterns that read the kernel plan.
// Included by those two files only (it pulls in the EmitC dialect).
//
//===----------------------------------------------------------------------===//
#ifndef FAOPT_COMPILER_TARGETS_GPU_EMITCBUILDERS_H
#define FAOPT_COMPILER_TARGETS_GPU_EMITCBUILDERS_H

#include "compiler/targets/gpu/KernelPlan.h"
#include "dialects/attn/AttnDialect.h"

#include "mlir/Dialect/EmitC/IR/EmitC.h"
#include "mlir/Transforms/DialectConversion.h"
#include <string>

namespace faopt::gpu::emit {
using namespace mlir;

inline std::string elementName(Type t) {
  if (t.isBF16())
    return "faopt::bf16";
  if (t.isF16())
    return "faopt::f16";
  if (t.isInteger(32))
    return "int32_t";
  return "float";
}

class GpuTypeConverter : public TypeConverter {
public:
  explicit GpuTypeConverter(MLIRContext *ctx, int64_t warps) {
    addConversion([](Type t) -> std::optional<Type> {
      if (emitc::isSupportedEmitCType(t) && !isa<IndexType>(t))
        return t;
      return std::nullopt;
    });
    addConversion([ctx](IndexType) -> Type {
      return IntegerType::get(ctx, 64);
    });
    addConversion([ctx, warps](RankedTensorType t) -> std::optional<Type> {
      auto opaque = [&](const std::string &s) -> Type {
        return emitc::OpaqueType::get(ctx, s);
      };
      if (t.getElementType().isF32() && t.getRank() == 2)
        return opaque("faopt::Acc<" + std::to_string(t.getDimSize(0)) + ", " +
                      std::to_string(t.getDimSize(1)) + ", " +
                      std::to_string(warps) + ">");
      if (t.getElementType().isF32() && t.getRank() == 1)
        return opaque("faopt::Rows<" + std::to_string(t.getDimSize(0)) + ", " +
                      std::to_string(warps) + ">");
      // Packed operands carried across a loop (attn-overlap-softmax's P).
      if (isa_and_nonnull<faopt::attn::RegisterOperandAttr>(t.getEncoding()) &&
          t.getRank() == 2)
        return opaque("faopt::OperandA<" + elementName(t.getElementType()) +
                      ", " + std::to_string(t.getDimSize(0)) + ", " +
                      std::to_string(t.getDimSize(1)) + ", " +
                      std::to_string(warps) + ">");
      // Shared-memory tiles, other packed operands, output tiles: always
      // initialised where declared.
      return opaque("auto");
    });
    addConversion([ctx](MemRefType t) -> Type {
      // Memory space 3: a tensor with one row staged in shared memory
      // (attn.stage_row), a view that reads that row from there.
      auto space = dyn_cast_or_null<IntegerAttr>(t.getMemorySpace());
      const char *view = space && space.getInt() == 3 ? "faopt::StagedTensor<"
                                                      : "faopt::Tensor<";
      return emitc::OpaqueType::get(
          ctx, view + elementName(t.getElementType()) + ", " +
                   std::to_string(t.getRank()) + ">");
    });
    auto cast = [](OpBuilder &b, Type type, ValueRange inputs,
                   Location loc) -> Value {
      return UnrealizedConversionCastOp::create(b, loc, type, inputs)
          .getResult(0);
    };
    addSourceMaterialization(cast);
    addTargetMaterialization(cast);
  }
};

inline Value literal(OpBuilder &b, Location loc, Type type, const std::string &text) {
  return emitc::LiteralOp::create(b, loc, type, text);
}

inline void comment(OpBuilder &b, Location loc, const std::string &text,
             ValueRange args = {}) {
  emitc::VerbatimOp::create(b, loc, b.getStringAttr("// " + text), args);
}

inline ArrayAttr templateArgs(OpBuilder &b, ArrayRef<std::string> args) {
  SmallVector<Attribute> attrs;
  for (const std::string &a : args)
    attrs.push_back(emitc::OpaqueAttr::get(b.getContext(), a));
  return b.getArrayAttr(attrs);
}

inline Value call(OpBuilder &b, Location loc, Type result, StringRef callee,
           ValueRange operands, ArrayRef<std::string> targs = {}) {
  TypeRange results = result ? TypeRange(result) : TypeRange();
  auto op = emitc::CallOpaqueOp::create(b, loc, results, callee, operands,
                                        ArrayAttr(),
                                        targs.empty() ? ArrayAttr()
                                                      : templateArgs(b, targs));
  return result ? op.getResult(0) : Value();
}

inline std::string str(int64_t v) { return std::to_string(v); }


template <typename Op>
struct KernelPattern : OpConversionPattern<Op> {
  KernelPattern(const TypeConverter &tc, MLIRContext *ctx, const KernelInfo &k,
                PatternBenefit benefit = 1)
      : OpConversionPattern<Op>(tc, ctx, benefit), kernel(k) {}
  Type convert(Type t) const { return this->getTypeConverter()->convertType(t); }
  const KernelInfo &kernel;
};

/// The tile-op patterns (TileOpsToEmitC.cpp): loads, prefetches, waits,
/// matmuls, maps, reductions, row ops, constants, finalize, stores and the
/// kv-block list builder, each a call into faopt_sm80.cuh.
void populateTileOpsToEmitCPatterns(const TypeConverter &converter,
                                    RewritePatternSet &patterns,
                                    const KernelInfo &kernel);

/// The roles and programs of TMA kernels (RolesToEmitC.cpp): the copy
/// producer, the workers, the list builder's wait, the run-time hand-out.
/// Part of populateTileOpsToEmitCPatterns.
void populateRolesToEmitCPatterns(const TypeConverter &converter,
                                  RewritePatternSet &patterns,
                                  const KernelInfo &kernel);

} // namespace faopt::gpu::emit

#endif // FAOPT_COMPILER_TARGETS_GPU_EMITCBUILDERS_H
