// Probe (2026-12-01, session 11): why the persistent d128 kernel
// (attn-persistent-programs) is slower. Times the compiled dense and
// sliding-window kernels with and without it, built by nvcc (gen_*.cu) and
// by NVRTC (the runtime's cubins), under different launches. README.md has
// the commands and results; inputs come from ./make_inputs.sh.
#include "faopt_sm90_tma.cuh"
#include "gen_dense_p.cu"
#include "gen_dense_n.cu"
#include "gen_window_p.cu"
#include "gen_window_n.cu"
#include "../common/probe_util.h"
#include <unistd.h>

int main() {
  const int64_t B = 2, H = 16, S = 8192, d = 128, n = B * H * S * d;
  const ProbeBuffers buffers = probeBuffers(n, d);
  void *qkv = buffers.qkv, *o = buffers.o;
  float *l = buffers.lse;
  char *qp = (char *)qkv, *kp = qp + n * 2, *vp = kp + n * 2;
  T4 q = view4(qp, B, H, S, d), k = view4(kp, B, H, S, d), v = view4(vp, B, H, S, d);
  T4 ov = view4(o, B, H, S, d);
  T3 lv = view3(l, B, H, S);
  // Persistent kernels store O by TMA (session 13): o's map comes last.
  faopt::TmaMap mq = tensorMap(qp, B, H, S, d), mk = tensorMap(kp, B, H, S, d),
                mv = tensorMap(vp, B, H, S, d), mo = tensorMap(o, B, H, S, d);
  const unsigned programs = (unsigned)((S + 127) / 128 * B * H);
  int sms = 0;
  CK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0));
  const double flops = 4.0 * B * H * double(S) * S * d;
  CK(cudaFuncSetAttribute(dense_p, cudaFuncAttributeMaxDynamicSharedMemorySize, 232448));
  CK(cudaFuncSetAttribute(dense_n, cudaFuncAttributeMaxDynamicSharedMemorySize, 232448));
  struct Run { const char *name; bool persistent; unsigned grid; int smem; };
  std::vector<Run> runs = {
      {"one CTA per program, 164 KiB (as shipped before)", false, programs, 163968},
      {"persistent, SMs CTAs", true, (unsigned)sms, 196736},
      {"one CTA per program, 197 KiB requested", false, programs, 196736},
      {"persistent code, one program per CTA", true, programs, 196736},
  };
  // The same kernels as NVRTC compiles them for the runtime
  // (faopt-compile --emit cubin), loaded with the driver API.
  struct Cubin { const char *name, *path, *fn; unsigned grid; int smem, attr; };
  std::vector<Cubin> cubins = {
      {"NVRTC, one CTA per program", "rt_n.cubin", "dense_n", programs, 163968, 163968},
      {"NVRTC, persistent, SMs CTAs", "rt_p.cubin", "dense_p", (unsigned)sms, 196736, 196736},
      {"NVRTC, one CTA per program, attr 227 KiB", "rt_n.cubin", "dense_n", programs, 163968, 232448},
      {"NVRTC, persistent, attr 227 KiB", "rt_p.cubin", "dense_p", (unsigned)sms, 196736, 232448},
  };
  // A kernel reads as many parameters as it has: o's map only the
  // persistent ones.
  void *params[9] = {&q, &k, &v, &ov, &lv, &mq, &mk, &mv, &mo};
  // PROBE_NCU: each NVRTC cubin once (ncu profiles the launches).
  if (getenv("PROBE_NCU")) {
    for (int i = 0; i < 2; ++i) {
      CUmodule mod;
      CUfunction fn;
      const Cubin &c = cubins[i];
      if (cuModuleLoad(&mod, c.path) != CUDA_SUCCESS ||
          cuModuleGetFunction(&fn, mod, c.fn) != CUDA_SUCCESS)
        return 1;
      cuFuncSetAttribute(fn, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, c.attr);
      cuLaunchKernel(fn, c.grid, 1, 1, 384, 1, 1, c.smem, 0, params, nullptr);
      CK(cudaDeviceSynchronize());
    }
    return 0;
  }
  for (int rep = 0; rep < (getenv("PROBE_WINDOW_ONLY") ? 0 : 2); ++rep)
    for (const Cubin &c : cubins) {
      CUmodule mod;
      CUfunction fn;
      if (cuModuleLoad(&mod, c.path) != CUDA_SUCCESS ||
          cuModuleGetFunction(&fn, mod, c.fn) != CUDA_SUCCESS) {
        std::printf("cannot load %s\n", c.path);
        continue;
      }
      cuFuncSetAttribute(fn, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, c.attr);
      CK(cudaDeviceSynchronize());
      usleep(1500 * 1000);
      float ms = medianMs([&] {
        cuLaunchKernel(fn, c.grid, 1, 1, 384, 1, 1, c.smem, 0, params, nullptr);
      });
      std::printf("%-52s grid %5u smem %6d: %.3f ms %.1f TFLOP/s\n", c.name, c.grid, c.smem, ms, flops / ms / 1e9);
    }
  if (getenv("PROBE_CUBINS_ONLY"))
    return 0;
  // Sliding window 1024 (causal, 9 kv-blocks per program): nvcc and NVRTC
  // builds, persistent or not. Effective FLOPs: the attended pairs.
  {
    int64_t window = 1023;
    double pairs = 0;
    for (int64_t i = 0; i < S; ++i) pairs += std::min<int64_t>(i + 1, window + 1);
    const double wflops = 4.0 * B * H * pairs * d;
    CK(cudaFuncSetAttribute(window_p, cudaFuncAttributeMaxDynamicSharedMemorySize, 196736));
    CK(cudaFuncSetAttribute(window_n, cudaFuncAttributeMaxDynamicSharedMemorySize, 163968));
    CUmodule mp, mn;
    CUfunction fp = nullptr, fn = nullptr;
    if (cuModuleLoad(&mp, "rt_window_p.cubin") == CUDA_SUCCESS) cuModuleGetFunction(&fp, mp, "window_p");
    if (cuModuleLoad(&mn, "rt_window_n.cubin") == CUDA_SUCCESS) cuModuleGetFunction(&fn, mn, "window_n");
    cuFuncSetAttribute(fp, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, 196736);
    cuFuncSetAttribute(fn, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, 163968);
    void *wparams[10] = {&q, &k, &v, &ov, &lv, &window, &mq, &mk, &mv, &mo};
    for (int rep = 0; rep < 3; ++rep) {
      struct W { const char *name; int kind; };
      for (W w : {W{"window nvcc, one CTA per program", 0}, W{"window nvcc, persistent", 1},
                  W{"window NVRTC, one CTA per program", 2}, W{"window NVRTC, persistent", 3}}) {
        CK(cudaDeviceSynchronize());
        usleep(1000 * 1000);
        float ms = medianMs([&] {
          switch (w.kind) {
          case 0: window_n<<<programs, 384, 163968>>>(q, k, v, ov, lv, window, mq, mk, mv); break;
          case 1: window_p<<<sms, 384, 196736>>>(q, k, v, ov, lv, window, mq, mk, mv, mo); break;
          case 2: cuLaunchKernel(fn, programs, 1, 1, 384, 1, 1, 163968, 0, wparams, nullptr); break;
          case 3: cuLaunchKernel(fp, sms, 1, 1, 384, 1, 1, 196736, 0, wparams, nullptr); break;
          }
        });
        CK(cudaGetLastError());
        std::printf("%-52s: %.3f ms %.1f TFLOP/s\n", w.name, ms, wflops / ms / 1e9);
      }
    }
  }
  if (getenv("PROBE_WINDOW_ONLY"))
    return 0;
  // Alternating, with idle time between cases: on the H200 a case timed
  // after a few hundred ms of back-to-back launches reads lower (power).
  for (int rep = 0; rep < 3; ++rep)
    for (const Run &r : runs) {
      CK(cudaDeviceSynchronize());
      usleep(1500 * 1000);
      float ms = medianMs([&] {
        if (r.persistent)
          dense_p<<<r.grid, 384, r.smem>>>(q, k, v, ov, lv, mq, mk, mv, mo);
        else
          dense_n<<<r.grid, 384, r.smem>>>(q, k, v, ov, lv, mq, mk, mv);
      });
      CK(cudaGetLastError());
      std::printf("%-52s grid %5u smem %6d: %.3f ms %.1f TFLOP/s\n", r.name, r.grid, r.smem, ms, flops / ms / 1e9);
    }
  return 0;
}
