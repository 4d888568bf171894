//===- Pipeline.h - the pass pipeline of each target ------------*- C++ -*-===//
//
// The one place that says which passes run, in which order, for sm80, sm90a
// and cpu. faopt-compile, the runtime's JIT and the tests all build their
// pipelines here; faopt-opt exposes it as --faopt-pipeline.
//
//===----------------------------------------------------------------------===//
#ifndef FAOPT_COMPILER_PIPELINE_PIPELINE_H
#define FAOPT_COMPILER_PIPELINE_PIPELINE_H

#include "compiler/targets/TargetDesc.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include <optional>
#include <string>

namespace faopt {

/// Points at which the pipeline can stop (and faopt-compile can --emit).
enum class Stage {
  Spec,        // mlir-spec: attn.attention as built from the spec
  Online,      // mlir-online: the online-softmax recurrence
  Tiled,       // mlir-tiled: grid of q-blocks, serial kv loop
  Specialized, // mlir-specialized: kv range and per-block classes
  Decomposed,  // mlir-decomposed: tile operations, block analysis expanded
  Lowered      // mlir-llvm (cpu) / mlir-emitc (gpu targets)
};

/// "mlir-spec" ... "mlir-llvm"/"mlir-emitc"; the last name depends on target.
std::string stageName(Stage stage, TargetKind target);
std::optional<Stage> parseStage(llvm::StringRef name, TargetKind target);

struct PipelineOptions {
  std::string target = "sm80";
  int64_t blockQ = 0;  // 0: the target chooses
  int64_t blockKv = 0; // 0: the target chooses
  bool softmaxOverlap = true; // GPU: run attn-overlap-softmax
  bool roundedP = true; // GPU: its rounded-p (docs/performance.md item 50)
  // GPU: run attn-drop-listed-tile-terms (the CPU target always does).
  // faopt-compile and the runtime set it per spec from
  // faopt::dropsListedTerms (by default where programs are handed out:
  // docs/performance.md items 53, 71); faopt-opt's pipeline option is
  // this bool, off unless given.
  bool dropListedTileTerms = false;
  /// GPU: attn-hand-over-list-header on kernels whose programs are handed
  /// out (docs/performance.md item 56).
  bool handOverListHeader = true;
  /// GPU: attn-stage-builder-rows (a list builder's row copies the tensor
  /// row it reads into shared memory first). Opt-in: correct on the H200,
  /// and slower there (docs/performance.md item 74).
  bool stageBuilderRows = false;
  // GPU: the copy thread stores the O tile staged in a V stage
  // (attn-stage-output-in-v by-copy-thread; opt-in, docs/performance.md
  // item 92).
  bool outputByCopyThread = false;
  /// GPU: which kernels run attn-overlap-softmax's late-k-release (K's
  /// stage released after the row sums, so ptxas runs the softmax under
  /// P V; auto: block layouts, docs/performance.md items 80, 81).
  LateKMode lateKRelease = LateKMode::Auto;
  /// GPU: which kernels with a staged O defer its store's read wait to the
  /// next program's Q wait (attn-stage-output-in-v defer-read-wait; auto:
  /// programs that all read the same kv-blocks, docs/performance.md item
  /// 94).
  DeferOutputWaitMode deferOutputWait = DeferOutputWaitMode::Auto;
  /// GPU: which persistent kernels run attn-release-q-early (Q's stage
  /// released after the kv loop's last S = Q K^T; auto: sliding-window
  /// bands, docs/performance.md item 75).
  ReleaseQMode releaseQEarly = ReleaseQMode::Auto;
  // GPU: which TMA kernels run attn-persistent-programs.
  PersistentMode persistent = PersistentMode::Auto;
  // GPU: Q tiles per persistent worker (2: the next program's Q lands
  // during this one's kv loop; kQStagesAuto: two for handed-out programs,
  // one for fixed schedules; docs/performance.md items 37, 59, 64).
  int64_t qStages = kQStagesAuto;
  // GPU: K/V stages per persistent worker (3: the copy thread loads two
  // blocks ahead, across programs too, and O is staged in a V stage;
  // kKvStagesAuto: three for fixed schedules, two for handed-out programs;
  // docs/performance.md item 85).
  int64_t kvStages = kKvStagesAuto;
  // GPU: which TMA kernels run attn-kv-bounds-in-rows and
  // attn-unswitch-masked-blocks (auto: band masks; docs/performance.md
  // items 38, 40).
  RowBoundMode rowBoundMasks = RowBoundMode::Auto;
};

/// Adds the passes that take a spec module to `last`.
void buildPipeline(mlir::OpPassManager &pm, const PipelineOptions &options,
                   Stage last);

/// Runs the pipeline up to `last`; diagnostics go to the context's handler.
mlir::LogicalResult runPipeline(mlir::ModuleOp module,
                                const PipelineOptions &options, Stage last);

/// Dialects and translations every stage may produce.
void registerPipelineDialects(mlir::DialectRegistry &registry);

/// Registers --faopt-pipeline="target=cpu stop=mlir-decomposed" for faopt-opt.
void registerPipelines();

} // namespace faopt

#endif // FAOPT_COMPILER_PIPELINE_PIPELINE_H
