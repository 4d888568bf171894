//===- LanePartialSums.h - row sums kept per lane until finalize -*- C++ -*-===//
//
// In the mma fragment layout the four lanes of a quad share each row. The
// online softmax's running row sum l only ever gets scaled by a per-row
// factor (alpha l), added to (alpha l + rowsum P) and read at the end
// (o = acc / l, lse): all linear in l. So each lane may keep its own share
// of l, summing only its own columns, and the quad reduction (two shuffles
// per row) can happen once in finalize instead of once per kv-block, as
// FlashAttention-2 does. This analysis finds the row sums for which that is
// sound: everything that flows into finalize's sum, and everything that
// value flows to, must be one of those linear uses (or a zero start), or
// the `after` operand of attn.tile_release (late-k-release), which only
// orders the release after the sums exist.
//
//===----------------------------------------------------------------------===//
#ifndef FAOPT_COMPILER_TARGETS_GPU_LANEPARTIALSUMS_H
#define FAOPT_COMPILER_TARGETS_GPU_LANEPARTIALSUMS_H

#include "mlir/IR/Operation.h"
#include "llvm/ADT/DenseSet.h"

namespace faopt::gpu {

struct LanePartialSums {
  /// attn.tile_reduce <sum> ops that may skip the quad reduction.
  llvm::DenseSet<mlir::Operation *> reduces;
  /// attn.online_finalize ops whose sum must be quad-reduced first.
  llvm::DenseSet<mlir::Operation *> finalizes;
};

/// Analyses one kernel function (after attn-decompose). Groups that do not
/// qualify are left out entirely, so a partial sum never meets a full one.
LanePartialSums findLanePartialSums(mlir::Operation *kernel);

} // namespace faopt::gpu

#endif // FAOPT_COMPILER_TARGETS_GPU_LANEPARTIALSUMS_H
