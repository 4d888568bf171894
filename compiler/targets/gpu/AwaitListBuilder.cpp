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
// read of the lists, or of the program counter where the builder zeroes it
// (attn.reset_by_builder, attn-builder-resets-counter):
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

/// The kernel arguments the list builder writes: the lists
/// (attn.block_lists) and, where attn-builder-resets-counter made the
/// builder zero it, the program counter (attn.reset_by_builder).
SmallVector<Value, 2> builderOutputs(func::FuncOp fn) {
  SmallVector<Value, 2> outputs;
  for (BlockArgument arg : fn.getArguments())
    if (fn.getArgAttr(arg.getArgNumber(), "attn.block_lists") ||
        fn.getArgAttr(arg.getArgNumber(), "attn.reset_by_builder"))
      outputs.push_back(arg);
  return outputs;
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
    SmallVector<Value, 2> outputs = builderOutputs(fn);
    if (outputs.empty())
      return;
    scf::ForallOp grid = faopt::gpu::gridLoop(fn);
    if (!grid) {
      fn.emitError() << "attn-await-list-builder: the kernel reads block "
                        "lists but has no attn.grid scf.forall";
      return signalPassFailure();
    }
    // Every read of the lists (or the counter) must come after a wait in
    // its role.
    for (Value output : outputs)
      for (Operation *user : output.getUsers())
        if (!grid->isProperAncestor(user)) {
          user->emitError() << "attn-await-list-builder: reads what the list "
                               "builder writes outside the attn.grid loop";
          return signalPassFailure();
        }
    for (Region *role : roleRegions(grid)) {
      if (role->empty())
        continue;
      Operation *first = nullptr;
      role->walk<WalkOrder::PreOrder>([&](Operation *op) {
        if (llvm::any_of(op->getOperands(), [&](Value v) {
              return llvm::is_contained(outputs, v);
            })) {
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
