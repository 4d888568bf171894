// Probe (session 13): do two CTAs per SM, each one consumer warpgroup of 64
// query rows (--block-q 64 --block-kv 64), hide the short programs' fixed
// costs (Q load, O store: ~4.9 of ~20 us per program in the sliding window,
// bench/experiments/short_loops) better than one CTA of 128 rows per SM?
// Times the compiler's own kernels of both shapes (nvcc builds) on window
// 1024 at 8k, documents-like short rows (dense q 8k / kv 640) and dense 8k,
// and checks the two shapes' outputs agree. The 64-row kernels come as the
// compiler makes them (the copy warpgroup hands its registers to the
// consumers: setmaxnreg 24 / 232, two CTAs still fit in 32 K registers
// each) and as "64n", without the hand-off (every thread capped at 128 by
// __launch_bounds__(256, 2), as the compiler emitted them before session 13;
// ptxas spills ~180 bytes).
#include "faopt_sm90_tma.cuh"
#include "gen_dense_128.cu"
#include "gen_dense_64.cu"
#include "gen_window_128.cu"
#include "gen_window_64.cu"
#include "gen_dense_64n.cu"
#include "gen_window_64n.cu"
#include "../common/probe_util.h"
#include <cmath>
#include <unistd.h>

struct Case {
  const char *name;
  int64_t b, h, sq, sk, window; // window < 0: dense
};

int main() {
  const int64_t d = 128;
  const Case cases[] = {
      {"window 1024, 8k (b2 h16)", 2, 16, 8192, 8192, 1023},
      {"dense q 8k kv 640 (b2 h16)", 2, 16, 8192, 640, -1},
      {"dense q 8k kv 1152 (b2 h16)", 2, 16, 8192, 1152, -1},
      {"dense 8k (b2 h16)", 2, 16, 8192, 8192, -1},
  };
  int64_t most = 0;
  for (const Case &c : cases)
    most = std::max(most, c.b * c.h * std::max(c.sq, c.sk) * d);
  const ProbeBuffers buffers = probeBuffers(most, d);
  void *qkv = buffers.qkv, *o = buffers.o;
  float *l = buffers.lse;
  const int smem128 = 163968, smem64 = 82048;
  for (auto f : {(const void *)dense_128, (const void *)window_128})
    CK(cudaFuncSetAttribute(f, cudaFuncAttributeMaxDynamicSharedMemorySize, smem128));
  for (auto f : {(const void *)dense_64, (const void *)window_64, (const void *)dense_64n,
                 (const void *)window_64n})
    CK(cudaFuncSetAttribute(f, cudaFuncAttributeMaxDynamicSharedMemorySize, smem64));
  int per128 = 0, per64 = 0;
  CK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per128, dense_128, 384, smem128));
  CK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per64, dense_64, 256, smem64));
  std::printf("CTAs per SM: 128-row tiles %d, 64-row tiles %d\n", per128, per64);
  for (const Case &c : cases) {
    char *qp = (char *)qkv, *kp = qp + most * 2, *vp = kp + most * 2;
    T4 q = view4(qp, c.b, c.h, c.sq, d), k = view4(kp, c.b, c.h, c.sk, d),
       v = view4(vp, c.b, c.h, c.sk, d), ov = view4(o, c.b, c.h, c.sq, d);
    T3 lv = view3(l, c.b, c.h, c.sq);
    double pairs = 0;
    for (int64_t i = 0; i < c.sq; ++i)
      pairs += c.window < 0 ? c.sk : std::min<int64_t>(i + 1, c.window + 1);
    const double flops = 4.0 * c.b * c.h * pairs * d;
    // kind 0: 128-row tiles, 1: 64-row without the register hand-off, 2: 64-row.
    auto launch = [&](int kind) {
      const unsigned rows = kind == 0 ? 128 : 64;
      faopt::TmaMap mq = tensorMap(qp, c.b, c.h, c.sq, d, rows),
                    mk = tensorMap(kp, c.b, c.h, c.sk, d, rows),
                    mv = tensorMap(vp, c.b, c.h, c.sk, d, rows);
      const unsigned grid = (unsigned)((c.sq + rows - 1) / rows * c.b * c.h);
      if (kind == 0) {
        if (c.window < 0)
          dense_128<<<grid, 384, smem128>>>(q, k, v, ov, lv, mq, mk, mv);
        else
          window_128<<<grid, 384, smem128>>>(q, k, v, ov, lv, c.window, mq, mk, mv);
      } else if (kind == 1) {
        if (c.window < 0)
          dense_64n<<<grid, 256, smem64>>>(q, k, v, ov, lv, mq, mk, mv);
        else
          window_64n<<<grid, 256, smem64>>>(q, k, v, ov, lv, c.window, mq, mk, mv);
      } else {
        if (c.window < 0)
          dense_64<<<grid, 256, smem64>>>(q, k, v, ov, lv, mq, mk, mv);
        else
          window_64<<<grid, 256, smem64>>>(q, k, v, ov, lv, c.window, mq, mk, mv);
      }
    };
    std::vector<std::vector<unsigned short>> outs;
    for (int kind : {0, 1, 2}) {
      CK(cudaMemset(o, 0, c.b * c.h * c.sq * d * 2));
      launch(kind);
      CK(cudaDeviceSynchronize());
      outs.emplace_back(c.b * c.h * c.sq * d);
      CK(cudaMemcpy(outs.back().data(), o, outs.back().size() * 2, cudaMemcpyDeviceToHost));
    }
    auto f32 = [](unsigned short x) {
      unsigned u = (unsigned)x << 16;
      float f;
      std::memcpy(&f, &u, 4);
      return f;
    };
    double worst = 0;
    for (size_t i = 0; i < outs[0].size(); ++i)
      worst = std::max(worst, (double)std::fabs(f32(outs[0][i]) - f32(outs[1][i])));
    const bool same64 = outs[1] == outs[2];
    std::printf("%-28s 128- vs 64-row outputs differ by at most %.3g%s; 64n vs 64 %s\n",
                c.name, worst, worst > 2e-2 ? "  MISMATCH" : "",
                same64 ? "bit-identical" : "DIFFER");
    const char *names[] = {"128-row tiles", "64-row, no hand-off", "64-row tiles"};
    for (int rep = 0; rep < 3; ++rep)
      for (int kind : {0, 1, 2}) {
        usleep(300 * 1000);
        float ms = medianMs([&] { launch(kind); });
        CK(cudaGetLastError());
        std::printf("%-28s %-20s: %.3f ms %.1f TFLOP/s\n", c.name, names[kind], ms,
                    flops / ms / 1e9);
      }
  }
  return 0;
}
