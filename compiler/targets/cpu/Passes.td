//===- Passes.td - the CPU target's lowering ---------------*- tablegen -*-===//

#ifndef FAOPT_CPU_PASSES_TD
#define FAOPT_CPU_PASSES_TD

include "mlir/Pass/PassBase.td"

def AttnLowerTilesToLinalg
    : Pass<"attn-lower-tiles-to-linalg", "mlir::func::FuncOp"> {
  let summary = "Lower tile operations to linalg and tensor operations (CPU)";
  let description = [{
    The CPU target's tile lowering: tile loads become tensor.generate with a
    bounds check, stores become loops of memref.store over the rows in
    bounds, tile_matmul / tile_map / tile_reduce / tile_exp2 /
    tile_scale_rows / online_finalize become linalg.generic ops. From there
    upstream bufferization and the LLVM conversions finish the job.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect"];
}

#endif // FAOPT_CPU_PASSES_TD
