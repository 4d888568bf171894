//===- Nvrtc.h - CUDA C++ to PTX and cubin with NVRTC -----------*- C++ -*-===//
//
// NVRTC is loaded with dlopen at first use (libnvrtc.so.13 from the loader
// path, $CUDA_HOME/lib64 or /usr/local/cuda/lib64), so binaries run on
// machines without CUDA until they actually compile a GPU kernel.
//
//===----------------------------------------------------------------------===//
#ifndef FAOPT_COMPILER_TARGETS_GPU_NVRTC_H
#define FAOPT_COMPILER_TARGETS_GPU_NVRTC_H

#include <string>
#include <utility>
#include <vector>

namespace faopt::gpu {

struct NvrtcOutput {
  std::string ptx;
  std::string cubin; // empty unless requested
  std::string log;   // NVRTC's log, including ptxas's resource report
  // From ptxas's report (-1 when absent).
  int registers = -1;
  int spillStores = -1, spillLoads = -1, stackBytes = -1;
  // ptxas serialised the kernel's wgmma instructions (C7513: an instruction
  // other than a wgmma defines a wgmma's input registers while wgmmas are
  // in flight; C7520: a branch around a wgmma; any "wgmma.mma_async
  // instructions are serialized" line). A silent slowdown of every product,
  // so the manifest says it and faopt-compile warns.
  bool wgmmaSerialized = false;
};

struct NvrtcResult {
  bool ok = false;
  NvrtcOutput output;
  std::string error; // when !ok: what failed, with NVRTC's log
};

/// Compiles `source` (named `name` in diagnostics) for `arch` ("sm_80",
/// "sm_90a"). `headers` are (include name, contents) pairs. Registers and
/// spills are reported for the kernel `entry` (the first one if "": a
/// module may also hold a kv-block list builder). `kernels` > 1 compiles
/// the module's kernels on parallel threads (NVRTC's --split-compile, one
/// thread per kernel; the SASS is the same: a module with a list builder
/// compiles in ~0.75-0.85 of the time on two cores); an NVRTC without the
/// option compiles them in turn.
NvrtcResult compileCuda(const std::string &source, const std::string &name,
                        const std::string &arch, bool wantCubin,
                        const std::vector<std::pair<std::string, std::string>>
                            &headers,
                        const std::string &entry = "", int kernels = 1);

/// Whether ptxas's log says it serialised the wgmma instructions of
/// `entry` (every function's if `entry` is "").
bool reportsWgmmaSerialized(const std::string &log, const std::string &entry);

/// "13.0", or "" with `error` set when NVRTC cannot be loaded.
std::string nvrtcVersion(std::string *error = nullptr);

/// The NVRTC options used for every kernel (also part of cache keys).
std::vector<std::string> nvrtcOptions(const std::string &arch);

} // namespace faopt::gpu

#endif // FAOPT_COMPILER_TARGETS_GPU_NVRTC_H
