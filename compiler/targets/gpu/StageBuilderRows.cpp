//===- StageBuilderRows.cpp - a list builder's tensor reads from shared memory //
//
// A kv-block list builder (attn.block_list_builder) classifies each list row
// with reads of a tensor input that depend on one another: the document
// builder reads the q-block's ids, then each kv-block's (attn.tensor_bounds
// in attn.block_list_build), then the span's keys for the order check and
// the searches (memref.load in attn.key_ranges). Each of those rounds is a
// global-memory round trip on the builder's critical path, and the builder
// sits between the previous kernel and the attention kernel
// (docs/performance.md items 44-46: its blocks are a chain of such phases).
// Where every read of the tensor in a row uses the same leading indices
// (doc[b, ...] for the row's batch b), that row of the tensor is all the
// row reads, so the thread block copies it into shared memory once, all
// copies in flight, and the reads come from there:
//
//   attn.block_list_build %lists[...] kv_blocks[...] {
//     %min, %max = attn.tensor_bounds %ids[%b, %q0] to [%b, %q1] : ...
//     ... attn.tensor_bounds %ids[%b, %k0] to [%b, %k1] ...
//   }
//   attn.key_ranges ... { ... memref.load %ids[%b, %pos] ... }
// becomes
//   %ids_s = attn.stage_row %ids[%b] {capacity = 8192 : i64}
//       : memref<?x?xi32, ...> -> memref<?x?xi32, ..., 3>
//   attn.block_list_build ... { ... attn.tensor_bounds %ids_s[...] ... }
//   attn.key_ranges ... { ... memref.load %ids_s[%b, %pos] ... }
//
// The staged view is the same tensor (attn.stage_row's reads fall back to
// it where nothing was copied), so the rewrite never changes a result. A
// tensor is staged only where a row reads it at least twice (one read
// gains nothing from a copy first) and every use inside the row's bodies
// is such a read or a memref.dim; the leading indices must be computed the
// same way in every read, from values the row has before its first body
// (they are re-computed there for attn.stage_row). One tensor per builder:
// the copy's shared memory is static (capacity entries of 32 bits).
//
//===----------------------------------------------------------------------===//
#include "compiler/targets/gpu/Passes.h"

#include "dialects/attn/AttnOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Dominance.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace faopt::gpu {
#define GEN_PASS_DEF_ATTNSTAGEBUILDERROWS
#include "compiler/targets/gpu/Passes.h.inc"
} // namespace faopt::gpu

using namespace mlir;
using namespace faopt::attn;

namespace {

/// The reads of one tensor argument inside a row's bodies.
struct TensorReads {
  SmallVector<Operation *> reads; // attn.tensor_bounds, memref.load
  SmallVector<Operation *> dims;  // memref.dim
  SmallVector<Value> lead;        // the first read's leading indices
  bool stageable = true;
};

/// Whether `v` is computed the same way as `w`: the same value, or results
/// of ops with the same name, attributes and equivalent operands that have
/// no memory effects or regions (index arithmetic, memref.dim).
bool sameIndex(Value v, Value w) {
  if (v == w)
    return true;
  auto a = dyn_cast<OpResult>(v), b = dyn_cast<OpResult>(w);
  if (!a || !b || a.getResultNumber() != b.getResultNumber())
    return false;
  Operation *x = a.getOwner(), *y = b.getOwner();
  if (x->getName() != y->getName() ||
      x->getRawDictionaryAttrs() != y->getRawDictionaryAttrs() ||
      x->getNumOperands() != y->getNumOperands() || x->getNumRegions() ||
      y->getNumRegions() || !isMemoryEffectFree(x))
    return false;
  for (auto [p, q] : llvm::zip(x->getOperands(), y->getOperands()))
    if (!sameIndex(p, q))
      return false;
  return true;
}

/// Whether `v` can be re-computed right before `at`: defined by a value
/// that dominates it, or by effect-free region-free ops over such values.
bool recomputable(Value v, Operation *at, DominanceInfo &dom) {
  if (dom.properlyDominates(v, at))
    return true;
  Operation *def = v.getDefiningOp();
  if (!def || def->getNumRegions() || !isMemoryEffectFree(def))
    return false;
  return llvm::all_of(def->getOperands(), [&](Value operand) {
    return recomputable(operand, at, dom);
  });
}

/// `v`, re-computed at `b`'s insertion point (recomputable(v) holds).
Value recompute(OpBuilder &b, Value v, Operation *at, DominanceInfo &dom,
                IRMapping &done) {
  if (dom.properlyDominates(v, at))
    return v;
  if (Value known = done.lookupOrNull(v))
    return known;
  Operation *def = v.getDefiningOp();
  for (Value operand : def->getOperands())
    done.map(operand, recompute(b, operand, at, dom, done));
  Operation *copy = b.clone(*def, done);
  return copy->getResult(cast<OpResult>(v).getResultNumber());
}

struct AttnStageBuilderRowsPass
    : faopt::gpu::impl::AttnStageBuilderRowsBase<AttnStageBuilderRowsPass> {
  using AttnStageBuilderRowsBase::AttnStageBuilderRowsBase;

  void runOnOperation() override {
    for (auto fn : getOperation().getOps<func::FuncOp>()) {
      if (!fn->hasAttr("attn.block_list_builder"))
        continue;
      DominanceInfo dom(fn);
      SmallVector<BlockListBuildOp> builds;
      fn.walk([&](BlockListBuildOp op) { builds.push_back(op); });
      for (BlockListBuildOp build : builds)
        stageRow(fn, build, dom);
    }
  }

  /// Adds the leading indices of one read of `arg` (its first rank - 1
  /// indices; a box must be a single point there).
  static void addRead(TensorReads &r, Operation *read, ValueRange lower,
                      ValueRange upper) {
    SmallVector<Value> lead;
    for (unsigned d = 0; d + 1 < lower.size(); ++d) {
      if (!sameIndex(lower[d], upper[d])) {
        r.stageable = false;
        return;
      }
      lead.push_back(lower[d]);
    }
    if (r.reads.empty())
      r.lead = lead;
    else if (!llvm::all_of(llvm::zip(lead, r.lead), [](auto p) {
               return sameIndex(std::get<0>(p), std::get<1>(p));
             }))
      r.stageable = false;
    r.reads.push_back(read);
  }

  void stageRow(func::FuncOp fn, BlockListBuildOp build, DominanceInfo &dom) {
    // The row: the grid body holding the build; its bodies are the build's
    // and those of the attn.key_ranges after it in the same block.
    if (!isa_and_nonnull<scf::ForallOp>(build->getParentOp()))
      return;
    SmallVector<Operation *> bodies = {build};
    for (Operation &op : *build->getBlock())
      if (isa<KeyRangesOp>(op) && build->isBeforeInBlock(&op))
        bodies.push_back(&op);

    llvm::MapVector<Value, TensorReads> tensors;
    for (BlockArgument arg : fn.getArguments()) {
      auto type = dyn_cast<MemRefType>(arg.getType());
      if (type && type.getRank() >= 1 && !type.getMemorySpace() &&
          type.getElementType().isIntOrFloat() &&
          type.getElementType().getIntOrFloatBitWidth() == 32)
        tensors[arg] = TensorReads();
    }
    for (Operation *body : bodies) {
      body->walk([&](Operation *op) {
        for (Value operand : op->getOperands()) {
          auto it = tensors.find(operand);
          if (it == tensors.end())
            continue;
          TensorReads &r = it->second;
          if (auto bounds = dyn_cast<TensorBoundsOp>(op);
              bounds && bounds.getTensor() == operand)
            addRead(r, op, bounds.getLower(), bounds.getUpper());
          else if (auto load = dyn_cast<memref::LoadOp>(op);
                   load && load.getMemRef() == operand)
            addRead(r, op, load.getIndices(), load.getIndices());
          else if (isa<memref::DimOp>(op))
            r.dims.push_back(op);
          else
            r.stageable = false;
        }
      });
    }

    // The most-read stageable tensor (one copy per row: static shared
    // memory).
    Value best;
    for (auto &[tensor, r] : tensors) {
      if (!r.stageable || r.reads.size() < 2 ||
          !llvm::all_of(r.lead, [&](Value v) {
            return recomputable(v, build, dom);
          }))
        continue;
      if (!best || r.reads.size() > tensors[best].reads.size())
        best = tensor;
    }
    if (!best)
      return;
    TensorReads &r = tensors[best];
    OpBuilder b(build);
    IRMapping done;
    SmallVector<Value> lead;
    for (Value v : r.lead)
      lead.push_back(recompute(b, v, build, dom, done));
    auto type = cast<MemRefType>(best.getType());
    auto stagedType =
        MemRefType::get(type.getShape(), type.getElementType(),
                        type.getLayout(), b.getI64IntegerAttr(3));
    Value staged = StageRowOp::create(b, build.getLoc(), stagedType, best,
                                      lead, b.getI64IntegerAttr(capacity));
    for (Operation *op : llvm::concat<Operation *>(r.reads, r.dims))
      op->replaceUsesOfWith(best, staged);
  }
};

} // namespace
