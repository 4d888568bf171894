//===- AwaitListBuilder.cpp - wait for the list builder late, not at launch ===//
//
// A kernel whose mask reads tensors gets its kv-block lists from a list
// builder launched just before it. With programmatic dependent launch
// (sm90a; the runtime asks for it when the manifest says
// "dependent_launch") the kernel's CTAs start while the builder still
// runs, and each thread must wait for the builder (attn.await_list_builder,
// PTX griddepcontrol.wait) before it reads the lists. This pass places that
// wait as late as it can go: in each role of the grid body (the TMA copy
// thread and the consumers of attn-warp-specialize, or the whole body
// without one), right before the outermost op that holds the role's first
// read of the lists:
//
//   scf.forall (%p) in (%n) {
//     scf.if %producer {
//       <index math>; attn.tile_prefetch %q ...     // overlaps the builder
//       attn.await_list_builder
//       %count = memref.load %lists[...]
//       ...
//     } else {
//       <index math>
//       attn.await_list_builder
//       %count = memref.load %lists[...]
//       ...
// so barrier setup, the program's index math and the copy thread's first
// Q copy overlap the builder's last CTAs and the launch in between.
//
//===----------------------------------------------------------------------===//
#include "compiler/targets/gpu/Passes.h"

#include "compiler/targets/gpu/GridLoop.h"
#include "dialects/attn/AttnOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

namespace faopt::gpu {
#define GEN_PASS_DEF_ATTNAWAITLISTBUILDER
#include "compiler/targets/gpu/Passes.h.inc"
} // namespace faopt::gpu

using namespace mlir;
using namespace faopt::attn;

namespace {

/// The kernel argument the list builder writes (attn.block_lists), if any.
Value listsArgument(func::FuncOp fn) {
  for (BlockArgument arg : fn.getArguments())
    if (fn.getArgAttr(arg.getArgNumber(), "attn.block_lists"))
      return arg;
  return nullptr;
}

/// The role regions of a grid body: the two branches of the scf.if on
/// attn.copy_producer when the body has one, else the body itself.
SmallVector<Region *> roleRegions(scf::ForallOp grid) {
  for (Operation &op : grid.getBody()->without_terminator())
    if (auto branch = dyn_cast<scf::IfOp>(op))
      if (branch.getCondition().getDefiningOp<CopyProducerOp>())
        return {&branch.getThenRegion(), &branch.getElseRegion()};
  return {&grid.getRegion()};
}

struct AttnAwaitListBuilderPass
    : faopt::gpu::impl::AttnAwaitListBuilderBase<AttnAwaitListBuilderPass> {
  void runOnOperation() override {
    func::FuncOp fn = getOperation();
    if (!fn->hasAttr("attn.kernel"))
      return;
    Value lists = listsArgument(fn);
    if (!lists)
      return;
    scf::ForallOp grid = faopt::gpu::gridLoop(fn);
    if (!grid) {
      fn.emitError() << "attn-await-list-builder: the kernel reads block "
                        "lists but has no attn.grid scf.forall";
      return signalPassFailure();
    }
    // Every read of the lists must come after a wait in its role.
    for (Operation *user : lists.getUsers())
      if (!grid->isProperAncestor(user)) {
        user->emitError() << "attn-await-list-builder: reads the block lists "
                             "outside the attn.grid loop";
        return signalPassFailure();
      }
    for (Region *role : roleRegions(grid)) {
      if (role->empty())
        continue;
      Operation *first = nullptr;
      role->walk<WalkOrder::PreOrder>([&](Operation *op) {
        if (llvm::is_contained(op->getOperands(), lists)) {
          first = op;
          return WalkResult::interrupt();
        }
        return WalkResult::advance();
      });
      if (!first)
        continue;
      Operation *at = role->front().findAncestorOpInBlock(*first);
      OpBuilder b(at);
      AwaitListBuilderOp::create(b, at->getLoc());
    }
  }
};

} // namespace
