//===- ConvertToEmitC.cpp - decomposed kernels to CUDA C++ (EmitC) --------===//
//
// The kernel function (attn.kernel, after attn-decompose and
// attn-outline-tile-maps) becomes
//
//   extern "C" __global__ __launch_bounds__(T, B) void k(
//       faopt::Tensor<faopt::bf16, 4> q, ..., faopt::Tensor<float, 3> lse)
//
// with one faopt::Tensor view (pointer, sizes, strides: a memref descriptor)
// per memref argument. Types: index -> int64_t; f32 tiles -> faopt::Acc
// (mma accumulator fragments) or faopt::Rows (per-row values); 16-bit tiles
// -> `auto` (shared-memory tiles and packed operands never cross control
// flow, so their type is always the initializer's). Shared memory is laid
// out here: [Q tile / O staging][K tile][V tile].
//
//===----------------------------------------------------------------------===//
#include "compiler/targets/gpu/ConvertToEmitC.h"
#include "compiler/targets/gpu/KernelPlan.h"
#include "compiler/targets/gpu/Passes.h"

#include "dialects/attn/AttnOps.h"
#include "mlir/Conversion/SCFToEmitC/SCFToEmitC.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/EmitC/IR/EmitC.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/DialectConversion.h"

namespace faopt::gpu {
#define GEN_PASS_DEF_ATTNCONVERTTOEMITC
#include "compiler/targets/gpu/Passes.h.inc"
} // namespace faopt::gpu

using namespace mlir;
using namespace faopt::attn;
using faopt::gpu::KernelInfo;
using faopt::gpu::planSharedMemory;

namespace {

std::string elementName(Type t) {
  if (t.isBF16())
    return "faopt::bf16";
  if (t.isF16())
    return "faopt::f16";
  if (t.isInteger(32))
    return "int32_t";
  return "float";
}

class GpuTypeConverter : public TypeConverter {
public:
  explicit GpuTypeConverter(MLIRContext *ctx, int64_t warps) {
    addConversion([](Type t) -> std::optional<Type> {
      if (emitc::isSupportedEmitCType(t) && !isa<IndexType>(t))
        return t;
      return std::nullopt;
    });
    addConversion([ctx](IndexType) -> Type {
      return IntegerType::get(ctx, 64);
    });
    addConversion([ctx, warps](RankedTensorType t) -> std::optional<Type> {
      auto opaque = [&](const std::string &s) -> Type {
        return emitc::OpaqueType::get(ctx, s);
      };
      if (t.getElementType().isF32() && t.getRank() == 2)
        return opaque("faopt::Acc<" + std::to_string(t.getDimSize(0)) + ", " +
                      std::to_string(t.getDimSize(1)) + ", " +
                      std::to_string(warps) + ">");
      if (t.getElementType().isF32() && t.getRank() == 1)
        return opaque("faopt::Rows<" + std::to_string(t.getDimSize(0)) + ", " +
                      std::to_string(warps) + ">");
      // Shared-memory tiles, packed operands, output tiles: always
      // initialised where declared.
      return opaque("auto");
    });
    addConversion([ctx](MemRefType t) -> Type {
      return emitc::OpaqueType::get(
          ctx, "faopt::Tensor<" + elementName(t.getElementType()) + ", " +
                   std::to_string(t.getRank()) + ">");
    });
    auto cast = [](OpBuilder &b, Type type, ValueRange inputs,
                   Location loc) -> Value {
      return UnrealizedConversionCastOp::create(b, loc, type, inputs)
          .getResult(0);
    };
    addSourceMaterialization(cast);
    addTargetMaterialization(cast);
  }
};

Value literal(OpBuilder &b, Location loc, Type type, const std::string &text) {
  return emitc::LiteralOp::create(b, loc, type, text);
}

void comment(OpBuilder &b, Location loc, const std::string &text,
             ValueRange args = {}) {
  emitc::VerbatimOp::create(b, loc, b.getStringAttr("// " + text), args);
}

ArrayAttr templateArgs(OpBuilder &b, ArrayRef<std::string> args) {
  SmallVector<Attribute> attrs;
  for (const std::string &a : args)
    attrs.push_back(emitc::OpaqueAttr::get(b.getContext(), a));
  return b.getArrayAttr(attrs);
}

Value call(OpBuilder &b, Location loc, Type result, StringRef callee,
           ValueRange operands, ArrayRef<std::string> targs = {}) {
  TypeRange results = result ? TypeRange(result) : TypeRange();
  auto op = emitc::CallOpaqueOp::create(b, loc, results, callee, operands,
                                        ArrayAttr(),
                                        targs.empty() ? ArrayAttr()
                                                      : templateArgs(b, targs));
  return result ? op.getResult(0) : Value();
}

std::string str(int64_t v) { return std::to_string(v); }

/// Threads of the list builder: one kv-block each per round.
constexpr int64_t kListBuilderThreads = 128;

template <typename Op>
struct KernelPattern : OpConversionPattern<Op> {
  KernelPattern(const TypeConverter &tc, MLIRContext *ctx, const KernelInfo &k,
                PatternBenefit benefit = 1)
      : OpConversionPattern<Op>(tc, ctx, benefit), kernel(k) {}
  Type convert(Type t) const { return this->getTypeConverter()->convertType(t); }
  const KernelInfo &kernel;
};

/// memref.dim of a kernel argument: a size from its faopt::Tensor view.
struct DimLowering : KernelPattern<memref::DimOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(memref::DimOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    std::optional<int64_t> index = op.getConstantIndex();
    if (!index)
      return rewriter.notifyMatchFailure(op, "dynamic dimension index");
    Value size = call(rewriter, op.getLoc(), rewriter.getI64Type(),
                      "faopt::dim", adaptor.getSource(), {str(*index)});
    rewriter.replaceOp(op, size);
    return success();
  }
};

/// The grid: one linear program index (attn-schedule-grid ordered the
/// programs), blockIdx.x.
struct GridLowering : KernelPattern<scf::ForallOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(scf::ForallOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (!op->hasAttr("attn.grid") || op.getRank() != 1 || !op.getOutputs().empty())
      return rewriter.notifyMatchFailure(op, "not the kernel grid");
    Location loc = op.getLoc();
    Type i64 = rewriter.getI64Type();
    Value x = call(rewriter, loc, i64, "faopt::block_index", {}, {"0"});
    comment(rewriter, loc,
            "scf.forall (attn.grid): {} = program index (blockIdx.x), in "
            "dispatch order",
            {x});
    SmallVector<Value> ivs{getTypeConverter()->materializeSourceConversion(
        rewriter, loc, rewriter.getIndexType(), x)};
    Block *body = op.getBody();
    rewriter.eraseOp(body->getTerminator());
    rewriter.inlineBlockBefore(body, op, ivs);
    rewriter.eraseOp(op);
    return success();
  }
};

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
    comment(rewriter, loc,
            "attn.tile_prefetch: rows [{}, {} + " + str(type.getDimSize(0)) +
                ") into stage {} (cp.async, completes later)",
            {adaptor.getRow(), adaptor.getRow(), adaptor.getStage()});
    Value buffer = smemTile(rewriter, loc, buf, type, adaptor.getStage());
    bool barrier = kernel.barrierFirst.contains(op);
    call(rewriter, loc, Type(), "faopt::prefetch_tile",
         {buffer, adaptor.getSource(), adaptor.getBatch(), adaptor.getHead(),
          adaptor.getRow(), adaptor.getBound()},
         {str(kernel.threads), barrier ? "true" : "false"});
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

struct TileMatmulLowering : KernelPattern<TileMatmulOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(TileMatmulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Type result = convert(op.getResult().getType());
    std::string w = str(kernel.warps);
    if (op.getTransposeRhs()) {
      if (adaptor.getAcc())
        return op.emitOpError() << "Q K^T with an accumulator is not lowered";
      comment(rewriter, loc, "attn.tile_matmul: S = Q K^T (mma.sync, f32)");
      rewriter.replaceOp(op, call(rewriter, loc, result, "faopt::mma_abt",
                                  {adaptor.getLhs(), adaptor.getRhs()}, {w}));
      return success();
    }
    Value acc = adaptor.getAcc();
    if (!acc) {
      auto t = op.getResult().getType();
      acc = call(rewriter, loc, result, "faopt::acc_fill",
                 {literal(rewriter, loc, rewriter.getF32Type(), "0.0f")},
                 {str(t.getDimSize(0)), str(t.getDimSize(1)), w});
    }
    comment(rewriter, loc, "attn.tile_matmul: O += P V (mma.sync, f32)");
    rewriter.replaceOp(op, call(rewriter, loc, result, "faopt::mma_ab",
                                {adaptor.getLhs(), adaptor.getRhs(), acc}, {w}));
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
    comment(rewriter, loc,
            "attn.tile_map: " + callOp.getCallee().str() +
                "(score, b, h, q, kv, ...) on every element of the tile");
    rewriter.replaceOp(op, call(rewriter, loc, convert(op.getType()),
                                "faopt::map_positions", operands,
                                {callOp.getCallee().str()}));
    return success();
  }
};

/// The list builder's row: every thread classifies kv-blocks with the
/// outlined device function; the template compacts the non-empty ones in
/// order (warp ballots) and writes the count.
struct BlockListBuildLowering : KernelPattern<BlockListBuildOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(BlockListBuildOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Block &body = op.getBody().front();
    auto callOp = dyn_cast<func::CallOp>(body.front());
    if (!callOp)
      return op.emitOpError()
             << "expects a body that calls a device function (run "
                "attn-outline-tile-maps first)";
    Location loc = op.getLoc();
    SmallVector<Value> operands{adaptor.getLists(), adaptor.getBatch(),
                                adaptor.getHead(),  adaptor.getQBlock(),
                                adaptor.getLower(), adaptor.getUpper()};
    for (Value captured : callOp.getOperands().drop_front(1))
      operands.push_back(rewriter.getRemappedValue(captured));
    comment(rewriter, loc,
            "attn.block_list_build: " + callOp.getCallee().str() +
                "(kv_block, ...) on kv-blocks [lower, upper), non-empty ones "
                "listed in order");
    call(rewriter, loc, Type(), "faopt::build_block_list", operands,
         {"&" + callOp.getCallee().str()});
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

/// Splat constants of f32 tiles (the initial max, sum and accumulator).
struct TileConstantLowering : KernelPattern<arith::ConstantOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(arith::ConstantOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = dyn_cast<RankedTensorType>(op.getType());
    auto dense = dyn_cast<DenseElementsAttr>(op.getValue());
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
      // The O tile goes out through shared memory (the Q tile's space) for
      // 16-byte coalesced stores.
      auto elem = op.getDest().getType().getElementType();
      std::string name = elementName(elem);
      std::string rows = str(type.getDimSize(0)), cols = str(type.getDimSize(1));
      Type smemType = emitc::OpaqueType::get(
          getContext(),
          "faopt::SmemTile<" + name + ", " + rows + ", " + cols + ">");
      comment(rewriter, loc,
              "attn.tile_store: the output tile, staged through shared memory");
      operands.push_back(call(rewriter, loc, smemType, "faopt::smem",
                              {literal(rewriter, loc, rewriter.getI64Type(), "0")},
                              {name, rows, cols}));
      call(rewriter, loc, Type(), "faopt::store_tile", operands,
           {str(kernel.threads)});
    }
    rewriter.eraseOp(op);
    return success();
  }
};

struct AttnConvertToEmitCPass
    : faopt::gpu::impl::AttnConvertToEmitCBase<AttnConvertToEmitCPass> {
  using AttnConvertToEmitCBase::AttnConvertToEmitCBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    func::FuncOp kernel, listBuilder;
    for (auto fn : module.getOps<func::FuncOp>()) {
      if (fn->hasAttr("attn.kernel"))
        kernel = fn;
      if (fn->hasAttr("attn.block_list_builder"))
        listBuilder = fn;
    }
    if (!kernel) {
      module.emitError() << "attn-convert-to-emitc: no attn.kernel function";
      return signalPassFailure();
    }
    auto tiling = kernel->getAttrOfType<TilingAttr>("attn.tiling");
    if (!tiling) {
      kernel.emitError() << "kernel has no attn.tiling (run attn-tile)";
      return signalPassFailure();
    }
    bool scheduled = false;
    kernel.walk([&](scf::ForallOp f) {
      scheduled |= f->hasAttr("attn.grid") && f.getRank() == 1;
    });
    if (!scheduled) {
      kernel.emitError() << "kernel grid is not one linear program index "
                            "(run attn-schedule-grid)";
      return signalPassFailure();
    }
    if (target != "sm80" && target != "sm90a") {
      module.emitError() << "attn-convert-to-emitc: unknown GPU target '"
                         << target << "' (sm80, sm90a)";
      return signalPassFailure();
    }
    KernelInfo info;
    info.warps = tiling.getWarps();
    info.threads = 32 * info.warps;
    info.blockQ = tiling.getBlockQ();
    info.blockKv = tiling.getBlockKv();
    if (failed(planSharedMemory(kernel, info)))
      return signalPassFailure();
    info.partialSums = faopt::gpu::findLanePartialSums(kernel);
    for (unsigned i = 0; i < kernel.getNumArguments(); ++i) {
      auto name = kernel.getArgAttrOfType<StringAttr>(i, "attn.param");
      bool lists = static_cast<bool>(kernel.getArgAttr(i, "attn.block_lists"));
      info.argNames.push_back(name ? name.str() : lists ? "block_lists" : "");
    }
    // Blocks per SM the shared memory allows (sm80: 164 KiB per SM, sm90:
    // 228 KiB), at most 2: it bounds registers through __launch_bounds__.
    int64_t perSM = (target == "sm80" ? 164 : 228) * 1024;
    int64_t minBlocks =
        std::clamp<int64_t>(perSM / std::max<int64_t>(info.sharedBytes + 1024, 1), 1, 2);

    GpuTypeConverter converter(ctx, info.warps);
    ConversionTarget legal(*ctx);
    legal.addLegalDialect<emitc::EmitCDialect>();
    legal.addLegalOp<ModuleOp, UnrealizedConversionCastOp>();
    legal.addIllegalDialect<AttnDialect, arith::ArithDialect,
                            math::MathDialect, memref::MemRefDialect,
                            scf::SCFDialect, func::FuncDialect>();
    RewritePatternSet patterns(ctx);
    faopt::gpu::populateScalarToEmitCPatterns(converter, patterns);
    populateSCFToEmitCConversionPatterns(patterns, converter);
    faopt::gpu::populateWhileToEmitCPatterns(converter, patterns);
    patterns.add<DimLowering, GridLowering, TileLoadLowering,
                 TilePrefetchLowering, TileWaitLowering,
                 TileMatmulLowering, TileMapLowering, TileReduceLowering,
                 TileTruncLowering, FinalizeLowering, TileStoreLowering,
                 BlockListBuildLowering>(converter, ctx, info);
    patterns.add<TileConstantLowering>(converter, ctx, info,
                                       /*benefit=*/PatternBenefit(2));
    patterns.add<TileExp2Lowering>(converter, ctx, info);
    patterns.add<RowOpLowering<TileScaleRowsOp>>(
        converter, ctx, info, "faopt::scale_rows",
        "attn.tile_scale_rows: rescale each row");

    // Names survive the conversion: kernel vs device functions.
    std::string kernelName = kernel.getSymName().str();
    std::string builderName =
        listBuilder ? listBuilder.getSymName().str() : std::string();
    DictionaryAttr listRows;
    if (listBuilder)
      for (unsigned i = 0; i < listBuilder.getNumArguments(); ++i)
        if (auto rows = listBuilder.getArgAttrOfType<DictionaryAttr>(
                i, "attn.block_lists"))
          listRows = rows;
    if (failed(applyFullConversion(module, legal, std::move(patterns))))
      return signalPassFailure();

    OpBuilder b(ctx);
    b.setInsertionPointToStart(module.getBody());
    emitc::IncludeOp::create(b, module.getLoc(), "faopt_sm80.cuh",
                             /*is_standard_include=*/false);
    for (auto fn : module.getOps<emitc::FuncOp>()) {
      if (fn.getSymName() == kernelName) {
        fn.setSpecifiersAttr(b.getStrArrayAttr(
            {"extern \"C\"", "__global__",
             "__launch_bounds__(" + str(info.threads) + ", " + str(minBlocks) +
                 ")"}));
        fn->setAttr("attn.shared_memory_bytes",
                    b.getI64IntegerAttr(info.sharedBytes));
        fn->setAttr("attn.threads", b.getI64IntegerAttr(info.threads));
        // Name the arguments once, at the top (kernels built by attn-tile:
        // q, k, v, o and optionally lse as tensor views, then the run-time
        // parameters by their `attn.param` names).
        b.setInsertionPointToStart(&fn.getBody().front());
        SmallVector<Value> views, scalars;
        std::vector<std::string> scalarNames;
        for (auto [i, a] : llvm::enumerate(fn.getArguments())) {
          auto t = dyn_cast<emitc::OpaqueType>(a.getType());
          if (i < info.argNames.size() && !info.argNames[i].empty()) {
            scalars.push_back(a);
            scalarNames.push_back(info.argNames[i]);
          } else if (t && t.getValue().starts_with("faopt::Tensor<")) {
            views.push_back(a);
          }
        }
        if (views.size() == 4 || views.size() == 5) {
          std::string names = "{} = q, {} = k, {} = v, {} = o";
          if (views.size() == 5)
            names += ", {} = lse";
          comment(b, fn.getLoc(),
                  names + ": [batch, heads, seq, dim] views (faopt::Tensor)",
                  views);
        }
        if (!scalars.empty()) {
          std::string names;
          for (const std::string &n : scalarNames)
            names += std::string(names.empty() ? "" : ", ") + "{} = " + n;
          comment(b, fn.getLoc(),
                  names + ": run-time parameters and tensor inputs", scalars);
        }
      } else if (fn.getSymName() == builderName) {
        // One thread block per list row; no shared memory beyond the
        // template's per-warp counts.
        fn.setSpecifiersAttr(b.getStrArrayAttr(
            {"extern \"C\"", "__global__",
             "__launch_bounds__(" + str(kListBuilderThreads) + ")"}));
        fn->setAttr("attn.threads", b.getI64IntegerAttr(kListBuilderThreads));
        fn->setAttr("attn.block_list_builder",
                    listRows ? Attribute(listRows) : b.getUnitAttr());
      } else {
        fn.setSpecifiersAttr(
            b.getStrArrayAttr({"static", "__device__", "__forceinline__"}));
      }
    }
  }
};

} // namespace
