//===- BenchVariants.cpp - issue 4's mask variants for faopt-bench --------===//
//
// Masks at n = 8k, d = 128, bf16, b = 2, h = 16, effective TFLOP/s counted
// on the attended pairs only (4 d per pair, as
// ../shared/bench/peers_variants.py counts), beside our dense rate and, for
// each variant, the dense kernel at equal work (the same queries, as many
// keys as the variant attends per query).
// Parameters (window, prefix) are launch arguments of one compiled kernel.
// Masks that read tensors are timed twice: lists built by every launch, and
// built once beforehand ("+lists_built_once", as FlexAttention's timing
// excludes building its BlockMask).
//
//===----------------------------------------------------------------------===//
#include "bench/BenchCommon.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace faopt::bench {

namespace {

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

constexpr int64_t kN = 8192, kD = 128, kBatch = 2, kHeads = 16;

std::string variantSpec(const std::string &name, const std::string &fields) {
  return "{\"name\": \"var_" + name +
         "\", \"dtype\": \"bf16\", \"head_dim\": 128" +
         (fields.empty() ? "" : ", " + fields) + "}";
}

/// A block-sparse variant: one layout of 128 x 128 blocks for every batch
/// entry and head.
Variant blockSparse(const char *name, std::vector<int32_t> layout) {
  const int64_t blk = 128, nb = kN / blk;
  Variant v{name,
            variantSpec("block_sparse",
                        "\"tensors\": {\"layout\": {\"dtype\": "
                        "\"int32\", \"shape\": [\"seqlen_q/128\", "
                        "\"seqlen_k/128\"]}}, \"sparsity\": {\"block\": "
                        "[128, 128], \"layout\": \"layout\"}"),
            {},
            [layout, nb, blk](int64_t q, int64_t kv) {
              return layout[(q / blk) * nb + kv / blk] != 0;
            },
            "layout",
            std::move(layout),
            {nb, nb}};
  return v;
}

/// 128 x 128 blocks: the diagonal plus each other block with probability
/// 1 / `oneIn` (a fixed LCG, as peers_variants.py draws its 25%).
std::vector<int32_t> randomLayout(int oneIn) {
  const int64_t nb = kN / 128;
  std::vector<int32_t> layout(nb * nb);
  uint32_t x = 777;
  for (int64_t i = 0; i < nb; ++i)
    for (int64_t j = 0; j < nb; ++j) {
      x = x * 1664525u + 1013904223u;
      layout[i * nb + j] = i == j || (x >> 8) % oneIn == 0;
    }
  return layout;
}

int runVariants(faopt::Context &ctx, int reps,
                const std::vector<Variant> &variants, std::vector<Row> &rows);

/// faopt-bench's own document boundaries: 7 cuts from a fixed LCG.
std::vector<int64_t> ownDocumentCuts() {
  std::vector<int64_t> cuts;
  uint32_t x = 12345;
  for (int i = 0; i < 7; ++i) {
    x = x * 1664525u + 1013904223u;
    cuts.push_back(1 + x % (kN - 1));
  }
  std::sort(cuts.begin(), cuts.end());
  return cuts;
}

} // namespace

PeerMasks gPeerMasks;

// The file (bench/flex_masks.py):
//   n 8192
//   document_cuts C1 C2 ...          (increasing, each in [1, n))
//   block_layout 128 NB              (NB = n / 128, then NB lines of NB
//   0110...                           characters '0' or '1')
bool loadPeerMasks(const std::string &path, std::string &error) {
  std::ifstream in(path);
  if (!in) {
    error = path + ": cannot be read";
    return false;
  }
  PeerMasks m;
  m.path = path;
  bool haveN = false, haveCuts = false, haveLayout = false;
  std::string line;
  int lineNo = 0;
  auto fail = [&](const std::string &what) {
    error = path + ":" + std::to_string(lineNo) + ": " + what;
    return false;
  };
  const int64_t nb = kN / 128;
  while (std::getline(in, line)) {
    ++lineNo;
    if (line.empty() || line[0] == '#')
      continue;
    std::istringstream words(line);
    std::string key, extra;
    words >> key;
    bool *seen = key == "n"               ? &haveN
                 : key == "document_cuts" ? &haveCuts
                 : key == "block_layout"  ? &haveLayout
                                          : nullptr;
    if (seen && *seen)
      return fail("a second '" + key + "' line");
    if (key == "n") {
      int64_t n = 0;
      if (!(words >> n) || n != kN || words >> extra)
        return fail("n must be " + std::to_string(kN) +
                    " (the variants' sequence length)");
      haveN = true;
    } else if (key == "document_cuts") {
      int64_t c = 0;
      while (words >> c) {
        if (c < 1 || c >= kN ||
            (!m.documentCuts.empty() && c <= m.documentCuts.back()))
          return fail("document cuts must increase within [1, " +
                      std::to_string(kN) + ")");
        m.documentCuts.push_back(c);
      }
      if (!words.eof())
        return fail("document_cuts takes integers");
      haveCuts = true;
    } else if (key == "block_layout") {
      int64_t block = 0, rowsDeclared = 0;
      if (!(words >> block >> rowsDeclared) || block != 128 ||
          rowsDeclared != nb || words >> extra)
        return fail("block_layout must be \"128 " + std::to_string(nb) +
                    "\" (128 x 128 blocks at n = " + std::to_string(kN) +
                    ")");
      for (int64_t i = 0; i < nb; ++i) {
        ++lineNo;
        if (!std::getline(in, line) || int64_t(line.size()) != nb ||
            line.find_first_not_of("01") != std::string::npos)
          return fail("expected a layout row of " + std::to_string(nb) +
                      " characters 0 or 1");
        for (char ch : line)
          m.blockLayout.push_back(ch == '1');
      }
      haveLayout = true;
    } else {
      return fail("unknown line '" + key +
                  "' (expected n, document_cuts, block_layout)");
    }
  }
  if (!haveN || !haveCuts || !haveLayout) {
    error = path + ": needs the lines n, document_cuts and block_layout";
    return false;
  }
  m.loaded = true;
  gPeerMasks = std::move(m);
  return true;
}

int benchVariants(faopt::Context &ctx, int reps, std::vector<Row> &rows) {
  const int64_t n = kN, batch = kBatch;
  auto spec = variantSpec;
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
      // Chunked local attention (Llama 4's form, chunks of 1024 here so
      // that n = 8k has eight): like the window, every program's kv range
      // starts at a block that moves with it. Not one of the peers' masks.
      {"chunked_causal_1024",
       spec("chunked", "\"params\": {\"chunk\": \"int\"}, \"mask\": "
                       "[\"causal\", {\"type\": \"chunked\", \"chunk\": "
                       "\"chunk\"}]"),
       {{"chunk", 1024}},
       [](int64_t q, int64_t kv) { return q >= kv && q / 1024 == kv / 1024; }},
      // The same chunks written into the spec: what the run-time divisor
      // costs (its per-score division is 64-bit by a variable; a constant
      // one compiles to a multiply; docs/performance.md item 76).
      {"chunked_causal_1024_const",
       spec("chunked_const", "\"mask\": [\"causal\", {\"type\": "
                             "\"chunked\", \"chunk\": 1024}]"),
       {},
       [](int64_t q, int64_t kv) { return q >= kv && q / 1024 == kv / 1024; }},
  };
  if (gPeerMasks.loaded)
    std::printf("variants: documents and block layout from %s "
                "(FlexAttention's)\n",
                gPeerMasks.path.c_str());
  else
    std::printf("variants: documents and block layout of faopt-bench's own "
                "draws (not FlexAttention's: see --masks-from)\n");
  // 8 packed documents of random lengths (the same for every batch entry).
  std::vector<int32_t> doc(batch * n);
  {
    const std::vector<int64_t> cuts =
        gPeerMasks.loaded ? gPeerMasks.documentCuts : ownDocumentCuts();
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
  // Block-sparse: 25% random + the diagonal (as peers_variants.py).
  variants.push_back(blockSparse("block_sparse_25pct",
                                 gPeerMasks.loaded ? gPeerMasks.blockLayout
                                                   : randomLayout(4)));
  return runVariants(ctx, reps, variants, rows);
}

/// --only block-sparse-shapes: the list-driven block-sparse kernel over
/// program lengths (every block: 64 kv-blocks a program, as dense; half;
/// a quarter, the variants' layout; an eighth) and one contiguous layout of
/// the quarter's length (each q-block's 16 kv-blocks up to its diagonal),
/// so a rate can be split into a per-kv-block and a per-program cost.
int benchBlockSparseShapes(faopt::Context &ctx, int reps,
                           std::vector<Row> &rows) {
  const int64_t nb = kN / 128;
  std::vector<int32_t> band(nb * nb, 0);
  for (int64_t i = 0; i < nb; ++i)
    for (int64_t j = std::max<int64_t>(0, i - 15); j <= i; ++j)
      band[i * nb + j] = 1;
  std::vector<Variant> variants;
  variants.push_back(
      blockSparse("block_sparse_100pct", std::vector<int32_t>(nb * nb, 1)));
  variants.push_back(blockSparse("block_sparse_50pct", randomLayout(2)));
  variants.push_back(blockSparse("block_sparse_25pct", randomLayout(4)));
  variants.push_back(blockSparse("block_sparse_12pct", randomLayout(8)));
  variants.push_back(blockSparse("block_sparse_band16", std::move(band)));
  return runVariants(ctx, reps, variants, rows);
}

namespace {

int runVariants(faopt::Context &ctx, int reps,
                const std::vector<Variant> &variants, std::vector<Row> &rows) {
  const int64_t n = kN, d = kD, batch = kBatch, heads = kHeads;
  size_t elems = static_cast<size_t>(batch * heads * n * d);
  std::vector<void *> bufs;
  for (int i = 0; i < 4; ++i) {
    void *p = nullptr;
    if (!check(cudaMalloc(&p, elems * 2), "cudaMalloc"))
      return 1;
    fillRandom(p, elems, static_cast<unsigned>(100 + i));
    bufs.push_back(p);
  }
  if (!gVariant.empty() &&
      std::none_of(variants.begin(), variants.end(),
                   [](const Variant &v) { return gVariant == v.name; })) {
    std::fprintf(stderr, "faopt-bench: --variant %s: no such variant; one of",
                 gVariant.c_str());
    for (const Variant &v : variants)
      std::fprintf(stderr, " %s", v.name);
    std::fprintf(stderr, "\n");
    return 1;
  }
  float *lse = nullptr;
  check(cudaMalloc(&lse, batch * heads * n * 4), "cudaMalloc");
  // The launch every case shares: the buffers, n queries, `keys` keys.
  auto argsWith = [&](int64_t keys) {
    faopt::ForwardArgs a = faopt::defaultForwardArgs();
    a.q = bufs[0];
    a.k = bufs[1];
    a.v = bufs[2];
    a.o = bufs[3];
    a.lse = lse;
    a.batch = batch;
    a.heads = a.kv_heads = heads;
    a.seqlen_q = n;
    a.seqlen_k = keys;
    return a;
  };
  // Dense at equal work (the issue's "within 10% of our own dense rate at
  // equal work"): the dense kernel with the variant's queries and as many
  // keys per query as the variant attends on average, rounded to whole
  // 128-key blocks, so both do the same matmul work in programs of about
  // the same length. Timed once per key count.
  auto dense = ctx.kernel(variantSpec("dense", ""));
  std::vector<std::pair<int64_t, double>> equalWorkMs;
  auto timeEqualWorkDense = [&](int64_t keys) -> double {
    for (const auto &[k, ms] : equalWorkMs)
      if (k == keys)
        return ms;
    const faopt::ForwardArgs a = argsWith(keys);
    double ms = timeLaunches(*dense, reps, [&](int) { return a; });
    reportDiagWaits("dense at equal work (" + std::to_string(keys) + " keys)");
    equalWorkMs.emplace_back(keys, ms);
    return ms;
  };
  if (!dense) {
    std::fprintf(stderr, "faopt-bench: %s\n", dense.status().message().c_str());
    return 1;
  }
  for (const Variant &var : variants) {
    if (!gVariant.empty() && gVariant != var.name)
      continue;
    auto kernel = ctx.kernel(var.spec);
    if (!kernel) {
      std::fprintf(stderr, "faopt-bench: %s\n", kernel.status().message().c_str());
      return 1;
    }
    faopt::ForwardArgs a = argsWith(n);
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
    reportDiagWaits(var.name);
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
      reportDiagWaits(std::string(var.name) + "+lists_built_once");
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
      row.density = pairs / double(n * n);
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
    if (std::strcmp(var.name, "dense") != 0) {
      const int64_t keys = std::clamp<int64_t>(
          (static_cast<int64_t>(pairs / n) + 64) / 128 * 128, 128, n);
      const double eqMs = timeEqualWorkDense(keys);
      if (eqMs < 0)
        return 1;
      Row row;
      row.what = std::string("equal_work_dense:") + var.name;
      row.d = d;
      row.seq = keys;
      row.batch = batch;
      row.heads = heads;
      row.ms = eqMs;
      row.tflops = 4.0 * d * double(n) * keys * batch * heads /
                   (eqMs * 1e-3) / 1e12;
      row.density = 1.0;
      rows.push_back(row);
      std::printf("  dense at equal work (%lld x %lld): %8.3f ms  %6.1f "
                  "TFLOP/s; %s at %.2f of it\n",
                  static_cast<long long>(n), static_cast<long long>(keys),
                  eqMs, row.tflops, var.name,
                  4.0 * d * pairs * batch * heads / (ms * 1e-3) / 1e12 /
                      row.tflops);
      std::fflush(stdout);
    }
  }
  for (void *p : bufs)
    cudaFree(p);
  cudaFree(lse);
  return 0;
}

} // namespace
} // namespace faopt::bench
