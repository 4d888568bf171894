//===- PipelineKvLoads.cpp - prefetch the next kv-block's tiles -----------===//
//
//   scf.for %kb = %lo to %hi {
//     ... scf.if %any { %k = attn.tile_load %K[b, h, %kb * BK] ... }
//   }
// becomes
//   attn.tile_prefetch %K[b, h, %lo * BK] ... stage 0        // prologue
//   scf.for %kb = %lo to %hi {
//     %stage = (%kb - %lo) mod 2 ; %round = (%kb - %lo) / 2
//     %ahead = %kb + 1 < %hi
//     scf.if %ahead { attn.tile_prefetch %K[b, h, (%kb + 1) * BK]
//                       stage 1 - %stage round (%kb + 1 - %lo) / 2 }
//     ... scf.if %any { %k = attn.tile_wait %K[b, h, %kb * BK]
//                         stage %stage round %round ahead %ahead }
//     (attn.tile_release %K stage %stage round %round after the last use
//      of %k, and in the guard's other branch)
//   }
//
// Every tile load in the loop whose row is %kb * BK and whose other operands
// are defined outside the loop is pipelined. %kb may also be computed from
// the induction variable (an entry of a block list, attn-block-lists): the
// prefetch then recomputes it for the next iteration from entries read one
// iteration earlier. Memory reads in that computation become loop-carried
// values (this iteration's and the next one's), and each iteration reads the
// entries two ahead (at min(%kb + 2, %hi - 1), always a valid iteration), so
// no read sits between the loop head and the prefetch that needs it. The
// GPU lowering gives each source two shared-memory stages (three, numbered
// modulo 3, where the loop over programs has attn.kv_stages = 3). A tile loaded
// before the loop and used only in it (Q) is prefetched where it was loaded
// and waited for just before the loop, so the kv-range computation hides
// its latency. Each pipelined source's stage is released after the last use
// of its tile, and on the other branch of every guard around it, so every
// fill is consumed exactly once: copies that signal per-stage barriers
// (TMA) refill a stage only after that.
//
//===----------------------------------------------------------------------===//
#include "compiler/targets/gpu/Passes.h"

#include "dialects/attn/AttnOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include <functional>

namespace faopt::gpu {
#define GEN_PASS_DEF_ATTNPIPELINEKVLOADS
#include "compiler/targets/gpu/Passes.h.inc"
} // namespace faopt::gpu

using namespace mlir;
using namespace faopt::attn;

namespace {

/// The ops computing a kv-block index from the induction variable: empty
/// for the variable itself; else arith ops and memref loads (a block list)
/// whose operands are the variable, values from outside the loop, or each
/// other. Null when the index is computed any other way.
std::optional<SmallVector<Operation *>> blockIndexOps(scf::ForOp loop,
                                                      Value index) {
  Value iv = loop.getInductionVar();
  SmallVector<Operation *> ops;
  llvm::SmallPtrSet<Operation *, 8> seen;
  std::function<bool(Value)> visit = [&](Value v) -> bool {
    if (v == iv || !loop.getRegion().isAncestor(v.getParentRegion()))
      return true;
    Operation *def = v.getDefiningOp();
    if (!def || def->getBlock() != loop.getBody() ||
        (!isa<arith::ArithDialect>(def->getDialect()) &&
         !isa<memref::LoadOp>(def)) ||
        def->getNumRegions() != 0)
      return false;
    if (!seen.insert(def).second)
      return true;
    for (Value operand : def->getOperands())
      if (!visit(operand))
        return false;
    ops.push_back(def); // operands first: a valid clone order
    return true;
  };
  if (!visit(index))
    return std::nullopt;
  return ops;
}

/// The block index of iteration `at` instead of the current one; `m` may
/// map loop-carried values (list entries) to their values at `at`.
Value blockIndexAt(OpBuilder &b, scf::ForOp loop, Value index,
                   ArrayRef<Operation *> ops, Value at, IRMapping m = {}) {
  m.map(loop.getInductionVar(), at);
  for (Operation *op : ops)
    b.clone(*op, m);
  return m.lookupOrDefault(index);
}

/// The memory reads among `ops` and, in clone order, the ops they need.
SmallVector<Operation *> readCone(ArrayRef<Operation *> ops,
                                  SmallVector<memref::LoadOp> &reads) {
  llvm::SmallPtrSet<Operation *, 8> needed;
  for (Operation *op : llvm::reverse(ops)) {
    if (auto read = dyn_cast<memref::LoadOp>(op)) {
      reads.insert(reads.begin(), read);
      needed.insert(op);
    }
    if (!needed.contains(op))
      continue;
    for (Value operand : op->getOperands())
      if (Operation *def = operand.getDefiningOp())
        if (llvm::is_contained(ops, def))
          needed.insert(def);
  }
  SmallVector<Operation *> cone;
  for (Operation *op : ops)
    if (needed.contains(op))
      cone.push_back(op);
  return cone;
}

/// Tile loads of `loop` that read row (block index) * c, with everything
/// else defined outside the loop; `index` receives the block index and
/// `indexOps` the ops computing it (all loads share them).
SmallVector<TileLoadOp> pipelinableLoads(scf::ForOp loop, int64_t &blockKv,
                                         Value &index,
                                         SmallVector<Operation *> &indexOps) {
  SmallVector<TileLoadOp> loads;
  blockKv = 0;
  index = Value();
  loop.getBody()->walk([&](TileLoadOp load) {
    auto mul = load.getRow().getDefiningOp<arith::MulIOp>();
    APInt c;
    if (!mul || !matchPattern(mul.getRhs(), m_ConstantInt(&c)))
      return;
    if (index && mul.getLhs() != index)
      return;
    for (Value v : {Value(load.getSource()), Value(load.getBatch()),
                    Value(load.getHead()), Value(load.getBound())})

      if (!v.getParentRegion()->isProperAncestor(&loop.getRegion()))
        return;
    if (blockKv && blockKv != c.getSExtValue())
      return;
    if (!index) {
      std::optional<SmallVector<Operation *>> ops =
          blockIndexOps(loop, mul.getLhs());
      if (!ops)
        return;
      index = mul.getLhs();
      indexOps = std::move(*ops);
    }
    blockKv = c.getSExtValue();
    loads.push_back(load);
  });
  return loads;
}

struct AttnPipelineKvLoadsPass
    : faopt::gpu::impl::AttnPipelineKvLoadsBase<AttnPipelineKvLoadsPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    auto tiling = func->getAttrOfType<TilingAttr>("attn.tiling");
    if (!tiling || tiling.getStages() < 2)
      return;
    // A persistent kernel's loop over programs (attn-persistent-programs)
    // is not a kv loop: it carries the fill count of the kv loops in it.
    SmallVector<scf::ForOp> loops;
    func.walk([&](scf::ForOp loop) {
      if (!loop->hasAttr("attn.programs"))
        loops.push_back(loop);
    });
    for (scf::ForOp loop : loops) {
      int64_t blockKv = 0;
      Value index;
      SmallVector<Operation *> indexOps;
      SmallVector<TileLoadOp> loads =
          pipelinableLoads(loop, blockKv, index, indexOps);
      if (!loads.empty() &&
          failed(pipeline(loop, loads, blockKv, index, indexOps)))
        return signalPassFailure();
    }
  }

  /// Rebuilds the program guard `guard` (no results) with one: `after` where
  /// the program runs, `before` where it does not. Returns that result.
  static Value countThroughGuard(scf::IfOp guard, Value after, Value before) {
    OpBuilder b(guard);
    auto counted = scf::IfOp::create(b, guard.getLoc(), TypeRange{after.getType()},
                                     guard.getCondition(), /*withElseRegion=*/true);
    counted->setAttrs(guard->getAttrs());
    counted.getThenRegion().takeBody(guard.getThenRegion());
    counted.getElseRegion().takeBody(guard.getElseRegion());
    counted.thenYield()->setOperands(ValueRange{after});
    counted.elseYield()->setOperands(ValueRange{before});
    guard.erase();
    return counted.getResult(0);
  }

  /// In a persistent kernel, the worker's loop over programs around `loop`
  /// gets an iter_arg counting the kv loop's iterations so far, which is
  /// returned: each fill of a stage is numbered across programs, so the
  /// stages' barrier phases carry on from one program to the next. Null
  /// without a program loop; failure where the kv loop is not directly in
  /// it, or a second one is.
  FailureOr<Value> fillsBefore(scf::ForOp loop, scf::ForOp &programs) {
    programs = nullptr;
    for (Operation *p = loop->getParentOp(); p; p = p->getParentOp())
      if (auto f = dyn_cast<scf::ForOp>(p); f && f->hasAttr("attn.programs"))
        programs = f;
    if (!programs)
      return Value();
    // A loop over programs handed out at run time runs its body under
    // `scf.if {attn.program_guard}` (attn-persistent-programs): the count
    // goes through that branch (unchanged where it is not taken).
    auto guard = dyn_cast<scf::IfOp>(loop->getParentOp());
    if (guard && (!guard->hasAttr("attn.program_guard") ||
                  guard->getParentOp() != programs.getOperation() ||
                  guard->getNumResults() != 0))
      guard = nullptr;
    if ((!guard && loop->getParentOp() != programs.getOperation()) ||
        programs->hasAttr("attn.kv_fills"))
      return loop.emitError()
             << "attn-pipeline-kv-loads: a persistent kernel's kv loop must "
                "be the only one, directly in the loop over programs "
                "(attn.programs) or in its program guard";
    Location loc = loop.getLoc();
    Value lo = loop.getLowerBound(), hi = loop.getUpperBound();
    OpBuilder b(programs);
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    IRRewriter rewriter(loop.getContext());
    // The count after this program is computed before the kv loop, so only
    // it (not the count, lo and hi) stays live through the loop: the
    // consumers' loop runs at the edge of the register file.
    FailureOr<LoopLikeOpInterface> rebuilt = programs.replaceWithAdditionalYields(
        rewriter, zero, /*replaceInitOperandUsesInLoop=*/false,
        [&](OpBuilder &, Location, ArrayRef<BlockArgument> args) {
          OpBuilder pb(loop);
          Value trips = arith::SubIOp::create(pb, loc, hi, lo);
          Value none = arith::ConstantIndexOp::create(pb, loc, 0);
          Value done = arith::MaxSIOp::create(pb, loc, trips, none);
          Value after = arith::AddIOp::create(pb, loc, args.front(), done);
          if (!guard)
            return SmallVector<Value>{after};
          return SmallVector<Value>{
              countThroughGuard(guard, after, args.front())};
        });
    if (failed(rebuilt))
      return loop.emitError() << "attn-pipeline-kv-loads: could not carry "
                                 "the fill count over programs";
    programs = cast<scf::ForOp>(rebuilt->getOperation());
    programs->setAttr("attn.kv_fills", rewriter.getUnitAttr());
    return Value(programs.getRegionIterArgs().back());
  }

  /// Rebuilds `loop` with two iter_args per read: its value at this
  /// iteration (replacing the read) and at the next one. The entry values
  /// are read before the loop at lo and at min(lo + 1, hi - 1) (raised to
  /// lo); each iteration reads the one after next at min(iv + 2, hi - 1).
  /// `nextReads` maps each read's carried value to its next-iteration value,
  /// `atLo` to the value read before the loop (for the prologue).
  /// The reads leave `indexOps`; `blockIndex` follows a read it was.
  scf::ForOp carryReads(scf::ForOp loop, ArrayRef<memref::LoadOp> reads,
                        ArrayRef<Operation *> cone, Value lo, Value hi,
                        SmallVector<Operation *> &indexOps, Value &blockIndex,
                        IRMapping &atLo, IRMapping &nextReads) {
    Location loc = loop.getLoc();
    OpBuilder b(loop);
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    Value last = arith::SubIOp::create(b, loc, hi, one);
    // An iteration index clamped to [lo, hi - 1] (lo when the loop is empty:
    // the prologue reads there already).
    auto clampToLoop = [&](OpBuilder &ob, Value at) -> Value {
      return arith::MaxSIOp::create(ob, loc,
                                    arith::MinSIOp::create(ob, loc, at, last),
                                    lo);
    };
    auto readsAt = [&](OpBuilder &ob, Value at) {
      IRMapping m;
      m.map(loop.getInductionVar(), at);
      for (Operation *op : cone)
        ob.clone(*op, m);
      SmallVector<Value> values;
      for (memref::LoadOp read : reads)
        values.push_back(m.lookup(read.getResult()));
      return values;
    };
    SmallVector<Value> inits = readsAt(b, lo);
    llvm::append_range(
        inits, readsAt(b, clampToLoop(b, arith::AddIOp::create(b, loc, lo, one))));

    IRRewriter rewriter(loop.getContext());
    size_t n = reads.size();
    FailureOr<LoopLikeOpInterface> rebuilt = loop.replaceWithAdditionalYields(
        rewriter, inits, /*replaceInitOperandUsesInLoop=*/false,
        [&](OpBuilder &yb, Location, ArrayRef<BlockArgument> args) {
          // The reads two iterations ahead go first in the body, so their
          // latency hides behind this iteration's work.
          yb.setInsertionPointToStart(args.front().getOwner());
          Value two = arith::ConstantIndexOp::create(yb, loc, 2);
          Value iv = args.front().getOwner()->getArgument(0);
          SmallVector<Value> yields(args.begin() + n, args.end());
          llvm::append_range(
              yields, readsAt(yb, clampToLoop(
                                      yb, arith::AddIOp::create(yb, loc, iv, two))));
          return yields;
        });
    if (failed(rebuilt)) // the reads stay in the loop; the prefetch re-reads
      return loop;
    auto newLoop = cast<scf::ForOp>(rebuilt->getOperation());
    ArrayRef<BlockArgument> args = newLoop.getRegionIterArgs().take_back(2 * n);
    for (auto [i, constRead] : llvm::enumerate(reads)) {
      memref::LoadOp read = constRead;
      if (blockIndex == read.getResult())
        blockIndex = args[i];
      read.getResult().replaceAllUsesWith(args[i]);
      nextReads.map(args[i], args[n + i]);
      atLo.map(args[i], inits[i]);
      indexOps.erase(llvm::find(indexOps, read.getOperation()));
      read.erase();
    }
    // What only computed the read positions (the slot) is dead now.
    for (Operation *op : llvm::reverse(cone))
      if (llvm::is_contained(indexOps, op) && op->use_empty()) {
        indexOps.erase(llvm::find(indexOps, op));
        op->erase();
      }
    return newLoop;
  }

  LogicalResult pipeline(scf::ForOp loop, ArrayRef<TileLoadOp> loads,
                         int64_t blockKv, Value blockIndex,
                         SmallVector<Operation *> indexOps) {
    Location loc = loop.getLoc();
    scf::ForOp programs;
    FailureOr<Value> base = fillsBefore(loop, programs);
    if (failed(base))
      return failure();
    OpBuilder b(loop);
    auto index = [&](OpBuilder &ob, int64_t v) -> Value {
      return arith::ConstantIndexOp::create(ob, loc, v);
    };
    auto prefetch = [&](OpBuilder &ob, TileLoadOp load, Value row,
                        Value stage, Value round) {
      TilePrefetchOp::create(ob, loc, load.getSource(), load.getBatch(),
                             load.getHead(), row, load.getBound(), stage, round,
                             TypeAttr::get(load.getTile().getType()));
    };
    Value lo = loop.getLowerBound(), hi = loop.getUpperBound();
    // Memory reads in the block index (list entries) become loop-carried
    // values, read an iteration ahead of the prefetch that needs them.
    SmallVector<memref::LoadOp> reads;
    SmallVector<Operation *> cone = readCone(indexOps, reads);
    IRMapping atLo, nextReads;
    if (!reads.empty())
      loop = carryReads(loop, reads, cone, lo, hi, indexOps, blockIndex, atLo,
                        nextReads);

    // Prologue: the first block into stage 0 (a block past the end of the
    // sequence is zero-filled without reading memory).
    b.setInsertionPoint(loop);
    Value bk = index(b, blockKv);
    Value firstRow = arith::MulIOp::create(
        b, loc, blockIndexAt(b, loop, blockIndex, indexOps, lo, atLo), bk);
    Value zero = index(b, 0);
    Value firstStage = zero, firstRound = zero;
    OpBuilder pb = b;
    // Two stages, or three where attn-persistent-programs asked for them.
    int64_t stageCount = 2;
    if (programs)
      if (auto kv = programs->getAttrOfType<IntegerAttr>("attn.kv_stages"))
        stageCount = kv.getInt();
    if (*base) {
      Value stages = index(b, stageCount);
      firstStage = arith::RemUIOp::create(b, loc, *base, stages);
      firstRound = arith::DivUIOp::create(b, loc, *base, stages);
      // Only a loop that runs consumes (and releases) its first fill; the
      // count carried to the next program assumes exactly that.
      Value runs =
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, lo, hi);
      auto ifRuns = scf::IfOp::create(b, loc, runs, /*withElseRegion=*/false);
      pb = ifRuns.getThenBodyBuilder();
    }
    for (TileLoadOp load : loads)
      prefetch(pb, load, firstRow, firstStage, firstRound);

    // Fills of earlier programs first: iteration iv is fill iv + (base - lo)
    // (one loop-invariant value instead of two).
    Value shift;
    if (*base && stageCount == 2)
      shift = arith::SubIOp::create(b, loc, *base, lo);
    // In the loop: this iteration's stage, and the next block's prefetch.
    b.setInsertionPointToStart(loop.getBody());
    Value iv = loop.getInductionVar();
    Value one = index(b, 1), stages = index(b, stageCount);
    // Two stages: fill = iv + (base - lo), stage fill mod 2 (a bit), round
    // fill / 2. Three: fill = 3 * firstRound + firstStage + (iv - lo), so
    // stage and round divide only `local` = firstStage + iv - lo, below the
    // kv-block count + 2: 32-bit division by 3 instead of 64-bit (which
    // cost the window and chunk kernels 128 bytes of spills).
    Value fromLo, local;
    if (stageCount == 2) {
      fromLo = shift ? arith::AddIOp::create(b, loc, iv, shift).getResult()
                     : arith::SubIOp::create(b, loc, iv, lo).getResult();
    } else {
      local = arith::AddIOp::create(
          b, loc, arith::SubIOp::create(b, loc, iv, lo), firstStage);
    }
    auto stageOf = [&](OpBuilder &ob, Value n) -> Value {
      return arith::RemUIOp::create(ob, loc, n, stages);
    };
    auto roundOf = [&](OpBuilder &ob, Value n) -> Value {
      Value q = arith::DivUIOp::create(ob, loc, n, stages);
      return local ? arith::AddIOp::create(ob, loc, firstRound, q).getResult()
                   : q;
    };
    Value counted = local ? local : fromLo;
    Value stage = stageOf(b, counted);
    Value round = roundOf(b, counted);
    Value next = arith::AddIOp::create(b, loc, iv, one);
    Value ahead =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, next, hi);
    // The next fill's stage: the other one of two, else (fill + 1) mod 3.
    Value nextStage =
        stageCount == 2
            ? arith::SubIOp::create(b, loc, one, stage).getResult()
            : stageOf(b, arith::AddIOp::create(b, loc, counted, one));
    auto ifAhead = scf::IfOp::create(b, loc, ahead, /*withElseRegion=*/false);
    {
      OpBuilder ib = ifAhead.getThenBodyBuilder();
      Value nextRow = arith::MulIOp::create(
          ib, loc,
          blockIndexAt(ib, loop, blockIndex, indexOps, next, nextReads), bk);
      Value nextRound =
          roundOf(ib, arith::AddIOp::create(ib, loc, counted, one));
      for (TileLoadOp load : loads)
        prefetch(ib, load, nextRow, nextStage, nextRound);
    }
    // Loads before the loop whose tile is only used inside it (the Q tile)
    // become a prefetch where they were and a wait just before the loop, so
    // the kv-range computation runs while they land.
    Value always;
    for (Operation *op = loop->getPrevNode(); op; op = op->getPrevNode()) {
      auto early = dyn_cast<TileLoadOp>(op);
      if (!early || early.getTile().getType().getRank() != 2 ||
          !llvm::all_of(early.getTile().getUsers(), [&](Operation *user) {
            return loop->isAncestor(user);
          }))
        continue;
      // One stage; in a persistent kernel its fill is the program's number
      // on this worker, and it is released after the kv loop, so the next
      // program's tile lands while this one finishes. With two Q tiles
      // (attn.q_stages = 2, attn-persistent-programs) program t uses tile
      // t mod 2, fill t / 2: the copy thread issues the next program's Q
      // once it has issued this one's last K / V, without waiting for the
      // consumers to release this one's Q.
      OpBuilder eb(early);
      Value qStage, qRound;
      auto qStages = programs
                         ? programs->getAttrOfType<IntegerAttr>("attn.q_stages")
                         : IntegerAttr();
      if (qStages && qStages.getInt() == 2) {
        Value two = index(eb, 2);
        qStage = arith::RemUIOp::create(eb, loc, programs.getInductionVar(), two);
        qRound = arith::DivUIOp::create(eb, loc, programs.getInductionVar(), two);
      } else {
        qStage = index(eb, 0);
        qRound = programs ? Value(programs.getInductionVar()) : qStage;
      }
      prefetch(eb, early, early.getRow(), qStage, qRound);
      OpBuilder wb(loop);
      if (!always)
        always = arith::ConstantIntOp::create(wb, loc, 1, 1);
      auto wait = TileWaitOp::create(
          wb, early.getLoc(), early.getTile().getType(), early.getSource(),
          early.getBatch(), early.getHead(), early.getRow(), early.getBound(),
          qStage, qRound, always);
      if (programs) {
        OpBuilder rb(loop->getContext());
        rb.setInsertionPointAfter(loop);
        TileReleaseOp::create(rb, early.getLoc(), early.getSource(), qStage,
                              qRound);
      }
      early.replaceAllUsesWith(wait.getTile());
      early.erase();
      break;
    }

    llvm::SmallPtrSet<Value, 4> released;
    for (TileLoadOp load : loads) {
      OpBuilder lb(load);
      auto wait = TileWaitOp::create(
          lb, load.getLoc(), load.getTile().getType(), load.getSource(),
          load.getBatch(), load.getHead(), load.getRow(), load.getBound(),
          stage, round, ahead);
      load.replaceAllUsesWith(wait.getTile());
      load.erase();
      sinkToFirstUse(wait);
      if (released.insert(wait.getSource()).second)
        placeRelease(loop, wait, stage, round);
    }
    return success();
  }

  /// Releases the wait's stage right after the last op of its block that
  /// uses the tile (K after S = Q K^T, V after P V: the copy engine may
  /// refill it while the rest of the iteration runs), and on every other
  /// path through the scf.if ops between that block and the loop body, so
  /// each iteration releases exactly once. Elsewhere: at the end of the body.
  static void placeRelease(scf::ForOp loop, TileWaitOp wait, Value stage,
                           Value round) {
    Location loc = wait.getLoc();
    Value source = wait.getSource();
    SmallVector<scf::IfOp> guards;
    for (Operation *op = wait->getParentOp(); op != loop; op = op->getParentOp()) {
      auto guard = dyn_cast<scf::IfOp>(op);
      if (!guard) {
        OpBuilder b = OpBuilder::atBlockTerminator(loop.getBody());
        TileReleaseOp::create(b, loc, source, stage, round);
        return;
      }
      guards.push_back(guard);
    }
    Block *block = wait->getBlock();
    Operation *last = wait;
    for (Operation *user : wait.getTile().getUsers())
      if (Operation *inBlock = block->findAncestorOpInBlock(*user))
        if (last->isBeforeInBlock(inBlock))
          last = inBlock;
    OpBuilder b(last->getContext());
    if (last->hasTrait<OpTrait::IsTerminator>())
      b.setInsertionPoint(last);
    else
      b.setInsertionPointAfter(last);
    TileReleaseOp::create(b, loc, source, stage, round);
    Region *taken = block->getParent();
    for (scf::IfOp guard : guards) {
      Region &other = taken == &guard.getThenRegion() ? guard.getElseRegion()
                                                      : guard.getThenRegion();
      if (other.empty()) {
        OpBuilder eb(guard);
        eb.createBlock(&other);
        scf::YieldOp::create(eb, loc);
      }
      OpBuilder ob = OpBuilder::atBlockTerminator(&other.front());
      TileReleaseOp::create(ob, loc, source, stage, round);
      taken = guard->getParentRegion();
    }
  }

  /// Moves a wait down to the first op of its block that uses its tile (V
  /// is waited for at P V, not at S = Q K^T): copies that complete per
  /// tile (TMA) let the earlier products start.
  static void sinkToFirstUse(TileWaitOp wait) {
    Block *block = wait->getBlock();
    Operation *first = nullptr;
    for (Operation *user : wait.getTile().getUsers()) {
      Operation *inBlock = block->findAncestorOpInBlock(*user);
      if (inBlock && (!first || inBlock->isBeforeInBlock(first)))
        first = inBlock;
    }
    if (first && first != wait->getNextNode())
      wait->moveBefore(first);
  }
};

} // namespace
