//===- ExprEval.cpp - printing and evaluating expressions -----------------===//
//
// The canonical text (cache keys, manifests, --explain) and direct
// evaluation in double precision, which the test reference uses: integer
// / and % floor, tensor reads clamp their indices like the kernels do.
//
//===----------------------------------------------------------------------===//
#include "compiler/spec/Expr.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace faopt::spec {

std::string formatNumber(double v) {
  std::ostringstream os;
  os.precision(17);
  os << v;
  std::string s = os.str();
  if (s.find_first_of(".eEn") == std::string::npos)
    s += ".0";
  return s;
}

namespace {

int64_t floorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0)))
    --q;
  return q;
}

} // namespace

std::string printExpr(const Expr &e) {
  switch (e.kind) {
  case Expr::Kind::Literal:
    if (e.type == ExprType::Bool)
      return e.boolValue ? "true" : "false";
    if (e.type == ExprType::Int)
      return e.intValue < 0 ? "(" + std::to_string(e.intValue) + ")"
                            : std::to_string(e.intValue);
    return e.floatValue < 0 ? "(" + formatNumber(e.floatValue) + ")"
                            : formatNumber(e.floatValue);
  case Expr::Kind::Var:
    return e.name;
  case Expr::Kind::Unary:
    if (e.name == "float") // implicit; re-inserted when parsed again
      return printExpr(*e.operands[0]);
    return "(" + e.name + printExpr(*e.operands[0]) + ")";
  case Expr::Kind::Binary:
    return "(" + printExpr(*e.operands[0]) + " " + e.name + " " +
           printExpr(*e.operands[1]) + ")";
  case Expr::Kind::Select:
    return "(" + printExpr(*e.operands[0]) + " ? " + printExpr(*e.operands[1]) +
           " : " + printExpr(*e.operands[2]) + ")";
  case Expr::Kind::Call: {
    std::string s = e.name + "(";
    for (size_t i = 0; i < e.operands.size(); ++i)
      s += (i ? ", " : "") + printExpr(*e.operands[i]);
    return s + ")";
  }
  case Expr::Kind::Index: {
    std::string s = e.name + "[";
    for (size_t i = 0; i < e.operands.size(); ++i)
      s += (i ? ", " : "") + printExpr(*e.operands[i]);
    return s + "]";
  }
  }
  return "";
}

double evalNumeric(const Expr &e, const ExprEnv &env) {
  auto num = [&](size_t i) { return evalNumeric(*e.operands[i], env); };
  auto asInt = [&](size_t i) {
    return static_cast<int64_t>(evalNumeric(*e.operands[i], env));
  };
  switch (e.kind) {
  case Expr::Kind::Literal:
    if (e.type == ExprType::Bool)
      return e.boolValue;
    return e.type == ExprType::Int ? static_cast<double>(e.intValue)
                                   : e.floatValue;
  case Expr::Kind::Var:
    if (e.name == "b") return static_cast<double>(env.b);
    if (e.name == "h") return static_cast<double>(env.h);
    if (e.name == "q") return static_cast<double>(env.q);
    if (e.name == "kv") return static_cast<double>(env.kv);
    if (e.name == "seqlen_q") return static_cast<double>(env.seqlenQ);
    if (e.name == "seqlen_k") return static_cast<double>(env.seqlenK);
    if (e.name == "score") return env.score;
    for (const auto &[name, value] : env.params)
      if (name == e.name)
        return e.type == ExprType::Int ? std::floor(value) : value;
    return 0; // a parameter the caller did not give: the reference's bug
  case Expr::Kind::Unary:
    if (e.name == "!")
      return !evalBool(*e.operands[0], env);
    if (e.name == "-")
      return -num(0);
    return num(0); // float conversion
  case Expr::Kind::Binary: {
    const std::string &op = e.name;
    if (op == "&&" || op == "||" || (e.operands[0]->type == ExprType::Bool &&
                                     (op == "==" || op == "!=")))
      return evalBool(e, env);
    if (op == "<") return num(0) < num(1);
    if (op == "<=") return num(0) <= num(1);
    if (op == ">") return num(0) > num(1);
    if (op == ">=") return num(0) >= num(1);
    if (op == "==") return num(0) == num(1);
    if (op == "!=") return num(0) != num(1);
    if (e.type == ExprType::Int) {
      int64_t a = asInt(0), b = asInt(1);
      if (op == "+") return static_cast<double>(a + b);
      if (op == "-") return static_cast<double>(a - b);
      if (op == "*") return static_cast<double>(a * b);
      if (b == 0) return 0; // undefined; the generated code gives no promise
      if (op == "/") return static_cast<double>(floorDiv(a, b));
      return static_cast<double>(a - floorDiv(a, b) * b);
    }
    if (op == "+") return num(0) + num(1);
    if (op == "-") return num(0) - num(1);
    if (op == "*") return num(0) * num(1);
    return num(0) / num(1);
  }
  case Expr::Kind::Select:
    return evalBool(*e.operands[0], env) ? num(1) : num(2);
  case Expr::Kind::Index: {
    for (const ExprEnv::TensorValue &t : env.tensors) {
      if (t.name != e.name || !t.values || t.sizes.size() != e.operands.size())
        continue;
      // Row-major, each index clamped into bounds (what the kernels do).
      int64_t flat = 0;
      for (size_t i = 0; i < t.sizes.size(); ++i) {
        int64_t x = asInt(i);
        x = std::max<int64_t>(0, std::min<int64_t>(x, t.sizes[i] - 1));
        flat = flat * t.sizes[i] + x;
      }
      return (*t.values)[flat];
    }
    return 0; // a tensor the caller did not give: the reference's bug
  }
  case Expr::Kind::Call:
    if (e.name == "min") return std::min(num(0), num(1));
    if (e.name == "max") return std::max(num(0), num(1));
    if (e.name == "abs") return std::fabs(num(0));
    if (e.name == "tanh") return std::tanh(num(0));
    if (e.name == "exp") return std::exp(num(0));
    if (e.name == "exp2") return std::exp2(num(0));
    if (e.name == "log") return std::log(num(0));
    return std::sqrt(num(0));
  }
  return 0;
}

bool evalBool(const Expr &e, const ExprEnv &env) {
  if (e.kind == Expr::Kind::Binary && e.type == ExprType::Bool) {
    const std::string &op = e.name;
    if (op == "&&")
      return evalBool(*e.operands[0], env) && evalBool(*e.operands[1], env);
    if (op == "||")
      return evalBool(*e.operands[0], env) || evalBool(*e.operands[1], env);
    if (e.operands[0]->type == ExprType::Bool) {
      bool a = evalBool(*e.operands[0], env), b = evalBool(*e.operands[1], env);
      return op == "==" ? a == b : a != b;
    }
  }
  if (e.kind == Expr::Kind::Unary && e.name == "!")
    return !evalBool(*e.operands[0], env);
  if (e.kind == Expr::Kind::Select)
    return evalBool(*e.operands[0], env) ? evalBool(*e.operands[1], env)
                                         : evalBool(*e.operands[2], env);
  if (e.kind == Expr::Kind::Literal)
    return e.boolValue;
  return evalNumeric(e, env) != 0;
}

bool exprUses(const Expr &e, std::string_view name) {
  if ((e.kind == Expr::Kind::Var || e.kind == Expr::Kind::Index) &&
      e.name == name)
    return true;
  for (const ExprPtr &op : e.operands)
    if (exprUses(*op, name))
      return true;
  return false;
}

namespace {
/// Whether `e` has one value for a whole launch: literals, parameters and
/// sequence lengths only.
bool launchConstant(const Expr &e) {
  if (e.kind == Expr::Kind::Index)
    return false;
  if (e.kind == Expr::Kind::Var &&
      (e.name == "b" || e.name == "h" || e.name == "q" || e.name == "kv" ||
       e.name == "score"))
    return false;
  return std::all_of(e.operands.begin(), e.operands.end(),
                     [](const ExprPtr &op) { return launchConstant(*op); });
}
} // namespace

bool dividesByLaunchValue(const Expr &e) {
  if (e.kind == Expr::Kind::Binary && e.type == ExprType::Int &&
      (e.name == "/" || e.name == "%") && launchConstant(*e.operands[1]) &&
      e.operands[1]->kind != Expr::Kind::Literal)
    return true;
  return std::any_of(e.operands.begin(), e.operands.end(),
                     [](const ExprPtr &op) { return dividesByLaunchValue(*op); });
}

const Expr *zeroDivisor(const Expr &e, const ExprEnv &env) {
  if (e.kind == Expr::Kind::Binary && e.type == ExprType::Int &&
      (e.name == "/" || e.name == "%") && launchConstant(*e.operands[1]) &&
      evalNumeric(*e.operands[1], env) == 0)
    return &e;
  for (const ExprPtr &op : e.operands)
    if (const Expr *z = zeroDivisor(*op, env))
      return z;
  return nullptr;
}

} // namespace faopt::spec
