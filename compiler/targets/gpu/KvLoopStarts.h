//===- KvLoopStarts.h - what a kv loop's first block is made of -*- C++ -*-===//
//
// Passes that treat masks by the shape of their kv range (attn-release-q-
// early's bands, attn-schedule-grid's program order) read a kv loop's lower
// bound, as the block analysis' closed forms leave it, for the one shape
// that sets chunked masks apart from bands: a position rounded down to a
// multiple, `(x floordiv d) * d`. A chunk's programs start their kv loops
// at their chunk's first block, so their lengths rise and fall again every
// chunk (1, 2, ..., chunk / block_q blocks); a band's start moves with q
// one block per q-block, its lengths stay the same.
//
//===----------------------------------------------------------------------===//
#ifndef FAOPT_COMPILER_TARGETS_GPU_KVLOOPSTARTS_H
#define FAOPT_COMPILER_TARGETS_GPU_KVLOOPSTARTS_H

#include "mlir/IR/Value.h"
#include "llvm/ADT/STLFunctionalExtras.h"

namespace faopt::gpu {

/// Whether some operation `v` is computed from (its defining operation,
/// and theirs through their operands, transitively) satisfies `pred`.
bool computedFrom(mlir::Value v,
                  llvm::function_ref<bool(mlir::Operation *)> pred);

/// Whether `op` is a chunk start's product, `(x floordiv d) * d`
/// (arith.muli of an arith.floordivsi by the same divisor: the same
/// value, or equal constants).
bool isChunkStart(mlir::Operation *op);

/// Whether `v` is computed from a chunk start.
inline bool readsChunkStart(mlir::Value v) {
  return computedFrom(v, isChunkStart);
}

} // namespace faopt::gpu

#endif // FAOPT_COMPILER_TARGETS_GPU_KVLOOPSTARTS_H
