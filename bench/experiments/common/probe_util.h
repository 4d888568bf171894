// Helpers shared by the experiment probes (bench/experiments/*/): error
// checks, tensor views and TMA maps laid out as faopt's runtime builds them
// (bhsd, 64-column boxes, 128-byte swizzle), median timing with CUDA events.
#pragma once
#include <cuda.h>
#include <cuda_runtime.h>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#define CK(x)                                                                  \
  do {                                                                         \
    cudaError_t e = (x);                                                       \
    if (e != cudaSuccess) {                                                    \
      std::printf("%s:%d %s\n", __FILE__, __LINE__, cudaGetErrorString(e));    \
      std::exit(1);                                                            \
    }                                                                          \
  } while (0)

using T4 = faopt::Tensor<faopt::bf16, 4>;
using T3 = faopt::Tensor<float, 3>;

static T4 view4(void *p, int64_t b, int64_t h, int64_t s, int64_t d) {
  T4 t;
  t.data = (faopt::bf16 *)p;
  int64_t sz[4] = {b, h, s, d}, st[4] = {h * s * d, s * d, d, 1};
  for (int i = 0; i < 4; ++i) t.size[i] = sz[i], t.stride[i] = st[i];
  return t;
}
static T3 view3(float *p, int64_t b, int64_t h, int64_t s) {
  T3 t;
  t.data = p;
  int64_t sz[3] = {b, h, s}, st[3] = {h * s, s, 1};
  for (int i = 0; i < 3; ++i) t.size[i] = sz[i], t.stride[i] = st[i];
  return t;
}
/// `rows`: the box's rows, the kernel's block_q (q) or block_kv (k, v).
static faopt::TmaMap tensorMap(void *p, int64_t b, int64_t h, int64_t s, int64_t d,
                               unsigned rows = 128) {
  CUtensorMap m;
  cuuint64_t dims[4] = {(cuuint64_t)d, (cuuint64_t)s, (cuuint64_t)h, (cuuint64_t)b};
  cuuint64_t strides[3] = {(cuuint64_t)(d * 2), (cuuint64_t)(s * d * 2),
                           (cuuint64_t)(h * s * d * 2)};
  cuuint32_t box[4] = {64, rows, 1, 1}, estr[4] = {1, 1, 1, 1};
  if (cuTensorMapEncodeTiled(&m, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 4, p, dims,
                             strides, box, estr, CU_TENSOR_MAP_INTERLEAVE_NONE,
                             CU_TENSOR_MAP_SWIZZLE_128B,
                             CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
                             CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE) != CUDA_SUCCESS)
    std::exit(1);
  faopt::TmaMap out;
  std::memcpy(&out, &m, sizeof m);
  return out;
}

/// Random bf16 bit patterns in [-1, 1] (seed 1), as faopt-bench fills its
/// inputs.
static void fillRandomBf16(std::vector<unsigned short> &host) {
  srand(1);
  for (auto &x : host) {
    float f = rand() / (float)RAND_MAX * 2.0f - 1.0f;
    unsigned u;
    std::memcpy(&u, &f, 4);
    x = (unsigned short)(u >> 16);
  }
}

template <typename F> static float medianMs(F launch) {
  cudaEvent_t a, b;
  CK(cudaEventCreate(&a));
  CK(cudaEventCreate(&b));
  for (int i = 0; i < 5; ++i) launch();
  std::vector<float> t;
  for (int i = 0; i < 30; ++i) {
    CK(cudaEventRecord(a));
    launch();
    CK(cudaEventRecord(b));
    CK(cudaEventSynchronize(b));
    float ms;
    CK(cudaEventElapsedTime(&ms, a, b));
    t.push_back(ms);
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

/// Device buffers for a probe's largest case (`elems` = b h max(sq, sk) d):
/// q, k, v back to back in `qkv` (random bf16, fillRandomBf16), o, and lse
/// (elems / d floats).
struct ProbeBuffers {
  void *qkv, *o;
  float *lse;
};
static ProbeBuffers probeBuffers(int64_t elems, int64_t d) {
  std::vector<unsigned short> host(3 * elems);
  fillRandomBf16(host);
  ProbeBuffers b;
  CK(cudaMalloc(&b.qkv, 3 * elems * 2));
  CK(cudaMalloc(&b.o, elems * 2));
  CK(cudaMalloc(&b.lse, elems / d * 4));
  CK(cudaMemcpy(b.qkv, host.data(), 3 * elems * 2, cudaMemcpyHostToDevice));
  return b;
}
