//===- ScheduleGrid.cpp - program order: L2 head groups, longest first ----===//
//
//   scf.forall (%qb, %bh) in (%nq, %nbh) { body }        {attn.grid}
// becomes
//   scf.forall (%p) in (%nq * %nbh) {
//     fit   = L2 / 2 * (heads / kv_heads) / (seqlen_k * row bytes)
//     g     = clamp(max(fit, ceil(min_group_programs / nq)), 1, nbh)
//             (clamp(fit, 1, nbh) for kernels driven by kv-block lists
//             whose mask does not bound kv by q, and for kernels whose
//             programs all do the same work)
//     g     = min(g, 2W / gcd(2W, nq)) where programs follow their q-block
//             and a persistent launch's W = attn.workers < nq * nbh CTAs
//             run them in a static snake (not for list-driven kernels)
//     g     = 1 instead where a kv loop starts at a chunk's first block
//             (lengths cycling with the q-block; fixed schedules only)
//     group = p / (g * nq),  r = p mod (g * nq)
//     first = group * g,     size = min(g, nbh - first)
//     %qb   = nq - 1 - r / size,   %bh = first + r mod size
//     body
//   } {attn.grid}
//
// CTAs are dispatched in increasing linear index, so this is the order in
// which programs start: all q-blocks of `g` heads, last (longest under a
// causal mask) first.
//
// The floor of min_group_programs keeps causal grids balanced (the longest
// programs of every head start first, the shortest fill the tail). A
// kernel driven by run-time kv-block lists whose mask does not bound kv by
// q (a block layout; attn-block-lists marks the others
// `kv_range_follows_q`) gains nothing from it (its programs' lengths come
// from the data) and loses the L2: with every head in one group, the CTAs
// running at one time span all heads, and a random block layout then
// re-reads K and V from DRAM (H200, block-sparse 25% at 8k: L2 hit rate
// 38%, 1.84 GB read per launch against ~0.2 GB of q, k and v). Such
// kernels group by the L2 fit alone: block-sparse 25% +14%; causal
// documents lost 4% that way (their short q-blocks no longer last), so
// they keep the floor (docs/performance.md item 51). Kernels whose programs
// all do the same work (no kv loop bound and no branch around a product
// reads the q-block: dense, key padding, score modifiers) have no longest
// to start first either, and the floor's one group put every head's K/V in
// flight at once (d128 dense at seqlen 1024: 28% L2 hits); by the L2 fit
// alone d128 dense gained 7-22% (item 82). The floor's balance needs
// no single group, though: attn-persistent-programs' snake pairs a long
// program with a short one within each row pair of 2W programs, so a group
// of whole row pairs (g * nq a multiple of 2W) is balanced on its own
// (bench/experiments/schedule_sim.py: within 1.8% of the average load).
// Capping the floor's group there put 33 heads' K/V in flight instead of
// every head's: causal d128 +12% / +19% / +22% / +5% at 512 / 1k / 2k / 4k
// on the H200 (item 83), unchanged from 8k on (the L2 fit is smaller).
//
// The runtime launches at most 2^31 - 1 programs, so the number of (batch,
// head) rows, the program count, a group's span and every index the
// decomposition yields fit in 32 bits: the pass states it (`attn.range`,
// IndexRanges) so attn-narrow-index-math can do this arithmetic in i32,
// which interval arithmetic alone cannot show for products like
// batch * heads. Sequence lengths are at most 2^29 (the runtime's limit),
// so kv loops and row offsets fit in 32 bits too.
//
//===----------------------------------------------------------------------===//
#include "compiler/targets/gpu/Passes.h"

#include "compiler/passes/BlockListsArgument.h"
#include "compiler/targets/gpu/GridLoop.h"
#include "compiler/targets/gpu/IndexRanges.h"
#include "compiler/targets/gpu/KvLoopStarts.h"
#include "dialects/attn/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/PatternMatch.h"

namespace faopt::gpu {
#define GEN_PASS_DEF_ATTNSCHEDULEGRID
#include "compiler/targets/gpu/Passes.h.inc"
} // namespace faopt::gpu

using namespace mlir;

namespace {

/// Bytes of one K row plus one V row (static head dims).
std::optional<int64_t> kvRowBytes(MemRefType k, MemRefType v) {
  if (k.getRank() != 4 || v.getRank() != 4 || k.isDynamicDim(3) ||
      v.isDynamicDim(3))
    return std::nullopt;
  int64_t bits = k.getElementTypeBitWidth();
  return (k.getDimSize(3) + v.getDimSize(3)) * bits / 8;
}

/// Whether `v` is computed from the grid's q-block index `qb` within the
/// grid's body. A kv loop's induction variable counts through its bounds;
/// a loop-carried value is assumed to (no such value bounds work today).
bool dependsOnQBlock(Value v, Value qb, Region &body) {
  SmallVector<Value> work{v};
  llvm::DenseSet<Value> seen;
  while (!work.empty()) {
    Value x = work.pop_back_val();
    if (x == qb)
      return true;
    if (!seen.insert(x).second)
      continue;
    if (auto arg = dyn_cast<BlockArgument>(x)) {
      if (!body.isAncestor(arg.getParentRegion()))
        continue; // a function argument
      Operation *owner = arg.getOwner()->getParentOp();
      if (owner == body.getParentOp())
        continue; // the grid's (batch, head) index
      auto loop = dyn_cast<scf::ForOp>(owner);
      if (!loop || arg != loop.getInductionVar())
        return true; // loop-carried, or a region's own argument
      work.append({loop.getLowerBound(), loop.getUpperBound(), loop.getStep()});
      continue;
    }
    Operation *def = x.getDefiningOp();
    if (!body.isAncestor(def->getParentRegion()))
      continue; // computed before the grid
    if (def->getNumRegions() != 0)
      return true; // a value yielded by a region: not followed
    work.append(def->operand_begin(), def->operand_end());
  }
  return false;
}

/// Whether a program's work can depend on its q-block: the bounds of a
/// loop in it, or the condition of a branch around a matrix product, are
/// computed from the q-block index (causal, windows, prefix-LM, chunks).
/// Without a mask, or with one that does not bound kv by q (key padding,
/// score modifiers), all q-blocks of a head do the same work.
bool workFollowsQBlock(scf::ForallOp grid) {
  Value qb = grid.getInductionVar(0);
  Region &body = grid.getRegion();
  auto follows = [&](Value v) { return dependsOnQBlock(v, qb, body); };
  WalkResult result = grid.getBody()->walk([&](Operation *op) {
    if (auto loop = dyn_cast<scf::ForOp>(op)) {
      if (follows(loop.getLowerBound()) || follows(loop.getUpperBound()) ||
          follows(loop.getStep()))
        return WalkResult::interrupt();
    } else if (auto branch = dyn_cast<scf::IfOp>(op)) {
      bool guardsProducts =
          branch->walk([](faopt::attn::TileMatmulOp) {
                  return WalkResult::interrupt();
                }).wasInterrupted();
      if (guardsProducts && follows(branch.getCondition()))
        return WalkResult::interrupt();
    } else if (isa<scf::WhileOp>(op)) {
      return WalkResult::interrupt(); // trip counts not analysed
    }
    return WalkResult::advance();
  });
  return result.wasInterrupted();
}

/// Whether a kv loop of the program starts at its chunk's first block (a
/// chunked mask: its lower bound rounds q down to a multiple,
/// KvLoopStarts.h). Such programs' lengths rise and fall every chunk
/// (1, 2, ..., chunk / block_q kv-blocks) instead of growing with the
/// q-block, so "q-blocks last to first" is not longest first, and the
/// static snake's pairing of long with short needs another order.
bool lengthsCycleWithQBlock(scf::ForallOp grid) {
  Value qb = grid.getInductionVar(0);
  Region &body = grid.getRegion();
  return grid.getBody()
      ->walk([&](scf::ForOp loop) {
        Value lower = loop.getLowerBound();
        if (dependsOnQBlock(lower, qb, body) &&
            faopt::gpu::readsChunkStart(lower))
          return WalkResult::interrupt();
        return WalkResult::advance();
      })
      .wasInterrupted();
}

/// gcd(x, y) for x > 0, y >= 0: Euclid's loop (scf.while; it runs once
/// per CTA, a few iterations). `zero` is the index constant 0.
Value emitGcd(OpBuilder &b, Location loc, Value x, Value y, Value zero) {
  Type index = b.getIndexType();
  auto loop = scf::WhileOp::create(
      b, loc, TypeRange{index, index}, ValueRange{x, y},
      [&](OpBuilder &b, Location loc, ValueRange xy) {
        Value more = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne,
                                           xy[1], zero);
        scf::ConditionOp::create(b, loc, more, xy);
      },
      [](OpBuilder &b, Location loc, ValueRange xy) {
        Value r = arith::RemUIOp::create(b, loc, xy[0], xy[1]);
        scf::YieldOp::create(b, loc, ValueRange{xy[1], r});
      });
  return loop.getResult(0);
}

/// `g` capped so that a group's g * nq programs are whole row pairs of a
/// persistent kernel's static snake (attn-persistent-programs: worker w
/// runs programs t * W + w for even rows t, t * W + W - 1 - w for odd
/// ones, with W = attn.workers). Each row pair then pairs a long program
/// with a short one inside one group, so groups of L2 size stay balanced
/// (docs/performance.md item 83): g = min(g, 2W / gcd(2W, nq)). Where the
/// launch runs a CTA per program (W = programs: not persistent) there is
/// no snake, and nbh leaves g as it is. `nq` is at least 1.
Value capToSnakeRowPairs(OpBuilder &b, Location loc, Value g, Value nq,
                         Value nbh, Value total) {
  auto cst = [&](int64_t x) {
    return arith::ConstantIndexOp::create(b, loc, x).getResult();
  };
  Value zero = cst(0), one = cst(1), two = cst(2);
  Value workers = faopt::attn::WorkersOp::create(b, loc);
  Value persistent = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                           workers, total);
  auto cap = scf::IfOp::create(b, loc, TypeRange{b.getIndexType()},
                               persistent, /*withElseRegion=*/true);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(cap.thenBlock());
    Value rowPair = arith::MulIOp::create(b, loc, workers, two);
    Value gcd = emitGcd(b, loc, rowPair, nq, zero);
    Value heads = arith::DivUIOp::create(b, loc, rowPair, gcd);
    Value heads1 = arith::MaxSIOp::create(b, loc, heads, one);
    scf::YieldOp::create(b, loc, heads1);
    b.setInsertionPointToStart(cap.elseBlock());
    scf::YieldOp::create(b, loc, nbh);
  }
  Value capped = arith::MinSIOp::create(b, loc, g, cap.getResult(0));
  // At most g (at most nbh < 2^31); the cap is at least 1.
  faopt::gpu::stateRange(capped, 0, INT32_MAX);
  return capped;
}

struct AttnScheduleGridPass
    : faopt::gpu::impl::AttnScheduleGridBase<AttnScheduleGridPass> {
  using AttnScheduleGridBase::AttnScheduleGridBase;

  void runOnOperation() override {
    func::FuncOp fn = getOperation();
    if (!fn->hasAttr("attn.kernel"))
      return;
    scf::ForallOp grid = faopt::gpu::gridLoop(fn);
    if (!grid || grid.getRank() != 2)
      return; // already scheduled, or not a kernel built by attn-tile
    // attn-tile's kernels take (q, k, v, o[, lse]).
    auto args = fn.getArguments();
    auto q = args.size() >= 4 ? dyn_cast<MemRefType>(args[0].getType()) : nullptr;
    auto k = args.size() >= 4 ? dyn_cast<MemRefType>(args[1].getType()) : nullptr;
    auto v = args.size() >= 4 ? dyn_cast<MemRefType>(args[2].getType()) : nullptr;
    std::optional<int64_t> rowBytes =
        q && k && v ? kvRowBytes(k, v) : std::nullopt;
    if (!rowBytes || q.getRank() != 4) {
      fn.emitError() << "attn-schedule-grid: expected a kernel taking q, k, v "
                        "as [batch, heads, seq, dim] memrefs";
      return signalPassFailure();
    }
    if (!grid.isNormalized()) {
      grid.emitError() << "attn-schedule-grid: grid must start at 0 with step 1";
      return signalPassFailure();
    }

    Location loc = grid.getLoc();
    OpBuilder b(grid);
    auto cst = [&](int64_t x) {
      return arith::ConstantIndexOp::create(b, loc, x).getResult();
    };
    SmallVector<Value> ub = getValueOrCreateConstantIndexOp(
        b, loc, grid.getMixedUpperBound());
    Value nq = ub[0], nbh = ub[1];
    Value total = arith::MulIOp::create(b, loc, nq, nbh);
    // One op per statement: C++ leaves the order of argument evaluation
    // open, and the IR (and its lit test) should not depend on the compiler.
    Value one = cst(1);
    bool fixedSchedule = !faopt::blockListsArgument(fn);
    Value g;
    if (fixedSchedule && lengthsCycleWithQBlock(grid)) {
      // Chunks: groups of one head. The snake then walks one head's
      // q-blocks in order, so a row pair's programs w and 2W - 1 - w sit
      // at chunk offsets that complement each other where 2W is a multiple
      // of the chunk's q-blocks (and even out over the row pairs where it
      // is not): long pairs with short again. With the floor's wide groups
      // (heads fastest) the busiest CTA ran 1.43x the mean on chunks of
      // 1024 at 8k, with one head 1.04x: +40% (H200, docs/performance.md
      // items 99, 100). One head's K and V are also the L2's best case.
      g = one;
    } else {
      // Heads whose K and V fit in half the L2 (times heads / kv_heads:
      // query heads sharing a kv head read the same tiles) ...
      Value sk = memref::DimOp::create(b, loc, args[1], 2);
      Value hq = memref::DimOp::create(b, loc, args[0], 1);
      Value hkv = memref::DimOp::create(b, loc, args[1], 1);
      Value hkv1 = arith::MaxSIOp::create(b, loc, hkv, one);
      Value ratio = arith::DivUIOp::create(b, loc, hq, hkv1);
      Value rowSize = cst(*rowBytes);
      Value sk1 = arith::MaxSIOp::create(b, loc, sk, one);
      Value perHead = arith::MulIOp::create(b, loc, sk1, rowSize);
      Value half = cst(l2Bytes / 2);
      Value budget = arith::MulIOp::create(b, loc, half, ratio);
      Value fit = arith::DivUIOp::create(b, loc, budget, perHead);
      // ... but enough of them that a group is several waves of programs,
      // where programs' lengths follow their q-block (so the longest start
      // first). Not where run-time lists drive the kernel and its mask does
      // not bound kv by q (no order of the lengths to follow;
      // attn-block-lists says which), nor where every program does the
      // same work.
      bool ordered = fixedSchedule ? workFollowsQBlock(grid)
                                   : !faopt::drivenByBlockLayout(fn);
      Value minPrograms =
          cst(ordered ? std::max<int64_t>(minGroupPrograms, 1) : 1);
      Value nq1 = arith::MaxSIOp::create(b, loc, nq, one);
      Value waves = arith::CeilDivUIOp::create(b, loc, minPrograms, nq1);
      Value g0 = arith::MaxSIOp::create(b, loc, fit, waves);
      Value g1 = arith::MaxSIOp::create(b, loc, g0, one);
      g = arith::MinSIOp::create(b, loc, g1, nbh);
      // Fixed schedules of ordered programs: a persistent launch's snake
      // balances them within whole row pairs (list-driven kernels, when
      // persistent, take their programs at run time instead).
      if (ordered && fixedSchedule)
        g = capToSnakeRowPairs(b, loc, g, nq1, nbh, total);
    }
    Value span = arith::MulIOp::create(b, loc, g, nq);
    auto linear = scf::ForallOp::create(b, loc, ArrayRef<OpFoldResult>{total},
                                        ValueRange{}, std::nullopt);
    linear->setDiscardableAttrs(grid->getDiscardableAttrDictionary());

    b.setInsertionPointToStart(linear.getBody());
    Value p = linear.getInductionVar(0);
    Value group = arith::DivUIOp::create(b, loc, p, span);
    Value r = arith::RemUIOp::create(b, loc, p, span);
    Value first = arith::MulIOp::create(b, loc, group, g);
    Value left = arith::SubIOp::create(b, loc, nbh, first);
    Value size = arith::MinSIOp::create(b, loc, g, left);
    Value qi = arith::DivUIOp::create(b, loc, r, size);
    Value last = arith::SubIOp::create(b, loc, nq, one);
    Value qb = arith::SubIOp::create(b, loc, last, qi);
    Value hi = arith::RemUIOp::create(b, loc, r, size);
    Value bh = arith::AddIOp::create(b, loc, first, hi);
    // Launch guarantees (at most 2^31 - 1 programs; p < total): first < nbh,
    // so left >= 1 and size >= 1; qi < nq; bh < nbh.
    constexpr int64_t kMax = INT32_MAX;
    for (Value fact : {nbh, total, span})
      faopt::gpu::stateRange(fact, 0, kMax);
    faopt::gpu::stateRange(left, 1, kMax);
    for (Value fact : {first, qb, bh})
      faopt::gpu::stateRange(fact, 0, kMax - 1);
    // Sequence lengths (dimension 2 of q, k, v, o) are at most 2^29: the
    // runtime rejects longer ones (the mask arithmetic is 32-bit too).
    fn.walk([&](memref::DimOp dim) {
      auto arg = dyn_cast<BlockArgument>(dim.getSource());
      std::optional<int64_t> index = dim.getConstantIndex();
      if (arg && arg.getOwner()->getParentOp() == fn &&
          arg.getArgNumber() < 4 && index == 2)
        faopt::gpu::stateRange(dim, 0, int64_t(1) << 29);
    });

    // Move the body over, with (%qb, %bh) for the old induction variables.
    Block *oldBody = grid.getBody();
    Block *newBody = linear.getBody();
    newBody->getOperations().splice(std::prev(newBody->end()),
                                    oldBody->getOperations(),
                                    oldBody->begin(),
                                    std::prev(oldBody->end()));
    oldBody->getArgument(0).replaceAllUsesWith(qb);
    oldBody->getArgument(1).replaceAllUsesWith(bh);
    grid.erase();
  }
};

} // namespace
