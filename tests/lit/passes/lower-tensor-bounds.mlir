// RUN: faopt-opt %s --attn-lower-tensor-bounds | FileCheck %s

// attn.tensor_bounds as a loop nest: outer dimensions one index at a time,
// the innermost in groups of 32 independent reads, then one by one; the
// minimum and maximum in the element type (i32), widened once; an empty
// box (q1 < q0) gives [INT64_MAX, INT64_MIN].

// CHECK-LABEL: func.func @ids(
// CHECK-SAME:      %[[IDS:[^:]*]]: memref<?x?xi32>, %[[B:[^:]*]]: index, %[[Q0:[^:]*]]: index, %[[Q1:[^:]*]]: index)
// CHECK:         %[[BEND:.*]] = arith.addi %[[B]], %c1
// CHECK:         %[[R:.*]]:2 = scf.for %[[I:.*]] = %[[B]] to %[[BEND]] step %c1 iter_args(%{{.*}} = %c2147483647_i32, %{{.*}} = %c-2147483648_i32) -> (i32, i32)
// CHECK:           %[[QEND:.*]] = arith.addi %[[Q1]], %c1
// CHECK:           %[[N:.*]] = arith.subi %[[QEND]], %[[Q0]]
// CHECK:           %[[NN:.*]] = arith.maxsi %[[N]], %c0
// CHECK:           %[[G:.*]] = arith.divui %[[NN]], %c32
// CHECK:           %[[G32:.*]] = arith.muli %[[G]], %c32
// CHECK:           %[[GEND:.*]] = arith.addi %[[Q0]], %[[G32]]
// CHECK:           %[[GR:.*]]:2 = scf.for %[[J:.*]] = %[[Q0]] to %[[GEND]] step %c32
// CHECK:             %[[X:.*]] = memref.load %[[IDS]][%[[I]], %[[J]]]
// CHECK:             arith.minsi {{.*}}, %[[X]] : i32
// CHECK:             arith.maxsi {{.*}}, %[[X]] : i32
// CHECK-COUNT-31:    memref.load %[[IDS]]
// CHECK:           scf.for %{{.*}} = %[[GEND]] to %[[QEND]] step %c1 iter_args(%{{.*}} = %[[GR]]#0, %{{.*}} = %[[GR]]#1)
// CHECK:             memref.load %[[IDS]]
// CHECK:         %[[EMPTY:.*]] = arith.cmpi slt, %[[Q1]], %[[Q0]]
// CHECK:         %[[MIN:.*]] = arith.index_cast %[[R]]#0 : i32 to index
// CHECK:         %[[LO:.*]] = arith.select %[[EMPTY]], %c9223372036854775807, %[[MIN]] : index
// CHECK:         %[[MAX:.*]] = arith.index_cast %[[R]]#1 : i32 to index
// CHECK:         %[[HI:.*]] = arith.select %[[EMPTY]], %c-9223372036854775808, %[[MAX]] : index
// CHECK:         return %[[LO]], %[[HI]]
func.func @ids(%ids: memref<?x?xi32>, %b: index, %q0: index, %q1: index) -> (index, index) {
  %lo, %hi = attn.tensor_bounds %ids[%b, %q0] to [%b, %q1] : memref<?x?xi32>
  return %lo, %hi : index, index
}
