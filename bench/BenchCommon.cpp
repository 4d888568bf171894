//===- BenchCommon.cpp - timing and inputs for faopt-bench ----------------===//
#include "bench/BenchCommon.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace faopt::bench {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

bool check(cudaError_t e, const char *what) {
  if (e == cudaSuccess)
    return true;
  std::fprintf(stderr, "faopt-bench: %s: %s\n", what, cudaGetErrorString(e));
  return false;
}

void fillRandom(void *dev, size_t elems, unsigned seed) {
  std::vector<uint16_t> host(elems);
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < elems; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    float f = (x & 0xffff) / 32768.0f - 1.0f;
    uint32_t u;
    std::memcpy(&u, &f, 4);
    host[i] = static_cast<uint16_t>((u + 0x7fff + ((u >> 16) & 1)) >> 16);
  }
  cudaMemcpy(dev, host.data(), elems * 2, cudaMemcpyHostToDevice);
}

int gWarmupMs = 0;
std::string gVariant;

namespace {
// faopt_sm90_tma.cuh's diag::Kind, in order, and its rows.
enum DiagKind { kQFull, kKFull, kVFull, kStore, kPrograms, kConsumerTotal,
                kQEmpty, kKEmpty, kVEmpty, kProducerTotal, kStart, kKinds };
constexpr size_t kDiagRows = 65536;
unsigned long long *gDiagWaits = nullptr;
} // namespace

bool enableDiagWaits() {
  const size_t bytes = kDiagRows * kKinds * sizeof(unsigned long long);
  if (!check(cudaMalloc(&gDiagWaits, bytes), "cudaMalloc") ||
      !check(cudaMemset(gDiagWaits, 0, bytes), "cudaMemset"))
    return false;
  const char *old = std::getenv("FAOPT_NVRTC_OPTIONS");
  char define[96];
  std::snprintf(define, sizeof define, "-DFAOPT_DIAG_WAITS=0x%llxULL",
                (unsigned long long)(uintptr_t)gDiagWaits);
  std::string options = old ? std::string(old) + " " + define : define;
  setenv("FAOPT_NVRTC_OPTIONS", options.c_str(), 1);
  std::printf("faopt-bench: --diag-waits: FAOPT_NVRTC_OPTIONS=%s\n",
              options.c_str());
  return true;
}

void reportDiagWaits(const std::string &what) {
  if (!gDiagWaits)
    return;
  std::vector<unsigned long long> rows(kDiagRows * kKinds);
  if (!check(cudaDeviceSynchronize(), "diag-waits: the timed kernels") ||
      !check(cudaMemcpy(rows.data(), gDiagWaits, rows.size() * sizeof rows[0],
                        cudaMemcpyDeviceToHost),
             "diag-waits: cudaMemcpy") ||
      !check(cudaMemset(gDiagWaits, 0, rows.size() * sizeof rows[0]),
             "diag-waits: cudaMemset"))
    return;
  double sum[kKinds] = {};
  int ctas = 0;
  // Each CTA row's consumer cycles and programs, for the spread: a kernel
  // ends with its busiest CTA, so max / mean over the rows is the time the
  // others idle at the end (the schedule's imbalance).
  std::vector<double> busy, ran;
  for (size_t r = 0; r < kDiagRows; ++r) {
    const unsigned long long *row = &rows[r * kKinds];
    if (row[kConsumerTotal] == 0 && row[kProducerTotal] == 0)
      continue;
    ++ctas;
    busy.push_back(double(row[kConsumerTotal]));
    ran.push_back(double(row[kPrograms]));
    for (int k = 0; k < kKinds; ++k)
      sum[k] += double(row[k]);
  }
  // Programs: consumer thread 0's Q waits (one per program it ran, in every
  // kind of kernel), over all launches of the case.
  const double programs = sum[kPrograms];
  if (ctas == 0 || programs == 0) {
    std::printf("diag-waits %s: no counters (not an sm90a TMA kernel?)\n",
                what.c_str());
    return;
  }
  auto per = [&](int k) { return sum[k] / programs; };
  std::printf("diag-waits %s: %d CTA rows, %.0f programs; cycles per program: "
              "consumer thread 0 %.0f (Q full %.0f, K full %.0f, V full %.0f, "
              "O store %.0f); copy thread %.0f (Q empty %.0f, K empty %.0f, "
              "V empty %.0f)\n",
              what.c_str(), ctas, programs, per(kConsumerTotal), per(kQFull),
              per(kKFull), per(kVFull), per(kStore), per(kProducerTotal),
              per(kQEmpty), per(kKEmpty), per(kVEmpty));
  std::sort(busy.begin(), busy.end());
  std::sort(ran.begin(), ran.end());
  const double mean = sum[kConsumerTotal] / ctas;
  std::printf("diag-waits %s: consumer thread 0 cycles per CTA row: min %.0f, "
              "median %.0f, max %.0f (max / mean %.3f); programs per row "
              "%.0f-%.0f\n",
              what.c_str(), busy.front(), busy[busy.size() / 2], busy.back(),
              busy.back() / mean, ran.front(), ran.back());
  std::fflush(stdout);
}
bool gSyncEach = false;
bool gBackToBack = false;
std::vector<double> gHostUs;

/// Median milliseconds of `reps` launches timed with CUDA events, after 3
/// warm-up launches (excluded); launch r uses argsFor(r). A negative result
/// means a launch or the kernel failed (reported on stderr).
///
/// By default the launches are queued: events around each one, a single
/// synchronisation at the end, as the peers' timing (triton's do_bench)
/// does; the host prepares launch r + 1 while the GPU runs launch r, so the
/// events time the GPU's work. --sync-each synchronises after every launch
/// instead: the GPU then idles while the host prepares the next launch, and
/// that preparation (argument checks, tensor maps, list workspace) lands
/// inside the measured time. --back-to-back records one event pair around
/// all `reps` launches and returns their mean: the time per launch of a
/// stream of launches, where a kernel may overlap the one before it
/// (programmatic dependent launch: a list builder starting in the previous
/// attention's tail), which events between launches can hide.
double timeLaunches(const faopt::Kernel &kernel, int reps,
                    const std::function<faopt::ForwardArgs(int)> &argsFor) {
  // Warm-up: at least 3 launches and gWarmupMs. Short by default, like the
  // peers' scripts: on the H200 a case timed after 200 ms of back-to-back
  // launches reads 4-8% lower (sustained power), which would skew ratios.
  auto warmStart = std::chrono::steady_clock::now();
  for (int i = 0; i < 3 || std::chrono::steady_clock::now() - warmStart <
                               std::chrono::milliseconds(gWarmupMs);
       ++i) {
    if (!kernel.forward(argsFor(i))) {
      std::fprintf(stderr, "faopt-bench: launch failed: %s\n",
                   faopt_last_error());
      return -1;
    }
    cudaDeviceSynchronize();
  }
  // Back to back: one event pair around all launches (pairs[0]); else a
  // pair around each launch.
  const int pairs = gBackToBack ? 1 : reps;
  std::vector<cudaEvent_t> events(2 * pairs);
  for (cudaEvent_t &e : events)
    if (!check(cudaEventCreate(&e), "cudaEventCreate"))
      return -1;
  bool launched = true;
  if (gBackToBack)
    cudaEventRecord(events[0]);
  for (int r = 0; r < reps && launched; ++r) {
    faopt::ForwardArgs a = argsFor(r);
    if (!gBackToBack)
      cudaEventRecord(events[2 * r]);
    auto host = std::chrono::steady_clock::now();
    launched = static_cast<bool>(kernel.forward(a));
    if (launched)
      gHostUs.push_back(std::chrono::duration<double, std::micro>(
                            std::chrono::steady_clock::now() - host)
                            .count());
    if (!gBackToBack)
      cudaEventRecord(events[2 * r + 1]);
    if (gSyncEach && !gBackToBack) // (main() rejects the two together)
      cudaEventSynchronize(events[2 * r + 1]);
  }
  if (gBackToBack)
    cudaEventRecord(events[1]);
  cudaDeviceSynchronize();
  std::vector<double> times;
  for (int r = 0; r < pairs && launched; ++r) {
    float ms = 0;
    cudaEventElapsedTime(&ms, events[2 * r], events[2 * r + 1]);
    times.push_back(gBackToBack ? ms / reps : ms); // the mean per launch
  }
  for (cudaEvent_t &e : events)
    cudaEventDestroy(e);
  if (!launched) {
    std::fprintf(stderr, "faopt-bench: launch failed: %s\n", faopt_last_error());
    return -1;
  }
  if (!check(cudaGetLastError(), "kernel"))
    return -1;
  return median(times);
}

} // namespace faopt::bench
