//===- ExprToMLIR.h - expressions to mask / score regions -------*- C++ -*-===//
#ifndef FAOPT_COMPILER_SPEC_EXPRTOMLIR_H
#define FAOPT_COMPILER_SPEC_EXPRTOMLIR_H

#include "compiler/spec/Expr.h"
#include "mlir/IR/Region.h"
#include "mlir/IR/Types.h"

namespace faopt::spec {

/// A scalar the region receives after its position arguments: seqlen_q,
/// seqlen_k or a run-time parameter (index for integers, f32 for floats).
struct RegionParam {
  std::string name;
  mlir::Type type;
};

/// Fills an empty region with ^bb0(b, h, q, kv : index, params...) computing
/// `mask` with arith ops and ending in attn.yield of an i1. Locations point
/// at the expression's columns in `source`.
void buildMaskRegion(mlir::Region &region, const Expr &mask,
                     llvm::StringRef source,
                     llvm::ArrayRef<RegionParam> params = {});

/// Fills an empty region with ^bb0(score : f32, b, h, q, kv : index,
/// params...) computing `score` and ending in attn.yield of an f32.
void buildScoreRegion(mlir::Region &region, const Expr &score,
                      llvm::StringRef source,
                      llvm::ArrayRef<RegionParam> params = {});

} // namespace faopt::spec

#endif // FAOPT_COMPILER_SPEC_EXPRTOMLIR_H
