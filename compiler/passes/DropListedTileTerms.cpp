//===- DropListedTileTerms.cpp - mask terms every listed tile satisfies ---===//
//
// attn-block-lists leaves a list-driven kv loop whose updates apply the
// whole mask to a partial tile, per score:
//
//   %n = memref.load %lists[%b', %h', %qb, 0]
//   scf.for %i = 0 to index_cast(%n) {
//     %e   = memref.load %lists[%b', %h', %qb, %i + 1]   // 2 * kb + partial
//     %kv0 = index_cast(%e >> 1) * block_kv
//     attn.online_update ... at(%b, %h, %qb * block_q, %kv0) masked ...
//       mask { L[b, h, q / 128, kv / 128] != 0 && ... }
//
// A conjunct of the mask that reaches q only through `q / B` (B a multiple
// of block_q) and kv only through `kv / B'` (B' a multiple of block_kv) is
// one value over the tile. The list builder classifies the tile with a
// copy of the same mask region by interval arithmetic (MaskIntervals), and
// on single values that is exact for the ops below (a tensor read is
// bounded by the entries of its index box: one entry here). So were the
// conjunct false on the tile, the builder would have found the whole mask
// false there and not listed the tile: in a listed tile it is true, and
// this pass replaces it by `true` in the update's mask region.
//
// This rests on the update's mask region being the builder's (attn-mask-
// specialize clones it, with the same parameters, into the
// attn.mask_block_class that attn-block-lists gives the builder) and on the
// update's tile being the builder's block (the kernel's tiling: checked).
// The mask region is isolated from above (its tensors and sizes are
// parameters, as in the builder's copy), and the logits region, where a
// score modifier's own conditions live, is never touched. Only conjuncts
// that read a tensor are replaced (the others are cheap per score), and
// only when every op computing them is modelled exactly on single values:
// index add/sub/mul/min/max, division by a non-zero constant, signed or
// equality compares of indices, select, i1 and/or/xor, index casts of
// integer tensor reads, those reads, and sizes of tensor parameters at a
// constant dimension. Anything else (an unsigned compare, a remainder, a
// float) could be "may be either" in the builder, which would list the
// tile without proving the conjunct true.
//
//===----------------------------------------------------------------------===//
#include "compiler/passes/Passes.h"

#include "compiler/passes/BlockListsArgument.h"
#include "compiler/passes/RegionUtils.h"
#include "dialects/attn/AttnOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/TypeSwitch.h"

namespace faopt {
#define GEN_PASS_DEF_ATTNDROPLISTEDTILETERMS
#include "compiler/passes/Passes.h.inc"
} // namespace faopt

using namespace mlir;
using namespace faopt::attn;

namespace {

/// `v` is `x * c` (either order) with c exactly `factor`; returns x.
Value timesExactly(Value v, int64_t factor) {
  auto mul = v.getDefiningOp<arith::MulIOp>();
  if (!mul)
    return {};
  if (isConstantIntValue(mul.getRhs(), factor))
    return mul.getLhs();
  if (isConstantIntValue(mul.getLhs(), factor))
    return mul.getRhs();
  return {};
}

/// The list entry a tile's first column comes from: `kv0 = index_cast(e >>
/// 1) * block_kv`, `e = lists[b', h', qb, i + 1]` with i the induction
/// variable of an enclosing loop from 0 to that list row's count,
/// `lists[b', h', qb, 0]`: a tile the builder listed.
memref::LoadOp listEntryOf(Value kv0, Value lists, int64_t blockKv) {
  Value kb = timesExactly(kv0, blockKv);
  auto cast = kb ? kb.getDefiningOp<arith::IndexCastOp>() : arith::IndexCastOp();
  auto shift = cast ? cast.getIn().getDefiningOp<arith::ShRSIOp>()
                    : arith::ShRSIOp();
  if (!shift || !isConstantIntValue(shift.getRhs(), 1))
    return {};
  auto entry = shift.getLhs().getDefiningOp<memref::LoadOp>();
  if (!entry || entry.getMemRef() != lists || entry.getIndices().size() != 4)
    return {};
  auto next = entry.getIndices()[3].getDefiningOp<arith::AddIOp>();
  if (!next || !isConstantIntValue(next.getRhs(), 1))
    return {};
  auto loop = scf::getForInductionVarOwner(next.getLhs());
  if (!loop || !loop->isAncestor(entry) ||
      !isConstantIntValue(loop.getLowerBound(), 0) ||
      !isConstantIntValue(loop.getStep(), 1))
    return {};
  auto bound = loop.getUpperBound().getDefiningOp<arith::IndexCastOp>();
  auto count = bound ? bound.getIn().getDefiningOp<memref::LoadOp>()
                     : memref::LoadOp();
  if (!count || count.getMemRef() != lists ||
      count.getIndices().size() != 4 || !isConstantIntValue(count.getIndices()[3], 0))
    return {};
  for (int i = 0; i < 3; ++i)
    if (count.getIndices()[i] != entry.getIndices()[i])
      return {};
  return entry;
}

/// Checks the ops computing a conjunct of a mask region (arguments b, h,
/// q, kv, then parameters): one value over the tile, and modelled exactly
/// on single values by the builder's interval analysis.
struct TermCheck {
  TermCheck(Block &mask, int64_t blockQ, int64_t blockKv)
      : mask(mask), blockQ(blockQ), blockKv(blockKv) {}
  Block &mask;
  int64_t blockQ, blockKv;
  bool reads = false;
  DenseMap<Value, bool> seen;

  bool ok(Value v) {
    if (auto it = seen.find(v); it != seen.end())
      return it->second;
    bool r = check(v);
    seen[v] = r;
    return r;
  }

  bool isParam(Value v) {
    auto arg = dyn_cast<BlockArgument>(v);
    return arg && arg.getOwner() == &mask && arg.getArgNumber() >= 4;
  }

  bool divisorMultipleOf(Value d, int64_t block) {
    APInt c;
    return matchPattern(d, m_ConstantInt(&c)) && c.getSExtValue() > 0 &&
           c.getSExtValue() % block == 0;
  }

  bool check(Value v) {
    if (auto arg = dyn_cast<BlockArgument>(v)) {
      // b and h, and the parameters (sizes, run-time scalars: single
      // values in the builder too); q and kv only through the divisions.
      unsigned n = arg.getArgNumber();
      return arg.getOwner() == &mask && n != 2 && n != 3 &&
             (n < 4 || isa<IndexType, MemRefType>(arg.getType()));
    }
    Operation *def = v.getDefiningOp();
    if (!def || def->getBlock() != &mask)
      return false;
    Type t = v.getType();
    bool index = t.isIndex(), i1 = t.isInteger(1);
    // q / B and kv / B': one value over the tile.
    if (auto div = dyn_cast<arith::FloorDivSIOp>(def))
      if (auto arg = dyn_cast<BlockArgument>(div.getLhs());
          arg && arg.getOwner() == &mask &&
          (arg.getArgNumber() == 2 || arg.getArgNumber() == 3))
        return divisorMultipleOf(div.getRhs(),
                                 arg.getArgNumber() == 2 ? blockQ : blockKv);
    bool modelled =
        TypeSwitch<Operation *, bool>(def)
            .Case<arith::ConstantOp>([&](auto) { return index || i1; })
            .Case<arith::AddIOp, arith::SubIOp, arith::MulIOp, arith::MinSIOp,
                  arith::MaxSIOp>([&](auto) { return index; })
            .Case<arith::FloorDivSIOp, arith::DivSIOp, arith::CeilDivSIOp>(
                [&](auto o) {
                  APInt c;
                  return index &&
                         matchPattern(o.getRhs(), m_ConstantInt(&c)) &&
                         !c.isZero();
                })
            .Case<arith::CmpIOp>([&](arith::CmpIOp o) {
              using P = arith::CmpIPredicate;
              P p = o.getPredicate();
              return o.getLhs().getType().isIndex() &&
                     (p == P::eq || p == P::ne || p == P::slt ||
                      p == P::sle || p == P::sgt || p == P::sge);
            })
            .Case<arith::AndIOp, arith::OrIOp, arith::XOrIOp>(
                [&](auto) { return i1; })
            .Case<arith::SelectOp>([&](auto) { return index || i1; })
            // A read's range is kept in index values: only its cast.
            .Case<arith::IndexCastOp>([&](arith::IndexCastOp o) {
              return index && o.getIn().getDefiningOp<memref::LoadOp>();
            })
            .Case<memref::DimOp>([&](memref::DimOp o) {
              APInt c;
              return isParam(o.getSource()) &&
                     matchPattern(o.getIndex(), m_ConstantInt(&c));
            })
            .Case<memref::LoadOp>([&](memref::LoadOp o) {
              auto elem = dyn_cast<IntegerType>(o.getType());
              reads = true;
              return isParam(o.getMemRef()) && elem && elem.getWidth() >= 2 &&
                     elem.getWidth() <= 64;
            })
            .Default([](Operation *) { return false; });
    return modelled && llvm::all_of(def->getOperands(),
                                    [&](Value o) { return ok(o); });
  }
};

/// Whether the mask region uses its argument `n` (0: b, 1: h).
bool uses(Block &mask, unsigned n) { return !mask.getArgument(n).use_empty(); }

struct AttnDropListedTileTermsPass
    : faopt::impl::AttnDropListedTileTermsBase<AttnDropListedTileTermsPass> {
  void runOnOperation() override {
    func::FuncOp fn = getOperation();
    auto tiling = fn->getAttrOfType<TilingAttr>("attn.tiling");
    if (!tiling || !fn->hasAttr("attn.kernel"))
      return;
    std::optional<unsigned> lists = faopt::blockListsArgument(fn);
    if (!lists)
      return;
    fn.walk([&](OnlineUpdateOp update) {
      drop(update, fn.getArgument(*lists), tiling);
    });
  }

  void drop(OnlineUpdateOp update, Value lists, TilingAttr tiling) {
    const int64_t blockQ = tiling.getBlockQ(), blockKv = tiling.getBlockKv();
    if (!update.isTileForm() || update.getPosition().size() != 4 ||
        update.getMask().empty())
      return;
    // The tile the update masks is the block the builder classified.
    auto q = dyn_cast<RankedTensorType>(update.getQuery().getType());
    auto k = dyn_cast<RankedTensorType>(update.getKey().getType());
    if (!q || !k || q.getDimSize(0) != blockQ || k.getDimSize(0) != blockKv)
      return;
    ValueRange at = update.getPosition();
    memref::LoadOp entry = listEntryOf(at[3], lists, blockKv);
    // The tile's rows are the list row's q-block; its b and h those the
    // row was built for (a row shared by every b or h: the mask reads none).
    Block &mask = update.getMask().front();
    if (!entry || mask.getNumArguments() < 4 ||
        timesExactly(at[2], blockQ) != entry.getIndices()[2])
      return;
    for (unsigned n : {0u, 1u}) {
      Value rowIndex = entry.getIndices()[n];
      if (rowIndex != at[n] && !(isConstantIntValue(rowIndex, 0) && !uses(mask, n)))
        return;
    }
    auto yield = dyn_cast<YieldOp>(mask.getTerminator());
    if (!yield || yield.getNumOperands() != 1)
      return;
    SmallVector<Value> terms;
    faopt::collectConjuncts(yield.getOperand(0), terms);
    OpBuilder b(&mask, mask.begin());
    Value yes;
    for (Value term : terms) {
      TermCheck check(mask, blockQ, blockKv);
      if (!check.ok(term) || !check.reads)
        continue;
      if (!yes)
        yes = arith::ConstantIntOp::create(b, update.getLoc(), 1, 1);
      term.replaceAllUsesWith(yes);
    }
    if (!yes)
      return;
    // The replaced conjuncts' reads and arithmetic are dead now.
    faopt::eraseUnusedReads(mask);
    // For the manifest (listed_terms_dropped).
    update->getParentOfType<func::FuncOp>()->setAttr(
        "attn.listed_terms_dropped", UnitAttr::get(update.getContext()));
  }
};

} // namespace
