//===- Driver.cpp - the CUDA driver, loaded with dlopen -------------------===//
#include "runtime/Driver.h"

#include <dlfcn.h>
#include <mutex>

namespace faopt::rt {

std::string Driver::describe(const char *call, CUresult r) const {
  const char *name = "?", *text = "?";
  if (getErrorName)
    getErrorName(r, &name);
  if (getErrorString)
    getErrorString(r, &text);
  return std::string(call) + " failed: " + (name ? name : "?") + ": " +
         (text ? text : "?");
}

const Driver &driver() {
  static Driver d;
  static std::once_flag once;
  std::call_once(once, [] {
    void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
      const char *why = dlerror();
      d.loadError = std::string("no CUDA driver (libcuda.so.1: ") +
                    (why ? why : "not found") +
                    "): kernels can be compiled but not launched";
      return;
    }
    auto sym = [&](auto &fn, const char *name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(
          dlsym(lib, name));
      if (!fn && d.loadError.empty())
        d.loadError = std::string("the CUDA driver lacks ") + name;
    };
    sym(d.init, "cuInit");
    sym(d.driverGetVersion, "cuDriverGetVersion");
    sym(d.deviceGet, "cuDeviceGet");
    sym(d.deviceGetCount, "cuDeviceGetCount");
    sym(d.deviceGetAttribute, "cuDeviceGetAttribute");
    sym(d.devicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain");
    sym(d.devicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2");
    sym(d.ctxGetCurrent, "cuCtxGetCurrent");
    sym(d.ctxSetCurrent, "cuCtxSetCurrent");
    sym(d.moduleLoadData, "cuModuleLoadData");
    sym(d.moduleUnload, "cuModuleUnload");
    sym(d.moduleGetFunction, "cuModuleGetFunction");
    sym(d.funcSetAttribute, "cuFuncSetAttribute");
    sym(d.funcGetAttribute, "cuFuncGetAttribute");
    sym(d.launchKernel, "cuLaunchKernel");
    d.launchKernelEx = reinterpret_cast<decltype(d.launchKernelEx)>(
        dlsym(lib, "cuLaunchKernelEx")); // optional
    sym(d.memAlloc, "cuMemAlloc_v2");
    sym(d.memFree, "cuMemFree_v2");
    sym(d.memcpyHtoD, "cuMemcpyHtoD_v2");
    sym(d.memPoolCreate, "cuMemPoolCreate");
    sym(d.memPoolDestroy, "cuMemPoolDestroy");
    sym(d.memPoolSetAttribute, "cuMemPoolSetAttribute");
    sym(d.memAllocFromPoolAsync, "cuMemAllocFromPoolAsync");
    sym(d.memFreeAsync, "cuMemFreeAsync");
    sym(d.memsetD32Async, "cuMemsetD32Async");
    sym(d.tensorMapEncodeTiled, "cuTensorMapEncodeTiled");
    sym(d.getErrorString, "cuGetErrorString");
    sym(d.getErrorName, "cuGetErrorName");
    if (!d.available())
      return;
    if (CUresult r = d.init(0); r != CUDA_SUCCESS) {
      d.loadError = d.describe("cuInit", r) +
                    " (kernels can be compiled but not launched)";
      return;
    }
    int count = 0;
    if (d.deviceGetCount(&count) != CUDA_SUCCESS || count == 0)
      d.loadError = "the CUDA driver sees no device: kernels can be "
                    "compiled but not launched";
  });
  return d;
}

} // namespace faopt::rt
