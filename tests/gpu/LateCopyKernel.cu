//===- LateCopyKernel.cu - a kernel that lets the next one start early ----===//
#include "LateCopyKernel.h"

#include <cuda_runtime.h>

namespace faopt::test {
namespace {

__global__ void lateCopyKernel(int32_t *dst, const int32_t *src,
                               int64_t count, uint64_t delayNs) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
  uint64_t start, now;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(start));
  do {
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(now));
  } while (now - start < delayNs);
  for (int64_t i = threadIdx.x; i < count; i += blockDim.x)
    dst[i] = src[i];
}

} // namespace

int lateCopy(int32_t *dst, const int32_t *src, int64_t count,
             uint64_t delayNs) {
  lateCopyKernel<<<1, 256>>>(dst, src, count, delayNs);
  return static_cast<int>(cudaGetLastError());
}

} // namespace faopt::test
