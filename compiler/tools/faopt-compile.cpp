//===- faopt-compile.cpp - attention spec to IR / code, ahead of time -----===//
//
//   faopt-compile SPEC [-o OUT] [--target sm80|sm90a|cpu]
//                 [--emit mlir-spec|mlir-online|mlir-tiled|mlir-specialized|
//                         mlir-decomposed|mlir-llvm|mlir-emitc|cuda|ptx|cubin]
//                 [--explain] [--shape b=1,h=16,s=4096] [--block-q N]
//                 [--block-kv N]
//
// Errors print one line naming the spec's JSON path (or the IR location) and
// exit with status 1; the output file is written only on success.
//
//===----------------------------------------------------------------------===//
#include "compiler/pipeline/Explain.h"
#include "compiler/pipeline/ExplainLowered.h"
#include "compiler/pipeline/Pipeline.h"
#include "compiler/spec/Spec.h"
#include "compiler/spec/SpecToMLIR.h"
#include "compiler/pipeline/GpuCompiler.h"
#include "runtime/KernelCache.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"
#include <type_traits>

using namespace llvm;

namespace {

/// faopt-compile's own options: what --help lists (LLVM's and MLIR's are
/// under --help-hidden; --mlir-* stay listed).
cl::OptionCategory faoptOptions("faopt-compile options");

cl::opt<std::string> specPath(cl::Positional, cl::desc("<spec.json>"),
                              cl::Optional, cl::cat(faoptOptions));
cl::opt<std::string> outputPath("o", cl::desc("Output file (default: stdout)"),
                                cl::value_desc("file"), cl::init("-"), cl::cat(faoptOptions));
cl::opt<std::string> targetName("target",
                                cl::desc("Target: sm80, sm90a or cpu"),
                                cl::init("sm80"), cl::cat(faoptOptions));
cl::opt<std::string>
    emit("emit",
         cl::desc("What to produce: mlir-spec, mlir-online, mlir-tiled, "
                  "mlir-specialized, mlir-decomposed, mlir-llvm (cpu), "
                  "mlir-emitc, cuda, ptx, cubin (gpu targets)"),
         cl::init("mlir-decomposed"), cl::cat(faoptOptions));
cl::opt<bool> explainFlag("explain",
                          cl::desc("Print the tiling choice, FLOPs and HBM "
                                   "traffic versus naive attention"), cl::cat(faoptOptions));
cl::opt<std::string> shapeText("shape",
                               cl::desc("Shape for --explain: b=,h=,kvh=,s=,sq=,sk="),
                               cl::init(""), cl::cat(faoptOptions));
cl::list<std::string> explainParams(
    "param",
    cl::desc("A run-time parameter's value for --explain's census, NAME=VALUE "
             "(repeatable; others take their defaults, or 0 without one)"),
    cl::value_desc("NAME=VALUE"), cl::cat(faoptOptions));
cl::opt<bool> cacheInfo("cache-info",
                        cl::desc("Print the kernel cache's directory, entry "
                                 "count and size, then exit"), cl::cat(faoptOptions));
cl::opt<bool> clearCache("clear-cache",
                         cl::desc("Remove every kernel cache entry, then exit"), cl::cat(faoptOptions));
cl::opt<std::string> cacheDir(
    "cache-dir",
    cl::desc("Kernel cache directory (default: $FAOPT_CACHE_DIR, else "
             "$XDG_CACHE_HOME/faopt, else ~/.cache/faopt)"),
    cl::value_desc("dir"), cl::init(""), cl::cat(faoptOptions));
cl::opt<int64_t> blockQ("block-q", cl::desc("Override the query tile size"),
                        cl::init(0), cl::cat(faoptOptions));
cl::opt<int64_t> blockKv("block-kv", cl::desc("Override the key tile size"),
                         cl::init(0), cl::cat(faoptOptions));
cl::opt<bool> noSoftmaxOverlap(
    "no-softmax-overlap",
    cl::desc("sm90a, TMA kernels: leave out attn-overlap-softmax (P V waited "
             "for in its own iteration; for comparisons and diagnosis)"),
    cl::init(false), cl::cat(faoptOptions));
cl::opt<bool> noRoundedP(
    "no-rounded-p",
    cl::desc("sm90a, TMA kernels: attn-overlap-softmax carries P in f32 "
             "instead of rounded to the operand type (more registers; for "
             "comparisons and diagnosis, docs/performance.md item 50; the "
             "runtime: $FAOPT_ROUNDED_P=0)"),
    cl::init(false), cl::cat(faoptOptions));
cl::opt<bool> dropListedTileTerms(
    "drop-listed-tile-terms",
    cl::desc("GPU targets: in every kernel driven by kv-block lists, drop the "
             "mask terms every listed tile satisfies (a block layout's) from "
             "the per-score map (attn-drop-listed-tile-terms). By default "
             "only where the programs are handed out at run time (faster "
             "there on the H200, slower one CTA per program: "
             "docs/performance.md items 53, 71; the runtime: "
             "$FAOPT_DROP_LISTED_TERMS=1)"),
    cl::init(false), cl::cat(faoptOptions));
cl::opt<bool> noDropListedTileTerms(
    "no-drop-listed-tile-terms",
    cl::desc("GPU targets: keep every mask term in the per-score map of "
             "list-driven kernels (the runtime: $FAOPT_DROP_LISTED_TERMS=0)"),
    cl::init(false), cl::cat(faoptOptions));
cl::opt<bool> noHandOverListHeader(
    "no-hand-over-list-header",
    cl::desc("GPU targets: in kernels whose programs are handed out, the "
             "consumers load each program's list head themselves instead of "
             "reading what the copy thread loaded (attn-hand-over-list-"
             "header off; docs/performance.md item 56; the runtime: "
             "$FAOPT_HAND_OVER_LIST_HEADER=0)"),
    cl::init(false), cl::cat(faoptOptions));
cl::opt<bool> stageBuilderRows(
    "stage-builder-rows",
    cl::desc("GPU targets (opt-in; correct, and slower on the H200, "
             "docs/performance.md item 74): list builders first copy the "
             "tensor row they read into shared memory "
             "(attn-stage-builder-rows; the runtime: "
             "$FAOPT_STAGE_BUILDER_ROWS=1)"),
    cl::init(false), cl::cat(faoptOptions));
cl::opt<bool> outputByCopyThread(
    "output-by-copy-thread",
    cl::desc("sm90a, kernels with three K/V stages (opt-in; correct and "
             "slower on the H200, causal -3 to -9%, docs/performance.md item "
             "92): the copy thread stores each program's O tile from the V "
             "stage the consumers staged it in, when it refills that stage, "
             "so no consumer waits for the store (attn-stage-output-in-v "
             "by-copy-thread; the runtime: $FAOPT_OUTPUT_BY_COPY_THREAD=1)"),
    cl::init(false), cl::cat(faoptOptions));
cl::opt<bool> lateKRelease(
    "late-k-release",
    cl::desc("sm90a, TMA kernels: every kernel releases K's stage after the "
             "softmax's row sums, just before the wait for P V, so ptxas "
             "runs the softmax under P V (attn-overlap-softmax "
             "late-k-release; the default does this only for block layouts: "
             "causal, prefix-LM and documents lost 1-2% with it on the "
             "H200, docs/performance.md items 80, 81; the runtime: "
             "$FAOPT_LATE_K_RELEASE=1)"),
    cl::init(false), cl::cat(faoptOptions));
cl::opt<bool> noLateKRelease(
    "no-late-k-release",
    cl::desc("sm90a, TMA kernels: K's stage is released right after S's "
             "wait everywhere, block layouts too (for comparisons; the "
             "runtime: $FAOPT_LATE_K_RELEASE=0)"),
    cl::init(false), cl::cat(faoptOptions));
cl::opt<bool> deferOutputWait(
    "defer-output-wait",
    cl::desc("sm90a, kernels with O staged in a V stage: every one defers "
             "the store's read wait and the stage's release to right after "
             "the next program's Q wait (attn-stage-output-in-v "
             "defer-read-wait; the default does this only where every "
             "program reads the same kv-blocks and releases Q after them, "
             "i.e. dense, +2-3% on the H200, while prefix-LM, the window "
             "and the run-time chunk lost 3% with it, docs/performance.md "
             "items 91, 94; the runtime: $FAOPT_DEFER_OUTPUT_WAIT=1)"),
    cl::init(false), cl::cat(faoptOptions));
cl::opt<bool> noDeferOutputWait(
    "no-defer-output-wait",
    cl::desc("sm90a, kernels with O staged in a V stage: the storing thread "
             "waits for the store to read the stage and releases it at once "
             "everywhere (for comparisons; the runtime: "
             "$FAOPT_DEFER_OUTPUT_WAIT=0)"),
    cl::init(false), cl::cat(faoptOptions));
cl::opt<bool> releaseQEarly(
    "release-q-early",
    cl::desc("GPU targets: every persistent kernel releases Q's stage right "
             "after its kv loop's last S = Q K^T instead of after the loop "
             "(attn-release-q-early; the default does this only for "
             "sliding-window bands: prefix-LM lost 8% and chunks 2% with it "
             "on the H200, docs/performance.md items 58, 70, 75; the "
             "runtime: $FAOPT_RELEASE_Q_EARLY=1)"),
    cl::init(false), cl::cat(faoptOptions));
cl::opt<bool> noReleaseQEarly(
    "no-release-q-early",
    cl::desc("GPU targets: no kernel releases Q's stage before its kv loop "
             "ends, not even sliding windows (for comparisons; the runtime: "
             "$FAOPT_RELEASE_Q_EARLY=0)"),
    cl::init(false), cl::cat(faoptOptions));
cl::opt<bool> rowBoundMasks(
    "row-bound-masks",
    cl::desc("sm90a, TMA kernels: every mask that is only per-row kv bounds "
             "is compared per row, and each kv iteration branches once "
             "between a full and a masked copy of itself "
             "(attn-kv-bounds-in-rows, attn-unswitch-masked-blocks; the "
             "default does this for bands only: both bounds move with q, "
             "as in sliding windows)"),
    cl::init(false), cl::cat(faoptOptions));
cl::opt<bool> noRowBoundMasks(
    "no-row-bound-masks",
    cl::desc("sm90a, TMA kernels: no per-row mask bounds, not even for "
             "bands (for comparisons and diagnosis)"),
    cl::init(false), cl::cat(faoptOptions));
cl::opt<bool> persistentPrograms(
    "persistent",
    cl::desc("sm90a, TMA kernels: make every one whose tiles fit persistent "
             "(one CTA per SM runs the programs in turn; list-driven kernels "
             "take them from a run-time counter). The default does the same "
             "today"),
    cl::init(false), cl::cat(faoptOptions));
cl::opt<bool> noPersistentPrograms(
    "no-persistent",
    cl::desc("sm90a, TMA kernels: no persistent kernels (one CTA per "
             "program; for comparisons and diagnosis)"),
    cl::init(false), cl::cat(faoptOptions));

cl::opt<std::string> qStagesText(
    "q-stages",
    cl::desc("sm90a, persistent kernels: Q tiles per worker, auto, 1 or 2 "
             "(2: the next program's Q lands during this one's kv loop, where "
             "the second tile fits; auto, the default: 2 for programs handed "
             "out at run time, where the H200 measured documents +1.1% and "
             "block-sparse +-0, and 1 for fixed schedules, where 2 lost "
             "0.4-2.1%, docs/performance.md items 37, 59 and 64; the runtime: "
             "$FAOPT_Q_STAGES)"),
    cl::value_desc("auto|1|2"), cl::init("auto"), cl::cat(faoptOptions));

cl::opt<std::string> kvStagesText(
    "kv-stages",
    cl::desc("sm90a, persistent kernels: K/V stages per worker, auto, 2 or "
             "3 (3: the copy thread loads up to two blocks ahead, across "
             "programs too, and O is staged in the V stage of the program's "
             "last P V, where three stages fit next to the Q tiles; auto, "
             "the default: 3 for fixed schedules, where the H200 measured "
             "dense +1.6-3.5% and causal +0.6-3.6%, and 2 for programs "
             "handed out at run time, docs/performance.md item 85; the "
             "runtime: $FAOPT_KV_STAGES)"),
    cl::value_desc("auto|2|3"), cl::init("auto"), cl::cat(faoptOptions));

/// --kv-stages as the pipeline's number (kKvStagesAuto for auto), or
/// nullopt for any other text.
std::optional<int64_t> kvStagesOption() {
  if (kvStagesText == "auto")
    return faopt::kKvStagesAuto;
  if (kvStagesText == "2" || kvStagesText == "3")
    return kvStagesText == "2" ? 2 : 3;
  return std::nullopt;
}

/// --q-stages as the pipeline's number (kQStagesAuto for auto), or nullopt
/// for any other text.
std::optional<int64_t> qStagesOption() {
  if (qStagesText == "auto")
    return faopt::kQStagesAuto;
  if (qStagesText == "1" || qStagesText == "2")
    return qStagesText == "1" ? 1 : 2;
  return std::nullopt;
}

/// Where the manifest of an artefact written to `output` goes: k.ptx ->
/// k.json (k.json -> k.json.manifest.json).
SmallString<256> manifestPathFor(StringRef output) {
  SmallString<256> manifest(output);
  sys::path::replace_extension(manifest, "json");
  if (manifest == output)
    manifest += ".manifest.json";
  return manifest;
}

/// --row-bound-masks / --no-row-bound-masks / neither (auto).
faopt::RowBoundMode rowBoundMode() {
  if (rowBoundMasks)
    return faopt::RowBoundMode::On;
  if (noRowBoundMasks)
    return faopt::RowBoundMode::Off;
  return faopt::RowBoundMode::Auto;
}

/// --late-k-release / --no-late-k-release / neither (auto).
faopt::LateKMode lateKMode() {
  if (lateKRelease)
    return faopt::LateKMode::On;
  if (noLateKRelease)
    return faopt::LateKMode::Off;
  return faopt::LateKMode::Auto;
}

/// --defer-output-wait / --no-defer-output-wait / neither (auto).
faopt::DeferOutputWaitMode deferOutputWaitMode() {
  if (deferOutputWait)
    return faopt::DeferOutputWaitMode::On;
  if (noDeferOutputWait)
    return faopt::DeferOutputWaitMode::Off;
  return faopt::DeferOutputWaitMode::Auto;
}

/// --release-q-early / --no-release-q-early / neither (auto).
faopt::ReleaseQMode releaseQMode() {
  if (releaseQEarly)
    return faopt::ReleaseQMode::On;
  if (noReleaseQEarly)
    return faopt::ReleaseQMode::Off;
  return faopt::ReleaseQMode::Auto;
}

/// --drop-listed-tile-terms / --no-drop-listed-tile-terms / neither (auto).
faopt::ListedTermsMode listedTermsMode() {
  if (dropListedTileTerms)
    return faopt::ListedTermsMode::On;
  if (noDropListedTileTerms)
    return faopt::ListedTermsMode::Off;
  return faopt::ListedTermsMode::Auto;
}

/// --persistent / --no-persistent / neither (auto, today the same as on).
faopt::PersistentMode persistentMode() {
  if (persistentPrograms)
    return faopt::PersistentMode::On;
  if (noPersistentPrograms)
    return faopt::PersistentMode::Off;
  return faopt::PersistentMode::Auto;
}

int fail(const Twine &message) {
  errs() << "faopt-compile: error: " << message << "\n";
  return 1;
}

/// Writes `text` to `path` through a temporary file and a rename, so a
/// failure never leaves a partial file behind.
int writeOutput(StringRef path, StringRef text) {
  if (path == "-") {
    outs() << text;
    return 0;
  }
  SmallString<256> tmp(path);
  tmp += ".tmp-%%%%%%";
  int fd;
  SmallString<256> tmpPath;
  if (std::error_code ec = sys::fs::createUniqueFile(tmp, fd, tmpPath))
    return fail("cannot write " + path + ": " + ec.message());
  {
    raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << text;
    os.flush();
    if (os.has_error()) {
      os.clear_error();
      sys::fs::remove(tmpPath);
      return fail("cannot write " + path);
    }
  }
  if (std::error_code ec = sys::fs::rename(tmpPath, path)) {
    sys::fs::remove(tmpPath);
    return fail("cannot write " + path + ": " + ec.message());
  }
  return 0;
}

/// The command line's compile options, common to the MLIR pipeline
/// (PipelineOptions) and the whole GPU compile (GpuCompileOptions).
template <typename Options> Options commonOptions() {
  Options options;
  options.target = targetName;
  options.blockQ = blockQ;
  options.blockKv = blockKv;
  options.softmaxOverlap = !noSoftmaxOverlap;
  options.roundedP = !noRoundedP;
  if constexpr (std::is_same_v<Options, faopt::GpuCompileOptions>)
    options.dropListedTileTerms = listedTermsMode();
  options.handOverListHeader = !noHandOverListHeader;
  options.stageBuilderRows = stageBuilderRows;
  options.outputByCopyThread = outputByCopyThread;
  options.lateKRelease = lateKMode();
  options.deferOutputWait = deferOutputWaitMode();
  options.releaseQEarly = releaseQMode();
  options.persistent = persistentMode();
  options.qStages = qStagesOption().value_or(faopt::kQStagesAuto);
  options.kvStages = kvStagesOption().value_or(faopt::kKvStagesAuto);
  options.rowBoundMasks = rowBoundMode();
  return options;
}

/// The spec's module, run through the pipeline up to `stage` with the
/// command line's options (the same ones --emit uses); on failure,
/// `failure` says why.
mlir::LogicalResult lowerSpec(mlir::MLIRContext &context,
                              const faopt::spec::AttentionSpec &spec,
                              faopt::Stage stage,
                              mlir::OwningOpRef<mlir::ModuleOp> &module,
                              std::string &failure) {
  std::string diagnostics;
  mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &d) {
    raw_string_ostream os(diagnostics);
    os << d.getLocation() << ": " << d << "\n";
    return mlir::success();
  });
  module =
      faopt::spec::buildModule(context, spec, sys::path::filename(specPath));
  if (failed(mlir::verify(*module))) {
    failure = specPath + ": the spec produced invalid IR:\n" + diagnostics;
    return mlir::failure();
  }
  auto options = commonOptions<faopt::PipelineOptions>();
  // The GPU compile's choice (auto: by the tiles and the persistence).
  options.dropListedTileTerms = faopt::dropsListedTerms(
      spec, commonOptions<faopt::GpuCompileOptions>());
  if (failed(faopt::runPipeline(*module, options, stage))) {
    failure = specPath + ": compilation failed:\n" + diagnostics;
    return mlir::failure();
  }
  return mlir::success();
}

} // namespace

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  // --mlir-print-debuginfo, --mlir-print-ir-after-all, ... work here too.
  mlir::registerAsmPrinterCLOptions();
  mlir::registerMLIRContextCLOptions();
  mlir::registerPassManagerCLOptions();
  // --help lists faopt-compile's options and MLIR's (--mlir-*), not the
  // hundreds every linked LLVM backend registers: those stay usable and
  // show under --help-hidden.
  static const char *const kAlwaysListed[] = {
      "help", "help-list", "help-hidden", "help-list-hidden", "version",
      "print-options", "print-all-options"};
  for (auto &[name, option] : cl::getRegisteredOptions()) {
    if (llvm::is_contained(option->Categories, &faoptOptions) ||
        name.starts_with("mlir-") || llvm::is_contained(kAlwaysListed, name) ||
        option->getOptionHiddenFlag() != cl::NotHidden)
      continue;
    option->setHiddenFlag(cl::Hidden);
  }
  cl::ParseCommandLineOptions(argc, argv,
                              "faopt-compile: attention spec to kernel\n");
  if (persistentPrograms && noPersistentPrograms)
    return fail("--persistent and --no-persistent contradict each other");
  if (outputPath != "-" && sys::fs::equivalent(outputPath, specPath))
    return fail("-o " + outputPath + " would overwrite the spec");
  if (rowBoundMasks && noRowBoundMasks)
    return fail("--row-bound-masks and --no-row-bound-masks contradict each "
                "other");
  if (!explainParams.empty() && !explainFlag)
    return fail("--param applies to --explain (its census); a kernel takes "
                "its parameters at launch");
  if (lateKRelease && noLateKRelease)
    return fail("--late-k-release and --no-late-k-release contradict each "
                "other");
  if (deferOutputWait && noDeferOutputWait)
    return fail("--defer-output-wait and --no-defer-output-wait contradict "
                "each other");
  if (releaseQEarly && noReleaseQEarly)
    return fail("--release-q-early and --no-release-q-early contradict each "
                "other");
  if (dropListedTileTerms && noDropListedTileTerms)
    return fail("--drop-listed-tile-terms and --no-drop-listed-tile-terms "
                "contradict each other");
  if (!qStagesOption())
    return fail("--q-stages must be auto, 1 or 2, not " + qStagesText);
  if (!kvStagesOption())
    return fail("--kv-stages must be auto, 2 or 3, not " + kvStagesText);
  if (*kvStagesOption() == 3 && noPersistentPrograms)
    return fail("--kv-stages 3 applies to persistent kernels, which "
                "--no-persistent turns off");
  if (*qStagesOption() == 2 && noPersistentPrograms)
    return fail("--q-stages 2 applies to persistent kernels, which "
                "--no-persistent turns off");

  if (cacheInfo || clearCache) {
    std::string dir =
        cacheDir.empty() ? faopt::rt::DiskCache::defaultDir() : cacheDir;
    if (clearCache) {
      size_t removed = faopt::rt::DiskCache::clear(dir);
      outs() << "kernel cache " << dir << ": removed " << removed
             << (removed == 1 ? " entry\n" : " entries\n");
    }
    if (cacheInfo) {
      faopt::rt::DiskCache::Stats s = faopt::rt::DiskCache::stats(dir);
      outs() << "kernel cache: " << s.dir << "\n"
             << "entries: " << s.entries << "\n"
             << "bytes: " << s.bytes << "\n";
    }
    return 0;
  }
  if (specPath.empty())
    return fail("give a spec file (or --cache-info / --clear-cache); see "
                "--help");

  std::optional<faopt::TargetDesc> target = faopt::lookupTarget(targetName);
  if (!target)
    return fail("unknown target '" + targetName + "' (sm80, sm90a, cpu)");
  bool emitCode = emit == "cuda" || emit == "ptx" || emit == "cubin";
  std::optional<faopt::Stage> stage =
      emitCode ? std::optional<faopt::Stage>(faopt::Stage::Lowered)
               : faopt::parseStage(emit, target->kind);
  if (emitCode && !target->isGpu())
    return fail("--emit " + emit + " needs a GPU target (sm80, sm90a)");
  if (emit == "cubin" && outputPath == "-")
    return fail("--emit cubin writes binary: give -o FILE");
  if (!stage) {
    return fail("unknown --emit '" + emit + "' for target " + targetName +
                " (mlir-spec, mlir-online, mlir-tiled, mlir-specialized, "
                "mlir-decomposed, " +
                faopt::stageName(faopt::Stage::Lowered, target->kind) + ")");
  }

  auto file = MemoryBuffer::getFileOrSTDIN(specPath);
  if (!file)
    return fail("cannot read " + specPath + ": " + file.getError().message());
  faopt::spec::SpecParseResult parsed =
      faopt::spec::parseSpec((*file)->getBuffer().str());
  if (!parsed.spec)
    return fail(specPath + ": " + parsed.error);
  const faopt::spec::AttentionSpec &spec = *parsed.spec;

  std::string error;
  std::optional<faopt::TileChoice> tiles = faopt::chooseTiles(
      *target, spec.headDimQK, spec.headDimV,
      faopt::spec::elementBytes(spec.dtype), blockQ, blockKv, error);
  if (!tiles)
    return fail(specPath + ": cannot tile for " + targetName + ": " + error);
  if (target->isGpu() && spec.dtype == faopt::spec::ElementType::F32)
    return fail(specPath + ": $.dtype: f32 runs on the cpu target only; GPU "
                           "kernels take bf16 or f16");

  if (explainFlag) {
    faopt::ExplainShape shape;
    if (spec.heads)
      shape.heads = shape.kvHeads = *spec.heads;
    if (spec.kvHeads)
      shape.kvHeads = *spec.kvHeads;
    if (!shapeText.empty() &&
        !faopt::parseExplainShape(shapeText, shape, error))
      return fail("--shape: " + error);
    for (const std::string &p : explainParams)
      if (!faopt::parseExplainParam(p, spec, shape, error))
        return fail("--param " + error);
    outs() << faopt::explain(spec, *target, *tiles, shape, !noSoftmaxOverlap,
                             persistentMode(), *qStagesOption(),
                             !noRoundedP, *kvStagesOption());
    if (target->isGpu()) {
      // What the lowering chose for this kernel's masks: read from the
      // compiled module (a second or so), not predicted from the spec.
      mlir::DialectRegistry registry;
      faopt::registerPipelineDialects(registry);
      mlir::MLIRContext context(registry);
      mlir::OwningOpRef<mlir::ModuleOp> lowered;
      std::string failure;
      if (failed(lowerSpec(context, spec, faopt::Stage::Lowered, lowered,
                           failure)))
        return fail(failure);
      outs() << faopt::explainLowered(*lowered);
    }
    if (outputPath == "-")
      return 0;
  }

  if (emitCode) {
    auto options = commonOptions<faopt::GpuCompileOptions>();
    options.runNvrtc = emit != "cuda";
    options.wantCubin = emit == "cubin";
    options.sourceName = sys::path::filename(specPath).str();
    if (outputPath != "-" &&
        sys::fs::equivalent(manifestPathFor(outputPath), specPath))
      return fail("-o " + outputPath + ": its manifest, " +
                  manifestPathFor(outputPath).str().str() +
                  ", would overwrite the spec; choose another output name");
    faopt::GpuCompileResult r = faopt::compileForGpu(spec, options);
    if (!r.ok)
      return fail(specPath + ": " + r.error);
    if (r.kernel.binary.wgmmaSerialized)
      errs() << "faopt-compile: warning: " << specPath
             << ": ptxas serialised the kernel's wgmma instructions (C7513, "
                "C7520, ...: ptxas's log says why, "
                "scripts/nvrtc-report.py prints it); every product waits for the last "
                "one\n";
    const std::string &artefact = emit == "cuda"  ? r.kernel.cuda.source
                                  : emit == "ptx" ? r.kernel.binary.ptx
                                                  : r.kernel.binary.cubin;
    if (int rc = writeOutput(outputPath, artefact))
      return rc;
    if (outputPath != "-") {
      // The manifest sits next to the artefact: k.ptx -> k.json.
      return writeOutput(manifestPathFor(outputPath), r.kernel.manifest);
    }
    return 0;
  }

  mlir::DialectRegistry registry;
  faopt::registerPipelineDialects(registry);
  mlir::MLIRContext context(registry);
  mlir::OwningOpRef<mlir::ModuleOp> module;
  std::string failure;
  if (failed(lowerSpec(context, spec, *stage, module, failure)))
    return fail(failure);

  std::string text;
  raw_string_ostream os(text);
  module->print(os);
  os.flush();
  return writeOutput(outputPath, text);
}
