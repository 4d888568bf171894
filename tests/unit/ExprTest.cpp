//===- ExprTest.cpp - the mask / score expression language ----------------===//
#include "compiler/spec/Expr.h"

#include "gtest/gtest.h"
#include <cmath>

using namespace faopt::spec;

namespace {

ExprPtr mask(const std::string &text) {
  ExprParseResult r = parseExpr(text, ExprContext::Mask);
  EXPECT_TRUE(r.expr) << text << ": " << r.error;
  return r.expr;
}

ExprPtr score(const std::string &text) {
  ExprParseResult r = parseExpr(text, ExprContext::Score);
  EXPECT_TRUE(r.expr) << text << ": " << r.error;
  return r.expr;
}

bool at(const ExprPtr &e, int64_t q, int64_t kv, int64_t h = 0) {
  ExprEnv env;
  env.q = q;
  env.kv = kv;
  env.h = h;
  return evalBool(*e, env);
}

TEST(Expr, PrecedenceFollowsC) {
  EXPECT_EQ(printExpr(*mask("q >= kv && q - kv < 4 || kv == 0")),
            "(((q >= kv) && ((q - kv) < 4)) || (kv == 0))");
  EXPECT_EQ(printExpr(*mask("q + 2 * kv > 3 - 1 - 1")),
            "((q + (2 * kv)) > ((3 - 1) - 1))");
  EXPECT_EQ(printExpr(*mask("!(q < kv) == true")), "((!(q < kv)) == true)");
  EXPECT_EQ(printExpr(*mask("q > 0 ? kv > 0 : kv < 0 ? true : false")),
            "((q > 0) ? (kv > 0) : ((kv < 0) ? true : false))");
}

TEST(Expr, PrintedFormParsesToTheSameTree) {
  for (const char *text :
       {"q >= kv && q - kv < 1024", "max(q, kv) - min(q, kv) <= -3 + abs(q)",
        "q / 64 == kv / 64 || kv % 7 == -1"}) {
    std::string once = printExpr(*mask(text));
    EXPECT_EQ(printExpr(*mask(once)), once);
  }
  std::string s = printExpr(*score("30 * tanh(score / 30) - 0.25 * (q - kv)"));
  EXPECT_EQ(printExpr(*score(s)), s);
}

TEST(Expr, IntegerDivisionRoundsDown) {
  ExprPtr e = mask("(q - kv) / 4 == -1");
  EXPECT_TRUE(at(e, 0, 1));  // -1 / 4 = -1
  EXPECT_TRUE(at(e, 0, 4));  // -4 / 4 = -1
  EXPECT_FALSE(at(e, 0, 5)); // -5 / 4 = -2
  ExprPtr m = mask("(q - kv) % 4 == 3");
  EXPECT_TRUE(at(m, 0, 1)); // -1 mod 4 = 3
  EXPECT_FALSE(at(m, 0, 3));
}

/// zeroDivisor finds a `/` or `%` whose divisor is a launch value (a
/// parameter, the sequence lengths) that is 0, and leaves divisors that
/// vary with the position alone (the kernel's own business).
TEST(Expr, ZeroDivisorsOfLaunchValuesAreFound) {
  std::vector<ParamDecl> params = {{"c", ExprType::Int, false, 0}};
  auto parsed = [&](const char *text, ExprContext ctx) {
    ExprParseResult r = parseExpr(text, ctx, params);
    EXPECT_TRUE(r.expr) << text << ": " << r.error;
    return r.expr;
  };
  ExprEnv env;
  env.seqlenQ = env.seqlenK = 100;
  env.params = {{"c", 0}};
  ExprPtr chunk = parsed("q / c == kv / c && q >= kv", ExprContext::Mask);
  const Expr *z = zeroDivisor(*chunk, env);
  ASSERT_NE(z, nullptr);
  EXPECT_EQ(printExpr(*z), "(q / c)");
  ExprPtr lengths = parsed("q % (seqlen_k - 100 + c) == 0", ExprContext::Mask);
  ASSERT_NE(zeroDivisor(*lengths, env), nullptr);
  ExprPtr inScore = parsed("score + (q / c)", ExprContext::Score);
  EXPECT_NE(zeroDivisor(*inScore, env), nullptr);
  // Divisors that depend on the position, or are not 0, pass.
  EXPECT_EQ(zeroDivisor(*parsed("q / (kv + c) == 0", ExprContext::Mask), env),
            nullptr);
  EXPECT_EQ(zeroDivisor(*parsed("q / 4 == kv / 4", ExprContext::Mask), env),
            nullptr);
  env.params = {{"c", -3}};
  EXPECT_EQ(zeroDivisor(*chunk, env), nullptr);
  // Which expressions have such a divisor at all (no evaluation).
  EXPECT_TRUE(dividesByLaunchValue(*chunk));
  EXPECT_TRUE(dividesByLaunchValue(*lengths));
  EXPECT_FALSE(dividesByLaunchValue(*parsed("q / 4 == kv / 4", ExprContext::Mask)));
  EXPECT_FALSE(dividesByLaunchValue(*parsed("q / (kv + c) == 0", ExprContext::Mask)));
}

TEST(Expr, ScoresPromoteIntegers) {
  ExprPtr e = score("score - 0.5 * (q - kv)");
  EXPECT_EQ(e->type, ExprType::Float);
  ExprEnv env;
  env.score = 2.0;
  env.q = 5;
  env.kv = 1;
  EXPECT_DOUBLE_EQ(evalNumeric(*e, env), 0.0);
  // An integer-valued score expression is converted to float.
  ExprPtr i = score("q - kv");
  EXPECT_EQ(i->type, ExprType::Float);
  EXPECT_DOUBLE_EQ(evalNumeric(*i, env), 4.0);
  EXPECT_NEAR(evalNumeric(*score("exp2(1) + log(exp(2.0)) + sqrt(4)"), env),
              6.0, 1e-12);
}

TEST(Expr, AliasesAndUses) {
  ExprPtr e = mask("q_idx >= kv_idx && head == 1 && batch == 0");
  EXPECT_EQ(printExpr(*e), "(((q >= kv) && (h == 1)) && (b == 0))");
  EXPECT_TRUE(exprUses(*e, "h"));
  EXPECT_FALSE(exprUses(*e, "score"));
}

struct BadExpr {
  const char *text;
  ExprContext context;
  const char *error;
};

TEST(Expr, ErrorsNameTheColumn) {
  const BadExpr cases[] = {
      {"", ExprContext::Mask, "column 1: empty expression"},
      {"q >= ", ExprContext::Mask,
       "column 6: expected an operand, found 'end of expression'"},
      {"q >= kv )", ExprContext::Mask,
       "column 9: unexpected ')' after a complete expression"},
      {"q $ kv", ExprContext::Mask, "column 3: unexpected character '$'"},
      {"(q >= kv", ExprContext::Mask,
       "column 9: expected ')', found 'end of expression'"},
      {"q && kv", ExprContext::Mask, "column 3: '&&' needs boolean operands, got int"},
      {"!q", ExprContext::Mask, "column 1: '!' needs a boolean operand, got int"},
      {"q + (kv > 1) > 0", ExprContext::Mask,
       "column 3: '+' needs numbers, got a bool operand"},
      {"q / 0 > 1", ExprContext::Mask, "column 3: integer division by zero"},
      {"q > 1.5", ExprContext::Mask, "column 5: masks use integers only, found '1.5'"},
      {"tanh(q) > 0", ExprContext::Mask,
       "column 1: 'tanh' is only available in score expressions"},
      {"min(q) > 0", ExprContext::Mask, "column 1: 'min' takes 2 arguments, got 1"},
      {"q > 0 ? 1 : kv > 0", ExprContext::Mask,
       "column 7: the branches of '?:' must both be bool or both be numbers"},
      {"q ? 1 : 2", ExprContext::Score,
       "column 3: the condition of '?:' must be bool, got int"},
      {"score > 0", ExprContext::Score,
       "column 7: a score must be a number, this expression is bool"},
      {"score % 2", ExprContext::Score, "column 7: '%' needs integer operands"},
      {"99999999999999999999 > q", ExprContext::Mask,
       "column 1: integer literal 99999999999999999999 is too large"},
      {"window > q", ExprContext::Mask,
       "column 1: unknown identifier 'window' (a mask may use b, h, q, kv, "
       "seqlen_q, seqlen_k; run-time parameters are declared in \"params\")"},
  };
  for (const BadExpr &c : cases) {
    ExprParseResult r = parseExpr(c.text, c.context);
    EXPECT_FALSE(r.expr) << c.text;
    EXPECT_EQ(r.error, c.error) << c.text;
  }
}

} // namespace
