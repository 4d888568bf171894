// RUN: faopt-opt %s --attn-lower-block-lists --allow-unregistered-dialect | FileCheck %s

// One row, serially: classify each kv-block, append 2 * kb + !all for the
// non-empty ones at slot count + 1, then the count at slot 0 (and a valid
// entry at slot 1 for an empty row).

// CHECK-LABEL: func.func @row(
// CHECK-SAME:      %[[L:[^:]*]]: memref<?x?x?x?xi32>, %[[B:[^:]*]]: index, %[[H:[^:]*]]: index, %[[QB:[^:]*]]: index, %[[LO:[^:]*]]: index, %[[HI:[^:]*]]: index)
// CHECK:         %[[N:.*]] = scf.for %[[KB:.*]] = %[[LO]] to %[[HI]] step %c1 iter_args(%[[C:.*]] = %c0)
// CHECK:           %[[CLS:.*]]:2 = "test.classify"(%[[KB]])
// CHECK:           %[[NEXT:.*]] = scf.if %[[CLS]]#0 -> (index)
// CHECK:             %[[TWICE:.*]] = arith.addi %[[KB]], %[[KB]]
// CHECK:             %[[PART:.*]] = arith.xori %[[CLS]]#1, %true
// CHECK:             %[[P32:.*]] = arith.extui %[[PART]] : i1 to i32
// CHECK:             %[[PI:.*]] = arith.index_cast %[[P32]]
// CHECK:             %[[E:.*]] = arith.addi %[[TWICE]], %[[PI]]
// CHECK:             %[[SLOT:.*]] = arith.addi %[[C]], %c1
// CHECK:             %[[E32:.*]] = arith.index_cast %[[E]] : index to i32
// CHECK:             memref.store %[[E32]], %[[L]][%[[B]], %[[H]], %[[QB]], %[[SLOT]]]
// CHECK:             scf.yield %[[SLOT]]
// CHECK:           } else {
// CHECK:             scf.yield %[[C]]
// CHECK:         %[[N32:.*]] = arith.index_cast %[[N]] : index to i32
// CHECK:         memref.store %[[N32]], %[[L]][%[[B]], %[[H]], %[[QB]], %c0]
// CHECK:         %[[EMPTY:.*]] = arith.cmpi eq, %[[N]], %c0
// CHECK:         scf.if %[[EMPTY]]
// CHECK:           memref.store %{{.*}}, %[[L]][%[[B]], %[[H]], %[[QB]], %c1]
// CHECK-NOT:     attn.block_list_build
func.func @row(%lists: memref<?x?x?x?xi32>, %b: index, %h: index, %qb: index, %lo: index, %hi: index) {
  attn.block_list_build %lists[%b, %h, %qb] kv_blocks[%lo, %hi) : memref<?x?x?x?xi32> {
  ^bb0(%kb: index):
    %any, %all = "test.classify"(%kb) : (index) -> (i1, i1)
    attn.yield %any, %all : i1, i1
  }
  return
}
