//===- Explain.h - why a kernel is tiled as it is ---------------*- C++ -*-===//
//
// The report behind `faopt-compile --explain`: the tiling a target chose and
// why, shared memory and registers, and for one concrete shape the FLOPs and
// the HBM traffic of the tiled kernel against naive attention (the
// FlashAttention I/O analysis), counting the kv-blocks the mask lets the
// kernel skip.
//
//===----------------------------------------------------------------------===//
#ifndef FAOPT_COMPILER_PIPELINE_EXPLAIN_H
#define FAOPT_COMPILER_PIPELINE_EXPLAIN_H

#include "compiler/spec/Spec.h"
#include "compiler/targets/TargetDesc.h"
#include <string>
#include <utility>
#include <vector>

namespace faopt {

struct ExplainShape {
  int64_t batch = 1, heads = 16, kvHeads = 16, seqQ = 4096, seqK = 4096;
  /// Run-time parameter values for the census (`--param NAME=VALUE`); a
  /// parameter not given takes its default, or 0 without one.
  std::vector<std::pair<std::string, double>> params;
};

/// Parses one "NAME=VALUE" for a parameter `spec` declares into `shape`;
/// false on bad input with `error` set.
bool parseExplainParam(const std::string &text, const spec::AttentionSpec &spec,
                       ExplainShape &shape, std::string &error);

/// Parses "b=2,h=16,kvh=4,sq=4096,sk=4096" (any subset); false on bad input
/// with `error` set.
bool parseExplainShape(const std::string &text, ExplainShape &shape,
                       std::string &error);

/// The report. `tiles` is what the tiling pass will use for this target;
/// `softmaxOverlap` and `persistent` whether the pipeline runs
/// attn-overlap-softmax and which kernels attn-persistent-programs takes
/// (both apply to TMA kernels, the second where the O staging region fits),
/// `qStages` its Q tiles per worker (the second where it fits), `roundedP`
/// whether the overlap carries P rounded (its rounded-p), `kvStages` its
/// K/V stages (the third where it fits, with the overlap).
std::string explain(const spec::AttentionSpec &spec, const TargetDesc &target,
                    const TileChoice &tiles, const ExplainShape &shape,
                    bool softmaxOverlap = true,
                    PersistentMode persistent = PersistentMode::Auto,
                    int64_t qStages = kQStagesAuto, bool roundedP = true,
                    int64_t kvStages = kKvStagesAuto);

} // namespace faopt

#endif // FAOPT_COMPILER_PIPELINE_EXPLAIN_H
