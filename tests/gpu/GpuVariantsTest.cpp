//===- GpuVariantsTest.cpp - masks, scores and parameters on the GPU ------===//
//
// Built-in and expression masks and score modifiers, sequence lengths in
// expressions and run-time parameters, JIT-compiled through the runtime and
// checked against the double-precision CPU reference (tests/common) on the
// same rounded inputs; outputs and lse are poisoned first. The built-ins'
// desugaring is checked against hand-written references in tests/cpu; here
// the spec's own expressions are the reference, evaluated with the launch's
// sequence lengths and parameter values.
//
//===----------------------------------------------------------------------===//
#include "GpuTestUtil.h"
#include "tests/common/ScopedEnv.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <sstream>

using namespace faopt;
using namespace faopt::gputest;

namespace {

struct Variant {
  std::string name;
  std::string fields; // JSON fields after dtype/head_dim
  std::string dtype = "bf16";
  int64_t d = 128;
  int64_t batch = 1, heads = 2, kvHeads = 2, seqQ = 300, seqK = 1000;
  std::vector<std::pair<std::string, double>> params;
  /// Tensor inputs (declaration order, row-major) for the case's shape.
  std::function<test::TensorInputs(const test::Shape &, std::mt19937 &)>
      tensors = nullptr;
  /// K / V rows (b, kv) no query attends, whole 128-key blocks: NaN on the
  /// device (the reference has the real values), so a kernel that loads and
  /// computes with an empty block fails.
  std::function<bool(int64_t b, int64_t kv)> unread = nullptr;
};

void PrintTo(const Variant &v, std::ostream *os) { *os << v.name; }

std::string specFor(const Variant &v) {
  std::ostringstream os;
  os << "{\"name\": \"v_" << v.name << "\", \"dtype\": \"" << v.dtype
     << "\", \"head_dim\": " << v.d << ", " << v.fields << "}";
  return os.str();
}

std::vector<Variant> variants() {
  const std::string window =
      "\"params\": {\"window\": \"int\"}, \"mask\": [{\"type\": \"causal\", "
      "\"align\": \"bottom_right\"}, {\"type\": \"sliding_window\", \"left\": "
      "\"window\", \"align\": \"bottom_right\"}]";
  // Causal attention within documents: ids per (batch, position), `docs`
  // documents a row.
  const std::string documentCausal =
      "\"tensors\": {\"doc\": {\"dtype\": \"int32\", \"shape\": "
      "[\"batch\", \"seqlen\"]}}, \"mask\": [\"causal\", {\"type\": "
      "\"document\", \"ids\": \"doc\"}]";
  auto documents = [](int docs) {
    return [docs](const test::Shape &s, std::mt19937 &rng) {
      return test::TensorInputs{test::documentIds(s.batch, s.seqQ, docs, rng)};
    };
  };
  std::vector<Variant> v;
  v.push_back({"causal_bottom_right_300x1000",
               "\"mask\": {\"type\": \"causal\", \"align\": \"bottom_right\"}"});
  v.push_back({"causal_bottom_right_1000x300",
               "\"mask\": {\"type\": \"causal\", \"align\": \"bottom_right\"}",
               "bf16", 64, 1, 2, 2, 1000, 300});
  // One spec, two window sizes: the second launch reuses the kernel.
  v.push_back({"window_100", window, "bf16", 128, 1, 2, 2, 1000, 1000,
               {{"window", 100}}});
  v.push_back({"window_513", window, "bf16", 128, 1, 2, 2, 1000, 1000,
               {{"window", 513}}});
  v.push_back({"window_gqa4_bshd", window + ", \"layout\": \"bshd\"", "f16",
               64, 2, 8, 2, 257, 700, {{"window", 64}}});
  // Parameters far outside any position: the per-row bounds clamp them
  // (attn-isolate-kv-bounds) and compare saturated (attn-narrow-index-math);
  // the result must be that of the unclamped expression. A window of 2^52
  // (the runtime takes int parameters up to 9e15) is plain causal; a
  // negative one masks every row (o = 0, lse = -inf).
  v.push_back({"window_2pow52", window, "bf16", 64, 1, 2, 2, 300, 500,
               {{"window", 4503599627370496.0}}});
  v.push_back({"window_negative", window, "bf16", 64, 1, 2, 2, 300, 300,
               {{"window", -5}}});
  // The same at d = 128, where (TMA kernels) a band's masked blocks compare
  // per-row bounds that subtract the window with i32 saturation
  // (attn-kv-bounds-in-rows, on by default for bands): windows past i32
  // and negative ones, mostly with seqlen_q != seqlen_k so the
  // bottom-right shift is in the bound too.
  v.push_back({"window_2pow52_d128", window, "bf16", 128, 1, 2, 2, 300, 700,
               {{"window", 4503599627370496.0}}});
  v.push_back({"window_2pow31_d128", window, "bf16", 128, 1, 2, 2, 700, 300,
               {{"window", 2147483648.0}}});
  v.push_back({"window_negative_d128", window, "bf16", 128, 1, 2, 2, 300, 500,
               {{"window", -5}}});
  v.push_back({"window_minus_2pow52_d128", window, "bf16", 128, 1, 2, 2, 300,
               300, {{"window", -4503599627370496.0}}});
  v.push_back({"prefix_lm_param",
               "\"params\": {\"n\": {\"type\": \"int\", \"default\": 64}}, "
               "\"mask\": {\"type\": \"prefix_lm\", \"n\": \"n\"}",
               "bf16", 128, 1, 2, 2, 1000, 1000, {{"n", 333}}});
  v.push_back({"prefix_lm_minus_2pow52",
               "\"params\": {\"n\": {\"type\": \"int\", \"default\": 64}}, "
               "\"mask\": {\"type\": \"prefix_lm\", \"n\": \"n\"}",
               "bf16", 128, 1, 2, 2, 400, 400, {{"n", -4503599627370496.0}}});
  v.push_back({"prefix_lm_default",
               "\"params\": {\"n\": {\"type\": \"int\", \"default\": 64}}, "
               "\"mask\": {\"type\": \"prefix_lm\", \"n\": \"n\"}",
               "bf16", 128, 1, 2, 2, 500, 500});
  v.push_back({"chunked_causal_128",
               "\"mask\": [\"causal\", {\"type\": \"chunked\", \"chunk\": 128}]",
               "bf16", 64, 1, 2, 2, 1000, 1000});
  // Chunks at d = 128 (TMA kernels): the 128 chunk's starts are aligned to
  // the tiles, so it keeps the per-score compares by default and takes the
  // row bounds with FAOPT_ROW_BOUND_MASKS=1; the 100 chunk cuts blocks and
  // takes them by default.
  v.push_back({"chunked_causal_128_d128",
               "\"mask\": [\"causal\", {\"type\": \"chunked\", \"chunk\": 128}]",
               "bf16", 128, 1, 2, 2, 1000, 1000});
  v.push_back({"chunked_100",
               "\"mask\": {\"type\": \"chunked\", \"chunk\": 100}", "bf16", 128,
               1, 2, 2, 700, 700});
  v.push_back({"softcap_param",
               "\"params\": {\"cap\": \"float\"}, \"mask\": \"causal\", "
               "\"score\": {\"type\": \"softcap\", \"cap\": \"cap\"}",
               "f16", 128, 1, 2, 2, 600, 600, {{"cap", 2.0}}});
  v.push_back({"alibi_causal",
               "\"heads\": 4, \"mask\": \"causal\", \"score\": \"alibi\"",
               "bf16", 64, 1, 4, 4, 400, 400});
  // ALiBi for 12 heads (Press et al.'s interleaved slopes) with GQA 12:4 at
  // d = 128 (the TMA kernel), and slopes given as a tensor.
  v.push_back({"alibi_12_heads_gqa",
               "\"heads\": 12, \"kv_heads\": 4, \"mask\": \"causal\", "
               "\"score\": \"alibi\"",
               "bf16", 128, 1, 12, 4, 500, 500});
  v.push_back({"alibi_given_slopes",
               "\"tensors\": {\"m\": {\"dtype\": \"float32\", \"shape\": "
               "[\"heads\"]}}, \"mask\": \"causal\", \"score\": {\"type\": "
               "\"alibi\", \"slopes\": \"m\"}",
               "bf16", 128, 2, 6, 2, 400, 400, {},
               [](const test::Shape &s, std::mt19937 &rng) {
                 std::uniform_real_distribution<double> u(0.01, 0.5);
                 std::vector<double> m(s.heads);
                 for (double &x : m)
                   x = static_cast<float>(u(rng));
                 return test::TensorInputs{m};
               }});
  v.push_back({"expr_seqlen_params",
               "\"params\": {\"w\": \"int\", \"bias\": \"float\"}, \"mask\": "
               "\"kv <= q + seqlen_k - seqlen_q && kv + w > q\", \"score\": "
               "\"score + bias * (kv - q) / seqlen_k\"",
               "bf16", 64, 1, 2, 2, 333, 555, {{"w", 90}, {"bias", 0.5}}});
  // A band written as an expression with seqlen_k at d = 128: the bound
  // seqlen_k - 3 is computed in the kernel and handed to the mask with its
  // range (attn-outline-tile-maps), so the row bounds stay 32-bit.
  v.push_back({"expr_seqlen_band_d128",
               "\"mask\": \"q >= kv && q - kv < 777 && kv < seqlen_k - 3\"",
               "bf16", 128, 1, 2, 2, 1000, 1000});
  v.push_back({"fully_masked_rows", "\"mask\": \"q >= 37 && q >= kv\"", "bf16",
               128, 1, 2, 2, 200, 200});
  // Tensor inputs.
  v.push_back({"document_causal", documentCausal, "bf16", 128, 2, 2, 2, 1000,
               1000, {}, documents(5)});
  // Documents whose ids are sorted in one batch entry and not in the other
  // (ids cycling 0, 1, 2 in runs of 90: equal ids in separate runs attend
  // each other): attn-sorted-keys-as-bounds's list builder gives the first
  // entry's rows kv ranges; in the second, lists whose kv-blocks span
  // more than one run of ids keep the per-score compare (the first
  // q-blocks' lists are sorted and take ranges), in one launch.
  v.push_back({"document_causal_sorted_and_unsorted", documentCausal, "bf16",
               128, 2, 2, 2, 1000, 1000, {},
               [](const test::Shape &s, std::mt19937 &rng) {
                 std::vector<double> ids =
                     test::documentIds(s.batch, s.seqQ, 6, rng);
                 for (int64_t i = 0; i < s.seqQ; ++i)
                   ids[s.seqQ + i] = static_cast<double>((i / 90) % 3);
                 return test::TensorInputs{ids};
               }});
  // Ids 0, 1, 0, 1 in runs of 300: the first q-blocks' lists span sorted
  // ids (kv ranges), later ones span both runs of 0 (the compare), in one
  // batch entry.
  v.push_back({"document_causal_locally_sorted", documentCausal, "bf16", 128,
               1, 2, 2, 1000, 1000, {},
               [](const test::Shape &s, std::mt19937 &) {
                 std::vector<double> ids(s.batch * s.seqQ);
                 for (size_t i = 0; i < ids.size(); ++i)
                   ids[i] = static_cast<double>((i / 300) % 2);
                 return test::TensorInputs{ids};
               }});
  // Document ids per (batch, head) with GQA: lists per head; heads 0 and 2
  // get sorted ids (kv ranges), heads 1 and 3 ids cycling in runs of 70
  // (the compare), so the flag and ranges are read from each head's row.
  v.push_back({"document_per_head_ids_gqa",
               "\"tensors\": {\"doc\": {\"dtype\": \"int32\", \"shape\": "
               "[\"batch\", \"heads\", \"seqlen\"]}}, \"mask\": \"doc[b, h, "
               "q] == doc[b, h, kv] && q >= kv\"",
               "bf16", 128, 2, 4, 2, 900, 900, {},
               [](const test::Shape &s, std::mt19937 &rng) {
                 std::vector<double> ids;
                 for (int64_t b = 0; b < s.batch; ++b)
                   for (int64_t h = 0; h < s.heads; ++h) {
                     std::vector<double> row =
                         h % 2 == 0 ? test::documentIds(1, s.seqQ, 5, rng)
                                    : std::vector<double>(s.seqQ);
                     if (h % 2 == 1)
                       for (int64_t i = 0; i < s.seqQ; ++i)
                         row[i] = static_cast<double>((i / 70) % 3);
                     ids.insert(ids.end(), row.begin(), row.end());
                   }
                 return test::TensorInputs{ids};
               }});
  // Many short documents (runs of ~7): the builder's searches end on run
  // edges inside every kv-block.
  v.push_back({"document_causal_many_short", documentCausal, "bf16", 128, 1,
               2, 2, 1000, 1000, {}, documents(150)});
  // Cross attention between documents: q ids and sorted kv ids of another
  // length, some q ids absent from kv (rows with no kv: o = 0, lse = -inf)
  // and the last document running to the end of kv.
  v.push_back({"document_cross_sorted_keys",
               "\"tensors\": {\"qdoc\": {\"dtype\": \"int32\", \"shape\": "
               "[\"batch\", \"seqlen_q\"]}, \"kvdoc\": {\"dtype\": \"int32\", "
               "\"shape\": [\"batch\", \"seqlen_k\"]}}, \"mask\": \"qdoc[b, "
               "q] == kvdoc[b, kv]\"",
               "bf16", 128, 1, 2, 2, 700, 1100, {},
               [](const test::Shape &s, std::mt19937 &) {
                 std::vector<double> q(s.seqQ), kv(s.seqK);
                 for (int64_t i = 0; i < s.seqQ; ++i)
                   q[i] = static_cast<double>((i / 100) % 6);
                 for (int64_t i = 0; i < s.seqK; ++i)
                   kv[i] = static_cast<double>(i * 7 / s.seqK * 2);
                 return test::TensorInputs{q, kv};
               }});
  // The same documents as each position's document start (a kv bound read
  // from a tensor at q): on TMA kernels a band, so its masked blocks take
  // per-row bounds (map_positions_in_rows) in a list-driven kernel.
  v.push_back({"document_start_causal",
               "\"tensors\": {\"start\": {\"dtype\": \"int32\", \"shape\": "
               "[\"batch\", \"seqlen\"]}}, \"mask\": \"kv >= start[b, q] && "
               "kv <= q\"",
               "bf16", 128, 2, 2, 2, 1000, 1000, {},
               [](const test::Shape &s, std::mt19937 &rng) {
                 return test::TensorInputs{
                     test::documentStarts(s.batch, s.seqQ, 5, rng)};
               }});
  v.push_back({"key_padding_gqa",
               "\"tensors\": {\"lens\": {\"dtype\": \"int32\", \"shape\": "
               "[\"batch\"]}}, \"mask\": {\"type\": \"key_padding\", "
               "\"lengths\": \"lens\"}",
               "f16", 64, 3, 4, 1, 200, 700, {},
               [](const test::Shape &, std::mt19937 &) {
                 return test::TensorInputs{{700, 129, 0}};
               }});
  v.push_back({"bias_broadcast_gqa",
               "\"tensors\": {\"bias\": {\"dtype\": \"float32\", \"shape\": "
               "[1, \"heads\", 1, \"seqlen_k\"]}}, \"score\": {\"type\": "
               "\"bias\", \"tensor\": \"bias\"}",
               "bf16", 128, 2, 4, 2, 300, 700, {},
               [](const test::Shape &s, std::mt19937 &rng) {
                 std::uniform_real_distribution<double> u(-3, 3);
                 std::vector<double> b(s.heads * s.seqK);
                 for (double &x : b)
                   x = static_cast<float>(u(rng));
                 return test::TensorInputs{b};
               }});
  // Prefix-LM and chunks aligned bottom-right, and query lengths.
  v.push_back({"prefix_lm_bottom_right",
               "\"mask\": {\"type\": \"prefix_lm\", \"n\": 300, "
               "\"align\": \"bottom_right\"}",
               "bf16", 128, 1, 2, 2, 500, 1300});
  v.push_back({"chunked_bottom_right_more_queries",
               "\"mask\": [{\"type\": \"causal\", \"align\": "
               "\"bottom_right\"}, {\"type\": \"chunked\", \"chunk\": 200, "
               "\"align\": \"bottom_right\"}]",
               "bf16", 128, 1, 2, 2, 900, 700});
  v.push_back({"query_and_key_padding_gqa",
               "\"tensors\": {\"ql\": {\"dtype\": \"int32\", \"shape\": "
               "[\"batch\"]}, \"kl\": {\"dtype\": \"int32\", \"shape\": "
               "[\"batch\"]}}, \"mask\": [\"causal\", {\"type\": "
               "\"query_padding\", \"lengths\": \"ql\"}, {\"type\": "
               "\"key_padding\", \"lengths\": \"kl\"}]",
               "bf16", 128, 3, 4, 2, 600, 600, {},
               [](const test::Shape &, std::mt19937 &) {
                 return test::TensorInputs{{600, 333, 0}, {600, 333, 0}};
               }});
  // A window reaching forward as well as back (row bounds on sm90a).
  v.push_back({"window_left_right_gqa",
               "\"mask\": {\"type\": \"sliding_window\", \"left\": 300, "
               "\"right\": 77}",
               "bf16", 128, 1, 4, 2, 900, 900});
  v.push_back({"bias_causal",
               "\"tensors\": {\"bias\": {\"dtype\": \"float32\", \"shape\": "
               "[\"heads\", \"seqlen_q\", \"seqlen_k\"]}}, \"mask\": "
               "\"causal\", \"score\": {\"type\": \"bias\", \"tensor\": "
               "\"bias\"}",
               "bf16", 64, 1, 2, 2, 300, 300, {},
               [](const test::Shape &s, std::mt19937 &rng) {
                 std::uniform_real_distribution<double> u(-2, 2);
                 std::vector<double> b(s.heads * s.seqQ * s.seqK);
                 for (double &x : b)
                   x = static_cast<float>(u(rng));
                 return test::TensorInputs{b};
               }});
  // Block sparsity: run-time layouts (per batch and head; broadcast with
  // blocks smaller than the tile; 2-D with an empty q-block row) and a
  // static one, through the generated list builder.
  auto layout = [](const std::string &dims, const std::string &block,
                   const std::string &more) {
    return "\"tensors\": {\"L\": {\"dtype\": \"int32\", \"shape\": [" +
           dims + "]}}, \"sparsity\": {\"block\": [" + block +
           "], \"layout\": \"L\"}" + more;
  };
  v.push_back({"block_sparse_per_head",
               layout("\"batch\", \"heads\", \"seqlen_q/128\", "
                      "\"seqlen_k/128\"",
                      "128, 128", ""),
               "bf16", 128, 2, 4, 4, 1000, 1000, {},
               [](const test::Shape &s, std::mt19937 &rng) {
                 return test::TensorInputs{
                     test::blockLayout(s.batch * s.heads, 8, 8, 0.25, rng)};
               }});
  v.push_back({"block_sparse_broadcast_causal_small_blocks_gqa",
               layout("1, 1, \"seqlen_q/64\", \"seqlen_k/64\"", "64, 64",
                      ", \"mask\": \"causal\", \"layout\": \"bshd\""),
               "f16", 64, 2, 4, 2, 700, 700, {},
               [](const test::Shape &, std::mt19937 &rng) {
                 return test::TensorInputs{test::blockLayout(1, 11, 11, 0.3, rng)};
               }});
  // A run-time layout with a window parameter at d = 128 (list-driven TMA
  // kernel; its masked map keeps the layout's term, so it compares per
  // score: only masks that are nothing but kv bounds take row bounds).
  v.push_back({"block_sparse_per_head_window_d128",
               layout("\"batch\", \"heads\", \"seqlen_q/128\", "
                      "\"seqlen_k/128\"",
                      "128, 128",
                      ", \"params\": {\"window\": \"int\"}, \"mask\": "
                      "[\"causal\", {\"type\": \"sliding_window\", "
                      "\"left\": \"window\"}]"),
               "bf16", 128, 2, 4, 4, 1000, 1000, {{"window", 300}},
               [](const test::Shape &s, std::mt19937 &rng) {
                 return test::TensorInputs{
                     test::blockLayout(s.batch * s.heads, 8, 8, 0.5, rng)};
               }});
  v.push_back({"block_sparse_2d_empty_row",
               layout("\"seqlen_q/128\", \"seqlen_k/256\"", "128, 256", ""),
               "bf16", 128, 1, 2, 2, 512, 1024, {},
               [](const test::Shape &, std::mt19937 &rng) {
                 std::vector<double> l = test::blockLayout(1, 4, 4, 0.5, rng);
                 for (int j = 0; j < 4; ++j)
                   l[2 * 4 + j] = 0; // q-block 2 attends nothing
                 return test::TensorInputs{l};
               }});
  v.push_back({"block_sparse_static_causal",
               "\"mask\": \"causal\", \"sparsity\": {\"block\": [128, 128], "
               "\"layout\": [[1, 0, 0, 0], [1, 1, 0, 0], [0, 1, 1, 0], "
               "[1, 0, 1, 1]]}",
               "bf16", 128, 1, 2, 2, 512, 512, {},
               [](const test::Shape &, std::mt19937 &) {
                 return test::TensorInputs{{1, 0, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0,
                                            1, 0, 1, 1}};
               }});
  // More programs than SMs (persistent sm90a kernels run several per CTA):
  // kv loops of different lengths, empty ones (the rows before q = 300 see
  // nothing; empty layout rows), and list-driven loops, all numbering their
  // fills across a worker's programs.
  v.push_back({"window_many_programs", window, "bf16", 128, 4, 16, 16, 1000,
               1000, {{"window", 300}}});
  v.push_back({"empty_programs_many", "\"mask\": \"q >= 300 && q >= kv\"",
               "bf16", 128, 2, 40, 40, 1000, 1000});
  v.push_back({"document_causal_many_programs", documentCausal, "bf16", 128, 4,
               12, 12, 1111, 1111, {}, documents(7)});
  v.push_back({"block_sparse_per_head_many_programs",
               layout("\"batch\", \"heads\", \"seqlen_q/128\", "
                      "\"seqlen_k/128\"",
                      "128, 128", ""),
               "bf16", 128, 3, 16, 16, 1000, 1000, {},
               [](const test::Shape &s, std::mt19937 &rng) {
                 return test::TensorInputs{
                     test::blockLayout(s.batch * s.heads, 8, 8, 0.25, rng)};
               }});
  // Empty blocks are never loaded: K and V are NaN where no query looks.
  {
    Variant keysPastQueries{"causal_keys_past_queries_unread",
                            "\"mask\": \"causal\"", "bf16", 128, 1, 2, 1, 256,
                            640};
    keysPastQueries.unread = [](int64_t, int64_t kv) { return kv >= 256; };
    v.push_back(keysPastQueries);
    Variant emptyColumn{"block_sparse_empty_column_unread",
                        layout("\"seqlen_q/128\", \"seqlen_k/128\"", "128, 128",
                               ""),
                        "bf16", 128, 2, 2, 2, 256, 384, {},
                        [](const test::Shape &, std::mt19937 &) {
                          return test::TensorInputs{{1, 0, 1, 0, 0, 1}};
                        }};
    emptyColumn.unread = [](int64_t, int64_t kv) {
      return kv >= 128 && kv < 256;
    };
    v.push_back(emptyColumn);
    Variant padding{"key_padding_unread",
                    "\"tensors\": {\"lens\": {\"dtype\": \"int32\", "
                    "\"shape\": [\"batch\"]}}, \"mask\": {\"type\": "
                    "\"key_padding\", \"lengths\": \"lens\"}",
                    "bf16", 128, 2, 2, 2, 300, 512, {},
                    [](const test::Shape &, std::mt19937 &) {
                      return test::TensorInputs{{384, 128}};
                    }};
    padding.unread = [](int64_t b, int64_t kv) {
      return kv >= (b == 0 ? 384 : 128);
    };
    v.push_back(padding);
  }
  return v;
}

class GpuVariants : public ::testing::TestWithParam<Variant> {};

/// Runs `kernel` (compiled from specFor(c)) on random inputs of c's shape,
/// with c's parameter and tensor values, and checks o and lse against the
/// double-precision reference.
void expectMatchesReference(const Variant &c, Kernel &kernel) {
  std::string specText = specFor(c);
  spec::SpecParseResult parsed = spec::parseSpec(specText);
  ASSERT_TRUE(parsed.spec) << parsed.error;
  const spec::AttentionSpec &sp = *parsed.spec;

  std::mt19937 rng(std::hash<std::string>()(c.name) ^ 0xfeed);
  auto make = [&](int64_t h, int64_t s) {
    return test::makeBuffer(sp.dtype, sp.layout, c.batch, h, s, c.d);
  };
  test::Buffer q = make(c.heads, c.seqQ), k = make(c.kvHeads, c.seqK),
               v = make(c.kvHeads, c.seqK), o = make(c.heads, c.seqQ);
  std::vector<double> qv = test::fillRandom(q, rng),
                      kv = test::fillRandom(k, rng),
                      vv = test::fillRandom(v, rng);
  if (c.unread) {
    test::poisonRows(k, c.unread);
    test::poisonRows(v, c.unread);
  }
  test::poison(o);
  size_t rows = static_cast<size_t>(c.batch * c.heads * c.seqQ);
  void *dq, *dk, *dv, *dout;
  float *dlse;
  CUDA_OK(cudaMalloc(&dq, q.bytes.size()));
  CUDA_OK(cudaMalloc(&dk, k.bytes.size()));
  CUDA_OK(cudaMalloc(&dv, v.bytes.size()));
  CUDA_OK(cudaMalloc(&dout, o.bytes.size()));
  CUDA_OK(cudaMalloc(&dlse, rows * 4));
  CUDA_OK(cudaMemcpy(dq, q.data(), q.bytes.size(), cudaMemcpyHostToDevice));
  CUDA_OK(cudaMemcpy(dk, k.data(), k.bytes.size(), cudaMemcpyHostToDevice));
  CUDA_OK(cudaMemcpy(dv, v.data(), v.bytes.size(), cudaMemcpyHostToDevice));
  CUDA_OK(cudaMemcpy(dout, o.data(), o.bytes.size(), cudaMemcpyHostToDevice));
  CUDA_OK(cudaMemset(dlse, 0xff, rows * 4)); // NaN

  std::vector<faopt_param_value> params;
  for (const auto &[name, value] : c.params)
    params.push_back({name.c_str(), value});
  // Tensor inputs: int32 / float32 on the device, packed row-major.
  test::Shape shape;
  shape.batch = c.batch;
  shape.heads = c.heads;
  shape.kvHeads = c.kvHeads;
  shape.seqQ = c.seqQ;
  shape.seqK = c.seqK;
  shape.headDimQK = shape.headDimV = c.d;
  test::TensorInputs tensorValues =
      c.tensors ? c.tensors(shape, rng) : test::TensorInputs{};
  std::string tensorError;
  test::HostTensorInputs host =
      test::hostTensorInputs(sp, shape, tensorValues, tensorError);
  ASSERT_EQ(tensorError, "");
  std::vector<faopt_tensor_value> tensors;
  std::vector<void *> tensorMemory;
  for (size_t i = 0; i < host.size(); ++i) {
    void *dp = nullptr;
    CUDA_OK(cudaMalloc(&dp, std::max<size_t>(host.bytes(i), 4)));
    CUDA_OK(cudaMemcpy(dp, host.data(i), host.bytes(i), cudaMemcpyHostToDevice));
    faopt_tensor_value tv{sp.tensors[host.decl[i]].name.c_str(), dp, {}, {}};
    for (size_t d = 0; d < host.sizes[i].size(); ++d)
      tv.sizes[d] = host.sizes[i][d];
    tensors.push_back(tv);
    tensorMemory.push_back(dp);
  }
  ForwardArgs args = defaultForwardArgs();
  args.q = dq;
  args.k = dk;
  args.v = dv;
  args.o = dout;
  args.lse = dlse;
  args.batch = c.batch;
  args.heads = c.heads;
  args.kv_heads = c.kvHeads;
  args.seqlen_q = c.seqQ;
  args.seqlen_k = c.seqK;
  args.params = params.data();
  args.num_params = static_cast<int>(params.size());
  args.tensors = tensors.data();
  args.num_tensors = static_cast<int>(tensors.size());
  Status s = kernel.forward(args);
  ASSERT_TRUE(s.ok()) << s.message();
  CUDA_OK(cudaDeviceSynchronize());
  CUDA_OK(cudaMemcpy(o.data(), dout, o.bytes.size(), cudaMemcpyDeviceToHost));
  std::vector<float> lse(rows);
  CUDA_OK(cudaMemcpy(lse.data(), dlse, rows * 4, cudaMemcpyDeviceToHost));
  for (void *p : {dq, dk, dv, dout, static_cast<void *>(dlse)})
    cudaFree(p);
  for (void *p : tensorMemory)
    cudaFree(p);

  // Parameter values in declaration order, defaults where not given.
  test::ParamValues values;
  for (const spec::ParamDecl &p : sp.params) {
    double x = p.defaultValue;
    for (const auto &[name, value] : c.params)
      if (name == p.name)
        x = value;
    values.push_back(x);
  }
  test::Reference ref = test::referenceAttention(
      shape, sp.effectiveScale(), qv, kv, vv,
      test::maskOf(sp, shape, values, &tensorValues),
      test::scoreOf(sp, shape, values, &tensorValues));
  std::vector<double> got = test::read(o);
  for (double x : got)
    ASSERT_FALSE(std::isnan(x)) << "an output element was not written";
  EXPECT_LT(test::relativeL2(got, ref.o), test::tolerance(sp.dtype))
      << "output relative L2";
  std::vector<double> gl(lse.begin(), lse.end());
  EXPECT_LT(test::lseError(gl, ref.lse), 1e-3) << "lse (or -inf mismatch)";
  for (size_t row = 0; row < ref.lse.size(); ++row) {
    if (std::isinf(ref.lse[row])) {
      for (int64_t d = 0; d < c.d; ++d)
        ASSERT_EQ(got[row * c.d + d], 0.0) << "masked row " << row;
    }
  }
}

TEST_P(GpuVariants, MatchesReference) {
  SKIP_WITHOUT_GPU();
  const Variant &c = GetParam();
  Result<Kernel> kernel = context().kernel(specFor(c));
  ASSERT_TRUE(kernel) << kernel.status().message();
  expectMatchesReference(c, *kernel);
}

INSTANTIATE_TEST_SUITE_P(Specs, GpuVariants, ::testing::ValuesIn(variants()),
                         [](const ::testing::TestParamInfo<Variant> &info) {
                           return info.param.name;
                         });

/// Changing a run-time parameter re-launches the same compiled kernel: one
/// kernel, got once, runs two window sizes and matches the reference for
/// each, and getting the spec again returns that kernel (no compile).
TEST(GpuVariantsRuntime, ParameterChangeNeedsNoRecompile) {
  SKIP_WITHOUT_GPU();
  Variant narrow = variants()[2]; // window_100
  ASSERT_EQ(narrow.name, "window_100");
  narrow.name = "window_param_relaunch"; // a spec no other test compiles
  Variant wide = narrow;
  wide.params = {{"window", 513}};
  ASSERT_EQ(specFor(narrow), specFor(wide));
  Result<Kernel> kernel = context().kernel(specFor(narrow));
  ASSERT_TRUE(kernel) << kernel.status().message();
  // The parameter is a kernel argument, not part of the compiled code.
  EXPECT_NE(std::string(kernel->info().manifest).find("\"name\": \"window\""),
            std::string::npos)
      << kernel->info().manifest;
  expectMatchesReference(narrow, *kernel);
  expectMatchesReference(wide, *kernel);
  Result<Kernel> again = context().kernel(specFor(wide));
  ASSERT_TRUE(again) << again.status().message();
  EXPECT_EQ(again->handle(), kernel->handle()) << "one spec, one kernel";
  expectMatchesReference(narrow, *again);
}

/// The variants `names`, each compiled under the environment the caller
/// set, against the reference; on sm90a each manifest must contain every
/// string of `manifestHas` (`otherwise` says what an absence means). The
/// specs are renamed `<name>_<suffix>`: the context compiles a spec text
/// once and keeps the kernel, whatever the environment says later, so
/// under the variant's own name this could get (or leave behind for
/// Specs/GpuVariants) a kernel compiled under another environment.
void expectNamedVariantsMatch(std::initializer_list<const char *> names,
                              const std::string &suffix,
                              std::initializer_list<const char *> manifestHas,
                              const char *otherwise) {
  const std::vector<Variant> all = variants();
  for (const char *name : names) {
    SCOPED_TRACE(name);
    auto it = std::find_if(all.begin(), all.end(),
                           [&](const Variant &v) { return v.name == name; });
    ASSERT_NE(it, all.end());
    Variant own = *it;
    own.name += "_" + suffix;
    Result<Kernel> kernel = context().kernel(specFor(own));
    ASSERT_TRUE(kernel) << kernel.status().message();
    if (context().target() == "sm90a")
      for (const char *expected : manifestHas)
        EXPECT_NE(std::string(kernel->info().manifest).find(expected),
                  std::string::npos)
            << otherwise << " (no " << expected << " in the manifest)";
    expectMatchesReference(own, *kernel);
  }
}

/// Persistent list-driven kernels with their programs handed out at run
/// time (FAOPT_PERSISTENT=1: attn-persistent-programs' hand-out on sm90a):
/// more programs than SMs, empty and short programs, lists built per
/// launch, all against the reference. (Opt-in, so the cases above do not
/// reach it; docs/performance.md item 48.)
TEST(GpuVariantsRuntime, HandedOutProgramsMatchTheReference) {
  SKIP_WITHOUT_GPU();
  test::ScopedEnv persistent("FAOPT_PERSISTENT", "1");
  expectNamedVariantsMatch(
      {"document_causal_many_programs", "block_sparse_per_head_many_programs",
       "document_causal_many_short", "document_start_causal",
       "key_padding_unread", "block_sparse_empty_column_unread"},
      "handed_out", {"\"program_counter\": true"}, "not handed out");
}

/// attn-overlap-softmax's rounded-p (FAOPT_ROUNDED_P=1, opt-in until timed:
/// docs/performance.md item 50): P carried rounded across the kv loop, on
/// d = 128 TMA kernels of every kind (static masks, a band, lists,
/// block-sparse, fully masked rows, many programs), against the reference;
/// and ptxas must not have serialised their wgmmas (C7513: the first version
/// did, and ran 25% slower).
TEST(GpuVariantsRuntime, RoundedPMatchesTheReference) {
  SKIP_WITHOUT_GPU();
  test::ScopedEnv rounded("FAOPT_ROUNDED_P", "1");
  expectNamedVariantsMatch(
      {"window_2pow52_d128", "chunked_causal_128_d128", "expr_seqlen_band_d128",
       "fully_masked_rows", "document_causal", "document_causal_many_programs",
       "block_sparse_per_head_window_d128", "block_sparse_per_head_many_programs"},
      "rounded_p", {"\"rounded_p\": true", "\"wgmma_serialized\": false"},
      "not rounded-p, or ptxas serialised the wgmmas");
}

} // namespace
