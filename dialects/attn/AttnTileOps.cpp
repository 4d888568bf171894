//===- AttnTileOps.cpp - attn dialect: tile and role op verifiers ---------===//
//
// The verifiers of the ops attn-tile and the GPU passes produce (tile
// copies, products and row operations, the copy roles, the run-time
// program hand-out). Their ODS is AttnTileOps.td; the generated classes are
// defined in AttnOps.cpp with the rest of the dialect.
//
//===----------------------------------------------------------------------===//
#include "dialects/attn/AttnOps.h"
#include "dialects/attn/AttnVerify.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;
using namespace faopt::attn;
using namespace faopt::attn::detail;

//===----------------------------------------------------------------------===//
// Tile loads and stores
//===----------------------------------------------------------------------===//

static LogicalResult verifyTileAgainstMemRef(Operation *op, RankedTensorType tile,
                                             MemRefType mem, bool allowRound) {
  if (mem.getRank() != 4 && mem.getRank() != 3)
    return op->emitOpError() << "memref must be rank 4 [batch, heads, seq, dim] "
                                "or rank 3 [batch, heads, seq], got "
                             << mem;
  if (tile.getRank() != mem.getRank() - 2)
    return op->emitOpError() << "a rank-" << mem.getRank()
                             << " memref moves rank-" << mem.getRank() - 2
                             << " tiles, got " << tile;
  if (mem.getRank() == 4 &&
      failed(checkDim(op, "tile head dim", tile.getDimSize(1),
                      "memref head dim", mem.getDimSize(3))))
    return failure();
  if (mem.getRank() == 4 && ShapedType::isDynamic(mem.getDimSize(3)))
    return op->emitOpError() << "memref head dimension must be static";
  Type te = tile.getElementType(), me = mem.getElementType();
  if (te != me && !(allowRound && te.isF32() && isSupportedElementType(me)))
    return op->emitOpError() << "tile element type " << te
                             << " does not match memref element type " << me;
  return success();
}

/// Ops that only mean something inside a GPU kernel function.
static LogicalResult verifyInKernel(Operation *op) {
  Operation *fn = op->getParentOp();
  while (fn && !fn->hasAttr("attn.kernel"))
    fn = fn->getParentOp();
  if (!fn)
    return op->emitOpError() << "is only meaningful in a kernel function "
                                "(attn.kernel)";
  return success();
}

LogicalResult WorkersOp::verify() { return verifyInKernel(*this); }

LogicalResult AwaitListBuilderOp::verify() { return verifyInKernel(*this); }

/// Ops that only a kv-block list builder runs (attn.block_list_builder).
static LogicalResult verifyInListBuilder(Operation *op) {
  Operation *fn = op->getParentOp();
  while (fn && !fn->hasAttr("attn.block_list_builder"))
    fn = fn->getParentOp();
  if (!fn)
    return op->emitOpError() << "is only meaningful in a kv-block list "
                                "builder (attn.block_list_builder)";
  return success();
}

LogicalResult ResetProgramCounterOp::verify() {
  if (failed(verifyInListBuilder(*this)))
    return failure();
  if (getCounter().getType().getDimSize(0) != 1)
    return emitOpError() << "the counter must be memref<1xi32>, got "
                         << getCounter().getType();
  return success();
}

LogicalResult StageRowOp::verify() {
  if (failed(verifyInListBuilder(*this)))
    return failure();
  auto source = cast<MemRefType>(getTensor().getType());
  auto staged = cast<MemRefType>(getStaged().getType());
  if (!source.getElementType().isIntOrFloat() ||
      source.getElementType().getIntOrFloatBitWidth() != 32)
    return emitOpError() << "stages 32-bit entries, got "
                         << source.getElementType();
  if (source.getRank() < 1 ||
      static_cast<int64_t>(getLead().size()) != source.getRank() - 1)
    return emitOpError() << "needs one leading index per dimension but the "
                            "last (rank "
                         << source.getRank() << "), got " << getLead().size();
  auto space = dyn_cast_or_null<IntegerAttr>(staged.getMemorySpace());
  if (!space || space.getInt() != 3 ||
      staged.getShape() != source.getShape() ||
      staged.getElementType() != source.getElementType() ||
      staged.getLayout() != source.getLayout())
    return emitOpError() << "the result must be the tensor's type in memory "
                            "space 3, got "
                         << staged << " for " << source;
  if (source.getMemorySpace())
    return emitOpError() << "stages a tensor input (default memory space), "
                            "got "
                         << source;
  if (getCapacity() <= 0 || getCapacity() % 4 != 0)
    return emitOpError() << "capacity must be a positive multiple of 4 "
                            "entries, got "
                         << getCapacity();
  return success();
}

LogicalResult NextProgramOp::verify() {
  if (failed(verifyInKernel(*this)))
    return failure();
  if (getCounter().getType().getDimSize(0) != 1)
    return emitOpError() << "the counter must be memref<1xi32>, got "
                         << getCounter().getType();
  if (getPublishLater()) {
    if (!getProducer())
      return emitOpError() << "publish_later is the copy thread's (producer)";
    // Exactly one publication, or the consumers wait forever (none) or the
    // stage's fill completes twice past the end (two).
    unsigned publications = 0;
    for (Operation *user : getResult().getUsers())
      if (auto p = dyn_cast<PublishProgramOp>(user);
          p && p.getProgram() == getResult())
        ++publications;
    if (publications != 1)
      return emitOpError() << "publish_later needs exactly one "
                              "attn.publish_program of its result, got "
                           << publications;
  }
  return success();
}

LogicalResult PublishProgramOp::verify() {
  if (failed(verifyInKernel(*this)))
    return failure();
  auto next = getProgram().getDefiningOp<NextProgramOp>();
  if (!next || !next.getPublishLater())
    return emitOpError() << "publishes the result of an attn.next_program "
                            "with producer publish_later";
  if (getValues().size() > 8)
    return emitOpError() << "publishes at most 8 values, got "
                         << getValues().size();
  return success();
}

LogicalResult ProgramValueOp::verify() { return verifyInKernel(*this); }

LogicalResult NoMoreProgramsOp::verify() {
  // Lowered to `break`, which must leave the loop over programs: so only
  // directly in the program guard (an scf.if marked attn.program_guard)
  // directly in that loop (scf.for with attn.programs and attn.hand_out).
  Operation *guard = (*this)->getParentOp();
  Operation *loop = guard ? guard->getParentOp() : nullptr;
  if (!guard || guard->getName().getStringRef() != "scf.if" ||
      !guard->hasAttr("attn.program_guard") || !loop ||
      loop->getName().getStringRef() != "scf.for" ||
      !loop->hasAttr("attn.programs") || !loop->hasAttr("attn.hand_out"))
    return emitOpError() << "must be directly in the program guard (scf.if "
                            "with attn.program_guard) of a loop over programs "
                            "handed out at run time (scf.for with "
                            "attn.programs and attn.hand_out)";
  return success();
}

LogicalResult TileLoadOp::verify() {
  return verifyTileAgainstMemRef(*this, getTile().getType(),
                                 getSource().getType(), /*allowRound=*/false);
}

LogicalResult TilePrefetchOp::verify() {
  auto tile = dyn_cast<RankedTensorType>(getTileType());
  if (!tile || !tile.hasStaticShape())
    return emitOpError() << "tile_type must be a static tensor type, got "
                         << getTileType();
  return verifyTileAgainstMemRef(*this, tile, getSource().getType(),
                                 /*allowRound=*/false);
}

LogicalResult TileWaitOp::verify() {
  return verifyTileAgainstMemRef(*this, getTile().getType(),
                                 getSource().getType(), /*allowRound=*/false);
}

LogicalResult TileReleaseOp::verify() {
  // `after` orders the release after per-row values (a softmax's row sums);
  // the lowering reads them in the arrive's predicate, where it and `when`
  // would both decide it.
  if (Value after = getAfter()) {
    if (cast<RankedTensorType>(after.getType()).getRank() != 1)
      return emitOpError("'after' must be per-row values (a rank-1 tensor), "
                         "got ")
             << after.getType();
    if (getWhen())
      return emitOpError("takes 'when' or 'after', not both");
  }
  return success();
}

LogicalResult TileStoreOp::verify() {
  const int staged = static_cast<bool>(getStagingSource()) +
                     static_cast<bool>(getStagingStage()) +
                     static_cast<bool>(getStagingRound()) +
                     static_cast<bool>(getStagingHeld());
  if (staged != 0 && staged != 4)
    return emitOpError() << "staged_in needs its source, stage, round and "
                            "when together";
  if (staged && getTile().getType().getRank() != 2)
    return emitOpError() << "only a rank-2 tile is staged in a stage";
  return verifyTileAgainstMemRef(*this, getTile().getType(),
                                 getDest().getType(), /*allowRound=*/true);
}

//===----------------------------------------------------------------------===//
// Tile compute
//===----------------------------------------------------------------------===//

/// The result of a started (async) product is read only by
/// attn.tile_mma_wait, possibly after leaving an scf.if through its yield.
static LogicalResult verifyAsyncUses(Operation *op, Value value) {
  for (OpOperand &use : value.getUses()) {
    Operation *user = use.getOwner();
    if (isa<TileMmaWaitOp>(user))
      continue;
    auto yield = dyn_cast<scf::YieldOp>(user);
    auto ifOp = yield ? dyn_cast<scf::IfOp>(yield->getParentOp()) : nullptr;
    if (!ifOp)
      return op->emitOpError()
             << "async result used by '" << user->getName()
             << "': it may be read only through attn.tile_mma_wait";
    if (failed(verifyAsyncUses(op, ifOp.getResult(use.getOperandNumber()))))
      return failure();
  }
  return success();
}

LogicalResult TileMatmulOp::verify() {
  auto a = getLhs().getType(), b = getRhs().getType();
  auto r = getResult().getType();
  if (a.getRank() != 2 || b.getRank() != 2 || r.getRank() != 2)
    return emitOpError() << "operands and result must be rank-2 tiles";
  if (a.getElementType() != b.getElementType())
    return emitOpError() << "lhs and rhs element types differ: "
                         << a.getElementType() << " vs " << b.getElementType();
  if (!r.getElementType().isF32())
    return emitOpError() << "result must be f32 (the accumulation type)";
  int64_t k = a.getDimSize(1);
  int64_t kb = getTransposeRhs() ? b.getDimSize(1) : b.getDimSize(0);
  int64_t n = getTransposeRhs() ? b.getDimSize(0) : b.getDimSize(1);
  if (k != kb)
    return emitOpError() << "contraction sizes differ: lhs has " << k
                         << ", rhs has " << kb;
  if (r.getDimSize(0) != a.getDimSize(0) || r.getDimSize(1) != n)
    return emitOpError() << "result must be " << a.getDimSize(0) << "x" << n
                         << ", got " << r;
  if (getAcc() && getAcc().getType() != r)
    return emitOpError() << "acc type " << getAcc().getType()
                         << " must equal the result type " << r;
  if (getAsync() && failed(verifyAsyncUses(*this, getResult())))
    return failure();
  return success();
}

LogicalResult TileMapOp::verify() {
  auto t = getTile().getType();
  if (t.getRank() != 2 || !t.getElementType().isF32())
    return emitOpError() << "expects a rank-2 f32 tile, got " << t;
  return verifyScoreRegion(*this, getBody(), "body", false);
}

LogicalResult TileReduceOp::verify() {
  auto t = getTile().getType();
  if (t.getRank() != 2 || !t.getElementType().isF32())
    return emitOpError() << "expects a rank-2 f32 tile, got " << t;
  return checkRowVector(*this, "init", getInit(), t.getDimSize(0));
}

LogicalResult TileExp2Op::verify() {
  if (failed(verifyExpScale(*this, getExpScale())))
    return failure();
  auto t = getInput().getType();
  if ((t.getRank() != 1 && t.getRank() != 2) || !t.getElementType().isF32())
    return emitOpError() << "expects a rank-1 or rank-2 f32 tile, got " << t;
  return checkRowVector(*this, "max", getMax(), t.getDimSize(0));
}

LogicalResult TileScaleRowsOp::verify() {
  auto t = getInput().getType();
  if ((t.getRank() != 1 && t.getRank() != 2) || !t.getElementType().isF32())
    return emitOpError() << "expects a rank-1 or rank-2 f32 tile, got " << t;
  return checkRowVector(*this, "factor", getFactor(), t.getDimSize(0));
}
