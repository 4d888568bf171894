//===- Environment.cpp - the runtime's switches from the environment ------===//
#include "runtime/Environment.h"

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string_view>

namespace faopt::rt {

bool quiet() { return std::getenv("FAOPT_QUIET") != nullptr; }


namespace {
/// Says once per variable (`once`), unless $FAOPT_QUIET, that `name` holds
/// `value`, which is not `expected`, and that `fallback` is used instead.
void reportBadEnv(std::once_flag &once, const char *name, const char *value,
                  const char *expected, const char *fallback) {
  std::call_once(once, [&] {
    if (!quiet())
      std::fprintf(stderr, "faopt: warning: %s=%s is not %s; using %s\n", name,
                   value, expected, fallback);
  });
}

/// One switch read from the environment: `unset` when the variable is
/// unset or empty, the value paired with its text in `values`, else
/// `unset` after saying once (`reported`) that the text is not one of
/// `expected` and that `fallback` is used.
template <typename T>
T switchFromEnv(const char *name,
                std::initializer_list<std::pair<std::string_view, T>> values,
                T unset, std::once_flag &reported, const char *expected,
                const char *fallback) {
  const char *v = std::getenv(name);
  if (!v || !*v)
    return unset;
  for (const auto &[text, value] : values)
    if (text == v)
      return value;
  reportBadEnv(reported, name, v, expected, fallback);
  return unset;
}

/// $FAOPT_SOFTMAX_OVERLAP=0 compiles without attn-overlap-softmax (for
/// comparisons and diagnosis; docs/performance.md items 21 and 23); unset
/// or 1: with it.
bool softmaxOverlapFromEnv() {
  static std::once_flag reported;
  return switchFromEnv<bool>("FAOPT_SOFTMAX_OVERLAP",
                             {{"1", true}, {"0", false}}, true, reported,
                             "0 or 1", "1");
}

/// $FAOPT_ROUNDED_P=0: attn-overlap-softmax carries P in f32 (for
/// comparisons; docs/performance.md item 50); unset or 1: rounded.
bool roundedPFromEnv() {
  static std::once_flag reported;
  return switchFromEnv<bool>("FAOPT_ROUNDED_P", {{"1", true}, {"0", false}},
                             true, reported, "0 or 1", "1");
}

/// $FAOPT_DROP_LISTED_TERMS: unset (auto: attn-drop-listed-tile-terms in
/// list-driven kernels whose programs are handed out, docs/performance.md
/// item 71), 1 (every list-driven kernel) or 0 (none).
ListedTermsMode dropListedTermsFromEnv() {
  static std::once_flag reported;
  return switchFromEnv("FAOPT_DROP_LISTED_TERMS",
                       {{"1", ListedTermsMode::On},
                        {"0", ListedTermsMode::Off}},
                       ListedTermsMode::Auto, reported, "0 or 1",
                       "the default (handed-out kernels only)");
}

/// $FAOPT_HAND_OVER_LIST_HEADER=0: the consumers of a handed-out kernel
/// load their program's list head themselves (attn-hand-over-list-header
/// off; docs/performance.md item 56); unset or 1: the copy thread hands it
/// over.
bool handOverListHeaderFromEnv() {
  static std::once_flag reported;
  return switchFromEnv<bool>("FAOPT_HAND_OVER_LIST_HEADER",
                             {{"1", true}, {"0", false}}, true, reported,
                             "0 or 1", "1");
}

/// $FAOPT_STAGE_BUILDER_ROWS=1 (opt-in): each list builder row copies the
/// tensor row it reads into shared memory first (attn-stage-builder-rows);
/// unset or 0: reads from global memory.
bool stageBuilderRowsFromEnv() {
  static std::once_flag reported;
  return switchFromEnv<bool>("FAOPT_STAGE_BUILDER_ROWS",
                             {{"1", true}, {"0", false}}, false, reported,
                             "0 or 1", "0");
}

/// $FAOPT_OUTPUT_BY_COPY_THREAD=1 (opt-in, docs/performance.md item 92):
/// in kernels with three K/V stages the copy thread stores the O tile the
/// consumers staged in a V stage (attn-stage-output-in-v by-copy-thread);
/// unset or 0: the consumers' thread 0 stores it and waits for the read.
bool outputByCopyThreadFromEnv() {
  static std::once_flag reported;
  return switchFromEnv<bool>("FAOPT_OUTPUT_BY_COPY_THREAD",
                             {{"1", true}, {"0", false}}, false, reported,
                             "0 or 1", "0");
}

/// $FAOPT_ROW_BOUND_MASKS: unset (auto: attn-kv-bounds-in-rows and
/// attn-unswitch-masked-blocks for band masks, docs/performance.md item
/// 40), 1 (every bounds-only mask) or 0 (none).
RowBoundMode rowBoundMasksFromEnv() {
  static std::once_flag reported;
  return switchFromEnv("FAOPT_ROW_BOUND_MASKS",
                       {{"1", RowBoundMode::On},
                        {"0", RowBoundMode::Off}},
                       RowBoundMode::Auto, reported, "0 or 1",
                       "the default (band masks only)");
}

/// $FAOPT_PERSISTENT: unset (auto: every TMA kernel whose tiles fit;
/// list-driven ones hand their programs out at run time), 1 (the same,
/// explicitly), 0 (none: one CTA per program, for comparisons and
/// diagnosis).
PersistentMode persistentFromEnv() {
  static std::once_flag reported;
  return switchFromEnv("FAOPT_PERSISTENT",
                       {{"1", PersistentMode::On},
                        {"0", PersistentMode::Off}},
                       PersistentMode::Auto, reported, "0 or 1",
                       "the default (persistent kernels)");
}

/// $FAOPT_Q_STAGES: Q tiles per persistent worker (attn-persistent-
/// programs q-stages). Unset or `auto`: two for handed-out programs, one
/// for fixed schedules (docs/performance.md item 64); 1 or 2: that many
/// everywhere (the second where it fits).
int64_t qStagesFromEnv() {
  static std::once_flag reported;
  return switchFromEnv<int64_t>(
      "FAOPT_Q_STAGES",
      {{"auto", kQStagesAuto}, {"1", 1}, {"2", 2}},
      kQStagesAuto, reported, "auto, 1 or 2",
      "the default (two Q tiles for handed-out programs)");
}

/// $FAOPT_KV_STAGES: K/V stages per persistent worker (attn-persistent-
/// programs kv-stages). Unset or `auto`: three for fixed schedules, two
/// for handed-out programs (docs/performance.md item 85); 2 or 3: that many
/// (the third where it fits, O then staged in V's).
int64_t kvStagesFromEnv() {
  static std::once_flag reported;
  return switchFromEnv<int64_t>(
      "FAOPT_KV_STAGES", {{"auto", kKvStagesAuto}, {"2", 2}, {"3", 3}},
      kKvStagesAuto, reported, "auto, 2 or 3",
      "the default (three K/V stages for fixed schedules)");
}

/// $FAOPT_RELEASE_Q_EARLY: unset (auto: sliding-window bands release Q's
/// stage right after their kv loop's last S = Q K^T; attn-release-q-early,
/// docs/performance.md item 75), 1 (every persistent kernel) or 0 (none:
/// after the loop).
ReleaseQMode releaseQEarlyFromEnv() {
  static std::once_flag reported;
  return switchFromEnv("FAOPT_RELEASE_Q_EARLY",
                       {{"1", ReleaseQMode::On},
                        {"0", ReleaseQMode::Off}},
                       ReleaseQMode::Auto, reported, "0 or 1",
                       "the default (sliding-window bands only)");
}
/// $FAOPT_LATE_K_RELEASE: unset (auto: kernels driven by a block layout
/// release K's stage after the softmax's row sums; attn-overlap-softmax
/// late-k-release, docs/performance.md items 80, 81), 1 (every sm90a TMA
/// kernel) or 0 (none).
LateKMode lateKReleaseFromEnv() {
  static std::once_flag reported;
  return switchFromEnv("FAOPT_LATE_K_RELEASE",
                       {{"1", LateKMode::On},
                        {"0", LateKMode::Off}},
                       LateKMode::Auto, reported, "0 or 1",
                       "the default (block layouts only)");
}

/// $FAOPT_DEFER_OUTPUT_WAIT: unset (auto: kernels whose programs all read
/// the same kv-blocks and release Q after them, i.e. dense, defer the
/// staged O store's read wait to the next program's Q wait;
/// attn-stage-output-in-v defer-read-wait, docs/performance.md item 94), 1
/// (every kernel with a staged O) or 0 (none).
DeferOutputWaitMode deferOutputWaitFromEnv() {
  static std::once_flag reported;
  return switchFromEnv("FAOPT_DEFER_OUTPUT_WAIT",
                       {{"1", DeferOutputWaitMode::On},
                        {"0", DeferOutputWaitMode::Off}},
                       DeferOutputWaitMode::Auto, reported, "0 or 1",
                       "the default (programs that all read the same "
                       "kv-blocks)");
}
} // namespace

/// $FAOPT_DEPENDENT_LAUNCH: unset or 1 (list builders and the kernels
/// after them by programmatic dependent launch where they allow it),
/// `kernel` (only the kernels; the builders in stream order, as before
/// session 19) or 0 (neither); for comparisons and diagnosis.
DependentLaunch dependentLaunchFromEnv() {
  static std::once_flag reported;
  return switchFromEnv("FAOPT_DEPENDENT_LAUNCH",
                       {{"1", DependentLaunch::All},
                        {"kernel", DependentLaunch::KernelOnly},
                        {"0", DependentLaunch::None}},
                       DependentLaunch::All, reported, "0, kernel or 1",
                       "1");
}

/// $FAOPT_COUNTER_MEMSET: unset or 0 (a handed-out kernel's list builder
/// zeroes its program counter: no memset), 1 (the launch's memset as well,
/// as before session 29; for comparisons).
bool counterMemsetFromEnv() {
  static std::once_flag reported;
  return switchFromEnv<bool>("FAOPT_COUNTER_MEMSET", {{"1", true}, {"0", false}},
                       false, reported, "0 or 1",
                       "0 (the builder zeroes the counter)");
}

/// $FAOPT_SHORT_ROW_KERNEL: unset or 1 (fixed-schedule sm90a kernels get
/// a short-row form with Q released early, chosen per launch by seqlen_k;
/// runtime/ShortRows.cpp, docs/performance.md item 93), 0 (none: every
/// launch runs the kernel itself; for comparisons).
bool shortRowKernelFromEnv() {
  static std::once_flag reported;
  return switchFromEnv<bool>("FAOPT_SHORT_ROW_KERNEL",
                             {{"1", true}, {"0", false}}, true, reported,
                             "0 or 1", "1 (short-row kernels)");
}

/// The compile options the environment sets, for every compile and for the
/// disk cache key alike.
void setFromEnvironment(GpuCompileOptions &options) {
  options.softmaxOverlap = softmaxOverlapFromEnv();
  options.roundedP = roundedPFromEnv();
  options.dropListedTileTerms = dropListedTermsFromEnv();
  options.handOverListHeader = handOverListHeaderFromEnv();
  options.stageBuilderRows = stageBuilderRowsFromEnv();
  options.outputByCopyThread = outputByCopyThreadFromEnv();
  options.releaseQEarly = releaseQEarlyFromEnv();
  options.lateKRelease = lateKReleaseFromEnv();
  options.deferOutputWait = deferOutputWaitFromEnv();
  options.persistent = persistentFromEnv();
  options.qStages = qStagesFromEnv();
  options.kvStages = kvStagesFromEnv();
  options.rowBoundMasks = rowBoundMasksFromEnv();
}

/// $FAOPT_CUDA_OVERRIDE_DIR (diagnosis): where DIR/<spec name>.cu exists,
/// NVRTC compiles that file instead of the generated CUDA (a hand-edited
/// kernel, timed and tested by the real harness: lists, builder, counter,
/// launch). Said on stderr every time it is used (FAOPT_QUIET or not), so a
/// stale override is not silent; the source goes into the cache key.
void cudaOverrideFromEnvironment(const std::string &specName,
                                 GpuCompileOptions &options) {
  const char *dir = std::getenv("FAOPT_CUDA_OVERRIDE_DIR");
  if (!dir || !*dir)
    return;
  const std::string path = std::string(dir) + "/" + specName + ".cu";
  std::FILE *f = std::fopen(path.c_str(), "rb");
  if (!f)
    return;
  std::string text;
  char buf[65536];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;)
    text.append(buf, n);
  std::fclose(f);
  if (text.empty())
    return;
  options.cudaSourceOverride = std::move(text);
  // Not silenced by FAOPT_QUIET: a forgotten override must show.
  std::fprintf(stderr,
               "faopt: warning: kernel %s uses %s instead of the generated "
               "CUDA (FAOPT_CUDA_OVERRIDE_DIR)\n",
               specName.c_str(), path.c_str());
}

} // namespace faopt::rt
