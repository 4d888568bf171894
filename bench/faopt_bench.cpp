//===- faopt_bench.cpp - forward TFLOP/s and compile latency --------------===//
//
//   faopt-bench [--csv FILE] [--only fwd|compile] [--quick] [--reps N]
//               [--d 64|128] [--causal 0|1] [--seq N] [--warmup-ms MS]
//               [--sync-each | --back-to-back]
//   faopt-bench --only variants [--csv FILE] [--reps N] [--warmup-ms MS]
//               [--sync-each | --back-to-back]
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
// Variants (issue 4's grid): masks at n = 8k, d = 128, bf16, b = 2, h = 16,
// effective TFLOP/s counted on the attended pairs only (4 d per pair, as
// ../shared/bench/peers_variants.py counts), beside our dense rate.
// Parameters (window, prefix) are launch arguments of one compiled kernel.
// Masks that read tensors are timed twice: lists built by every launch, and
// built once beforehand ("+lists_built_once", as FlexAttention's timing
// excludes building its BlockMask).
//
// Compile latency (no GPU needed): cold (empty cache directory, fresh
// context), warm disk (fresh context, same directory), warm memory (same
// context, same spec), median of several runs each.
//
//===----------------------------------------------------------------------===//
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

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

std::string specFor(int64_t d, bool causal) {
  return std::string("{\"name\": \"bench_d") + std::to_string(d) +
         (causal ? "_causal" : "_dense") +
         "\", \"dtype\": \"bf16\", \"head_dim\": " + std::to_string(d) +
         (causal ? ", \"mask\": \"causal\"" : "") + "}";
}

struct Row {
  std::string what;
  int64_t d = 0, seq = 0, batch = 0, heads = 0;
  bool causal = false;
  double ms = 0, tflops = 0;
};

bool check(cudaError_t e, const char *what) {
  if (e == cudaSuccess)
    return true;
  std::fprintf(stderr, "faopt-bench: %s: %s\n", what, cudaGetErrorString(e));
  return false;
}

/// Fills device memory with random bf16 in [-1, 1] (not zeros: zeros run
/// faster than real data).
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

/// Least warm-up time per case (--warmup-ms).
int gWarmupMs = 0;
/// --sync-each: synchronise after every timed launch (see timeLaunches).
bool gSyncEach = false;
/// --back-to-back: one event pair around all timed launches (see
/// timeLaunches).
bool gBackToBack = false;
/// Host time of every timed forward() call, microseconds (summary line).
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

/// Restricts the forward grid; 0 / -1 mean "all".
struct CaseFilter {
  int64_t d = 0, seq = 0;
  int causal = -1;
};

int benchForward(faopt::Context &ctx, bool quick, int reps,
                 const CaseFilter &only, std::vector<Row> &rows) {
  std::vector<int64_t> seqs = quick ? std::vector<int64_t>{2048, 16384}
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

struct Variant {
  const char *name;
  std::string spec;
  std::vector<faopt_param_value> params;
  std::function<bool(int64_t q, int64_t kv)> attended;
  /// One int32 tensor input (document ids, a block layout): name, host
  /// contents, sizes.
  const char *tensorName = nullptr;
  std::vector<int32_t> tensor;
  std::vector<int64_t> tensorSizes;
};

int benchVariants(faopt::Context &ctx, int reps, std::vector<Row> &rows) {
  const int64_t n = 8192, d = 128, batch = 2, heads = 16;
  auto spec = [](const std::string &name, const std::string &fields) {
    return "{\"name\": \"var_" + name +
           "\", \"dtype\": \"bf16\", \"head_dim\": 128" +
           (fields.empty() ? "" : ", " + fields) + "}";
  };
  std::vector<Variant> variants = {
      {"dense", spec("dense", ""), {}, [](int64_t, int64_t) { return true; }},
      {"causal", spec("causal", "\"mask\": \"causal\""), {},
       [](int64_t q, int64_t kv) { return q >= kv; }},
      {"sliding_window_1024",
       spec("window", "\"params\": {\"window\": \"int\"}, \"mask\": "
                      "[\"causal\", {\"type\": \"sliding_window\", \"left\": "
                      "\"window\"}]"),
       {{"window", 1023}},
       [](int64_t q, int64_t kv) { return q >= kv && q - kv < 1024; }},
      {"prefix_lm_2048",
       spec("prefix", "\"params\": {\"prefix\": \"int\"}, \"mask\": "
                      "{\"type\": \"prefix_lm\", \"n\": \"prefix\"}"),
       {{"prefix", 2048}},
       [](int64_t q, int64_t kv) { return kv < 2048 || q >= kv; }},
  };
  // 8 packed documents of random lengths (the same for every batch entry).
  std::vector<int32_t> doc(batch * n);
  {
    std::vector<int64_t> cuts;
    uint32_t x = 12345;
    for (int i = 0; i < 7; ++i) {
      x = x * 1664525u + 1013904223u;
      cuts.push_back(1 + x % (n - 1));
    }
    std::sort(cuts.begin(), cuts.end());
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t s = 0; s < n; ++s)
        doc[b * n + s] = static_cast<int32_t>(
            std::upper_bound(cuts.begin(), cuts.end(), s) - cuts.begin());
  }
  variants.push_back(
      {"document_causal_8docs",
       spec("document", "\"tensors\": {\"doc\": {\"dtype\": \"int32\", "
                        "\"shape\": [\"batch\", \"seqlen\"]}}, \"mask\": "
                        "[\"causal\", {\"type\": \"document\", \"ids\": "
                        "\"doc\"}]"),
       {},
       [&doc](int64_t q, int64_t kv) { return q >= kv && doc[q] == doc[kv]; },
       "doc", doc, {batch, n}});
  // The same documents written as each position's document start, a kv
  // bound read at q ("kv >= start[b, q]"): the per-row bounds of
  // attn-kv-bounds-in-rows in the list-driven kernel instead of two
  // document ids per score. Compared with FlexAttention's documents.
  std::vector<int32_t> start(batch * n);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t s = 0; s < n; ++s)
      start[b * n + s] = s > 0 && doc[b * n + s] == doc[b * n + s - 1]
                             ? start[b * n + s - 1]
                             : static_cast<int32_t>(s);
  variants.push_back(
      {"document_causal_8docs+row_starts",
       spec("document_start", "\"tensors\": {\"start\": {\"dtype\": "
                              "\"int32\", \"shape\": [\"batch\", "
                              "\"seqlen\"]}}, \"mask\": \"kv >= start[b, q] "
                              "&& kv <= q\""),
       {},
       [&doc](int64_t q, int64_t kv) { return q >= kv && doc[q] == doc[kv]; },
       "start", start, {batch, n}});
  // Block-sparse: one layout of 128 x 128 blocks for every batch entry and
  // head, 25% random + the diagonal (as peers_variants.py).
  const int64_t blk = 128, nb = n / blk;
  std::vector<int32_t> layout(nb * nb);
  {
    uint32_t x = 777;
    for (int64_t i = 0; i < nb; ++i)
      for (int64_t j = 0; j < nb; ++j) {
        x = x * 1664525u + 1013904223u;
        layout[i * nb + j] = i == j || (x >> 8) % 4 == 0;
      }
  }
  variants.push_back(
      {"block_sparse_25pct",
       spec("block_sparse", "\"tensors\": {\"layout\": {\"dtype\": "
                            "\"int32\", \"shape\": [\"seqlen_q/128\", "
                            "\"seqlen_k/128\"]}}, \"sparsity\": {\"block\": "
                            "[128, 128], \"layout\": \"layout\"}"),
       {},
       [&layout, nb, blk](int64_t q, int64_t kv) {
         return layout[(q / blk) * nb + kv / blk] != 0;
       },
       "layout", layout, {nb, nb}});
  size_t elems = static_cast<size_t>(batch * heads * n * d);
  std::vector<void *> bufs;
  for (int i = 0; i < 4; ++i) {
    void *p = nullptr;
    if (!check(cudaMalloc(&p, elems * 2), "cudaMalloc"))
      return 1;
    fillRandom(p, elems, static_cast<unsigned>(100 + i));
    bufs.push_back(p);
  }
  float *lse = nullptr;
  check(cudaMalloc(&lse, batch * heads * n * 4), "cudaMalloc");
  for (const Variant &var : variants) {
    auto kernel = ctx.kernel(var.spec);
    if (!kernel) {
      std::fprintf(stderr, "faopt-bench: %s\n", kernel.status().message().c_str());
      return 1;
    }
    faopt::ForwardArgs a = faopt::defaultForwardArgs();
    a.q = bufs[0];
    a.k = bufs[1];
    a.v = bufs[2];
    a.o = bufs[3];
    a.lse = lse;
    a.batch = batch;
    a.heads = a.kv_heads = heads;
    a.seqlen_q = a.seqlen_k = n;
    a.params = var.params.data();
    a.num_params = static_cast<int>(var.params.size());
    void *tensorDevice = nullptr;
    faopt_tensor_value tensorArg{var.tensorName, nullptr, {}, {}};
    if (var.tensorName) {
      check(cudaMalloc(&tensorDevice, var.tensor.size() * 4), "cudaMalloc");
      cudaMemcpy(tensorDevice, var.tensor.data(), var.tensor.size() * 4,
                 cudaMemcpyHostToDevice);
      tensorArg.data = tensorDevice;
      for (size_t i = 0; i < var.tensorSizes.size(); ++i)
        tensorArg.sizes[i] = var.tensorSizes[i];
      a.tensors = &tensorArg;
      a.num_tensors = 1;
    }
    double ms = timeLaunches(*kernel, reps, [&](int) { return a; });
    // Masks that read tensors: also with the kv-block lists built once
    // (as FlexAttention's timing excludes building its BlockMask).
    double prebuiltMs = -1;
    if (var.tensorName) {
      auto lists = kernel->buildBlockLists(a);
      if (!lists) {
        std::fprintf(stderr, "faopt-bench: %s\n",
                     lists.status().message().c_str());
        return 1;
      }
      faopt::ForwardArgs withLists = a;
      withLists.block_lists = lists->handle();
      prebuiltMs = timeLaunches(*kernel, reps, [&](int) { return withLists; });
      cudaDeviceSynchronize();
    }
    if (tensorDevice)
      cudaFree(tensorDevice);
    if (ms < 0)
      return 1;
    // Attended pairs (the effective rate's work), and the pairs of every
    // tile that holds one (what a kernel with exact block classification
    // computes: partial tiles are computed whole).
    const faopt::KernelInfo info = kernel->info();
    const int64_t bq = info.block_q, bk = info.block_kv;
    const int64_t qBlocks = (n + bq - 1) / bq, kvBlocks = (n + bk - 1) / bk;
    std::vector<char> tileUsed(qBlocks * kvBlocks, 0);
    double pairs = 0;
    for (int64_t q = 0; q < n; ++q)
      for (int64_t kv = 0; kv < n; ++kv)
        if (var.attended(q, kv)) {
          pairs += 1;
          tileUsed[(q / bq) * kvBlocks + kv / bk] = 1;
        }
    double tilePairs = 0;
    for (int64_t i = 0; i < qBlocks; ++i)
      for (int64_t j = 0; j < kvBlocks; ++j)
        if (tileUsed[i * kvBlocks + j])
          tilePairs += double(std::min(bq, n - i * bq)) *
                       double(std::min(bk, n - j * bk));
    auto report = [&](const std::string &name, double t) {
      Row row;
      row.what = "variant:" + name;
      row.d = d;
      row.seq = n;
      row.batch = batch;
      row.heads = heads;
      row.ms = t;
      row.tflops = 4.0 * d * pairs * batch * heads / (row.ms * 1e-3) / 1e12;
      rows.push_back(row);
      double tileTflops =
          4.0 * d * tilePairs * batch * heads / (row.ms * 1e-3) / 1e12;
      std::printf("variant %-34s density %.3f: %8.3f ms  %6.1f TFLOP/s "
                  "effective; %dx%d tiles hold %.3f: %6.1f TFLOP/s on them\n",
                  name.c_str(), pairs / double(n * n), row.ms, row.tflops,
                  int(bq), int(bk), tilePairs / double(n * n), tileTflops);
      std::fflush(stdout);
    };
    report(var.name, ms);
    if (prebuiltMs > 0)
      report(std::string(var.name) + "+lists_built_once", prebuiltMs);
  }
  for (void *p : bufs)
    cudaFree(p);
  cudaFree(lse);
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
    else if (a == "--sync-each")
      gSyncEach = true;
    else if (a == "--back-to-back")
      gBackToBack = true;
    else {
      std::fprintf(stderr, "usage: faopt-bench [--csv FILE] [--only fwd|compile|variants]"
                           " [--quick] [--reps N] [--d 64|128] [--causal 0|1]"
                           " [--seq N] [--warmup-ms MS] [--sync-each | "
                           "--back-to-back]\n");
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
  if (only == "variants") {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess || n == 0) {
      std::printf("faopt-bench: no GPU: variants benchmark skipped\n");
    } else {
      auto ctx = faopt::Context::create();
      if (!ctx) {
        std::fprintf(stderr, "faopt-bench: %s\n", ctx.status().message().c_str());
        return 1;
      }
      if (int rc = benchVariants(*ctx, reps, rows))
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
    std::fprintf(f, "impl,what,d,causal,seqlen,batch,heads,ms,tflops\n");
    for (const Row &r : rows)
      std::fprintf(f, "faopt,%s,%lld,%d,%lld,%lld,%lld,%.6f,%.3f\n",
                   r.what.c_str(), (long long)r.d, r.causal ? 1 : 0,
                   (long long)r.seq, (long long)r.batch, (long long)r.heads,
                   r.ms, r.tflops);
    std::fclose(f);
  }
  return 0;
}
