// RUN: faopt-opt %s --faopt-pipeline="target=cpu stop=mlir-llvm" | FileCheck %s

// The whole CPU pipeline, attention to the LLVM dialect: no attn, linalg,
// tensor or scf ops survive, and a C interface wrapper exists for the runner.

// CHECK-NOT:   attn.
// CHECK-NOT:   linalg.
// CHECK-NOT:   scf.
// CHECK:       llvm.func @window(
// CHECK:         llvm.intr.exp2
// CHECK:       llvm.func @_mlir_ciface_window(
func.func @window(%q: tensor<?x?x?x32xf16>, %k: tensor<?x?x?x32xf16>, %v: tensor<?x?x?x32xf16>) -> tensor<?x?x?x32xf16> {
  %o = attn.attention %q, %k, %v mask {
  ^bb0(%b: index, %h: index, %qi: index, %kv: index):
    %c64 = arith.constant 64 : index
    %d = arith.subi %qi, %kv : index
    %w = arith.cmpi slt, %d, %c64 : index
    %c = arith.cmpi sge, %qi, %kv : index
    %m = arith.andi %c, %w : i1
    attn.yield %m : i1
  } : tensor<?x?x?x32xf16>, tensor<?x?x?x32xf16>, tensor<?x?x?x32xf16> -> tensor<?x?x?x32xf16>
  return %o : tensor<?x?x?x32xf16>
}
