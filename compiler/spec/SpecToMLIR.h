//===- SpecToMLIR.h - attention spec to attn.attention ----------*- C++ -*-===//
#ifndef FAOPT_COMPILER_SPEC_SPECTOMLIR_H
#define FAOPT_COMPILER_SPEC_SPECTOMLIR_H

#include "compiler/spec/Spec.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace faopt::spec {

/// Registers the dialects a spec module uses.
void registerSpecDialects(mlir::DialectRegistry &registry);

/// Builds `module { func.func @<name>(q, k, v) -> (o[, lse]) { attn.attention } }`
/// with tensors in the spec's layout (dynamic batch, heads and sequence
/// lengths unless the spec pins heads). The module carries the canonical spec
/// as the `faopt.spec` attribute. `source` names the spec in locations.
mlir::OwningOpRef<mlir::ModuleOp> buildModule(mlir::MLIRContext &context,
                                              const AttentionSpec &spec,
                                              llvm::StringRef source);

} // namespace faopt::spec

#endif // FAOPT_COMPILER_SPEC_SPECTOMLIR_H
