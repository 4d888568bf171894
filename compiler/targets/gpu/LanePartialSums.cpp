//===- LanePartialSums.cpp - row sums kept per lane until finalize --------===//
#include "compiler/targets/gpu/LanePartialSums.h"

#include "dialects/attn/AttnOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/SmallVector.h"

using namespace mlir;
using namespace faopt::attn;

namespace faopt::gpu {
namespace {

bool isZeroSplat(Value v) {
  auto cst = v.getDefiningOp<arith::ConstantOp>();
  auto dense = cst ? dyn_cast<DenseElementsAttr>(cst.getValue()) : nullptr;
  return dense && dense.isSplat() && dense.getElementType().isF32() &&
         dense.getSplatValue<APFloat>().isZero();
}

/// Grows the set of values that carry finalize's sum, in both directions
/// through the loop and branch structure; fails on anything that is not a
/// linear use of it.
class SumGroup {
public:
  bool grow(Value start) {
    push(start);
    while (!work.empty()) {
      Value v = work.pop_back_val();
      if (!definedOk(v) || !usesOk(v))
        return false;
    }
    return true;
  }
  llvm::SmallVector<Operation *> reduces, finalizes;

private:
  void push(Value v) {
    if (seen.insert(v).second)
      work.push_back(v);
  }

  bool definedOk(Value v) {
    if (auto arg = dyn_cast<BlockArgument>(v)) {
      auto loop = dyn_cast<scf::ForOp>(arg.getOwner()->getParentOp());
      if (!loop || arg.getArgNumber() == 0)
        return false; // the induction variable, or an unknown region
      unsigned i = arg.getArgNumber() - 1;
      push(loop.getInitArgs()[i]);
      push(loop.getYieldedValues()[i]);
      push(loop.getResult(i));
      return true;
    }
    Operation *def = v.getDefiningOp();
    unsigned i = cast<OpResult>(v).getResultNumber();
    if (isZeroSplat(v))
      return true;
    if (auto scale = dyn_cast<TileScaleRowsOp>(def)) {
      push(scale.getInput());
      return true;
    }
    if (auto reduce = dyn_cast<TileReduceOp>(def)) {
      if (reduce.getKind() != ReduceKind::sum ||
          !isa<RankedTensorType>(reduce.getTile().getType()))
        return false;
      reduces.push_back(reduce);
      push(reduce.getInit());
      return true;
    }
    if (auto loop = dyn_cast<scf::ForOp>(def)) {
      push(loop.getInitArgs()[i]);
      push(loop.getYieldedValues()[i]);
      push(loop.getRegionIterArg(i));
      return true;
    }
    if (auto branch = dyn_cast<scf::IfOp>(def)) {
      push(branch.thenYield().getOperand(i));
      if (branch.elseBlock())
        push(branch.elseYield().getOperand(i));
      return true;
    }
    return false;
  }

  bool usesOk(Value v) {
    for (OpOperand &use : v.getUses()) {
      Operation *user = use.getOwner();
      unsigned n = use.getOperandNumber();
      if (auto scale = dyn_cast<TileScaleRowsOp>(user)) {
        if (use.get() != scale.getInput() || use.get() == scale.getFactor())
          return false; // a partial value must not scale anything
        push(scale.getResult());
      } else if (auto reduce = dyn_cast<TileReduceOp>(user)) {
        if (reduce.getKind() != ReduceKind::sum || use.get() != reduce.getInit())
          return false;
        push(reduce.getResult());
      } else if (auto finalize = dyn_cast<OnlineFinalizeOp>(user)) {
        if (use.get() != finalize.getSum() || use.get() == finalize.getMax() ||
            use.get() == finalize.getAcc())
          return false;
        finalizes.push_back(finalize);
      } else if (auto release = dyn_cast<TileReleaseOp>(user)) {
        // `after %sum` only orders the release after the sums are computed
        // (release_after's predicate, never false for a sum of
        // exponentials); a lane's partial sum orders it just as well.
        if (use.get() != release.getAfter())
          return false;
      } else if (auto yield = dyn_cast<scf::YieldOp>(user)) {
        Operation *parent = yield->getParentOp();
        if (auto loop = dyn_cast<scf::ForOp>(parent)) {
          push(loop.getResult(n));
          push(loop.getRegionIterArg(n));
        } else if (auto branch = dyn_cast<scf::IfOp>(parent)) {
          push(branch.getResult(n));
        } else {
          return false;
        }
      } else if (auto loop = dyn_cast<scf::ForOp>(user)) {
        if (n < loop.getNumControlOperands())
          return false;
        unsigned i = n - loop.getNumControlOperands();
        push(loop.getRegionIterArg(i));
        push(loop.getResult(i));
      } else {
        return false;
      }
    }
    return true;
  }

  llvm::DenseSet<Value> seen;
  llvm::SmallVector<Value> work;
};

} // namespace

LanePartialSums findLanePartialSums(Operation *kernel) {
  LanePartialSums out;
  kernel->walk([&](OnlineFinalizeOp finalize) {
    if (out.finalizes.contains(finalize))
      return;
    SumGroup group;
    if (!group.grow(finalize.getSum()))
      return;
    out.reduces.insert(group.reduces.begin(), group.reduces.end());
    out.finalizes.insert(group.finalizes.begin(), group.finalizes.end());
  });
  return out;
}

} // namespace faopt::gpu
