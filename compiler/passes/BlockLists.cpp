//===- BlockLists.cpp - per-q-block kv-block lists for data-dependent masks ===//
//
// A mask that reads tensors (document ids, a block layout) cannot be
// classified per block at compile time, and classifying every block inside
// the attention loop would visit (and pay for) every empty block. This pass
// splits the work in two kernels, as FlexAttention's BlockMask does, but
// generated from the mask:
//
//   func @k_block_lists(<k's arguments>)        {attn.block_list_builder}
//     scf.forall (%p) in (q_blocks * rows) {attn.grid}
//       %lo, %hi = attn.mask_kv_range(...)         // the static part
//       attn.block_list_build %lists[%b, %h, %qb] kv_blocks [%lo, %hi) {
//         attn.mask_block_class ... {bound_tensor_reads} // min/max of reads
//       }
//
//   func @k(..., %lists {attn.block_lists})      // the attention kernel
//     %n = load %lists[%b', %h', %qb, 0]
//     scf.for %i = 0 to %n {                      // was: for %kb = %lo to %hi
//       %e = load %lists[%b', %h', %qb, %i + 1]
//       %kb = %e >> 1 ; %partial = %e & 1          // was: mask_block_class
//       ...
//
// The lists have one row per (batch, head, q-block), collapsed to a single
// batch or head when the mask does not read b or h (a document mask is the
// same for every head); the argument records which, for the runtime. It
// also records `kv_range_follows_q` when the mask compares q with kv other
// than through tensor reads (causal documents: the static part bounds each
// q-block's kv range by q, so later q-blocks tend to have longer lists;
// a block layout alone does not): attn-schedule-grid orders such programs
// longest first and the others for the L2.
//
//===----------------------------------------------------------------------===//
#include "compiler/passes/Passes.h"

#include "dialects/attn/AttnOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/SymbolTable.h"

namespace faopt {
#define GEN_PASS_DEF_ATTNBLOCKLISTS
#include "compiler/passes/Passes.h.inc"
} // namespace faopt

using namespace mlir;
using namespace faopt::attn;

namespace {

/// The kv loop of a kernel, as attn-mask-specialize leaves it: bounded by a
/// mask_kv_range, each block classified by a mask_block_class.
struct KvLoop {
  scf::ForOp loop;
  MaskKvRangeOp range;
  MaskBlockClassOp blockClass;
  scf::ForallOp grid;
};

bool readsTensors(Region &mask) {
  bool reads = false;
  mask.walk([&](memref::LoadOp) { reads = true; });
  return reads;
}

/// Whether the mask (arguments b, h, q, kv) compares q with kv other than
/// through tensor reads: some comparison's operands depend on both q and
/// kv, following every op but memref.load (whose result is data). Causal,
/// windows and prefixes do; `doc[q] == doc[kv]` and a layout read at
/// (q / B, kv / B) alone do not. A heuristic for the program order only
/// (attn-schedule-grid), never for correctness: a table read at q - kv
/// counts as data (unmarked), and a compare on a flattened layout index
/// that mixes q and kv would mark a layout (keeping the longest-first
/// order it does not need).
bool kvBoundedByQ(Block &mask) {
  if (mask.getNumArguments() < 4)
    return false;
  enum : unsigned { kQ = 1, kKv = 2 };
  DenseMap<Value, unsigned> deps;
  deps[mask.getArgument(2)] = kQ;
  deps[mask.getArgument(3)] = kKv;
  bool bounded = false;
  // Post-order: an op's regions are visited before it, so what they yield
  // is known when the op's results are set.
  mask.walk([&](Operation *op) {
    if (isa<memref::LoadOp>(op))
      return;
    unsigned d = 0;
    for (Value o : op->getOperands())
      d |= deps.lookup(o);
    for (Region &region : op->getRegions())
      for (Block &block : region)
        if (!block.empty() && block.back().hasTrait<OpTrait::IsTerminator>())
          for (Value y : block.back().getOperands())
            d |= deps.lookup(y);
    for (Value r : op->getResults())
      deps[r] = d;
    if (isa<arith::CmpIOp, arith::CmpFOp>(op) && d == (kQ | kKv))
      bounded = true;
  });
  return bounded;
}

std::optional<KvLoop> findDataDependentLoop(func::FuncOp kernel) {
  std::optional<KvLoop> found;
  kernel.walk([&](scf::ForOp loop) {
    auto range = loop.getLowerBound().getDefiningOp<MaskKvRangeOp>();
    if (!range || loop.getUpperBound().getDefiningOp() != range ||
        loop.getLowerBound() != range.getLower() ||
        loop.getUpperBound() != range.getUpper())
      return;
    MaskBlockClassOp cls;
    for (Operation &op : loop.getBody()->without_terminator())
      if (auto c = dyn_cast<MaskBlockClassOp>(op))
        cls = c;
    auto grid = loop->getParentOfType<scf::ForallOp>();
    if (!cls || !grid || !grid->hasAttr("attn.grid") ||
        !readsTensors(cls.getMask()))
      return;
    found = KvLoop{loop, range, cls, grid};
  });
  return found;
}

struct AttnBlockListsPass
    : faopt::impl::AttnBlockListsBase<AttnBlockListsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<func::FuncOp> kernels;
    for (auto fn : module.getOps<func::FuncOp>())
      if (fn->hasAttr("attn.kernel"))
        kernels.push_back(fn);
    SymbolTable symbols(module);
    for (func::FuncOp kernel : kernels)
      if (std::optional<KvLoop> kv = findDataDependentLoop(kernel))
        if (failed(split(symbols, kernel, *kv)))
          return signalPassFailure();
  }

  LogicalResult split(SymbolTable &symbols, func::FuncOp kernel, KvLoop kv) {
    auto tiling = kernel->getAttrOfType<TilingAttr>("attn.tiling");
    if (!tiling)
      return kernel.emitError() << "attn-block-lists: kernel has no attn.tiling";
    if (!matchPattern(kv.loop.getStep(), m_One()))
      return kv.loop.emitError() << "attn-block-lists: kv loop step is not 1";
    Block &mask = kv.blockClass.getMask().front();
    bool perBatch = !mask.getArgument(0).use_empty();
    bool perHead = !mask.getArgument(1).use_empty();

    // The lists argument, last; the builder takes the same arguments.
    MLIRContext *ctx = &getContext();
    OpBuilder b(ctx);
    auto listsType = MemRefType::get(
        SmallVector<int64_t>(4, ShapedType::kDynamic), b.getI32Type());
    unsigned listsArg = kernel.getNumArguments();
    SmallVector<NamedAttribute> rows{
        b.getNamedAttr("per_batch", b.getBoolAttr(perBatch)),
        b.getNamedAttr("per_head", b.getBoolAttr(perHead))};
    if (kvBoundedByQ(kv.range.getMask().front()))
      rows.push_back(b.getNamedAttr("kv_range_follows_q", b.getUnitAttr()));
    auto info = b.getDictionaryAttr(
        {b.getNamedAttr("attn.block_lists", b.getDictionaryAttr(rows))});
    if (failed(kernel.insertArgument(listsArg, listsType, info, kernel.getLoc())))
      return failure();
    Value lists = kernel.getArgument(listsArg);

    buildListBuilder(symbols, kernel, kv, tiling, listsArg);
    rewriteLoop(kv, lists, perBatch, perHead);
    return success();
  }

  /// @k_block_lists: one program per (q-block, row of the lists), writing
  /// that row with attn.block_list_build.
  void buildListBuilder(SymbolTable &symbols, func::FuncOp kernel, KvLoop kv,
                        TilingAttr tiling, unsigned listsArg) {
    OpBuilder b(kernel->getContext());
    b.setInsertionPointAfter(kernel);
    Location loc = kernel.getLoc();
    IRMapping cloned;
    auto builder = cast<func::FuncOp>(b.clone(*kernel, cloned));
    builder.setSymName((kernel.getSymName() + "_block_lists").str());
    builder->removeAttr("attn.kernel");
    builder->setAttr("attn.block_list_builder", b.getUnitAttr());
    symbols.insert(builder);
    auto grid = cast<scf::ForallOp>(cloned.lookup(kv.grid.getOperation()));
    auto range = cast<MaskKvRangeOp>(cloned.lookup(kv.range.getOperation()));
    auto cls =
        cast<MaskBlockClassOp>(cloned.lookup(kv.blockClass.getOperation()));
    Value lists = builder.getArgument(listsArg);

    b.setInsertionPoint(grid);
    auto index = [&](int64_t v) -> Value {
      return arith::ConstantIndexOp::create(b, loc, v);
    };
    Value qBlocks = memref::DimOp::create(b, loc, lists, 2);
    Value heads = memref::DimOp::create(b, loc, lists, 1);
    Value rowCount = arith::MulIOp::create(
        b, loc, memref::DimOp::create(b, loc, lists, 0), heads);
    Value programs = arith::MulIOp::create(b, loc, qBlocks, rowCount);
    auto forall = scf::ForallOp::create(
        b, loc, ArrayRef<OpFoldResult>{programs}, ValueRange(), std::nullopt);
    forall->setAttr("attn.grid", b.getUnitAttr());
    b.setInsertionPointToStart(forall.getBody());
    Value p = forall.getInductionVar(0);
    Value qb = arith::RemUIOp::create(b, loc, p, qBlocks);
    Value row = arith::DivUIOp::create(b, loc, p, qBlocks);
    Value batch = arith::DivUIOp::create(b, loc, row, heads);
    Value head = arith::RemUIOp::create(b, loc, row, heads);
    Value qFirst = arith::MulIOp::create(b, loc, qb, index(tiling.getBlockQ()));
    Value qLast = arith::AddIOp::create(b, loc, qFirst,
                                        index(tiling.getBlockQ() - 1));
    IRMapping m;
    m.map(range.getBatch(), batch);
    m.map(range.getHead(), head);
    m.map(range.getQFirst(), qFirst);
    m.map(range.getQLast(), qLast);
    auto newRange = cast<MaskKvRangeOp>(b.clone(*range, m));

    auto build = BlockListBuildOp::create(b, loc, lists, batch, head, qb,
                                          newRange.getLower(),
                                          newRange.getUpper());
    Block *body = b.createBlock(&build.getBody(), {}, {b.getIndexType()}, {loc});
    Value kb = body->getArgument(0);
    Value kvFirst = arith::MulIOp::create(b, loc, kb, index(tiling.getBlockKv()));
    Value kvLast = arith::AddIOp::create(b, loc, kvFirst,
                                         index(tiling.getBlockKv() - 1));
    IRMapping cm;
    cm.map(cls.getBatch(), batch);
    cm.map(cls.getHead(), head);
    cm.map(cls.getQFirst(), qFirst);
    cm.map(cls.getQLast(), qLast);
    cm.map(cls.getKvFirst(), kvFirst);
    cm.map(cls.getKvLast(), kvLast);
    auto newClass = cast<MaskBlockClassOp>(b.clone(*cls, cm));
    newClass.setBoundTensorReads(true);
    YieldOp::create(b, loc, newClass.getResults());
    b.setInsertionPointAfter(forall);
    grid.erase();
  }

  /// The kernel's kv loop walks its list row instead of [lower, upper).
  void rewriteLoop(KvLoop kv, Value lists, bool perBatch, bool perHead) {
    scf::ForOp old = kv.loop;
    Location loc = old.getLoc();
    OpBuilder b(old);
    auto index = [&](int64_t v) -> Value {
      return arith::ConstantIndexOp::create(b, loc, v);
    };
    Value zero = index(0), one = index(1);
    Value rowB = perBatch ? kv.blockClass.getBatch() : zero;
    Value rowH = perHead ? kv.blockClass.getHead() : zero;
    Value qb = kv.grid.getInductionVar(0);
    Value count = arith::IndexCastOp::create(
        b, loc, b.getIndexType(),
        memref::LoadOp::create(b, loc, lists, ValueRange{rowB, rowH, qb, zero}));
    auto loop = scf::ForOp::create(b, loc, zero, count, one, old.getInitArgs());
    b.setInsertionPointToStart(loop.getBody());
    Value slot = arith::AddIOp::create(b, loc, loop.getInductionVar(), one);
    Value entry =
        memref::LoadOp::create(b, loc, lists, ValueRange{rowB, rowH, qb, slot});
    Value one32 = arith::ConstantIntOp::create(b, loc, 1, 32);
    Value kb = arith::IndexCastOp::create(
        b, loc, b.getIndexType(), arith::ShRSIOp::create(b, loc, entry, one32));
    Value partial = arith::TruncIOp::create(
        b, loc, b.getI1Type(), arith::AndIOp::create(b, loc, entry, one32));
    Value trueV = arith::ConstantIntOp::create(b, loc, 1, 1);
    Value full = arith::XOrIOp::create(b, loc, partial, trueV);

    SmallVector<Value> blockArgs{kb};
    llvm::append_range(blockArgs, loop.getRegionIterArgs());
    Block *newBody = loop.getBody();
    Block *oldBody = old.getBody();
    if (loop.getNumRegionIterArgs() == 0) // the builder added a yield; the
      newBody->getTerminator()->erase(); // old body brings its own
    for (auto [from, to] : llvm::zip(oldBody->getArguments(), blockArgs))
      from.replaceAllUsesWith(to);
    newBody->getOperations().splice(newBody->end(), oldBody->getOperations());
    kv.blockClass.getAny().replaceAllUsesWith(trueV);
    kv.blockClass.getAll().replaceAllUsesWith(full);
    kv.blockClass.erase();
    old.replaceAllUsesWith(loop.getResults());
    old.erase();
    if (kv.range->use_empty())
      kv.range.erase();
  }
};

} // namespace
