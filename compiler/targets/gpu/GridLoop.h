//===- GridLoop.h - a kernel's loop over its programs -----------*- C++ -*-===//
//
// attn-tile builds each kernel's programs as one scf.forall marked
// `attn.grid`; attn-schedule-grid, attn-persistent-programs,
// attn-warp-specialize and attn-await-list-builder all start from it.
//
//===----------------------------------------------------------------------===//
#ifndef FAOPT_COMPILER_TARGETS_GPU_GRIDLOOP_H
#define FAOPT_COMPILER_TARGETS_GPU_GRIDLOOP_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

namespace faopt::gpu {

/// The function's `attn.grid` scf.forall; null when it has none or more
/// than one.
inline mlir::scf::ForallOp gridLoop(mlir::func::FuncOp fn) {
  mlir::scf::ForallOp grid;
  int count = 0;
  fn.walk([&](mlir::scf::ForallOp f) {
    if (f->hasAttr("attn.grid")) {
      grid = f;
      ++count;
    }
  });
  return count == 1 ? grid : nullptr;
}

} // namespace faopt::gpu

#endif // FAOPT_COMPILER_TARGETS_GPU_GRIDLOOP_H
