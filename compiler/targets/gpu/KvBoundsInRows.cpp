//===- KvBoundsInRows.cpp - a mask's kv bounds once per row ---------------===//
//
// attn-isolate-kv-bounds leaves a partial block's score function as
//
//   func @F(%s, %b, %h, %q, %kv, ...) {
//     %lower = ...(%q, ...)          // free of kv
//     %upper = ...(%q, ...)
//     %in = kv >= %lower && kv <= %upper
//     return select(%in, x, -inf)       // x: the score, modified or not
//   }
//
// which the CUDA compiler evaluates per score: the kv of each score (the
// block's first column plus the score's column), two compares and an and
// before the select, 64 times per thread and kv-block. This pass splits F:
//
//   func @F_kv_first(same arguments) -> index { return %lower }
//   func @F_kv_last(same arguments) -> index { return %upper }
//   func @F(...) { return x }
//
// and marks every attn.tile_map that calls F with
// `attn.kv_bounds = [@F_kv_first, @F_kv_last]`. In the bound functions a
// term `a - u` / `a + u` with u a value without a range (a parameter,
// which attn-isolate-kv-bounds clamped to +-2^41) becomes attn.sub_sat /
// attn.add_sat of a and u clamped to i32, and a bound that then fits i32
// is returned as i32: 64-bit bounds made ptxas spill in the unswitched
// iteration (32 bytes on the window kernel, 0 with this). The GPU lowering emits
// `faopt::map_positions_in_rows<F_kv_first, F_kv_last, F>`: per row, the
// bounds minus the thread's first column, clamped to the tile; per score,
// two compares of that against the score's column offset within the
// thread (a constant once unrolled) and a select.
//
// Only in TMA kernels (sm90a, d >= 128), where it was measured, and only
// masks that are nothing but such bounds (causal, windows, prefixes,
// chunks, the sequence bound) are split: where other terms remain (document
// ids, block layouts) F would keep reads the CUDA compiler no longer shares
// between a row's scores, and ptxas spills (644 bytes on the d64 static
// block-sparse sample).
//
// Why: on the H200 the sliding-window kernel's masked blocks cost about 40%
// more than full ones; this form alone measured even in a hand-edited
// kernel, but it is what let attn-unswitch-masked-blocks give each kind of
// block its own copy of the iteration without spilling there
// (docs/performance.md item 38). With both, the H200 ran the window 1024
// at 8k 6.4% faster and causal 8k 2.8% slower (item 40): the pipeline runs
// it by default for bands only (`bands-only`: both bounds read q, and the
// lower one is not a chunk start aligned to the tiles, nor the start of a
// chunk given at launch: item 77), and for every bounds-only mask with
// row-bound-masks=on.
//
//===----------------------------------------------------------------------===//
#include "compiler/targets/gpu/Passes.h"

#include "compiler/targets/gpu/IndexRanges.h"
#include "compiler/targets/gpu/SaturatedBound.h"
#include "dialects/attn/AttnOps.h"
#include "mlir/Analysis/SliceAnalysis.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Transforms/RegionUtils.h"

namespace faopt::gpu {
#define GEN_PASS_DEF_ATTNKVBOUNDSINROWS
#include "compiler/targets/gpu/Passes.h.inc"
} // namespace faopt::gpu

using namespace mlir;
using namespace faopt::attn;

namespace {

/// Stands for a missing bound: every kv position (0 .. 2^29 + 1024) is
/// inside.
constexpr int64_t kNoLower = INT32_MIN, kNoUpper = INT32_MAX;

/// `u` if `v` is attn-isolate-kv-bounds's clamp of it,
/// minsi(maxsi(u, -2^41), 2^41).
Value clampedValue(Value v) {
  auto hi = v.getDefiningOp<arith::MinSIOp>();
  auto lo = hi ? hi.getLhs().getDefiningOp<arith::MaxSIOp>() : nullptr;
  APInt a, b;
  if (!lo || !matchPattern(lo.getRhs(), m_ConstantInt(&a)) ||
      !matchPattern(hi.getRhs(), m_ConstantInt(&b)))
    return Value();
  return a.getSExtValue() == -faopt::gpu::kUnrangedClamp &&
                 b.getSExtValue() == faopt::gpu::kUnrangedClamp
             ? lo.getLhs()
             : Value();
}

/// The largest total of constant shifts on any path from `v` to the
/// function's return, if every path goes only through min / max and
/// additions or subtractions of constants (of at most 1024 each): ops that
/// keep a bound past the kv range on its side, given that much room.
std::optional<int64_t> monotoneShift(Value v) {
  int64_t most = 0;
  for (Operation *user : v.getUsers()) {
    if (isa<func::ReturnOp>(user))
      continue;
    APInt c;
    int64_t here = 0;
    if (isa<arith::AddIOp, arith::SubIOp>(user) && user->getOperand(0) == v &&
        matchPattern(user->getOperand(1), m_ConstantInt(&c)) &&
        c.getSExtValue() >= -1024 && c.getSExtValue() <= 1024)
      here = c.getSExtValue() < 0 ? -c.getSExtValue() : c.getSExtValue();
    else if (!isa<arith::MinSIOp, arith::MaxSIOp>(user))
      return std::nullopt;
    std::optional<int64_t> after = monotoneShift(user->getResult(0));
    if (!after)
      return std::nullopt;
    most = std::max(most, here + *after);
  }
  return most;
}

/// In a bound function, `a - p` or `a + p` with p the clamp of an
/// unbounded value u becomes `attn.sub_sat` / `attn.add_sat` of a and u
/// clamped to i32, so the bound is 32-bit arithmetic (ptxas spills the
/// 64-bit form in the masked copy of the unswitched iteration), where
/// saturatedBoundIsExact says every compare with kv in [kvLo, kvHi] keeps
/// its answer.
void saturateUnboundedTerms(func::FuncOp fn, int64_t kvLo, int64_t kvHi) {
  faopt::gpu::IndexRanges ranges(fn);
  SmallVector<Operation *> sums;
  fn.walk([&](Operation *op) {
    if (isa<arith::AddIOp, arith::SubIOp>(op) && op->getResult(0).getType().isIndex())
      sums.push_back(op);
  });
  for (Operation *op : sums) {
    const bool isSub = isa<arith::SubIOp>(op);
    Value a = op->getOperand(0), p = op->getOperand(1);
    if (!isSub && !clampedValue(p))
      std::swap(a, p);
    Value u = clampedValue(p);
    std::optional<faopt::gpu::Range> r = u ? ranges.of(a) : std::nullopt;
    std::optional<int64_t> shift =
        r ? monotoneShift(op->getResult(0)) : std::nullopt;
    if (!shift || !faopt::gpu::saturatedBoundIsExact(isSub, r->lo, r->hi, *shift,
                                                     kvLo, kvHi))
      continue;
    OpBuilder b(op);
    Location loc = op->getLoc();
    Type i32 = b.getI32Type();
    Value lo = arith::MaxSIOp::create(b, loc, u, arith::ConstantIndexOp::create(b, loc, INT32_MIN));
    Value hi = arith::MinSIOp::create(b, loc, lo, arith::ConstantIndexOp::create(b, loc, INT32_MAX));
    Value u32 = arith::IndexCastOp::create(b, loc, i32, hi);
    Value a32 = arith::IndexCastOp::create(b, loc, i32, a);
    Value s32 = isSub ? faopt::attn::SubSatOp::create(b, loc, a32, u32).getResult()
                      : faopt::attn::AddSatOp::create(b, loc, a32, u32).getResult();
    op->getResult(0).replaceAllUsesWith(
        arith::IndexCastOp::create(b, loc, b.getIndexType(), s32));
  }
  IRRewriter cleanup(fn.getContext());
  (void)runRegionDCE(cleanup, fn.getBody());
}

/// Returns i32 where the returned bound provably fits (the CUDA helper
/// then clamps it in 32 bits).
void narrowReturn(func::FuncOp fn) {
  auto ret = cast<func::ReturnOp>(fn.getBody().front().getTerminator());
  std::optional<faopt::gpu::Range> r = faopt::gpu::IndexRanges(fn).of(ret.getOperand(0));
  if (!r || !r->fitsI32())
    return;
  OpBuilder b(ret);
  Type i32 = b.getI32Type();
  ret->setOperand(0, arith::IndexCastOp::create(b, ret.getLoc(), i32, ret.getOperand(0)));
  fn.setFunctionType(FunctionType::get(fn.getContext(), fn.getArgumentTypes(), {i32}));
}

bool dependsOn(Value v, Value kv, llvm::DenseMap<Value, bool> &memo) {
  if (v == kv)
    return true;
  if (auto it = memo.find(v); it != memo.end())
    return it->second;
  Operation *def = v.getDefiningOp();
  bool depends = def && llvm::any_of(def->getOperands(), [&](Value o) {
                   return dependsOn(o, kv, memo);
                 });
  return memo[v] = depends;
}

/// The leaves of the && tree rooted at `v` (inner nodes used only there).
void conjuncts(Value v, Block *block, bool root, SmallVector<Value> &out) {
  auto andOp = v.getDefiningOp<arith::AndIOp>();
  if (andOp && andOp->getBlock() == block && (root || v.hasOneUse())) {
    conjuncts(andOp.getLhs(), block, false, out);
    conjuncts(andOp.getRhs(), block, false, out);
    return;
  }
  out.push_back(v);
}

/// The tile_maps whose body calls `fn`; none if anything else uses it.
std::optional<SmallVector<TileMapOp>> tileMapsCalling(func::FuncOp fn,
                                                      ModuleOp module) {
  SmallVector<TileMapOp> maps;
  std::optional<SymbolTable::UseRange> uses = fn.getSymbolUses(module);
  if (!uses)
    return std::nullopt;
  for (const SymbolTable::SymbolUse &use : *uses) {
    auto call = dyn_cast<func::CallOp>(use.getUser());
    auto map = call ? dyn_cast<TileMapOp>(call->getParentOp()) : nullptr;
    if (!map)
      return std::nullopt;
    maps.push_back(map);
  }
  return maps;
}

/// Whether `lower` is C * (q / C), a chunk's first position, with C a
/// multiple of every calling kernel's block_q and block_kv: then it is the
/// same for every row of a q tile and on a kv-block boundary, so it never
/// masks part of a block (the chunk's blocks are full up to the diagonal).
bool isTileAlignedChunkStart(Value lower, Value q, ArrayRef<TileMapOp> maps) {
  auto mul = lower.getDefiningOp<arith::MulIOp>();
  if (!mul)
    return false;
  for (auto [quotient, factor] : {std::pair(mul.getLhs(), mul.getRhs()),
                                  std::pair(mul.getRhs(), mul.getLhs())}) {
    APInt c, d;
    Operation *div = quotient.getDefiningOp();
    if (!matchPattern(factor, m_ConstantInt(&c)) || c.getSExtValue() <= 0 ||
        !isa_and_nonnull<arith::FloorDivSIOp, arith::DivSIOp, arith::DivUIOp>(div) ||
        div->getOperand(0) != q ||
        !matchPattern(div->getOperand(1), m_ConstantInt(&d)) || d != c)
      continue;
    const int64_t chunk = c.getSExtValue();
    return llvm::all_of(maps, [&](TileMapOp map) {
      auto kernel = map->getParentOfType<func::FuncOp>();
      auto tiling = kernel ? kernel->getAttrOfType<TilingAttr>("attn.tiling")
                           : nullptr;
      return tiling && tiling.getBlockQ() > 0 && tiling.getBlockKv() > 0 &&
             chunk % tiling.getBlockQ() == 0 && chunk % tiling.getBlockKv() == 0;
    });
  }
  return false;
}

/// Whether `lower` is computed from a floor division by a value that is not
/// a constant: the start of a chunk whose size is given at launch
/// (attn-isolate-kv-bounds's run-time chunk bound). Its alignment to the
/// tiles is unknown here; chunk sizes are multiples of the tiles in
/// practice (Llama 4: 8192), where the start never cuts a block and each
/// program has one masked block, as in causal: the H200 ran the run-time
/// chunk of 1024 at 8k 4% slower with row bounds (docs/performance.md item
/// 77), so it is not a band.
bool isRuntimeChunkStart(Value lower) {
  SetVector<Operation *> slice;
  BackwardSliceOptions options;
  options.inclusive = true;
  if (failed(getBackwardSlice(lower, &slice, options)))
    return false;
  return llvm::any_of(slice, [](Operation *op) {
    auto div = dyn_cast<arith::FloorDivSIOp>(op);
    return div && !matchPattern(div.getRhs(), m_Constant());
  });
}

/// The argument of `fn` in which every call to it from `maps` passes the
/// tile_map's q position (its body's argument 3: x, b, h, q, kv), if any.
std::optional<unsigned> qArgument(func::FuncOp fn, ArrayRef<TileMapOp> maps) {
  std::optional<unsigned> index;
  for (TileMapOp map : maps) {
    Value q = map.getBody().getArgument(3);
    for (auto call : map.getBody().front().getOps<func::CallOp>()) {
      if (call.getCallee() != fn.getSymName())
        continue;
      auto it = llvm::find(call->getOperands(), q);
      if (it == call->operand_end())
        return std::nullopt;
      unsigned here = it - call->operand_begin();
      if (index && *index != here)
        return std::nullopt;
      index = here;
    }
  }
  return index;
}

struct AttnKvBoundsInRowsPass
    : faopt::gpu::impl::AttnKvBoundsInRowsBase<AttnKvBoundsInRowsPass> {
  using AttnKvBoundsInRowsBase::AttnKvBoundsInRowsBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    // TMA kernels only, where it was measured (with the unswitched
    // iteration); the others keep the per-score compares.
    bool tma = false;
    for (auto fn : module.getOps<func::FuncOp>())
      if (auto tiling = fn->getAttrOfType<TilingAttr>("attn.tiling"))
        tma |= fn->hasAttr("attn.kernel") && tiling.getCopy() == "tma";
    if (!tma)
      return;
    SmallVector<func::FuncOp> fns;
    for (auto fn : module.getOps<func::FuncOp>())
      if (!fn.isExternal() && fn->hasAttr("attn.device_function") &&
          !fn->hasAttr("attn.kv_first"))
        fns.push_back(fn);
    SymbolTable symbols(module);
    for (func::FuncOp fn : fns)
      if (failed(split(fn, module, symbols)))
        return signalPassFailure();
  }

  /// Splits `fn` as the header describes where it has that form.
  LogicalResult split(func::FuncOp fn, ModuleOp module, SymbolTable &symbols) {
    Value kv;
    for (BlockArgument arg : fn.getArguments())
      if (fn.getArgAttr(arg.getArgNumber(), "attn.kv_position"))
        kv = arg;
    if (!kv || !fn.getBody().hasOneBlock() || fn.getNumResults() != 1)
      return success();
    Block &body = fn.getBody().front();
    // Straight-line bodies only: the bounds' dependences are followed
    // through operands, not into nested regions.
    if (llvm::any_of(body, [](Operation &op) { return op.getNumRegions() != 0; }))
      return success();
    auto ret = cast<func::ReturnOp>(body.getTerminator());
    auto select = ret.getOperand(0).getDefiningOp<arith::SelectOp>();
    FloatAttr masked;
    if (!select || select->getBlock() != &body ||
        !matchPattern(select.getFalseValue(), m_Constant(&masked)) ||
        !masked.getValue().isInfinity() || !masked.getValue().isNegative())
      return success();
    SmallVector<Value> leaves;
    conjuncts(select.getCondition(), &body, /*root=*/true, leaves);
    llvm::DenseMap<Value, bool> memo, scoreMemo;
    Value lower, upper;
    SmallVector<Value> bounds; // the compares that become true in F
    for (Value leaf : leaves) {
      auto cmp = leaf.getDefiningOp<arith::CmpIOp>();
      // A bound may read neither kv nor the score: map_positions_in_rows
      // evaluates it once per row, with 0 for the score.
      if (!cmp || cmp.getLhs() != kv || !leaf.hasOneUse() ||
          dependsOn(cmp.getRhs(), kv, memo) ||
          dependsOn(cmp.getRhs(), fn.getArgument(0), scoreMemo))
        continue;
      if (cmp.getPredicate() == arith::CmpIPredicate::sge && !lower) {
        lower = cmp.getRhs();
        bounds.push_back(leaf);
      } else if (cmp.getPredicate() == arith::CmpIPredicate::sle && !upper) {
        upper = cmp.getRhs();
        bounds.push_back(leaf);
      }
    }
    // Only masks that are nothing but the bounds (see the header).
    if (bounds.empty() || bounds.size() != leaves.size())
      return success();
    std::optional<SmallVector<TileMapOp>> maps = tileMapsCalling(fn, module);
    if (!maps || maps->empty())
      return success();
    // Bands only: both kv bounds moving with q give every program a
    // masked block at each end of its kv range (bounded in width for
    // windows; a document's start for per-position starts), where one
    // copy per kind of block pays; with one masked block per program
    // (causal, prefix-LM, a window open on one side, chunks a multiple of
    // the tiles, whose starts never cut a block) the doubled iteration
    // measured slower at long rows (H200, causal 8k -2.8%,
    // docs/performance.md item 40).
    if (bandsOnly) {
      std::optional<unsigned> q = qArgument(fn, *maps);
      if (!lower || !upper || !q)
        return success();
      Value qArg = fn.getArgument(*q);
      llvm::DenseMap<Value, bool> qMemo;
      if (!dependsOn(lower, qArg, qMemo) || !dependsOn(upper, qArg, qMemo) ||
          isTileAlignedChunkStart(lower, qArg, *maps) ||
          isRuntimeChunkStart(lower))
        return success();
    }

    // kv's range (attn-outline-tile-maps states it): what saturated bounds
    // must stay past; without one, nothing is saturated.
    DenseI64ArrayAttr kvRange = fn.getArgAttrOfType<DenseI64ArrayAttr>(
        cast<BlockArgument>(kv).getArgNumber(), "attn.range");
    if (kvRange && kvRange.size() != 2)
      kvRange = nullptr;
    OpBuilder b(fn);
    auto boundFunction = [&](StringRef suffix, Value bound, int64_t none) {
      IRMapping map;
      func::FuncOp copy = fn.clone(map);
      copy.setSymName((fn.getSymName() + suffix).str());
      copy.setFunctionType(FunctionType::get(
          fn.getContext(), fn.getArgumentTypes(), {b.getIndexType()}));
      Operation *copyRet = copy.getBody().front().getTerminator();
      OpBuilder cb(copyRet);
      Value result = bound ? map.lookup(bound)
                           : arith::ConstantIndexOp::create(cb, fn.getLoc(), none)
                                 .getResult();
      copyRet->setOperands(result);
      IRRewriter cleanup(fn.getContext());
      (void)runRegionDCE(cleanup, copy.getBody());
      if (kvRange)
        saturateUnboundedTerms(copy, kvRange[0], kvRange[1]);
      narrowReturn(copy);
      // Renamed on a collision; placed before F, which the kernel follows.
      return symbols.insert(copy, fn->getIterator());
    };
    StringAttr first = boundFunction("_kv_first", lower, kNoLower);
    StringAttr last = boundFunction("_kv_last", upper, kNoUpper);

    // F keeps the score: the bounds' compares become true and fold away.
    OpBuilder fb(&body, body.begin());
    Value yes = arith::ConstantIntOp::create(fb, fn.getLoc(), 1, 1);
    for (Value leaf : bounds)
      leaf.replaceAllUsesWith(yes);
    if (failed(applyPatternsGreedily(
            fn.getBody(), FrozenRewritePatternSet(RewritePatternSet(fn.getContext())))))
      return fn.emitError() << "attn-kv-bounds-in-rows: folding did not converge";
    IRRewriter cleanup(fn.getContext());
    (void)runRegionDCE(cleanup, fn.getBody());
    fn->setAttr("attn.kv_first", FlatSymbolRefAttr::get(first));
    fn->setAttr("attn.kv_last", FlatSymbolRefAttr::get(last));

    ArrayAttr refs = b.getArrayAttr(
        {FlatSymbolRefAttr::get(first), FlatSymbolRefAttr::get(last)});
    for (TileMapOp map : *maps)
      map->setAttr("attn.kv_bounds", refs);
    return success();
  }
};

} // namespace
