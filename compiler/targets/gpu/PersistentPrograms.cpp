//===- PersistentPrograms.cpp - one CTA per SM runs many programs ---------===//
//
//   scf.forall (%p) in (%total) { body(%p) }                  {attn.grid}
// becomes
//   %workers = attn.workers
//   scf.forall (%w) in (%workers) {
//     last  = ceil(total / workers) - 1          // the last row
//     count = last + (snake(last, w) < total)    // only that row is partial
//     scf.for %t = 0 to count {
//       body(snake(%t, %w))
//     } {attn.programs}
//   } {attn.grid}
// with snake(t, w) = t * workers + (t odd ? workers - 1 - w : w).
//
// Why: a TMA kernel holds one CTA per SM (its shared memory), so with one
// program per CTA every program starts cold (Q and the first K/V from
// memory, nothing to overlap with) and ends with the tensor cores idle
// through the output store. Short kv loops (sliding windows, documents,
// block-sparse layouts, short sequences) pay that per 5-10 kv-blocks. A
// persistent CTA's copy thread instead loads the next program's tiles while
// the consumers finish the current one.
//
// Why the snake: attn-schedule-grid orders programs longest first, so in a
// plain stride (w, w + workers, ...) worker 0 would take the longest
// program of every row; alternating the direction pairs long with short.
//
// Kernels driven by run-time kv-block lists (hand-out, the default when
// they are made persistent) take their programs at run time instead:
//   scf.for %t = 0 to %total {attn.programs, attn.hand_out} {
//     %p = attn.next_program %t of %w workers %workers below %total counter %c
//     scf.if (%p < %total) { body(min(%p, %total - 1)) }
//     else { attn.no_more_programs }        // lowered to `break`
//   }
// with a new kernel argument %c (memref<1xi32> {attn.program_counter}) the
// runtime zeroes per launch: the snake balances only lengths known when
// compiling (its busiest SM ran 12% over the average on documents, item 47).
//
// Status: the default for every TMA kernel whose tiles fit. On the H200 it
// gains 3-5% on causal 8k and the window and 2-21% on 512-2k rows against
// the same build with one CTA per program (docs/performance.md items 34,
// 35); list-driven kernels, handed out, gain 3% (document ids), 7% (row
// starts) and 2-3% (block-sparse) since session 22's key-range fix and L2
// groups (item 53; before them they lost, item 48). faopt-compile
// --no-persistent and FAOPT_PERSISTENT=0 turn it off.
//
//===----------------------------------------------------------------------===//
#include "compiler/targets/gpu/Passes.h"

#include "compiler/passes/BlockListsArgument.h"
#include "compiler/targets/TargetDesc.h"
#include "compiler/targets/gpu/GridLoop.h"
#include "compiler/targets/gpu/IndexRanges.h"
#include "dialects/attn/AttnOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

namespace faopt::gpu {
#define GEN_PASS_DEF_ATTNPERSISTENTPROGRAMS
#include "compiler/targets/gpu/Passes.h.inc"
} // namespace faopt::gpu

using namespace mlir;
using namespace faopt::attn;

namespace {

/// Head dim (last, static dimension) of a kernel's memref argument; 0 if
/// there is none.
int64_t headDimOf(func::FuncOp fn, unsigned arg) {
  if (fn.getNumArguments() <= arg)
    return 0;
  auto t = dyn_cast<MemRefType>(fn.getArgument(arg).getType());
  return t && t.getRank() == 4 && !t.isDynamicDim(3) ? t.getDimSize(3) : 0;
}

/// The loop over workers that replaces `grid` (before it): a forall over
/// attn.workers with `grid`'s attributes; `total` is `grid`'s program count
/// and `worker` the new induction variable. `b` ends at the start of its
/// body.
struct Workers {
  scf::ForallOp loop;
  Value total, count, worker;
};
Workers perWorkerLoop(OpBuilder &b, scf::ForallOp grid) {
  Location loc = grid.getLoc();
  b.setInsertionPoint(grid);
  SmallVector<Value> ub = getValueOrCreateConstantIndexOp(
      b, loc, grid.getMixedUpperBound());
  // attn-schedule-grid may have asked for the workers already (its head
  // groups follow the snake's row pairs): one gridDim.x read serves both.
  Value workers;
  for (Operation &op : *grid->getBlock()) {
    if (&op == grid.getOperation())
      break;
    if (auto earlier = dyn_cast<WorkersOp>(op))
      workers = earlier;
  }
  if (!workers)
    workers = WorkersOp::create(b, loc);
  auto perWorker = scf::ForallOp::create(
      b, loc, ArrayRef<OpFoldResult>{workers}, ValueRange{}, std::nullopt);
  perWorker->setDiscardableAttrs(grid->getDiscardableAttrDictionary());
  b.setInsertionPointToStart(perWorker.getBody());
  return {perWorker, ub[0], workers, perWorker.getInductionVar(0)};
}

/// Moves `grid`'s body before `dest`'s terminator with `program` for its
/// program index, and erases `grid`.
void moveGridBody(scf::ForallOp grid, Block *dest, Value program) {
  Block *oldBody = grid.getBody();
  dest->getOperations().splice(std::prev(dest->end()), oldBody->getOperations(),
                               oldBody->begin(), std::prev(oldBody->end()));
  oldBody->getArgument(0).replaceAllUsesWith(program);
  grid.erase();
}

/// The hand-out form (see the pass description): `grid`'s body runs under
/// `scf.if %p < %total` in a loop over t whose programs come from
/// attn.next_program and a new counter argument of `fn`.
LogicalResult handOutPrograms(func::FuncOp fn, scf::ForallOp grid,
                              int64_t stagesOfQ, int64_t stagesOfKv) {
  MLIRContext *ctx = fn.getContext();
  Location loc = grid.getLoc();
  OpBuilder b(grid);
  // The counter: one int32 per launch, after the other arguments.
  unsigned at = fn.getNumArguments();
  auto counterType = MemRefType::get({1}, b.getI32Type());
  if (failed(fn.insertArgument(at, counterType,
                               b.getDictionaryAttr(b.getNamedAttr(
                                   "attn.program_counter", b.getUnitAttr())),
                               loc))) {
    return fn.emitError() << "attn-persistent-programs: could not add the "
                             "program counter argument";
  }
  Value counter = fn.getArgument(at);
  Workers loop = perWorkerLoop(b, grid);
  Value total = loop.total, workers = loop.count, w = loop.worker;
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  // At most `total` programs per worker; the loop stops at the first t
  // past the end (attn.no_more_programs).
  auto programs = scf::ForOp::create(b, loc, zero, total, one);
  programs->setAttr("attn.programs", UnitAttr::get(ctx));
  programs->setAttr("attn.hand_out", UnitAttr::get(ctx));
  if (stagesOfQ == 2)
    programs->setAttr("attn.q_stages", b.getI64IntegerAttr(2));
  if (stagesOfKv == 3)
    programs->setAttr("attn.kv_stages", b.getI64IntegerAttr(3));
  b.setInsertionPointToStart(programs.getBody());
  Value p = NextProgramOp::create(b, loc, programs.getInductionVar(), w,
                                  workers, total, counter, /*producer=*/false);
  Value inRange =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, p, total);
  auto guard = scf::IfOp::create(b, loc, TypeRange{}, inRange,
                                 /*withElseRegion=*/true);
  guard->setAttr("attn.program_guard", UnitAttr::get(ctx));
  OpBuilder eb = guard.getElseBodyBuilder();
  NoMoreProgramsOp::create(eb, loc);
  OpBuilder tb = guard.getThenBodyBuilder();
  // Below `total` here, so below 2^31 - 1: min with total - 1 changes
  // nothing and gives the index math its range (the op's own result may
  // run past the end).
  Value last = arith::SubIOp::create(tb, loc, total, one);
  Value inside = arith::MinSIOp::create(tb, loc, p, last);
  faopt::gpu::stateRange(inside, 0, INT32_MAX - 1);
  moveGridBody(grid, guard.thenBlock(), inside);
  return success();
}

struct AttnPersistentProgramsPass
    : faopt::gpu::impl::AttnPersistentProgramsBase<AttnPersistentProgramsPass> {
  using AttnPersistentProgramsBase::AttnPersistentProgramsBase;

  LogicalResult initialize(MLIRContext *context) override {
    if (qStages != faopt::kQStagesAuto && qStages != 1 && qStages != 2)
      return emitError(UnknownLoc::get(context))
             << "attn-persistent-programs: q-stages must be 0 (auto), 1 or "
                "2, not "
             << static_cast<int64_t>(qStages);
    if (kvStages != faopt::kKvStagesAuto && kvStages != 2 && kvStages != 3)
      return emitError(UnknownLoc::get(context))
             << "attn-persistent-programs: kv-stages must be 0 (auto), 2 or "
                "3, not "
             << static_cast<int64_t>(kvStages);
    return success();
  }

  void runOnOperation() override {
    func::FuncOp fn = getOperation();
    auto tiling = fn->getAttrOfType<TilingAttr>("attn.tiling");
    if (!fn->hasAttr("attn.kernel") || !tiling || tiling.getCopy() != "tma")
      return;
    const bool lists = faopt::blockListsArgument(fn).has_value();
    if (lists && !listKernels)
      return;
    const bool handOutHere = lists && handOut;
    // Room for the O staging region next to the tiles (q, k, v are the
    // first three arguments of attn-tile's kernels).
    int64_t dQK = headDimOf(fn, 0), dV = headDimOf(fn, 2);
    auto q = fn.getNumArguments() ? dyn_cast<MemRefType>(fn.getArgument(0).getType())
                                  : nullptr;
    if (!q || !dQK || !dV)
      return;
    // The tiles, O staging, pipe and (handed out) the program slots: the
    // test faopt::persistentFits makes for --explain and the drop's auto.
    auto fitsWith = [&](int64_t stagesOfQ, int64_t stagesOfKv) {
      return faopt::persistentTilesFit(
          tiling.getBlockQ(), tiling.getBlockKv(), dQK, dV,
          q.getElementTypeBitWidth() / 8, stagesOfKv, stagesOfQ,
          handOutHere, sharedMemoryBytes);
    };
    if (!fitsWith(1, tiling.getStages()))
      return;
    // A second Q tile only where it fits too.
    const int64_t stagesOfQ =
        faopt::qStagesFor(qStages, handOutHere) == 2 &&
                fitsWith(2, tiling.getStages())
            ? 2
            : 1;
    // A third K/V stage (O then staged in V's) where it fits with the Q
    // tiles: recorded for attn-pipeline-kv-loads and the plan.
    const int64_t stagesOfKv =
        tiling.getStages() == 2 &&
                faopt::kvStagesFor(kvStages, handOutHere) == 3 &&
                faopt::thirdKvStageFits(
                    tiling.getBlockQ(), tiling.getBlockKv(), dQK, dV,
                    q.getElementTypeBitWidth() / 8, stagesOfQ, handOutHere,
                    sharedMemoryBytes)
            ? 3
            : tiling.getStages();
    scf::ForallOp grid = faopt::gpu::gridLoop(fn);
    if (!grid) {
      fn.emitError() << "attn-persistent-programs: the kernel has no attn.grid "
                        "scf.forall";
      return signalPassFailure();
    }
    bool done = false;
    grid.getBody()->walk([&](scf::ForOp loop) {
      done |= loop->hasAttr("attn.programs");
    });
    if (done)
      return;
    if (grid.getRank() != 1 || !grid.isNormalized() ||
        !grid.getOutputs().empty()) {
      grid.emitError() << "attn-persistent-programs: expected one linear "
                          "program index from 0 (run attn-schedule-grid)";
      return signalPassFailure();
    }

    if (handOutHere) {
      if (failed(handOutPrograms(fn, grid, stagesOfQ, stagesOfKv)))
        signalPassFailure();
      return;
    }
    Location loc = grid.getLoc();
    OpBuilder b(grid);
    Workers loop = perWorkerLoop(b, grid);
    Value total = loop.total, workers = loop.count, w = loop.worker;

    // One op per statement (argument evaluation order is unspecified in
    // C++, and the lit test should not depend on the host compiler).
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    Value two = arith::ConstantIndexOp::create(b, loc, 2);
    Value lastWorker = arith::SubIOp::create(b, loc, workers, one);
    Value mirrored = arith::SubIOp::create(b, loc, lastWorker, w);
    auto snake = [&](OpBuilder &sb, Value row) -> Value {
      Value first = arith::MulIOp::create(sb, loc, row, workers);
      Value parity = arith::RemUIOp::create(sb, loc, row, two);
      Value odd = arith::CmpIOp::create(sb, loc, arith::CmpIPredicate::ne,
                                        parity, zero);
      Value at = arith::SelectOp::create(sb, loc, odd, mirrored, w);
      return arith::AddIOp::create(sb, loc, first, at);
    };
    Value rows = arith::CeilDivUIOp::create(b, loc, total, workers);
    Value lastRow = arith::SubIOp::create(b, loc, rows, one);
    Value lastProgram = snake(b, lastRow);
    Value lastTaken = arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::ult, lastProgram, total);
    Value extra = arith::SelectOp::create(b, loc, lastTaken, one, zero);
    Value count = arith::AddIOp::create(b, loc, lastRow, extra);
    auto programs = scf::ForOp::create(b, loc, zero, count, one);
    programs->setAttr("attn.programs", b.getUnitAttr());
    if (stagesOfQ == 2)
      programs->setAttr("attn.q_stages", b.getI64IntegerAttr(2));
    if (stagesOfKv == 3)
      programs->setAttr("attn.kv_stages", b.getI64IntegerAttr(3));

    b.setInsertionPointToStart(programs.getBody());
    Value p = snake(b, programs.getInductionVar());
    // A program index (below the program count: at most 2^31 - 1).
    faopt::gpu::stateRange(p, 0, INT32_MAX - 1);
    moveGridBody(grid, programs.getBody(), p);
  }
};

} // namespace
