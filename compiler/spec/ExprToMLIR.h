//===- ExprToMLIR.h - expressions to mask / score regions -------*- C++ -*-===//
#ifndef FAOPT_COMPILER_SPEC_EXPRTOMLIR_H
#define FAOPT_COMPILER_SPEC_EXPRTOMLIR_H

#include "compiler/spec/Expr.h"
#include "mlir/IR/Region.h"

namespace faopt::spec {

/// Fills an empty region with ^bb0(b, h, q, kv : index) computing `mask` with
/// arith ops and ending in attn.yield of an i1. Locations point at the
/// expression's columns in `source`.
void buildMaskRegion(mlir::Region &region, const Expr &mask,
                     llvm::StringRef source);

/// Fills an empty region with ^bb0(score : f32, b, h, q, kv : index) computing
/// `score` and ending in attn.yield of an f32.
void buildScoreRegion(mlir::Region &region, const Expr &score,
                      llvm::StringRef source);

} // namespace faopt::spec

#endif // FAOPT_COMPILER_SPEC_EXPRTOMLIR_H
