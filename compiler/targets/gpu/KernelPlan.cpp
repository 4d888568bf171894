//===- KernelPlan.cpp - shared memory and copy pipeline of a kernel -------===//
#include "compiler/targets/gpu/KernelPlan.h"

#include "dialects/attn/AttnOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace faopt::attn;

namespace faopt::gpu {

/// Whether `op` runs only in the TMA copy thread (attn-warp-specialize):
/// inside the then-branch of an scf.if on attn.copy_producer.
static bool inCopyProducer(Operation *op) {
  for (Operation *p = op->getParentOp(); p; p = p->getParentOp()) {
    auto ifOp = dyn_cast<scf::IfOp>(p);
    if (ifOp && ifOp.getCondition().getDefiningOp<CopyProducerOp>() &&
        ifOp.getThenRegion().isAncestor(op->getParentRegion()))
      return true;
  }
  return false;
}

/// Assigns shared memory: one region for the Q tile (reused to stage the O
/// tile), then the K and V buffers, by which kernel argument a copy reads;
/// two stages where the stage varies: K and V in a pipelined kv loop (three
/// with attn.kv_stages = 3), Q in a persistent kernel with two Q tiles
/// (attn.q_stages). A persistent kernel (a loop over programs,
/// attn-persistent-programs) stages O in a region of its own (the next
/// program's Q may be landing in Q's), or in a V stage where its store
/// says so (attn-stage-output-in-v). Also
/// decides which prefetches synchronise and how many copy groups a wait
/// leaves in flight.
LogicalResult planSharedMemory(func::FuncOp kernel, KernelInfo &info) {
  int64_t bytes[3] = {0, 0, 0}, stages[3] = {1, 1, 1}, storeBytes = 0;
  // K/V stages where the stage varies: two, or three where the loop over
  // programs asks for them (attn-persistent-programs).
  int64_t kvStages = 2;
  kernel.walk([&](scf::ForOp loop) {
    info.persistent |= loop->hasAttr("attn.programs");
    if (auto kv = loop->getAttrOfType<IntegerAttr>("attn.kv_stages"))
      kvStages = kv.getInt();
  });
  // O tiles staged in a V stage (attn-stage-output-in-v) need no region of
  // their own; `stagedStores` are checked against V's stage below.
  SmallVector<TileStoreOp> stagedStores;
  bool unstagedStore = false;
  kernel.walk([&](AwaitListBuilderOp) { info.dependentLaunch = true; });
  for (unsigned i = 0; i < kernel.getNumArguments(); ++i)
    info.programCounter |=
        static_cast<bool>(kernel.getArgAttr(i, "attn.program_counter"));
  SmallVector<std::pair<Operation *, unsigned>> copies;
  auto bytesOf = [](RankedTensorType t) {
    return t.getNumElements() * (t.getElementTypeBitWidth() / 8);
  };
  auto slotOf = [&](Operation *op, Value source) -> FailureOr<unsigned> {
    auto arg = dyn_cast<BlockArgument>(source);
    if (!arg || arg.getOwner()->getParentOp() != kernel || arg.getArgNumber() > 2)
      return op->emitOpError()
             << "GPU lowering copies tiles of the q, k or v argument only";
    return arg.getArgNumber();
  };
  WalkResult walk = kernel.walk([&](Operation *op) -> WalkResult {
    Value source;
    RankedTensorType type;
    bool staged = false;
    if (auto load = dyn_cast<TileLoadOp>(op)) {
      source = load.getSource();
      type = load.getTile().getType();
    } else if (auto pre = dyn_cast<TilePrefetchOp>(op)) {
      source = pre.getSource();
      type = cast<RankedTensorType>(pre.getTileType());
      staged = true;
    } else if (auto wait = dyn_cast<TileWaitOp>(op)) {
      source = wait.getSource();
      type = wait.getTile().getType();
      staged = true;
    } else if (auto release = dyn_cast<TileReleaseOp>(op)) {
      FailureOr<unsigned> slot = slotOf(op, release.getSource());
      if (failed(slot))
        return WalkResult::interrupt();
      info.source[op] = *slot;
      return WalkResult::advance();
    } else if (auto store = dyn_cast<TileStoreOp>(op)) {
      RankedTensorType tile = store.getTile().getType();
      if (tile.getRank() != 2)
        return WalkResult::advance();
      if (store.getStagingSource())
        stagedStores.push_back(store);
      else {
        storeBytes = std::max(storeBytes, bytesOf(tile));
        unstagedStore = true;
      }
      // A persistent TMA kernel's 2-D tile leaves through o's tensor map
      // (the launch's fourth map: o, boxes of block_q rows), so only the O
      // tile can: the o argument (the fourth, after q, k, v), block_q rows.
      if (info.tma && info.persistent) {
        auto arg = dyn_cast<BlockArgument>(store.getDest());
        if (!arg || arg.getOwner()->getParentOp() != kernel ||
            arg.getArgNumber() != 3 || tile.getDimSize(0) != info.blockQ) {
          op->emitOpError()
              << "a persistent TMA kernel stores tiles by TMA through o's "
                 "tensor map: the destination must be the kernel's o "
                 "argument (the fourth) and the tile block_q ("
              << info.blockQ << ") rows";
          return WalkResult::interrupt();
        }
      }
      return WalkResult::advance();
    } else {
      return WalkResult::advance();
    }
    FailureOr<unsigned> slot = slotOf(op, source);
    if (failed(slot))
      return WalkResult::interrupt();
    if (info.tma && !staged) {
      op->emitOpError() << "TMA copies (attn.tiling copy = \"tma\") need "
                           "every tile copy pipelined (attn-pipeline-kv-loads)";
      return WalkResult::interrupt();
    }
    if (info.tma && isa<TilePrefetchOp>(op) && !inCopyProducer(op)) {
      op->emitOpError() << "TMA copies are issued by the copy thread only: "
                           "run attn-warp-specialize";
      return WalkResult::interrupt();
    }
    info.source[op] = *slot;
    bytes[*slot] = std::max(bytes[*slot], bytesOf(type));
    // Several stages where the stage varies (the pipelined kv loop: two or
    // attn.kv_stages; Q with attn.q_stages = 2).
    Value stage = isa<TilePrefetchOp>(op) ? cast<TilePrefetchOp>(op).getStage()
                  : isa<TileWaitOp>(op)   ? cast<TileWaitOp>(op).getStage()
                                          : Value();
    if (staged && !matchPattern(stage, m_Constant()))
      stages[*slot] = *slot == 0 ? 2 : kvStages;
    copies.push_back({op, *slot});
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();
  int64_t offset[3];
  int64_t total = 0;
  if (!info.persistent)
    bytes[0] = std::max(bytes[0], storeBytes);
  for (int i = 0; i < 3; ++i) {
    offset[i] = total;
    total += bytes[i] * stages[i];
  }
  info.stagingOffset = 0;
  if (info.persistent && unstagedStore) {
    info.stagingOffset = total;
    total += storeBytes;
  }
  for (auto [op, slot] : copies)
    info.buffer[op] = {offset[slot], bytes[slot]};
  for (TileStoreOp store : stagedStores) {
    FailureOr<unsigned> slot = slotOf(store, store.getStagingSource());
    if (failed(slot))
      return failure();
    // In the destination's element type (an f32 tile is rounded to it).
    int64_t tileBytes = store.getTile().getType().getNumElements() *
                        (store.getDest().getType().getElementTypeBitWidth() / 8);
    if (!info.tma || !info.persistent || stages[*slot] < 2 ||
        tileBytes > bytes[*slot])
      return store.emitOpError()
             << "is staged in a stage of argument " << *slot
             << ", which needs a persistent TMA kernel whose stages of it "
                "hold the stored tile (" << tileBytes << " bytes)";
    info.buffer[store] = {offset[*slot], bytes[*slot]};
    info.source[store] = *slot;
    info.stagedOutput = {offset[*slot], bytes[*slot]};
    info.stagedOutputSource = *slot;
    info.stagedOutputTile = RankedTensorType::get(
        store.getTile().getType().getShape(),
        store.getDest().getType().getElementType());
  }
  info.outputByCopyThread = kernel->hasAttr("attn.output_by_copy_thread");
  if (info.outputByCopyThread && (stagedStores.empty() || !info.tma))
    return kernel.emitError()
           << "attn.output_by_copy_thread needs a TMA kernel whose O tile is "
              "staged in a V stage (attn-stage-output-in-v)";
  info.outputWaitAtNextQ = kernel->hasAttr("attn.output_wait_at_next_q");
  if (info.outputWaitAtNextQ &&
      (stagedStores.empty() || !info.tma || info.outputByCopyThread))
    return kernel.emitError()
           << "attn.output_wait_at_next_q needs a TMA kernel whose O tile is "
              "staged in a V stage (attn-stage-output-in-v) and stored by "
              "the consumers";
  info.qStages = stages[0];
  info.kvStages = std::max(stages[1], stages[2]);
  info.sharedBytes = total;
  if (info.tma) {
    info.pipeOffset = (total + 127) / 128 * 128;
    info.sharedBytes = info.pipeOffset + faopt::kTmaPipeBytes;
  }

  // The first prefetch / wait of each block synchronises for the group.
  for (auto [op, slot] : copies) {
    if (!isa<TilePrefetchOp, TileWaitOp>(op))
      continue;
    Operation *prev = op->getPrevNode();
    while (prev && !isa<TilePrefetchOp, TileWaitOp>(prev))
      prev = prev->getPrevNode();
    if (!prev || prev->getName() != op->getName())
      info.barrierFirst.insert(op);
  }
  // A wait may leave in flight the prefetches issued after its own: in a
  // loop, those of the next iteration; elsewhere, those between its prefetch
  // and itself in the same block.
  for (auto [op, slot] : copies) {
    auto wait = dyn_cast<TileWaitOp>(op);
    if (!wait)
      continue;
    int64_t n = 0;
    if (auto loop = wait->getParentOfType<scf::ForOp>()) {
      loop.getBody()->walk([&](TilePrefetchOp) { ++n; });
    } else {
      for (Operation *p = wait->getPrevNode(); p; p = p->getPrevNode()) {
        auto pre = dyn_cast<TilePrefetchOp>(p);
        if (!pre)
          continue;
        if (pre.getSource() == wait.getSource())
          break;
        ++n;
      }
    }
    info.groupsAhead[op] = n;
  }
  return success();
}

} // namespace faopt::gpu
