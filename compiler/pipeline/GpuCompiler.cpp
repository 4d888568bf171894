//===- GpuCompiler.cpp - a spec to a CUDA kernel, end to end --------------===//
#include "compiler/pipeline/GpuCompiler.h"

#include "compiler/pipeline/Pipeline.h"
#include "compiler/spec/SpecToMLIR.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace faopt {

const char *faoptVersion() { return "0.1.0"; }

std::string cudaArch(const std::string &target) {
  return target == "sm90a" ? "sm_90a" : "sm_80";
}

bool dropsListedTerms(const spec::AttentionSpec &spec,
                      const GpuCompileOptions &options) {
  if (options.dropListedTileTerms != ListedTermsMode::Auto)
    return options.dropListedTileTerms == ListedTermsMode::On;
  std::optional<TargetDesc> target = lookupTarget(options.target);
  if (!target)
    return false;
  const int64_t eBytes = spec::elementBytes(spec.dtype);
  std::string error;
  std::optional<TileChoice> tiles =
      chooseTiles(*target, spec.headDimQK, spec.headDimV, eBytes,
                  options.blockQ, options.blockKv, error);
  return tiles && persistentFits(*target, *tiles, spec.headDimQK,
                                 spec.headDimV, eBytes, options.persistent,
                                 /*listDriven=*/true);
}

namespace {

std::string manifestJson(const spec::AttentionSpec &spec,
                         const std::string &target, const GpuKernel &k,
                         bool compiled) {
  const gpu::CudaKernelSource &c = k.cuda;
  std::string elem = spec.dtype == spec::ElementType::BF16 ? "faopt::bf16"
                                                           : "faopt::f16";
  auto tensor = [&](const char *name, const char *type,
                    std::vector<const char *> dims) {
    llvm::json::Array d;
    for (const char *x : dims)
      d.push_back(x);
    return llvm::json::Object{{"name", name}, {"type", type},
                              {"dims", std::move(d)}};
  };
  std::string t4 = "faopt::Tensor<" + elem + ", 4>";
  llvm::json::Array params{
      tensor("q", t4.c_str(), {"batch", "heads", "seqlen_q", "head_dim_qk"}),
      tensor("k", t4.c_str(), {"batch", "kv_heads", "seqlen_k", "head_dim_qk"}),
      tensor("v", t4.c_str(), {"batch", "kv_heads", "seqlen_k", "head_dim_v"}),
      tensor("o", t4.c_str(), {"batch", "heads", "seqlen_q", "head_dim_v"})};
  if (spec.lse)
    params.push_back(tensor("lse", "faopt::Tensor<float, 3>",
                            {"batch", "heads", "seqlen_q"}));
  // Run-time parameters follow, by value, in declaration order.
  for (const spec::ParamDecl &p : spec.params) {
    llvm::json::Object o{
        {"name", p.name},
        {"type", p.type == spec::ExprType::Int ? "int64_t" : "float"},
        {"kind", "run-time parameter"}};
    if (p.hasDefault)
      o["default"] = p.defaultValue;
    params.push_back(std::move(o));
  }
  // Then the tensor inputs, as views with the declared dimensions.
  for (const spec::TensorDecl &t : spec.tensors) {
    std::string type = std::string("faopt::Tensor<") +
                       (t.type == spec::ExprType::Int ? "int32_t" : "float") +
                       ", " + std::to_string(t.dims.size()) + ">";
    llvm::json::Array dims;
    for (const std::string &d : t.dims)
      dims.push_back(d);
    params.push_back(llvm::json::Object{{"name", t.name},
                                        {"type", type},
                                        {"dims", std::move(dims)},
                                        {"kind", "tensor input"}});
  }
  // Data-dependent masks: the kv-block lists, written by the list builder.
  std::string qBlocks = "ceil(seqlen_q / " + std::to_string(c.blockQ) + ")";
  // One CTA per program, or a persistent kernel's workers (one per SM),
  // each running programs until none are left.
  std::string programs = qBlocks + " * batch * heads";
  std::string listRow =
      "1 + max(ceil(seqlen_k / " + std::to_string(c.blockKv) + "), 1)" +
      (c.keyRangeRows > 0
           ? " + " + std::to_string(1 + 2 * c.keyRangeRows)
           : std::string());
  if (!c.listBuilder.empty())
    params.push_back(llvm::json::Object{
        {"name", "block_lists"},
        {"type", "faopt::Tensor<int32_t, 4>"},
        {"dims", llvm::json::Array{c.listsPerBatch ? "batch" : "1",
                                   c.listsPerHead ? "heads" : "1", qBlocks,
                                   listRow}},
        {"kind", "workspace written by the list builder"}});
  // Programs handed out at run time: a counter the launch zeroes.
  if (c.programCounter)
    params.push_back(llvm::json::Object{
        {"name", "program_counter"},
        {"type", "faopt::Tensor<int32_t, 1>"},
        {"dims", llvm::json::Array{"1"}},
        {"kind", c.builderResetsCounter
                     ? "workspace: one int32, zero at launch (run-time "
                       "program hand-out); the list builder zeroes it, else "
                       "the launch"
                     : "workspace: one int32, zero at launch (run-time "
                       "program hand-out)"}});
  // TMA kernels: a CUtensorMap per q / k / v after everything else, and
  // one of o in a persistent kernel (its output tiles leave by TMA store).
  llvm::json::Array tensorMaps;
  if (c.copy == "tma") {
    llvm::SmallVector<std::pair<const char *, int64_t>, 4> maps{
        {"q", c.blockQ}, {"k", c.blockKv}, {"v", c.blockKv}};
    if (c.persistent)
      maps.push_back({"o", c.blockQ});
    for (auto [name, rows] : maps) {
      params.push_back(llvm::json::Object{
          {"name", std::string(name) + "_tensor_map"},
          {"type", "CUtensorMap (const __grid_constant__)"},
          {"kind", "TMA descriptor of " + std::string(name)}});
      tensorMaps.push_back(llvm::json::Object{
          {"tensor", name},
          {"dims", "{head_dim, seqlen, heads, batch}"},
          {"box", llvm::json::Array{64, rows, 1, 1}},
          {"swizzle", "128B"}});
    }
  }
  auto parsedSpec = llvm::json::parse(spec.canonicalJson());
  llvm::json::Object m{
      {"faopt_version", faoptVersion()},
      {"kernel", c.name},
      {"target", target},
      {"arch", cudaArch(target)},
      {"spec", parsedSpec ? std::move(*parsedSpec) : llvm::json::Value(nullptr)},
      {"parameters", std::move(params)},
      {"parameter_abi",
       "each tensor is passed by value as struct { T *data; int64_t "
       "size[rank]; int64_t stride[rank]; } with element strides; the last "
       "dimension must have stride 1"},
      {"limits",
       "seqlen_q and seqlen_k at most 2^29 = 536870912 (position arithmetic "
       "is 32-bit where that bound makes it exact); at most 2^31 - 1 "
       "programs"},
      {"block", llvm::json::Array{c.threads, 1, 1}},
      {"grid", llvm::json::Array{c.persistent ? "min(" + programs + ", SMs)"
                                              : programs,
                                 "1", "1"}},
      {"persistent", c.persistent},
      {"program_counter", c.programCounter},
      {"rounded_p", c.roundedP},
      {"early_q_release", c.earlyQRelease},
      {"listed_terms_dropped", c.listedTermsDropped},
      {"q_tiles", c.qTiles},
      {"kv_stages", c.kvStages},
      {"output_by_copy_thread", c.outputByCopyThread},
      {"output_wait_at_next_q", c.outputWaitAtNextQ},
      {"block_q", c.blockQ},
      {"block_kv", c.blockKv},
      {"warps", c.warps},
      {"mma", c.mma},
      {"copy", c.copy},
      {"dynamic_shared_memory_bytes", c.sharedBytes},
  };
  if (!tensorMaps.empty())
    m["tensor_maps"] = std::move(tensorMaps);
  if (!c.listBuilder.empty())
    m["block_list_builder"] = llvm::json::Object{
        {"kernel", c.listBuilder},
        {"about", "launched first, on the same arguments: per (q-block, "
                  "list row) the non-empty kv-blocks, 2 * kb + partial, "
                  "after a count; with key_range_rows R, the row's last "
                  "1 + 2R entries are a sorted-keys flag and each q row's "
                  "first and last kv with its key"},
        {"block", llvm::json::Array{c.listBuilderThreads, 1, 1}},
        {"grid", llvm::json::Array{qBlocks + " * " +
                                       (c.listsPerBatch ? "batch" : "1") +
                                       " * " + (c.listsPerHead ? "heads" : "1"),
                                   "1", "1"}},
        {"per_batch", c.listsPerBatch},
        {"per_head", c.listsPerHead},
        {"key_range_rows", c.keyRangeRows},
        {"dependent_launch", c.dependentLaunch},
        {"builder_dependent_launch", c.builderDependentLaunch},
        // The builder takes the kernel's program counter right after the
        // lists and zeroes it; null when it runs on its own.
        {"resets_program_counter", c.builderResetsCounter},
        // attn-stage-builder-rows (opt-in): the row of ids in shared memory.
        {"staged_row", c.builderStagesRow}};
  if (compiled) {
    const gpu::NvrtcOutput &b = k.binary;
    m["registers"] = b.registers;
    m["spill_stores_bytes"] = b.spillStores;
    m["spill_loads_bytes"] = b.spillLoads;
    m["stack_frame_bytes"] = b.stackBytes;
    m["wgmma_serialized"] = b.wgmmaSerialized;
    m["nvrtc_version"] = gpu::nvrtcVersion();
    llvm::json::Array opts;
    for (const std::string &o : gpu::nvrtcOptions(cudaArch(target)))
      opts.push_back(o);
    m["nvrtc_options"] = std::move(opts);
  }
  std::string out;
  llvm::raw_string_ostream os(out);
  os << llvm::formatv("{0:2}", llvm::json::Value(std::move(m)));
  os.flush();
  return out + "\n";
}

} // namespace

GpuCompileResult compileForGpu(const spec::AttentionSpec &spec,
                               const GpuCompileOptions &options) {
  GpuCompileResult result;
  if (options.target != "sm80" && options.target != "sm90a") {
    result.error = "unknown GPU target '" + options.target + "' (sm80, sm90a)";
    return result;
  }
  if (spec.dtype == spec::ElementType::F32) {
    result.error = "$.dtype: f32 runs on the cpu target only; GPU kernels "
                   "take bf16 or f16";
    return result;
  }
  DialectRegistry registry;
  registerPipelineDialects(registry);
  MLIRContext context(registry);
  context.disableMultithreading();
  std::string diagnostics;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &d) {
    llvm::raw_string_ostream os(diagnostics);
    os << d.getLocation() << ": " << d << "\n";
    return success();
  });
  OwningOpRef<ModuleOp> module =
      spec::buildModule(context, spec, options.sourceName);
  if (failed(verify(*module))) {
    result.error = "the spec produced invalid IR:\n" + diagnostics;
    return result;
  }
  PipelineOptions pipeline;
  pipeline.target = options.target;
  pipeline.blockQ = options.blockQ;
  pipeline.blockKv = options.blockKv;
  pipeline.softmaxOverlap = options.softmaxOverlap;
  pipeline.roundedP = options.roundedP;
  pipeline.dropListedTileTerms = dropsListedTerms(spec, options);
  pipeline.handOverListHeader = options.handOverListHeader;
  pipeline.stageBuilderRows = options.stageBuilderRows;
  pipeline.outputByCopyThread = options.outputByCopyThread;
  pipeline.lateKRelease = options.lateKRelease;
  pipeline.deferOutputWait = options.deferOutputWait;
  pipeline.releaseQEarly = options.releaseQEarly;
  pipeline.persistent = options.persistent;
  pipeline.qStages = options.qStages;
  pipeline.kvStages = options.kvStages;
  pipeline.rowBoundMasks = options.rowBoundMasks;
  if (failed(runPipeline(*module, pipeline, Stage::Lowered))) {
    result.error = "compilation failed:\n" + diagnostics;
    return result;
  }
  std::string header = "// Generated by faopt " + std::string(faoptVersion()) +
                       " for " + options.target + " from " +
                       options.sourceName + ".\n// spec: " +
                       spec.canonicalJson() + "\n";
  FailureOr<gpu::CudaKernelSource> cuda = gpu::translateToCuda(*module, header);
  if (failed(cuda)) {
    result.error = "CUDA translation failed:\n" + diagnostics;
    return result;
  }
  result.kernel.cuda = std::move(*cuda);
  if (!options.cudaSourceOverride.empty())
    result.kernel.cuda.source = options.cudaSourceOverride;
  if (options.runNvrtc) {
    std::vector<std::pair<std::string, std::string>> headers;
    for (const gpu::DeviceHeader &h : gpu::deviceHeaders())
      headers.push_back({h.name.str(), h.source.str()});
    gpu::NvrtcResult nv = gpu::compileCuda(
        result.kernel.cuda.source, result.kernel.cuda.name + ".cu",
        cudaArch(options.target), options.wantCubin, headers,
        result.kernel.cuda.name,
        result.kernel.cuda.listBuilder.empty() ? 1 : 2);
    if (!nv.ok) {
      // Keep the source for whoever debugs it.
      llvm::SmallString<128> path;
      int fd = -1;
      std::string where = "(could not save the generated source)";
      if (!llvm::sys::fs::createTemporaryFile(
              "faopt-" + result.kernel.cuda.name, "cu", fd, path)) {
        llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
        os << result.kernel.cuda.source;
        where = (options.cudaSourceOverride.empty()
                     ? "generated source written to "
                     : "the overriding source (FAOPT_CUDA_OVERRIDE_DIR) "
                       "written to ") +
                path.str().str();
      }
      result.error = nv.error + "\n" + where;
      return result;
    }
    result.kernel.binary = std::move(nv.output);
  }
  result.kernel.manifest =
      manifestJson(spec, options.target, result.kernel, options.runNvrtc);
  result.ok = true;
  return result;
}

} // namespace faopt
