//===- Driver.h - the CUDA driver, loaded with dlopen -----------*- C++ -*-===//
#ifndef FAOPT_RUNTIME_DRIVER_H
#define FAOPT_RUNTIME_DRIVER_H

#include <cuda.h> // types and constants only; nothing is linked
#include <string>

namespace faopt::rt {

/// The driver entry points faopt uses, resolved from libcuda.so.1 once.
struct Driver {
  CUresult (*init)(unsigned) = nullptr;
  CUresult (*driverGetVersion)(int *) = nullptr;
  CUresult (*deviceGet)(CUdevice *, int) = nullptr;
  CUresult (*deviceGetCount)(int *) = nullptr;
  CUresult (*deviceGetAttribute)(int *, CUdevice_attribute, CUdevice) = nullptr;
  CUresult (*devicePrimaryCtxRetain)(CUcontext *, CUdevice) = nullptr;
  CUresult (*devicePrimaryCtxRelease)(CUdevice) = nullptr;
  CUresult (*ctxGetCurrent)(CUcontext *) = nullptr;
  CUresult (*ctxSetCurrent)(CUcontext) = nullptr;
  CUresult (*moduleLoadData)(CUmodule *, const void *) = nullptr;
  CUresult (*moduleUnload)(CUmodule) = nullptr;
  CUresult (*moduleGetFunction)(CUfunction *, CUmodule, const char *) = nullptr;
  CUresult (*funcSetAttribute)(CUfunction, CUfunction_attribute, int) = nullptr;
  CUresult (*funcGetAttribute)(int *, CUfunction_attribute, CUfunction) = nullptr;
  CUresult (*launchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned,
                           unsigned, unsigned, unsigned, CUstream, void **,
                           void **) = nullptr;
  // Launches with attributes (programmatic dependent launch); optional:
  // nullptr on a driver without it, and launches fall back to launchKernel.
  CUresult (*launchKernelEx)(const CUlaunchConfig *, CUfunction, void **,
                             void **) = nullptr;
  // Static tensors of a spec (a block layout), uploaded once per kernel.
  CUresult (*memAlloc)(CUdeviceptr *, size_t) = nullptr;
  CUresult (*memFree)(CUdeviceptr) = nullptr;
  CUresult (*memcpyHtoD)(CUdeviceptr, const void *, size_t) = nullptr;
  // Stream-ordered workspace (the kv-block lists of data-dependent masks)
  // from faopt's own pool, which keeps its memory between launches.
  CUresult (*memPoolCreate)(CUmemoryPool *, const CUmemPoolProps *) = nullptr;
  CUresult (*memPoolDestroy)(CUmemoryPool) = nullptr;
  CUresult (*memPoolSetAttribute)(CUmemoryPool, CUmemPool_attribute,
                                  void *) = nullptr;
  CUresult (*memAllocFromPoolAsync)(CUdeviceptr *, size_t, CUmemoryPool,
                                    CUstream) = nullptr;
  CUresult (*memFreeAsync)(CUdeviceptr, CUstream) = nullptr;
  // Zeroes the run-time program hand-out's counter before each launch.
  CUresult (*memsetD32Async)(CUdeviceptr, unsigned int, size_t,
                             CUstream) = nullptr;
  // TMA descriptors of the sm90a kernels that copy with a producer warpgroup.
  CUresult (*tensorMapEncodeTiled)(CUtensorMap *, CUtensorMapDataType, cuuint32_t,
                                   void *, const cuuint64_t *, const cuuint64_t *,
                                   const cuuint32_t *, const cuuint32_t *,
                                   CUtensorMapInterleave, CUtensorMapSwizzle,
                                   CUtensorMapL2promotion,
                                   CUtensorMapFloatOOBfill) = nullptr;
  CUresult (*getErrorString)(CUresult, const char **) = nullptr;
  CUresult (*getErrorName)(CUresult, const char **) = nullptr;

  std::string loadError; // non-empty: no usable driver
  bool available() const { return loadError.empty(); }
  /// "cuLaunchKernel failed: CUDA_ERROR_...: <description>".
  std::string describe(const char *call, CUresult r) const;
};

/// Loads (once) and returns the driver; check available().
const Driver &driver();

} // namespace faopt::rt

#endif // FAOPT_RUNTIME_DRIVER_H
