//===- RegionUtils.cpp - helpers for attn's single-block regions ----------===//
#include "compiler/passes/RegionUtils.h"

#include "dialects/attn/AttnOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/IRMapping.h"

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

} // namespace faopt
