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

def AttnLowerBlockLists
    : Pass<"attn-lower-block-lists", "mlir::func::FuncOp"> {
  let summary = "Lower attn.block_list_build to a serial loop (CPU)";
  let description = [{
    Each list row is written by one loop over its kv-blocks: the body
    classifies the block and, when it is not empty, stores its entry at the
    next slot; the count goes to slot 0 (and entry 0 to slot 1 when the row
    is empty). The GPU target spreads the same loop over a thread block.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect"];
}

#endif // FAOPT_CPU_PASSES_TD
