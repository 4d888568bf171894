//===- faopt-opt.cpp - mlir-opt with faopt's dialect and passes -----------===//
//
// Drives the lit tests: every attn pass, the CPU lowering, upstream passes
// for the dialects the pipeline produces, and --faopt-pipeline.
//
//===----------------------------------------------------------------------===//
#include "compiler/passes/Passes.h"
#include "compiler/pipeline/Pipeline.h"
#include "compiler/targets/cpu/Passes.h"
#include "compiler/targets/gpu/Passes.h"

#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  faopt::registerPipelineDialects(registry);
  mlir::registerTransformsPasses();
  faopt::registerFaoptPasses();
  faopt::cpu::registerFaoptCpuPasses();
  faopt::gpu::registerFaoptGpuPasses();
  faopt::registerPipelines();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "faopt optimizer driver\n", registry));
}
