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
            "$.sparsity: unsupported sparsity \"block\" (supported: \"dense\")");
  EXPECT_EQ(error(R"({"dtype": "bf16", "head_dim": 64, "score": [{"expr": 3}]})"),
            "$.score[0].expr: expected a string, got the number 3");
  EXPECT_EQ(error("{\"dtype\": \"bf16\",\n \"head_dim\": 64,,}"),
            "$: invalid JSON at line 2, column 17: syntax error");
  EXPECT_EQ(error(""), "$: invalid JSON at line 1, column 1: incomplete JSON");
}

} // namespace
