//===- SpecTerms.cpp - built-in masks and score modifiers -----------------===//
//
// Each built-in term becomes expression text over b, h, q, kv, seqlen_q,
// seqlen_k, score and the spec's run-time parameters; the expression parser
// then checks it like any user expression. Numbers in built-ins may name an
// int (or, for softcap, float) parameter instead.
//
//===----------------------------------------------------------------------===//
#include "compiler/spec/SpecReader.h"

#include <cmath>

namespace faopt::spec::detail {

namespace {

const ParamDecl *findParam(const std::vector<ParamDecl> &params,
                           std::string_view name) {
  for (const ParamDecl &p : params)
    if (p.name == name)
      return &p;
  return nullptr;
}

std::string paramList(const std::vector<ParamDecl> &params, ExprType type) {
  std::string s;
  for (const ParamDecl &p : params)
    if (p.type == type || type == ExprType::Float)
      s += std::string(s.empty() ? "" : ", ") + p.name;
  return s.empty() ? "none declared" : s;
}

/// A non-negative integer or the name of an int parameter, as expression
/// text (parenthesised: it is substituted into larger expressions).
std::optional<std::string> intOrParam(Reader &r, const json::value &v,
                                      const std::string &path,
                                      const std::vector<ParamDecl> &params,
                                      int64_t min) {
  if (v.is_string()) {
    std::string name(v.get_string());
    const ParamDecl *p = findParam(params, name);
    if (!p || p->type != ExprType::Int) {
      r.fail(path, "\"" + name + "\" is not an int parameter (declared in "
                                 "\"params\": " +
                       paramList(params, ExprType::Int) + ")");
      return std::nullopt;
    }
    return name;
  }
  auto n = r.integer(v, path, min, int64_t(1) << 40);
  if (!n)
    return std::nullopt;
  return std::to_string(*n);
}

/// Alignment of a causal-like mask when seqlen_q != seqlen_k: the query
/// position as the mask sees it.
std::optional<std::string> alignedQuery(Reader &r, const json::object &o,
                                        const std::string &path) {
  if (!o.contains("align"))
    return std::string("q");
  const json::string *a = r.string(o.at("align"), path + ".align");
  if (!a)
    return std::nullopt;
  if (*a == "top_left")
    return std::string("q");
  if (*a == "bottom_right")
    return std::string("(q + seqlen_k - seqlen_q)");
  r.fail(path + ".align", "unknown alignment \"" + std::string(*a) +
                              "\" (\"top_left\" or \"bottom_right\")");
  return std::nullopt;
}

std::string alignSuffix(const std::string &query) {
  return query == "q" ? "" : ", bottom_right";
}

/// The declared tensor a built-in names in `field`, checked for its element
/// type and rank.
const TensorDecl *tensorField(Reader &r, const json::object &o,
                              const std::string &path, const char *field,
                              const std::vector<TensorDecl> &tensors,
                              ExprType type, std::vector<size_t> ranks,
                              const char *what) {
  if (!o.contains(field)) {
    r.fail(path + "." + field, std::string("required field missing (") + what +
                                   ")");
    return nullptr;
  }
  const json::string *name = r.string(o.at(field), path + "." + field);
  if (!name)
    return nullptr;
  for (const TensorDecl &t : tensors) {
    if (t.name != *name)
      continue;
    bool rankOk = false;
    for (size_t rank : ranks)
      rankOk |= t.dims.size() == rank;
    if (t.type != type || !rankOk) {
      std::string want = type == ExprType::Int ? "an int32" : "a float32";
      r.fail(path + "." + field, "\"" + std::string(*name) + "\" must be " +
                                     want + " tensor of " +
                                     (ranks.size() > 1 ? "1 or 2" : "1") +
                                     " dimension(s) (" + what + ")");
      return nullptr;
    }
    return &t;
  }
  std::string declared;
  for (const TensorDecl &t : tensors)
    declared += (declared.empty() ? "" : ", ") + t.name;
  r.fail(path + "." + field, "\"" + std::string(*name) +
                                 "\" is not a tensor (declared in \"tensors\": " +
                                 (declared.empty() ? "none" : declared) + ")");
  return nullptr;
}

/// The object form shared by mask and score terms: {"expr": "..."} is a
/// Term; {"type": T, ...} leaves T and the object to the caller's built-ins.
/// Neither (with the error reported): no object and no Term.
struct TermObject {
  std::optional<Term> expr;
  const json::object *object = nullptr;
  std::string type;
};
TermObject readTermObject(Reader &r, const json::value &v,
                          const std::string &path, const char *kind,
                          const char *builtins) {
  TermObject t;
  if (!v.is_object()) {
    r.fail(path, std::string("expected a ") + kind + " name, an expression "
                 "string or an object, got " + Reader::describe(v));
    return t;
  }
  const json::object &o = v.get_object();
  if (o.contains("expr")) {
    if (!r.onlyFields(o, path, {"expr"}))
      return t;
    if (const json::string *s = r.string(o.at("expr"), path + ".expr"))
      t.expr = Term{std::string(*s), "expr(" + std::string(*s) + ")"};
    return t;
  }
  if (!o.contains("type")) {
    r.fail(path, std::string("a ") + kind + " object needs \"type\" (one of " +
                     builtins + ") or \"expr\"");
    return t;
  }
  if (const json::string *type = r.string(o.at("type"), path + ".type")) {
    t.object = &o;
    t.type = std::string(*type);
  }
  return t;
}

} // namespace

std::optional<Term> readMaskTerm(Reader &r, const json::value &v,
                                 const std::string &path,
                                 const std::vector<ParamDecl> &params,
                                 const std::vector<TensorDecl> &tensors) {
  static const char *builtins =
      "causal, sliding_window, prefix_lm, chunked, document, key_padding, "
      "query_padding";
  if (v.is_string()) {
    std::string s(v.get_string());
    if (s == "causal")
      return Term{"q >= kv", "causal"};
    if (s == "sliding_window" || s == "prefix_lm" || s == "chunked" ||
        s == "document" || s == "key_padding") {
      std::string fields = s == "prefix_lm"     ? "\"n\": N"
                           : s == "chunked"     ? "\"chunk\": C"
                           : s == "document"    ? "\"ids\": \"TENSOR\""
                           : s == "key_padding" ? "\"lengths\": \"TENSOR\""
                                                : "\"left\": N, \"right\": 0";
      r.fail(path, "'" + s + "' needs parameters: write {\"type\": \"" + s +
                       "\", " + fields + "}");
      return std::nullopt;
    }
    return Term{s, "expr(" + s + ")"};
  }
  TermObject t = readTermObject(r, v, path, "mask", builtins);
  if (t.expr || !t.object)
    return t.expr;
  const json::object &o = *t.object;
  if (t.type == "causal") {
    if (!r.onlyFields(o, path, {"type", "align"}))
      return std::nullopt;
    auto query = alignedQuery(r, o, path);
    if (!query)
      return std::nullopt;
    return Term{*query + " >= kv", "causal" + (*query == "q" ? std::string()
                                                            : "(bottom_right)")};
  }
  if (t.type == "sliding_window") {
    if (!r.onlyFields(o, path, {"type", "left", "right", "align"}))
      return std::nullopt;
    if (!o.contains("left")) {
      r.fail(path + ".left", "required field missing (how many earlier keys "
                             "each query sees)");
      return std::nullopt;
    }
    auto left = intOrParam(r, o.at("left"), path + ".left", params, 0);
    std::optional<std::string> right = std::string("0");
    if (o.contains("right"))
      right = intOrParam(r, o.at("right"), path + ".right", params, 0);
    auto query = alignedQuery(r, o, path);
    if (!left || !right || !query)
      return std::nullopt;
    return Term{*query + " - kv <= " + *left + " && kv - " + *query +
                    " <= " + *right,
                "sliding_window(left=" + *left + ", right=" + *right +
                    alignSuffix(*query) + ")"};
  }
  if (t.type == "prefix_lm") {
    if (!r.onlyFields(o, path, {"type", "n", "align"}))
      return std::nullopt;
    if (!o.contains("n")) {
      r.fail(path + ".n", "required field missing (length of the "
                          "bidirectional prefix)");
      return std::nullopt;
    }
    auto n = intOrParam(r, o.at("n"), path + ".n", params, 0);
    auto query = alignedQuery(r, o, path);
    if (!n || !query)
      return std::nullopt;
    return Term{"kv < " + *n + " || " + *query + " >= kv",
                "prefix_lm(n=" + *n + alignSuffix(*query) + ")"};
  }
  if (t.type == "chunked") {
    // Local attention in chunks (Llama 4 style): a query sees the keys of
    // its own chunk only. Combine with "causal" for causal-within-chunk.
    if (!r.onlyFields(o, path, {"type", "chunk", "align"}))
      return std::nullopt;
    if (!o.contains("chunk")) {
      r.fail(path + ".chunk", "required field missing (keys per chunk)");
      return std::nullopt;
    }
    auto c = intOrParam(r, o.at("chunk"), path + ".chunk", params, 1);
    auto query = alignedQuery(r, o, path);
    if (!c || !query)
      return std::nullopt;
    // Bottom-right: the last query sits at the last key's position (a
    // prefill after a cache), chunks still start at key 0; a query placed
    // before key 0 (more queries than keys) floors to chunk -1 and sees
    // nothing.
    return Term{*query + " / " + *c + " == kv / " + *c,
                "chunked(chunk=" + *c + alignSuffix(*query) + ")"};
  }
  if (t.type == "document") {
    // Packed sequences: a query attends keys of its own document only.
    if (!r.onlyFields(o, path, {"type", "ids"}))
      return std::nullopt;
    const TensorDecl *t =
        tensorField(r, o, path, "ids", tensors, ExprType::Int, {1, 2},
                    "document id per position: [seqlen] or [batch, seqlen]");
    if (!t)
      return std::nullopt;
    std::string b = t->dims.size() == 2 ? "b, " : "";
    return Term{t->name + "[" + b + "q] == " + t->name + "[" + b + "kv]",
                "document(ids=" + t->name + ")"};
  }
  if (t.type == "key_padding" || t.type == "query_padding") {
    // Variable-length batches in a padded layout: keys at or past the
    // sequence's own length are never attended; rows at or past it attend
    // nothing (o = 0, lse = -inf).
    const bool keys = t.type == "key_padding";
    if (!r.onlyFields(o, path, {"type", "lengths"}))
      return std::nullopt;
    const TensorDecl *t = tensorField(
        r, o, path, "lengths", tensors, ExprType::Int, {1},
        keys ? "keys per batch entry: [batch]" : "queries per batch entry: [batch]");
    if (!t)
      return std::nullopt;
    return Term{std::string(keys ? "kv" : "q") + " < " + t->name + "[b]",
                std::string(keys ? "key" : "query") + "_padding(lengths=" +
                    t->name + ")"};
  }
  r.fail(path + ".type", "unknown mask '" + t.type +
                             "' (built-in masks: " + builtins + ")");
  return std::nullopt;
}

std::string alibiSlopes(int64_t heads) {
  int64_t n = 1;
  while (2 * n <= heads)
    n *= 2;
  std::string pow2 = "exp2(-8.0 * (h + 1) / " + std::to_string(n) + ")";
  if (n == heads)
    return pow2;
  // The heads past n take the odd-numbered slopes of 2n heads:
  // 2^(-8 (2 (h - n) + 1) / (2n)).
  return "(h < " + std::to_string(n) + " ? " + pow2 + " : exp2(-4.0 * (2 * (h - " +
         std::to_string(n) + ") + 1) / " + std::to_string(n) + "))";
}

std::optional<Term> readScoreTerm(Reader &r, const json::value &v,
                                  const std::string &path,
                                  AttentionSpec &spec) {
  static const char *builtins = "softcap, alibi, bias";
  const std::vector<ParamDecl> &params = spec.params;
  const std::vector<TensorDecl> &tensors = spec.tensors;
  auto alibi = [&](std::optional<int64_t> h,
                   const std::string &p) -> std::optional<Term> {
    if (!h) {
      r.fail(p, "alibi needs the head count for its slopes: set \"heads\" in "
                "the spec, write {\"type\": \"alibi\", \"heads\": N}, or "
                "give the slopes: {\"type\": \"alibi\", \"slopes\": "
                "\"TENSOR\"}");
      return std::nullopt;
    }
    return Term{"score + " + alibiSlopes(*h) + " * (kv - q)",
                "alibi(heads=" + std::to_string(*h) + ")"};
  };
  if (v.is_string()) {
    std::string s(v.get_string());
    if (s == "alibi")
      return alibi(spec.heads, path);
    if (s == "softcap") {
      r.fail(path, "'softcap' needs a cap: write {\"type\": \"softcap\", "
                   "\"cap\": 30}");
      return std::nullopt;
    }
    return Term{s, "expr(" + s + ")"};
  }
  TermObject t = readTermObject(r, v, path, "score", builtins);
  if (t.expr || !t.object)
    return t.expr;
  const json::object &o = *t.object;
  if (t.type == "softcap") {
    if (!r.onlyFields(o, path, {"type", "cap"}))
      return std::nullopt;
    if (!o.contains("cap")) {
      r.fail(path + ".cap", "required field missing");
      return std::nullopt;
    }
    std::string c;
    if (o.at("cap").is_string()) {
      std::string name(o.at("cap").get_string());
      if (!findParam(params, name)) {
        r.fail(path + ".cap", "\"" + name + "\" is not a parameter (declared "
                              "in \"params\": " +
                                  paramList(params, ExprType::Float) + ")");
        return std::nullopt;
      }
      c = name;
    } else {
      auto cap = r.number(o.at("cap"), path + ".cap");
      if (!cap)
        return std::nullopt;
      if (!(*cap > 0) || !std::isfinite(*cap)) {
        r.fail(path + ".cap", "must be positive and finite");
        return std::nullopt;
      }
      c = formatNumber(*cap);
    }
    return Term{c + " * tanh(score / " + c + ")", "softcap(cap=" + c + ")"};
  }
  if (t.type == "alibi") {
    if (!r.onlyFields(o, path, {"type", "heads", "slopes"}))
      return std::nullopt;
    if (o.contains("slopes")) {
      // Given slopes, one per query head.
      if (o.contains("heads")) {
        r.fail(path + ".heads", "give either \"heads\" (computed slopes) or "
                                "\"slopes\" (a tensor), not both");
        return std::nullopt;
      }
      const TensorDecl *s =
          tensorField(r, o, path, "slopes", tensors, ExprType::Float, {1},
                      "one slope per query head: [heads]");
      if (!s)
        return std::nullopt;
      if (s->dims[0] != "heads") {
        r.fail(path + ".slopes", "\"" + s->name +
                                     "\" must have the shape [\"heads\"] "
                                     "(one slope per query head)");
        return std::nullopt;
      }
      return Term{"score + " + s->name + "[h] * (kv - q)",
                  "alibi(slopes=" + s->name + ")"};
    }
    std::optional<int64_t> h = spec.heads;
    if (o.contains("heads")) {
      h = r.integer(o.at("heads"), path + ".heads", 1, 1 << 16);
      if (!h)
        return std::nullopt;
      // The slopes hold only for this many heads: pin the spec to it, so a
      // launch with other heads is an error instead of wrong slopes.
      if (spec.heads && *spec.heads != *h) {
        r.fail(path + ".heads", "alibi heads (" + std::to_string(*h) +
                                    ") differ from the spec's \"heads\" (" +
                                    std::to_string(*spec.heads) + ")");
        return std::nullopt;
      }
      if (spec.kvHeads && *h % *spec.kvHeads != 0) {
        r.fail(path + ".heads", "kv_heads (" + std::to_string(*spec.kvHeads) +
                                    ") must divide the alibi heads (" +
                                    std::to_string(*h) + ")");
        return std::nullopt;
      }
      spec.heads = h;
    }
    return alibi(h, path);
  }
  if (t.type == "bias") {
    // An additive bias tensor, indexed by what its dimensions are: a
    // dimension of size 1 broadcasts.
    if (!r.onlyFields(o, path, {"type", "tensor"}))
      return std::nullopt;
    const TensorDecl *t = tensorField(
        r, o, path, "tensor", tensors, ExprType::Float, {1, 2, 3, 4},
        "float32, dimensions from batch, heads, seqlen_q, seqlen_k or 1");
    if (!t)
      return std::nullopt;
    std::string index;
    for (const std::string &d : t->dims) {
      std::string i = d == "batch"      ? "b"
                      : d == "heads"    ? "h"
                      : d == "seqlen_q" ? "q"
                      : d == "seqlen_k" ? "kv"
                      : d == "1"        ? "0"
                                        : "";
      if (i.empty()) {
        r.fail(path + ".tensor", "bias dimension '" + d +
                                     "' is ambiguous: use batch, heads, "
                                     "seqlen_q, seqlen_k or 1 (or write an "
                                     "expression)");
        return std::nullopt;
      }
      index += (index.empty() ? "" : ", ") + i;
    }
    return Term{"score + " + t->name + "[" + index + "]",
                "bias(tensor=" + t->name + ")"};
  }
  r.fail(path + ".type", "unknown score modifier '" + t.type +
                             "' (built-in: " + builtins + ")");
  return std::nullopt;
}

std::optional<Term> readSparsity(Reader &r, const json::value &v,
                                 const std::string &path, AttentionSpec &spec) {
  if (v.is_string() && v.get_string() == "dense")
    return Term{};
  if (!v.is_object()) {
    r.fail(path, "expected \"dense\" or {\"block\": [BQ, BK], \"layout\": "
                 "\"TENSOR\" or [[0/1, ...], ...]}, got " +
                     Reader::describe(v));
    return std::nullopt;
  }
  const json::object &o = v.get_object();
  if (!r.onlyFields(o, path, {"block", "layout"}))
    return std::nullopt;
  int64_t bq = 128, bk = 128;
  if (o.contains("block")) {
    const json::value &b = o.at("block");
    if (!b.is_array() || b.get_array().size() != 2) {
      r.fail(path + ".block", "expected [BQ, BK] (queries and keys per "
                              "block), got " + Reader::describe(b));
      return std::nullopt;
    }
    auto q = r.integer(b.get_array()[0], path + ".block[0]", 1, 1 << 20);
    auto k = r.integer(b.get_array()[1], path + ".block[1]", 1, 1 << 20);
    if (!q || !k)
      return std::nullopt;
    bq = *q;
    bk = *k;
  }
  if (!o.contains("layout")) {
    r.fail(path + ".layout", "required field missing (a tensor name, for a "
                             "layout given at launch, or [[0/1, ...], ...])");
    return std::nullopt;
  }
  std::string qBlocks = "seqlen_q/" + std::to_string(bq);
  std::string kvBlocks = "seqlen_k/" + std::to_string(bk);
  const json::value &l = o.at("layout");
  std::string name;
  bool perBatchHead = false;
  if (l.is_string()) {
    // A layout given at launch: [q-blocks, kv-blocks], or per batch and
    // head (either may be 1: broadcast).
    name = std::string(l.get_string());
    const TensorDecl *t = nullptr;
    for (const TensorDecl &d : spec.tensors)
      if (d.name == name)
        t = &d;
    std::string want = "an int32 tensor of shape [\"" + qBlocks + "\", \"" +
                       kvBlocks + "\"] or [\"batch\" or 1, \"heads\" or 1, "
                       "\"" + qBlocks + "\", \"" + kvBlocks + "\"]";
    if (!t) {
      r.fail(path + ".layout", "no tensor '" + name + "' is declared (declare "
                               "it in \"tensors\" as " + want + ")");
      return std::nullopt;
    }
    size_t rank = t->dims.size();
    bool ok = t->type == ExprType::Int && (rank == 2 || rank == 4) &&
              t->dims[rank - 2] == qBlocks && t->dims[rank - 1] == kvBlocks;
    if (ok && rank == 4)
      ok = (t->dims[0] == "batch" || t->dims[0] == "1") &&
           (t->dims[1] == "heads" || t->dims[1] == "1");
    if (!ok) {
      r.fail(path + ".layout", "'" + name + "' must be " + want);
      return std::nullopt;
    }
    perBatchHead = rank == 4;
  } else if (l.is_array()) {
    // A static layout: rows of q-blocks, one entry per kv-block.
    name = "block_layout";
    for (const TensorDecl &d : spec.tensors)
      if (d.name == name) {
        r.fail(path + ".layout", "a static layout is the tensor "
                                 "'block_layout', which is already declared");
        return std::nullopt;
      }
    for (const ParamDecl &p : spec.params)
      if (p.name == name) {
        r.fail(path + ".layout", "a static layout is the tensor "
                                 "'block_layout', which is already a parameter");
        return std::nullopt;
      }
    TensorDecl t;
    t.name = name;
    t.type = ExprType::Int;
    t.dims = {qBlocks, kvBlocks};
    const json::array &rows = l.get_array();
    size_t cols = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
      std::string rpath = path + ".layout[" + std::to_string(i) + "]";
      if (!rows[i].is_array() || rows[i].get_array().empty() ||
          (i > 0 && rows[i].get_array().size() != cols)) {
        r.fail(rpath, "expected a row of " +
                          (cols ? std::to_string(cols) : std::string("1 or more")) +
                          " entries (0: skip the block, 1: attend), got " +
                          Reader::describe(rows[i]));
        return std::nullopt;
      }
      cols = rows[i].get_array().size();
      for (size_t j = 0; j < cols; ++j) {
        auto x = r.integer(rows[i].get_array()[j],
                           rpath + "[" + std::to_string(j) + "]", 0, 1);
        if (!x)
          return std::nullopt;
        t.value.push_back(static_cast<double>(*x));
      }
    }
    if (rows.empty()) {
      r.fail(path + ".layout", "an empty layout (write at least one row)");
      return std::nullopt;
    }
    t.valueShape = {static_cast<int64_t>(rows.size()),
                    static_cast<int64_t>(cols)};
    spec.tensors.push_back(std::move(t));
  } else {
    r.fail(path + ".layout", "expected a tensor name or [[0/1, ...], ...], "
                             "got " + Reader::describe(l));
    return std::nullopt;
  }
  spec.sparsity = {name, bq, bk};
  std::string at = std::string(perBatchHead ? "b, h, " : "") + "q / " +
                   std::to_string(bq) + ", kv / " + std::to_string(bk);
  return Term{name + "[" + at + "] != 0",
              "block_sparse(layout=" + name + ", block=" + std::to_string(bq) +
                  "x" + std::to_string(bk) + ")"};
}

} // namespace faopt::spec::detail
