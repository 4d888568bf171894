//===- StageOutputInV.cpp - stage the O tile in the last P V's V stage ----===//
//
// A persistent TMA kernel stages its O tile in shared memory for the TMA
// store, in a region of its own (the next program's Q may be landing in
// Q's). With three K/V stages (attn.kv_stages = 3 on the loop over
// programs) that region does not fit at d = 128: Q 32 + K 3 x 32 + V 3 x 32
// KiB is 224 of the H200's 227. FlashAttention-3 lines its O staging up
// with V's shared memory; here O goes into the V stage the program's last
// P V read, which the consumers still hold at that point:
//
//   %pv = scf.if %held {                       %pv = scf.if %held {
//     %v = attn.tile_wait %V ... stage %s        %v = attn.tile_wait %V ... stage %s
//     %o = attn.tile_matmul %p, %v ...           %o = attn.tile_matmul %p, %v ...
//     attn.tile_release %V stage %s round %r     scf.yield %o
//     scf.yield %o                             } else { ... }
//   } else { ... }                             ...
//   ...                                        attn.tile_store %out, %O[...] bound %n
//   attn.tile_store %out, %O[...] bound %n       staged_in %V stage %s round %r when %held
//
// The store then hands the stage back itself, once the TMA store has read
// it (faopt::tma::store_tile_in_stage: one thread arrives for every
// consumer warp), so the copy thread refills it only after that. Where
// %held is false the program ran no P V, holds no stage, and the store
// writes its fragments without staging. Runs after attn-warp-specialize
// (on the consumers' branch) and attn-release-q-early; the plan
// (KernelPlan.cpp) then gives O no region of its own.
//
// Two ways to hand the stage back instead, marked on the kernel for the
// lowering: the copy thread stores O (by-copy-thread,
// attn.output_by_copy_thread; slower, docs/performance.md item 92), or the
// storing thread waits for the store's read only after its next Q wait
// (defer-read-wait, attn.output_wait_at_next_q; by default where every
// program reads the same kv-blocks and releases Q after them, item 94).
//
//===----------------------------------------------------------------------===//
#include "compiler/targets/gpu/Passes.h"

#include "dialects/attn/AttnOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Matchers.h"

namespace faopt::gpu {
#define GEN_PASS_DEF_ATTNSTAGEOUTPUTINV
#include "compiler/targets/gpu/Passes.h.inc"
} // namespace faopt::gpu

using namespace mlir;
using namespace faopt::attn;

namespace {

/// Whether `value` is the kernel's argument number `index`.
bool isKernelArgument(func::FuncOp kernel, Value value, unsigned index) {
  auto arg = dyn_cast<BlockArgument>(value);
  return arg && arg.getOwner() == &kernel.getBody().front() &&
         arg.getArgNumber() == index;
}

/// The plain release of V's stage in `guard`'s then-block (no `when`, no
/// `after`), with its stage and round defined outside the guard, where the
/// else-block releases no V; null otherwise.
TileReleaseOp finalVRelease(func::FuncOp kernel, scf::IfOp guard) {
  if (guard.getElseRegion().empty())
    return nullptr;
  TileReleaseOp found;
  for (Operation &op : guard.thenBlock()->getOperations()) {
    auto release = dyn_cast<TileReleaseOp>(op);
    if (!release || !isKernelArgument(kernel, release.getSource(), 2))
      continue;
    if (found || release.getWhen() || release.getAfter())
      return nullptr;
    found = release;
  }
  if (!found)
    return nullptr;
  for (Value v : {found.getStage(), found.getRound()})
    if (guard->isAncestor(v.getParentRegion()->getParentOp()) ||
        v.getParentRegion() == &guard.getThenRegion())
      return nullptr;
  bool elseReleasesV = false;
  guard.elseBlock()->walk([&](TileReleaseOp r) {
    elseReleasesV |= isKernelArgument(kernel, r.getSource(), 2);
  });
  return elseReleasesV ? nullptr : found;
}

/// Whether `value` depends on the iteration of `programs` (its induction
/// variable or iter_args, through ops inside it): a kv loop whose bounds do
/// not read the same blocks in every program.
bool dependsOnProgram(Value value, scf::ForOp programs) {
  SmallVector<Value> work{value};
  DenseSet<Value> seen;
  while (!work.empty()) {
    Value v = work.pop_back_val();
    if (!seen.insert(v).second)
      continue;
    if (auto arg = dyn_cast<BlockArgument>(v)) {
      if (programs->isAncestor(arg.getOwner()->getParentOp()))
        return true;
      continue;
    }
    Operation *def = v.getDefiningOp();
    if (!programs->isProperAncestor(def))
      continue;
    if (def->getNumRegions() != 0)
      return true; // a value an inner region computes: assume it does
    for (Value operand : def->getOperands())
      work.push_back(operand);
  }
  return false;
}

struct AttnStageOutputInVPass
    : faopt::gpu::impl::AttnStageOutputInVBase<AttnStageOutputInVPass> {
  using AttnStageOutputInVBase::AttnStageOutputInVBase;
  void runOnOperation() override {
    func::FuncOp kernel = getOperation();
    SmallVector<scf::ForOp> programs;
    kernel.walk([&](scf::ForOp loop) {
      auto stages = loop->getAttrOfType<IntegerAttr>("attn.kv_stages");
      if (loop->hasAttr("attn.programs") && stages && stages.getInt() >= 3)
        programs.push_back(loop);
    });
    for (scf::ForOp loop : programs) {
      // The consumers' O store: the rank-2 tile into o (the fourth
      // argument); the copy thread's loop has none.
      SmallVector<TileStoreOp> stores;
      loop.getBody()->walk([&](TileStoreOp store) {
        if (store.getTile().getType().getRank() == 2 &&
            isKernelArgument(kernel, store.getDest(), 3) &&
            !store.getStagingSource())
          stores.push_back(store);
      });
      for (TileStoreOp store : stores) {
        scf::ForOp kvLoop;
        if (failed(stageInV(kernel, store, kvLoop)))
          return signalPassFailure();
        if (byCopyThread)
          kernel->setAttr("attn.output_by_copy_thread",
                          UnitAttr::get(kernel.getContext()));
        else if (deferReadWait &&
                 (!sameBlocksOnly ||
                  (!kernel->hasAttr("attn.early_q_release") && kvLoop &&
                   matchPattern(kvLoop.getLowerBound(), m_Constant()) &&
                   !dependsOnProgram(kvLoop.getUpperBound(), loop))))
          kernel->setAttr("attn.output_wait_at_next_q",
                          UnitAttr::get(kernel.getContext()));
      }
    }
  }

  /// Moves the release of the last P V's V stage, in the nearest guard
  /// before `store` in its block, onto the store; `kvLoop`: the nearest
  /// loop before that guard (the kv loop), if any.
  static LogicalResult stageInV(func::FuncOp kernel, TileStoreOp store,
                                scf::ForOp &kvLoop) {
    for (Operation *op = store->getPrevNode(); op; op = op->getPrevNode()) {
      auto guard = dyn_cast<scf::IfOp>(op);
      if (!guard)
        continue;
      TileReleaseOp release = finalVRelease(kernel, guard);
      if (!release)
        continue;
      for (Operation *prev = guard->getPrevNode(); prev && !kvLoop;
           prev = prev->getPrevNode())
        kvLoop = dyn_cast<scf::ForOp>(prev);
      store.getStagingSourceMutable().assign(release.getSource());
      store.getStagingStageMutable().assign(release.getStage());
      store.getStagingRoundMutable().assign(release.getRound());
      store.getStagingHeldMutable().assign(guard.getCondition());
      release.erase();
      return success();
    }
    return store.emitOpError()
           << "attn-stage-output-in-v: with three K/V stages the O tile is "
              "staged in the V stage of the program's last P V, but no "
              "guarded P V releasing V's stage precedes this store (run "
              "attn-overlap-softmax)";
  }
};

} // namespace
