//===- Spec.cpp - reading and validating attention specs ------------------===//
//
// Built with exceptions (Boost.JSON); nothing here throws to callers: every
// failure becomes a SpecParseResult error naming the JSON path.
//
//===----------------------------------------------------------------------===//
#include "compiler/spec/Spec.h"

#include <boost/json.hpp>
#include <cctype>
#include <cmath>
#include <sstream>

namespace json = boost::json;

namespace faopt::spec {

const char *toString(ElementType t) {
  switch (t) {
  case ElementType::F16:
    return "f16";
  case ElementType::BF16:
    return "bf16";
  case ElementType::F32:
    return "f32";
  }
  return "?";
}

const char *toString(Layout l) { return l == Layout::BHSD ? "bhsd" : "bshd"; }

int64_t elementBytes(ElementType t) { return t == ElementType::F32 ? 4 : 2; }

bool isSupportedHeadDim(int64_t d) { return d >= 16 && d <= 256 && d % 16 == 0; }

double AttentionSpec::effectiveScale() const {
  return scale ? *scale : 1.0 / std::sqrt(static_cast<double>(headDimQK));
}

namespace {

/// Collects the first error; later checks become no-ops.
struct Reader {
  std::string error;

  bool fail(const std::string &path, const std::string &message) {
    if (error.empty())
      error = path + ": " + message;
    return false;
  }

  static std::string describe(const json::value &v) {
    switch (v.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return v.get_bool() ? "true" : "false";
    case json::kind::string:
      return "the string " + json::serialize(v);
    case json::kind::array:
      return "an array";
    case json::kind::object:
      return "an object";
    default:
      return "the number " + json::serialize(v);
    }
  }

  std::optional<int64_t> integer(const json::value &v, const std::string &path,
                                 int64_t min, int64_t max) {
    std::optional<int64_t> result;
    if (v.is_int64())
      result = v.get_int64();
    else if (v.is_uint64() && v.get_uint64() <= static_cast<uint64_t>(max))
      result = static_cast<int64_t>(v.get_uint64());
    if (!result) {
      fail(path, "expected an integer, got " + describe(v));
      return std::nullopt;
    }
    if (*result < min || *result > max) {
      fail(path, "expected an integer in [" + std::to_string(min) + ", " +
                     std::to_string(max) + "], got " + std::to_string(*result));
      return std::nullopt;
    }
    return result;
  }

  std::optional<double> number(const json::value &v, const std::string &path) {
    if (v.is_double() || v.is_int64() || v.is_uint64())
      return v.to_number<double>();
    fail(path, "expected a number, got " + describe(v));
    return std::nullopt;
  }

  const json::string *string(const json::value &v, const std::string &path) {
    if (!v.is_string()) {
      fail(path, "expected a string, got " + describe(v));
      return nullptr;
    }
    return &v.get_string();
  }

  /// Rejects fields outside `allowed`.
  bool onlyFields(const json::object &o, const std::string &path,
                  std::initializer_list<const char *> allowed) {
    for (const auto &kv : o) {
      bool ok = false;
      for (const char *a : allowed)
        ok |= kv.key() == a;
      if (!ok) {
        std::string list;
        for (const char *a : allowed)
          list += std::string(list.empty() ? "" : ", ") + a;
        return fail(path + "." + std::string(kv.key()),
                    "unknown field (expected one of: " + list + ")");
      }
    }
    return true;
  }
};

/// A mask or score term: a built-in name, an expression string, or an
/// object {"type": builtin, ...} / {"expr": "..."}. Produces expression text
/// and a summary for --explain.
struct Term {
  std::string text;
  std::string summary;
};

std::string formatNumber(double v) {
  std::ostringstream os;
  os.precision(17);
  os << v;
  std::string s = os.str();
  if (s.find_first_of(".eEn") == std::string::npos)
    s += ".0";
  return s;
}

std::optional<Term> readMaskTerm(Reader &r, const json::value &v,
                                 const std::string &path) {
  static const char *builtins = "causal, sliding_window, prefix_lm";
  if (v.is_string()) {
    std::string s(v.get_string());
    if (s == "causal")
      return Term{"q >= kv", "causal"};
    if (s == "sliding_window" || s == "prefix_lm") {
      r.fail(path, "'" + s + "' needs parameters: write {\"type\": \"" + s +
                       (s == "prefix_lm" ? "\", \"n\": N}"
                                         : "\", \"left\": N, \"right\": 0}"));
      return std::nullopt;
    }
    return Term{s, "expr(" + s + ")"};
  }
  if (!v.is_object()) {
    r.fail(path, "expected a mask name, an expression string or an object, "
                 "got " + Reader::describe(v));
    return std::nullopt;
  }
  const json::object &o = v.get_object();
  if (o.contains("expr")) {
    if (!r.onlyFields(o, path, {"expr"}))
      return std::nullopt;
    const json::string *s = r.string(o.at("expr"), path + ".expr");
    if (!s)
      return std::nullopt;
    return Term{std::string(*s), "expr(" + std::string(*s) + ")"};
  }
  if (!o.contains("type")) {
    r.fail(path, "a mask object needs \"type\" (one of " + std::string(builtins) +
                     ") or \"expr\"");
    return std::nullopt;
  }
  const json::string *type = r.string(o.at("type"), path + ".type");
  if (!type)
    return std::nullopt;
  if (*type == "causal") {
    if (!r.onlyFields(o, path, {"type"}))
      return std::nullopt;
    return Term{"q >= kv", "causal"};
  }
  if (*type == "sliding_window") {
    if (!r.onlyFields(o, path, {"type", "left", "right"}))
      return std::nullopt;
    if (!o.contains("left")) {
      r.fail(path + ".left", "required field missing (how many earlier keys "
                             "each query sees)");
      return std::nullopt;
    }
    auto left = r.integer(o.at("left"), path + ".left", 0, int64_t(1) << 40);
    std::optional<int64_t> right = int64_t(0);
    if (o.contains("right"))
      right = r.integer(o.at("right"), path + ".right", 0, int64_t(1) << 40);
    if (!left || !right)
      return std::nullopt;
    return Term{"q - kv <= " + std::to_string(*left) + " && kv - q <= " +
                    std::to_string(*right),
                "sliding_window(left=" + std::to_string(*left) +
                    ", right=" + std::to_string(*right) + ")"};
  }
  if (*type == "prefix_lm") {
    if (!r.onlyFields(o, path, {"type", "n"}))
      return std::nullopt;
    if (!o.contains("n")) {
      r.fail(path + ".n", "required field missing (length of the "
                          "bidirectional prefix)");
      return std::nullopt;
    }
    auto n = r.integer(o.at("n"), path + ".n", 0, int64_t(1) << 40);
    if (!n)
      return std::nullopt;
    return Term{"kv < " + std::to_string(*n) + " || q >= kv",
                "prefix_lm(n=" + std::to_string(*n) + ")"};
  }
  r.fail(path + ".type", "unknown mask '" + std::string(*type) +
                             "' (built-in masks: " + builtins + ")");
  return std::nullopt;
}

/// A score term is applied to the result of the previous one: its text uses
/// `score` for that value.
std::optional<Term> readScoreTerm(Reader &r, const json::value &v,
                                  const std::string &path,
                                  std::optional<int64_t> heads) {
  static const char *builtins = "softcap, alibi";
  auto alibi = [&](std::optional<int64_t> h,
                   const std::string &p) -> std::optional<Term> {
    if (!h) {
      r.fail(p, "alibi needs the head count for its slopes: set \"heads\" in "
                "the spec or {\"type\": \"alibi\", \"heads\": N}");
      return std::nullopt;
    }
    // Slopes 2^(-8 (h+1) / H), the geometric sequence of Press et al.
    return Term{"score + exp2(-8.0 * (h + 1) / " + std::to_string(*h) +
                    ") * (kv - q)",
                "alibi(heads=" + std::to_string(*h) + ")"};
  };
  if (v.is_string()) {
    std::string s(v.get_string());
    if (s == "alibi")
      return alibi(heads, path);
    if (s == "softcap") {
      r.fail(path, "'softcap' needs a cap: write {\"type\": \"softcap\", "
                   "\"cap\": 30}");
      return std::nullopt;
    }
    return Term{s, "expr(" + s + ")"};
  }
  if (!v.is_object()) {
    r.fail(path, "expected a score name, an expression string or an object, "
                 "got " + Reader::describe(v));
    return std::nullopt;
  }
  const json::object &o = v.get_object();
  if (o.contains("expr")) {
    if (!r.onlyFields(o, path, {"expr"}))
      return std::nullopt;
    const json::string *s = r.string(o.at("expr"), path + ".expr");
    if (!s)
      return std::nullopt;
    return Term{std::string(*s), "expr(" + std::string(*s) + ")"};
  }
  if (!o.contains("type")) {
    r.fail(path, "a score object needs \"type\" (one of " +
                     std::string(builtins) + ") or \"expr\"");
    return std::nullopt;
  }
  const json::string *type = r.string(o.at("type"), path + ".type");
  if (!type)
    return std::nullopt;
  if (*type == "softcap") {
    if (!r.onlyFields(o, path, {"type", "cap"}))
      return std::nullopt;
    if (!o.contains("cap")) {
      r.fail(path + ".cap", "required field missing");
      return std::nullopt;
    }
    auto cap = r.number(o.at("cap"), path + ".cap");
    if (!cap)
      return std::nullopt;
    if (!(*cap > 0) || !std::isfinite(*cap)) {
      r.fail(path + ".cap", "must be positive and finite");
      return std::nullopt;
    }
    std::string c = formatNumber(*cap);
    return Term{c + " * tanh(score / " + c + ")", "softcap(cap=" + c + ")"};
  }
  if (*type == "alibi") {
    if (!r.onlyFields(o, path, {"type", "heads"}))
      return std::nullopt;
    std::optional<int64_t> h = heads;
    if (o.contains("heads")) {
      h = r.integer(o.at("heads"), path + ".heads", 1, 1 << 16);
      if (!h)
        return std::nullopt;
    }
    return alibi(h, path);
  }
  r.fail(path + ".type", "unknown score modifier '" + std::string(*type) +
                             "' (built-in: " + builtins + ")");
  return std::nullopt;
}

/// Substitutes `inner` for the variable `score` in `outer`.
ExprPtr substituteScore(const ExprPtr &outer, const ExprPtr &inner) {
  if (outer->kind == Expr::Kind::Var && outer->name == "score")
    return inner;
  if (outer->operands.empty())
    return outer;
  auto copy = std::make_shared<Expr>(*outer);
  for (ExprPtr &op : copy->operands)
    op = substituteScore(op, inner);
  return copy;
}

/// Parses an expression term, prefixing errors with the JSON path.
ExprPtr parseTerm(Reader &r, const Term &term, ExprContext context,
                  const std::string &path) {
  ExprParseResult parsed = parseExpr(term.text, context);
  if (!parsed.expr)
    r.fail(path, (context == ExprContext::Mask ? "mask" : "score") +
                     std::string(" expression \"") + term.text + "\": " +
                     parsed.error);
  return parsed.expr;
}

std::string lineColumn(std::string_view text, size_t offset) {
  size_t line = 1, column = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

bool isIdentifier(std::string_view s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_'))
    return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_'))
      return false;
  return true;
}

SpecParseResult parseSpecImpl(std::string_view text) {
  Reader r;
  auto failed = [&]() { return SpecParseResult{std::nullopt, r.error}; };

  json::stream_parser parser;
  boost::system::error_code ec;
  size_t consumed = parser.write_some(text.data(), text.size(), ec);
  if (!ec)
    parser.finish(ec);
  if (ec) {
    r.fail("$", "invalid JSON at " + lineColumn(text, consumed) + ": " +
                    ec.message());
    return failed();
  }
  json::value doc = parser.release();
  if (!doc.is_object()) {
    r.fail("$", "a spec must be a JSON object, got " + Reader::describe(doc));
    return failed();
  }
  const json::object &o = doc.get_object();
  if (!r.onlyFields(o, "$",
                    {"name", "comment", "dtype", "head_dim", "head_dim_qk",
                     "head_dim_v", "layout", "heads", "kv_heads", "scale",
                     "mask", "score", "lse", "sparsity"}))
    return failed();

  AttentionSpec spec;
  if (o.contains("name")) {
    const json::string *s = r.string(o.at("name"), "$.name");
    if (!s)
      return failed();
    if (!isIdentifier(*s)) {
      r.fail("$.name", "must be an identifier ([A-Za-z_][A-Za-z0-9_]*), got \"" +
                           std::string(*s) + "\"");
      return failed();
    }
    spec.name = std::string(*s);
  }
  if (o.contains("comment") && !r.string(o.at("comment"), "$.comment"))
    return failed();

  if (!o.contains("dtype")) {
    r.fail("$.dtype", "required field missing (one of \"bf16\", \"f16\", "
                      "\"f32\")");
    return failed();
  }
  {
    const json::string *s = r.string(o.at("dtype"), "$.dtype");
    if (!s)
      return failed();
    if (*s == "bf16")
      spec.dtype = ElementType::BF16;
    else if (*s == "f16")
      spec.dtype = ElementType::F16;
    else if (*s == "f32")
      spec.dtype = ElementType::F32;
    else {
      r.fail("$.dtype", "unsupported dtype \"" + std::string(*s) +
                            "\" (supported: \"bf16\", \"f16\", \"f32\")");
      return failed();
    }
  }

  auto headDim = [&](const char *field) -> std::optional<int64_t> {
    auto d = r.integer(o.at(field), std::string("$.") + field, 1, 1 << 20);
    if (!d)
      return std::nullopt;
    if (!isSupportedHeadDim(*d)) {
      r.fail(std::string("$.") + field,
             "unsupported head dim " + std::to_string(*d) +
                 " (supported: multiples of 16 from 16 to 256)");
      return std::nullopt;
    }
    return d;
  };
  if (o.contains("head_dim")) {
    if (o.contains("head_dim_qk") || o.contains("head_dim_v")) {
      r.fail("$.head_dim", "give either head_dim or head_dim_qk/head_dim_v, "
                           "not both");
      return failed();
    }
    auto d = headDim("head_dim");
    if (!d)
      return failed();
    spec.headDimQK = spec.headDimV = *d;
  } else if (o.contains("head_dim_qk")) {
    auto dq = headDim("head_dim_qk");
    if (!dq)
      return failed();
    spec.headDimQK = spec.headDimV = *dq;
    if (o.contains("head_dim_v")) {
      auto dv = headDim("head_dim_v");
      if (!dv)
        return failed();
      spec.headDimV = *dv;
    }
  } else {
    r.fail("$.head_dim", "required field missing (or head_dim_qk with "
                         "optional head_dim_v)");
    return failed();
  }

  if (o.contains("layout")) {
    const json::string *s = r.string(o.at("layout"), "$.layout");
    if (!s)
      return failed();
    if (*s == "bhsd")
      spec.layout = Layout::BHSD;
    else if (*s == "bshd")
      spec.layout = Layout::BSHD;
    else {
      r.fail("$.layout", "unknown layout \"" + std::string(*s) +
                             "\" (supported: \"bhsd\", \"bshd\")");
      return failed();
    }
  }
  if (o.contains("heads")) {
    spec.heads = r.integer(o.at("heads"), "$.heads", 1, 1 << 16);
    if (!spec.heads)
      return failed();
  }
  if (o.contains("kv_heads")) {
    spec.kvHeads = r.integer(o.at("kv_heads"), "$.kv_heads", 1, 1 << 16);
    if (!spec.kvHeads)
      return failed();
    if (spec.heads && *spec.heads % *spec.kvHeads != 0) {
      r.fail("$.kv_heads", "kv_heads (" + std::to_string(*spec.kvHeads) +
                               ") must divide heads (" +
                               std::to_string(*spec.heads) + ")");
      return failed();
    }
  }
  if (o.contains("scale")) {
    auto s = r.number(o.at("scale"), "$.scale");
    if (!s)
      return failed();
    if (!(*s > 0) || !std::isfinite(*s)) {
      r.fail("$.scale", "must be positive and finite, got " + formatNumber(*s));
      return failed();
    }
    spec.scale = *s;
  }
  if (o.contains("lse")) {
    if (!o.at("lse").is_bool()) {
      r.fail("$.lse", "expected true or false, got " +
                          Reader::describe(o.at("lse")));
      return failed();
    }
    spec.lse = o.at("lse").get_bool();
  }
  if (o.contains("sparsity")) {
    const json::string *s = r.string(o.at("sparsity"), "$.sparsity");
    if (!s)
      return failed();
    if (*s != "dense") {
      r.fail("$.sparsity", "unsupported sparsity \"" + std::string(*s) +
                               "\" (supported: \"dense\")");
      return failed();
    }
  }

  // Masks: one term or an array of terms, all of which must hold.
  if (o.contains("mask")) {
    const json::value &m = o.at("mask");
    std::vector<std::pair<const json::value *, std::string>> terms;
    if (m.is_array()) {
      if (m.get_array().empty()) {
        r.fail("$.mask", "an empty list; omit \"mask\" to attend everywhere");
        return failed();
      }
      for (size_t i = 0; i < m.get_array().size(); ++i)
        terms.push_back({&m.get_array()[i], "$.mask[" + std::to_string(i) + "]"});
    } else {
      terms.push_back({&m, "$.mask"});
    }
    for (auto &[value, path] : terms) {
      auto term = readMaskTerm(r, *value, path);
      if (!term)
        return failed();
      ExprPtr e = parseTerm(r, *term, ExprContext::Mask, path);
      if (!e)
        return failed();
      if (spec.mask) {
        auto conj = std::make_shared<Expr>();
        conj->kind = Expr::Kind::Binary;
        conj->type = ExprType::Bool;
        conj->name = "&&";
        conj->operands = {spec.mask, e};
        spec.mask = conj;
        spec.maskSummary += " && " + term->summary;
      } else {
        spec.mask = e;
        spec.maskSummary = term->summary;
      }
    }
  }

  // Scores: one term or an array applied in order (each sees the previous).
  if (o.contains("score")) {
    const json::value &s = o.at("score");
    std::vector<std::pair<const json::value *, std::string>> terms;
    if (s.is_array()) {
      if (s.get_array().empty()) {
        r.fail("$.score", "an empty list; omit \"score\" for plain scores");
        return failed();
      }
      for (size_t i = 0; i < s.get_array().size(); ++i)
        terms.push_back({&s.get_array()[i], "$.score[" + std::to_string(i) + "]"});
    } else {
      terms.push_back({&s, "$.score"});
    }
    for (auto &[value, path] : terms) {
      auto term = readScoreTerm(r, *value, path, spec.heads);
      if (!term)
        return failed();
      ExprPtr e = parseTerm(r, *term, ExprContext::Score, path);
      if (!e)
        return failed();
      spec.score = spec.score ? substituteScore(e, spec.score) : e;
      spec.scoreSummary += (spec.scoreSummary.empty() ? "" : " then ") +
                           term->summary;
    }
  }
  return {spec, ""};
}

} // namespace

SpecParseResult parseSpec(std::string_view json) {
  try {
    return parseSpecImpl(json);
  } catch (const std::exception &e) {
    // Boost.JSON reports allocation failures and the like by throwing; keep
    // them inside this library.
    return {std::nullopt, std::string("$: internal error reading the spec: ") +
                              e.what()};
  }
}

std::string AttentionSpec::canonicalJson() const {
  json::object o;
  o["name"] = name;
  o["dtype"] = toString(dtype);
  o["head_dim_qk"] = headDimQK;
  o["head_dim_v"] = headDimV;
  o["layout"] = toString(layout);
  if (heads)
    o["heads"] = *heads;
  if (kvHeads)
    o["kv_heads"] = *kvHeads;
  o["scale"] = formatNumber(static_cast<float>(effectiveScale()));
  o["mask"] = mask ? json::value(printExpr(*mask)) : json::value(nullptr);
  o["score"] = score ? json::value(printExpr(*score)) : json::value(nullptr);
  o["lse"] = lse;
  o["sparsity"] = "dense";
  return json::serialize(o);
}

} // namespace faopt::spec
