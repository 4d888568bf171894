//===- Expr.h - mask and score expressions ---------------------*- C++ -*-===//
//
// The small expression language of attention specs:
//
//   mask:  "q >= kv && q - kv < 1024"          (bool, integers only)
//   score: "30 * tanh(score / 30)"             (float)
//
// Identifiers: b, h, q, kv (aliases batch, head, q_idx, kv_idx), seqlen_q and
// seqlen_k, the spec's run-time parameters and, in score expressions, score. Integers, floats (score only), + - * / % (integer / and
// % round toward negative infinity), comparisons, && || !, ?:, and the
// functions min, max, abs, and in scores tanh, exp, exp2, log, sqrt.
//
// Plain C++ (no MLIR): parsed and type-checked here, lowered to regions by
// SpecToMLIR, evaluated directly by the reference implementation in tests.
//
//===----------------------------------------------------------------------===//
#ifndef FAOPT_COMPILER_SPEC_EXPR_H
#define FAOPT_COMPILER_SPEC_EXPR_H

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace faopt::spec {

enum class ExprType { Bool, Int, Float };

struct Expr {
  enum class Kind {
    Literal, // intValue / floatValue / boolValue per type
    Var,     // name: b, h, q, kv, seqlen_q, seqlen_k, score or a parameter
    Unary,   // op: "-", "!", or "float" (integer to float conversion)
    Binary,  // op: + - * / % < <= > >= == != && ||
    Select,  // operands: condition, then, else
    Call,    // op: min max abs tanh exp exp2 log sqrt
    Index    // name: a declared tensor; operands: one index per dimension
  };
  Kind kind;
  ExprType type;
  int column = 0; // 1-based column in the source text, 0 when synthesised
  int64_t intValue = 0;
  double floatValue = 0;
  bool boolValue = false;
  std::string name; // variable name or operator / function spelling
  std::vector<std::shared_ptr<const Expr>> operands;
};
using ExprPtr = std::shared_ptr<const Expr>;

enum class ExprContext { Mask, Score };

/// A run-time parameter of a spec ("params"): a named scalar that masks and
/// scores may read and that is given at each launch, so changing it needs no
/// recompile. Int parameters may appear in masks and scores, float ones in
/// scores only.
struct ParamDecl {
  std::string name;
  ExprType type = ExprType::Int; // Int or Float
  bool hasDefault = false;
  double defaultValue = 0;
};

/// A tensor input of a spec ("tensors"): a small int32 or float32 array that
/// masks and scores index (document ids, per-batch lengths, a bias), passed
/// at each launch. Each dimension is a size symbol (batch, heads, kv_heads,
/// seqlen_q, seqlen_k, or seqlen for a dimension that must equal both; a
/// sequence symbol divided by a block size, "seqlen_q/128", for the number
/// of blocks) or a fixed size. Reads clamp every index into the tensor's
/// bounds. A tensor with a `value` is part of the spec (a static block
/// layout): launches do not pass it, and its shape must be what the
/// dimensions give for the launch.
struct TensorDecl {
  std::string name;
  ExprType type = ExprType::Int; // Int: int32, Float: float32
  std::vector<std::string> dims; // symbols, or decimal sizes
  std::vector<double> value;     // row-major; only with valueShape
  std::vector<int64_t> valueShape;
  bool isStatic() const { return !valueShape.empty(); }
};

/// True for the names expressions reserve (b, h, q, kv, their aliases,
/// seqlen_q, seqlen_k, score, true, false and the function names).
bool isReservedName(std::string_view name);

struct ExprParseResult {
  ExprPtr expr;      // null on error
  std::string error; // "column N: message"
};

/// Parses and type-checks `text`. A mask must be boolean and integer-only; a
/// score must be numeric (an integer result is converted to float). `params`
/// are the run-time parameters the expression may name.
ExprParseResult parseExpr(std::string_view text, ExprContext context,
                          const std::vector<ParamDecl> &params = {},
                          const std::vector<TensorDecl> &tensors = {});

/// Text that reads back as the same double (17 digits, always with a point
/// or exponent): float literals in printed expressions and specs.
std::string formatNumber(double v);

/// Fully parenthesised canonical text; parsing it gives the same tree.
std::string printExpr(const Expr &expr);

/// Values for evaluating an expression directly (the test reference).
struct ExprEnv {
  int64_t b = 0, h = 0, q = 0, kv = 0;
  int64_t seqlenQ = 0, seqlenK = 0;
  double score = 0;
  /// Parameter values by name (what a launch passes).
  std::vector<std::pair<std::string, double>> params;
  /// Tensor contents by name: sizes and row-major values.
  struct TensorValue {
    std::string name;
    std::vector<int64_t> sizes;
    const std::vector<double> *values = nullptr;
  };
  std::vector<TensorValue> tensors;
};
/// Evaluates in double precision (integers exactly, as int64).
double evalNumeric(const Expr &expr, const ExprEnv &env);
bool evalBool(const Expr &expr, const ExprEnv &env);

/// True if the expression reads the variable or tensor `name` anywhere.
bool exprUses(const Expr &expr, std::string_view name);

/// The first integer `/` or `%` in `expr` whose divisor reads nothing but
/// parameters, sequence lengths and literals (no position, score or tensor)
/// and is 0 with `env`'s values; null if there is none. Launches reject it:
/// integer division by zero traps on a CPU and is undefined on a GPU.
const Expr *zeroDivisor(const Expr &expr, const ExprEnv &env);

/// Whether `expr` has an integer `/` or `%` whose divisor reads a parameter
/// or a sequence length and nothing that varies with the position: the
/// divisors zeroDivisor checks, without evaluating any (the launch path
/// skips the check for the many specs that have none).
bool dividesByLaunchValue(const Expr &expr);

} // namespace faopt::spec

#endif // FAOPT_COMPILER_SPEC_EXPR_H
