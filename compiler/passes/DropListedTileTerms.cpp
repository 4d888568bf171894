//===- DropListedTileTerms.cpp - mask terms every listed tile satisfies ---===//
//
// attn-block-lists leaves a list-driven kv loop whose partial tiles apply
// the whole mask per score:
//
//   %e  = memref.load %lists[%b', %h', %qb, %i + 1]   // 2 * kb + partial
//   %kv0 = (index_cast (%e >> 1)) * block_kv
//   attn.tile_map %s at(%b, %h, %qb * block_q, %kv0) {
//     select(L[b, h, q / 128, kv / 128] != 0 && kv < seqlen_k, x, -inf)
//   }
//
// A conjunct that reaches q only through `q / B` (B a multiple of block_q)
// and kv only through `kv / B'` (B' a multiple of block_kv) is one value
// over the tile. The list builder classifies the tile with the same mask
// by interval arithmetic (MaskIntervals), and on single values that is
// exact for the ops below (a tensor read is bounded by the entries of its
// index box: one entry here). So if the conjunct were false on the tile,
// the builder would have found the whole mask false there, and the tile
// would not be listed: in the map of a listed tile the conjunct is true.
//
// Only conjuncts that read a tensor are replaced (the others are cheap per
// score), and only when every op computing them is one the interval
// analysis models exactly on single values: index add/sub/mul, division by
// a non-zero constant, min/max, signed or equality compares, select, i1
// and/or/xor, index casts, integer tensor reads and sizes of tensor inputs.
// Anything else (an unsigned compare, a remainder, a float) could be
// "may be either" in the builder, which would list the tile without proving
// the conjunct true.
//
//===----------------------------------------------------------------------===//
#include "compiler/passes/Passes.h"

#include "compiler/passes/RegionUtils.h"
#include "dialects/attn/AttnOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/TypeSwitch.h"

namespace faopt {
#define GEN_PASS_DEF_ATTNDROPLISTEDTILETERMS
#include "compiler/passes/Passes.h.inc"
} // namespace faopt

using namespace mlir;
using namespace faopt::attn;

namespace {

/// `v` is `x * c` (either order) with c a positive multiple of `block`;
/// returns x.
Value timesMultipleOf(Value v, int64_t block) {
  auto mul = v.getDefiningOp<arith::MulIOp>();
  if (!mul)
    return {};
  APInt c;
  if (matchPattern(mul.getRhs(), m_ConstantInt(&c)) &&
      c.getSExtValue() > 0 && c.getSExtValue() % block == 0)
    return mul.getLhs();
  if (matchPattern(mul.getLhs(), m_ConstantInt(&c)) &&
      c.getSExtValue() > 0 && c.getSExtValue() % block == 0)
    return mul.getRhs();
  return {};
}

/// The list entry a tile's column comes from: `kv0 = index_cast(e >> 1) *
/// block_kv` with `e` a load of `lists`. (A multiple of block_kv would do:
/// the builder's blocks are the kernel's tiles, so it is block_kv.)
memref::LoadOp listEntryOf(Value kv0, Value lists, int64_t blockKv) {
  auto mul = kv0.getDefiningOp<arith::MulIOp>();
  APInt c;
  if (!mul || !matchPattern(mul.getRhs(), m_ConstantInt(&c)) ||
      c.getSExtValue() != blockKv)
    return {};
  auto cast = mul.getLhs().getDefiningOp<arith::IndexCastOp>();
  auto shift = cast ? cast.getIn().getDefiningOp<arith::ShRSIOp>()
                    : arith::ShRSIOp();
  if (!shift || !matchPattern(shift.getRhs(), m_One()))
    return {};
  auto load = shift.getLhs().getDefiningOp<memref::LoadOp>();
  return load && load.getMemRef() == lists ? load : memref::LoadOp();
}

/// Checks the ops computing a conjunct inside a tile_map body: uniform over
/// the tile and modelled exactly by the builder's interval analysis.
struct TermCheck {
  TermCheck(Block &body, int64_t blockQ, int64_t blockKv)
      : body(body), blockQ(blockQ), blockKv(blockKv) {}
  Block &body;
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

  bool multipleDivisor(Value d, int64_t block) {
    APInt c;
    return matchPattern(d, m_ConstantInt(&c)) && c.getSExtValue() > 0 &&
           c.getSExtValue() % block == 0;
  }

  bool check(Value v) {
    if (auto arg = dyn_cast<BlockArgument>(v))
      // From above: one value for the whole map (a size, a tensor input);
      // in the body: b and h only (q and kv below, the score never).
      return arg.getOwner() != &body || arg.getArgNumber() == 1 ||
             arg.getArgNumber() == 2;
    Operation *def = v.getDefiningOp();
    if (def->getBlock() != &body)
      return true; // computed above the map: one value
    Type t = v.getType();
    bool index = t.isIndex(), i1 = t.isInteger(1);
    // q / B and kv / B': one value over the tile.
    if (auto div = dyn_cast<arith::FloorDivSIOp>(def))
      if (auto arg = dyn_cast<BlockArgument>(div.getLhs());
          arg && arg.getOwner() == &body &&
          (arg.getArgNumber() == 3 || arg.getArgNumber() == 4))
        return multipleDivisor(div.getRhs(),
                               arg.getArgNumber() == 3 ? blockQ : blockKv);
    bool modelled =
        TypeSwitch<Operation *, bool>(def)
            .Case<arith::ConstantOp>([&](auto) { return index || i1; })
            .Case<arith::AddIOp, arith::SubIOp, arith::MulIOp, arith::MinSIOp,
                  arith::MaxSIOp>([&](auto) { return index; })
            .Case<arith::FloorDivSIOp, arith::DivSIOp, arith::CeilDivSIOp>(
                [&](auto o) {
                  APInt c;
                  return index && matchPattern(o.getRhs(), m_ConstantInt(&c)) &&
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
            .Case<arith::IndexCastOp>([&](auto) { return index; })
            .Case<memref::DimOp>([&](auto) { return true; })
            .Case<memref::LoadOp>([&](memref::LoadOp o) {
              auto elem = dyn_cast<IntegerType>(o.getType());
              reads = true;
              return elem && elem.getWidth() >= 2 && elem.getWidth() <= 64;
            })
            .Default([](Operation *) { return false; });
    return modelled && llvm::all_of(def->getOperands(),
                                    [&](Value o) { return ok(o); });
  }
};

struct AttnDropListedTileTermsPass
    : faopt::impl::AttnDropListedTileTermsBase<AttnDropListedTileTermsPass> {
  void runOnOperation() override {
    func::FuncOp fn = getOperation();
    auto tiling = fn->getAttrOfType<TilingAttr>("attn.tiling");
    if (!tiling || !fn->hasAttr("attn.kernel"))
      return;
    Value lists;
    for (unsigned i = 0; i < fn.getNumArguments(); ++i)
      if (fn.getArgAttr(i, "attn.block_lists"))
        lists = fn.getArgument(i);
    if (!lists)
      return;
    fn.walk([&](TileMapOp map) { drop(map, lists, tiling); });
  }

  void drop(TileMapOp map, Value lists, TilingAttr tiling) {
    const int64_t blockQ = tiling.getBlockQ(), blockKv = tiling.getBlockKv();
    memref::LoadOp entry = listEntryOf(map.getCol(), lists, blockKv);
    // The tile's rows are its list row's q-block (index 2 of the entry).
    if (!entry || entry.getIndices().size() != 4 ||
        timesMultipleOf(map.getRow(), blockQ) != entry.getIndices()[2])
      return;
    Block &body = map.getBody().front();
    auto yield = dyn_cast<YieldOp>(body.getTerminator());
    auto select = yield && yield.getNumOperands() == 1
                      ? yield.getOperand(0).getDefiningOp<arith::SelectOp>()
                      : arith::SelectOp();
    if (!select || select->getBlock() != &body)
      return;
    SmallVector<Value> terms;
    faopt::collectConjuncts(select.getCondition(), terms);
    OpBuilder b(&body, body.begin());
    Value yes;
    for (Value term : terms) {
      TermCheck check(body, blockQ, blockKv);
      if (!term.getDefiningOp() || term.getDefiningOp()->getBlock() != &body ||
          !check.ok(term) || !check.reads)
        continue;
      if (!yes)
        yes = arith::ConstantIntOp::create(b, map.getLoc(), 1, 1);
      term.replaceAllUsesWith(yes);
    }
    if (!yes)
      return;
    // The replaced conjuncts' reads and arithmetic are dead now.
    faopt::eraseUnusedReads(body);
  }
};

} // namespace
