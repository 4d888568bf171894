//===- HandOverListHeader.cpp - the copy thread loads a program's list head ==//
//
// In a kernel whose programs are handed out at run time (attn.next_program,
// attn-persistent-programs), the consumers learn their next program when
// its Q tile lands, and only then decode it and load the head of its
// kv-block list (the count, the first entries, a key-range flag): one more
// round trip to the L2 on their path into every program (docs/performance.md
// item 48), with 7.5 blocks a program for the benchmark's documents (item
// 55); item 56 has the measurement.
// The copy thread claims the same program ~2.7 µs before the consumers
// need it and already loads most of that head to issue its copies. This
// pass, after attn-warp-specialize, moves the consumers' loads to it:
//
//   copy thread:                          consumers:
//     %p = attn.next_program ... producer   %p = attn.next_program ...
//            publish_later                  scf.if %p < total {
//     (the consumers' header loads and        %n = attn.program_value of %t {index = 0}
//      the index math they need, cloned)      ... (was: memref.load %lists[...])
//     attn.publish_program %p for %t
//         below %total with %n, ...
//     scf.if %p < total { ... }
//
// attn.publish_program waits for Q's stage to be empty, so the loads run
// while the consumers still finish the previous program, and the values
// travel in shared memory with the Q fill, as the program index did.
// Exact: the clones compute the same values, from the program clamped to
// the last one (past the end they read a valid row, and nobody uses them).
// A load qualifies when it reads the lists argument directly in the
// consumers' program guard, before anything there with regions or a stage
// release, and its indices come from the program index, values both roles
// hold alike (arguments, grid sizes, constants) and other such loads by
// side-effect-free ops; at most 8.
//
//===----------------------------------------------------------------------===//
#include "compiler/targets/gpu/Passes.h"

#include "compiler/passes/BlockListsArgument.h"
#include "dialects/attn/AttnOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace faopt::gpu {
#define GEN_PASS_DEF_ATTNHANDOVERLISTHEADER
#include "compiler/targets/gpu/Passes.h.inc"
} // namespace faopt::gpu

using namespace mlir;
using namespace faopt::attn;

namespace {

/// One role's loop over handed-out programs.
struct ProgramLoop {
  scf::ForOp loop;
  NextProgramOp next;
  scf::IfOp guard;
};

std::optional<ProgramLoop> programLoop(scf::ForOp loop) {
  ProgramLoop r{loop, {}, {}};
  for (Operation &op : *loop.getBody()) {
    if (auto n = dyn_cast<NextProgramOp>(op))
      r.next = r.next ? NextProgramOp() : n;
    if (auto g = dyn_cast<scf::IfOp>(op); g && g->hasAttr("attn.program_guard"))
      r.guard = r.guard ? scf::IfOp() : g;
  }
  if (!r.next || !r.guard)
    return std::nullopt;
  return r;
}

struct AttnHandOverListHeaderPass
    : faopt::gpu::impl::AttnHandOverListHeaderBase<AttnHandOverListHeaderPass> {
  void runOnOperation() override {
    func::FuncOp kernel = getOperation();
    std::optional<unsigned> listsArg = faopt::blockListsArgument(kernel);
    if (!kernel->hasAttr("attn.kernel") || !listsArg)
      return;
    std::optional<ProgramLoop> producer, consumer;
    bool twice = false;
    kernel.walk([&](scf::ForOp loop) {
      if (!loop->hasAttr("attn.hand_out"))
        return;
      std::optional<ProgramLoop> p = programLoop(loop);
      if (!p)
        return;
      std::optional<ProgramLoop> &slot =
          p->next.getProducer() ? producer : consumer;
      twice |= slot.has_value();
      slot = p;
    });
    if (!producer || !consumer || twice || producer->next.getPublishLater())
      return;
    handOver(*producer, *consumer, kernel.getArgument(*listsArg));
  }

  void handOver(ProgramLoop &producer, ProgramLoop &consumer, Value lists) {
    Block *guarded = consumer.guard.thenBlock();
    // Values both roles hold alike, defined above both loops: the
    // function's and the grid's arguments, constants, and side-effect-free
    // ops of such values (the grid's sizes). Not attn.copy_producer's
    // result or anything else a role or a thread computes for itself: the
    // copy thread would publish its own value to every consumer.
    std::function<bool(Value, int)> shared = [&](Value v, int depth) -> bool {
      Region *r = v.getParentRegion();
      if (!r->isAncestor(&producer.loop.getRegion()) ||
          !r->isAncestor(&consumer.loop.getRegion()))
        return false;
      if (auto arg = dyn_cast<BlockArgument>(v)) {
        Operation *owner = arg.getOwner()->getParentOp();
        return isa<func::FuncOp, scf::ForallOp>(owner);
      }
      Operation *def = v.getDefiningOp();
      if (matchPattern(v, m_Constant()))
        return true;
      return depth < 16 && def->getNumRegions() == 0 &&
             def->getDialect() != consumer.next->getDialect() &&
             isMemoryEffectFree(def) &&
             llvm::all_of(def->getOperands(),
                          [&](Value o) { return shared(o, depth + 1); });
    };
    // The consumers' header: loads before anything with regions (the kv
    // loop, the key-range choice) or a stage release, so that every
    // attn.program_value reads its slot before the consumers let Q's stage,
    // and with it the slots, go (attn.publish_program rewrites them once
    // it is empty).
    SmallVector<Operation *> prologue;
    for (Operation &op : *guarded) {
      if (op.getNumRegions() != 0 || isa<TileReleaseOp>(op))
        break;
      prologue.push_back(&op);
    }
    // One sweep in program order: the ops computable from the program
    // index alone (side-effect-free ops of such values, and the chosen
    // loads), the loads chosen, at most 8.
    llvm::SmallPtrSet<Operation *, 32> computable;
    SmallVector<memref::LoadOp> loads;
    auto known = [&](Value v) {
      Operation *def = v.getDefiningOp();
      return v == consumer.next.getResult() || shared(v, 0) ||
             (def && computable.contains(def));
    };
    for (Operation *op : prologue) {
      auto load = dyn_cast<memref::LoadOp>(op);
      bool operandsKnown = llvm::all_of(op->getOperands(), known);
      if (load && load.getMemRef() == lists &&
          load.getType().isInteger(32) && loads.size() < 8 && operandsKnown) {
        computable.insert(op);
        loads.push_back(load);
      } else if (!load && isMemoryEffectFree(op) && operandsKnown) {
        computable.insert(op);
      }
    }
    if (loads.empty())
      return;
    // What the chosen loads need (constants are cloned where used).
    llvm::SmallPtrSet<Operation *, 32> needed;
    std::function<void(Value)> need = [&](Value v) {
      Operation *def = v.getDefiningOp();
      if (def && computable.contains(def) && !matchPattern(v, m_Constant()) &&
          needed.insert(def).second)
        llvm::for_each(def->getOperands(), need);
    };
    for (memref::LoadOp load : loads) {
      needed.insert(load);
      llvm::for_each(load.getIndices(), need);
    }

    // The copy thread: the same loads right after its claim, then the
    // publication (attn.publish_program waits for Q's stage). They run
    // outside its guard, so for the program clamped to the last one: the
    // values the consumers would compute for a valid program (in their
    // guard, min(p, total - 1) is p), so nothing the clones do is unsafe
    // where the consumers' ops were not; past the end nobody reads them.
    OpBuilder b(producer.next->getContext());
    Location loc = producer.next.getLoc();
    b.setInsertionPointAfter(producer.next);
    Value total = producer.next.getTotal();
    Value clamped = arith::MinSIOp::create(
        b, loc, producer.next.getResult(),
        arith::SubIOp::create(b, loc, total,
                              arith::ConstantIndexOp::create(b, loc, 1)));
    IRMapping map;
    map.map(consumer.next.getResult(), clamped);
    SmallVector<Operation *> ordered;
    for (Operation *op : prologue)
      if (needed.contains(op))
        ordered.push_back(op);
    for (Operation *op : ordered) {
      for (Value o : op->getOperands())
        if (!map.contains(o) && !shared(o, 0) && matchPattern(o, m_Constant()))
          map.map(o, b.clone(*o.getDefiningOp())->getResult(0));
      b.clone(*op, map);
    }
    SmallVector<Value> values;
    for (memref::LoadOp load : loads)
      values.push_back(map.lookup(load.getResult()));
    PublishProgramOp::create(b, loc, producer.next.getT(),
                             producer.next.getResult(), total, values);
    producer.next.setPublishLater(true);

    // The consumers read them instead.
    SmallVector<Operation *> math;
    for (Operation *op : ordered)
      if (!isa<memref::LoadOp>(op))
        math.push_back(op);
    for (auto [i, load] : llvm::enumerate(loads)) {
      b.setInsertionPoint(load);
      Value v = ProgramValueOp::create(b, load.getLoc(), b.getI32Type(),
                                       consumer.next.getT(),
                                       b.getI64IntegerAttr(i));
      load.getResult().replaceAllUsesWith(v);
      load.erase();
    }
    // Index math only the loads used.
    for (Operation *op : llvm::reverse(math))
      if (op->use_empty() && isMemoryEffectFree(op))
        op->erase();
  }
};

} // namespace
