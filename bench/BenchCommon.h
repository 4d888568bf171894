//===- BenchCommon.h - what faopt-bench's forward and variant grids share ===//
//
// Timing with CUDA events (timeLaunches), random bf16 inputs, the rows the
// CSV and the summary print, and the command line's timing switches. The
// forward grid and compile latency are in faopt_bench.cpp, the mask
// variants in BenchVariants.cpp.
//
//===----------------------------------------------------------------------===//
#ifndef FAOPT_BENCH_BENCHCOMMON_H
#define FAOPT_BENCH_BENCHCOMMON_H

#include "faopt/runtime.hpp"

#include <cuda_runtime.h>
#include <functional>
#include <string>
#include <vector>

namespace faopt::bench {

struct Row {
  std::string what;
  int64_t d = 0, seq = 0, batch = 0, heads = 0;
  bool causal = false;
  double ms = 0, tflops = 0;
  /// Attended pairs / (seqlen_q * seqlen_k) for the variants; negative
  /// (an empty CSV field) for the forward grid, which counts FLOPs by
  /// convention (causal halved).
  double density = -1;
};

double median(std::vector<double> v);
/// False (and a message on stderr) unless `e` is cudaSuccess.
bool check(cudaError_t e, const char *what);
/// Fills device memory with random bf16 in [-1, 1] (not zeros: zeros run
/// faster than real data).
void fillRandom(void *dev, size_t elems, unsigned seed);

/// Least warm-up time per case (--warmup-ms).
extern int gWarmupMs;
/// --variant NAME: run only the variant of that name (--only variants,
/// block-sparse-shapes); empty: all of them.
extern std::string gVariant;

/// --diag-waits: compile the kernels with -DFAOPT_DIAG_WAITS (faopt_sm90_
/// tma.cuh: clock cycles consumer thread 0 and the copy thread spend in
/// each barrier wait, summed per CTA into a device buffer) and print them
/// per program after each timed case. Timing only: the counters change the
/// kernels a little (more registers, spills), so their rates are not the
/// benchmark's. enableDiagWaits must run before the first kernel compiles.
bool enableDiagWaits();
void reportDiagWaits(const std::string &what);
/// --sync-each: synchronise after every timed launch (see timeLaunches).
extern bool gSyncEach;
/// --back-to-back: one event pair around all timed launches (see
/// timeLaunches).
extern bool gBackToBack;
/// --masks-from FILE: the variants' document boundaries and block-sparse
/// layout as ../shared/bench/peers_variants.py draws them (written by
/// bench/flex_masks.py), so faopt and FlexAttention time one mask. Without
/// it the variants use faopt-bench's own draws (other documents: density
/// 0.092 against Flex's 0.111; layouts 0.261 against 0.265).
struct PeerMasks {
  bool loaded = false;
  std::string path;
  /// First position of each document after the first, increasing.
  std::vector<int64_t> documentCuts;
  /// 128 x 128 blocks, row-major (seqlen / 128 squared), 0 or 1.
  std::vector<int32_t> blockLayout;
};
extern PeerMasks gPeerMasks;
/// Reads a bench/flex_masks.py file into gPeerMasks; on failure false and
/// `error` names the file, the line and what is wrong.
bool loadPeerMasks(const std::string &path, std::string &error);

/// Host time of every timed forward() call, microseconds (summary line).
extern std::vector<double> gHostUs;

/// Median milliseconds of `reps` launches timed with CUDA events, after 3
/// warm-up launches (excluded); launch r uses argsFor(r). A negative result
/// means a launch or the kernel failed (reported on stderr). The comment at
/// the definition says how --sync-each and --back-to-back change it.
double timeLaunches(const faopt::Kernel &kernel, int reps,
                    const std::function<faopt::ForwardArgs(int)> &argsFor);

/// Issue 4's mask variants at n = 8k (BenchVariants.cpp); 0 on success.
int benchVariants(faopt::Context &ctx, int reps, std::vector<Row> &rows);
/// The block-sparse kernel over program lengths (diagnosis; BenchVariants.cpp).
int benchBlockSparseShapes(faopt::Context &ctx, int reps,
                           std::vector<Row> &rows);

} // namespace faopt::bench

#endif // FAOPT_BENCH_BENCHCOMMON_H
