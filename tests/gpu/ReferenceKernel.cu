//===- ReferenceKernel.cu - naive attention on the GPU, in double ---------===//
#include "ReferenceKernel.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <math.h>

namespace faopt::test {
namespace {

__device__ double load(RefElem e, const void *p, int64_t i) {
  if (e == RefElem::BF16)
    return (double)__bfloat162float(((const __nv_bfloat16 *)p)[i]);
  return (double)__half2float(((const __half *)p)[i]);
}

__device__ double blockReduce(double x, bool isMax, double *scratch) {
  for (int o = 16; o > 0; o >>= 1) {
    double y = __shfl_xor_sync(0xffffffffu, x, o);
    x = isMax ? fmax(x, y) : x + y;
  }
  int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  __syncthreads();
  if (lane == 0)
    scratch[warp] = x;
  __syncthreads();
  double r = scratch[0];
  for (int w = 1; w < (int)blockDim.x / 32; ++w)
    r = isMax ? fmax(r, scratch[w]) : r + scratch[w];
  return r;
}

__global__ void referenceKernel(RefArgs a) {
  extern __shared__ double s[]; // [seqK] scores, then 32 for reductions
  double *reduce = s + a.seqK;
  int64_t i = blockIdx.x, bh = blockIdx.y;
  int64_t b = bh / a.heads, h = bh % a.heads, kh = h / (a.heads / a.kvHeads);
  const int64_t qOff = b * a.q.stride[0] + h * a.q.stride[1] + i * a.q.stride[2];
  double localMax = -INFINITY;
  for (int64_t j = threadIdx.x; j < a.seqK; j += blockDim.x) {
    bool keep = a.mask == RefMask::None || i >= j;
    double x = -INFINITY;
    if (keep) {
      const int64_t kOff = b * a.k.stride[0] + kh * a.k.stride[1] + j * a.k.stride[2];
      double dot = 0;
      for (int64_t d = 0; d < a.dQK; ++d)
        dot += load(a.elem, a.q.data, qOff + d) * load(a.elem, a.k.data, kOff + d);
      x = dot * a.scale;
    }
    s[j] = x;
    localMax = fmax(localMax, x);
  }
  double m = blockReduce(localMax, true, reduce);
  double localSum = 0;
  for (int64_t j = threadIdx.x; j < a.seqK; j += blockDim.x) {
    double p = m == -INFINITY ? 0.0 : exp(s[j] - m);
    s[j] = p;
    localSum += p;
  }
  double l = blockReduce(localSum, false, reduce);
  __syncthreads();
  float *o = a.o + ((b * a.heads + h) * a.seqQ + i) * a.dV;
  for (int64_t d = threadIdx.x; d < a.dV; d += blockDim.x) {
    double acc = 0;
    for (int64_t j = 0; j < a.seqK; ++j)
      if (s[j] != 0)
        acc += s[j] * load(a.elem, a.v.data,
                           b * a.v.stride[0] + kh * a.v.stride[1] +
                               j * a.v.stride[2] + d);
    o[d] = l == 0 ? 0.0f : (float)(acc / l);
  }
  if (threadIdx.x == 0)
    a.lse[(b * a.heads + h) * a.seqQ + i] =
        l == 0 ? -INFINITY : (float)(m + log(l));
}

} // namespace

int referenceAttention(const RefArgs &a) {
  if (a.seqQ == 0 || a.batch == 0)
    return 0;
  size_t smem = (a.seqK + 32) * sizeof(double);
  if (smem > 48 * 1024)
    cudaFuncSetAttribute(referenceKernel,
                         cudaFuncAttributeMaxDynamicSharedMemorySize,
                         (int)smem);
  dim3 grid((unsigned)a.seqQ, (unsigned)(a.batch * a.heads));
  referenceKernel<<<grid, 128, smem>>>(a);
  return (int)cudaGetLastError();
}

} // namespace faopt::test
