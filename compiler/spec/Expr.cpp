//===- Expr.cpp - mask and score expressions: parsing and type checking ---===//
#include "compiler/spec/Expr.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <sstream>

namespace faopt::spec {
namespace {

const char *typeName(ExprType t) {
  switch (t) {
  case ExprType::Bool:
    return "bool";
  case ExprType::Int:
    return "int";
  case ExprType::Float:
    return "float";
  }
  return "?";
}

struct Token {
  enum Kind { End, Int, Float, Ident, Punct } kind = End;
  std::string text;
  int column = 0;
};

/// Recursive-descent parser with C precedence; types are checked as nodes are
/// built, so every error carries the column of the offending token.
class Parser {
public:
  Parser(std::string_view text, ExprContext context,
         const std::vector<ParamDecl> &params,
         const std::vector<TensorDecl> &tensors)
      : text(text), context(context), params(params), tensors(tensors) {}

  ExprParseResult run() {
    if (!advance())
      return fail();
    if (tok.kind == Token::End) {
      error = "column 1: empty expression";
      return fail();
    }
    ExprPtr e = parseTernary();
    if (!e)
      return fail();
    if (tok.kind != Token::End) {
      setError(tok.column, "unexpected '" + tok.text + "' after a complete "
                           "expression");
      return fail();
    }
    if (context == ExprContext::Mask && e->type != ExprType::Bool) {
      setError(e->column ? e->column : 1,
               std::string("a mask must be a boolean expression, this one is ") +
                   typeName(e->type));
      return fail();
    }
    if (context == ExprContext::Score) {
      if (e->type == ExprType::Bool) {
        setError(e->column ? e->column : 1,
                 "a score must be a number, this expression is bool");
        return fail();
      }
      e = toFloat(e);
    }
    return {e, ""};
  }

private:
  std::string_view text;
  ExprContext context;
  const std::vector<ParamDecl> &params;
  const std::vector<TensorDecl> &tensors;
  size_t pos = 0;
  Token tok;
  std::string error;

  ExprParseResult fail() { return {nullptr, error}; }

  void setError(int column, const std::string &message) {
    if (error.empty())
      error = "column " + std::to_string(column) + ": " + message;
  }

  bool advance() {
    while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos])))
      ++pos;
    tok = Token();
    tok.column = static_cast<int>(pos) + 1;
    if (pos >= text.size()) {
      tok.kind = Token::End;
      tok.text = "end of expression";
      return true;
    }
    char c = text[pos];
    if (std::isdigit(static_cast<unsigned char>(c)) ||
        (c == '.' && pos + 1 < text.size() &&
         std::isdigit(static_cast<unsigned char>(text[pos + 1])))) {
      size_t start = pos;
      bool isFloat = false;
      while (pos < text.size() &&
             (std::isdigit(static_cast<unsigned char>(text[pos])) ||
              text[pos] == '.')) {
        isFloat |= text[pos] == '.';
        ++pos;
      }
      if (pos < text.size() && (text[pos] == 'e' || text[pos] == 'E')) {
        isFloat = true;
        ++pos;
        if (pos < text.size() && (text[pos] == '+' || text[pos] == '-'))
          ++pos;
        while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos])))
          ++pos;
      }
      tok.kind = isFloat ? Token::Float : Token::Int;
      tok.text = std::string(text.substr(start, pos - start));
      return true;
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t start = pos;
      while (pos < text.size() &&
             (std::isalnum(static_cast<unsigned char>(text[pos])) || text[pos] == '_'))
        ++pos;
      tok.kind = Token::Ident;
      tok.text = std::string(text.substr(start, pos - start));
      return true;
    }
    static const char *twoChar[] = {"&&", "||", "==", "!=", "<=", ">="};
    for (const char *op : twoChar) {
      if (text.substr(pos, 2) == op) {
        tok.kind = Token::Punct;
        tok.text = op;
        pos += 2;
        return true;
      }
    }
    if (std::string_view("+-*/%<>!?:(),[]").find(c) != std::string_view::npos) {
      tok.kind = Token::Punct;
      tok.text = std::string(1, c);
      ++pos;
      return true;
    }
    setError(tok.column, std::string("unexpected character '") + c + "'");
    return false;
  }

  bool isPunct(const char *p) const {
    return tok.kind == Token::Punct && tok.text == p;
  }

  static std::shared_ptr<Expr> node(Expr::Kind kind, ExprType type, int column,
                                    std::string name = "") {
    auto e = std::make_shared<Expr>();
    e->kind = kind;
    e->type = type;
    e->column = column;
    e->name = std::move(name);
    return e;
  }

  static ExprPtr toFloat(ExprPtr e) {
    if (e->type == ExprType::Float)
      return e;
    if (e->kind == Expr::Kind::Literal) {
      auto lit = node(Expr::Kind::Literal, ExprType::Float, e->column);
      lit->floatValue = static_cast<double>(e->intValue);
      return lit;
    }
    auto conv = node(Expr::Kind::Unary, ExprType::Float, e->column, "float");
    conv->operands.push_back(std::move(e));
    return conv;
  }

  bool requireNumeric(const ExprPtr &e, const std::string &op, int column) {
    if (e->type != ExprType::Bool)
      return true;
    setError(column, "'" + op + "' needs numbers, got a bool operand");
    return false;
  }

  /// Promotes two numeric operands to a common type.
  ExprType unify(ExprPtr &a, ExprPtr &b) {
    if (a->type == ExprType::Float || b->type == ExprType::Float) {
      a = toFloat(a);
      b = toFloat(b);
      return ExprType::Float;
    }
    return ExprType::Int;
  }

  ExprPtr makeBinary(const std::string &op, int column, ExprPtr a, ExprPtr b) {
    bool logical = op == "&&" || op == "||";
    bool equality = op == "==" || op == "!=";
    bool relational = op == "<" || op == "<=" || op == ">" || op == ">=";
    if (logical) {
      for (const ExprPtr &x : {a, b})
        if (x->type != ExprType::Bool) {
          setError(column, "'" + op + "' needs boolean operands, got " +
                               typeName(x->type));
          return nullptr;
        }
      auto e = node(Expr::Kind::Binary, ExprType::Bool, column, op);
      e->operands = {a, b};
      return e;
    }
    if (equality && a->type == ExprType::Bool && b->type == ExprType::Bool) {
      auto e = node(Expr::Kind::Binary, ExprType::Bool, column, op);
      e->operands = {a, b};
      return e;
    }
    if (!requireNumeric(a, op, column) || !requireNumeric(b, op, column))
      return nullptr;
    ExprType t = unify(a, b);
    if (op == "%" && t == ExprType::Float) {
      setError(column, "'%' needs integer operands");
      return nullptr;
    }
    if ((op == "/" || op == "%") && t == ExprType::Int &&
        b->kind == Expr::Kind::Literal && b->intValue == 0) {
      setError(column, "integer division by zero");
      return nullptr;
    }
    auto e = node(Expr::Kind::Binary,
                  (equality || relational) ? ExprType::Bool : t, column, op);
    e->operands = {a, b};
    return e;
  }

  ExprPtr parseTernary() {
    ExprPtr cond = parseBinary(0);
    if (!cond || !isPunct("?"))
      return cond;
    int column = tok.column;
    if (cond->type != ExprType::Bool) {
      setError(column, std::string("the condition of '?:' must be bool, got ") +
                           typeName(cond->type));
      return nullptr;
    }
    if (!advance())
      return nullptr;
    ExprPtr a = parseTernary();
    if (!a)
      return nullptr;
    if (!isPunct(":")) {
      setError(tok.column, "expected ':' in '?:', found '" + tok.text + "'");
      return nullptr;
    }
    if (!advance())
      return nullptr;
    ExprPtr b = parseTernary();
    if (!b)
      return nullptr;
    ExprType t;
    if (a->type == ExprType::Bool || b->type == ExprType::Bool) {
      if (a->type != b->type) {
        setError(column, "the branches of '?:' must both be bool or both be "
                         "numbers");
        return nullptr;
      }
      t = ExprType::Bool;
    } else {
      t = unify(a, b);
    }
    auto e = node(Expr::Kind::Select, t, column, "?:");
    e->operands = {cond, a, b};
    return e;
  }

  /// Binary operators by precedence level, lowest first.
  static int precedence(const std::string &op) {
    if (op == "||") return 1;
    if (op == "&&") return 2;
    if (op == "==" || op == "!=") return 3;
    if (op == "<" || op == "<=" || op == ">" || op == ">=") return 4;
    if (op == "+" || op == "-") return 5;
    if (op == "*" || op == "/" || op == "%") return 6;
    return 0;
  }

  ExprPtr parseBinary(int minPrec) {
    ExprPtr lhs = parseUnary();
    while (lhs && tok.kind == Token::Punct) {
      int prec = precedence(tok.text);
      if (prec == 0 || prec <= minPrec)
        break;
      std::string op = tok.text;
      int column = tok.column;
      if (!advance())
        return nullptr;
      ExprPtr rhs = parseBinary(prec);
      if (!rhs)
        return nullptr;
      lhs = makeBinary(op, column, lhs, rhs);
    }
    return lhs;
  }

  ExprPtr parseUnary() {
    if (isPunct("-") || isPunct("!")) {
      std::string op = tok.text;
      int column = tok.column;
      if (!advance())
        return nullptr;
      ExprPtr x = parseUnary();
      if (!x)
        return nullptr;
      if (op == "!" && x->type != ExprType::Bool) {
        setError(column, std::string("'!' needs a boolean operand, got ") +
                             typeName(x->type));
        return nullptr;
      }
      if (op == "-" && !requireNumeric(x, "-", column))
        return nullptr;
      if (op == "-" && x->kind == Expr::Kind::Literal) {
        auto lit = std::make_shared<Expr>(*x);
        lit->intValue = -lit->intValue;
        lit->floatValue = -lit->floatValue;
        lit->column = column;
        return lit;
      }
      auto e = node(Expr::Kind::Unary, x->type, column, op);
      e->operands = {x};
      return e;
    }
    return parsePrimary();
  }

  ExprPtr parsePrimary() {
    int column = tok.column;
    if (tok.kind == Token::Int) {
      errno = 0;
      char *end = nullptr;
      long long v = std::strtoll(tok.text.c_str(), &end, 10);
      if (errno == ERANGE || v > (1LL << 40)) {
        setError(column, "integer literal " + tok.text + " is too large");
        return nullptr;
      }
      auto e = node(Expr::Kind::Literal, ExprType::Int, column);
      e->intValue = v;
      return advance() ? e : nullptr;
    }
    if (tok.kind == Token::Float) {
      if (context == ExprContext::Mask) {
        setError(column, "masks use integers only, found '" + tok.text + "'");
        return nullptr;
      }
      char *end = nullptr;
      double v = std::strtod(tok.text.c_str(), &end);
      if (!end || *end != '\0' || !std::isfinite(v)) {
        setError(column, "malformed number '" + tok.text + "'");
        return nullptr;
      }
      auto e = node(Expr::Kind::Literal, ExprType::Float, column);
      e->floatValue = v;
      return advance() ? e : nullptr;
    }
    if (tok.kind == Token::Ident)
      return parseIdentifier();
    if (isPunct("(")) {
      if (!advance())
        return nullptr;
      ExprPtr e = parseTernary();
      if (!e)
        return nullptr;
      if (!isPunct(")")) {
        setError(tok.column, "expected ')', found '" + tok.text + "'");
        return nullptr;
      }
      return advance() ? e : nullptr;
    }
    setError(column, "expected an operand, found '" + tok.text + "'");
    return nullptr;
  }

  ExprPtr parseIdentifier() {
    std::string name = tok.text;
    int column = tok.column;
    if (!advance())
      return nullptr;
    if (isPunct("("))
      return parseCall(name, column);
    if (isPunct("["))
      return parseIndex(name, column);
    if (findTensor(name)) {
      setError(column, "tensor '" + name + "' needs indices: " + name + "[...]");
      return nullptr;
    }
    if (name == "true" || name == "false") {
      auto e = node(Expr::Kind::Literal, ExprType::Bool, column);
      e->boolValue = name == "true";
      return e;
    }
    std::string canonical;
    if (name == "b" || name == "batch")
      canonical = "b";
    else if (name == "h" || name == "head")
      canonical = "h";
    else if (name == "q" || name == "q_idx")
      canonical = "q";
    else if (name == "kv" || name == "kv_idx")
      canonical = "kv";
    else if (name == "seqlen_q" || name == "seqlen_k")
      canonical = name;
    else if (const ParamDecl *p = findParam(name)) {
      if (context == ExprContext::Mask && p->type == ExprType::Float) {
        setError(column, "parameter '" + name +
                             "' is a float; masks use integers only");
        return nullptr;
      }
      return node(Expr::Kind::Var, p->type, column, name);
    } else if (name == "score") {
      if (context == ExprContext::Mask) {
        setError(column, "'score' is only available in score expressions");
        return nullptr;
      }
      canonical = "score";
    } else {
      std::string known = context == ExprContext::Mask
                              ? "a mask may use b, h, q, kv, seqlen_q, seqlen_k"
                              : "a score may use score, b, h, q, kv, seqlen_q, "
                                "seqlen_k";
      for (const ParamDecl &p : params)
        if (context == ExprContext::Score || p.type == ExprType::Int)
          known += ", " + p.name;
      if (params.empty())
        known += "; run-time parameters are declared in \"params\"";
      setError(column, "unknown identifier '" + name + "' (" + known + ")");
      return nullptr;
    }
    return node(Expr::Kind::Var,
                canonical == "score" ? ExprType::Float : ExprType::Int, column,
                canonical);
  }

  const TensorDecl *findTensor(const std::string &name) const {
    for (const TensorDecl &t : tensors)
      if (t.name == name)
        return &t;
    return nullptr;
  }

  /// name[i, j, ...]: one integer index per dimension.
  ExprPtr parseIndex(const std::string &name, int column) {
    const TensorDecl *t = findTensor(name);
    if (!t) {
      setError(column, "'" + name + "' is not a tensor (declared in "
                                    "\"tensors\")");
      return nullptr;
    }
    if (context == ExprContext::Mask && t->type == ExprType::Float) {
      setError(column, "tensor '" + name +
                           "' holds floats; masks use integers only");
      return nullptr;
    }
    if (!advance()) // '['
      return nullptr;
    std::vector<ExprPtr> indices;
    while (true) {
      ExprPtr i = parseTernary();
      if (!i)
        return nullptr;
      if (i->type != ExprType::Int) {
        setError(i->column ? i->column : column,
                 "an index of '" + name + "' must be an integer");
        return nullptr;
      }
      indices.push_back(i);
      if (isPunct(",")) {
        if (!advance())
          return nullptr;
        continue;
      }
      break;
    }
    if (!isPunct("]")) {
      setError(tok.column, "expected ',' or ']' in '" + name + "[...]', found '" +
                               tok.text + "'");
      return nullptr;
    }
    if (!advance())
      return nullptr;
    if (indices.size() != t->dims.size()) {
      setError(column, "'" + name + "' has " + std::to_string(t->dims.size()) +
                           " dimension(s), indexed with " +
                           std::to_string(indices.size()));
      return nullptr;
    }
    auto e = node(Expr::Kind::Index, t->type, column, name);
    e->operands = std::move(indices);
    return e;
  }

  const ParamDecl *findParam(const std::string &name) const {
    for (const ParamDecl &p : params)
      if (p.name == name)
        return &p;
    return nullptr;
  }

  ExprPtr parseCall(const std::string &name, int column) {
    static const char *intOrFloat[] = {"min", "max", "abs"};
    static const char *floatOnly[] = {"tanh", "exp", "exp2", "log", "sqrt"};
    bool known = false, isFloatFn = false;
    for (const char *f : intOrFloat)
      known |= name == f;
    for (const char *f : floatOnly)
      if (name == f)
        known = isFloatFn = true;
    if (!known) {
      setError(column, "unknown function '" + name +
                           "' (known: min, max, abs, tanh, exp, exp2, log, "
                           "sqrt)");
      return nullptr;
    }
    if (isFloatFn && context == ExprContext::Mask) {
      setError(column, "'" + name + "' is only available in score expressions");
      return nullptr;
    }
    if (!advance()) // '('
      return nullptr;
    std::vector<ExprPtr> args;
    if (!isPunct(")")) {
      while (true) {
        ExprPtr a = parseTernary();
        if (!a)
          return nullptr;
        args.push_back(a);
        if (isPunct(",")) {
          if (!advance())
            return nullptr;
          continue;
        }
        break;
      }
    }
    if (!isPunct(")")) {
      setError(tok.column, "expected ',' or ')' in call to '" + name +
                               "', found '" + tok.text + "'");
      return nullptr;
    }
    if (!advance())
      return nullptr;
    size_t arity = (name == "min" || name == "max") ? 2 : 1;
    if (args.size() != arity) {
      setError(column, "'" + name + "' takes " + std::to_string(arity) +
                           " argument" + (arity == 1 ? "" : "s") + ", got " +
                           std::to_string(args.size()));
      return nullptr;
    }
    for (const ExprPtr &a : args)
      if (!requireNumeric(a, name, column))
        return nullptr;
    ExprType t;
    if (isFloatFn) {
      args[0] = toFloat(args[0]);
      t = ExprType::Float;
    } else if (arity == 2) {
      t = unify(args[0], args[1]);
    } else {
      t = args[0]->type;
    }
    auto e = node(Expr::Kind::Call, t, column, name);
    e->operands = std::move(args);
    return e;
  }
};

} // namespace

ExprParseResult parseExpr(std::string_view text, ExprContext context,
                          const std::vector<ParamDecl> &params,
                          const std::vector<TensorDecl> &tensors) {
  return Parser(text, context, params, tensors).run();
}

bool isReservedName(std::string_view name) {
  static const char *reserved[] = {
      "b",     "batch", "h",    "head", "q",    "q_idx", "kv",   "kv_idx",
      "score", "true",  "false", "seqlen_q", "seqlen_k", "min", "max", "abs",
      "tanh",  "exp",   "exp2", "log",  "sqrt"};
  for (const char *r : reserved)
    if (name == r)
      return true;
  return false;
}

} // namespace faopt::spec
