// Probe (session 12): where a program's time goes in the d128 sm90a TMA
// kernels when kv loops are short. Consumer thread 0 of each CTA records
// clock64() at the probes instrument.py inserts (entry, consumer start, Q
// landed, first K landed, kv loop done, last P V done, O stored, lse
// stored), %globaltimer at entry and exit and its SM; the host prints the
// mean of each segment and the mean gap between a CTA's exit and the next
// CTA's entry on the same SM. Plain kernels (_u) are timed beside the
// instrumented ones (_t) to show the probes cost nothing. README.md has the
// commands and results; inputs come from ./make_inputs.sh.
#include "faopt_sm90_tma.cuh"
#include <string>

__device__ unsigned long long *g_rec;  // 16 words per CTA
__device__ unsigned long long *g_prog; // 8 words per program of a worker (kMaxPrograms)
constexpr int kMaxPrograms = 32;
#define FAOPT_PROBE(k) faopt_probe(k)
#define FAOPT_PROBE_P(k, i) faopt_probe_program(k, i)
#define FAOPT_PROBE_ANY(k) faopt_probe_any(k)
#define FAOPT_PROBE_PC(k, i) faopt_probe_copy(k, i)
static __device__ __forceinline__ void faopt_probe_any(int k) {
  if (g_rec != nullptr)
    g_rec[16ull * blockIdx.x + k] = clock64();
}
static __device__ __forceinline__ void faopt_probe_program(int k, int64_t i) {
  if (threadIdx.x != 0 || g_prog == nullptr || i >= kMaxPrograms)
    return;
  g_prog[(blockIdx.x * kMaxPrograms + i) * 8 + k] = clock64();
}
// The copy thread's per-program records (slots 0 and 1; the consumers'
// thread 0 fills 2-7).
static __device__ __forceinline__ void faopt_probe_copy(int k, int64_t i) {
  if (g_prog == nullptr || i >= kMaxPrograms)
    return;
  g_prog[(blockIdx.x * kMaxPrograms + i) * 8 + k] = clock64();
}
static __device__ __forceinline__ void faopt_probe(int k) {
  if (threadIdx.x != 0 || g_rec == nullptr)
    return;
  unsigned long long *r = g_rec + 16ull * blockIdx.x;
  r[k] = clock64();
  if (k == 0 || k == 7) {
    unsigned long long t;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
    r[k == 0 ? 8 : 9] = t;
  }
  if (k == 0) {
    unsigned s;
    asm volatile("mov.u32 %0, %%smid;" : "=r"(s));
    r[10] = s;
  }
}


#include "gen_dense_u.cu"
#include "gen_dense_t.cu"
#include "gen_window_u.cu"
#include "gen_window_t.cu"
#include "gen_dense_pu.cu"
#include "gen_dense_pt.cu"
#include "gen_window_pu.cu"
#include "gen_window_pt.cu"
#include "gen_dense_pqu.cu"
#include "gen_dense_pqt.cu"
#include "gen_window_pqu.cu"
#include "gen_window_pqt.cu"
// mask_variants.py m2: the window's masked blocks as two per-row column
// bounds relative to the thread's first column (two compares against a
// constant and a select per element).
namespace mexp {
template <int M, int N, int W>
__device__ __forceinline__ faopt::Acc<M, N, W> map_window(faopt::Acc<M, N, W> s, int64_t q0,
                                                          int64_t kv0, int64_t window,
                                                          int64_t sk) {
  const int base = (int)kv0 + (faopt::lane_id() & 3) * 2;
#pragma unroll
  for (int mt = 0; mt < faopt::Acc<M, N, W>::MT; ++mt)
#pragma unroll
    for (int hh = 0; hh < 2; ++hh) {
      const int row = (int)q0 + faopt::frag_row<M, W>(mt, 2 * hh);
      const int lo = row - (int)window - base;
      const int hi = min(row, (int)sk - 1) - base;
#pragma unroll
      for (int nt = 0; nt < faopt::Acc<M, N, W>::NT; ++nt)
#pragma unroll
        for (int j = 0; j < 2; ++j) {
          float &x = s.v[mt][nt][2 * hh + j];
          x = (nt * 8 + j >= lo && nt * 8 + j <= hi) ? x : -__int_as_float(0x7f800000);
        }
    }
  return s;
}
} // namespace mexp
#include "gen_window_pu_m1.cu"
#include "gen_window_pu_m2.cu"
#include "gen_window_pu_m3.cu"
#include "gen_window_pu_m4.cu"
#include "gen_window_pu_m5.cu"
#include "gen_window_pu_m6.cu"
#include "gen_window_pr.cu"
// variants.py e4: 32-bit division when both operands fit.
namespace fastdiv {
__device__ __forceinline__ int64_t udiv(int64_t a, int64_t b) {
  if ((((uint64_t)a | (uint64_t)b) >> 32) == 0)
    return (int64_t)((uint32_t)a / (uint32_t)b);
  return (int64_t)((uint64_t)a / (uint64_t)b);
}
__device__ __forceinline__ int64_t urem(int64_t a, int64_t b) {
  if ((((uint64_t)a | (uint64_t)b) >> 32) == 0)
    return (int64_t)((uint32_t)a % (uint32_t)b);
  return (int64_t)((uint64_t)a % (uint64_t)b);
}
__device__ __forceinline__ int64_t ceil_div_u(int64_t a, int64_t b) {
  return a == 0 ? 0 : udiv(a - 1, b) + 1;
}
} // namespace fastdiv
// variants.py e5: 32-bit index math.
namespace i32 {
__device__ __forceinline__ int32_t udiv(int32_t a, int32_t b) {
  return (int32_t)((uint32_t)a / (uint32_t)b);
}
__device__ __forceinline__ int32_t urem(int32_t a, int32_t b) {
  return (int32_t)((uint32_t)a % (uint32_t)b);
}
__device__ __forceinline__ int32_t ceil_div_u(int32_t a, int32_t b) {
  return a == 0 ? 0 : (int32_t)(((uint32_t)a - 1) / (uint32_t)b + 1);
}
__device__ __forceinline__ int32_t imin(int32_t a, int32_t b) { return a < b ? a : b; }
__device__ __forceinline__ int32_t imax(int32_t a, int32_t b) { return a > b ? a : b; }
__device__ __forceinline__ int32_t floor_div(int32_t a, int32_t b) {
  int32_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}
__device__ __forceinline__ bool ult(int32_t a, int32_t b) { return (uint32_t)a < (uint32_t)b; }
} // namespace i32
#include "gen_dense_e1.cu"
#include "gen_dense_e2.cu"
#include "gen_dense_e12.cu"
#include "gen_window_e1.cu"
#include "gen_window_e2.cu"
#include "gen_window_e12.cu"
#include "gen_dense_e3.cu"
#include "gen_dense_e4.cu"
#include "gen_dense_e34.cu"
#include "gen_window_e3.cu"
#include "gen_window_e4.cu"
#include "gen_window_e34.cu"
#include "gen_dense_e5.cu"
#include "gen_dense_e35.cu"
#include "gen_window_e5.cu"
#include "gen_window_e35.cu"
#include "gen_dense_e6.cu"
#include "gen_dense_e36.cu"
#include "gen_window_e6.cu"
#include "gen_window_e36.cu"
#include "gen_dense_u_e7.cu"
#include "gen_window_u_e7.cu"
#include "../common/probe_util.h"
#include <map>
#include <unistd.h>

namespace {

struct Case {
  const char *name;
  int64_t b, h, sq, sk, window; // window < 0: the dense kernel
};

const char *kSegments[] = {"entry->consumer", "consumer->Q", "Q->K0",
                           "kv loop",         "last PV",     "O store",
                           "lse store"};

void report(const Case &c, const std::vector<unsigned long long> &rec,
            unsigned programs, float ms) {
  double seg[7] = {}, cycles = 0, ns = 0, gap = 0;
  int gaps = 0;
  std::map<unsigned, std::vector<std::pair<unsigned long long, unsigned long long>>> bySm;
  for (unsigned p = 0; p < programs; ++p) {
    const unsigned long long *r = &rec[16ull * p];
    for (int i = 0; i < 7; ++i)
      seg[i] += double(r[i + 1] - r[i]);
    cycles += double(r[7] - r[0]);
    ns += double(r[9] - r[8]);
    bySm[(unsigned)r[10]].push_back({r[8], r[9]});
  }
  unsigned long long first = ~0ull, last = 0;
  for (auto &[sm, v] : bySm) {
    std::sort(v.begin(), v.end());
    for (size_t i = 0; i + 1 < v.size(); ++i) {
      // Two CTAs at once on an SM would overlap: count only true gaps.
      if (v[i + 1].first >= v[i].second) {
        gap += double(v[i + 1].first - v[i].second);
        ++gaps;
      }
    }
    first = std::min(first, v.front().first);
    last = std::max(last, v.back().second);
  }
  const double nsPerCycle = ns / cycles;
  std::printf("%s: %u programs on %zu SMs, %.3f ms timed, %.3f ms first entry to last exit\n",
              c.name, programs, bySm.size(), ms, (last - first) * 1e-6);
  std::printf("  program %.2f us (%.0f cycles, %.3f ns/cycle):", ns / programs * 1e-3,
              cycles / programs, nsPerCycle);
  for (int i = 0; i < 7; ++i)
    std::printf(" %s %.2f", kSegments[i], seg[i] / programs * nsPerCycle * 1e-3);
  double pro[5] = {};
  for (unsigned p = 0; p < programs; ++p) {
    const unsigned long long *r = &rec[16ull * p];
    pro[0] += double(r[11] - r[0]);  // entry -> start barrier passed
    pro[1] += double(r[12] - r[0]);  // entry -> copy thread starts
    pro[2] += double(r[13] - r[0]);  // entry -> Q issued
    pro[3] += double(r[14] - r[0]);  // entry -> first V issued
    pro[4] += double(r[2] - r[0]);   // entry -> Q landed
  }
  std::printf("\n  from entry: start barrier %.2f, copy thread %.2f, Q issued %.2f, V0 issued %.2f, Q landed %.2f us",
              pro[0] / programs * nsPerCycle * 1e-3, pro[1] / programs * nsPerCycle * 1e-3,
              pro[2] / programs * nsPerCycle * 1e-3, pro[3] / programs * nsPerCycle * 1e-3,
              pro[4] / programs * nsPerCycle * 1e-3);
  std::printf("\n  gap between CTAs on an SM: %.2f us mean over %d\n",
              gaps ? gap / gaps * 1e-3 : 0.0, gaps);
}

/// Persistent kernels: per program, from the end of the worker's previous
/// program (or its consumer start) to the end of this one.
void reportPersistent(const Case &c, const std::vector<unsigned long long> &rec,
                      const std::vector<unsigned long long> &prog, unsigned workers,
                      unsigned programs) {
  double seg[6] = {}, total = 0, entry = 0, tail = 0, ns = 0, cycles = 0;
  double copyAt = 0, copyIssued = 0; // from the previous program's end
  unsigned counted = 0, copyCounted = 0;
  for (unsigned w = 0; w < workers; ++w) {
    const unsigned long long *r = &rec[16ull * w];
    entry += double(r[1] - r[0]);
    ns += double(r[9] - r[8]);
    cycles += double(r[7] - r[0]);
    unsigned long long prev = r[1];
    for (unsigned i = 0; i < (unsigned)kMaxPrograms; ++i) {
      const unsigned long long *p = &prog[(w * kMaxPrograms + i) * 8ull];
      if (p[7] == 0)
        break;
      seg[0] += double(p[2] - prev);
      if (i > 0) { // signed: the copy thread may be there before the end
        copyAt += double((long long)(p[0] - prev));
        copyIssued += double((long long)(p[1] - prev));
        ++copyCounted;
      }
      for (int k = 3; k <= 7; ++k)
        seg[k - 2] += double(p[k] - p[k - 1]);
      total += double(p[7] - prev);
      prev = p[7];
      ++counted;
    }
    tail += double(r[7] - prev);
  }
  const double f = ns / cycles * 1e-3;
  std::printf("%s, persistent: %u workers, %u of %u programs recorded, %.3f ns/cycle\n", c.name,
              workers, counted, programs, ns / cycles);
  std::printf("  worker entry->consumer %.2f us, last program->exit %.2f us\n", entry / workers * f,
              tail / workers * f);
  const char *names[] = {"prev end->Q", "Q->K0", "kv loop", "last PV", "O store", "lse store"};
  std::printf("  program %.2f us:", total / counted * f);
  for (int i = 0; i < 6; ++i)
    std::printf(" %s %.2f", names[i], seg[i] / counted * f);
  std::printf("\n");
  if (copyCounted)
    std::printf("  copy thread, from the previous program's end: reaches the Q copy %.2f us,"
                " issues it %.2f us (Q lands %.2f)\n",
                copyAt / copyCounted * f, copyIssued / copyCounted * f, seg[0] / counted * f);
}

} // namespace

int main(int argc, char **argv) {
  // `timeline base`: the plain, probed and persistent kernels only;
  // `timeline e7`: those and the TMA-store variants; `timeline q2`: those
  // and the persistent kernels with two Q tiles (--q-stages 2); `timeline
  // mask`: the window's plain and persistent kernels and mask_variants.py's
  // m1-m6 and the compiler's --row-bound-masks kernel (persistent).
  std::vector<int> kindsRun;
  const std::string only = argc > 1 ? argv[1] : "";
  if (!only.empty() && only != "base" && only != "e7" && only != "q2" && only != "mask") {
    std::printf("usage: timeline [base|e7|q2|mask]\n");
    return 1;
  }
  for (int kind = 0; kind < 24; ++kind)
    if (only == "mask" ? (kind == 0 || kind == 2 || kind >= 17)
                       : (only.empty() || kind < 4 || (only == "e7" && kind == 14) ||
                          (only == "q2" && (kind == 15 || kind == 16))))
      kindsRun.push_back(kind);
  const int64_t d = 128;
  const Case cases[] = {
      {"dense 1k (b16 h16)", 16, 16, 1024, 1024, -1},
      {"dense q 8k kv 1152 (b2 h16)", 2, 16, 8192, 1152, -1},
      {"window 1024, 8k (b2 h16)", 2, 16, 8192, 8192, 1023},
      {"dense 8k (b2 h16)", 2, 16, 8192, 8192, -1},
  };
  int64_t most = 0;
  for (const Case &c : cases)
    most = std::max(most, c.b * c.h * std::max(c.sq, c.sk) * d);
  const ProbeBuffers buffers = probeBuffers(most, d);
  void *qkv = buffers.qkv, *o = buffers.o;
  float *l = buffers.lse;
  unsigned long long *rec;
  CK(cudaMalloc(&rec, 16ull * 8 * 1024 * sizeof(unsigned long long)));
  unsigned long long *progRec;
  CK(cudaMalloc(&progRec, 8ull * kMaxPrograms * 1024 * sizeof(unsigned long long)));
  for (auto f : {(const void *)dense_u, (const void *)dense_t, (const void *)window_u,
                 (const void *)window_t, (const void *)dense_u_e1, (const void *)dense_u_e2,
                 (const void *)dense_u_e12, (const void *)window_u_e1,
                 (const void *)window_u_e2, (const void *)window_u_e12,
                 (const void *)dense_u_e3, (const void *)dense_u_e4, (const void *)dense_u_e34,
                 (const void *)window_u_e3, (const void *)window_u_e4,
                 (const void *)window_u_e34, (const void *)dense_u_e5,
                 (const void *)dense_u_e35, (const void *)window_u_e5,
                 (const void *)window_u_e35, (const void *)dense_u_e6,
                 (const void *)dense_u_e36, (const void *)window_u_e6,
                 (const void *)window_u_e36})
    CK(cudaFuncSetAttribute(f, cudaFuncAttributeMaxDynamicSharedMemorySize, 163968));
  for (auto f : {(const void *)dense_u_e7, (const void *)window_u_e7})
    CK(cudaFuncSetAttribute(f, cudaFuncAttributeMaxDynamicSharedMemorySize, 163968));
  for (auto f : {(const void *)dense_pu, (const void *)dense_pt, (const void *)window_pu,
                 (const void *)window_pt})
    CK(cudaFuncSetAttribute(f, cudaFuncAttributeMaxDynamicSharedMemorySize, 196736));
  for (auto f : {(const void *)dense_pqu, (const void *)dense_pqt, (const void *)window_pqu,
                 (const void *)window_pqt})
    CK(cudaFuncSetAttribute(f, cudaFuncAttributeMaxDynamicSharedMemorySize, 229504));
  for (auto f : {(const void *)window_pu_m1, (const void *)window_pu_m2,
                 (const void *)window_pu_m3, (const void *)window_pu_m4,
                 (const void *)window_pu_m5, (const void *)window_pu_m6,
                 (const void *)window_pr})
    CK(cudaFuncSetAttribute(f, cudaFuncAttributeMaxDynamicSharedMemorySize, 196736));
  int sms = 0;
  CK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0));
  for (const Case &c : cases) {
    char *qp = (char *)qkv, *kp = qp + most * 2, *vp = kp + most * 2;
    T4 q = view4(qp, c.b, c.h, c.sq, d), k = view4(kp, c.b, c.h, c.sk, d),
       v = view4(vp, c.b, c.h, c.sk, d), ov = view4(o, c.b, c.h, c.sq, d);
    T3 lv = view3(l, c.b, c.h, c.sq);
    faopt::TmaMap mq = tensorMap(qp, c.b, c.h, c.sq, d), mk = tensorMap(kp, c.b, c.h, c.sk, d),
                  mv = tensorMap(vp, c.b, c.h, c.sk, d);
    const unsigned programs = (unsigned)((c.sq + 127) / 128 * c.b * c.h);
    double pairs = 0;
    for (int64_t i = 0; i < c.sq; ++i)
      pairs += c.window < 0 ? c.sk : std::min<int64_t>(i + 1, c.window + 1);
    const double flops = 4.0 * c.b * c.h * pairs * d;
    const unsigned workers = std::min<unsigned>(programs, (unsigned)sms);
    // kind: 0 plain, 1 probes, 2 persistent plain, 3 persistent probes,
    // 4-13 variants.py's e1, e2, e12, e3, e4, e34, e5, e35, e6, e36; 14 tma_store.py's e7;
    // 15 persistent with two Q tiles, 16 the same with probes; 17-22
    // mask_variants.py's m1-m6, 23 the compiler's --row-bound-masks kernel (persistent; the window case only).
    auto launch = [&](int kind) {
      const bool twoQ = kind == 15 || kind == 16;
      const bool persistent = kind == 2 || kind == 3 || twoQ || kind >= 17;
      if (kind >= 17) {
        decltype(&window_pu_m1) m[] = {window_pu_m1, window_pu_m2, window_pu_m3, window_pu_m4,
                                       window_pu_m5, window_pu_m6, window_pr};
        m[kind - 17]<<<workers, 384, 196736>>>(
            q, k, v, ov, lv, c.window, mq, mk, mv, tensorMap(o, c.b, c.h, c.sq, d));
        return;
      }
      const unsigned grid = persistent ? workers : programs;
      const int smem = twoQ ? 229504 : persistent ? 196736 : 163968;
      decltype(&dense_u) denses[] = {dense_u, dense_t, nullptr, nullptr, // 2, 3: above
                                     dense_u_e1, dense_u_e2, dense_u_e12,
                                     dense_u_e3, dense_u_e4, dense_u_e34,
                                     dense_u_e5, dense_u_e35, dense_u_e6,
                                     dense_u_e36};
      decltype(&window_u) windows[] = {window_u, window_t, nullptr, nullptr,
                                       window_u_e1, window_u_e2, window_u_e12,
                                       window_u_e3, window_u_e4, window_u_e34,
                                       window_u_e5, window_u_e35, window_u_e6,
                                       window_u_e36};
      // The persistent kernels (2, 3) and tma_store.py's e7 (14) take O's
      // tensor map last: they store O by TMA.
      faopt::TmaMap mo = tensorMap(o, c.b, c.h, c.sq, d);
      if (kind == 14) {
        if (c.window < 0)
          dense_u_e7<<<grid, 384, smem>>>(q, k, v, ov, lv, mq, mk, mv, mo);
        else
          window_u_e7<<<grid, 384, smem>>>(q, k, v, ov, lv, c.window, mq, mk, mv, mo);
        return;
      }
      if (persistent) {
        auto dense = kind == 2 ? dense_pu : kind == 3 ? dense_pt : kind == 15 ? dense_pqu : dense_pqt;
        auto window =
            kind == 2 ? window_pu : kind == 3 ? window_pt : kind == 15 ? window_pqu : window_pqt;
        if (c.window < 0)
          dense<<<grid, 384, smem>>>(q, k, v, ov, lv, mq, mk, mv, mo);
        else
          window<<<grid, 384, smem>>>(q, k, v, ov, lv, c.window, mq, mk, mv, mo);
        return;
      }
      auto dense = denses[kind];
      auto window = windows[kind];
      if (c.window < 0)
        dense<<<grid, 384, smem>>>(q, k, v, ov, lv, mq, mk, mv);
      else
        window<<<grid, 384, smem>>>(q, k, v, ov, lv, c.window, mq, mk, mv);
    };
    unsigned long long *none = nullptr;
    const char *kinds[] = {"plain", "probes", "persistent plain", "persistent probes",
                           "e1 (L2 Q prefetch)", "e2 (early issue)", "e12 (both)",
                           "e3 (issue before setmaxnreg)", "e4 (32-bit div)",
                           "e34 (both)", "e5 (32-bit index math)", "e35 (e3 + e5)",
                           "e6 (P carried in bf16)", "e36 (e3 + e6)",
                           "e7 (O by TMA store)", "persistent 2 Q plain",
                           "persistent 2 Q probes", "m1 (masked blocks unmasked)",
                           "m2 (row-bound mask)", "m3 (row-bound mask, no branch)",
                           "m4 (generated mask, no branch)",
                           "m5 (branch around the whole iteration)",
                           "m6 (m5, row-bound mask)",
                           "compiler --row-bound-masks"};
    float msT = 0;
    for (int rep = 0; rep < 2; ++rep)
      for (int kind : kindsRun) {
        if (kind >= 17 && c.window < 0)
          continue;
        const bool probes = kind == 1 || kind == 3 || kind == 16;
        CK(cudaMemcpyToSymbol(g_rec, probes ? &rec : &none, sizeof rec));
        CK(cudaMemcpyToSymbol(g_prog, probes ? &progRec : &none, sizeof rec));
        CK(cudaDeviceSynchronize());
        usleep(500 * 1000);
        float ms = medianMs([&] { launch(kind); });
        CK(cudaGetLastError());
        std::printf("%-30s %-18s: %.3f ms %.1f TFLOP/s\n", c.name, kinds[kind], ms,
                    flops / ms / 1e9);
        if (kind == 1) msT = ms;
        // Same math, same order: every kernel's O must equal the plain one's.
        if (rep == 0) {
          std::vector<unsigned short> out(c.b * c.h * c.sq * d);
          CK(cudaMemset(o, 0, out.size() * 2));
          launch(kind);
          CK(cudaMemcpy(out.data(), o, out.size() * 2, cudaMemcpyDeviceToHost));
          static std::vector<unsigned short> ref;
          if (kind == 0) ref = out;
          else if (out != ref) std::printf("  MISMATCH: %s differs from plain\n", kinds[kind]);
        }
        if (rep == 1 && kind == 1) {
          // The timeline of the last timed launch (each overwrites the last).
          std::vector<unsigned long long> h(16ull * programs);
          CK(cudaMemcpy(h.data(), rec, h.size() * 8, cudaMemcpyDeviceToHost));
          report(c, h, programs, msT);
        }
        if (rep == 1 && (kind == 3 || kind == 16)) {
          std::vector<unsigned long long> h(16ull * workers);
          std::vector<unsigned long long> hp(8ull * kMaxPrograms * workers);
          CK(cudaMemset(progRec, 0, hp.size() * 8));
          launch(kind);
          CK(cudaDeviceSynchronize());
          CK(cudaMemcpy(h.data(), rec, h.size() * 8, cudaMemcpyDeviceToHost));
          CK(cudaMemcpy(hp.data(), progRec, hp.size() * 8, cudaMemcpyDeviceToHost));
          reportPersistent(c, h, hp, workers, programs);
        }
      }
  }
  return 0;
}
