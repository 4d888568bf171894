//===- SpecToMLIR.cpp - attention spec to attn.attention ------------------===//
#include "compiler/spec/SpecToMLIR.h"
#include "compiler/spec/ExprToMLIR.h"

#include "dialects/attn/AttnOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include <cctype>
#include <string>

using namespace mlir;

namespace faopt::spec {

void registerSpecDialects(DialectRegistry &registry) {
  registry.insert<attn::AttnDialect, arith::ArithDialect, func::FuncDialect,
                  math::MathDialect, tensor::TensorDialect>();
}

namespace {
Type elementType(MLIRContext &ctx, ElementType t) {
  switch (t) {
  case ElementType::F16:
    return Float16Type::get(&ctx);
  case ElementType::BF16:
    return BFloat16Type::get(&ctx);
  case ElementType::F32:
    return Float32Type::get(&ctx);
  }
  return {};
}

/// A rank-4 tensor in the spec's layout with the given heads and head dim.
RankedTensorType qkvType(MLIRContext &ctx, const AttentionSpec &spec,
                         std::optional<int64_t> heads, int64_t headDim) {
  int64_t dyn = ShapedType::kDynamic;
  int64_t h = heads ? *heads : dyn;
  SmallVector<int64_t> shape = spec.layout == Layout::BHSD
                                   ? SmallVector<int64_t>{dyn, h, dyn, headDim}
                                   : SmallVector<int64_t>{dyn, dyn, h, headDim};
  return RankedTensorType::get(shape, elementType(ctx, spec.dtype));
}
} // namespace

OwningOpRef<ModuleOp> buildModule(MLIRContext &ctx, const AttentionSpec &spec,
                                  StringRef source) {
  ctx.loadDialect<attn::AttnDialect, arith::ArithDialect, func::FuncDialect,
                  math::MathDialect, tensor::TensorDialect>();
  Location loc = FileLineColLoc::get(&ctx, source, 1, 1);
  OpBuilder b(&ctx);
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  (*module)->setAttr("faopt.spec", b.getStringAttr(spec.canonicalJson()));

  std::optional<int64_t> kvHeads = spec.kvHeads;
  if (!kvHeads && spec.heads && spec.heads == std::optional<int64_t>(1))
    kvHeads = 1;
  auto qType = qkvType(ctx, spec, spec.heads, spec.headDimQK);
  auto kType = qkvType(ctx, spec, kvHeads, spec.headDimQK);
  auto vType = qkvType(ctx, spec, kvHeads, spec.headDimV);
  auto oType = qkvType(ctx, spec, spec.heads, spec.headDimV);
  int64_t dyn = ShapedType::kDynamic;
  auto lseType = RankedTensorType::get(
      {dyn, spec.heads ? *spec.heads : dyn, dyn}, b.getF32Type());

  SmallVector<Type> results{oType};
  if (spec.lse)
    results.push_back(lseType);
  // Run-time parameters follow q, k, v, each named by an `attn.param`
  // argument attribute.
  SmallVector<Type> argTypes{qType, kType, vType};
  auto scalarType = [&](ExprType t) -> Type {
    return t == ExprType::Float ? Type(b.getF32Type()) : Type(b.getIndexType());
  };
  for (const ParamDecl &p : spec.params)
    argTypes.push_back(scalarType(p.type));
  // Tensor inputs follow: int32 / f32 with dynamic sizes except fixed ones.
  for (const TensorDecl &t : spec.tensors) {
    SmallVector<int64_t> shape;
    for (const std::string &d : t.dims)
      shape.push_back(std::isdigit(static_cast<unsigned char>(d[0]))
                          ? std::stoll(d)
                          : ShapedType::kDynamic);
    Type elem = t.type == ExprType::Int ? Type(b.getI32Type())
                                        : Type(b.getF32Type());
    argTypes.push_back(RankedTensorType::get(shape, elem));
  }
  b.setInsertionPointToEnd(module->getBody());
  auto func = func::FuncOp::create(b, loc, spec.name,
                                   b.getFunctionType(argTypes, results));
  for (size_t i = 0; i < spec.params.size(); ++i)
    func.setArgAttr(3 + i, "attn.param", b.getStringAttr(spec.params[i].name));
  size_t firstTensor = 3 + spec.params.size();
  for (size_t i = 0; i < spec.tensors.size(); ++i)
    func.setArgAttr(firstTensor + i, "attn.param",
                    b.getStringAttr(spec.tensors[i].name));
  Block *entry = func.addEntryBlock();
  b.setInsertionPointToStart(entry);

  // What the regions receive after their positions: sequence lengths (from
  // q and k) if an expression reads them, then the parameters.
  SmallVector<Value> params;
  SmallVector<RegionParam> regionParams;
  SmallVector<Attribute> names;
  int64_t seq = spec.layout == Layout::BHSD ? 2 : 1;
  for (const std::string &name : spec.regionParams()) {
    Value v;
    if (name == "seqlen_q" || name == "seqlen_k")
      v = tensor::DimOp::create(b, loc,
                                entry->getArgument(name == "seqlen_q" ? 0 : 1),
                                seq);
    else
      for (size_t i = 0; i < spec.params.size() + spec.tensors.size(); ++i)
        if ((i < spec.params.size() ? spec.params[i].name
                                    : spec.tensors[i - spec.params.size()].name) ==
            name)
          v = entry->getArgument(3 + i);
    params.push_back(v);
    regionParams.push_back({name, v.getType()});
    names.push_back(b.getStringAttr(name));
  }

  auto op = attn::AttentionOp::create(
      b, loc, oType, spec.lse ? Type(lseType) : Type(), entry->getArgument(0),
      entry->getArgument(1), entry->getArgument(2), params,
      spec.scale ? b.getF32FloatAttr(static_cast<float>(*spec.scale))
                 : FloatAttr(),
      attn::LayoutAttr::get(&ctx, spec.layout == Layout::BHSD
                                      ? attn::Layout::bhsd
                                      : attn::Layout::bshd),
      attn::SparsityAttr::get(&ctx, attn::Sparsity::dense),
      names.empty() ? ArrayAttr() : b.getArrayAttr(names));
  if (spec.mask)
    buildMaskRegion(op.getMask(), *spec.mask, (source + ":$.mask").str(),
                    regionParams);
  if (spec.score)
    buildScoreRegion(op.getScore(), *spec.score, (source + ":$.score").str(),
                     regionParams);
  func::ReturnOp::create(b, loc, op->getResults());
  return module;
}

} // namespace faopt::spec
