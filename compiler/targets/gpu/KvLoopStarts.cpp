//===- KvLoopStarts.cpp - what a kv loop's first block is made of ---------===//
#include "compiler/targets/gpu/KvLoopStarts.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/SmallPtrSet.h"

using namespace mlir;

bool faopt::gpu::computedFrom(Value v,
                              llvm::function_ref<bool(Operation *)> pred) {
  SmallVector<Value> work{v};
  llvm::SmallPtrSet<Operation *, 16> seen;
  while (!work.empty()) {
    Operation *def = work.pop_back_val().getDefiningOp();
    if (!def || !seen.insert(def).second)
      continue;
    if (pred(def))
      return true;
    llvm::append_range(work, def->getOperands());
  }
  return false;
}

bool faopt::gpu::isChunkStart(Operation *op) {
  auto mul = dyn_cast<arith::MulIOp>(op);
  if (!mul)
    return false;
  auto sameValue = [](Value a, Value b) {
    APInt x, y;
    return a == b || (matchPattern(a, m_ConstantInt(&x)) &&
                      matchPattern(b, m_ConstantInt(&y)) && x == y);
  };
  for (auto [quotient, factor] : {std::pair(mul.getLhs(), mul.getRhs()),
                                  std::pair(mul.getRhs(), mul.getLhs())})
    if (auto div = quotient.getDefiningOp<arith::FloorDivSIOp>();
        div && sameValue(div.getRhs(), factor))
      return true;
  return false;
}
