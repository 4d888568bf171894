//===- GpuCompiler.h - a spec to a CUDA kernel, end to end ------*- C++ -*-===//
//
// Spec -> attn.attention -> the target's pipeline -> EmitC -> CUDA C++ ->
// NVRTC -> PTX (+ cubin), and the JSON manifest a launcher needs. Shared by
// faopt-compile (ahead of time) and the runtime's JIT.
//
//===----------------------------------------------------------------------===//
#ifndef FAOPT_COMPILER_PIPELINE_GPUCOMPILER_H
#define FAOPT_COMPILER_PIPELINE_GPUCOMPILER_H

#include "compiler/spec/Spec.h"
#include "compiler/targets/TargetDesc.h"
#include "compiler/targets/gpu/CudaSource.h"
#include "compiler/targets/gpu/Nvrtc.h"
#include <string>

namespace faopt {

struct GpuCompileOptions {
  std::string target = "sm80"; // sm80 or sm90a
  int64_t blockQ = 0, blockKv = 0;
  bool softmaxOverlap = true; // attn-overlap-softmax (wgmma + TMA kernels)
  bool roundedP = true;       // its rounded-p: P carried rounded
  // Which list-driven kernels run attn-drop-listed-tile-terms.
  ListedTermsMode dropListedTileTerms = ListedTermsMode::Auto;
  bool handOverListHeader = true;   // attn-hand-over-list-header
  bool stageBuilderRows = false;    // attn-stage-builder-rows (opt-in)
  bool outputByCopyThread = false;  // attn-stage-output-in-v by-copy-thread (opt-in)
  // Which sm90a TMA kernels run attn-overlap-softmax's late-k-release.
  LateKMode lateKRelease = LateKMode::Auto;
  // Which kernels with a staged O defer its store's read wait.
  DeferOutputWaitMode deferOutputWait = DeferOutputWaitMode::Auto;
  // Which persistent kernels run attn-release-q-early.
  ReleaseQMode releaseQEarly = ReleaseQMode::Auto;
  // Which TMA kernels run attn-persistent-programs.
  PersistentMode persistent = PersistentMode::Auto;
  // Q tiles per persistent worker: 1, 2 or kQStagesAuto (qStagesFor).
  int64_t qStages = kQStagesAuto;
  // K/V stages per persistent worker: 2, 3 or kKvStagesAuto (kvStagesFor).
  int64_t kvStages = kKvStagesAuto;
  // Which TMA kernels run attn-kv-bounds-in-rows + attn-unswitch-masked-blocks.
  RowBoundMode rowBoundMasks = RowBoundMode::Auto;
  // Non-empty: NVRTC compiles this source instead of the generated one (a
  // hand-edited kernel with the generated one's names and parameters, for
  // diagnosis: the runtime reads it from $FAOPT_CUDA_OVERRIDE_DIR). The
  // manifest is still the generated kernel's.
  std::string cudaSourceOverride;
  bool runNvrtc = true; // false: stop at CUDA C++
  bool wantCubin = true;
  std::string sourceName = "spec"; // for locations and comments
};

struct GpuKernel {
  gpu::CudaKernelSource cuda;
  gpu::NvrtcOutput binary; // empty when NVRTC did not run
  std::string manifest;    // JSON
};

struct GpuCompileResult {
  bool ok = false;
  std::string error;
  GpuKernel kernel;
};

/// Whether the pipeline runs attn-drop-listed-tile-terms for `spec` under
/// `options.dropListedTileTerms`: On always, Off never, Auto where a
/// list-driven kernel of the spec's tiles has its programs handed out at
/// run time (persistentFits; the case the H200 measured faster; in a kernel
/// without lists or droppable terms the pass changes nothing).
bool dropsListedTerms(const spec::AttentionSpec &spec,
                      const GpuCompileOptions &options);

GpuCompileResult compileForGpu(const spec::AttentionSpec &spec,
                               const GpuCompileOptions &options);

/// "sm_80" / "sm_90a" for a target name.
std::string cudaArch(const std::string &target);

/// The faopt version string that goes into manifests and cache keys.
const char *faoptVersion();

} // namespace faopt

#endif // FAOPT_COMPILER_PIPELINE_GPUCOMPILER_H
