//===- CpuNumericsCases.cpp - the CPU numerics tests' cases ---------------===//
//
// Lengths straddle the 32x32 CPU tiles (1, 17, 127, 129, 1000) and
// seqlen_q != seqlen_k; built-in masks and scores get hand-written
// references, so the spec's own desugaring is checked too.
//
//===----------------------------------------------------------------------===//
#include "tests/cpu/CpuNumericsCases.h"

#include <algorithm>
#include <cmath>

namespace faopt::test {

std::vector<Case> cases() {
  std::vector<Case> c;
  const char *causal = ", \"mask\": \"causal\"";
  // Masks over lengths that straddle the 32x32 CPU tiles.
  for (auto [sq, sk] : std::vector<std::pair<int64_t, int64_t>>{
           {1, 1}, {17, 17}, {127, 127}, {129, 129}, {17, 129}, {129, 17},
           {1, 300}, {300, 1}}) {
    std::string len = std::to_string(sq) + "x" + std::to_string(sk);
    c.push_back({"dense_" + len, specJson("f32", 64, ""),
                 shape(1, 2, 2, sq, sk, 64)});
    c.push_back({"causal_" + len, specJson("f32", 64, causal),
                 shape(1, 2, 2, sq, sk, 64), kCausal});
    c.push_back(
        {"sliding_window_" + len,
         specJson("f32", 64,
                  ", \"mask\": {\"type\": \"sliding_window\", \"left\": 40, "
                  "\"right\": 9}"),
         shape(1, 2, 2, sq, sk, 64),
         [](int64_t, int64_t, int64_t q, int64_t kv) {
           return q - kv <= 40 && kv - q <= 9;
         }});
    c.push_back({"prefix_lm_" + len,
                 specJson("f32", 64,
                          ", \"mask\": {\"type\": \"prefix_lm\", \"n\": 45}"),
                 shape(1, 2, 2, sq, sk, 64),
                 [](int64_t, int64_t, int64_t q, int64_t kv) {
                   return kv < 45 || q >= kv;
                 }});
  }
  // Long sequences, each kind once.
  c.push_back({"dense_1000", specJson("f32", 64, ""),
               shape(1, 1, 1, 1000, 1000, 64)});
  c.push_back({"causal_1000", specJson("f32", 64, causal),
               shape(1, 1, 1, 1000, 1000, 64), kCausal});
  c.push_back({"causal_window_1000",
               specJson("f32", 32,
                        ", \"mask\": [\"causal\", {\"type\": "
                        "\"sliding_window\", \"left\": 100}]"),
               shape(1, 1, 1, 1000, 1000, 32),
               [](int64_t, int64_t, int64_t q, int64_t kv) {
                 return q >= kv && q - kv <= 100;
               }});
  // Expression masks and scores.
  c.push_back({"expr_mask_window",
               specJson("f32", 64, ", \"mask\": \"q >= kv && q - kv < 50\""),
               shape(2, 2, 1, 129, 129, 64),
               [](int64_t, int64_t, int64_t q, int64_t kv) {
                 return q >= kv && q - kv < 50;
               }});
  c.push_back({"expr_mask_chunked",
               specJson("f32", 64, ", \"mask\": \"q / 48 == kv / 48\""),
               shape(1, 2, 2, 200, 200, 64),
               [](int64_t, int64_t, int64_t q, int64_t kv) {
                 return q / 48 == kv / 48;
               }});
  c.push_back({"expr_mask_heads_and_ternary",
               specJson("f32", 64,
                        ", \"mask\": \"h == 0 ? q >= kv : max(q, kv) - "
                        "min(q, kv) <= 20 || kv % 16 == 3\""),
               shape(1, 2, 2, 100, 120, 64),
               [](int64_t, int64_t h, int64_t q, int64_t kv) {
                 return h == 0 ? q >= kv
                               : std::max(q, kv) - std::min(q, kv) <= 20 ||
                                     kv % 16 == 3;
               }});
  c.push_back({"expr_score_linear_bias",
               specJson("f32", 64,
                        ", \"mask\": \"causal\", \"score\": \"score - 0.5 * "
                        "(q - kv)\""),
               shape(1, 2, 2, 129, 129, 64), kCausal,
               [](double s, int64_t, int64_t, int64_t q, int64_t kv) {
                 return s - 0.5 * static_cast<double>(q - kv);
               }});
  c.push_back({"softcap",
               specJson("f32", 64,
                        ", \"score\": {\"type\": \"softcap\", \"cap\": 2.5}"),
               shape(1, 2, 2, 127, 129, 64), nullptr,
               [](double s, int64_t, int64_t, int64_t, int64_t) {
                 return 2.5 * std::tanh(s / 2.5);
               }});
  c.push_back({"alibi_causal",
               specJson("f32", 64,
                        ", \"heads\": 4, \"mask\": \"causal\", \"score\": "
                        "\"alibi\""),
               shape(1, 4, 4, 129, 129, 64), kCausal,
               [](double s, int64_t, int64_t h, int64_t q, int64_t kv) {
                 double slope = std::exp2(-8.0 * (h + 1) / 4);
                 return s + slope * static_cast<double>(kv - q);
               }});
  // ALiBi for 12 heads (not a power of two: Press et al.'s interleaved
  // slopes, here as their reference code builds them) with GQA 12:4, and
  // with slopes given as a tensor (one per query head) with GQA 6:2.
  c.push_back({"alibi_12_heads_gqa",
               specJson("f32", 64,
                        ", \"heads\": 12, \"kv_heads\": 4, \"mask\": "
                        "\"causal\", \"score\": \"alibi\""),
               shape(1, 12, 4, 70, 70, 64), kCausal,
               [](double s, int64_t, int64_t h, int64_t q, int64_t kv) {
                 // The first 8: 2^-1 .. 2^-8; then 2^-0.5, 2^-1.5, ... (every
                 // other slope of 16 heads).
                 double slope = h < 8 ? std::exp2(-(h + 1.0))
                                      : std::exp2(-(2 * (h - 8) + 1) / 2.0);
                 return s + slope * static_cast<double>(kv - q);
               }});
  c.push_back({"alibi_given_slopes_gqa",
               specJson("f32", 64,
                        ", \"tensors\": {\"m\": {\"dtype\": \"float32\", "
                        "\"shape\": [\"heads\"]}}, \"mask\": \"causal\", "
                        "\"score\": {\"type\": \"alibi\", \"slopes\": \"m\"}"),
               shape(2, 6, 2, 90, 90, 64), kCausal,
               [](double s, int64_t, int64_t h, int64_t q, int64_t kv) {
                 return s + 1.0 / (h + 2) * static_cast<double>(kv - q);
               },
               {},
               [](const Shape &s, std::mt19937 &) {
                 std::vector<double> m(s.heads);
                 for (int64_t h = 0; h < s.heads; ++h)
                   m[h] = static_cast<float>(1.0 / (h + 2));
                 return TensorInputs{m};
               }});
  c.push_back({"expr_score_exp_tanh",
               specJson("f32", 64,
                        ", \"score\": \"tanh(score) + exp(-abs(q - kv) / "
                        "64.0)\""),
               shape(1, 1, 1, 65, 70, 64)});
  // GQA 1 / 4 / 8.
  for (int64_t kvh : {8, 2, 1})
    c.push_back({"gqa_" + std::to_string(8 / kvh), specJson("f32", 64, causal),
                 shape(2, 8, kvh, 65, 97, 64), kCausal});
  // Head dims and dtypes.
  for (const char *dtype : {"f32", "bf16", "f16"})
    for (int64_t d : {32, 64, 128})
      c.push_back({std::string(dtype) + "_d" + std::to_string(d),
                   specJson(dtype, d, causal), shape(1, 2, 1, 129, 127, d),
                   kCausal});
  c.push_back({"bf16_1000", specJson("bf16", 64, causal),
               shape(1, 1, 1, 1000, 1000, 64), kCausal});
  c.push_back({"dqk_ne_dv", specJson("bf16", 64, causal, "bhsd", 128),
               shape(1, 2, 2, 100, 100, 64, 128), kCausal});
  // Layout bshd, scale, no lse.
  c.push_back({"bshd_causal", specJson("bf16", 64, causal, "bshd"),
               shape(2, 4, 2, 77, 91, 64), kCausal});
  c.push_back({"scale_and_no_lse",
               specJson("f32", 64, ", \"scale\": 0.3, \"lse\": false"),
               shape(1, 2, 2, 40, 50, 64)});
  // Sequence lengths and run-time parameters (hand-written references).
  for (auto [sq, sk] : std::vector<std::pair<int64_t, int64_t>>{
           {17, 129}, {129, 17}, {100, 100}, {1, 300}}) {
    std::string len = std::to_string(sq) + "x" + std::to_string(sk);
    int64_t off = sk - sq;
    c.push_back({"causal_bottom_right_" + len,
                 specJson("f32", 64,
                          ", \"mask\": {\"type\": \"causal\", \"align\": "
                          "\"bottom_right\"}"),
                 shape(1, 2, 2, sq, sk, 64),
                 [off](int64_t, int64_t, int64_t q, int64_t kv) {
                   return q + off >= kv;
                 }});
    // Window size from a parameter, given at run time: two values, one
    // compiled kernel.
    for (int64_t window : {3, 40}) {
      c.push_back(
          {"window_param_" + std::to_string(window) + "_" + len,
           specJson("f32", 64,
                    ", \"params\": {\"window\": \"int\"}, \"mask\": "
                    "[{\"type\": \"causal\", \"align\": \"bottom_right\"}, "
                    "{\"type\": \"sliding_window\", \"left\": \"window\", "
                    "\"align\": \"bottom_right\"}]"),
           shape(1, 2, 1, sq, sk, 64),
           [off, window](int64_t, int64_t, int64_t q, int64_t kv) {
             return q + off >= kv && q + off - kv <= window;
           },
           nullptr, {static_cast<double>(window)}});
    }
  }
  c.push_back({"prefix_lm_param",
               specJson("f32", 64,
                        ", \"params\": {\"n\": {\"type\": \"int\", "
                        "\"default\": 7}}, \"mask\": {\"type\": \"prefix_lm\", "
                        "\"n\": \"n\"}"),
               shape(1, 2, 2, 129, 129, 64),
               [](int64_t, int64_t, int64_t q, int64_t kv) {
                 return kv < 70 || q >= kv;
               },
               nullptr, {70}});
  c.push_back({"prefix_lm_param_default",
               specJson("f32", 64,
                        ", \"params\": {\"n\": {\"type\": \"int\", "
                        "\"default\": 7}}, \"mask\": {\"type\": \"prefix_lm\", "
                        "\"n\": \"n\"}"),
               shape(1, 2, 2, 129, 129, 64),
               [](int64_t, int64_t, int64_t q, int64_t kv) {
                 return kv < 7 || q >= kv;
               }});
  c.push_back({"chunked_causal",
               specJson("f32", 64,
                        ", \"mask\": [\"causal\", {\"type\": \"chunked\", "
                        "\"chunk\": 40}]"),
               shape(1, 2, 2, 150, 150, 64),
               [](int64_t, int64_t, int64_t q, int64_t kv) {
                 return q >= kv && q / 40 == kv / 40;
               }});
  // The chunk as a run-time parameter: block classification divides the
  // bounds by it, in the direction of its sign (a negative chunk floors
  // the other way: chunks (0), [1, 40], [41, 80], ...).
  for (int64_t chunk : {40, 64, -40}) {
    c.push_back(
        {"chunked_causal_param_" +
             (chunk < 0 ? "minus_" + std::to_string(-chunk)
                        : std::to_string(chunk)),
         specJson("f32", 64,
                  ", \"params\": {\"chunk\": \"int\"}, \"mask\": "
                  "[\"causal\", {\"type\": \"chunked\", \"chunk\": "
                  "\"chunk\"}]"),
         shape(1, 2, 2, 150, 150, 64),
         [chunk](int64_t, int64_t, int64_t q, int64_t kv) {
           auto floorDiv = [](int64_t a, int64_t b) {
             int64_t t = a / b;
             return (a % b != 0 && ((a < 0) != (b < 0))) ? t - 1 : t;
           };
           return q >= kv && floorDiv(q, chunk) == floorDiv(kv, chunk);
         },
         nullptr, {static_cast<double>(chunk)}});
  }
  // Prefix-LM and chunks aligned bottom-right (queries against the last
  // keys), with fewer and with more queries than keys.
  for (auto [sq, sk] : std::vector<std::pair<int64_t, int64_t>>{
           {70, 200}, {200, 70}}) {
    std::string len = std::to_string(sq) + "x" + std::to_string(sk);
    int64_t off = sk - sq;
    c.push_back({"prefix_lm_bottom_right_" + len,
                 specJson("f32", 64,
                          ", \"mask\": {\"type\": \"prefix_lm\", \"n\": 30, "
                          "\"align\": \"bottom_right\"}"),
                 shape(1, 2, 1, sq, sk, 64),
                 [off](int64_t, int64_t, int64_t q, int64_t kv) {
                   return kv < 30 || q + off >= kv;
                 }});
    c.push_back({"chunked_bottom_right_" + len,
                 specJson("f32", 64,
                          ", \"mask\": [{\"type\": \"causal\", \"align\": "
                          "\"bottom_right\"}, {\"type\": \"chunked\", "
                          "\"chunk\": 48, \"align\": \"bottom_right\"}]"),
                 shape(1, 2, 2, sq, sk, 64),
                 [off](int64_t, int64_t, int64_t q, int64_t kv) {
                   int64_t at = q + off; // may be negative: no chunk
                   return at >= kv && at >= 0 && at / 48 == kv / 48;
                 }});
  }
  // Variable-length batches in a padded layout, both sides: rows past a
  // batch entry's query length attend nothing (o = 0, lse = -inf).
  c.push_back({"query_and_key_padding_gqa",
               specJson("bf16", 64,
                        ", \"tensors\": {\"ql\": {\"dtype\": \"int32\", "
                        "\"shape\": [\"batch\"]}, \"kl\": {\"dtype\": "
                        "\"int32\", \"shape\": [\"batch\"]}}, \"mask\": "
                        "[\"causal\", {\"type\": \"query_padding\", "
                        "\"lengths\": \"ql\"}, {\"type\": \"key_padding\", "
                        "\"lengths\": \"kl\"}]"),
               shape(3, 4, 2, 100, 100, 64),
               [](int64_t b, int64_t, int64_t q, int64_t kv) {
                 const int64_t ql[] = {100, 37, 0}, kl[] = {100, 37, 0};
                 return q >= kv && q < ql[b] && kv < kl[b];
               },
               nullptr, {},
               [](const Shape &, std::mt19937 &) {
                 return TensorInputs{{100, 37, 0}, {100, 37, 0}};
               }});
  // GQA with the other built-in masks.
  c.push_back({"prefix_lm_gqa",
               specJson("bf16", 64,
                        ", \"mask\": {\"type\": \"prefix_lm\", \"n\": 50}"),
               shape(2, 8, 2, 129, 129, 64),
               [](int64_t, int64_t, int64_t q, int64_t kv) {
                 return kv < 50 || q >= kv;
               }});
  c.push_back({"chunked_gqa",
               specJson("f32", 64,
                        ", \"mask\": {\"type\": \"chunked\", \"chunk\": "
                        "48}"),
               shape(1, 4, 1, 150, 150, 64),
               [](int64_t, int64_t, int64_t q, int64_t kv) {
                 return q / 48 == kv / 48;
               }});
  c.push_back({"window_left_right_gqa",
               specJson("f32", 64,
                        ", \"mask\": {\"type\": \"sliding_window\", "
                        "\"left\": 20, \"right\": 9}"),
               shape(1, 4, 2, 100, 100, 64),
               [](int64_t, int64_t, int64_t q, int64_t kv) {
                 return q - kv <= 20 && kv - q <= 9;
               }});
  c.push_back({"softcap_param",
               specJson("bf16", 64,
                        ", \"params\": {\"cap\": \"float\"}, \"mask\": "
                        "\"causal\", \"score\": {\"type\": \"softcap\", "
                        "\"cap\": \"cap\"}"),
               shape(1, 2, 2, 100, 130, 64), kCausal,
               [](double s, int64_t, int64_t, int64_t, int64_t) {
                 return 1.5 * std::tanh(s / 1.5);
               },
               {1.5}});
  c.push_back({"expr_seqlen_and_params",
               specJson("f32", 64,
                        ", \"params\": {\"w\": \"int\", \"bias\": \"float\"}, "
                        "\"mask\": \"kv <= q + seqlen_k - seqlen_q && kv + w > q\", "
                        "\"score\": \"score + bias * (kv - q) / seqlen_k\""),
               shape(1, 2, 2, 90, 120, 64),
               [](int64_t, int64_t, int64_t q, int64_t kv) {
                 return kv <= q + 30 && kv + 25 > q;
               },
               [](double s, int64_t, int64_t, int64_t q, int64_t kv) {
                 return s + 0.75 * static_cast<double>(kv - q) / 120.0;
               },
               {25, 0.75}});
  // Tensor inputs: document ids, per-batch key lengths, a bias.
  for (auto [sq, docs] : std::vector<std::pair<int64_t, int>>{
           {129, 4}, {300, 8}, {33, 1}}) {
    c.push_back(
        {"document_causal_" + std::to_string(sq) + "_" + std::to_string(docs),
         specJson("f32", 64,
                  ", \"tensors\": {\"doc\": {\"dtype\": \"int32\", "
                  "\"shape\": [\"batch\", \"seqlen\"]}}, \"mask\": "
                  "[\"causal\", {\"type\": \"document\", \"ids\": \"doc\"}]"),
         shape(2, 2, 1, sq, sq, 64), nullptr, nullptr, {},
         [docs](const Shape &s, std::mt19937 &rng) {
           return TensorInputs{documentIds(s.batch, s.seqQ, docs, rng)};
         }});
  }
  // The same documents as each position's document start: a kv bound read
  // from a tensor at q (faopt-bench's document_causal_8docs+row_starts).
  c.push_back({"document_start_causal",
               specJson("f32", 64,
                        ", \"tensors\": {\"start\": {\"dtype\": \"int32\", "
                        "\"shape\": [\"batch\", \"seqlen\"]}}, \"mask\": "
                        "\"kv >= start[b, q] && kv <= q\""),
               shape(2, 2, 1, 300, 300, 64), nullptr, nullptr, {},
               [](const Shape &s, std::mt19937 &rng) {
                 return TensorInputs{documentStarts(s.batch, s.seqQ, 8, rng)};
               }});
  c.push_back({"key_padding",
               specJson("bf16", 64,
                        ", \"tensors\": {\"lens\": {\"dtype\": \"int32\", "
                        "\"shape\": [\"batch\"]}}, \"mask\": {\"type\": "
                        "\"key_padding\", \"lengths\": \"lens\"}"),
               shape(3, 2, 2, 77, 150, 64), nullptr, nullptr, {},
               [](const Shape &, std::mt19937 &) {
                 // One full, one short, one empty (its rows: o = 0).
                 return TensorInputs{{150, 31, 0}};
               }});
  c.push_back({"bias_heads_q_kv",
               specJson("f32", 64,
                        ", \"tensors\": {\"bias\": {\"dtype\": \"float32\", "
                        "\"shape\": [\"heads\", \"seqlen_q\", \"seqlen_k\"]}}, "
                        "\"mask\": \"causal\", \"score\": {\"type\": \"bias\", "
                        "\"tensor\": \"bias\"}"),
               shape(2, 3, 3, 70, 90, 64), nullptr, nullptr, {},
               [](const Shape &s, std::mt19937 &rng) {
                 std::uniform_real_distribution<double> u(-2, 2);
                 std::vector<double> bias(s.heads * s.seqQ * s.seqK);
                 for (double &x : bias)
                   x = static_cast<float>(u(rng));
                 return TensorInputs{bias};
               }});
  // A bias broadcast over batch and q (dimensions of size 1), with GQA.
  c.push_back({"bias_broadcast_gqa",
               specJson("bf16", 64,
                        ", \"tensors\": {\"bias\": {\"dtype\": \"float32\", "
                        "\"shape\": [1, \"heads\", 1, \"seqlen_k\"]}}, "
                        "\"score\": {\"type\": \"bias\", \"tensor\": \"bias\"}"),
               shape(2, 4, 2, 50, 75, 64), nullptr, nullptr, {},
               [](const Shape &s, std::mt19937 &rng) {
                 std::uniform_real_distribution<double> u(-3, 3);
                 std::vector<double> bias(s.heads * s.seqK);
                 for (double &x : bias)
                   x = static_cast<float>(u(rng));
                 return TensorInputs{bias};
               }});
  c.push_back({"expr_tensor_index_arith",
               specJson("f32", 64,
                        ", \"params\": {\"w\": \"int\"}, \"tensors\": "
                        "{\"start\": {\"dtype\": \"int32\", \"shape\": "
                        "[\"seqlen_q\"]}, \"scale_h\": {\"dtype\": \"float32\", "
                        "\"shape\": [\"heads\", 1]}}, \"mask\": \"kv >= "
                        "start[q] && kv < start[q] + w\", \"score\": \"score * "
                        "scale_h[h, 0]\""),
               shape(1, 2, 2, 50, 200, 64), nullptr, nullptr, {24},
               [](const Shape &s, std::mt19937 &rng) {
                 std::vector<double> start(s.seqQ), scale(s.heads);
                 for (double &x : start) // some starts past the end: clamped
                   x = std::uniform_int_distribution<int>(-5, 210)(rng);
                 for (double &x : scale)
                   x = static_cast<float>(
                       std::uniform_real_distribution<double>(0.5, 2)(rng));
                 return TensorInputs{start, scale};
               }});
  // Block sparsity: layouts given at launch (per batch and head, broadcast,
  // 2-D), blocks equal to a multiple of the CPU tile (32) or not (the
  // classification then sees several layout entries per tile), a static
  // layout in the spec, and a layout row with no block (empty rows).
  auto layoutSpec = [](const std::string &dims, const std::string &block,
                       const std::string &mask) {
    return ", \"tensors\": {\"L\": {\"dtype\": \"int32\", \"shape\": [" +
           dims + "]}}, \"sparsity\": {\"block\": [" + block +
           "], \"layout\": \"L\"}" + mask;
  };
  c.push_back({"block_sparse_per_head",
               specJson("f32", 64,
                        layoutSpec("\"batch\", \"heads\", \"seqlen_q/64\", "
                                   "\"seqlen_k/64\"",
                                   "64, 64", "")),
               shape(2, 3, 3, 200, 260, 64), nullptr, nullptr, {},
               [](const Shape &s, std::mt19937 &rng) {
                 return TensorInputs{blockLayout(s.batch * s.heads, 4, 5, 0.3,
                                                 rng)};
               }});
  c.push_back({"block_sparse_broadcast_causal_uneven_blocks",
               specJson("bf16", 64,
                        layoutSpec("1, 1, \"seqlen_q/48\", \"seqlen_k/40\"",
                                   "48, 40", ", \"mask\": \"causal\""),
                        "bshd"),
               shape(2, 4, 2, 150, 170, 64), nullptr, nullptr, {},
               [](const Shape &, std::mt19937 &rng) {
                 return TensorInputs{blockLayout(1, 4, 5, 0.4, rng)};
               }});
  c.push_back({"block_sparse_2d_empty_row",
               specJson("f32", 64,
                        layoutSpec("\"seqlen_q/32\", \"seqlen_k/32\"",
                                   "32, 32", "")),
               shape(1, 2, 2, 96, 128, 64), nullptr, nullptr, {},
               [](const Shape &, std::mt19937 &rng) {
                 std::vector<double> l = blockLayout(1, 3, 4, 0.5, rng);
                 for (int j = 0; j < 4; ++j)
                   l[1 * 4 + j] = 0; // q-block 1 attends nothing
                 return TensorInputs{l};
               }});
  c.push_back({"block_sparse_static_causal_gqa",
               specJson("f32", 64,
                        ", \"mask\": \"causal\", \"sparsity\": {\"block\": "
                        "[64, 64], \"layout\": [[1, 0, 0], [1, 1, 0], "
                        "[0, 1, 1]]}"),
               shape(2, 4, 2, 192, 192, 64),
               [](int64_t, int64_t, int64_t q, int64_t kv) {
                 const int layout[3][3] = {{1, 0, 0}, {1, 1, 0}, {0, 1, 1}};
                 return q >= kv && layout[q / 64][kv / 64] != 0;
               }});
  // Empty blocks are never loaded: K and V are NaN where no query looks
  // (whole 128-key blocks, so whole tiles on every target).
  {
    Case keysPastQueries{"causal_keys_past_queries_unread",
                         specJson("bf16", 64, causal),
                         shape(1, 2, 1, 256, 640, 64), kCausal};
    keysPastQueries.unread = [](int64_t, int64_t kv) { return kv >= 256; };
    c.push_back(keysPastQueries);
    Case emptyColumn{"block_sparse_empty_column_unread",
                     specJson("f32", 64,
                              layoutSpec("\"seqlen_q/128\", \"seqlen_k/128\"",
                                         "128, 128", "")),
                     shape(2, 2, 2, 256, 384, 64), nullptr, nullptr, {},
                     [](const Shape &, std::mt19937 &) {
                       // kv-block 1 is in no q-block's list.
                       return TensorInputs{{1, 0, 1, 0, 0, 1}};
                     }};
    emptyColumn.unread = [](int64_t, int64_t kv) {
      return kv >= 128 && kv < 256;
    };
    c.push_back(emptyColumn);
    Case padding{"key_padding_unread",
                 specJson("bf16", 64,
                          ", \"tensors\": {\"lens\": {\"dtype\": \"int32\", "
                          "\"shape\": [\"batch\"]}}, \"mask\": {\"type\": "
                          "\"key_padding\", \"lengths\": \"lens\"}"),
                 shape(2, 2, 2, 100, 512, 64), nullptr, nullptr, {},
                 [](const Shape &, std::mt19937 &) {
                   return TensorInputs{{384, 128}};
                 }};
    padding.unread = [](int64_t b, int64_t kv) {
      return kv >= (b == 0 ? 384 : 128);
    };
    c.push_back(padding);
  }
  // Rows with nothing to attend to: o = 0, lse = -inf, never NaN.
  c.push_back({"fully_masked_rows",
               specJson("f32", 64, ", \"mask\": \"q >= 37 && q >= kv\""),
               shape(1, 2, 2, 100, 100, 64),
               [](int64_t, int64_t, int64_t q, int64_t kv) {
                 return q >= 37 && q >= kv;
               }});
  c.push_back({"fully_masked_everything",
               specJson("bf16", 64, ", \"mask\": \"kv > q + 1000\""),
               shape(1, 1, 1, 50, 50, 64)});
  return c;
}

} // namespace faopt::test
