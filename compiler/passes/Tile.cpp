//===- Tile.cpp - the online recurrence as a grid of tile programs --------===//
//
// A function `(q, k, v, params...) -> (o[, lse])` holding one batched online
// recurrence becomes a kernel `(q, k, v, o[, lse], params...) -> ()` (the
// run-time parameters keep their order and `attn.param` names) over memrefs
// viewed as
// [batch, heads, seq, dim] with any strides (so bhsd and bshd, padded or
// sliced tensors all run the same code):
//
//   scf.forall (%qb, %bh) in (ceil(Sq / BQ), B * H) {      // the grid
//     q tile, online_init
//     scf.for %kb = 0 to ceil(Sk / BK) {                    // serial kv loop
//       k, v tiles (kv head h / (H / KVH)); online_update at (b, h, q0, kv0)
//     }
//     online_finalize; store o and lse rows
//   }
//
// This rewrites the function signature, so it works on the whole function
// rather than through local patterns.
//
//===----------------------------------------------------------------------===//
#include "compiler/passes/Passes.h"
#include "compiler/passes/RegionUtils.h"

#include "compiler/targets/TargetDesc.h"
#include "dialects/attn/AttnOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"

namespace faopt {
#define GEN_PASS_DEF_ATTNTILE
#include "compiler/passes/Passes.h.inc"
} // namespace faopt

using namespace mlir;
using namespace faopt;
using namespace faopt::attn;

namespace {

/// [batch, heads, seq, dim] view of a rank-4 tensor in `layout`, any strides
/// with a contiguous last dimension.
MemRefType logicalMemRef(RankedTensorType t, Layout layout) {
  int64_t dyn = ShapedType::kDynamic;
  SmallVector<int64_t> shape{t.getDimSize(0), t.getDimSize(headsDim(layout)),
                             t.getDimSize(seqDim(layout)), t.getDimSize(3)};
  auto strided = StridedLayoutAttr::get(t.getContext(), dyn, {dyn, dyn, dyn, 1});
  return MemRefType::get(shape, t.getElementType(), strided);
}

MemRefType lseMemRef(RankedTensorType t) {
  int64_t dyn = ShapedType::kDynamic;
  auto strided = StridedLayoutAttr::get(t.getContext(), dyn, {dyn, dyn, 1});
  return MemRefType::get(t.getShape(), t.getElementType(), strided);
}

struct AttnTilePass : faopt::impl::AttnTileBase<AttnTilePass> {
  using AttnTileBase::AttnTileBase;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    SmallVector<OnlineUpdateOp> updates;
    func.walk([&](OnlineUpdateOp op) {
      if (!op.isTileForm())
        updates.push_back(op);
    });
    if (updates.empty())
      return; // nothing batched left: already tiled
    if (updates.size() > 1) {
      updates[1].emitOpError()
          << "attn-tile handles one attention per function; found "
          << updates.size();
      return signalPassFailure();
    }
    if (failed(tileFunction(func, updates.front())))
      signalPassFailure();
  }

  LogicalResult tileFunction(func::FuncOp func, OnlineUpdateOp update) {
    auto fail = [&](const Twine &why) {
      return update.emitOpError()
             << "attn-tile expects a function (q, k, v) -> (o[, lse]) holding "
                "one online recurrence as attn-online-softmax produces it: "
             << why;
    };
    Block &entry = func.getBody().front();
    if (entry.getNumArguments() < 3 ||
        update.getQuery() != entry.getArgument(0) ||
        update.getKey() != entry.getArgument(1) ||
        update.getValue() != entry.getArgument(2))
      return fail("q, k, v must be the function's first three arguments");
    unsigned numScalars = entry.getNumArguments() - 3;
    for (unsigned i = 0; i < numScalars; ++i) {
      Type t = entry.getArgument(3 + i).getType();
      if (!t.isIntOrIndexOrFloat() && !isa<RankedTensorType>(t))
        return fail("arguments after q, k, v must be parameters or tensor "
                    "inputs");
    }
    auto init = update.getMax().getDefiningOp<OnlineInitOp>();
    if (!init || update.getSum() != init.getSum() ||
        update.getAcc() != init.getAcc())
      return fail("the running state must come from attn.online_init");
    if (!update.getNewMax().hasOneUse())
      return fail("the update's results must feed attn.online_finalize only");
    auto finalize =
        dyn_cast<OnlineFinalizeOp>(*update.getNewMax().getUsers().begin());
    if (!finalize)
      return fail("the update's results must feed attn.online_finalize");
    auto ret = dyn_cast<func::ReturnOp>(entry.getTerminator());
    if (!ret || ret.getOperands() != ValueRange(finalize->getResults()))
      return fail("the function must return attn.online_finalize's results");

    // Tile sizes from the target description.
    std::optional<TargetDesc> targetDesc = lookupTarget(target);
    if (!targetDesc)
      return func.emitError() << "unknown target '" << target
                              << "' (known: sm80, sm90a, cpu)";
    Layout layout = update.getLayout();
    auto qType = update.getQuery().getType();
    auto kType = update.getKey().getType();
    auto vType = update.getValue().getType();
    Type elemType = qType.getElementType();
    int64_t dQK = qType.getDimSize(3), dV = vType.getDimSize(3);
    std::string error;
    std::optional<TileChoice> tiles =
        chooseTiles(*targetDesc, dQK, dV, elemType.getIntOrFloatBitWidth() / 8,
                    blockQ, blockKv, error);
    if (!tiles)
      return func.emitError() << "cannot tile for " << target << ": " << error;
    int64_t bq = tiles->blockQ, bk = tiles->blockKv;

    MLIRContext *ctx = func.getContext();
    OpBuilder b(ctx);
    Location loc = update.getLoc();

    // New signature: q, k, v, o[, lse] as logical [b, h, s, d] memrefs.
    auto oTensor = cast<RankedTensorType>(finalize.getOutput().getType());
    SmallVector<Type> argTypes{logicalMemRef(qType, layout),
                               logicalMemRef(kType, layout),
                               logicalMemRef(vType, layout),
                               logicalMemRef(oTensor, layout)};
    bool hasLse = static_cast<bool>(finalize.getLse());
    if (hasLse)
      argTypes.push_back(
          lseMemRef(cast<RankedTensorType>(finalize.getLse().getType())));
    unsigned firstScalar = argTypes.size();
    for (unsigned i = 0; i < numScalars; ++i) {
      Type t = entry.getArgument(3 + i).getType();
      if (auto tensor = dyn_cast<RankedTensorType>(t))
        t = stridedMemRefFor(tensor); // a tensor input: read in place
      argTypes.push_back(t);
    }
    Block *body = new Block();
    for (Type t : argTypes)
      body->addArgument(t, func.getLoc());
    Value q = body->getArgument(0), k = body->getArgument(1),
          v = body->getArgument(2), o = body->getArgument(3);
    Value lse = hasLse ? body->getArgument(4) : Value();

    b.setInsertionPointToStart(body);
    auto cst = [&](int64_t x) -> Value {
      return arith::ConstantIndexOp::create(b, loc, x);
    };
    Value c0 = cst(0), c1 = cst(1), cBq = cst(bq), cBk = cst(bk);
    Value batch = memref::DimOp::create(b, loc, q, 0);
    Value heads = memref::DimOp::create(b, loc, q, 1);
    Value seqQ = memref::DimOp::create(b, loc, q, 2);
    Value kvHeads = memref::DimOp::create(b, loc, k, 1);
    Value seqK = memref::DimOp::create(b, loc, k, 2);
    Value group = arith::DivUIOp::create(b, loc, heads, kvHeads);

    // The update's params: run-time parameters (function arguments) and
    // sequence lengths (tensor.dim of q or k on the sequence dimension).
    SmallVector<Value> params;
    for (Value p : update.getParams()) {
      if (auto arg = dyn_cast<BlockArgument>(p);
          arg && arg.getOwner() == &entry && arg.getArgNumber() >= 3) {
        params.push_back(body->getArgument(firstScalar + arg.getArgNumber() - 3));
        continue;
      }
      auto dim = p.getDefiningOp<tensor::DimOp>();
      std::optional<int64_t> index = dim ? dim.getConstantIndex() : std::nullopt;
      if (dim && index && *index == int64_t(seqDim(layout)) &&
          (dim.getSource() == entry.getArgument(0) ||
           dim.getSource() == entry.getArgument(1))) {
        params.push_back(dim.getSource() == entry.getArgument(0) ? seqQ : seqK);
        continue;
      }
      delete body;
      return fail("params must be function arguments or the sequence lengths "
                  "of q and k");
    }
    Value numQBlocks = arith::CeilDivUIOp::create(b, loc, seqQ, cBq);
    Value batchHeads = arith::MulIOp::create(b, loc, batch, heads);

    auto grid = scf::ForallOp::create(
        b, loc, ArrayRef<OpFoldResult>{numQBlocks, batchHeads},
        /*outputs=*/ValueRange(), /*mapping=*/std::nullopt);
    grid->setAttr("attn.grid", b.getUnitAttr());
    b.setInsertionPoint(grid.getBody()->getTerminator());
    Value qBlock = grid.getInductionVar(0), bh = grid.getInductionVar(1);
    Value bIdx = arith::DivUIOp::create(b, loc, bh, heads);
    Value hIdx = arith::RemUIOp::create(b, loc, bh, heads);
    Value kvhIdx = arith::DivUIOp::create(b, loc, hIdx, group);
    Value q0 = arith::MulIOp::create(b, loc, qBlock, cBq);

    auto f32 = b.getF32Type();
    auto qTile = RankedTensorType::get({bq, dQK}, elemType);
    auto kTile = RankedTensorType::get({bk, dQK}, elemType);
    auto vTile = RankedTensorType::get({bk, dV}, elemType);
    auto rowTile = RankedTensorType::get({bq}, f32);
    auto accTile = RankedTensorType::get({bq, dV}, f32);
    Value qT = TileLoadOp::create(b, loc, qTile, q, bIdx, hIdx, q0, seqQ);
    auto state = OnlineInitOp::create(b, loc, rowTile, rowTile, accTile,
                                      ValueRange());
    Value numKvBlocks = arith::CeilDivUIOp::create(b, loc, seqK, cBk);
    auto kvLoop = scf::ForOp::create(
        b, loc, c0, numKvBlocks, c1, state->getResults(),
        [&](OpBuilder &lb, Location l, Value kb, ValueRange iter) {
          Value kv0 = arith::MulIOp::create(lb, l, kb, cBk);
          Value kT =
              TileLoadOp::create(lb, l, kTile, k, bIdx, kvhIdx, kv0, seqK);
          Value vT =
              TileLoadOp::create(lb, l, vTile, v, bIdx, kvhIdx, kv0, seqK);
          auto step = OnlineUpdateOp::create(
              lb, l, qT, kT, vT, iter[0], iter[1], iter[2],
              ValueRange{bIdx, hIdx, q0, kv0}, seqK, /*masked=*/Value(), params,
              LayoutAttr::get(ctx, Layout::bhsd), update.getExpScaleAttr());
          IRMapping mapping;
          update.getLogits().cloneInto(&step.getLogits(), mapping);
          tensorArgumentsToMemRefs(step.getLogits());
          if (!update.getMask().empty()) {
            update.getMask().cloneInto(&step.getMask(), mapping);
            tensorArgumentsToMemRefs(step.getMask());
          }
          scf::YieldOp::create(lb, l, step->getResults());
        });
    auto oTile = RankedTensorType::get({bq, dV}, oTensor.getElementType());
    auto fin = OnlineFinalizeOp::create(
        b, loc, oTile, hasLse ? Type(rowTile) : Type(), kvLoop.getResult(0),
        kvLoop.getResult(1), kvLoop.getResult(2),
        LayoutAttr::get(ctx, Layout::bhsd), finalize.getExpScaleAttr());
    TileStoreOp::create(b, loc, fin.getOutput(), o, bIdx, hIdx, q0, seqQ);
    if (hasLse)
      TileStoreOp::create(b, loc, fin.getLse(), lse, bIdx, hIdx, q0, seqQ);

    b.setInsertionPointToEnd(body);
    func::ReturnOp::create(b, loc);

    // Swap in the new body and signature; parameter names move with their
    // arguments.
    SmallVector<Attribute> paramNames;
    for (unsigned i = 0; i < numScalars; ++i)
      paramNames.push_back(func.getArgAttr(3 + i, "attn.param"));
    func.getBody().front().dropAllDefinedValueUses();
    func.getBody().front().erase();
    func.getBody().push_back(body);
    func.setFunctionType(FunctionType::get(ctx, argTypes, {}));
    func.setAllArgAttrs(SmallVector<DictionaryAttr>(argTypes.size()));
    func.setResAttrsAttr(nullptr);
    for (unsigned i = 0; i < numScalars; ++i)
      if (paramNames[i])
        func.setArgAttr(firstScalar + i, "attn.param", paramNames[i]);
    func->setAttr("attn.kernel", b.getUnitAttr());
    func->setAttr("attn.tiling",
                  TilingAttr::get(ctx, bq, bk, tiles->warps, tiles->stages,
                                  tiles->mma, tiles->copy));
    func->setAttr("attn.target", b.getStringAttr(target));
    return success();
  }
};

} // namespace
