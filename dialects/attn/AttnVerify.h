//===- AttnVerify.h - checks shared by the attn dialect's verifiers -------===//
//
// Internal to the dialect library (AttnOps.cpp defines them, AttnTileOps.cpp
// uses them too); not part of the dialect's interface.
//
//===----------------------------------------------------------------------===//
#ifndef FAOPT_DIALECTS_ATTN_ATTNVERIFY_H
#define FAOPT_DIALECTS_ATTN_ATTNVERIFY_H

#include "mlir/IR/Operation.h"
#include "llvm/ADT/APFloat.h"

namespace faopt::attn::detail {

/// f16, bf16 or f32.
bool isSupportedElementType(mlir::Type t);

/// `what` (a) must equal `whatB` (b), either of which may be dynamic.
mlir::LogicalResult checkDim(mlir::Operation *op, llvm::StringRef what,
                             int64_t a, llvm::StringRef whatB, int64_t b);

/// A static f32 row vector of `rows` elements.
mlir::LogicalResult checkRowVector(mlir::Operation *op, llvm::StringRef name,
                                   mlir::Value v, int64_t rows);

/// exp_scale turns logits into base-2 exponents; it must keep their order.
mlir::LogicalResult verifyExpScale(mlir::Operation *op, llvm::APFloat k);

/// A (score, b, h, q, kv, params...) -> f32 region (empty if `optional`).
mlir::LogicalResult verifyScoreRegion(mlir::Operation *op, mlir::Region &region,
                                      llvm::StringRef name, bool optional,
                                      mlir::TypeRange params = {});

} // namespace faopt::attn::detail

#endif // FAOPT_DIALECTS_ATTN_ATTNVERIFY_H
