//===- Spec.h - attention specifications ------------------------*- C++ -*-===//
//
// An attention spec is a JSON document (docs/spec.md) describing one kernel:
// element type, head dims, layout, mask, score modifier and outputs. This
// header is plain C++ so that the runtime, tools and tests can share it; the
// JSON reading (Boost.JSON) lives in Spec.cpp, built with exceptions, and the
// lowering to MLIR in SpecToMLIR.
//
//===----------------------------------------------------------------------===//
#ifndef FAOPT_COMPILER_SPEC_SPEC_H
#define FAOPT_COMPILER_SPEC_SPEC_H

#include "compiler/spec/Expr.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace faopt::spec {

enum class ElementType { F16, BF16, F32 };
enum class Layout { BHSD, BSHD };

const char *toString(ElementType t);
const char *toString(Layout l);
/// Bytes per element.
int64_t elementBytes(ElementType t);

struct AttentionSpec {
  std::string name = "attention"; // kernel / function name (identifier)
  ElementType dtype = ElementType::BF16;
  int64_t headDimQK = 0;
  int64_t headDimV = 0;
  Layout layout = Layout::BHSD;
  std::optional<int64_t> heads;   // static head count, if pinned
  std::optional<int64_t> kvHeads; // static kv head count, if pinned
  std::optional<double> scale;    // default 1/sqrt(head_dim_qk)
  ExprPtr mask;                   // bool expression; null = attend everywhere
  ExprPtr score;                  // float expression of `score`; null = identity
  std::string maskSummary;        // e.g. "causal && sliding_window(left=128)"
  std::string scoreSummary;
  bool lse = true; // emit the log-sum-exp output
  /// Run-time parameters, in declaration order: the order launches pass
  /// their values in (after q, k, v, o, lse).
  std::vector<ParamDecl> params;
  /// Tensor inputs, in declaration order: launches pass them after the
  /// parameters.
  std::vector<TensorDecl> tensors;
  /// Block sparsity ("sparsity": {"block": [bq, bk], "layout": ...}): the
  /// layout tensor (declared, or the spec's static "block_layout") whose
  /// zero entries remove whole blocks; its term is part of `mask`. Empty
  /// layout: dense.
  struct BlockSparsity {
    std::string layout;
    int64_t blockQ = 0, blockKv = 0;
  } sparsity;

  double effectiveScale() const;
  /// What the mask and score regions receive after their position
  /// arguments: "seqlen_q" and "seqlen_k" if an expression reads them, then
  /// every declared parameter, then every declared tensor.
  std::vector<std::string> regionParams() const;
  /// Canonical JSON: defaults filled in, expressions printed canonically.
  /// Equal specs give equal text; used for cache keys and manifests.
  std::string canonicalJson() const;
};

/// The sizes of one launch, which tensor inputs' dimensions refer to.
struct LaunchSizes {
  int64_t batch = 0, heads = 0, kvHeads = 0, seqlenQ = 0, seqlenK = 0;
};

/// The sizes tensor input `t` must have in a launch of `sizes` (in `out`);
/// "" or why there are none ("seqlen" needs seqlen_q == seqlen_k).
std::string expectedTensorSizes(const TensorDecl &t, const LaunchSizes &sizes,
                                std::vector<int64_t> &out);
/// For a tensor with a value: "" when the value has the sizes `expected`
/// (from expectedTensorSizes), else why not (a static layout written for
/// other sequence lengths).
std::string staticTensorFits(const TensorDecl &t,
                             const std::vector<int64_t> &expected);

/// "" or why a launch with these parameter values (declaration order) and
/// sequence lengths cannot run: its mask or score divides by a run-time
/// value that is 0 (a chunk size of 0), which traps on a CPU and is
/// undefined on a GPU.
std::string zeroDivisorError(const AttentionSpec &spec,
                             const std::vector<double> &paramValues,
                             int64_t seqlenQ, int64_t seqlenK);

struct SpecParseResult {
  std::optional<AttentionSpec> spec;
  std::string error; // "<json path>: <message>" when spec is empty
};

/// Parses and validates a spec document. Every error names the JSON path of
/// the offending field; JSON syntax errors give line and column.
SpecParseResult parseSpec(std::string_view json);

/// The head dimensions the compiler accepts for a dtype.
bool isSupportedHeadDim(int64_t d);

} // namespace faopt::spec

#endif // FAOPT_COMPILER_SPEC_SPEC_H
