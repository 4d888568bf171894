//===- ReleaseQEarly.cpp - hand Q's stage back after the last S = Q K^T ---===//
//
// In a persistent kernel the consumers release Q's stage after their kv
// loop (attn-pipeline-kv-loads), and only then may the copy thread load the
// next program's Q into it. So the next Q's latency (a cold tile from HBM,
// ~1.2 µs) starts only after the last block's softmax, and the last P V, the
// O store and the consumers' work between programs do not cover it: on the
// H200 the consumers of the benchmark's document kernel waited ~1,020 cycles
// per program for Q (3.5% of its time; `bench/kernel-waits.sh`,
// docs/performance.md item 57). Q is last read by the last iteration's
// S = Q K^T, so this pass releases it right after that product's wait, in
// the iteration that is the loop's last:
//
//   scf.for %j = %lb to %n step %s {        scf.for %j = %lb to %n step %s {
//                                             %last = (%j + %s >= %n)
//     %S = attn.tile_matmul %q, %k async      %S = attn.tile_matmul %q, %k async
//     ... attn.tile_mma_wait %S ...            ... attn.tile_mma_wait %S ...
//                                             attn.tile_release %Q ... when %last
//     (softmax, P V)                           (softmax, P V)
//   }                                        }
//   attn.tile_release %Q stage %t round %r   attn.tile_release %Q ... when (%n <= %lb)
//
// In a guarded iteration (an scf.if whose `then` holds the products, as a
// static kernel's kv-block outside the mask skips them) it goes into the
// guard, and to the start of its `else`, so each path releases once.
// The release after the loop stays for a loop that runs no iteration (an
// empty kv-block list). `when` lowers to faopt::tma::release_when, which
// never waits for the fill: by then the stage may hold the next program's
// Q, and a wait for `round`'s parity would wait for a phase only this warp
// can complete (the first build deadlocked so). The tile is one the loop's
// matrix products read but that is waited for outside the loop (Q: K and V
// stages turn over inside it). Runs after attn-warp-specialize, on the
// consumers' loops; the later passes that copy the kv loop (sorted keys,
// unswitched masked blocks) copy the release too.
//
// On the H200 it gained documents 2.1%, the window 1.2% and dense 2.2%,
// and lost prefix-LM 8.4%, causal 1.4% and documents as row starts 1.8%,
// with the same wgmma waits and uniform census by scripts/sass-waits.sh
// for prefix-LM (docs/performance.md item 58); re-measured on two-Q-tile
// kernels: window +1.7%, prefix-LM -8.6%, dense +2.3% at 8k but mixed at
// 16k, handed-out kernels within +-1.2% (item 70); and in session 31 the
// window +1.6%, chunks of 1024 (a run-time parameter) -2.4% with their
// first block searched and -2.2% with it in closed form (items 75, 76). So
// by default (`bands-only`) it runs only on kv loops whose first block is
// a closed form that moves with the program and is not a chunk's start:
// masks linear in kv bounded on both sides (sliding windows);
// --release-q-early / FAOPT_RELEASE_Q_EARLY=1 everywhere.
//
//===----------------------------------------------------------------------===//
#include "compiler/targets/gpu/Passes.h"

#include "compiler/targets/gpu/KvLoopStarts.h"
#include "dialects/attn/AttnOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Matchers.h"

namespace faopt::gpu {
#define GEN_PASS_DEF_ATTNRELEASEQEARLY
#include "compiler/targets/gpu/Passes.h.inc"
} // namespace faopt::gpu

using namespace mlir;
using namespace faopt::attn;

namespace {

/// The ops that read `tile` in `loop`: its matrix products and the waits
/// for their results. Empty when the loop reads it otherwise, passes it
/// along (as a loop operand), or an async product's result goes anywhere
/// but to a wait in the loop (then where the read ends is not visible here;
/// attn.tile_matmul's verifier allows only waits today).
SmallVector<Operation *> readsIn(scf::ForOp loop, Value tile) {
  SmallVector<Operation *> reads;
  for (OpOperand &use : tile.getUses()) {
    Operation *user = use.getOwner();
    if (user == loop.getOperation())
      return {};
    if (!loop->isProperAncestor(user))
      continue;
    auto product = dyn_cast<TileMatmulOp>(user);
    if (!product)
      return {};
    reads.push_back(product);
    if (!product.getAsync())
      continue;
    bool waited = false;
    for (Operation *wait : product.getResult().getUsers()) {
      if (!isa<TileMmaWaitOp>(wait) || !loop->isProperAncestor(wait))
        return {};
      reads.push_back(wait);
      waited = true;
    }
    if (!waited)
      return {};
  }
  return reads;
}

/// Inserts a release (by `create`, at the builder's point) in `block` right
/// after the last op that holds one of `reads`. Where that op is an scf.if
/// holding every read in its `then` block (a guarded iteration: the block
/// may be outside the mask), into that block instead, and at the start of
/// its `else` block, which reads nothing: each path through the iteration
/// releases once, as early as it can.
void placeAfterLastRead(Block *block, ArrayRef<Operation *> reads,
                        OpBuilder &b,
                        function_ref<void(OpBuilder &)> create) {
  Operation *last = nullptr;
  for (Operation *read : reads)
    if (Operation *holder = block->findAncestorOpInBlock(*read);
        holder && (!last || last->isBeforeInBlock(holder)))
      last = holder;
  if (auto guard = dyn_cast_or_null<scf::IfOp>(last);
      guard && guard.elseBlock() &&
      llvm::all_of(reads, [&](Operation *read) {
        return guard.getThenRegion().isAncestor(read->getParentRegion());
      })) {
    placeAfterLastRead(guard.thenBlock(), reads, b, create);
    b.setInsertionPointToStart(guard.elseBlock());
    create(b);
    return;
  }
  b.setInsertionPointAfter(last);
  create(b);
}

/// Whether a kv loop's first block `v` is not a band's: it depends on an
/// scf.while (the binary search attn-expand-block-analysis emits for kv
/// ranges not linear in kv) or on a chunk start, `(x / d) * d` (chunked
/// masks, whose closed form rounds q down to its chunk).
bool notABandStart(Value v) {
  return faopt::gpu::computedFrom(v, [](Operation *op) {
    return isa<scf::WhileOp>(op) || faopt::gpu::isChunkStart(op);
  });
}

/// The copy thread's order for a program whose Q is released early: its
/// first K and V, then Q (attn-pipeline-kv-loads issues Q first). With Q
/// released at the last S = Q K^T, the next program's first K is then
/// issued a block earlier and its Q a softmax later, both still landing
/// under the last P V and O store. Measured, not explained: sliding window
/// 1024 +1.1% on the H200, while kernels releasing Q after the loop did
/// not gain from this order (dense ±0.5%, the run-time chunk −3%;
/// docs/performance.md item 84). Moves each prefetch of
/// `q` before the next scf.for of its block; its operands are all defined
/// before it, so they still dominate. Not with two Q tiles (a loop over
/// programs with attn.q_stages = 2): the next Q's tile empties a program
/// earlier, so Q first waits for nothing.
void issueQAfterFirstKv(func::FuncOp kernel, Value q) {
  auto twoQTiles = [](Operation *op) {
    for (auto loop = op->getParentOfType<scf::ForOp>(); loop;
         loop = loop->getParentOfType<scf::ForOp>())
      if (auto n = loop->getAttrOfType<IntegerAttr>("attn.q_stages");
          n && n.getInt() == 2)
        return true;
    return false;
  };
  SmallVector<TilePrefetchOp> prefetches;
  kernel.walk([&](TilePrefetchOp prefetch) {
    if (prefetch.getSource() == q && !twoQTiles(prefetch))
      prefetches.push_back(prefetch);
  });
  for (TilePrefetchOp prefetch : prefetches)
    for (Operation *op = prefetch->getNextNode(); op; op = op->getNextNode())
      if (isa<scf::ForOp>(op)) {
        prefetch->moveBefore(op);
        break;
      }
}

struct AttnReleaseQEarlyPass
    : faopt::gpu::impl::AttnReleaseQEarlyBase<AttnReleaseQEarlyPass> {
  using AttnReleaseQEarlyBase::AttnReleaseQEarlyBase;
  void runOnOperation() override {
    func::FuncOp kernel = getOperation();
    if (!kernel->hasAttr("attn.kernel"))
      return;
    SmallVector<TileReleaseOp> releases;
    kernel.walk([&](TileReleaseOp release) {
      if (!release.getWhen())
        releases.push_back(release);
    });
    for (TileReleaseOp release : releases) {
      // (Signed bounds: `last` and `empty` below compare them signed.)
      auto loop = dyn_cast_or_null<scf::ForOp>(release->getPrevNode());
      if (!loop || loop.getUnsignedCmp())
        continue;
      // Bands only (see above): not loops from a constant block (dense,
      // causal, prefix-LM, the lists' positions), from a chunk's start, or
      // from a block a binary search finds (other non-linear masks).
      if (bandsOnly && (matchPattern(loop.getLowerBound(), m_Constant()) ||
                        notABandStart(loop.getLowerBound())))
        continue;
      // The tile the loop reads: a wait for the released stage and round
      // before the loop (so those dominate the loop).
      Value tile;
      for (Operation *user : release.getSource().getUsers())
        if (auto wait = dyn_cast<TileWaitOp>(user);
            wait && wait.getStage() == release.getStage() &&
            wait.getRound() == release.getRound() &&
            wait->getBlock() == loop->getBlock() &&
            wait->isBeforeInBlock(loop))
          tile = wait.getTile();
      SmallVector<Operation *> reads =
          tile ? readsIn(loop, tile) : SmallVector<Operation *>();
      if (reads.empty())
        continue;
      Location loc = release.getLoc();
      OpBuilder b(loop.getBody(), loop.getBody()->begin());
      Value next = arith::AddIOp::create(b, loc, loop.getInductionVar(),
                                         loop.getStep());
      Value last = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge,
                                         next, loop.getUpperBound());
      placeAfterLastRead(loop.getBody(), reads, b, [&](OpBuilder &at) {
        TileReleaseOp::create(at, loc, release.getSource(),
                              release.getStage(), release.getRound(), last);
      });
      b.setInsertionPoint(release);
      Value empty = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sle,
                                          loop.getUpperBound(),
                                          loop.getLowerBound());
      release.getWhenMutable().assign(empty);
      issueQAfterFirstKv(kernel, release.getSource());
      // For the manifest (early_q_release).
      kernel->setAttr("attn.early_q_release", UnitAttr::get(&getContext()));
    }
  }
};

} // namespace
