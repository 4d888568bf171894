//===- Passes.h - the CPU target's lowering ---------------------*- C++ -*-===//
#ifndef FAOPT_COMPILER_TARGETS_CPU_PASSES_H
#define FAOPT_COMPILER_TARGETS_CPU_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"

namespace faopt::cpu {

#define GEN_PASS_DECL
#include "compiler/targets/cpu/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "compiler/targets/cpu/Passes.h.inc"

} // namespace faopt::cpu

#endif // FAOPT_COMPILER_TARGETS_CPU_PASSES_H
