//===- Passes.h - the GPU targets' lowering to CUDA C++ ---------*- C++ -*-===//
#ifndef FAOPT_COMPILER_TARGETS_GPU_PASSES_H
#define FAOPT_COMPILER_TARGETS_GPU_PASSES_H

#include "mlir/Pass/Pass.h"

namespace mlir::emitc {
class EmitCDialect;
}

namespace faopt::gpu {

#define GEN_PASS_DECL
#include "compiler/targets/gpu/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "compiler/targets/gpu/Passes.h.inc"

} // namespace faopt::gpu

#endif // FAOPT_COMPILER_TARGETS_GPU_PASSES_H
