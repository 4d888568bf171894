//===- HoistTileUniformTerms.cpp - mask terms constant over a tile ---------===//
//
// A block layout's term `L[b, h, q / B, kv / B'] != 0` reads a tensor for
// every score of a partial tile, yet when B is a multiple of block_q and B'
// of block_kv it has one value over the whole tile (the tile starts at a
// multiple of both). This pass evaluates such a conjunct of a tile_map's
// mask once per tile, outside the body, at the tile's first row and column:
//
//   attn.tile_map %s at(%b, %h, %q0, %kv0) {        // %q0 = i * block_q
//   ^bb0(%x, %b, %h, %q, %kv):
//     %t = L[b, h, q / 128, kv / 128] != 0 ...
//     select(%t && %rest, %x, -inf)
// becomes
//   %t0 = L[b, h, q0 / 128, kv0 / 128] != 0           // once per tile
//   attn.tile_map %s at(...) { ... select(%t0 && %rest, %x, -inf) }
//
// Exact for any tensor contents: the term is the same function of
// (floor(q / B), floor(kv / B')), which is constant over the tile. Why: on
// the H200's block-sparse kernel at d = 128 the per-score layout reads of
// the (rarely run) masked tile made ptxas spill 52 bytes in the kv loop;
// evaluated once per tile, 0 (docs/performance.md item 43).
//
// Only conjuncts that read a tensor move (a chunk's `q / C == kv / C` is
// cheap per score and has its own row-bound path). A conjunct uses q only
// through `floordivsi(q, B)` with B a positive multiple of block_q and kv
// only through `floordivsi(kv, B')` with B' a multiple of block_kv, never
// the score; its other ops are side-effect-free or tensor and size reads;
// the tile_map's row and column are products with multiples of the tile,
// its shape at most block_q x block_kv, and nothing in its body writes
// memory.
//
//===----------------------------------------------------------------------===//
#include "compiler/passes/Passes.h"
#include "compiler/passes/RegionUtils.h"

#include "dialects/attn/AttnOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace faopt {
#define GEN_PASS_DEF_ATTNHOISTTILEUNIFORMTERMS
#include "compiler/passes/Passes.h.inc"
} // namespace faopt

using namespace mlir;
using namespace faopt::attn;

namespace {

/// `v` is `x * c` (either order) with c a positive multiple of `block`.
bool multipleOf(Value v, int64_t block) {
  auto mul = v.getDefiningOp<arith::MulIOp>();
  if (!mul)
    return false;
  APInt c;
  return (matchPattern(mul.getRhs(), m_ConstantInt(&c)) ||
          matchPattern(mul.getLhs(), m_ConstantInt(&c))) &&
         c.getSExtValue() > 0 && c.getSExtValue() % block == 0;
}

/// Checks the ops computing `v` inside `body`; `reads` is set when one of
/// them reads a tensor.
struct UniformCheck {
  Block &body;
  int64_t blockQ, blockKv;
  bool reads = false;
  DenseMap<Value, bool> seen;

  bool uniform(Value v) {
    if (auto it = seen.find(v); it != seen.end())
      return it->second;
    bool ok = check(v);
    seen[v] = ok;
    return ok;
  }

  bool check(Value v) {
    if (auto arg = dyn_cast<BlockArgument>(v)) {
      if (arg.getOwner() != &body)
        return true; // from above
      return arg.getArgNumber() == 1 || arg.getArgNumber() == 2; // b, h
    }
    Operation *def = v.getDefiningOp();
    if (def->getBlock() != &body)
      return true; // from above
    if (def->getNumRegions() != 0 ||
        !(isMemoryEffectFree(def) || isa<memref::LoadOp, memref::DimOp>(def)))
      return false;
    if (isa<memref::LoadOp>(def))
      reads = true;
    // q or kv only as the dividend of a division by a multiple of the tile.
    if (auto div = dyn_cast<arith::FloorDivSIOp>(def))
      if (auto arg = dyn_cast<BlockArgument>(div.getLhs());
          arg && arg.getOwner() == &body &&
          (arg.getArgNumber() == 3 || arg.getArgNumber() == 4)) {
        APInt c;
        int64_t block = arg.getArgNumber() == 3 ? blockQ : blockKv;
        return matchPattern(div.getRhs(), m_ConstantInt(&c)) &&
               c.getSExtValue() > 0 && c.getSExtValue() % block == 0;
      }
    return llvm::all_of(def->getOperands(),
                        [&](Value o) { return uniform(o); });
  }
};

struct AttnHoistTileUniformTermsPass
    : faopt::impl::AttnHoistTileUniformTermsBase<
          AttnHoistTileUniformTermsPass> {
  void runOnOperation() override {
    func::FuncOp fn = getOperation();
    auto tiling = fn->getAttrOfType<TilingAttr>("attn.tiling");
    if (!tiling)
      return;
    fn.walk([&](TileMapOp map) {
      hoist(map, tiling.getBlockQ(), tiling.getBlockKv());
    });
  }

  void hoist(TileMapOp map, int64_t blockQ, int64_t blockKv) {
    // The tile [row, row + R) x [col, col + C) must lie within one tile of
    // the grid: R <= block_q, C <= block_kv, starts at multiples of them.
    auto shape = cast<ShapedType>(map.getTile().getType()).getShape();
    if (shape.size() != 2 || shape[0] > blockQ || shape[1] > blockKv ||
        !multipleOf(map.getRow(), blockQ) || !multipleOf(map.getCol(), blockKv))
      return;
    Block &body = map.getBody().front();
    // Nothing in the body may write memory (a read moves above it).
    bool writes = false;
    body.walk([&](Operation *op) {
      auto effects = dyn_cast<MemoryEffectOpInterface>(op);
      if (effects ? effects.hasEffect<MemoryEffects::Write>()
                  : !op->hasTrait<OpTrait::HasRecursiveMemoryEffects>() &&
                        !isMemoryEffectFree(op))
        writes = true;
    });
    if (writes)
      return;
    auto yield = dyn_cast<YieldOp>(body.getTerminator());
    auto select = yield && yield.getNumOperands() == 1
                      ? yield.getOperand(0).getDefiningOp<arith::SelectOp>()
                      : arith::SelectOp();
    if (!select || select->getBlock() != &body)
      return;
    SmallVector<Value> terms;
    faopt::collectConjuncts(select.getCondition(), terms);
    OpBuilder b(map);
    for (Value term : terms) {
      UniformCheck check{body, blockQ, blockKv};
      if (!term.getDefiningOp() || term.getDefiningOp()->getBlock() != &body ||
          !check.uniform(term) || !check.reads)
        continue;
      IRMapping m;
      m.map(body.getArgument(1), map.getBatch());
      m.map(body.getArgument(2), map.getHead());
      m.map(body.getArgument(3), map.getRow());
      m.map(body.getArgument(4), map.getCol());
      Value once = faopt::cloneSlice(term, body, m, b);
      term.replaceAllUsesWith(once);
    }
    faopt::eraseUnusedReads(body); // the per-score copies of moved terms
  }
};

} // namespace
