//===- IndexRanges.h - bounds of index values in device functions -*- C++ -*-===//
//
// The integer range of each index value of an `attn.device_function`,
// derived from the `attn.range = array<i64: lo, hi>` of its arguments
// (positions, sequence lengths, sizes; attn-outline-tile-maps sets them)
// through constants, + - *, division and remainder by constants (signed
// division by any divisor: at most the dividend's magnitude), unsigned
// division and remainder of non-negative values, min/max, select, casts,
// memref.dim, scf.for bounds and normalized scf.forall extents; an op's own
// `attn.range` (a launch guarantee the IR states) narrows its result.
// Values without a known range (run-time parameters, loaded values) have
// none. Used by attn-isolate-kv-bounds and attn-narrow-index-math.
//
//===----------------------------------------------------------------------===//
#ifndef FAOPT_COMPILER_TARGETS_GPU_INDEXRANGES_H
#define FAOPT_COMPILER_TARGETS_GPU_INDEXRANGES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"

#include <algorithm>
#include <optional>

namespace faopt::gpu {

/// An inclusive range of integer values (in 128 bits: sums and products of
/// 64-bit bounds cannot overflow).
struct Range {
  __int128 lo, hi;
  bool fitsI32() const { return lo >= INT32_MIN && hi <= INT32_MAX; }
  /// The largest absolute value in the range.
  __int128 magnitude() const {
    return std::max(lo < 0 ? -lo : lo, hi < 0 ? -hi : hi);
  }
};

/// attn-isolate-kv-bounds clamps a mask term's value without a range (a
/// run-time parameter) to [-kUnrangedClamp, kUnrangedClamp];
/// attn-kv-bounds-in-rows recognizes that clamp.
constexpr int64_t kUnrangedClamp = int64_t(1) << 41;

/// States that `v` lies in [lo, hi] for every launch (a guarantee of the
/// runtime, not something the operands show) as `attn.range` on its
/// defining op, which IndexRanges intersects with what it derives. Values
/// without a defining op, and constants, are left as they are.
void stateRange(mlir::Value v, int64_t lo, int64_t hi);

class IndexRanges {
public:
  explicit IndexRanges(mlir::func::FuncOp fn);

  std::optional<Range> of(mlir::Value v) const {
    auto it = ranges.find(v);
    if (it == ranges.end())
      return std::nullopt;
    return it->second;
  }

private:
  llvm::DenseMap<mlir::Value, Range> ranges;

  /// The value's range, or every int64 when it has none.
  Range orAny(mlir::Value v) const {
    return of(v).value_or(Range{INT64_MIN, INT64_MAX});
  }

  void binary(mlir::Operation *op, llvm::function_ref<Range(Range, Range)> fn);
  void visit(mlir::Operation *op);
};

} // namespace faopt::gpu

#endif // FAOPT_COMPILER_TARGETS_GPU_INDEXRANGES_H
