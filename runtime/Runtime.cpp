//===- Runtime.cpp - contexts, the JIT and its caches (C ABI) -------------===//
#include "runtime/Context.h"
#include "runtime/Environment.h"

#include "compiler/pipeline/GpuCompiler.h"
#include "llvm/Support/JSON.h"
#include "runtime/BuildId.inc"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <mutex>

using faopt::rt::fail;

namespace {
thread_local std::string lastError;

double secondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
      .count();
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
  options += std::string("defer-output-wait=") +
             faopt::toString(compile.deferOutputWait) + " ";
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
  if (m->getBoolean("wgmma_serialized").value_or(false) &&
      !faopt::rt::quiet())
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
  k.outputWaitAtNextQ =
      m->getBoolean("output_wait_at_next_q").value_or(false);
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
  using faopt::rt::DependentLaunch;
  const DependentLaunch dependent = faopt::rt::dependentLaunchFromEnv();
  ctx->dependentLaunch = dependent != DependentLaunch::None;
  ctx->builderDependentLaunch = dependent == DependentLaunch::All;
  ctx->counterMemset = faopt::rt::counterMemsetFromEnv();
  ctx->shortRowKernel = faopt::rt::shortRowKernelFromEnv();
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
  faopt::rt::setFromEnvironment(options);
  faopt::rt::cudaOverrideFromEnvironment(parsed.spec->name, options);
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
  faopt::rt::setFromEnvironment(options);
  faopt::rt::cudaOverrideFromEnvironment(parsed.spec->name, options);
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
