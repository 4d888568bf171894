//===- RegionUtils.h - helpers for attn's single-block regions --*- C++ -*-===//
#ifndef FAOPT_COMPILER_PASSES_REGIONUTILS_H
#define FAOPT_COMPILER_PASSES_REGIONUTILS_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Region.h"

namespace faopt {

/// Clones the ops of `region`'s single block (ending in attn.yield) at the
/// builder's insertion point, with the block arguments replaced by `args`,
/// and returns the values the yield would produce.
llvm::SmallVector<mlir::Value> inlineRegionBody(mlir::OpBuilder &b,
                                                mlir::Region &region,
                                                mlir::ValueRange args);

/// Creates a block in `region` with the mask signature (b, h, q, kv : index,
/// params...) holding a copy of `mask` (or `yield true` when `mask` is
/// empty).
void cloneMaskOrTrue(mlir::OpBuilder &b, mlir::Location loc,
                     mlir::Region &mask, mlir::Region &into,
                     mlir::TypeRange params);

/// The memref a kernel takes for a tensor input: same shape and element
/// type, any strides and offset.
mlir::MemRefType stridedMemRefFor(mlir::RankedTensorType t);

/// Retypes the tensor-typed block arguments of `region` (tensor inputs of
/// mask / score regions) to stridedMemRefFor, rewriting their tensor.extract
/// and tensor.dim uses to memref.load and memref.dim.
void tensorArgumentsToMemRefs(mlir::Region &region);

/// The conjuncts of `cond`: its operands through nested arith.andi.
void collectConjuncts(mlir::Value cond,
                      llvm::SmallVectorImpl<mlir::Value> &out);

/// Clones the ops of `from` that compute `v` at the builder's insertion
/// point, operands first; `m` maps `from`'s arguments (and any value to
/// replace), values defined outside `from` are used as they are. Returns
/// the copy of `v`.
mlir::Value cloneSlice(mlir::Value v, mlir::Block &from, mlir::IRMapping &m,
                       mlir::OpBuilder &b);

/// Erases the ops of `block` (not its terminator) whose results are unused
/// and that are side-effect-free or tensor and size reads (memref.load,
/// memref.dim), users before their operands.
void eraseUnusedReads(mlir::Block &block);

} // namespace faopt

#endif // FAOPT_COMPILER_PASSES_REGIONUTILS_H
