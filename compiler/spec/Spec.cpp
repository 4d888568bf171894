//===- Spec.cpp - reading and validating attention specs ------------------===//
//
// Built with exceptions (Boost.JSON); nothing here throws to callers: every
// failure becomes a SpecParseResult error naming the JSON path.
//
//===----------------------------------------------------------------------===//
#include "compiler/spec/Spec.h"
#include "compiler/spec/SpecReader.h"

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

std::string expectedTensorSizes(const TensorDecl &t, const LaunchSizes &s,
                                std::vector<int64_t> &out) {
  out.clear();
  for (const std::string &dim : t.dims) {
    // "seqlen_k/128": the number of 128-blocks, ceil(seqlen_k / 128).
    size_t slash = dim.find('/');
    std::string d = dim.substr(0, slash);
    int64_t per = slash == std::string::npos ? 1 : std::stoll(dim.substr(slash + 1));
    if (d == "batch")
      out.push_back(s.batch);
    else if (d == "heads")
      out.push_back(s.heads);
    else if (d == "kv_heads")
      out.push_back(s.kvHeads);
    else if (d == "seqlen_q")
      out.push_back(s.seqlenQ);
    else if (d == "seqlen_k")
      out.push_back(s.seqlenK);
    else if (d == "seqlen") {
      if (s.seqlenQ != s.seqlenK)
        return "tensor '" + t.name + "' has a \"seqlen\" dimension, which "
               "needs seqlen_q == seqlen_k (got " + std::to_string(s.seqlenQ) +
               " and " + std::to_string(s.seqlenK) + ")";
      out.push_back(s.seqlenQ);
    } else {
      out.push_back(std::stoll(d));
    }
    out.back() = (out.back() + per - 1) / per;
  }
  return "";
}

std::string staticTensorFits(const TensorDecl &t,
                             const std::vector<int64_t> &expected) {
  if (t.valueShape == expected)
    return "";
  auto shape = [](const std::vector<int64_t> &v) {
    std::string s;
    for (int64_t x : v)
      s += (s.empty() ? "" : " x ") + std::to_string(x);
    return s;
  };
  std::string dims;
  for (const std::string &d : t.dims)
    dims += (dims.empty() ? "" : ", ") + d;
  return "the spec's static '" + t.name + "' is " + shape(t.valueShape) +
         " but this launch needs " + shape(expected) + " ([" + dims +
         "]): write the layout for these sequence lengths";
}

std::string zeroDivisorError(const AttentionSpec &spec,
                             const std::vector<double> &paramValues,
                             int64_t seqlenQ, int64_t seqlenK) {
  if (!(spec.mask && dividesByLaunchValue(*spec.mask)) &&
      !(spec.score && dividesByLaunchValue(*spec.score)))
    return ""; // every launch of most specs: nothing to evaluate
  ExprEnv env;
  env.seqlenQ = seqlenQ;
  env.seqlenK = seqlenK;
  for (size_t i = 0; i < spec.params.size() && i < paramValues.size(); ++i)
    env.params.push_back({spec.params[i].name, paramValues[i]});
  for (auto [what, expr] : {std::pair("mask", spec.mask.get()),
                            std::pair("score", spec.score.get())}) {
    if (!expr)
      continue;
    if (const Expr *z = zeroDivisor(*expr, env))
      return std::string("the ") + what + " divides by " +
             printExpr(*z->operands[1]) +
             ", which is 0 with this launch's parameters (a divisor must "
             "not be 0)";
  }
  return "";
}

std::vector<std::string> AttentionSpec::regionParams() const {
  std::vector<std::string> names;
  for (const char *seqlen : {"seqlen_q", "seqlen_k"})
    if ((mask && exprUses(*mask, seqlen)) || (score && exprUses(*score, seqlen)))
      names.push_back(seqlen);
  for (const ParamDecl &p : params)
    names.push_back(p.name);
  for (const TensorDecl &t : tensors)
    names.push_back(t.name);
  return names;
}

namespace {

using namespace detail;

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
                  const std::string &path, const AttentionSpec &spec) {
  ExprParseResult parsed =
      parseExpr(term.text, context, spec.params, spec.tensors);
  if (!parsed.expr)
    r.fail(path, (context == ExprContext::Mask ? "mask" : "score") +
                     std::string(" expression \"") + term.text + "\": " +
                     parsed.error);
  return parsed.expr;
}

bool isIdentifier(std::string_view s);

/// "params": {"name": "int" | "float" | {"type": ..., "default": x}, ...}, in
/// declaration order (the order a launch passes them in).
bool readParams(Reader &r, const json::value &v, std::vector<ParamDecl> &out) {
  if (!v.is_object())
    return r.fail("$.params", "expected an object of name: type, got " +
                                  Reader::describe(v));
  for (const auto &kv : v.get_object()) {
    std::string name(kv.key());
    std::string path = "$.params." + name;
    if (!isIdentifier(name))
      return r.fail(path, "a parameter name must be an identifier");
    if (isReservedName(name))
      return r.fail(path, "'" + name + "' is reserved in expressions; choose "
                                       "another name");
    ParamDecl p;
    p.name = name;
    const json::value *typeValue = &kv.value();
    if (kv.value().is_object()) {
      const json::object &o = kv.value().get_object();
      if (!r.onlyFields(o, path, {"type", "default"}))
        return false;
      if (!o.contains("type"))
        return r.fail(path + ".type", "required field missing (\"int\" or "
                                      "\"float\")");
      typeValue = &o.at("type");
      if (o.contains("default")) {
        auto d = r.number(o.at("default"), path + ".default");
        if (!d)
          return false;
        p.hasDefault = true;
        p.defaultValue = *d;
      }
    }
    const json::string *t = r.string(*typeValue, path);
    if (!t)
      return false;
    if (*t == "int")
      p.type = ExprType::Int;
    else if (*t == "float")
      p.type = ExprType::Float;
    else
      return r.fail(path, "unknown parameter type \"" + std::string(*t) +
                              "\" (\"int\" or \"float\")");
    if (p.hasDefault && p.type == ExprType::Int &&
        p.defaultValue != std::floor(p.defaultValue))
      return r.fail(path + ".default", "an int parameter needs an integer "
                                       "default, got " +
                                           formatNumber(p.defaultValue));
    out.push_back(p);
  }
  return true;
}

/// "tensors": {"name": {"dtype": "int32" | "float32", "shape": [dims]}}.
bool readTensors(Reader &r, const json::value &v, AttentionSpec &spec) {
  if (!v.is_object())
    return r.fail("$.tensors", "expected an object of name: {dtype, shape}, "
                               "got " + Reader::describe(v));
  static const char *symbols[] = {"batch",    "heads",    "kv_heads",
                                  "seqlen_q", "seqlen_k", "seqlen"};
  for (const auto &kv : v.get_object()) {
    std::string name(kv.key());
    std::string path = "$.tensors." + name;
    if (!isIdentifier(name))
      return r.fail(path, "a tensor name must be an identifier");
    if (isReservedName(name))
      return r.fail(path, "'" + name + "' is reserved in expressions; choose "
                                       "another name");
    for (const ParamDecl &p : spec.params)
      if (p.name == name)
        return r.fail(path, "'" + name + "' is already a parameter");
    if (!kv.value().is_object())
      return r.fail(path, "expected {\"dtype\": ..., \"shape\": [...]}, got " +
                              Reader::describe(kv.value()));
    const json::object &o = kv.value().get_object();
    if (!r.onlyFields(o, path, {"dtype", "shape"}))
      return false;
    TensorDecl t;
    t.name = name;
    if (!o.contains("dtype"))
      return r.fail(path + ".dtype", "required field missing (\"int32\" or "
                                     "\"float32\")");
    const json::string *dtype = r.string(o.at("dtype"), path + ".dtype");
    if (!dtype)
      return false;
    if (*dtype == "int32")
      t.type = ExprType::Int;
    else if (*dtype == "float32")
      t.type = ExprType::Float;
    else
      return r.fail(path + ".dtype", "unsupported tensor dtype \"" +
                                         std::string(*dtype) +
                                         "\" (\"int32\" or \"float32\")");
    if (!o.contains("shape") || !o.at("shape").is_array() ||
        o.at("shape").get_array().empty() ||
        o.at("shape").get_array().size() > 4)
      return r.fail(path + ".shape", "expected a list of 1 to 4 dimensions "
                                     "(batch, heads, kv_heads, seqlen_q, "
                                     "seqlen_k, seqlen or a positive size)");
    const json::array &shape = o.at("shape").get_array();
    for (size_t i = 0; i < shape.size(); ++i) {
      std::string dpath = path + ".shape[" + std::to_string(i) + "]";
      if (shape[i].is_string()) {
        std::string d(shape[i].get_string());
        // A sequence in blocks: "seqlen_q/128".
        size_t slash = d.find('/');
        std::string sym = d.substr(0, slash);
        bool known = false;
        for (const char *s : symbols)
          known |= sym == s;
        if (known && slash != std::string::npos) {
          std::string per = d.substr(slash + 1);
          known = sym.rfind("seqlen", 0) == 0 && !per.empty() &&
                  per.size() <= 7 && per[0] != '0' &&
                  per.find_first_not_of("0123456789") == std::string::npos;
        }
        if (!known)
          return r.fail(dpath, "unknown dimension \"" + d +
                                   "\" (batch, heads, kv_heads, seqlen_q, "
                                   "seqlen_k, seqlen, or a sequence in blocks "
                                   "such as \"seqlen_q/128\")");
        t.dims.push_back(d);
      } else {
        // At most 2^30: the generated index arithmetic is 32-bit, and the
        // list builder's reads step past a box's end by up to 1k.
        auto n = r.integer(shape[i], dpath, 1, int64_t(1) << 30);
        if (!n)
          return false;
        t.dims.push_back(std::to_string(*n));
      }
    }
    spec.tensors.push_back(t);
  }
  return true;
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
                     "mask", "score", "lse", "sparsity", "params", "tensors"}))
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
  if (o.contains("params") && !readParams(r, o.at("params"), spec.params))
    return failed();
  if (o.contains("tensors") && !readTensors(r, o.at("tensors"), spec))
    return failed();
  // Block sparsity: a layout (declared tensor or static array, which joins
  // the tensors) whose term joins the mask after the mask's own terms.
  std::optional<Term> sparsityTerm;
  if (o.contains("sparsity")) {
    sparsityTerm = readSparsity(r, o.at("sparsity"), "$.sparsity", spec);
    if (!sparsityTerm)
      return failed();
  }

  // Each mask term joins the mask with &&.
  auto addMaskTerm = [&](const Term &term, const std::string &path) {
    ExprPtr e = parseTerm(r, term, ExprContext::Mask, path, spec);
    if (!e)
      return false;
    if (spec.mask) {
      auto conj = std::make_shared<Expr>();
      conj->kind = Expr::Kind::Binary;
      conj->type = ExprType::Bool;
      conj->name = "&&";
      conj->operands = {spec.mask, e};
      spec.mask = conj;
      spec.maskSummary += " && " + term.summary;
    } else {
      spec.mask = e;
      spec.maskSummary = term.summary;
    }
    return true;
  };
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
      auto term = readMaskTerm(r, *value, path, spec.params, spec.tensors);
      if (!term || !addMaskTerm(*term, path))
        return failed();
    }
  }
  if (sparsityTerm && !sparsityTerm->text.empty() &&
      !addMaskTerm(*sparsityTerm, "$.sparsity"))
    return failed();

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
      auto term = readScoreTerm(r, *value, path, spec);
      if (!term)
        return failed();
      ExprPtr e = parseTerm(r, *term, ExprContext::Score, path, spec);
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
  if (sparsity.layout.empty()) {
    o["sparsity"] = "dense";
  } else {
    json::object sp;
    sp["block"] = json::array{sparsity.blockQ, sparsity.blockKv};
    sp["layout"] = sparsity.layout;
    o["sparsity"] = sp;
  }
  if (!params.empty()) {
    json::array ps;
    for (const ParamDecl &p : params) {
      json::object po;
      po["name"] = p.name;
      po["type"] = p.type == ExprType::Int ? "int" : "float";
      if (p.hasDefault) {
        if (p.type == ExprType::Int)
          po["default"] = static_cast<int64_t>(p.defaultValue);
        else
          po["default"] = p.defaultValue;
      }
      ps.push_back(po);
    }
    o["params"] = ps;
  }
  if (!tensors.empty()) {
    json::array ts;
    for (const TensorDecl &t : tensors) {
      json::object to;
      to["name"] = t.name;
      to["dtype"] = t.type == ExprType::Int ? "int32" : "float32";
      json::array dims;
      for (const std::string &d : t.dims)
        dims.push_back(json::value(d));
      to["shape"] = dims;
      if (t.isStatic()) {
        json::array shape, value;
        for (int64_t n : t.valueShape)
          shape.push_back(n);
        for (double v : t.value)
          value.push_back(static_cast<int64_t>(v));
        to["value_shape"] = shape;
        to["value"] = value;
      }
      ts.push_back(to);
    }
    o["tensors"] = ts;
  }
  return json::serialize(o);
}

} // namespace faopt::spec
