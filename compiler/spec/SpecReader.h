//===- SpecReader.h - helpers shared by the spec reader ---------*- C++ -*-===//
//
// Internal to compiler/spec (built with exceptions, Boost.JSON): the error-
// collecting JSON reader and the mask / score term readers (SpecTerms.cpp).
//
//===----------------------------------------------------------------------===//
#ifndef FAOPT_COMPILER_SPEC_SPECREADER_H
#define FAOPT_COMPILER_SPEC_SPECREADER_H

#include "compiler/spec/Expr.h"
#include "compiler/spec/Spec.h"

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace faopt::spec::detail {

namespace json = boost::json;

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


/// One mask term (docs/spec.md, "Masks"); `params` are the spec's run-time
/// parameters, which built-ins accept in place of numbers.
std::optional<Term> readMaskTerm(Reader &r, const json::value &v,
                                 const std::string &path,
                                 const std::vector<ParamDecl> &params,
                                 const std::vector<TensorDecl> &tensors);

/// "sparsity": "dense" (an empty term) or {"block": [bq, bk], "layout":
/// "TENSOR" | [[0/1, ...], ...]}; a static layout is added to
/// spec.tensors as "block_layout". Fills spec.sparsity.
std::optional<Term> readSparsity(Reader &r, const json::value &v,
                                 const std::string &path, AttentionSpec &spec);

/// One score term, applied to the previous one's result (`score`). ALiBi
/// with its own head count pins spec.heads to it (the slopes depend on it).
std::optional<Term> readScoreTerm(Reader &r, const json::value &v,
                                  const std::string &path,
                                  AttentionSpec &spec);

/// The ALiBi slope of head h among `heads` as an expression of h (Press et
/// al.: 2^(-8 (h + 1) / H) for a power of two H; otherwise those of the
/// largest power of two n below H, then every other slope of 2n heads).
std::string alibiSlopes(int64_t heads);

} // namespace faopt::spec::detail

#endif // FAOPT_COMPILER_SPEC_SPECREADER_H
