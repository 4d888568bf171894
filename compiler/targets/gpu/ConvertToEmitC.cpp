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
// out here: [Q tile / O staging][K tile][V tile]. The tile ops' patterns are
// in TileOpsToEmitC.cpp; this file has the grid, sizes and the pass, which
// also names and qualifies the kernel and list-builder functions.
//
//===----------------------------------------------------------------------===//
#include "compiler/targets/gpu/ConvertToEmitC.h"

#include "compiler/targets/TargetDesc.h"
#include "compiler/targets/gpu/EmitCBuilders.h"
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
#include "mlir/Dialect/Tensor/IR/Tensor.h"
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
using namespace faopt::gpu::emit;

namespace {

/// Threads of the list builder: one kv-block each per round.
constexpr int64_t kListBuilderThreads = 128;

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
    if (kernel.persistent)
      comment(rewriter, loc,
              "scf.forall (attn.grid): {} = worker index (blockIdx.x); its "
              "programs are the loop below",
              {x});
    else
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

/// TMA kernels (faopt_sm90_tma.cuh): the tensor maps of q, k and v (and o
/// in a persistent kernel) as the last parameters, the producer warpgroup
/// split off at the start of the body, and the stop request before every
/// return.
void addProducer(emitc::FuncOp fn, const KernelInfo &info, int64_t minBlocks) {
  OpBuilder b(fn.getContext());
  Location loc = fn.getLoc();
  Type mapType = emitc::OpaqueType::get(fn.getContext(),
                                        "const __grid_constant__ faopt::TmaMap");
  // q, k, v; a persistent kernel's O leaves by TMA store, through o's map.
  SmallVector<Value> maps;
  for (int i = 0, e = info.persistent ? 4 : 3; i < e; ++i) {
    unsigned at = fn.getNumArguments();
    (void)fn.insertArgument(at, mapType, DictionaryAttr(), loc);
    maps.push_back(fn.getArgument(at));
  }
  // The producer warpgroup keeps 24 registers per thread and the consumers
  // take what it frees. setmaxnreg.inc draws only on what the CTA's own
  // warps released, so the budget is the CTA's launch allocation (every
  // thread at the __launch_bounds__ cap, which setmaxnreg kernels run at),
  // less the producer's 128 x 24, over the consumer threads, in steps of
  // 8, at most 240. One CTA per SM with two consumer warpgroups (168 at
  // launch): 240. Two CTAs per SM with one (64-row tiles, 128 at launch):
  // 232; without the hand-off those consumers spill ~180 bytes and ran at
  // 0.58-0.69 of the speed they reach with it on the H200
  // (bench/experiments/two_ctas). Two CTAs with two warpgroups (80 at
  // launch): 104. No hand-off where the consumers would not gain over
  // their launch allocation: one 64-row consumer warpgroup alone on an SM
  // (--block-q 64, 256 threads) may use 255 registers from the start
  // (ptxas: 20 bytes of spills, against 92 under a 240 cap).
  const int64_t kProducerRegs = 24;
  const int64_t consumerThreads = info.warps * 32;
  const int64_t atLaunch =
      std::min<int64_t>(255, 65536 / minBlocks / (consumerThreads + 128)) /
      8 * 8;
  const int64_t consumers = std::min<int64_t>(
      240, (atLaunch * (consumerThreads + 128) - 128 * kProducerRegs) /
               consumerThreads / 8 * 8);
  const bool handOff = consumers > atLaunch;
  std::string consumerRegs = handOff ? std::to_string(consumers) : "0";
  std::string producerRegs = handOff ? std::to_string(kProducerRegs) : "0";
  std::string w = std::to_string(info.warps), pipe = std::to_string(info.pipeOffset);
  std::string pp = info.pingpong ? "true" : "false";
  b.setInsertionPointToStart(&fn.getBody().front());
  faopt::gpu::emit::comment(
      b, loc,
      "producer warpgroup (warps " + w + "-" + std::to_string(info.warps + 3) +
          "): one thread issues the TMA copies ({} = q, {} = k, {} = v " +
          (maps.size() == 4 ? std::string("tensor maps; {} = o, for the "
                                          "output's TMA stores")
                            : std::string("tensor maps")) +
          ") in the copy slice below",
      maps);
  // The V stages' O slots (attn.output_by_copy_thread) start empty; start's
  // barrier makes that visible to both roles.
  if (info.outputByCopyThread)
    faopt::gpu::emit::call(b, loc, Type(), "faopt::tma::init_output_slots", {});
  // attn.output_wait_at_next_q: thread 0 owes no staged store yet.
  if (info.outputWaitAtNextQ)
    faopt::gpu::emit::call(b, loc, Type(),
                           "faopt::tma::init_owed_output_release", {});
  faopt::gpu::emit::call(b, loc, Type(), "faopt::tma::start", maps, {w, pipe});
  // The roles (attn-warp-specialize's branch on attn.copy_producer): each
  // side sets its registers first, and the producer's side ends in an exit
  // so the two never merge again.
  fn.walk([&](emitc::IfOp branch) {
    auto role = branch.getCondition().getDefiningOp<emitc::CallOpaqueOp>();
    if (!role || role.getCallee() != "faopt::tma::is_producer")
      return;
    b.setInsertionPointToStart(&branch.getThenRegion().front());
    faopt::gpu::emit::call(b, loc, Type(), "faopt::tma::producer_begin", {},
                           {w, producerRegs});
    b.setInsertionPoint(branch.getThenRegion().front().getTerminator());
    if (info.outputByCopyThread) {
      // The O the last programs left in V stages that were not refilled.
      const KernelInfo::Buffer &v = info.stagedOutput;
      RankedTensorType tile = info.stagedOutputTile;
      faopt::gpu::emit::call(
          b, loc, Type(), "faopt::tma::producer_end_after_output", {},
          {pipe, std::to_string(info.stagedOutputSource),
           std::to_string(v.offset), std::to_string(v.stageBytes),
           faopt::gpu::emit::elementName(tile.getElementType()),
           std::to_string(tile.getDimSize(0)),
           std::to_string(tile.getDimSize(1))});
    } else {
      faopt::gpu::emit::call(b, loc, Type(), "faopt::tma::producer_end", {});
    }
    b.setInsertionPointToStart(&branch.getElseRegion().front());
    faopt::gpu::emit::call(b, loc, Type(), "faopt::tma::consumer_begin", {},
                           {w, pp, consumerRegs});
  });
  fn.walk([&](emitc::ReturnOp ret) {
    b.setInsertionPoint(ret);
    if (info.outputWaitAtNextQ) // the last program's staged store
      faopt::gpu::emit::call(b, loc, Type(),
                             "faopt::tma::pay_owed_output_release", {}, {w});
    faopt::gpu::emit::call(b, loc, Type(), "faopt::tma::finish", {},
                           {w, pipe, pp});
  });
}

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
    info.wgmma = tiling.getMma() == "wgmma";
    // The head dims are the last dimension of the q and v views.
    auto headDim = [&](unsigned arg) -> int64_t {
      auto t = dyn_cast<MemRefType>(kernel.getArgument(arg).getType());
      return t && t.getRank() == 4 ? t.getDimSize(3) : 0;
    };
    info.tma = tiling.getCopy() == "tma";
    info.pingpong = info.wgmma && kernel.getNumArguments() >= 3 &&
                    faopt::wgmmaPingPong(info.warps, headDim(0), headDim(2),
                                         info.tma);
    if (info.wgmma && target != "sm90a") {
      kernel.emitError() << "wgmma tiling needs target sm90a, got '" << target
                         << "'";
      return signalPassFailure();
    }
    if (failed(planSharedMemory(kernel, info)))
      return signalPassFailure();
    // A plan over the target's per-block limit would fail only at launch
    // (the driver refuses the dynamic shared memory); the pipeline never
    // builds one (chooseTiles, persistentFits, thirdKvStageFits check the
    // same limit), so this catches hand-built pipelines and pass bugs.
    // The static shared memory of the handed-out program slots and the
    // copy thread's O slots counts against the same limit.
    const int64_t staticBytes =
        (info.programCounter ? faopt::kProgramSlotBytes : 0) +
        (info.outputByCopyThread ? faopt::kOutputSlotBytes : 0) +
        (info.outputWaitAtNextQ ? faopt::kOwedOutputBytes : 0);
    if (std::optional<faopt::TargetDesc> desc = faopt::lookupTarget(target);
        desc && info.sharedBytes + staticBytes > desc->sharedMemPerBlock) {
      kernel.emitError() << "plans " << info.sharedBytes
                         << (staticBytes ? " + " + std::to_string(staticBytes) +
                                               " static"
                                         : std::string())
                         << " bytes of shared memory per block (Q tiles: "
                         << info.qStages << ", K/V stages: " << info.kvStages
                         << (info.stagingOffset ? ", an O staging region" : "")
                         << (info.tma ? ", the TMA pipe" : "")
                         << "), over " << target << "'s limit of "
                         << desc->sharedMemPerBlock << " bytes";
      return signalPassFailure();
    }
    info.partialSums = faopt::gpu::findLanePartialSums(kernel);
    for (unsigned i = 0; i < kernel.getNumArguments(); ++i) {
      auto name = kernel.getArgAttrOfType<StringAttr>(i, "attn.param");
      bool lists = static_cast<bool>(kernel.getArgAttr(i, "attn.block_lists"));
      info.argNames.push_back(name ? name.str() : lists ? "block_lists" : "");
    }
    // Blocks per SM the shared memory allows (sm80: 164 KiB per SM, sm90:
    // 228 KiB), at most 2: it bounds registers through __launch_bounds__.
    // TMA kernels launch a producer warpgroup after the consumers.
    const int64_t launchThreads = info.threads + (info.tma ? 128 : 0);
    int64_t perSM = (target == "sm80" ? 164 : 228) * 1024;
    int64_t minBlocks =
        std::clamp<int64_t>(perSM / std::max<int64_t>(info.sharedBytes + 1024, 1), 1, 2);
    // Two CTAs only where each thread still gets 128 registers at launch:
    // two 384-thread TMA CTAs (two consumer warpgroups, --block-kv 64 at
    // d = 128) would leave 80, and ptxas cannot fit a warpgroup product
    // of a 128 x 128 accumulator in that (it asks for 94).
    if (minBlocks == 2 && 65536 / 2 / launchThreads < 128)
      minBlocks = 1;

    GpuTypeConverter converter(ctx, info.warps);
    ConversionTarget legal(*ctx);
    legal.addLegalDialect<emitc::EmitCDialect>();
    legal.addLegalOp<ModuleOp, UnrealizedConversionCastOp>();
    legal.addIllegalDialect<AttnDialect, arith::ArithDialect,
                            math::MathDialect, memref::MemRefDialect,
                            scf::SCFDialect, func::FuncDialect,
                            tensor::TensorDialect>();
    RewritePatternSet patterns(ctx);
    faopt::gpu::populateScalarToEmitCPatterns(converter, patterns);
    populateSCFToEmitCConversionPatterns(patterns, converter);
    faopt::gpu::populateWhileToEmitCPatterns(converter, patterns);
    patterns.add<DimLowering, GridLowering>(converter, ctx, info);
    populateTileOpsToEmitCPatterns(converter, patterns, info);

    // Names survive the conversion: kernel vs device functions.
    std::string kernelName = kernel.getSymName().str();
    std::string builderName =
        listBuilder ? listBuilder.getSymName().str() : std::string();
    bool builderResetsCounter = false;
    if (listBuilder)
      listBuilder.walk(
          [&](ResetProgramCounterOp) { builderResetsCounter = true; });
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
    // wgmma kernels need faopt_sm90.cuh (TMA kernels faopt_sm90_tma.cuh,
    // which includes it), list builders faopt_block_lists.cuh; all include
    // faopt_sm80.cuh, so the sm90 header goes first: it decides how
    // faopt_sm80.cuh lays out tiles.
    SmallVector<StringRef, 2> includes;
    if (info.tma)
      includes.push_back("faopt_sm90_tma.cuh");
    else if (info.wgmma)
      includes.push_back("faopt_sm90.cuh");
    if (!builderName.empty())
      includes.push_back("faopt_block_lists.cuh");
    if (includes.empty())
      includes.push_back("faopt_sm80.cuh");
    for (StringRef header : includes)
      emitc::IncludeOp::create(b, module.getLoc(), header,
                               /*is_standard_include=*/false);
    for (auto fn : module.getOps<emitc::FuncOp>()) {
      if (fn.getSymName() == kernelName) {
        fn.setSpecifiersAttr(b.getStrArrayAttr(
            {"extern \"C\"", "__global__",
             "__launch_bounds__(" + str(launchThreads) + ", " +
                 str(minBlocks) + ")"}));
        fn->setAttr("attn.shared_memory_bytes",
                    b.getI64IntegerAttr(info.sharedBytes));
        fn->setAttr("attn.threads", b.getI64IntegerAttr(launchThreads));
        if (info.persistent)
          fn->setAttr("attn.persistent", b.getUnitAttr());
        if (info.dependentLaunch)
          fn->setAttr("attn.dependent_launch", b.getUnitAttr());
        if (info.programCounter)
          fn->setAttr("attn.program_counter", b.getUnitAttr());
        fn->setAttr("attn.q_tiles", b.getI64IntegerAttr(info.qStages));
        fn->setAttr("attn.kv_stages", b.getI64IntegerAttr(info.kvStages));
        if (info.tma)
          addProducer(fn, info, minBlocks);
        // No griddepcontrol.launch_dependents here: run first thing, it
        // would let the next launch's list builder start in this kernel's
        // tail, and it cost causal 8k 3% on the H200 for no measurable gain
        // (docs/performance.md item 45).
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
        // templates' per-warp counts and the list's span (static).
        fn.setSpecifiersAttr(b.getStrArrayAttr(
            {"extern \"C\"", "__global__",
             "__launch_bounds__(" + str(kListBuilderThreads) + ")"}));
        fn->setAttr("attn.threads", b.getI64IntegerAttr(kListBuilderThreads));
        fn->setAttr("attn.block_list_builder",
                    listRows ? Attribute(listRows) : b.getUnitAttr());
        if (builderResetsCounter)
          fn->setAttr("attn.resets_program_counter", b.getUnitAttr());
        if (info.dependentLaunch) {
          // Where its kernel may start before the builder ends (sm90a), the
          // builder itself is launched the same way, so it may start as the
          // previous grid lets it (no measured gain: performance item 45);
          // it waits for that grid before anything else.
          fn->setAttr("attn.dependent_launch", b.getUnitAttr());
          b.setInsertionPointToStart(&fn.getBody().front());
          comment(b, fn.getLoc(),
                  "launched with programmatic dependent launch: the previous "
                  "grid has finished before the builder reads or writes",
                  {});
          faopt::gpu::emit::call(b, fn.getLoc(), Type(),
                                 "faopt::await_previous_grid", {});
        }
      } else {
        fn.setSpecifiersAttr(
            b.getStrArrayAttr({"static", "__device__", "__forceinline__"}));
      }
    }
  }
};

} // namespace
