//===- OutlineTileMaps.cpp - tile_map bodies as device functions ----------===//
//
// A GPU thread applies a tile_map body to each fragment element it holds; in
// CUDA C++ that body is a __device__ function handed to a template. This pass
// makes the function explicit in the IR:
//
//   attn.tile_map %s at(...) { ^bb0(%x, %b, %h, %q, %kv): ... uses %bound }
// becomes
//   func.func private @k_masked_logits(%x: f32, %b, %h, %q, %kv, %bound: index)
//       -> f32 attributes {attn.device_function}
//   attn.tile_map %s at(...) { ^bb0(...): %r = func.call @k_masked_logits(...,
//       %bound); attn.yield %r }
//
// The body of attn.block_list_build (classify kv-block %kb) is outlined the
// same way, as @k_kv_block_class(%kb, ...) -> i32 (0 empty, 1 partial,
// 2 full), which the list-building template calls per block, and that of
// attn.key_ranges as @k_keys(%pos, %is_row, ...) -> i64.
//
//===----------------------------------------------------------------------===//
#include "compiler/targets/gpu/Passes.h"

#include "compiler/targets/gpu/IndexRanges.h"
#include "dialects/attn/AttnOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/RegionUtils.h"

namespace faopt::gpu {
#define GEN_PASS_DEF_ATTNOUTLINETILEMAPS
#include "compiler/targets/gpu/Passes.h.inc"
} // namespace faopt::gpu

using namespace mlir;
using namespace faopt::attn;

namespace {

/// The largest sequence length a launch may have (the runtime checks it):
/// positions and their sums and differences then fit in 32 bits, which
/// attn-narrow-index-math relies on.
constexpr int64_t kMaxSeqLen = int64_t(1) << 29;
/// Positions of partial tiles reach past the sequence by less than a tile.
constexpr int64_t kMaxPosition = kMaxSeqLen + 1024;

/// What the range of a value captured by a device function is known to be
/// (a sequence length, a size), for attn-narrow-index-math.
std::optional<std::pair<int64_t, int64_t>> knownRange(Value v) {
  auto dim = v.getDefiningOp<memref::DimOp>();
  if (!dim)
    return std::nullopt;
  std::optional<int64_t> index = dim.getConstantIndex();
  auto arg = dyn_cast<BlockArgument>(dim.getSource());
  // The kernel's q, k, v, o views are [batch, heads, seq, dim].
  if (index && *index == 2 && arg && arg.getArgNumber() < 4 &&
      isa<func::FuncOp>(arg.getOwner()->getParentOp()))
    return std::make_pair(int64_t(0), kMaxSeqLen);
  return std::make_pair(int64_t(0), int64_t(INT32_MAX));
}

/// The most q-blocks (or kv-blocks) a sequence of kMaxSeqLen has under the
/// builder's tiling (kMaxSeqLen without one).
int64_t maxBlocks(func::FuncOp builder, bool q) {
  auto tiling = builder->getAttrOfType<TilingAttr>("attn.tiling");
  int64_t block = tiling ? (q ? tiling.getBlockQ() : tiling.getBlockKv()) : 1;
  return (kMaxSeqLen + block - 1) / std::max<int64_t>(block, 1);
}

/// What every launch of a list builder guarantees, stated on its values
/// (`attn.range`) so that the classifier and key functions outlined from it
/// get ranges for what they capture and attn-narrow-index-math can move the
/// builder's own arithmetic to i32: one thread block per list row, launched
/// as one grid dimension (fewer than 2^31 rows, as the kernel's programs),
/// and sequences, hence q-blocks too, of at most 2^29 (the runtime checks).
void stateBuilderLaunchFacts(func::FuncOp builder) {
  builder.walk([&](scf::ForallOp grid) {
    if (!grid->hasAttr("attn.grid") || grid.getRank() != 1)
      return;
    if (auto rows = dyn_cast<Value>(grid.getMixedUpperBound()[0]))
      faopt::gpu::stateRange(rows, 0, INT32_MAX);
  });
  builder.walk([&](memref::DimOp dim) {
    auto arg = dyn_cast<BlockArgument>(dim.getSource());
    std::optional<int64_t> index = dim.getConstantIndex();
    if (!arg || arg.getOwner()->getParentOp() != builder || index != 2)
      return;
    // q, k, v, o: [batch, heads, seq, dim]; the lists: [.., .., q-blocks, ..].
    if (arg.getArgNumber() < 4)
      faopt::gpu::stateRange(dim, 0, kMaxSeqLen);
    else if (builder.getArgAttr(arg.getArgNumber(), "attn.block_lists"))
      faopt::gpu::stateRange(dim, 0, maxBlocks(builder, /*q=*/true));
  });
}

/// Records `lo..hi` on argument `i` of `fn`.
void setRange(func::FuncOp fn, unsigned i, int64_t lo, int64_t hi) {
  OpBuilder b(fn.getContext());
  fn.setArgAttr(i, "attn.range", b.getDenseI64ArrayAttr({lo, hi}));
}

/// A readable name: masked bodies compare positions, plain ones do not.
std::string baseName(func::FuncOp kernel, TileMapOp map) {
  bool masked = false;
  map.getBody().walk([&](arith::SelectOp) { masked = true; });
  return (kernel.getSymName() + (masked ? "_masked_logits" : "_logits")).str();
}

struct AttnOutlineTileMapsPass
    : faopt::gpu::impl::AttnOutlineTileMapsBase<AttnOutlineTileMapsPass> {
  /// The index ranges of each function bodies are outlined from, computed
  /// on first use in a run. Outlining earlier maps of the same kernel does
  /// not change them for what is asked: captured values are defined
  /// outside every map body. Shared pointers: a pass is copied when the
  /// pass manager clones it.
  llvm::DenseMap<Operation *, std::shared_ptr<faopt::gpu::IndexRanges>> ranges;
  const faopt::gpu::IndexRanges &rangesOf(func::FuncOp fn) {
    std::shared_ptr<faopt::gpu::IndexRanges> &r = ranges[fn.getOperation()];
    if (!r)
      r = std::make_shared<faopt::gpu::IndexRanges>(fn);
    return *r;
  }

  void runOnOperation() override {
    ranges.clear();
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    SmallVector<std::pair<func::FuncOp, TileMapOp>> maps;
    module.walk([&](TileMapOp map) {
      if (auto kernel = map->getParentOfType<func::FuncOp>())
        maps.push_back({kernel, map});
    });
    for (auto [kernel, map] : maps)
      outline(symbols, kernel, map);
    SmallVector<std::pair<func::FuncOp, BlockListBuildOp>> builds;
    module.walk([&](BlockListBuildOp build) {
      if (auto fn = build->getParentOfType<func::FuncOp>())
        builds.push_back({fn, build});
    });
    for (auto [fn, build] : builds) {
      stateBuilderLaunchFacts(fn);
      outlineClassifier(symbols, fn, build);
    }
    SmallVector<std::pair<func::FuncOp, KeyRangesOp>> keys;
    module.walk([&](KeyRangesOp op) {
      if (auto fn = op->getParentOfType<func::FuncOp>())
        keys.push_back({fn, op});
    });
    for (auto [fn, op] : keys)
      outlineKeys(symbols, fn, op);
  }

  /// The body of a region as a private device function taking the body's
  /// arguments, then the values it uses from above (constants are copied
  /// in instead), returning what `result` computes from the cloned body.
  /// The body is left calling the function; `decode` turns the call's
  /// result back into the body's yield operands.
  template <typename ResultFn, typename DecodeFn>
  func::FuncOp outlineBody(SymbolTable &symbols, func::FuncOp anchor,
                           Region &body, const std::string &name,
                           Type resultType, ResultFn result, DecodeFn decode,
                           bool inferCapturedRanges = false) {
    Block &block = body.front();
    llvm::SetVector<Value> above, captured;
    SmallVector<Operation *> constants;
    getUsedValuesDefinedAbove(body, above);
    for (Value v : above) {
      Operation *def = v.getDefiningOp();
      if (def && def->hasTrait<OpTrait::ConstantLike>())
        constants.push_back(def);
      else
        captured.insert(v);
    }
    SmallVector<Type> argTypes(block.getArgumentTypes());
    for (Value v : captured)
      argTypes.push_back(v.getType());

    OpBuilder b(anchor);
    Location loc = body.getParentOp()->getLoc();
    auto fn = func::FuncOp::create(b, loc, name,
                                   b.getFunctionType(argTypes, {resultType}));
    fn.setPrivate();
    fn->setAttr("attn.device_function", b.getUnitAttr());
    symbols.insert(fn); // uniquifies the name if needed
    unsigned own = block.getNumArguments();
    for (auto [i, v] : llvm::enumerate(captured)) {
      if (auto r = knownRange(v)) {
        setRange(fn, own + i, r->first, r->second);
        continue;
      }
      // A value the kernel computes from sizes (seqlen_k - 3 in a mask
      // expression, hoisted out of the body): what the kernel's ranges
      // say, where they bound it (else the mask clamps it as a run-time
      // parameter and compares in 64 bits; attn-narrow-index-math already
      // computes it in 32 bits in the kernel on the same ranges). List
      // builders' classifiers and key functions too, on the builder's
      // launch facts (stateBuilderLaunchFacts): the builder is one
      // thread's chain of dependent instructions, so each 64-bit operation
      // it keeps costs time (docs/performance.md item 45).
      // Index values whose range fits i32 only: a wider known range would
      // make attn-isolate-kv-bounds keep the term per score (it takes a
      // term within 2^39 of kv, or one without a range, clamped).
      if (!inferCapturedRanges || !v.getType().isIndex())
        continue;
      if (std::optional<faopt::gpu::Range> r = rangesOf(anchor).of(v);
          r && r->fitsI32())
        setRange(fn, own + i, static_cast<int64_t>(r->lo),
                 static_cast<int64_t>(r->hi));
    }

    Block *entry = fn.addEntryBlock();
    IRMapping mapping;
    mapping.map(block.getArguments(), entry->getArguments().take_front(own));
    for (auto [v, arg] : llvm::zip(captured, entry->getArguments().drop_front(own)))
      mapping.map(v, arg);
    b.setInsertionPointToStart(entry);
    for (Operation *c : constants)
      b.clone(*c, mapping);
    for (Operation &op : block.without_terminator())
      b.clone(op, mapping);
    Operation *yield = block.getTerminator();
    SmallVector<Value> yielded;
    for (Value v : yield->getOperands())
      yielded.push_back(mapping.lookup(v));
    func::ReturnOp::create(b, loc, result(b, loc, yielded));

    // The body now calls the function.
    SmallVector<Operation *> old;
    for (Operation &op : block.without_terminator())
      old.push_back(&op);
    b.setInsertionPoint(yield);
    SmallVector<Value> args(block.getArguments());
    llvm::append_range(args, captured);
    Value call = func::CallOp::create(b, loc, fn, args).getResult(0);
    yield->setOperands(decode(b, loc, call));
    for (Operation *op : llvm::reverse(old))
      op->erase();
    return fn;
  }

  void outlineClassifier(SymbolTable &symbols, func::FuncOp builder,
                         BlockListBuildOp build) {
    StringRef base = builder.getSymName();
    base.consume_back("_block_lists");
    auto i32 = [](OpBuilder &b, Location loc, int64_t v) -> Value {
      return arith::ConstantIntOp::create(b, loc, v, 32);
    };
    func::FuncOp fn = outlineBody(
        symbols, builder, build.getBody(), (base + "_kv_block_class").str(),
        OpBuilder(builder).getI32Type(),
        [&](OpBuilder &b, Location loc, ArrayRef<Value> anyAll) -> Value {
          Value fullOrPartial = arith::SelectOp::create(
              b, loc, anyAll[1], i32(b, loc, 2), i32(b, loc, 1));
          return arith::SelectOp::create(b, loc, anyAll[0], fullOrPartial,
                                         i32(b, loc, 0));
        },
        [&](OpBuilder &b, Location loc, Value cls) -> SmallVector<Value> {
          return {arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, cls,
                                        i32(b, loc, 0)),
                  arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, cls,
                                        i32(b, loc, 2))};
        },
        /*inferCapturedRanges=*/true);
    setRange(fn, 0, 0, maxBlocks(builder, /*q=*/false)); // the kv-block index
  }

  /// attn.key_ranges's body: @k_keys(%pos, %is_row, ...) -> i64.
  void outlineKeys(SymbolTable &symbols, func::FuncOp builder,
                   KeyRangesOp op) {
    StringRef base = builder.getSymName();
    base.consume_back("_block_lists");
    func::FuncOp fn = outlineBody(
        symbols, builder, op.getBody(), (base + "_keys").str(),
        OpBuilder(builder).getI64Type(),
        [](OpBuilder &, Location, ArrayRef<Value> key) { return key[0]; },
        [](OpBuilder &, Location, Value key) {
          return SmallVector<Value>{key};
        },
        /*inferCapturedRanges=*/true);
    // A q or kv position; key_ranges's order check reads up to 7 * 128
    // positions past the span (Key clamps them).
    setRange(fn, 0, 0, kMaxPosition);
  }

  void outline(SymbolTable &symbols, func::FuncOp kernel, TileMapOp map) {
    Block &block = map.getBody().front();
    // Skip bodies that already only call a device function.
    if (llvm::hasSingleElement(block.without_terminator()))
      if (auto call = dyn_cast<func::CallOp>(block.front()))
        if (auto callee = symbols.lookup<func::FuncOp>(call.getCallee()))
          if (callee->hasAttr("attn.device_function"))
            return;
    func::FuncOp fn = outlineBody(
        symbols, kernel, map.getBody(), baseName(kernel, map),
        OpBuilder(kernel).getF32Type(),
        [](OpBuilder &, Location, ArrayRef<Value> score) { return score[0]; },
        [](OpBuilder &, Location, Value score) {
          return SmallVector<Value>{score};
        },
        /*inferCapturedRanges=*/true);
    // (score, b, h, q, kv): batch and head indices, positions.
    setRange(fn, 1, 0, INT32_MAX);
    setRange(fn, 2, 0, INT32_MAX);
    setRange(fn, 3, 0, kMaxPosition);
    setRange(fn, 4, 0, kMaxPosition);
    // attn-isolate-kv-bounds turns terms linear in it into per-row bounds.
    fn.setArgAttr(4, "attn.kv_position", UnitAttr::get(fn.getContext()));
  }
};

} // namespace
