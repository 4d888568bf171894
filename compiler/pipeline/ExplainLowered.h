//===- ExplainLowered.h - what the GPU lowering chose -------*- C++ -*-===//
//
// The part of `faopt-compile --explain` that only the compiled kernel can
// tell: which mask forms the GPU lowering picked (per-row kv bounds,
// per-row key ranges from the list builder), read from the EmitC module.
//
//===----------------------------------------------------------------------===//
#ifndef FAOPT_COMPILER_PIPELINE_EXPLAINLOWERED_H
#define FAOPT_COMPILER_PIPELINE_EXPLAINLOWERED_H

#include "mlir/IR/BuiltinOps.h"
#include <string>

namespace faopt {

/// Lines for --explain about a module lowered to EmitC (Stage::Lowered for a
/// GPU target): empty when none of the forms it reports is present.
std::string explainLowered(mlir::ModuleOp module);

} // namespace faopt

#endif // FAOPT_COMPILER_PIPELINE_EXPLAINLOWERED_H
