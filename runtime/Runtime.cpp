//===- Runtime.cpp - contexts, the JIT and its caches (C ABI) -------------===//
#include "runtime/Context.h"

#include "compiler/pipeline/GpuCompiler.h"
#include "llvm/Support/JSON.h"
#include "runtime/BuildId.inc"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string_view>

using faopt::rt::fail;

namespace {
thread_local std::string lastError;

double secondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
      .count();
}

/// $FAOPT_QUIET: no warnings on stderr (docs/runtime.md).
bool quiet() { return std::getenv("FAOPT_QUIET") != nullptr; }

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
faopt::ListedTermsMode dropListedTermsFromEnv() {
  static std::once_flag reported;
  return switchFromEnv("FAOPT_DROP_LISTED_TERMS",
                       {{"1", faopt::ListedTermsMode::On},
                        {"0", faopt::ListedTermsMode::Off}},
                       faopt::ListedTermsMode::Auto, reported, "0 or 1",
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
faopt::RowBoundMode rowBoundMasksFromEnv() {
  static std::once_flag reported;
  return switchFromEnv("FAOPT_ROW_BOUND_MASKS",
                       {{"1", faopt::RowBoundMode::On},
                        {"0", faopt::RowBoundMode::Off}},
                       faopt::RowBoundMode::Auto, reported, "0 or 1",
                       "the default (band masks only)");
}

/// $FAOPT_DEPENDENT_LAUNCH: unset or 1 (list builders and the kernels
/// after them by programmatic dependent launch where they allow it),
/// `kernel` (only the kernels; the builders in stream order, as before
/// session 19) or 0 (neither); for comparisons and diagnosis.
enum class DependentLaunch { All, KernelOnly, None };
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

/// $FAOPT_PERSISTENT: unset (auto: every TMA kernel whose tiles fit;
/// list-driven ones hand their programs out at run time), 1 (the same,
/// explicitly), 0 (none: one CTA per program, for comparisons and
/// diagnosis).
faopt::PersistentMode persistentFromEnv() {
  static std::once_flag reported;
  return switchFromEnv("FAOPT_PERSISTENT",
                       {{"1", faopt::PersistentMode::On},
                        {"0", faopt::PersistentMode::Off}},
                       faopt::PersistentMode::Auto, reported, "0 or 1",
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
      {{"auto", faopt::kQStagesAuto}, {"1", 1}, {"2", 2}},
      faopt::kQStagesAuto, reported, "auto, 1 or 2",
      "the default (two Q tiles for handed-out programs)");
}

/// $FAOPT_KV_STAGES: K/V stages per persistent worker (attn-persistent-
/// programs kv-stages). Unset or `auto`: three for fixed schedules, two
/// for handed-out programs (docs/performance.md item 85); 2 or 3: that many
/// (the third where it fits, O then staged in V's).
int64_t kvStagesFromEnv() {
  static std::once_flag reported;
  return switchFromEnv<int64_t>(
      "FAOPT_KV_STAGES", {{"auto", faopt::kKvStagesAuto}, {"2", 2}, {"3", 3}},
      faopt::kKvStagesAuto, reported, "auto, 2 or 3",
      "the default (three K/V stages for fixed schedules)");
}

/// $FAOPT_RELEASE_Q_EARLY: unset (auto: sliding-window bands release Q's
/// stage right after their kv loop's last S = Q K^T; attn-release-q-early,
/// docs/performance.md item 75), 1 (every persistent kernel) or 0 (none:
/// after the loop).
faopt::ReleaseQMode releaseQEarlyFromEnv() {
  static std::once_flag reported;
  return switchFromEnv("FAOPT_RELEASE_Q_EARLY",
                       {{"1", faopt::ReleaseQMode::On},
                        {"0", faopt::ReleaseQMode::Off}},
                       faopt::ReleaseQMode::Auto, reported, "0 or 1",
                       "the default (sliding-window bands only)");
}
/// $FAOPT_LATE_K_RELEASE: unset (auto: kernels driven by a block layout
/// release K's stage after the softmax's row sums; attn-overlap-softmax
/// late-k-release, docs/performance.md items 80, 81), 1 (every sm90a TMA
/// kernel) or 0 (none).
faopt::LateKMode lateKReleaseFromEnv() {
  static std::once_flag reported;
  return switchFromEnv("FAOPT_LATE_K_RELEASE",
                       {{"1", faopt::LateKMode::On},
                        {"0", faopt::LateKMode::Off}},
                       faopt::LateKMode::Auto, reported, "0 or 1",
                       "the default (block layouts only)");
}

/// The compile options the environment sets, for every compile and for the
/// disk cache key alike.
void setFromEnvironment(faopt::GpuCompileOptions &options) {
  options.softmaxOverlap = softmaxOverlapFromEnv();
  options.roundedP = roundedPFromEnv();
  options.dropListedTileTerms = dropListedTermsFromEnv();
  options.handOverListHeader = handOverListHeaderFromEnv();
  options.stageBuilderRows = stageBuilderRowsFromEnv();
  options.outputByCopyThread = outputByCopyThreadFromEnv();
  options.releaseQEarly = releaseQEarlyFromEnv();
  options.lateKRelease = lateKReleaseFromEnv();
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
                                 faopt::GpuCompileOptions &options) {
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

/// Everything that changes the generated code goes into the disk key: the
/// spec, the target, the versions and the options the kernel is compiled
/// with.
std::string cacheKey(const faopt_context &ctx,
                     const faopt::spec::AttentionSpec &spec,
                     const faopt::GpuCompileOptions &compile) {
  std::string options;
  for (const std::string &o : faopt::gpu::nvrtcOptions(faopt::cudaArch(ctx.target)))
    options += o + " ";
  if (!compile.softmaxOverlap)
    options += "no-softmax-overlap ";
  if (compile.roundedP)
    options += "rounded-p ";
  options += std::string("drop-listed-tile-terms=") +
             faopt::toString(compile.dropListedTileTerms) + " ";
  if (!compile.handOverListHeader)
    options += "no-hand-over-list-header ";
  if (compile.stageBuilderRows)
    options += "stage-builder-rows ";
  if (compile.outputByCopyThread)
    options += "output-by-copy-thread ";
  options += std::string("late-k-release=") +
             faopt::toString(compile.lateKRelease) + " ";
  options += std::string("release-q-early=") +
             faopt::toString(compile.releaseQEarly) + " ";
  options += std::string("row-bound-masks=") +
             faopt::toString(compile.rowBoundMasks) + " ";
  options += std::string("persistent=") + faopt::toString(compile.persistent);
  options += " q-stages=" + std::to_string(compile.qStages);
  options += " kv-stages=" + std::to_string(compile.kvStages);
  if (!compile.cudaSourceOverride.empty())
    options += " cuda-override=" + compile.cudaSourceOverride;
  return faopt::rt::DiskCache::key(
      {spec.canonicalJson(), ctx.target, ctx.loadTarget, faopt::faoptVersion(),
       FAOPT_BUILD_ID, faopt::gpu::nvrtcVersion(), options});
}

/// Reads the launch facts back from a manifest (so disk hits need nothing
/// else).
bool readManifest(const std::string &text, faopt_kernel &k, std::string &err) {
  auto parsed = llvm::json::parse(text);
  if (!parsed) {
    err = "kernel manifest is not JSON: " + llvm::toString(parsed.takeError());
    return false;
  }
  const llvm::json::Object *m = parsed->getAsObject();
  auto integer = [&](const char *name) -> int64_t {
    if (!m)
      return -1;
    if (auto v = m->getInteger(name))
      return *v;
    return -1;
  };
  const llvm::json::Array *block = m ? m->getArray("block") : nullptr;
  const llvm::json::Array *params = m ? m->getArray("parameters") : nullptr;
  if (!m || !m->getString("kernel") || !block || block->empty() || !params) {
    err = "kernel manifest lacks kernel/block/parameters";
    return false;
  }
  k.name = m->getString("kernel")->str();
  // A compiler defect, not the user's: said, so that it is not silent
  // (docs/performance.md item 50).
  if (m->getBoolean("wgmma_serialized").value_or(false) && !quiet())
    std::fprintf(stderr,
                 "faopt: warning: kernel %s: ptxas serialised its wgmma "
                 "instructions (C7513, C7520, ...); it runs slower than it "
                 "should\n",
                 k.name.c_str());
  k.threads = static_cast<int>((*block)[0].getAsInteger().value_or(0));
  k.sharedBytes = integer("dynamic_shared_memory_bytes");
  k.blockQ = static_cast<int>(integer("block_q"));
  k.blockKv = static_cast<int>(integer("block_kv"));
  k.registers = static_cast<int>(integer("registers"));
  int64_t spills = std::max<int64_t>(integer("spill_stores_bytes"), 0) +
                   std::max<int64_t>(integer("spill_loads_bytes"), 0);
  k.spillBytes = static_cast<int>(spills);
  if (const llvm::json::Object *lists = m->getObject("block_list_builder")) {
    const llvm::json::Array *lb = lists->getArray("block");
    if (!lists->getString("kernel") || !lb || lb->empty()) {
      err = "kernel manifest has an incomplete block_list_builder";
      return false;
    }
    k.listBuilderName = lists->getString("kernel")->str();
    k.listBuilderThreads =
        static_cast<int>((*lb)[0].getAsInteger().value_or(0));
    k.listsPerBatch = lists->getBoolean("per_batch").value_or(true);
    k.listsPerHead = lists->getBoolean("per_head").value_or(true);
    k.keyRangeRows = lists->getInteger("key_range_rows").value_or(0);
    // The kernel's ranges cover the rows of one q-block (BlockListsAbi.h).
    if (k.keyRangeRows != 0 && k.keyRangeRows != k.blockQ) {
      err = "kernel manifest: block_list_builder.key_range_rows must be 0 "
            "or block_q";
      return false;
    }
    k.dependentLaunch = lists->getBoolean("dependent_launch").value_or(false);
    k.builderDependentLaunch =
        lists->getBoolean("builder_dependent_launch").value_or(false);
    k.builderResetsCounter =
        lists->getBoolean("resets_program_counter").value_or(false);
    if (k.listBuilderThreads <= 0) {
      err = "kernel manifest has no usable block_list_builder block size";
      return false;
    }
  }
  if (const llvm::json::Array *maps = m->getArray("tensor_maps")) {
    static const char *const kMapTensors[] = {"q", "k", "v", "o"};
    if (maps->size() != 3 && maps->size() != 4) {
      err = "kernel manifest: tensor_maps must describe q, k and v (and o)";
      return false;
    }
    for (size_t i = 0; i < maps->size(); ++i) {
      const llvm::json::Object *map = (*maps)[i].getAsObject();
      std::optional<llvm::StringRef> tensor =
          map ? map->getString("tensor") : std::nullopt;
      if (!tensor || *tensor != kMapTensors[i]) {
        err = std::string("kernel manifest: tensor_maps entry ") +
              std::to_string(i) + " must describe " + kMapTensors[i];
        return false;
      }
      const llvm::json::Array *box = map ? map->getArray("box") : nullptr;
      if (!box || box->size() != 4 || (*box)[0].getAsInteger() != 64) {
        err = "kernel manifest: tensor_maps entries need a box {64, rows, 1, 1}";
        return false;
      }
      int64_t rows = (*box)[1].getAsInteger().value_or(0);
      if (rows <= 0 || rows > 256) { // TMA boxes are 1..256 rows
        err = "kernel manifest: tensor_maps entry " + std::to_string(i) +
              " has a box of " + std::to_string(rows) + " rows (1..256)";
        return false;
      }
      k.tmaBoxRows[i] = static_cast<int>(rows);
    }
  }
  k.persistent = m->getBoolean("persistent").value_or(false);
  k.programCounter = m->getBoolean("program_counter").value_or(false);
  k.earlyQRelease = m->getBoolean("early_q_release").value_or(false);
  k.kvStages = static_cast<int>(integer("kv_stages"));
  if (k.builderResetsCounter && !k.programCounter) {
    err = "kernel manifest: block_list_builder.resets_program_counter without a "
          "kernel program counter";
    return false;
  }
  k.manifest = text;
  if (k.threads <= 0 || k.blockQ <= 0 || k.sharedBytes < 0) {
    err = "kernel manifest has no usable launch configuration";
    return false;
  }
  return true;
}

/// Loads the module into the context's CUDA context.
faopt_status loadModule(faopt_context &ctx, faopt_kernel &k,
                        const faopt::rt::CacheEntry &entry) {
  const faopt::rt::Driver &d = faopt::rt::driver();
  if (CUresult r = d.ctxSetCurrent(ctx.cuContext); r != CUDA_SUCCESS)
    return fail(FAOPT_ERROR_CUDA, d.describe("cuCtxSetCurrent", r));
  const std::string &image = ctx.loadTarget == "cubin" ? entry.cubin : entry.ptx;
  if (image.empty())
    return fail(FAOPT_ERROR_CUDA, "the cached kernel has no " + ctx.loadTarget +
                                      " image for this device");
  if (CUresult r = d.moduleLoadData(&k.module, image.c_str());
      r != CUDA_SUCCESS)
    return fail(FAOPT_ERROR_CUDA, d.describe("cuModuleLoadData", r));
  if (CUresult r = d.moduleGetFunction(&k.function, k.module, k.name.c_str());
      r != CUDA_SUCCESS)
    return fail(FAOPT_ERROR_CUDA, d.describe("cuModuleGetFunction", r));
  if (!k.listBuilderName.empty())
    if (CUresult r = d.moduleGetFunction(&k.listBuilder, k.module,
                                         k.listBuilderName.c_str());
        r != CUDA_SUCCESS)
      return fail(FAOPT_ERROR_CUDA,
                  d.describe("cuModuleGetFunction(list builder)", r));
  if (k.sharedBytes > 48 * 1024)
    if (CUresult r = d.funcSetAttribute(
            k.function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
            static_cast<int>(k.sharedBytes));
        r != CUDA_SUCCESS)
      return fail(FAOPT_ERROR_CUDA,
                  d.describe("cuFuncSetAttribute(max dynamic shared memory)", r) +
                      " (the kernel needs " + std::to_string(k.sharedBytes) +
                      " bytes)");
  // Static tensors (a block layout in the spec): one device copy per kernel.
  k.staticTensors.assign(k.spec.tensors.size(), 0);
  for (size_t i = 0; i < k.spec.tensors.size(); ++i) {
    const faopt::spec::TensorDecl &t = k.spec.tensors[i];
    if (!t.isStatic())
      continue;
    std::vector<int32_t> data(t.value.begin(), t.value.end());
    size_t bytes = std::max<size_t>(data.size(), 1) * sizeof(int32_t);
    if (CUresult r = d.memAlloc(&k.staticTensors[i], bytes); r != CUDA_SUCCESS)
      return fail(FAOPT_ERROR_CUDA,
                  d.describe("cuMemAlloc(static tensor)", r));
    if (CUresult r = d.memcpyHtoD(k.staticTensors[i], data.data(),
                                  data.size() * sizeof(int32_t));
        r != CUDA_SUCCESS)
      return fail(FAOPT_ERROR_CUDA,
                  d.describe("cuMemcpyHtoD(static tensor)", r));
  }
  int regs = -1;
  if (d.funcGetAttribute(&regs, CU_FUNC_ATTRIBUTE_NUM_REGS, k.function) ==
      CUDA_SUCCESS)
    k.registers = regs;
  return FAOPT_SUCCESS;
}

} // namespace

namespace faopt::rt {
faopt_status fail(faopt_status status, const std::string &message) {
  lastError = message;
  return status;
}

bool quiet() { return ::quiet(); }

faopt_status obtainKernel(faopt_context &ctx, const spec::AttentionSpec &spec,
                          const GpuCompileOptions &compileOptions,
                          faopt_kernel *&out) {
  auto t0 = std::chrono::steady_clock::now();
  out = nullptr;
  GpuCompileOptions options = compileOptions;
  std::string key = cacheKey(ctx, spec, options);
  std::shared_ptr<std::promise<faopt_kernel *>> promise;
  std::shared_future<faopt_kernel *> ready;
  {
    std::lock_guard<std::mutex> lock(ctx.mu);
    auto it = ctx.byKey.find(key);
    if (it != ctx.byKey.end()) {
      ready = it->second.ready;
    } else {
      promise = std::make_shared<std::promise<faopt_kernel *>>();
      ready = promise->get_future().share();
      ctx.byKey[key] = {ready};
    }
  }
  if (!promise) { // someone else compiles it: wait
    out = ready.get();
    if (!out)
      return fail(FAOPT_ERROR_COMPILE,
                  "the concurrent compilation of this spec failed");
    return FAOPT_SUCCESS;
  }

  // This thread compiles (or loads from disk).
  auto give = [&](faopt_kernel *k, faopt_status status) {
    if (!k) {
      std::lock_guard<std::mutex> lock(ctx.mu);
      ctx.byKey.erase(key); // let a later request try again
    }
    promise->set_value(k);
    out = k;
    return status;
  };
  auto kernel = std::make_unique<faopt_kernel>();
  kernel->spec = spec;
  kernel->target = ctx.target;
  kernel->context = &ctx;
  // A hand-edited source may not zero the counter its manifest says the
  // builder zeroes (an edit made before session 29, or one that moves the
  // builder's work): such launches keep the memset too, as do all under
  // FAOPT_COUNTER_MEMSET=1.
  kernel->counterMemset =
      ctx.counterMemset || !options.cudaSourceOverride.empty();
  std::optional<rt::CacheEntry> entry;
  if (ctx.disk && (entry = ctx.disk->load(key)))
    kernel->source = 2;
  if (!entry) {
    options.sourceName = kernel->spec.name + ".json";
    GpuCompileResult r = compileForGpu(kernel->spec, options);
    if (!r.ok)
      return give(nullptr, fail(FAOPT_ERROR_COMPILE, r.error));
    entry = rt::CacheEntry{r.kernel.manifest, std::move(r.kernel.binary.cubin),
                           std::move(r.kernel.binary.ptx)};
    if (ctx.disk)
      ctx.disk->store(key, *entry);
    kernel->source = 0;
  }
  std::string err;
  if (!readManifest(entry->manifest, *kernel, err))
    return give(nullptr, fail(FAOPT_ERROR_COMPILE, err));
  if (ctx.noDevice.empty())
    if (faopt_status s = loadModule(ctx, *kernel, *entry); s != FAOPT_SUCCESS)
      return give(nullptr, s);
  planShortRows(ctx, compileOptions, *kernel);
  kernel->compileSeconds = secondsSince(t0);
  faopt_kernel *k = kernel.get();
  {
    std::lock_guard<std::mutex> lock(ctx.mu);
    ctx.kernels.push_back(std::move(kernel));
  }
  return give(k, FAOPT_SUCCESS);
}
} // namespace faopt::rt

extern "C" {

const char *faopt_last_error(void) { return lastError.c_str(); }
const char *faopt_version(void) { return faopt::faoptVersion(); }
void faopt_free(void *p) { std::free(p); }

void faopt_context_options_init(faopt_context_options *o) {
  if (!o)
    return;
  o->target = "auto";
  o->cache_dir = nullptr;
  o->disk_cache = 1;
  o->device = 0;
}

faopt_status faopt_context_create(const faopt_context_options *options,
                                  faopt_context **out) {
  if (!out)
    return fail(FAOPT_ERROR_INVALID_ARGUMENT, "faopt_context_create: out is NULL");
  *out = nullptr;
  faopt_context_options o;
  faopt_context_options_init(&o);
  if (options)
    o = *options;
  std::string target = o.target ? o.target : "auto";
  if (target != "auto" && target != "sm80" && target != "sm90a")
    return fail(FAOPT_ERROR_INVALID_ARGUMENT,
                "unknown target '" + target + "' (auto, sm80, sm90a)");

  auto ctx = std::make_unique<faopt_context>();
  ctx->device = o.device;
  const DependentLaunch dependent = dependentLaunchFromEnv();
  ctx->dependentLaunch = dependent != DependentLaunch::None;
  ctx->builderDependentLaunch = dependent == DependentLaunch::All;
  ctx->counterMemset = counterMemsetFromEnv();
  ctx->shortRowKernel = shortRowKernelFromEnv();
  const faopt::rt::Driver &d = faopt::rt::driver();
  if (!d.available()) {
    ctx->noDevice = d.loadError;
    ctx->target = target == "auto" ? "sm80" : target;
    ctx->loadTarget = "cubin";
  } else {
    if (CUresult r = d.deviceGet(&ctx->cuDevice, o.device); r != CUDA_SUCCESS)
      return fail(FAOPT_ERROR_INVALID_ARGUMENT,
                  d.describe("cuDeviceGet", r) + " for device " +
                      std::to_string(o.device));
    int major = 0, minor = 0;
    d.deviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR,
                         ctx->cuDevice);
    d.deviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR,
                         ctx->cuDevice);
    d.deviceGetAttribute(&ctx->persistentCtas,
                         CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, ctx->cuDevice);
    if (const char *v = std::getenv("FAOPT_PERSISTENT_CTAS"))
      ctx->persistentCtas = std::max(1, std::atoi(v));
    std::string cc = std::to_string(major) + "." + std::to_string(minor);
    if (target == "auto")
      target = (major == 9 && minor == 0) ? "sm90a" : "sm80";
    if (target == "sm90a" && !(major == 9 && minor == 0))
      return fail(FAOPT_ERROR_UNSUPPORTED,
                  "target sm90a needs a compute capability 9.0 GPU; device " +
                      std::to_string(o.device) + " is " + cc);
    if (major < 8)
      return fail(FAOPT_ERROR_UNSUPPORTED,
                  "faopt kernels need compute capability 8.0 or newer; device " +
                      std::to_string(o.device) + " is " + cc);
    ctx->target = target;
    // sm_80 cubins run on 8.x; newer GPUs JIT the PTX.
    ctx->loadTarget = (target == "sm90a" || major == 8) ? "cubin" : "ptx";
    if (CUresult r = d.devicePrimaryCtxRetain(&ctx->cuContext, ctx->cuDevice);
        r != CUDA_SUCCESS)
      return fail(FAOPT_ERROR_CUDA, d.describe("cuDevicePrimaryCtxRetain", r));
  }
  if (o.disk_cache)
    ctx->disk = std::make_unique<faopt::rt::DiskCache>(
        o.cache_dir ? o.cache_dir : faopt::rt::DiskCache::defaultDir());
  *out = ctx.release();
  return FAOPT_SUCCESS;
}

void faopt_context_destroy(faopt_context *ctx) {
  if (!ctx)
    return;
  const faopt::rt::Driver &d = faopt::rt::driver();
  if (ctx->cuContext) {
    d.ctxSetCurrent(ctx->cuContext);
    for (auto &k : ctx->kernels) {
      if (k->module)
        d.moduleUnload(k->module);
      for (CUdeviceptr p : k->staticTensors)
        if (p)
          d.memFree(p);
    }
    if (ctx->listsPool)
      d.memPoolDestroy(ctx->listsPool);
    d.devicePrimaryCtxRelease(ctx->cuDevice);
  }
  delete ctx;
}

int faopt_context_can_launch(const faopt_context *ctx) {
  if (!ctx) {
    lastError = "faopt_context_can_launch: context is NULL";
    return 0;
  }
  if (!ctx->noDevice.empty()) {
    lastError = ctx->noDevice;
    return 0;
  }
  return 1;
}

const char *faopt_context_target(const faopt_context *ctx) {
  return ctx ? ctx->target.c_str() : "";
}

faopt_status faopt_kernel_get(faopt_context *ctx, const char *specJson,
                              faopt_kernel **out) {
  if (!ctx || !specJson || !out)
    return fail(FAOPT_ERROR_INVALID_ARGUMENT,
                "faopt_kernel_get: context, spec and out must not be NULL");
  std::string text(specJson);
  {
    std::lock_guard<std::mutex> lock(ctx->mu);
    if (auto it = ctx->byText.find(text); it != ctx->byText.end()) {
      *out = it->second;
      return FAOPT_SUCCESS;
    }
  }
  faopt::spec::SpecParseResult parsed = faopt::spec::parseSpec(text);
  if (!parsed.spec)
    return fail(FAOPT_ERROR_INVALID_SPEC, "invalid spec: " + parsed.error);
  faopt::GpuCompileOptions options;
  options.target = ctx->target;
  options.wantCubin = ctx->loadTarget == "cubin";
  setFromEnvironment(options);
  cudaOverrideFromEnvironment(parsed.spec->name, options);
  faopt_kernel *k = nullptr;
  if (faopt_status s = faopt::rt::obtainKernel(*ctx, *parsed.spec, options, k);
      s != FAOPT_SUCCESS) {
    *out = nullptr;
    return s;
  }
  std::lock_guard<std::mutex> lock(ctx->mu);
  ctx->byText[text] = k;
  *out = k;
  return FAOPT_SUCCESS;
}

faopt_status faopt_kernel_info_get(const faopt_kernel *k,
                                   faopt_kernel_info *info) {
  if (!k || !info)
    return fail(FAOPT_ERROR_INVALID_ARGUMENT,
                "faopt_kernel_info_get: kernel and info must not be NULL");
  info->name = k->name.c_str();
  info->target = k->target.c_str();
  info->manifest = k->manifest.c_str();
  info->threads = k->threads;
  info->block_q = k->blockQ;
  info->block_kv = k->blockKv;
  info->shared_memory_bytes = k->sharedBytes;
  info->registers = k->registers;
  info->spill_bytes = k->spillBytes;
  info->source = k->source;
  info->compile_seconds = k->compileSeconds;
  const faopt_kernel::ShortRows &rows = k->shortRows;
  info->short_rows_max_seqlen_k = rows.eligible ? rows.maxSeqlenK : 0;
  const faopt_kernel *form = rows.kernel.load();
  info->short_rows_manifest = form ? form->manifest.c_str() : nullptr;
  return FAOPT_SUCCESS;
}

faopt_status faopt_compile(const char *specJson, const char *target,
                           const char *emit, void **out, size_t *outSize,
                           char **manifest) {
  if (!specJson || !out || !outSize)
    return fail(FAOPT_ERROR_INVALID_ARGUMENT,
                "faopt_compile: spec, out and out_size must not be NULL");
  std::string what = emit ? emit : "cubin";
  if (what != "cuda" && what != "ptx" && what != "cubin")
    return fail(FAOPT_ERROR_INVALID_ARGUMENT,
                "faopt_compile: emit must be cuda, ptx or cubin");
  faopt::spec::SpecParseResult parsed = faopt::spec::parseSpec(specJson);
  if (!parsed.spec)
    return fail(FAOPT_ERROR_INVALID_SPEC, "invalid spec: " + parsed.error);
  faopt::GpuCompileOptions options;
  options.target = target ? target : "sm80";
  options.runNvrtc = what != "cuda";
  options.wantCubin = what == "cubin";
  setFromEnvironment(options);
  cudaOverrideFromEnvironment(parsed.spec->name, options);
  options.sourceName = parsed.spec->name + ".json";
  faopt::GpuCompileResult r = faopt::compileForGpu(*parsed.spec, options);
  if (!r.ok)
    return fail(FAOPT_ERROR_COMPILE, r.error);
  const std::string &artefact = what == "cuda"  ? r.kernel.cuda.source
                                : what == "ptx" ? r.kernel.binary.ptx
                                                : r.kernel.binary.cubin;
  *out = std::malloc(artefact.size() + 1);
  std::memcpy(*out, artefact.data(), artefact.size());
  static_cast<char *>(*out)[artefact.size()] = '\0';
  *outSize = artefact.size();
  if (manifest) {
    *manifest = static_cast<char *>(std::malloc(r.kernel.manifest.size() + 1));
    std::memcpy(*manifest, r.kernel.manifest.c_str(),
                r.kernel.manifest.size() + 1);
  }
  return FAOPT_SUCCESS;
}

} // extern "C"
