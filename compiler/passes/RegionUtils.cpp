//===- RegionUtils.cpp - helpers for attn's single-block regions ----------===//
#include "compiler/passes/RegionUtils.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include "dialects/attn/AttnOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

using namespace mlir;

namespace faopt {

SmallVector<Value> inlineRegionBody(OpBuilder &b, Region &region,
                                    ValueRange args) {
  Block &block = region.front();
  IRMapping mapping;
  mapping.map(block.getArguments(), args);
  for (Operation &op : block.without_terminator())
    b.clone(op, mapping);
  SmallVector<Value> results;
  for (Value v : block.getTerminator()->getOperands())
    results.push_back(mapping.lookupOrDefault(v));
  return results;
}

void cloneMaskOrTrue(OpBuilder &b, Location loc, Region &mask, Region &into,
                     TypeRange params) {
  OpBuilder::InsertionGuard guard(b);
  if (!mask.empty()) {
    IRMapping mapping;
    mask.cloneInto(&into, into.end(), mapping);
    return;
  }
  Type idx = b.getIndexType();
  SmallVector<Type> argTypes{idx, idx, idx, idx};
  llvm::append_range(argTypes, params);
  b.createBlock(&into, into.end(), argTypes,
                SmallVector<Location>(argTypes.size(), loc));
  Value t = arith::ConstantIntOp::create(b, loc, 1, 1);
  attn::YieldOp::create(b, loc, t);
}

MemRefType stridedMemRefFor(RankedTensorType t) {
  int64_t dyn = ShapedType::kDynamic;
  SmallVector<int64_t> strides(t.getRank(), dyn);
  auto layout = StridedLayoutAttr::get(t.getContext(), dyn, strides);
  return MemRefType::get(t.getShape(), t.getElementType(), layout);
}

void tensorArgumentsToMemRefs(Region &region) {
  if (region.empty())
    return;
  for (BlockArgument arg : region.front().getArguments()) {
    auto t = dyn_cast<RankedTensorType>(arg.getType());
    if (!t)
      continue;
    arg.setType(stridedMemRefFor(t));
    for (Operation *user : llvm::make_early_inc_range(arg.getUsers())) {
      OpBuilder b(user);
      if (auto extract = dyn_cast<tensor::ExtractOp>(user)) {
        Value load = memref::LoadOp::create(b, extract.getLoc(), arg,
                                            extract.getIndices());
        extract.replaceAllUsesWith(load);
        extract.erase();
      } else if (auto dim = dyn_cast<tensor::DimOp>(user)) {
        Value d = memref::DimOp::create(b, dim.getLoc(), arg, dim.getIndex());
        dim.replaceAllUsesWith(d);
        dim.erase();
      }
    }
  }
}

void collectConjuncts(Value cond, SmallVectorImpl<Value> &out) {
  if (auto a = cond.getDefiningOp<arith::AndIOp>()) {
    collectConjuncts(a.getLhs(), out);
    collectConjuncts(a.getRhs(), out);
    return;
  }
  out.push_back(cond);
}

Value cloneSlice(Value v, Block &from, IRMapping &m, OpBuilder &b) {
  if (Value known = m.lookupOrNull(v))
    return known;
  Operation *def = v.getDefiningOp();
  if (!def || def->getBlock() != &from)
    return v; // from above (or another block's argument)
  for (Value o : def->getOperands())
    cloneSlice(o, from, m, b);
  Operation *copy = b.clone(*def, m);
  return copy->getResult(cast<OpResult>(v).getResultNumber());
}

void eraseUnusedReads(Block &block) {
  SmallVector<Operation *> ops;
  for (Operation &op : block.without_terminator())
    ops.push_back(&op);
  for (Operation *op : llvm::reverse(ops))
    if (op->use_empty() &&
        (isMemoryEffectFree(op) || isa<memref::LoadOp, memref::DimOp>(op)))
      op->erase();
}

} // namespace faopt
