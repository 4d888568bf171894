//===- SortedKeysAsBounds.cpp - document ids as per-row kv ranges ----------===//
//
// A document mask `doc[b, q] == doc[b, kv]` costs a partial block one tensor
// read per column and a compare per score: on the H200 its masks cost the
// documents benchmark 21% (`-DFAOPT_DIAG_NO_MASKS`), and the same documents
// written as row bounds (`kv >= start[b, q]`) ran 12% faster
// (docs/performance.md item 41). But ids need not be sorted, so the bounds
// cannot replace the compare when compiling. This pass lets the list builder
// decide per list row at run time:
//
//   builder (after attn.block_list_build):
//     attn.key_ranges %lists[%b, %h, %qb] rows %q0 kv [%kv0, %kv1)
//         {rows = R, block_kv = C}
//       { ^bb0(%pos, %is_row): yield is_row ? key_q(pos) : key_kv(pos) }
//     // writes: 1 if key_kv is non-decreasing over the span of the row's
//     // listed kv-blocks (within [kv0, kv1)), then per row the first and
//     // last kv of that span whose key equals the row's
//   kernel (consumers):
//     %sorted = load %lists[%b, %h, %qb, size - (1 + 2R)] != 0
//     scf.if %sorted {
//       the kv loop, its masked map testing first(q) <= kv <= last(q)
//     } else {
//       the kv loop as it was (the key compare per score)
//     }
//
// The first copy's mask is then nothing but kv bounds read at q, which
// attn-isolate-kv-bounds, attn-kv-bounds-in-rows and
// attn-unswitch-masked-blocks turn into per-row bounds and an unswitched
// iteration, as for `kv >= start[b, q] && kv <= q`. Exact: with sorted
// column keys, the columns equal to a row's key are one run; the kernel
// visits only listed kv-blocks, inside the span the builder searched, and
// the map's own `kv < seqlen_k` term (required) masks the rest.
//
// Applies to kernels with kv-block lists whose one masked score map has a
// conjunct `x == y` with x computed from q (and b, h) only and y from kv
// (and b, h) only, by side-effect-free ops and tensor reads with clamped
// indices (the builder evaluates the keys past the span and at padding
// rows), whose values from above the builder has too (kernel arguments,
// constants, sizes); the map must also test `kv < seqlen_k` and start at
// row q-block * block_q. Anything else is left alone.
// Only TMA kernels (where row bounds are used); the pipeline runs it unless
// row-bound masks are off.
//
//===----------------------------------------------------------------------===//
#include "compiler/targets/gpu/Passes.h"

#include "compiler/passes/BlockListsArgument.h"
#include "compiler/passes/RegionUtils.h"
#include "dialects/attn/AttnOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace faopt::gpu {
#define GEN_PASS_DEF_ATTNSORTEDKEYSASBOUNDS
#include "compiler/targets/gpu/Passes.h.inc"
} // namespace faopt::gpu

using namespace mlir;
using namespace faopt::attn;

namespace {

// What a value of a tile_map body depends on: its block arguments
// (score, b, h, q, kv).
enum Dep : unsigned { kScore = 1, kBatch = 2, kHead = 4, kQ = 8, kKv = 16 };

/// Ops a key may be computed by: pure, or reads of tensors and sizes.
bool keyOp(Operation *op) {
  return op->getNumRegions() == 0 &&
         (isMemoryEffectFree(op) || isa<memref::LoadOp, memref::DimOp>(op));
}

/// The masked score map's equality term, split into its two sides.
struct KeyTerm {
  TileMapOp map;
  arith::CmpIOp eq;
  Value rowKey, colKey; // inside the map's body
};

/// Dependencies of every value defined in `block` on its arguments.
DenseMap<Value, unsigned> dependencies(Block &block) {
  DenseMap<Value, unsigned> deps;
  for (unsigned i = 0; i < block.getNumArguments() && i < 5; ++i)
    deps[block.getArgument(i)] = 1u << i;
  for (Operation &op : block.without_terminator()) {
    unsigned d = 0;
    for (Value v : op.getOperands())
      d |= deps.lookup(v);
    for (Value r : op.getResults())
      deps[r] = d;
  }
  return deps;
}

/// True when every op computing `v` inside `block` is a keyOp.
bool keySlice(Value v, Block &block) {
  Operation *def = v.getDefiningOp();
  if (!def || def->getBlock() != &block)
    return true;
  if (!keyOp(def))
    return false;
  return llvm::all_of(def->getOperands(),
                      [&](Value o) { return keySlice(o, block); });
}

/// `v` is a constant or clamped from both sides (minsi of maxsi or the
/// reverse, as the expression lowering writes every tensor index).
bool clampedIndex(Value v) {
  if (matchPattern(v, m_Constant()))
    return true;
  auto outer = v.getDefiningOp();
  if (!isa_and_nonnull<arith::MinSIOp, arith::MaxSIOp>(outer))
    return false;
  for (Value o : outer->getOperands())
    if (Operation *inner = o.getDefiningOp())
      if (isa<arith::MinSIOp, arith::MaxSIOp>(inner) &&
          inner->getName() != outer->getName())
        return true;
  return false;
}

/// Every tensor read computing `v` inside `block` has clamped indices.
bool clampedReads(Value v, Block &block) {
  Operation *def = v.getDefiningOp();
  if (!def || def->getBlock() != &block)
    return true;
  if (auto load = dyn_cast<memref::LoadOp>(def))
    if (!llvm::all_of(load.getIndices(), clampedIndex))
      return false;
  return llvm::all_of(def->getOperands(),
                      [&](Value o) { return clampedReads(o, block); });
}

std::optional<KeyTerm> findKeyTerm(TileMapOp map) {
  Block &body = map.getBody().front();
  auto yield = dyn_cast<YieldOp>(body.getTerminator());
  if (!yield || yield.getNumOperands() != 1)
    return std::nullopt;
  auto select = yield.getOperand(0).getDefiningOp<arith::SelectOp>();
  if (!select)
    return std::nullopt;
  DenseMap<Value, unsigned> deps = dependencies(body);
  SmallVector<Value> terms;
  faopt::collectConjuncts(select.getCondition(), terms);
  for (Value t : terms) {
    auto eq = t.getDefiningOp<arith::CmpIOp>();
    if (!eq || eq.getPredicate() != arith::CmpIPredicate::eq ||
        eq->getBlock() != &body)
      continue;
    Value x = eq.getLhs(), y = eq.getRhs();
    unsigned dx = deps.lookup(x), dy = deps.lookup(y);
    if ((dx & kKv) && !(dy & kKv)) {
      std::swap(x, y);
      std::swap(dx, dy);
    }
    if ((dx & (kScore | kKv)) || !(dx & kQ) || (dy & (kScore | kQ)) ||
        !(dy & kKv))
      continue;
    if (!keySlice(x, body) || !keySlice(y, body) || !clampedReads(x, body) ||
        !clampedReads(y, body))
      continue;
    return KeyTerm{map, eq, x, y};
  }
  return std::nullopt;
}

/// Whether inBuilder can give `v`.
bool mappable(Value v, func::FuncOp kernel, func::FuncOp builder,
              int depth = 0) {
  if (auto arg = dyn_cast<BlockArgument>(v))
    return arg.getOwner() == &kernel.getBody().front() &&
           arg.getArgNumber() < builder.getNumArguments() &&
           builder.getArgument(arg.getArgNumber()).getType() == arg.getType();
  Operation *def = v.getDefiningOp();
  return def && depth <= 16 && keyOp(def) && !isa<memref::LoadOp>(def) &&
         llvm::all_of(def->getOperands(), [&](Value o) {
           return mappable(o, kernel, builder, depth + 1);
         });
}

/// `v` (a value the kernel's map body uses from above) in the builder, at
/// `b`'s insertion point: kernel arguments by position, constants and
/// side-effect-free ops or size reads of such values cloned. Only for
/// values `mappable` accepts.
Value inBuilder(Value v, func::FuncOp builder, IRMapping &m, OpBuilder &b) {
  if (Value known = m.lookupOrNull(v))
    return known;
  if (auto arg = dyn_cast<BlockArgument>(v))
    return builder.getArgument(arg.getArgNumber());
  Operation *def = v.getDefiningOp();
  for (Value o : def->getOperands())
    m.map(o, inBuilder(o, builder, m, b));
  Operation *copy = b.clone(*def, m);
  return copy->getResult(cast<OpResult>(v).getResultNumber());
}

Value toI64(OpBuilder &b, Location loc, Value v) {
  Type i64 = b.getI64Type();
  if (v.getType().isIndex())
    return arith::IndexCastOp::create(b, loc, i64, v);
  if (v.getType() == i64)
    return v;
  return arith::ExtSIOp::create(b, loc, i64, v);
}

/// The kernel's list loop around `op` and the load of its count (the list
/// row's indices are that load's first three).
std::pair<scf::ForOp, memref::LoadOp> listLoop(Operation *op, Value lists) {
  for (auto loop = op->getParentOfType<scf::ForOp>(); loop;
       loop = loop->getParentOfType<scf::ForOp>()) {
    auto cast = loop.getUpperBound().getDefiningOp<arith::IndexCastOp>();
    auto count = cast ? cast.getIn().getDefiningOp<memref::LoadOp>()
                      : memref::LoadOp();
    if (count && count.getMemRef() == lists)
      return {loop, count};
  }
  return {};
}

/// The map's first row is the list row's q-block times block_q (the
/// builder numbers the ranges' rows from there).
bool startsAtQBlock(TileMapOp map, memref::LoadOp count, TilingAttr tiling) {
  auto mul = map.getRow().getDefiningOp<arith::MulIOp>();
  Value qb = count.getIndices()[2];
  APInt c;
  return mul &&
         ((mul.getLhs() == qb && matchPattern(mul.getRhs(), m_ConstantInt(&c))) ||
          (mul.getRhs() == qb && matchPattern(mul.getLhs(), m_ConstantInt(&c)))) &&
         c == tiling.getBlockQ();
}

/// The masked map keeps `kv < seqlen_k` (k, the kernel's argument 1, is
/// [batch, heads, seq, dim]) as a conjunct: the builder searches below
/// seqlen_k, and the kv-block past it is partial.
bool testsSeqlenK(TileMapOp map, func::FuncOp kernel) {
  Block &body = map.getBody().front();
  auto select = cast<YieldOp>(body.getTerminator())
                    .getOperand(0)
                    .getDefiningOp<arith::SelectOp>();
  SmallVector<Value> terms;
  faopt::collectConjuncts(select.getCondition(), terms);
  return llvm::any_of(terms, [&](Value t) {
    auto lt = t.getDefiningOp<arith::CmpIOp>();
    if (!lt || lt.getPredicate() != arith::CmpIPredicate::slt ||
        lt.getLhs() != body.getArgument(4))
      return false;
    auto dim = lt.getRhs().getDefiningOp<memref::DimOp>();
    std::optional<int64_t> index = dim ? dim.getConstantIndex() : std::nullopt;
    return index && *index == 2 && dim.getSource() == kernel.getArgument(1) &&
           cast<MemRefType>(dim.getSource().getType()).getRank() == 4;
  });
}

struct AttnSortedKeysAsBoundsPass
    : faopt::gpu::impl::AttnSortedKeysAsBoundsBase<AttnSortedKeysAsBoundsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    SmallVector<func::FuncOp> kernels;
    for (auto fn : module.getOps<func::FuncOp>())
      if (fn->hasAttr("attn.kernel"))
        kernels.push_back(fn);
    for (func::FuncOp kernel : kernels)
      rewrite(symbols, kernel);
  }

  void rewrite(SymbolTable &symbols, func::FuncOp kernel) {
    auto tiling = kernel->getAttrOfType<TilingAttr>("attn.tiling");
    auto builder = symbols.lookup<func::FuncOp>(
        (kernel.getSymName() + "_block_lists").str());
    if (!tiling || tiling.getCopy() != "tma" || !builder)
      return;
    // The builder ends with the lists, or with the kernel's program counter
    // right after them (attn-builder-resets-counter); the kernel's
    // arguments before them are the builder's, one for one (a handed-out
    // kernel's program counter comes after them).
    std::optional<unsigned> listsArg = faopt::blockListsArgument(kernel);
    if (!listsArg)
      return;
    const unsigned builderArgs = builder.getNumArguments();
    const bool endsWithCounter =
        builderArgs == *listsArg + 2 &&
        builder.getArgAttr(*listsArg + 1, "attn.program_counter");
    if ((builderArgs != *listsArg + 1 && !endsWithCounter) ||
        !builder.getArgAttr(*listsArg, "attn.block_lists")) {
      // attn-block-lists gives the builder the kernel's arguments up to the
      // lists; anything else is a pipeline bug, which must not cost the
      // kernel its key ranges silently (as the hand-out's counter did).
      kernel.emitWarning() << "attn-sorted-keys-as-bounds: the list builder's "
                              "arguments do not end with the kernel's lists "
                              "argument; the kernel keeps its key compare";
      return;
    }
    auto rowsAttr =
        kernel.getArgAttrOfType<DictionaryAttr>(*listsArg, "attn.block_lists");
    if (!rowsAttr || rowsAttr.get("key_range_rows"))
      return;
    Value lists = kernel.getArgument(*listsArg);
    BlockListBuildOp build;
    builder.walk([&](BlockListBuildOp op) { build = op; });
    if (!build)
      return;

    // One masked map with the term (the pass runs before anything copies
    // the kv iteration); its ranges are the builder's for this list row.
    SmallVector<KeyTerm> terms;
    kernel.walk([&](TileMapOp map) {
      if (std::optional<KeyTerm> t = findKeyTerm(map))
        terms.push_back(*t);
    });
    if (terms.size() != 1)
      return;
    KeyTerm &term = terms.front();
    auto [loop, count] = listLoop(term.map, lists);
    if (!loop || !startsAtQBlock(term.map, count, tiling) ||
        !testsSeqlenK(term.map, kernel))
      return;
    if (failed(buildKeyRanges(kernel, builder, build, tiling, term)))
      return;

    // The kernel: the flag before the loop, then two copies of it.
    Location loc = loop.getLoc();
    OpBuilder b(loop);
    int64_t rows = tiling.getBlockQ();
    Value c3 = arith::ConstantIndexOp::create(b, loc, 3);
    Value size = memref::DimOp::create(b, loc, lists, c3);
    Value base = arith::SubIOp::create(
        b, loc, size, arith::ConstantIndexOp::create(b, loc, 1 + 2 * rows));
    ValueRange row = count.getIndices().take_front(3);
    SmallVector<Value> at(row.begin(), row.end());
    at.push_back(base);
    Value flag = memref::LoadOp::create(b, loc, lists, at);
    Value sorted = arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::ne, flag,
        arith::ConstantIntOp::create(b, loc, 0, 32));
    auto choice = scf::IfOp::create(b, loc, loop.getResultTypes(), sorted,
                                    /*withElseRegion=*/true);
    loop->replaceAllUsesWith(choice.getResults());
    // (Without results, the builder gave both blocks their yield.)
    auto fill = [&](Block *block, scf::ForOp body) {
      bool ends = block->mightHaveTerminator();
      if (ends)
        b.setInsertionPoint(block->getTerminator());
      else
        b.setInsertionPointToEnd(block);
      if (body->getBlock())
        body->moveBefore(b.getInsertionBlock(), b.getInsertionPoint());
      else
        b.insert(body);
      if (!ends)
        scf::YieldOp::create(b, loc, body.getResults());
    };
    IRMapping copied;
    auto ranged = cast<scf::ForOp>(loop->clone(copied));
    fill(choice.thenBlock(), ranged);
    fill(choice.elseBlock(), loop);

    useRanges(cast<TileMapOp>(copied.lookup(term.map.getOperation())),
              cast<arith::CmpIOp>(copied.lookup(term.eq.getOperation())),
              lists, at, rows);

    NamedAttrList attrs(rowsAttr);
    attrs.set("key_range_rows", b.getI64IntegerAttr(rows));
    // The builder's lists argument carries it to the manifest.
    DictionaryAttr withRows = attrs.getDictionary(kernel.getContext());
    kernel.setArgAttr(*listsArg, "attn.block_lists", withRows);
    builder.setArgAttr(*listsArg, "attn.block_lists", withRows);
  }

  /// In a copy of the masked map, `first(q) <= kv <= last(q)` from the list
  /// row's tail replaces the key compare.
  void useRanges(TileMapOp map, arith::CmpIOp eq, Value lists,
                 ArrayRef<Value> at, int64_t rows) {
    Block &body = map.getBody().front();
    OpBuilder b(eq);
    Location loc = eq.getLoc();
    Value q = body.getArgument(3), kv = body.getArgument(4);
    Value offset = arith::SubIOp::create(b, loc, q, map.getRow());
    Value slot = arith::AddIOp::create(
        b, loc, at[3],
        arith::AddIOp::create(
            b, loc, arith::ConstantIndexOp::create(b, loc, 1),
            arith::MulIOp::create(b, loc, offset,
                                  arith::ConstantIndexOp::create(b, loc, 2))));
    auto read = [&](Value i) -> Value {
      Value v = memref::LoadOp::create(
          b, loc, lists, ValueRange{at[0], at[1], at[2], i});
      return arith::IndexCastOp::create(b, loc, b.getIndexType(), v);
    };
    Value lo = read(slot);
    Value hi = read(arith::AddIOp::create(
        b, loc, slot, arith::ConstantIndexOp::create(b, loc, 1)));
    Value inside = arith::AndIOp::create(
        b, loc,
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, kv, lo),
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sle, kv, hi));
    eq.getResult().replaceAllUsesWith(inside);
    eq.erase();
    faopt::eraseUnusedReads(body); // the key reads
  }

  /// attn.key_ranges after the builder's attn.block_list_build, its body
  /// the two keys cloned from the kernel's map.
  LogicalResult buildKeyRanges(func::FuncOp kernel, func::FuncOp builder,
                               BlockListBuildOp build, TilingAttr tiling,
                               KeyTerm &term) {
    Block &from = term.map.getBody().front();
    OpBuilder b(build->getContext());
    b.setInsertionPointAfter(build);
    Location loc = term.eq.getLoc();
    // Values from above the keys use, in the builder.
    llvm::SetVector<Value> above;
    auto collect = [&](Value v, auto &self) -> void {
      Operation *def = v.getDefiningOp();
      if (!def || def->getBlock() != &from) {
        if (!(isa<BlockArgument>(v) &&
              cast<BlockArgument>(v).getOwner() == &from))
          above.insert(v);
        return;
      }
      for (Value o : def->getOperands())
        self(o, self);
    };
    collect(term.rowKey, collect);
    collect(term.colKey, collect);
    // k is [batch, heads, seq, dim]: the builder searches below seqlen_k.
    auto k = builder.getArgument(1);
    auto kType = dyn_cast<MemRefType>(k.getType());
    if (!kType || kType.getRank() != 4 ||
        !llvm::all_of(above, [&](Value v) {
          return mappable(v, kernel, builder);
        }))
      return failure();
    IRMapping outer;
    for (Value v : above)
      outer.map(v, inBuilder(v, builder, outer, b));
    auto index = [&](int64_t v) -> Value {
      return arith::ConstantIndexOp::create(b, loc, v);
    };
    Value seqK = memref::DimOp::create(b, loc, k, index(2));
    Value qFirst = arith::MulIOp::create(b, loc, build.getQBlock(),
                                         index(tiling.getBlockQ()));
    Value kvBegin = arith::MulIOp::create(b, loc, build.getLower(),
                                          index(tiling.getBlockKv()));
    Value kvEnd = arith::MinSIOp::create(
        b, loc,
        arith::MulIOp::create(b, loc, build.getUpper(),
                              index(tiling.getBlockKv())),
        seqK);
    auto ranges = KeyRangesOp::create(
        b, loc, build.getLists(), build.getBatch(), build.getHead(),
        build.getQBlock(), qFirst, kvBegin, kvEnd,
        b.getI64IntegerAttr(tiling.getBlockQ()),
        b.getI64IntegerAttr(tiling.getBlockKv()));
    Block *body = b.createBlock(&ranges.getBody(), {},
                                {b.getIndexType(), b.getI1Type()}, {loc, loc});
    Value pos = body->getArgument(0), isRow = body->getArgument(1);
    auto side = [&](Value key, Value position) -> Value {
      IRMapping m = outer;
      m.map(from.getArgument(1), build.getBatch());
      m.map(from.getArgument(2), build.getHead());
      m.map(from.getArgument(3), position);
      m.map(from.getArgument(4), position);
      return toI64(b, loc, faopt::cloneSlice(key, from, m, b));
    };
    Value rowKey = side(term.rowKey, pos);
    Value colKey = side(term.colKey, pos);
    Value key = arith::SelectOp::create(b, loc, isRow, rowKey, colKey);
    YieldOp::create(b, loc, key);
    return success();
  }
};

} // namespace
