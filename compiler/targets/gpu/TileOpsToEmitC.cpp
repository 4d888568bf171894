//===- TileOpsToEmitC.cpp - tile operations as calls into the device header ===//
//
// Each tile op of a decomposed kernel becomes one call into
// compiler/targets/gpu/device/faopt_sm80.cuh, with the shared-memory buffer
// and stage the kernel plan (KernelPlan.cpp) chose, preceded by a comment
// saying which op it was.
//
//===----------------------------------------------------------------------===//
#include "compiler/targets/gpu/EmitCBuilders.h"
#include "compiler/targets/gpu/DeviceTemplateNames.h"
#include "compiler/targets/gpu/ConvertToEmitC.h"

#include "dialects/attn/AttnOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace faopt::attn;
using namespace faopt::gpu::emit;
using faopt::gpu::KernelInfo;

namespace {

/// A shared-memory tile at buffer + stage * stageBytes.
Value smemTile(ConversionPatternRewriter &rewriter, Location loc,
               const KernelInfo::Buffer &buf, RankedTensorType type,
               Value stage) {
  std::string elem = elementName(type.getElementType());
  std::string rows = str(type.getDimSize(0)), cols = str(type.getDimSize(1));
  Type i64 = rewriter.getI64Type();
  Value offset = literal(rewriter, loc, i64, str(buf.offset));
  if (stage) {
    Value stride = literal(rewriter, loc, i64, str(buf.stageBytes));
    offset = emitc::AddOp::create(
        rewriter, loc, i64, offset,
        emitc::MulOp::create(rewriter, loc, i64, stage, stride));
  }
  Type smemType = emitc::OpaqueType::get(
      rewriter.getContext(),
      "faopt::SmemTile<" + elem + ", " + rows + ", " + cols + ">");
  return call(rewriter, loc, smemType, "faopt::smem", offset,
              {elem, rows, cols});
}

template <typename Op>
LogicalResult lookupBuffer(const KernelInfo &k, Op op,
                           KernelInfo::Buffer &buf) {
  auto it = k.buffer.find(op);
  if (it == k.buffer.end())
    return op.emitOpError() << "has no shared-memory buffer assigned";
  buf = it->second;
  return success();
}

struct TileLoadLowering : KernelPattern<TileLoadOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(TileLoadOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    KernelInfo::Buffer buf;
    if (failed(lookupBuffer(kernel, op, buf)))
      return failure();
    Location loc = op.getLoc();
    auto type = op.getTile().getType();
    if (type.getRank() != 2)
      return op.emitOpError() << "GPU lowering loads 2-D tiles only";
    comment(rewriter, loc,
            "attn.tile_load: rows [{}, {} + " + str(type.getDimSize(0)) +
                ") of (b = {}, h = {}) into shared memory at byte " +
                str(buf.offset),
            {adaptor.getRow(), adaptor.getRow(), adaptor.getBatch(),
             adaptor.getHead()});
    Value buffer = smemTile(rewriter, loc, buf, type, Value());
    Value tile = call(rewriter, loc, convert(type), "faopt::load_tile",
                      {buffer, adaptor.getSource(), adaptor.getBatch(),
                       adaptor.getHead(), adaptor.getRow(), adaptor.getBound()},
                      {str(kernel.threads)});
    rewriter.replaceOp(op, tile);
    return success();
  }
};

/// The plan's source (0 q, 1 k, 2 v) of a copy, wait or release.
std::string sourceOf(const KernelInfo &k, Operation *op) {
  return str(k.source.lookup(op));
}

struct TilePrefetchLowering : KernelPattern<TilePrefetchOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(TilePrefetchOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    KernelInfo::Buffer buf;
    if (failed(lookupBuffer(kernel, op, buf)))
      return failure();
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getTileType());
    std::string rows = "attn.tile_prefetch: rows [{}, {} + " +
                       str(type.getDimSize(0)) + ") into stage {}";
    Value buffer;
    if (kernel.tma) {
      comment(rewriter, loc,
              rows + ", fill {} (TMA, once the stage is empty)",
              {adaptor.getRow(), adaptor.getRow(), adaptor.getStage(),
               adaptor.getRound()});
      buffer = smemTile(rewriter, loc, buf, type, adaptor.getStage());
      // A V stage may hold the O the consumers staged in it, which the
      // copy thread stores before refilling the stage.
      const bool afterOutput =
          kernel.outputByCopyThread &&
          kernel.source.lookup(op) == kernel.stagedOutputSource;
      SmallVector<std::string> targs = {str(kernel.pipeOffset),
                                        sourceOf(kernel, op)};
      if (afterOutput) // the staged O tile's rows
        targs.push_back(str(kernel.stagedOutputTile.getDimSize(0)));
      call(rewriter, loc, Type(),
           afterOutput ? "faopt::tma::issue_tile_after_output"
                       : "faopt::tma::issue_tile",
           {buffer, adaptor.getBatch(), adaptor.getHead(), adaptor.getRow(),
            adaptor.getBound(), adaptor.getStage(), adaptor.getRound()},
           targs);
    } else {
      comment(rewriter, loc, rows + " (cp.async, completes later)",
              {adaptor.getRow(), adaptor.getRow(), adaptor.getStage()});
      buffer = smemTile(rewriter, loc, buf, type, adaptor.getStage());
      bool barrier = kernel.barrierFirst.contains(op);
      call(rewriter, loc, Type(), "faopt::prefetch_tile",
           {buffer, adaptor.getSource(), adaptor.getBatch(), adaptor.getHead(),
            adaptor.getRow(), adaptor.getBound()},
           {str(kernel.threads), barrier ? "true" : "false"});
    }
    rewriter.eraseOp(op);
    return success();
  }
};

struct TileWaitLowering : KernelPattern<TileWaitOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(TileWaitOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    KernelInfo::Buffer buf;
    if (failed(lookupBuffer(kernel, op, buf)))
      return failure();
    Location loc = op.getLoc();
    auto type = op.getTile().getType();
    if (kernel.tma) {
      comment(rewriter, loc,
              "attn.tile_wait: the tile of stage {}, once fill {} has landed "
              "(its full barrier)",
              {adaptor.getStage(), adaptor.getRound()});
      Value stage = adaptor.getStage();
      // Two Q tiles: the consumers pick program t's from t, which every
      // lane holds alike, but ptxas then keeps the tile's address, and much
      // around it, out of the uniform registers (block-sparse: uniform
      // share 12% -> 6%, its P V wait moved after the softmax, -4.9%,
      // docs/performance.md item 59). Lane 0's value, broadcast, restores
      // both (scripts/sass-waits.sh). Waits run in the consumers only, all
      // lanes of each warp together.
      if (kernel.qStages == 2 && kernel.source.lookup(op) == 0 &&
          !matchPattern(op.getStage(), m_Constant()))
        stage = call(rewriter, loc, stage.getType(), "faopt::warp_uniform",
                     {stage});
      Value buffer = smemTile(rewriter, loc, buf, type, stage);
      // attn.output_wait_at_next_q: thread 0 pays the previous program's
      // staged store right after Q's wait.
      if (kernel.outputWaitAtNextQ && kernel.source.lookup(op) == 0) {
        rewriter.replaceOp(
            op, call(rewriter, loc, convert(type),
                     "faopt::tma::wait_tile_paying_output",
                     {buffer, stage, adaptor.getRound()},
                     {str(kernel.pipeOffset), sourceOf(kernel, op),
                      str(kernel.warps)}));
        return success();
      }
      rewriter.replaceOp(
          op, call(rewriter, loc, convert(type), "faopt::tma::wait_tile",
                   {buffer, stage, adaptor.getRound()},
                   {str(kernel.pipeOffset), sourceOf(kernel, op)}));
      return success();
    }
    bool first = kernel.barrierFirst.contains(op);
    comment(rewriter, loc,
            std::string("attn.tile_wait: the tile of stage {}") +
                (first ? ", once its copies have landed" : " (already waited for)"),
            {adaptor.getStage()});
    Value buffer = smemTile(rewriter, loc, buf, type, adaptor.getStage());
    auto ahead = kernel.groupsAhead.lookup(op);
    rewriter.replaceOp(op, call(rewriter, loc, convert(type), "faopt::wait_tile",
                                {buffer, adaptor.getAhead()},
                                {str(ahead), first ? "true" : "false"}));
    return success();
  }
};

/// cp.async kernels synchronise stages with CTA barriers at the next
/// prefetch: nothing to emit. TMA kernels signal the stage's empty barrier.
struct TileReleaseLowering : KernelPattern<TileReleaseOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(TileReleaseOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (kernel.tma) {
      Location loc = op.getLoc();
      Value when = adaptor.getWhen(), after = adaptor.getAfter();
      SmallVector<Value> operands{adaptor.getStage(), adaptor.getRound()};
      if (when || after)
        operands.insert(operands.begin(), when ? when : after);
      comment(rewriter, loc,
              std::string("attn.tile_release: ") +
                  (when    ? "where {} holds, "
                   : after ? "once the row sums {} are computed, " : "") +
                  "this warp is done with stage {} (fill {})",
              operands);
      call(rewriter, loc, Type(),
           when    ? "faopt::tma::release_when"
           : after ? "faopt::tma::release_after"
                   : "faopt::tma::release",
           operands, {str(kernel.pipeOffset), sourceOf(kernel, op)});
    }
    rewriter.eraseOp(op);
    return success();
  }
};

struct TileMatmulLowering : KernelPattern<TileMatmulOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(TileMatmulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Type result = convert(op.getResult().getType());
    std::string w = str(kernel.warps);
    std::string how = kernel.pingpong ? "(wgmma, warpgroups alternate, f32)"
                      : kernel.wgmma    ? "(wgmma, f32)"
                                        : "(mma.sync, f32)";
    SmallVector<std::string> targs{w};
    if (kernel.wgmma)
      targs.push_back(kernel.pingpong ? "true" : "false");
    if (op.getAsync() && !kernel.wgmma)
      return op.emitOpError() << "async products need wgmma (sm90a)";
    std::string suffix = op.getAsync() ? "_async" : "";
    if (op.getAsync())
      how.insert(how.size() - 1, ", started: read after attn.tile_mma_wait");
    if (op.getTransposeRhs()) {
      if (adaptor.getAcc())
        return op.emitOpError() << "Q K^T with an accumulator is not lowered";
      comment(rewriter, loc, "attn.tile_matmul: S = Q K^T " + how);
      rewriter.replaceOp(op, call(rewriter, loc, result, "faopt::mma_abt" + suffix,
                                  {adaptor.getLhs(), adaptor.getRhs()}, targs));
      return success();
    }
    Value acc = adaptor.getAcc();
    if (!acc) {
      auto t = op.getResult().getType();
      acc = call(rewriter, loc, result, "faopt::acc_fill",
                 {literal(rewriter, loc, rewriter.getF32Type(), "0.0f")},
                 {str(t.getDimSize(0)), str(t.getDimSize(1)), w});
    }
    comment(rewriter, loc, "attn.tile_matmul: O += P V " + how);
    rewriter.replaceOp(op, call(rewriter, loc, result, "faopt::mma_ab" + suffix,
                                {adaptor.getLhs(), adaptor.getRhs(), acc}, targs));
    return success();
  }
};

/// wgmma.wait_group: at most `pending` started products still running.
struct TileMmaWaitLowering : KernelPattern<TileMmaWaitOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(TileMmaWaitOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (!kernel.wgmma)
      return op.emitOpError() << "needs wgmma (sm90a)";
    Location loc = op.getLoc();
    std::string n = str(op.getPending());
    comment(rewriter, loc,
            "attn.tile_mma_wait: until at most " + n +
                " started product(s) still run; this one is done");
    rewriter.replaceOp(op, call(rewriter, loc, convert(op.getType()),
                                "faopt::mma_wait", {adaptor.getTile()}, {n}));
    return success();
  }
};

struct TileMapLowering : KernelPattern<TileMapOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(TileMapOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Block &body = op.getBody().front();
    auto callOp = dyn_cast<func::CallOp>(body.front());
    if (!callOp || body.getOperations().size() != 2)
      return op.emitOpError()
             << "expects a body that calls a device function (run "
                "attn-outline-tile-maps first)";
    Location loc = op.getLoc();
    SmallVector<Value> operands{adaptor.getTile(), adaptor.getBatch(),
                                adaptor.getHead(), adaptor.getRow(),
                                adaptor.getCol()};
    for (Value captured : callOp.getOperands().drop_front(5))
      operands.push_back(rewriter.getRemappedValue(captured));
    // attn-kv-bounds-in-rows: the mask's kv bounds per row, F inside them.
    if (auto bounds = op->getAttrOfType<ArrayAttr>("attn.kv_bounds")) {
      auto first = bounds.size() == 2
                       ? dyn_cast<FlatSymbolRefAttr>(bounds[0])
                       : nullptr;
      auto last = first ? dyn_cast<FlatSymbolRefAttr>(bounds[1]) : nullptr;
      if (!last)
        return op.emitOpError()
               << "attn.kv_bounds must name two functions (first, last)";
      comment(rewriter, loc,
              "attn.tile_map: " + callOp.getCallee().str() +
                  "(score, b, h, q, kv, ...) on the scores of each row with " +
                  first.getValue().str() + " <= kv <= " +
                  last.getValue().str() + ", -inf elsewhere");
      rewriter.replaceOp(
          op, call(rewriter, loc, convert(op.getType()),
                   faopt::gpu::kMapPositionsInRows, operands,
                   {first.getValue().str(), last.getValue().str(),
                    callOp.getCallee().str()}));
      return success();
    }
    comment(rewriter, loc,
            "attn.tile_map: " + callOp.getCallee().str() +
                "(score, b, h, q, kv, ...) on every element of the tile");
    rewriter.replaceOp(op, call(rewriter, loc, convert(op.getType()),
                                "faopt::map_positions", operands,
                                {callOp.getCallee().str()}));
    return success();
  }
};

/// The device function the body of a list-builder op calls (outlined by
/// attn-outline-tile-maps after its `own` arguments), with its captured
/// values remapped appended to `operands`; an error on `op` otherwise.
FailureOr<func::CallOp> outlinedCall(Operation *op, Region &body, unsigned own,
                                     ConversionPatternRewriter &rewriter,
                                     SmallVectorImpl<Value> &operands) {
  auto callOp = dyn_cast<func::CallOp>(body.front().front());
  if (!callOp)
    return op->emitOpError()
           << "expects a body that calls a device function (run "
              "attn-outline-tile-maps first)";
  for (Value captured : callOp.getOperands().drop_front(own))
    operands.push_back(rewriter.getRemappedValue(captured));
  return callOp;
}

/// The list builder's row: every thread classifies kv-blocks with the
/// outlined device function; the template compacts the non-empty ones in
/// order (warp ballots) and writes the count.
struct BlockListBuildLowering : KernelPattern<BlockListBuildOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(BlockListBuildOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    SmallVector<Value> operands{adaptor.getLists(), adaptor.getBatch(),
                                adaptor.getHead(),  adaptor.getQBlock(),
                                adaptor.getLower(), adaptor.getUpper()};
    FailureOr<func::CallOp> callOp =
        outlinedCall(op, op.getBody(), 1, rewriter, operands);
    if (failed(callOp))
      return failure();
    StringRef callee = callOp->getCallee();
    comment(rewriter, op.getLoc(),
            "attn.block_list_build: " + callee.str() +
                "(kv_block, ...) on kv-blocks [lower, upper), non-empty ones "
                "listed in order");
    call(rewriter, op.getLoc(), Type(), "faopt::build_block_list", operands,
         {"&" + callee.str()});
    rewriter.eraseOp(op);
    return success();
  }
};

/// The key ranges after a list row (attn-sorted-keys-as-bounds): the
/// outlined keys function, the rows per q-block and the kv-block size as
/// template arguments.
struct KeyRangesLowering : KernelPattern<KeyRangesOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(KeyRangesOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    SmallVector<Value> operands{adaptor.getLists(),   adaptor.getBatch(),
                                adaptor.getHead(),    adaptor.getQBlock(),
                                adaptor.getQFirst(),  adaptor.getKvBegin(),
                                adaptor.getKvEnd()};
    FailureOr<func::CallOp> callOp =
        outlinedCall(op, op.getBody(), 2, rewriter, operands);
    if (failed(callOp))
      return failure();
    StringRef callee = callOp->getCallee();
    comment(rewriter, op.getLoc(),
            "attn.key_ranges: " + callee.str() +
                "(pos, is_row, ...): if the kv keys are sorted, each row's "
                "first and last kv with its key, after the list");
    call(rewriter, op.getLoc(), Type(), faopt::gpu::kKeyRanges, operands,
         {"&" + callee.str(), std::to_string(op.getRows()),
          std::to_string(op.getBlockKv())});
    rewriter.eraseOp(op);
    return success();
  }
};

struct TileReduceLowering : KernelPattern<TileReduceOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(TileReduceOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    bool isMax = op.getKind() == ReduceKind::max;
    bool lanes = kernel.partialSums.reduces.contains(op);
    comment(rewriter, op.getLoc(),
            std::string("attn.tile_reduce <") + (isMax ? "max" : "sum") +
                ">: row " + (isMax ? "maximum" : "sum") + ", combined with init" +
                (lanes ? " (each lane its own columns; the quad is summed in "
                         "finalize)"
                       : ""));
    rewriter.replaceOp(op, call(rewriter, op.getLoc(), convert(op.getType()),
                                isMax ? "faopt::row_max"
                                      : (lanes ? "faopt::row_sum_lanes"
                                               : "faopt::row_sum"),
                                {adaptor.getTile(), adaptor.getInit()}));
    return success();
  }
};

template <typename Op>
struct RowOpLowering : KernelPattern<Op> {
  RowOpLowering(const TypeConverter &tc, MLIRContext *ctx, const KernelInfo &k,
                StringRef callee, StringRef text)
      : KernelPattern<Op>(tc, ctx, k), callee(callee.str()), text(text.str()) {}
  LogicalResult
  matchAndRewrite(Op op, typename Op::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    comment(rewriter, op.getLoc(), text);
    rewriter.replaceOp(op, call(rewriter, op.getLoc(),
                                this->convert(op.getType()), callee,
                                adaptor.getOperands()));
    return success();
  }
  std::string callee, text;
};

/// exp2(k (x - row max)) as one multiply-add per element.
struct TileExp2Lowering : KernelPattern<TileExp2Op> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(TileExp2Op op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    std::string k = faopt::gpu::floatLiteral(op.getExpScale().convertToFloat());
    comment(rewriter, loc,
            "attn.tile_exp2: exp2(" + k + " * (x - row max)), -inf max read as 0");
    Value scale = literal(rewriter, loc, rewriter.getF32Type(), k);
    rewriter.replaceOp(op, call(rewriter, loc, convert(op.getType()),
                                "faopt::tile_exp2",
                                {adaptor.getInput(), adaptor.getMax(), scale}));
    return success();
  }
};

/// truncf of a whole tile: P rounded and packed as the A operand of P V.
struct TileTruncLowering : KernelPattern<arith::TruncFOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(arith::TruncFOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = dyn_cast<RankedTensorType>(op.getType());
    if (!type)
      return rewriter.notifyMatchFailure(op, "scalar");
    comment(rewriter, op.getLoc(),
            "arith.truncf: round P to " + elementName(type.getElementType()) +
                " and pack it as the A operand of P V");
    rewriter.replaceOp(op, call(rewriter, op.getLoc(), convert(type),
                                "faopt::to_operand_a", adaptor.getIn(),
                                {elementName(type.getElementType())}));
    return success();
  }
};

/// tensor.cast that only changes the encoding (attn-overlap-softmax's P
/// made a register operand before it is rounded): the C++ value is the same.
struct TileCastLowering : KernelPattern<tensor::CastOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(tensor::CastOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (convert(op.getType()) != adaptor.getSource().getType())
      return rewriter.notifyMatchFailure(op, "changes the C++ type");
    rewriter.replaceOp(op, adaptor.getSource());
    return success();
  }
};

/// Splat constants of f32 tiles (the initial max, sum and accumulator), and
/// zero register operands (attn-overlap-softmax's P before the first
/// product): value-initialised, all bits zero.
struct TileConstantLowering : KernelPattern<arith::ConstantOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(arith::ConstantOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = dyn_cast<RankedTensorType>(op.getType());
    auto dense = dyn_cast<DenseElementsAttr>(op.getValue());
    if (type && dense && isa_and_nonnull<RegisterOperandAttr>(type.getEncoding())) {
      if (!dense.isSplat() || !dense.getSplatValue<APFloat>().isPosZero())
        return rewriter.notifyMatchFailure(op, "a register operand other than zero");
      Type t = convert(type);
      rewriter.replaceOp(op, literal(rewriter, op.getLoc(), t,
                                     cast<emitc::OpaqueType>(t).getValue().str() + "{}"));
      return success();
    }
    if (!type || !dense || !dense.isSplat() || !type.getElementType().isF32())
      return rewriter.notifyMatchFailure(op, "not a splat f32 tile");
    std::string text = faopt::gpu::floatLiteral(
        dense.getSplatValue<APFloat>().convertToFloat());
    Location loc = op.getLoc();
    Value value = literal(rewriter, loc, rewriter.getF32Type(), text);
    std::string w = str(kernel.warps);
    Value tile =
        type.getRank() == 1
            ? call(rewriter, loc, convert(type), "faopt::rows_fill", value,
                   {str(type.getDimSize(0)), w})
            : call(rewriter, loc, convert(type), "faopt::acc_fill", value,
                   {str(type.getDimSize(0)), str(type.getDimSize(1)), w});
    rewriter.replaceOp(op, tile);
    return success();
  }
};

struct FinalizeLowering : KernelPattern<OnlineFinalizeOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(OnlineFinalizeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (op.getAcc().getType().getRank() != 2)
      return op.emitOpError() << "batched form reached the GPU lowering";
    Location loc = op.getLoc();
    comment(rewriter, loc,
            "attn.online_finalize: o = acc / sum, lse = ln2 (k max + log2 sum)");
    Value sum = adaptor.getSum();
    if (kernel.partialSums.finalizes.contains(op)) {
      comment(rewriter, loc, "the row sums so far are per lane: add up each quad");
      sum = call(rewriter, loc, sum.getType(), "faopt::rows_quad_sum", sum);
    }
    auto oType = op.getOutput().getType();
    SmallVector<Value> results{call(
        rewriter, loc, convert(oType), "faopt::finalize_output",
        {adaptor.getMax(), sum, adaptor.getAcc()},
        {elementName(oType.getElementType())})};
    if (op.getLse())
      results.push_back(call(
          rewriter, loc, convert(op.getLse().getType()), "faopt::finalize_lse",
          {adaptor.getMax(), sum,
           literal(rewriter, loc, rewriter.getF32Type(),
                   faopt::gpu::floatLiteral(op.getExpScale().convertToFloat()))}));
    rewriter.replaceOp(op, results);
    return success();
  }
};

struct TileStoreLowering : KernelPattern<TileStoreOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(TileStoreOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = op.getTile().getType();
    SmallVector<Value> operands{adaptor.getTile(), adaptor.getDest(),
                                adaptor.getBatch(), adaptor.getHead(),
                                adaptor.getRow(), adaptor.getBound()};
    if (type.getRank() == 1) {
      comment(rewriter, loc, "attn.tile_store: one float per row (lse)");
      call(rewriter, loc, Type(), "faopt::store_rows", operands);
    } else {
      // The O tile goes out through shared memory (the Q tile's space, or
      // its own in a persistent kernel): 16-byte coalesced stores, or in a
      // persistent TMA kernel a TMA store the consumers do not wait for.
      auto elem = op.getDest().getType().getElementType();
      std::string name = elementName(elem);
      std::string rows = str(type.getDimSize(0)), cols = str(type.getDimSize(1));
      Type smemType = emitc::OpaqueType::get(
          getContext(),
          "faopt::SmemTile<" + name + ", " + rows + ", " + cols + ">");
      if (op.getStagingSource()) {
        // attn-stage-output-in-v: staged in the V stage the program's last
        // P V read; the store's thread releases that stage once read.
        KernelInfo::Buffer buf;
        if (failed(lookupBuffer(kernel, op, buf)))
          return failure();
        comment(rewriter, loc,
                kernel.outputByCopyThread
                    ? "attn.tile_store: the output tile, staged in stage {} "
                      "(fill {}) of the last P V's buffer where {}, which "
                      "the consumers then release: the copy thread stores "
                      "it by TMA before it refills the stage; written from "
                      "registers where no P V ran"
                : kernel.outputWaitAtNextQ
                    ? "attn.tile_store: the output tile, staged in stage {} "
                      "(fill {}) of the last P V's buffer where {} and "
                      "stored by TMA; its thread hands that stage back after "
                      "the next program's Q wait, once the store has read "
                      "it; written from registers where no P V ran"
                    : "attn.tile_store: the output tile, staged in stage {} "
                      "(fill {}) of the last P V's buffer where {} and "
                      "stored by TMA, which hands that stage back once it "
                      "has read it; written from registers where no P V ran",
                {adaptor.getStagingStage(), adaptor.getStagingRound(),
                 adaptor.getStagingHeld()});
        auto staged = RankedTensorType::get(type.getShape(), elem);
        Value stage =
            smemTile(rewriter, loc, buf, staged, adaptor.getStagingStage());
        call(rewriter, loc, Type(),
             kernel.outputByCopyThread ? "faopt::tma::stage_output_for_copy_thread"
             : kernel.outputWaitAtNextQ ? "faopt::tma::store_tile_in_stage_owing"
                                        : "faopt::tma::store_tile_in_stage",
             {adaptor.getTile(), adaptor.getDest(), adaptor.getBatch(),
              adaptor.getHead(), adaptor.getRow(), adaptor.getBound(), stage,
              adaptor.getStagingStage(), adaptor.getStagingHeld()},
             {str(kernel.pipeOffset), str(kernel.threads),
              sourceOf(kernel, op)});
        rewriter.eraseOp(op);
        return success();
      }
      // FlashAttention-3's epilogue in a persistent TMA kernel: one thread
      // stores the staged tile by TMA and the consumers go on to their next
      // program.
      const bool byTma = kernel.tma && kernel.persistent;
      comment(rewriter, loc,
              byTma ? "attn.tile_store: the output tile, staged through "
                      "shared memory, stored by TMA (not waited for)"
                    : "attn.tile_store: the output tile, staged through "
                      "shared memory");
      Value staging = call(rewriter, loc, smemType, "faopt::smem",
                           {literal(rewriter, loc, rewriter.getI64Type(),
                                    str(kernel.stagingOffset))},
                           {name, rows, cols});
      if (byTma) {
        call(rewriter, loc, Type(), "faopt::tma::store_tile",
             {adaptor.getTile(), adaptor.getBatch(), adaptor.getHead(),
              adaptor.getRow(), staging},
             {str(kernel.pipeOffset), str(kernel.threads)});
      } else {
        operands.push_back(staging);
        call(rewriter, loc, Type(), "faopt::store_tile", operands,
             {str(kernel.threads)});
      }
    }
    rewriter.eraseOp(op);
    return success();
  }
};

} // namespace

void faopt::gpu::emit::populateTileOpsToEmitCPatterns(
    const TypeConverter &converter, RewritePatternSet &patterns,
    const KernelInfo &info) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<TileLoadLowering, TilePrefetchLowering, TileWaitLowering,
               TileReleaseLowering, TileMatmulLowering, TileMmaWaitLowering,
               TileMapLowering, TileReduceLowering,
               TileTruncLowering, TileCastLowering, FinalizeLowering,
               TileStoreLowering,
               BlockListBuildLowering, KeyRangesLowering, TileExp2Lowering>(
      converter, ctx, info);
  populateRolesToEmitCPatterns(converter, patterns, info);
  patterns.add<TileConstantLowering>(converter, ctx, info,
                                     /*benefit=*/PatternBenefit(2));
  patterns.add<RowOpLowering<TileScaleRowsOp>>(
      converter, ctx, info, "faopt::scale_rows",
      "attn.tile_scale_rows: rescale each row");
}
