#include <cstring>
#include <string>
// Host side of the warp-specialisation experiment (ws_kernel.cuh): runs the
// kernels faopt generates today (dense / causal d128, sm90a, included from
// gen_*.cu) and the hand-specialised ones on the same inputs, checks that
// they agree and times both (CUDA events, median of 30, 5 warm-up).
//   nvcc -arch=sm_90a -std=c++17 --use_fast_math -I../../../compiler/targets/gpu/device
//        -I. ws_main.cu -o ws -L/usr/local/cuda/lib64/stubs -lcuda
#include <cuda.h>
#include <cuda_runtime.h>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "ws_kernel.cuh"
#include "faopt_sm90_tma_requests.cuh"
#include "direct_issue.cuh"
#include "gen_dense.cu"
#include "gen_causal.cu"
#include "gen_dense_overlap.cu"
#include "gen_causal_overlap.cu"
#include "gen_dense_direct.cu"
#include "gen_causal_direct.cu"
#include "gen_dense_overlap_turns.cu"
#include "gen_causal_overlap_turns.cu"
#include "gen_dense_slice.cu"
#include "gen_causal_slice.cu"

template <> struct Logits<false> {
  static constexpr auto unmasked = dense_bf16_d128_logits;
  static constexpr auto masked = dense_bf16_d128_masked_logits;
};
template <> struct Logits<true> {
  static constexpr auto unmasked = causal_bf16_d128_logits;
  static constexpr auto masked = causal_bf16_d128_masked_logits;
};

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

static ws::TmaMap tensorMap(void *p, int64_t b, int64_t h, int64_t s, int64_t d) {
  CUtensorMap m;
  cuuint64_t dims[4] = {(cuuint64_t)d, (cuuint64_t)s, (cuuint64_t)h, (cuuint64_t)b};
  cuuint64_t strides[3] = {(cuuint64_t)(d * 2), (cuuint64_t)(s * d * 2),
                           (cuuint64_t)(h * s * d * 2)};
  cuuint32_t box[4] = {64, 128, 1, 1}, estr[4] = {1, 1, 1, 1};
  CUresult r = cuTensorMapEncodeTiled(
      &m, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 4, p, dims, strides, box, estr,
      CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
      CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  if (r != CUDA_SUCCESS) {
    std::printf("cuTensorMapEncodeTiled failed: %d\n", (int)r);
    std::exit(1);
  }
  ws::TmaMap out;
  static_assert(sizeof(out) == sizeof(m), "map size");
  std::memcpy(&out, &m, sizeof m);
  return out;
}

static unsigned short toBf16(float x) {
  unsigned u;
  std::memcpy(&u, &x, 4);
  return (unsigned short)((u + 0x7fff + ((u >> 16) & 1)) >> 16);
}
static float fromBf16(unsigned short x) {
  unsigned u = (unsigned)x << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
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

int main(int argc, char **argv) {
  const bool timeIt = argc < 2;
  struct Shape { int64_t b, h, s; bool causal; };
  std::vector<Shape> shapes = {{1, 3, 1000, false}, {2, 2, 1000, true},
                               {1, 16, 16384, false}, {1, 16, 16384, true},
                               {2, 16, 8192, false}, {2, 16, 8192, true},
                               {4, 16, 4096, true}, {8, 16, 2048, true}};
  if (argc > 1 && std::string(argv[1]) == "--small")
    shapes.resize(2);
  int failures = 0;
  for (const Shape &sh : shapes) {
    const int64_t d = 128, n = sh.b * sh.h * sh.s * d;
    std::vector<unsigned short> host(3 * n);
    srand(1);
    for (auto &x : host) x = toBf16((rand() / (float)RAND_MAX - 0.5f) * 4.0f);
    void *qkv, *oRef, *oWs;
    float *lRef, *lWs;
    CK(cudaMalloc(&qkv, 3 * n * 2));
    CK(cudaMalloc(&oRef, n * 2));
    CK(cudaMalloc(&oWs, n * 2));
    CK(cudaMalloc(&lRef, sh.b * sh.h * sh.s * 4));
    CK(cudaMalloc(&lWs, sh.b * sh.h * sh.s * 4));
    CK(cudaMemcpy(qkv, host.data(), 3 * n * 2, cudaMemcpyHostToDevice));
    char *qp = (char *)qkv, *kp = qp + n * 2, *vp = kp + n * 2;
    T4 q = view4(qp, sh.b, sh.h, sh.s, d), k = view4(kp, sh.b, sh.h, sh.s, d),
       v = view4(vp, sh.b, sh.h, sh.s, d);
    T4 o1 = view4(oRef, sh.b, sh.h, sh.s, d), o2 = view4(oWs, sh.b, sh.h, sh.s, d);
    T3 l1 = view3(lRef, sh.b, sh.h, sh.s), l2 = view3(lWs, sh.b, sh.h, sh.s);
    ws::TmaMap mq = tensorMap(qp, sh.b, sh.h, sh.s, d), mk = tensorMap(kp, sh.b, sh.h, sh.s, d),
               mv = tensorMap(vp, sh.b, sh.h, sh.s, d);
    dim3 grid((unsigned)((sh.s + 127) / 128 * sh.b * sh.h));
    auto gen = sh.causal ? causal_bf16_d128 : dense_bf16_d128;
    CK(cudaFuncSetAttribute(gen, cudaFuncAttributeMaxDynamicSharedMemorySize, 164480));
    auto runGen = [&] { gen<<<grid, 384, 164480>>>(q, k, v, o1, l1, mq, mk, mv); };
    auto wsPP = sh.causal ? ws_attention<true, true> : ws_attention<false, true>;
    auto wsNo = sh.causal ? ws_attention<true, false> : ws_attention<false, false>;
    auto tmaPP = sh.causal ? tma_attention<true, true> : tma_attention<false, true>;
    auto tmaNo = sh.causal ? tma_attention<true, false> : tma_attention<false, false>;
    for (auto f : {wsPP, wsNo, tmaPP, tmaNo})
      CK(cudaFuncSetAttribute(f, cudaFuncAttributeMaxDynamicSharedMemorySize, 163840 + 128));
    runGen();
    CK(cudaDeviceSynchronize());
    std::vector<unsigned short> ref(n), got(n);
    std::vector<float> lr(sh.b * sh.h * sh.s), lg(lr.size());
    CK(cudaMemcpy(ref.data(), oRef, n * 2, cudaMemcpyDeviceToHost));
    CK(cudaMemcpy(lr.data(), lRef, lr.size() * 4, cudaMemcpyDeviceToHost));
    const char *names[4] = {"ws+pingpong", "ws", "tma+pingpong", "tma"};
    const unsigned threads[4] = {384, 384, 256, 256};
    int which = 0;
    double flops = 4.0 * sh.b * sh.h * double(sh.s) * sh.s * d * (sh.causal ? 0.5 : 1.0);
    float genMs = timeIt ? medianMs(runGen) : 0;
    std::printf("b=%lld h=%lld s=%lld %s: generated %.3f ms %.1f TFLOP/s\n",
                (long long)sh.b, (long long)sh.h, (long long)sh.s,
                sh.causal ? "causal" : "dense", genMs, flops / genMs / 1e9);
    // The same kernel compiled with attn-overlap-softmax (P V of block
    // j - 1 runs while block j's softmax does), and the plain one with
    // thread 0 issuing the TMA loads itself instead of a producer
    // warpgroup (faopt::tma::*_direct, 256 threads). Both together would
    // deadlock: thread 0 would wait, at the top of iteration j, for the
    // release of V(j - 1) that its own warp makes later in iteration j.
    auto variant = [&](const char *name, auto kernel, unsigned threads) {
      CK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, 164480));
      CK(cudaMemset(oWs, 0xff, n * 2));
      auto run = [&] { kernel<<<grid, threads, 164480>>>(q, k, v, o2, l2, mq, mk, mv); };
      run();
      CK(cudaGetLastError());
      CK(cudaDeviceSynchronize());
      CK(cudaMemcpy(got.data(), oWs, n * 2, cudaMemcpyDeviceToHost));
      CK(cudaMemcpy(lg.data(), lWs, lg.size() * 4, cudaMemcpyDeviceToHost));
      double maxErr = 0, maxLse = 0;
      for (int64_t i = 0; i < n; ++i)
        maxErr = std::max(maxErr, (double)std::fabs(fromBf16(ref[i]) - fromBf16(got[i])));
      for (size_t i = 0; i < lr.size(); ++i)
        maxLse = std::max(maxLse, (double)std::fabs(lr[i] - lg[i]));
      bool ok = maxErr <= 1e-2 && maxLse <= 1e-3 && !std::isnan(maxErr);
      failures += !ok;
      float ms = timeIt ? medianMs(run) : 0;
      std::printf("    %-20s %.3f ms %.1f TFLOP/s (%.3fx generated)  max|o diff| %.2e  max|lse diff| %.2e %s\n",
                  name, ms, flops / ms / 1e9, genMs / ms, maxErr, maxLse, ok ? "ok" : "MISMATCH");
    };
    variant("gen slice", sh.causal ? causal_slice_bf16_d128 : dense_slice_bf16_d128, 384);
    variant("gen+overlap", sh.causal ? causal_overlap_bf16_d128 : dense_overlap_bf16_d128, 384);
    variant("gen+overlap+turns",
            sh.causal ? causal_overlap_turns_bf16_d128 : dense_overlap_turns_bf16_d128, 384);
    variant("gen direct", sh.causal ? causal_direct_bf16_d128 : dense_direct_bf16_d128, 256);
    for (auto f : {wsPP, wsNo, tmaPP, tmaNo}) {
      const unsigned nt = threads[which];
      CK(cudaMemset(oWs, 0xff, n * 2));
      auto run = [&] { f<<<grid, nt, 163840 + 128>>>(q, k, v, o2, l2, mq, mk, mv); };
      run();
      CK(cudaGetLastError());
      CK(cudaDeviceSynchronize());
      CK(cudaMemcpy(got.data(), oWs, n * 2, cudaMemcpyDeviceToHost));
      CK(cudaMemcpy(lg.data(), lWs, lg.size() * 4, cudaMemcpyDeviceToHost));
      double maxErr = 0, maxLse = 0;
      for (int64_t i = 0; i < n; ++i)
        maxErr = std::max(maxErr, (double)std::fabs(fromBf16(ref[i]) - fromBf16(got[i])));
      for (size_t i = 0; i < lr.size(); ++i)
        maxLse = std::max(maxLse, (double)std::fabs(lr[i] - lg[i]));
      bool ok = maxErr <= 1e-2 && maxLse <= 1e-3 && !std::isnan(maxErr);
      failures += !ok;
      float ms = timeIt ? medianMs(run) : 0;
      std::printf("    %-12s %.3f ms %.1f TFLOP/s (%.3fx generated)  max|o diff| %.2e  max|lse diff| %.2e %s\n",
                  names[which++], ms, flops / ms / 1e9, genMs / ms, maxErr, maxLse,
                  ok ? "ok" : "MISMATCH");
    }
    CK(cudaFree(qkv)); CK(cudaFree(oRef)); CK(cudaFree(oWs)); CK(cudaFree(lRef)); CK(cudaFree(lWs));
  }
  std::printf("%s\n", failures ? "FAILED" : "all match");
  return failures != 0;
}
