//===- SpecTest.cpp - reading attention specs -----------------------------===//
#include "compiler/spec/Spec.h"

#include "gtest/gtest.h"
#include <cmath>

using namespace faopt::spec;

namespace {

AttentionSpec parse(const std::string &json) {
  SpecParseResult r = parseSpec(json);
  EXPECT_TRUE(r.spec) << json << "\n" << r.error;
  return r.spec ? *r.spec : AttentionSpec();
}

std::string error(const std::string &json) {
  SpecParseResult r = parseSpec(json);
  EXPECT_FALSE(r.spec) << json;
  return r.error;
}

TEST(Spec, DefaultsAreFilledIn) {
  AttentionSpec s = parse(R"({"dtype": "bf16", "head_dim": 64})");
  EXPECT_EQ(s.name, "attention");
  EXPECT_EQ(s.dtype, ElementType::BF16);
  EXPECT_EQ(s.headDimQK, 64);
  EXPECT_EQ(s.headDimV, 64);
  EXPECT_EQ(s.layout, Layout::BHSD);
  EXPECT_TRUE(s.lse);
  EXPECT_FALSE(s.mask);
  EXPECT_FALSE(s.score);
  EXPECT_DOUBLE_EQ(s.effectiveScale(), 0.125);
}

TEST(Spec, BuiltInMasksDesugarToExpressions) {
  AttentionSpec s = parse(
      R"({"dtype": "f16", "head_dim_qk": 128, "head_dim_v": 64, "layout": "bshd",
          "mask": ["causal", {"type": "sliding_window", "left": 8, "right": 2},
                   {"type": "prefix_lm", "n": 4}]})");
  EXPECT_EQ(s.headDimV, 64);
  EXPECT_EQ(s.layout, Layout::BSHD);
  EXPECT_EQ(printExpr(*s.mask),
            "(((q >= kv) && (((q - kv) <= 8) && ((kv - q) <= 2))) && "
            "((kv < 4) || (q >= kv)))");
  EXPECT_EQ(s.maskSummary,
            "causal && sliding_window(left=8, right=2) && prefix_lm(n=4)");
}

TEST(Spec, ParametersAndAlignmentDesugar) {
  AttentionSpec s = parse(
      R"({"dtype": "bf16", "head_dim": 64,
          "params": {"w": "int", "cap": {"type": "float", "default": 20}},
          "mask": [{"type": "causal", "align": "bottom_right"},
                   {"type": "sliding_window", "left": "w",
                    "align": "bottom_right"},
                   {"type": "chunked", "chunk": 64}],
          "score": {"type": "softcap", "cap": "cap"}})");
  EXPECT_EQ(printExpr(*s.mask),
            "(((((q + seqlen_k) - seqlen_q) >= kv) && (((((q + seqlen_k) - "
            "seqlen_q) - kv) <= w) && ((kv - ((q + seqlen_k) - seqlen_q)) <= "
            "0))) && ((q / 64) == (kv / 64)))");
  EXPECT_EQ(printExpr(*s.score), "(cap * tanh((score / cap)))");
  ASSERT_EQ(s.params.size(), 2u);
  EXPECT_EQ(s.params[1].name, "cap");
  EXPECT_TRUE(s.params[1].hasDefault);
  EXPECT_EQ(s.regionParams(),
            (std::vector<std::string>{"seqlen_q", "seqlen_k", "w", "cap"}));
  ExprEnv env;
  env.q = 2;
  env.kv = 40;
  env.seqlenQ = 10;
  env.seqlenK = 50;
  env.params = {{"w", 5}, {"cap", 20}};
  EXPECT_TRUE(evalBool(*s.mask, env)); // q aligned to 42: 42 >= 40, 42 - 40 <= 5
  env.kv = 36;
  EXPECT_FALSE(evalBool(*s.mask, env)); // 42 - 36 > 5
  env.kv = 41;
  env.q = 30; // aligned 70: other chunk than kv 41? 30 / 64 == 41 / 64 holds
  EXPECT_FALSE(evalBool(*s.mask, env)); // but 70 - 41 > 5
}

TEST(Spec, AlignedPrefixAndChunksAndQueryPadding) {
  AttentionSpec s = parse(
      R"({"dtype": "bf16", "head_dim": 64,
          "tensors": {"ql": {"dtype": "int32", "shape": ["batch"]}},
          "mask": [{"type": "prefix_lm", "n": 4, "align": "bottom_right"},
                   {"type": "chunked", "chunk": 8, "align": "bottom_right"},
                   {"type": "query_padding", "lengths": "ql"}]})");
  EXPECT_EQ(s.maskSummary, "prefix_lm(n=4, bottom_right) && chunked(chunk=8, "
                           "bottom_right) && query_padding(lengths=ql)");
  std::vector<double> ql{20};
  ExprEnv env;
  env.tensors = {{"ql", {1}, &ql}};
  env.seqlenQ = 10;
  env.seqlenK = 30; // query q sits at key q + 20
  env.q = 3;
  env.kv = 23; // its own position: chunk 2 = chunk 2
  EXPECT_TRUE(evalBool(*s.mask, env));
  env.kv = 24; // after it, outside the prefix
  EXPECT_FALSE(evalBool(*s.mask, env));
  env.kv = 15; // chunk 1
  EXPECT_FALSE(evalBool(*s.mask, env));
  env.seqlenQ = 40; // more queries than keys: query 3 sits at key -7
  env.kv = 0;
  EXPECT_FALSE(evalBool(*s.mask, env)); // in the prefix, but chunk -1 (floor)
  env.seqlenQ = 10;
  env.kv = 23;
  EXPECT_TRUE(evalBool(*s.mask, env));
  ql[0] = 3; // query 3 is now past its batch entry's length
  EXPECT_FALSE(evalBool(*s.mask, env));
}

TEST(Spec, TensorBuiltInsDesugar) {
  AttentionSpec s = parse(
      R"({"dtype": "bf16", "head_dim": 64,
          "tensors": {"doc": {"dtype": "int32", "shape": ["batch", "seqlen"]},
                      "lens": {"dtype": "int32", "shape": ["batch"]},
                      "bias": {"dtype": "float32",
                               "shape": ["heads", 1, "seqlen_k"]}},
          "mask": [{"type": "document", "ids": "doc"},
                   {"type": "key_padding", "lengths": "lens"}],
          "score": {"type": "bias", "tensor": "bias"}})");
  EXPECT_EQ(printExpr(*s.mask),
            "((doc[b, q] == doc[b, kv]) && (kv < lens[b]))");
  EXPECT_EQ(printExpr(*s.score), "(score + bias[h, 0, kv])");
  EXPECT_EQ(s.regionParams(), (std::vector<std::string>{"doc", "lens", "bias"}));
  // Reads clamp their indices into bounds, as the kernels do.
  std::vector<double> doc{0, 0, 1, 1, 1}, lens{4}, bias{0.5, 1.5, 2.5, 3.5, 4.5};
  ExprEnv env;
  env.tensors = {{"doc", {1, 5}, &doc}, {"lens", {1}, &lens},
                 {"bias", {1, 1, 5}, &bias}};
  env.q = 2;
  env.kv = 3;
  EXPECT_TRUE(evalBool(*s.mask, env));
  env.kv = 4;
  EXPECT_FALSE(evalBool(*s.mask, env)); // past lens[0]
  env.kv = 1;
  EXPECT_FALSE(evalBool(*s.mask, env)); // another document
  env.kv = 99;
  env.score = 1;
  EXPECT_DOUBLE_EQ(evalNumeric(*s.score, env), 5.5); // kv clamped to 4
  std::vector<int64_t> sizes;
  EXPECT_EQ(expectedTensorSizes(s.tensors[0], {2, 8, 8, 100, 100}, sizes), "");
  EXPECT_EQ(sizes, (std::vector<int64_t>{2, 100}));
  EXPECT_NE(expectedTensorSizes(s.tensors[0], {2, 8, 8, 100, 101}, sizes), "");
  EXPECT_EQ(expectedTensorSizes(s.tensors[2], {2, 8, 8, 100, 101}, sizes), "");
  EXPECT_EQ(sizes, (std::vector<int64_t>{8, 1, 101}));
}

TEST(Spec, ScoreTermsCompose) {
  AttentionSpec s = parse(
      R"({"dtype": "bf16", "head_dim": 64, "heads": 4,
          "score": ["alibi", {"type": "softcap", "cap": 30}]})");
  ExprEnv env;
  env.score = 1.0;
  env.h = 1;
  env.q = 10;
  env.kv = 4;
  double alibi = 1.0 + std::exp2(-8.0 * 2 / 4) * (4 - 10);
  EXPECT_NEAR(evalNumeric(*s.score, env), 30 * std::tanh(alibi / 30), 1e-12);
  EXPECT_EQ(s.scoreSummary, "alibi(heads=4) then softcap(cap=30.0)");
}

/// Press et al.'s ALiBi slopes, written as their reference code computes
/// them (a geometric sequence for a power of two; otherwise that of the
/// closest smaller power of two, then every other slope of twice as many
/// heads), independently of the expression the spec builds.
std::vector<double> pressSlopes(int heads) {
  auto pow2 = [](int n) {
    std::vector<double> out;
    double start = std::exp2(-std::exp2(-(std::log2(n) - 3)));
    for (int i = 0; i < n; ++i)
      out.push_back(start * std::pow(start, i));
    return out;
  };
  if ((heads & (heads - 1)) == 0)
    return pow2(heads);
  int n = 1 << static_cast<int>(std::floor(std::log2(heads)));
  std::vector<double> out = pow2(n), twice = pressSlopes(2 * n);
  for (int i = 0; static_cast<int>(out.size()) < heads; i += 2)
    out.push_back(twice[i]);
  return out;
}

TEST(Spec, AlibiSlopesArePressEtAls) {
  for (int heads : {1, 2, 3, 5, 6, 8, 12, 16, 20, 24, 40, 64}) {
    AttentionSpec s = parse(R"({"dtype": "bf16", "head_dim": 64, "heads": )" +
                            std::to_string(heads) + R"(, "score": "alibi"})");
    std::vector<double> want = pressSlopes(heads);
    ExprEnv env;
    env.score = 0.0;
    env.q = 5;
    env.kv = 4; // kv - q = -1: the score is minus the slope
    for (int h = 0; h < heads; ++h) {
      env.h = h;
      EXPECT_NEAR(-evalNumeric(*s.score, env), want[h], 1e-12)
          << heads << " heads, head " << h;
    }
  }
}

TEST(Spec, AlibiHeadsPinTheSpec) {
  // The slopes hold for one head count: a launch with another is refused.
  AttentionSpec s = parse(R"({"dtype": "bf16", "head_dim": 64,
                              "score": {"type": "alibi", "heads": 12}})");
  ASSERT_TRUE(s.heads);
  EXPECT_EQ(*s.heads, 12);
  EXPECT_NE(s.canonicalJson().find("\"heads\":12"), std::string::npos)
      << s.canonicalJson();
  EXPECT_NE(error(R"({"dtype": "bf16", "head_dim": 64, "heads": 8,
                      "score": {"type": "alibi", "heads": 12}})")
                .find("$.score.heads: alibi heads (12) differ from the "
                      "spec's \"heads\" (8)"),
            std::string::npos);
  EXPECT_NE(error(R"({"dtype": "bf16", "head_dim": 64, "kv_heads": 5,
                      "score": {"type": "alibi", "heads": 12}})")
                .find("kv_heads (5) must divide the alibi heads (12)"),
            std::string::npos);
  EXPECT_NE(error(R"({"dtype": "bf16", "head_dim": 64, "score": "alibi"})")
                .find("give the slopes"),
            std::string::npos);
}

TEST(Spec, AlibiTakesGivenSlopes) {
  AttentionSpec s = parse(
      R"({"dtype": "bf16", "head_dim": 64,
          "tensors": {"m": {"dtype": "float32", "shape": ["heads"]}},
          "score": {"type": "alibi", "slopes": "m"}})");
  EXPECT_EQ(printExpr(*s.score), "(score + (m[h] * (kv - q)))");
  EXPECT_EQ(s.scoreSummary, "alibi(slopes=m)");
  EXPECT_FALSE(s.heads); // any head count: the tensor has one per head
  std::vector<double> m{0.5, 0.25, 0.125};
  ExprEnv env;
  env.tensors = {{"m", {3}, &m}};
  env.score = 1.0;
  env.h = 2;
  env.q = 10;
  env.kv = 2;
  EXPECT_DOUBLE_EQ(evalNumeric(*s.score, env), 1.0 + 0.125 * (2 - 10));
  std::vector<int64_t> sizes;
  EXPECT_EQ(expectedTensorSizes(s.tensors[0], {2, 3, 3, 10, 10}, sizes), "");
  EXPECT_EQ(sizes, (std::vector<int64_t>{3}));

  const char *wrong[][2] = {
      {R"("m": {"dtype": "float32", "shape": ["seqlen_k"]})",
       "\"m\" must have the shape [\"heads\"]"},
      {R"("m": {"dtype": "int32", "shape": ["heads"]})",
       "\"m\" must be a float32 tensor"},
      {R"("m": {"dtype": "float32", "shape": ["batch", "heads"]})",
       "\"m\" must be a float32 tensor of 1 dimension"},
  };
  for (auto &[decl, message] : wrong)
    EXPECT_NE(error(std::string(R"({"dtype": "bf16", "head_dim": 64,
                                   "tensors": {)") + decl + R"(},
                                   "score": {"type": "alibi", "slopes": "m"}})")
                  .find(message),
              std::string::npos)
        << decl;
  EXPECT_NE(error(R"({"dtype": "bf16", "head_dim": 64, "heads": 4,
                      "tensors": {"m": {"dtype": "float32", "shape": ["heads"]}},
                      "score": {"type": "alibi", "slopes": "m", "heads": 4}})")
                .find("not both"),
            std::string::npos);
}

TEST(Spec, CanonicalJsonIgnoresSpelling) {
  AttentionSpec a = parse(R"({"dtype": "bf16", "head_dim": 64, "mask": "causal"})");
  AttentionSpec b = parse(
      R"({"comment": "same kernel", "dtype": "bf16", "head_dim_qk": 64,
          "mask": {"expr": "q_idx >= kv_idx"}, "scale": 0.125, "lse": true})");
  EXPECT_EQ(a.canonicalJson(), b.canonicalJson());
  AttentionSpec c = parse(R"({"dtype": "bf16", "head_dim": 64, "mask": "q > kv"})");
  EXPECT_NE(a.canonicalJson(), c.canonicalJson());
}

TEST(Spec, ErrorsNameTheJsonPath) {
  EXPECT_EQ(error(R"({"dtype": "bf16"})"),
            "$.head_dim: required field missing (or head_dim_qk with optional "
            "head_dim_v)");
  EXPECT_EQ(error(R"({"dtype": "bf16", "head_dim": 64, "head_dim_v": 32})"),
            "$.head_dim: give either head_dim or head_dim_qk/head_dim_v, not "
            "both");
  EXPECT_EQ(error(R"({"dtype": "bf16", "head_dim": 64, "lse": 1})"),
            "$.lse: expected true or false, got the number 1");
  EXPECT_EQ(error(R"({"dtype": "bf16", "head_dim": 64, "name": "my kernel"})"),
            "$.name: must be an identifier ([A-Za-z_][A-Za-z0-9_]*), got \"my "
            "kernel\"");
  EXPECT_EQ(error(R"({"dtype": "bf16", "head_dim": 64, "mask": []})"),
            "$.mask: an empty list; omit \"mask\" to attend everywhere");
  EXPECT_EQ(error(R"({"dtype": "bf16", "head_dim": 64, "mask": 3})"),
            "$.mask: expected a mask name, an expression string or an object, "
            "got the number 3");
  EXPECT_EQ(error(R"({"dtype": "bf16", "head_dim": 64, "mask": "sliding_window"})"),
            "$.mask: 'sliding_window' needs parameters: write {\"type\": "
            "\"sliding_window\", \"left\": N, \"right\": 0}");
  EXPECT_EQ(error(R"({"dtype": "bf16", "head_dim": 64,
                      "mask": {"type": "causal", "left": 3}})"),
            "$.mask.left: unknown field (expected one of: type, align)");
  EXPECT_EQ(error(R"({"dtype": "bf16", "head_dim": 64, "sparsity": "block"})"),
            "$.sparsity: expected \"dense\" or {\"block\": [BQ, BK], "
            "\"layout\": \"TENSOR\" or [[0/1, ...], ...]}, got the string "
            "\"block\"");
  // Block sparsity.
  const std::string L = R"("tensors": {"L": {"dtype": "int32", "shape": )";
  EXPECT_EQ(error(R"({"dtype": "bf16", "head_dim": 64,
                      "sparsity": {"layout": "L"}})"),
            "$.sparsity.layout: no tensor 'L' is declared (declare it in "
            "\"tensors\" as an int32 tensor of shape [\"seqlen_q/128\", "
            "\"seqlen_k/128\"] or [\"batch\" or 1, \"heads\" or 1, "
            "\"seqlen_q/128\", \"seqlen_k/128\"])");
  EXPECT_EQ(error(R"({"dtype": "bf16", "head_dim": 64, )" + L +
                  R"(["seqlen_q/64", "seqlen_k/64"]}},
                      "sparsity": {"layout": "L"}})"),
            "$.sparsity.layout: 'L' must be an int32 tensor of shape "
            "[\"seqlen_q/128\", \"seqlen_k/128\"] or [\"batch\" or 1, "
            "\"heads\" or 1, \"seqlen_q/128\", \"seqlen_k/128\"]");
  EXPECT_EQ(error(R"({"dtype": "bf16", "head_dim": 64,
                      "sparsity": {"block": [128], "layout": "L"}})"),
            "$.sparsity.block: expected [BQ, BK] (queries and keys per "
            "block), got an array");
  EXPECT_EQ(error(R"({"dtype": "bf16", "head_dim": 64,
                      "sparsity": {"block": [0, 64], "layout": "L"}})"),
            "$.sparsity.block[0]: expected an integer in [1, 1048576], got 0");
  EXPECT_EQ(error(R"({"dtype": "bf16", "head_dim": 64,
                      "sparsity": {"layout": [[1, 0], [1]]}})"),
            "$.sparsity.layout[1]: expected a row of 2 entries (0: skip the "
            "block, 1: attend), got an array");
  EXPECT_EQ(error(R"({"dtype": "bf16", "head_dim": 64,
                      "sparsity": {"layout": [[1, 2]]}})"),
            "$.sparsity.layout[0][1]: expected an integer in [0, 1], got 2");
  EXPECT_EQ(error(R"({"dtype": "bf16", "head_dim": 64,
                      "tensors": {"block_layout": {"dtype": "int32", "shape": [1]}},
                      "sparsity": {"layout": [[1]]}})"),
            "$.sparsity.layout: a static layout is the tensor 'block_layout', "
            "which is already declared");
  EXPECT_EQ(error(R"({"dtype": "bf16", "head_dim": 64, )" + L +
                  R"(["seqlen_q/0", 4]}}})"),
            "$.tensors.L.shape[0]: unknown dimension \"seqlen_q/0\" (batch, "
            "heads, kv_heads, seqlen_q, seqlen_k, seqlen, or a sequence in "
            "blocks such as \"seqlen_q/128\")");
  // Fixed sizes are at most 2^30 (the generated index arithmetic is 32-bit).
  EXPECT_EQ(error(R"({"dtype": "bf16", "head_dim": 64, )" + L +
                  R"([1073741825, 4]}}})"),
            "$.tensors.L.shape[0]: expected an integer in [1, 1073741824], "
            "got 1073741825");
  EXPECT_EQ(error(R"({"dtype": "bf16", "head_dim": 64, "score": [{"expr": 3}]})"),
            "$.score[0].expr: expected a string, got the number 3");
  EXPECT_EQ(error("{\"dtype\": \"bf16\",\n \"head_dim\": 64,,}"),
            "$: invalid JSON at line 2, column 17: syntax error");
  EXPECT_EQ(error(""), "$: invalid JSON at line 1, column 1: incomplete JSON");
}

} // namespace
