//===- Pipeline.cpp - the pass pipeline of each target --------------------===//
#include "compiler/pipeline/Pipeline.h"

#include "compiler/passes/Passes.h"
#include "compiler/targets/cpu/Passes.h"
#include "compiler/targets/gpu/Passes.h"
#include "dialects/attn/AttnOps.h"

#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MathToLibm/MathToLibm.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/AffineToStandard/AffineToStandard.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/FuncBufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/EmitC/IR/EmitC.h"
#include "mlir/Dialect/EmitC/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Linalg/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tensor/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace faopt {

namespace {
struct StageEntry {
  Stage stage;
  const char *name;
};
const StageEntry kStages[] = {{Stage::Spec, "mlir-spec"},
                              {Stage::Online, "mlir-online"},
                              {Stage::Tiled, "mlir-tiled"},
                              {Stage::Specialized, "mlir-specialized"},
                              {Stage::Decomposed, "mlir-decomposed"}};

TargetKind targetKindOf(const std::string &name) {
  std::optional<TargetDesc> t = lookupTarget(name);
  return t ? t->kind : TargetKind::SM80;
}

/// CPU: tile ops -> linalg on tensors -> buffers -> loops -> LLVM dialect.
void addCpuLowering(OpPassManager &pm) {
  pm.addNestedPass<func::FuncOp>(createAttnLowerTensorBounds());
  pm.addNestedPass<func::FuncOp>(cpu::createAttnLowerBlockLists());
  pm.addNestedPass<func::FuncOp>(cpu::createAttnLowerTilesToLinalg());
  pm.addNestedPass<func::FuncOp>(createConvertElementwiseToLinalgPass());
  pm.addPass(createCanonicalizerPass());
  // The kv loop carries freshly computed tiles (max, sum, acc) around; let
  // them be new buffers each iteration (deallocation frees the old ones).
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.allowReturnAllocsFromLoops = true;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  bufferization::buildBufferDeallocationPipeline(pm);
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  pm.addPass(createForallToForLoopPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  arith::ArithExpandOpsPassOptions expand;
  expand.includeBf16 = true;
  pm.addPass(arith::createArithExpandOpsPass(expand));
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}
/// GPU: programs ordered for L2 and load balance, K/V loads pipelined over
/// two shared-memory stages (three for fixed schedules, O then staged in
/// V's), the softmax overlapped with the previous P V
/// and the copies given to a producer thread (wgmma + TMA kernels), the
/// wait for a list builder as late as possible (sm90a), a key-equality
/// mask term (document ids) as per-row ranges where the list builder finds
/// the keys sorted (TMA kernels, unless rowBoundMasks is off), device
/// functions for tile_map bodies (mask
/// terms linear in kv as per-row bounds; bounds-only masks compared per row
/// and the kv iteration unswitched on the block's class, for bands only
/// unless rowBoundMasks says otherwise; 32-bit index math), then EmitC (CUDA C++), with single-use pure ops folded into C expressions.
void addGpuLowering(OpPassManager &pm, const PipelineOptions &options) {
  const std::string &target = options.target;
  const PersistentMode persistent = options.persistent;
  const RowBoundMode rowBoundMasks = options.rowBoundMasks;
  gpu::AttnScheduleGridOptions schedule;
  if (std::optional<TargetDesc> t = lookupTarget(target))
    schedule.l2Bytes = t->l2Bytes;
  pm.addNestedPass<func::FuncOp>(gpu::createAttnScheduleGrid(schedule));
  pm.addPass(createCSEPass());
  if (persistent != PersistentMode::Off) {
    gpu::AttnPersistentProgramsOptions programs;
    if (std::optional<TargetDesc> t = lookupTarget(target))
      programs.sharedMemoryBytes = t->sharedMemPerBlock;
    // List-driven kernels too, their programs handed out at run time: on
    // the H200 that gains 2-7% over one CTA per program (docs/
    // performance.md item 53), so Auto and On agree today.
    programs.listKernels = true;
    programs.qStages = options.qStages;
    // Three K/V stages stage O in a V stage, which needs the guarded last
    // P V of attn-overlap-softmax (attn-stage-output-in-v).
    programs.kvStages = options.softmaxOverlap ? options.kvStages : 2;
    pm.addNestedPass<func::FuncOp>(gpu::createAttnPersistentPrograms(programs));
    // The handed-out kernels' counter, zeroed by their list builder instead
    // of a memset of the runtime's (before attn-await-list-builder, which
    // then waits before the first claim too).
    pm.addPass(gpu::createAttnBuilderResetsCounter());
  }
  pm.addNestedPass<func::FuncOp>(gpu::createAttnPipelineKvLoads());
  if (options.softmaxOverlap) {
    gpu::AttnOverlapSoftmaxOptions overlap;
    overlap.roundedP = options.roundedP;
    overlap.lateKRelease = options.lateKRelease != LateKMode::Off;
    overlap.blockLayoutsOnly = options.lateKRelease == LateKMode::Auto;
    pm.addNestedPass<func::FuncOp>(gpu::createAttnOverlapSoftmax(overlap));
  }
  pm.addNestedPass<func::FuncOp>(gpu::createAttnWarpSpecialize());
  if (options.releaseQEarly != ReleaseQMode::Off) {
    gpu::AttnReleaseQEarlyOptions early;
    early.bandsOnly = options.releaseQEarly == ReleaseQMode::Auto;
    pm.addNestedPass<func::FuncOp>(gpu::createAttnReleaseQEarly(early));
  }
  // Kernels with three K/V stages (attn.kv_stages): O in the V stage of
  // the last P V.
  gpu::AttnStageOutputInVOptions staged;
  staged.byCopyThread = options.outputByCopyThread;
  staged.deferReadWait = options.deferOutputWait != DeferOutputWaitMode::Off;
  staged.sameBlocksOnly = options.deferOutputWait == DeferOutputWaitMode::Auto;
  pm.addNestedPass<func::FuncOp>(gpu::createAttnStageOutputInV(staged));
  if (std::optional<TargetDesc> t = lookupTarget(target);
      t && t->dependentLaunch)
    pm.addNestedPass<func::FuncOp>(gpu::createAttnAwaitListBuilder());
  if (rowBoundMasks != RowBoundMode::Off)
    pm.addPass(gpu::createAttnSortedKeysAsBounds());
  // After the key ranges, so their flag travels too.
  if (options.handOverListHeader)
    pm.addNestedPass<func::FuncOp>(gpu::createAttnHandOverListHeader());
  // After attn-sorted-keys-as-bounds, whose key ranges read the tensor too.
  if (options.stageBuilderRows)
    pm.addPass(gpu::createAttnStageBuilderRows());
  pm.addPass(gpu::createAttnOutlineTileMaps());
  pm.addPass(gpu::createAttnIsolateKvBounds());
  if (rowBoundMasks != RowBoundMode::Off) {
    gpu::AttnKvBoundsInRowsOptions rows;
    rows.bandsOnly = rowBoundMasks == RowBoundMode::Auto;
    pm.addPass(gpu::createAttnKvBoundsInRows(rows));
    pm.addNestedPass<func::FuncOp>(gpu::createAttnUnswitchMaskedBlocks());
  }
  pm.addPass(gpu::createAttnNarrowIndexMath());
  gpu::AttnConvertToEmitCOptions emitc;
  emitc.target = target;
  pm.addPass(gpu::createAttnConvertToEmitC(emitc));
  pm.addPass(emitc::createFormExpressionsPass());
}
} // namespace

std::string stageName(Stage stage, TargetKind target) {
  if (stage == Stage::Lowered)
    return target == TargetKind::CPU ? "mlir-llvm" : "mlir-emitc";
  for (const StageEntry &e : kStages)
    if (e.stage == stage)
      return e.name;
  return "?";
}

std::optional<Stage> parseStage(llvm::StringRef name, TargetKind target) {
  if (name == stageName(Stage::Lowered, target))
    return Stage::Lowered;
  for (const StageEntry &e : kStages)
    if (name == e.name)
      return e.stage;
  return std::nullopt;
}

void buildPipeline(OpPassManager &pm, const PipelineOptions &options,
                   Stage last) {
  auto upTo = [&](Stage s) { return static_cast<int>(s) <= static_cast<int>(last); };
  if (upTo(Stage::Online)) {
    pm.addNestedPass<func::FuncOp>(createAttnOnlineSoftmax());
    pm.addPass(createCanonicalizerPass());
  }
  if (upTo(Stage::Tiled)) {
    AttnTileOptions tile;
    tile.target = options.target;
    tile.blockQ = options.blockQ;
    tile.blockKv = options.blockKv;
    pm.addNestedPass<func::FuncOp>(createAttnTile(tile));
    pm.addPass(createCanonicalizerPass());
    pm.addPass(createCSEPass());
  }
  if (upTo(Stage::Specialized)) {
    pm.addNestedPass<func::FuncOp>(createAttnMaskSpecialize());
    pm.addPass(createCanonicalizerPass());
    pm.addPass(createAttnBlockLists());
    pm.addPass(createCanonicalizerPass());
    if (options.dropListedTileTerms ||
        targetKindOf(options.target) == TargetKind::CPU) {
      pm.addNestedPass<func::FuncOp>(createAttnDropListedTileTerms());
      pm.addPass(createCanonicalizerPass());
    }
  }
  if (upTo(Stage::Decomposed)) {
    pm.addNestedPass<func::FuncOp>(createAttnExpandBlockAnalysis());
    pm.addNestedPass<func::FuncOp>(createAttnDecompose());
    pm.addPass(createCanonicalizerPass());
    pm.addPass(createCSEPass());
  }
  if (!upTo(Stage::Lowered))
    return;
  if (targetKindOf(options.target) == TargetKind::CPU)
    addCpuLowering(pm);
  else
    addGpuLowering(pm, options);
}

LogicalResult runPipeline(ModuleOp module, const PipelineOptions &options,
                          Stage last) {
  PassManager pm(module.getContext());
  // Honour --mlir-print-ir-after-all and friends when a tool registered them.
  (void)applyPassManagerCLOptions(pm);
  buildPipeline(pm, options, last);
  return pm.run(module);
}

void registerPipelineDialects(DialectRegistry &registry) {
  registry.insert<attn::AttnDialect, arith::ArithDialect,
                  bufferization::BufferizationDialect, cf::ControlFlowDialect,
                  emitc::EmitCDialect,
                  func::FuncDialect, linalg::LinalgDialect, LLVM::LLVMDialect,
                  math::MathDialect, memref::MemRefDialect, scf::SCFDialect,
                  tensor::TensorDialect>();
  arith::registerBufferizableOpInterfaceExternalModels(registry);
  bufferization::func_ext::registerBufferizableOpInterfaceExternalModels(
      registry);
  linalg::registerBufferizableOpInterfaceExternalModels(registry);
  scf::registerBufferizableOpInterfaceExternalModels(registry);
  tensor::registerBufferizableOpInterfaceExternalModels(registry);
}

namespace {
/// The values of a three-way switch (auto, on, off) that used to be a bool:
/// `true` and `false` still mean on and off.
template <typename Mode>
llvm::cl::ValuesClass autoOnOffValues(const char *autoHelp,
                                      const char *onHelp) {
  return llvm::cl::values(clEnumValN(Mode::Auto, "auto", autoHelp),
                          clEnumValN(Mode::On, "on", onHelp),
                          clEnumValN(Mode::Off, "off", "none"),
                          clEnumValN(Mode::On, "true", "on"),
                          clEnumValN(Mode::Off, "false", "off"));
}

struct PipelineCLOptions : public PassPipelineOptions<PipelineCLOptions> {
  Option<std::string> target{*this, "target",
                             llvm::cl::desc("sm80, sm90a or cpu"),
                             llvm::cl::init("sm80")};
  Option<std::string> stop{*this, "stop",
                           llvm::cl::desc("last stage, e.g. mlir-decomposed"),
                           llvm::cl::init("mlir-decomposed")};
  Option<int64_t> blockQ{*this, "block-q", llvm::cl::init(0)};
  Option<int64_t> blockKv{*this, "block-kv", llvm::cl::init(0)};
  Option<bool> softmaxOverlap{*this, "softmax-overlap", llvm::cl::init(true)};
  Option<bool> roundedP{*this, "rounded-p",
                        llvm::cl::desc("attn-overlap-softmax's rounded-p"),
                        llvm::cl::init(true)};
  Option<bool> dropListedTileTerms{
      *this, "drop-listed-tile-terms",
      llvm::cl::desc("GPU targets: run attn-drop-listed-tile-terms (the cpu "
                     "target always does; faopt-compile and the runtime "
                     "choose it per spec: faopt::dropsListedTerms)"),
      llvm::cl::init(false)};
  Option<bool> handOverListHeader{
      *this, "hand-over-list-header",
      llvm::cl::desc("GPU targets: run attn-hand-over-list-header on kernels "
                     "whose programs are handed out"),
      llvm::cl::init(true)};
  Option<bool> stageBuilderRows{
      *this, "stage-builder-rows",
      llvm::cl::desc("GPU targets: run attn-stage-builder-rows (list "
                     "builders read their tensor row from shared memory)"),
      llvm::cl::init(false)};
  Option<bool> outputByCopyThread{
      *this, "output-by-copy-thread",
      llvm::cl::desc("the copy thread stores the O tile staged in a V stage "
                     "(attn-stage-output-in-v by-copy-thread)"),
      llvm::cl::init(false)};
  Option<LateKMode> lateKRelease{
      *this, "late-k-release",
      llvm::cl::desc("which sm90a TMA kernels release K's stage after the "
                     "softmax's row sums (attn-overlap-softmax "
                     "late-k-release)"),
      llvm::cl::init(LateKMode::Auto),
      autoOnOffValues<LateKMode>("kernels driven by a block layout",
                                 "every such kernel")}; // a bool in session 33
  Option<DeferOutputWaitMode> deferOutputWait{
      *this, "defer-output-wait",
      llvm::cl::desc("which kernels with O staged in a V stage defer the "
                     "store's read wait to the next program's Q wait "
                     "(attn-stage-output-in-v defer-read-wait)"),
      llvm::cl::init(DeferOutputWaitMode::Auto),
      autoOnOffValues<DeferOutputWaitMode>(
          "programs that all read the same kv-blocks (dense)",
          "every kernel with a staged O")};
  Option<ReleaseQMode> releaseQEarly{
      *this, "release-q-early",
      llvm::cl::desc("which persistent kernels run attn-release-q-early (Q's "
                     "stage released after the kv loop's last S = Q K^T)"),
      llvm::cl::init(ReleaseQMode::Auto),
      autoOnOffValues<ReleaseQMode>(
          "sliding-window bands: the kv loop's first block a closed form "
          "moving with the program",
          "every persistent kernel")}; // a bool in sessions 25-31
  Option<PersistentMode> persistent{
      *this, "persistent", llvm::cl::desc("which TMA kernels are persistent"),
      llvm::cl::init(PersistentMode::Auto),
      llvm::cl::values(
          clEnumValN(PersistentMode::Auto, "auto",
                     "the measured default: every one whose tiles fit"),
          clEnumValN(PersistentMode::On, "on", "every one whose tiles fit"),
          clEnumValN(PersistentMode::Off, "off", "none"))};
  Option<int64_t> qStages{
      *this, "q-stages",
      llvm::cl::desc("Q tiles per persistent worker (0: auto, 2 for "
                     "handed-out programs, 1 otherwise)"),
      llvm::cl::init(kQStagesAuto)};
  Option<int64_t> kvStages{
      *this, "kv-stages",
      llvm::cl::desc("K/V stages per persistent worker (0: auto, 3 for "
                     "fixed schedules and 2 for handed-out programs; 3 "
                     "where they fit, O then staged in a V stage)"),
      llvm::cl::init(kKvStagesAuto)};
  Option<RowBoundMode> rowBoundMasks{
      *this, "row-bound-masks",
      llvm::cl::desc("which TMA kernels run attn-kv-bounds-in-rows + "
                     "attn-unswitch-masked-blocks"),
      llvm::cl::init(RowBoundMode::Auto),
      autoOnOffValues<RowBoundMode>("bands: both kv bounds move with q",
                                    "every bounds-only mask")}; // a bool in session 15
};
} // namespace

void registerPipelines() {
  PassPipelineRegistration<PipelineCLOptions>(
      "faopt-pipeline",
      "faopt's pipeline for a target, from attn.attention to a stage",
      [](OpPassManager &pm, const PipelineCLOptions &o) {
        PipelineOptions options;
        options.target = o.target;
        options.blockQ = o.blockQ;
        options.blockKv = o.blockKv;
        options.softmaxOverlap = o.softmaxOverlap;
        options.roundedP = o.roundedP;
        options.dropListedTileTerms = o.dropListedTileTerms;
        options.handOverListHeader = o.handOverListHeader;
        options.stageBuilderRows = o.stageBuilderRows;
        options.outputByCopyThread = o.outputByCopyThread;
        options.lateKRelease = o.lateKRelease;
        options.deferOutputWait = o.deferOutputWait;
        options.releaseQEarly = o.releaseQEarly;
        options.persistent = o.persistent;
        options.qStages = o.qStages;
        options.kvStages = o.kvStages;
        options.rowBoundMasks = o.rowBoundMasks;
        TargetKind kind = targetKindOf(options.target);
        Stage last = parseStage(o.stop, kind).value_or(Stage::Decomposed);
        buildPipeline(pm, options, last);
      });
}

} // namespace faopt
