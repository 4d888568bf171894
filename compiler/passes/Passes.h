//===- Passes.h - faopt's attention passes ----------------------*- C++ -*-===//
#ifndef FAOPT_COMPILER_PASSES_PASSES_H
#define FAOPT_COMPILER_PASSES_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"
#include <memory>

namespace faopt {

#define GEN_PASS_DECL
#include "compiler/passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "compiler/passes/Passes.h.inc"

} // namespace faopt

#endif // FAOPT_COMPILER_PASSES_PASSES_H
