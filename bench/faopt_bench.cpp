//===- faopt_bench.cpp - forward TFLOP/s and compile latency --------------===//
//
//   faopt-bench [--csv FILE] [--only fwd|compile] [--quick] [--reps N]
//               [--d 64|128] [--causal 0|1] [--seq N] [--warmup-ms MS]
//               [--sync-each | --back-to-back]
//   faopt-bench --only variants [--csv FILE] [--reps N] [--warmup-ms MS]
//               [--sync-each | --back-to-back] [--variant NAME]
//               [--diag-waits] [--masks-from FILE]
//   faopt-bench --only block-sparse-shapes [same options as variants]
//
// Forward: the FlashAttention-2 paper's grid (bf16, batch * seqlen = 16k,
// hidden 2048 so heads = 2048 / d, d = 64 and 128, causal and not, seqlen
// 512 ... 16k). Each configuration is timed with CUDA events per launch
// (warm-up excluded: 3 launches, and at least --warmup-ms of them, default
// 0; median of --reps; launches queued as triton's do_bench queues the
// peers', --sync-each to synchronise after each), rotating over enough
// input sets that
// they do not fit in L2. FLOPs: 4 b h s^2 d, halved for causal (the
// FlashAttention convention). --d, --causal and --seq keep only the matching
// configurations (one case for a profiler, say).
//
// Variants (issue 4's grid, BenchVariants.cpp): masks at n = 8k, d = 128,
// bf16, effective TFLOP/s on the attended pairs only, beside our dense rate;
// --masks-from takes the documents and the block layout from the file
// bench/flex_masks.py writes (FlexAttention's), so both time one mask.
// Timing (timeLaunches) is in BenchCommon.cpp. block-sparse-shapes (for
// diagnosis): the block-sparse kernel at densities 100%, 50%, 25%, 12.5% and
// a contiguous band of 16 kv-blocks, to separate its per-kv-block and
// per-program costs.
//
// Compile latency (no GPU needed): cold (empty cache directory, fresh
// context), warm disk (fresh context, same directory), warm memory (same
// context, same spec), median of several runs each.
//
//===----------------------------------------------------------------------===//
#include "bench/BenchCommon.h"
#include "faopt/runtime.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cuda_runtime.h>
#include <filesystem>
#include <functional>
#include <string>
#include <unistd.h>
#include <vector>

using namespace faopt::bench;

namespace {

std::string specFor(int64_t d, bool causal) {
  return std::string("{\"name\": \"bench_d") + std::to_string(d) +
         (causal ? "_causal" : "_dense") +
         "\", \"dtype\": \"bf16\", \"head_dim\": " + std::to_string(d) +
         (causal ? ", \"mask\": \"causal\"" : "") + "}";
}

/// Restricts the forward grid; 0 / -1 mean "all".
struct CaseFilter {
  int64_t d = 0, seq = 0;
  int causal = -1;
};

int benchForward(faopt::Context &ctx, bool quick, int reps,
                 const CaseFilter &only, std::vector<Row> &rows) {
  // --quick: the sequence lengths ../shared/bench/peers.py --quick times,
  // so bench/run-gpu.sh --quick can put every row beside the peers'.
  std::vector<int64_t> seqs = quick ? std::vector<int64_t>{1024, 4096, 16384}
                                    : std::vector<int64_t>{512, 1024, 2048,
                                                           4096, 8192, 16384};
  for (int64_t d : {64, 128})
    for (bool causal : {false, true}) {
      if ((only.d && only.d != d) || (only.causal >= 0 && only.causal != causal))
        continue;
      auto kernel = ctx.kernel(specFor(d, causal));
      if (!kernel) {
        std::fprintf(stderr, "faopt-bench: %s\n",
                     kernel.status().message().c_str());
        return 1;
      }
      for (int64_t seq : seqs) {
        if (only.seq && only.seq != seq)
          continue;
        int64_t batch = 16384 / seq, heads = 2048 / d;
        size_t elems = static_cast<size_t>(batch * heads * seq * d);
        size_t bytesPerSet = elems * 2 * 4; // q, k, v, o
        int sets = static_cast<int>(
            std::max<size_t>(2, (512ull << 20) / bytesPerSet + 1));
        sets = std::min(sets, 8);
        std::vector<void *> bufs;
        for (int i = 0; i < 4 * sets; ++i) {
          void *p = nullptr;
          if (!check(cudaMalloc(&p, elems * 2), "cudaMalloc"))
            return 1;
          fillRandom(p, elems, static_cast<unsigned>(i + 1));
          bufs.push_back(p);
        }
        float *lse = nullptr;
        check(cudaMalloc(&lse, batch * heads * seq * 4 * sets), "cudaMalloc");
        auto argsFor = [&](int set) {
          faopt::ForwardArgs a = faopt::defaultForwardArgs();
          a.q = bufs[4 * set];
          a.k = bufs[4 * set + 1];
          a.v = bufs[4 * set + 2];
          a.o = bufs[4 * set + 3];
          a.lse = lse + set * batch * heads * seq;
          a.batch = batch;
          a.heads = a.kv_heads = heads;
          a.seqlen_q = a.seqlen_k = seq;
          return a;
        };
        double ms = timeLaunches(*kernel, reps,
                                 [&](int r) { return argsFor(r % sets); });
        if (ms < 0)
          return 1;
        Row row;
        row.what = "fwd";
        row.d = d;
        row.seq = seq;
        row.batch = batch;
        row.heads = heads;
        row.causal = causal;
        row.ms = ms;
        double flops = 4.0 * batch * heads * double(seq) * seq * d;
        if (causal)
          flops /= 2;
        row.tflops = flops / (row.ms * 1e-3) / 1e12;
        rows.push_back(row);
        std::printf("fwd d=%3lld %-6s seq=%5lld batch=%2lld heads=%2lld: "
                    "%8.3f ms  %6.1f TFLOP/s\n",
                    (long long)d, causal ? "causal" : "dense", (long long)seq,
                    (long long)batch, (long long)heads, row.ms, row.tflops);
        std::fflush(stdout);
        for (void *p : bufs)
          cudaFree(p);
        cudaFree(lse);
      }
    }
  return 0;
}

int benchCompile(int reps, std::vector<Row> &rows) {
  std::string spec = specFor(128, true);
  std::vector<double> cold, disk, mem;
  for (int r = 0; r < reps; ++r) {
    std::string dir = (std::filesystem::temp_directory_path() /
                       ("faopt-bench-cache-" + std::to_string(getpid()) + "-" +
                        std::to_string(r)))
                          .string();
    std::filesystem::remove_all(dir);
    faopt::ContextOptions o;
    o.cacheDir = dir;
    {
      auto ctx = faopt::Context::create(o);
      if (!ctx) {
        std::fprintf(stderr, "faopt-bench: %s\n", ctx.status().message().c_str());
        return 1;
      }
      auto t0 = std::chrono::steady_clock::now();
      auto k = ctx->kernel(spec);
      cold.push_back(std::chrono::duration<double, std::milli>(
                         std::chrono::steady_clock::now() - t0)
                         .count());
      if (!k) {
        std::fprintf(stderr, "faopt-bench: %s\n", k.status().message().c_str());
        return 1;
      }
      for (int i = 0; i < 1000; ++i) {
        auto t1 = std::chrono::steady_clock::now();
        auto again = ctx->kernel(spec);
        mem.push_back(std::chrono::duration<double, std::milli>(
                          std::chrono::steady_clock::now() - t1)
                          .count());
      }
    }
    {
      auto ctx = faopt::Context::create(o);
      auto t0 = std::chrono::steady_clock::now();
      auto k = ctx->kernel(spec);
      disk.push_back(std::chrono::duration<double, std::milli>(
                         std::chrono::steady_clock::now() - t0)
                         .count());
      if (!k || k->info().source != 2)
        std::fprintf(stderr, "faopt-bench: warning: expected a disk-cache hit\n");
    }
    std::filesystem::remove_all(dir);
  }
  auto add = [&](const char *what, double ms) {
    Row row;
    row.what = what;
    row.ms = ms;
    rows.push_back(row);
  };
  add("compile_cold", median(cold));
  add("compile_disk_hit", median(disk));
  add("compile_memory_hit", median(mem));
  std::printf("compile (causal bf16 d=128): cold %.1f ms, disk hit %.3f ms, "
              "memory hit %.3f us  (medians of %d / %d / %zu)\n",
              median(cold), median(disk), median(mem) * 1000, reps, reps,
              mem.size());
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  std::string csv, only;
  bool quick = false;
  int reps = 30;
  bool diagWaits = false;
  std::string masksFrom;
  CaseFilter filter;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--csv" && i + 1 < argc)
      csv = argv[++i];
    else if (a == "--only" && i + 1 < argc)
      only = argv[++i];
    else if (a == "--quick")
      quick = true;
    else if (a == "--reps" && i + 1 < argc)
      reps = std::max(3, std::atoi(argv[++i]));
    else if (a == "--d" && i + 1 < argc)
      filter.d = std::atoll(argv[++i]);
    else if (a == "--causal" && i + 1 < argc)
      filter.causal = std::atoi(argv[++i]) != 0;
    else if (a == "--seq" && i + 1 < argc)
      filter.seq = std::atoll(argv[++i]);
    else if (a == "--warmup-ms" && i + 1 < argc)
      gWarmupMs = std::max(0, std::atoi(argv[++i]));
    else if (a == "--variant" && i + 1 < argc)
      gVariant = argv[++i];
    else if (a == "--masks-from" && i + 1 < argc)
      masksFrom = argv[++i];
    else if (a == "--diag-waits")
      diagWaits = true;
    else if (a == "--sync-each")
      gSyncEach = true;
    else if (a == "--back-to-back")
      gBackToBack = true;
    else {
      std::fprintf(stderr, "usage: faopt-bench [--csv FILE] [--only "
                           "fwd|compile|variants|block-sparse-shapes]"
                           " [--quick] [--reps N] [--d 64|128] [--causal 0|1]"
                           " [--seq N] [--warmup-ms MS] [--sync-each | "
                           "--back-to-back] [--variant NAME] "
                           "[--diag-waits] [--masks-from FILE]\n");
      return 1;
    }
  }
  if (!only.empty() && only != "fwd" && only != "compile" &&
      only != "variants" && only != "block-sparse-shapes") {
    std::fprintf(stderr, "faopt-bench: --only %s: expected fwd, compile, "
                         "variants or block-sparse-shapes\n", only.c_str());
    return 1;
  }
  if ((diagWaits || !gVariant.empty()) && only != "variants" &&
      only != "block-sparse-shapes") {
    std::fprintf(stderr, "faopt-bench: --diag-waits and --variant need "
                         "--only variants or block-sparse-shapes\n");
    return 1;
  }
  if (!masksFrom.empty()) {
    // Accepted with every --only (bench/ab-env.sh passes the same options
    // to its variant and forward runs); only the variants read it.
    if (only != "variants")
      std::fprintf(stderr, "faopt-bench: --masks-from applies to --only "
                           "variants; ignored here\n");
    std::string error;
    if (!loadPeerMasks(masksFrom, error)) {
      std::fprintf(stderr, "faopt-bench: --masks-from %s\n", error.c_str());
      return 1;
    }
  }
  if (gSyncEach && gBackToBack) {
    std::fprintf(stderr, "faopt-bench: --sync-each and --back-to-back "
                         "exclude each other\n");
    return 1;
  }
  std::vector<Row> rows;
  if (only.empty() || only == "compile")
    if (int rc = benchCompile(quick ? 3 : 5, rows))
      return rc;
  if (only == "variants" || only == "block-sparse-shapes") {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess || n == 0) {
      std::printf("faopt-bench: no GPU: variants benchmark skipped\n");
    } else {
      if (diagWaits && !enableDiagWaits())
        return 1;
      auto ctx = faopt::Context::create();
      if (!ctx) {
        std::fprintf(stderr, "faopt-bench: %s\n", ctx.status().message().c_str());
        return 1;
      }
      if (int rc = only == "variants"
                       ? benchVariants(*ctx, reps, rows)
                       : benchBlockSparseShapes(*ctx, reps, rows))
        return rc;
    }
  }
  if (only.empty() || only == "fwd") {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess || n == 0) {
      std::printf("faopt-bench: no GPU: forward benchmark skipped\n");
    } else {
      cudaDeviceProp prop;
      cudaGetDeviceProperties(&prop, 0);
      std::printf("device: %s (%d SMs)\n", prop.name, prop.multiProcessorCount);
      auto ctx = faopt::Context::create();
      if (!ctx) {
        std::fprintf(stderr, "faopt-bench: %s\n", ctx.status().message().c_str());
        return 1;
      }
      if (int rc = benchForward(*ctx, quick, reps, filter, rows))
        return rc;
    }
  }
  if (!gHostUs.empty())
    std::printf("faopt-bench: launches %s; host time per forward() call: "
                "median %.1f us over %zu\n",
                gSyncEach     ? "synchronised one by one (--sync-each)"
                : gBackToBack ? "back to back, one event pair around each "
                                "case's launches (--back-to-back)"
                              : "queued, one synchronisation per case",
                median(gHostUs), gHostUs.size());
  if (!csv.empty()) {
    FILE *f = std::fopen(csv.c_str(), "w");
    if (!f) {
      std::fprintf(stderr, "faopt-bench: cannot write %s\n", csv.c_str());
      return 1;
    }
    std::fprintf(f,
                 "impl,what,d,causal,seqlen,batch,heads,ms,tflops,density\n");
    for (const Row &r : rows) {
      char density[32] = "";
      if (r.density >= 0)
        std::snprintf(density, sizeof density, "%.4f", r.density);
      std::fprintf(f, "faopt,%s,%lld,%d,%lld,%lld,%lld,%.6f,%.3f,%s\n",
                   r.what.c_str(), (long long)r.d, r.causal ? 1 : 0,
                   (long long)r.seq, (long long)r.batch, (long long)r.heads,
                   r.ms, r.tflops, density);
    }
    std::fclose(f);
  }
  return 0;
}
