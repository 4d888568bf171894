//===- GpuVariantsCases.cpp - the GPU variants tests' cases ---------------===//
//
// Built-in and expression masks, score modifiers, run-time parameters,
// tensor inputs and block sparsity, each with a launch shape that reaches
// its edge cases (GpuVariantsTest.cpp runs them).
//
//===----------------------------------------------------------------------===//
#include "GpuVariantsCases.h"

namespace faopt::gputest {

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
  // The chunk as a run-time parameter at d = 128: its kv ranges come from
  // dividing the bounds by it (a negative one in the other direction).
  const std::string chunkParam =
      "\"params\": {\"chunk\": \"int\"}, \"mask\": [\"causal\", "
      "{\"type\": \"chunked\", \"chunk\": \"chunk\"}]";
  v.push_back({"chunked_param_300_d128", chunkParam, "bf16", 128, 1, 2, 2,
               1000, 1000, {{"chunk", 300}}});
  v.push_back({"chunked_param_negative_d128", chunkParam, "bf16", 128, 1, 2,
               2, 1000, 1000, {{"chunk", -256}}});
  // Run-time chunks as per-row kv bounds (attn-isolate-kv-bounds): aligned
  // bottom-right with fewer queries than keys (the bound's shift sk - sq),
  // a chunk past every position (2^40: clamped, one chunk), and a chunk
  // of 1 with more queries than keys (each row attends its own position).
  const std::string chunkParamBottomRight =
      "\"params\": {\"chunk\": \"int\"}, \"mask\": [{\"type\": "
      "\"causal\", \"align\": \"bottom_right\"}, {\"type\": "
      "\"chunked\", \"chunk\": \"chunk\", \"align\": \"bottom_right\"}]";
  v.push_back({"chunked_param_bottom_right_fewer_queries",
               chunkParamBottomRight, "bf16", 128, 1, 2, 2, 700, 1300,
               {{"chunk", 200}}});
  v.push_back({"chunked_param_past_every_position", chunkParamBottomRight,
               "bf16", 128, 1, 2, 2, 700, 1300,
               {{"chunk", double(int64_t(1) << 40)}}});
  v.push_back({"chunked_param_1_more_queries", chunkParamBottomRight, "bf16",
               128, 1, 2, 2, 900, 700, {{"chunk", 1}}});
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
  // Rows of 32 kv-blocks and more (n = 4096): whole warps classify, so
  // tensor_bounds takes its warp-shared path for the q-block's ids.
  v.push_back({"document_causal_4096", documentCausal, "bf16", 128, 1, 2, 2,
               4096, 4096, {}, documents(8)});
  // Rows longer than attn-stage-builder-rows' 8192-entry copy: a staged
  // builder reads them where they are.
  v.push_back({"document_causal_8301", documentCausal, "bf16", 128, 1, 1, 1,
               8301, 8301, {}, documents(9)});
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
  // Chunks in head groups of one head (attn-schedule-grid, performance.md
  // item 100): 480 programs over the CTAs' snake, q-blocks of one head in
  // order; a constant chunk of 4 q-blocks and a run-time one of 3 (whose
  // last chunk is partial).
  v.push_back({"chunked_512_one_head_groups_many_programs",
               "\"mask\": [\"causal\", {\"type\": \"chunked\", \"chunk\": "
               "512}]",
               "bf16", 128, 2, 20, 20, 1536, 1536});
  v.push_back({"chunked_param_384_one_head_groups_many_programs", chunkParam,
               "bf16", 128, 3, 16, 16, 1500, 1500, {{"chunk", 384}}});
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

} // namespace faopt::gputest
