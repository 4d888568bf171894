//===- MaskIntervals.h - interval arithmetic over mask regions --*- C++ -*-===//
//
// Emits IR that bounds a mask region over a box of positions: each index value
// of the region gets a [lo, hi] range and each i1 a (may be true, may be
// false) pair, computed with arith ops from the box's corners. Anything the
// analysis does not model (an unsigned compare, division by a non-constant,
// a float) is "unbounded" / "may be either", so the answers stay
// conservative (a tensor read is bounded only on request: PositionBox::
// boundTensorReads). Interval arithmetic is monotone under inclusion: a larger box
// never gives a narrower answer, which makes the kv-range searches exact for
// what the classifier can prove.
//
//===----------------------------------------------------------------------===//
#ifndef FAOPT_COMPILER_PASSES_MASKINTERVALS_H
#define FAOPT_COMPILER_PASSES_MASKINTERVALS_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/Region.h"

namespace faopt {

/// A box of positions: b and h single values, q in [qFirst, qLast], kv in
/// [kvFirst, kvLast], with kv >= kvBound out of range (never attended).
/// `params` are the values of the region's parameter arguments (sequence
/// lengths, run-time parameters): single values, like b and h.
struct PositionBox {
  mlir::Value batch, head, qFirst, qLast, kvFirst, kvLast, kvBound;
  mlir::ValueRange params = {};
  /// Bound each integer tensor read by the minimum and maximum of the
  /// entries its indices can reach over the box (emits a loop over them);
  /// otherwise a read is unbounded. Worth it where the box is one block and
  /// the classification runs once per block (the block-list builder), not
  /// inside the attention loop.
  bool boundTensorReads = false;
};

struct BlockClass {
  mlir::Value any; // i1: some in-range position may be attended
  mlir::Value all; // i1: every position is in range and attended
};

/// Emits the classification of `mask` (a (b, h, q, kv) -> i1 region) over
/// `box` at the builder's insertion point.
BlockClass emitMaskBlockClass(mlir::OpBuilder &b, mlir::Location loc,
                              mlir::Region &mask, const PositionBox &box);

/// Inclusive bounds on the keys `mask` may attend for q in [qFirst, qLast]
/// (the box's kv fields are ignored). Found for comparisons linear in kv with
/// coefficient +-1 (q >= kv, q - kv <= w, kv < n, ...) combined with && and
/// ||. Each side is a bound (a Value), proven unconstrained (null Value,
/// known), or unknown (null Value, not known: the mask is not linear there).
struct KvBounds {
  mlir::Value lo, hi;
  bool loKnown = false, hiKnown = false;
};
KvBounds emitKvBounds(mlir::OpBuilder &b, mlir::Location loc,
                      mlir::Region &mask, const PositionBox &box);

} // namespace faopt

#endif // FAOPT_COMPILER_PASSES_MASKINTERVALS_H
