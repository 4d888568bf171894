// RUN: faopt-opt %s --attn-stage-builder-rows --split-input-file | FileCheck %s
// RUN: faopt-opt %s --attn-stage-builder-rows=capacity=4096 --split-input-file | FileCheck %s --check-prefix=CAP

// The document builder's row: the q-block's ids and each kv-block's ids
// (two attn.tensor_bounds) and the key ranges' reads (memref.load), all of
// row %b of %ids (clamped, computed inside each body). The row of %ids is
// staged once before the build (its leading index recomputed there) and
// every read and memref.dim in the bodies takes the staged view.

// CHECK-LABEL: func.func @documents_block_lists(
// CHECK-SAME:      %[[IDS:[a-z0-9]+]]: memref<?x?xi32, strided<[?, ?], offset: ?>>
// CHECK:         scf.forall (%[[ROW:[a-z0-9]+]])
// CHECK:           %[[D0:.+]] = memref.dim %[[IDS]], %c0
// CHECK:           %[[LAST:.+]] = arith.subi %[[D0]], %c1
// CHECK:           %[[MIN:.+]] = arith.minsi %[[ROW]], %[[LAST]]
// CHECK:           %[[B:.+]] = arith.maxsi %[[MIN]], %c0
// CHECK:           %[[S:.+]] = attn.stage_row %[[IDS]][%[[B]]] {capacity = 8192 : i64} : memref<?x?xi32, strided<[?, ?], offset: ?>> -> memref<?x?xi32, strided<[?, ?], offset: ?>, 3>
// CAP:             attn.stage_row {{.*}} {capacity = 4096 : i64}
// CHECK-NEXT:      attn.block_list_build
// CHECK:             memref.dim %[[S]], %c0
// CHECK:             attn.tensor_bounds %[[S]][
// CHECK:             attn.tensor_bounds %[[S]][
// CHECK:           attn.key_ranges
// CHECK:             memref.dim %[[S]], %c0
// CHECK:             memref.load %[[S]][
// CHECK-NOT:       %[[IDS]]
// CHECK:         } {attn.grid}
func.func @documents_block_lists(%ids: memref<?x?xi32, strided<[?, ?], offset: ?>>, %lists: memref<?x?x?x?xi32>) attributes {attn.block_list_builder} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c127 = arith.constant 127 : index
  %c128 = arith.constant 128 : index
  scf.forall (%row) in (%c4) {
    %q0 = arith.muli %row, %c128 : index
    %q1 = arith.addi %q0, %c127 : index
    attn.block_list_build %lists[%row, %c0, %c0] kv_blocks[%c0, %c4) : memref<?x?x?x?xi32> {
    ^bb0(%kb: index):
      %d0 = memref.dim %ids, %c0 : memref<?x?xi32, strided<[?, ?], offset: ?>>
      %last = arith.subi %d0, %c1 : index
      %min = arith.minsi %row, %last : index
      %b = arith.maxsi %min, %c0 : index
      %k0 = arith.muli %kb, %c128 : index
      %k1 = arith.addi %k0, %c127 : index
      %qmin, %qmax = attn.tensor_bounds %ids[%b, %q0] to [%b, %q1] : memref<?x?xi32, strided<[?, ?], offset: ?>>
      %kmin, %kmax = attn.tensor_bounds %ids[%b, %k0] to [%b, %k1] : memref<?x?xi32, strided<[?, ?], offset: ?>>
      %any = arith.cmpi sle, %kmin, %qmax : index
      %all = arith.cmpi eq, %qmin, %kmax : index
      attn.yield %any, %all : i1, i1
    }
    attn.key_ranges %lists[%row, %c0, %c0] rows %q0 kv[%c0, %q1) attributes {block_kv = 128 : i64, rows = 128 : i64} : memref<?x?x?x?xi32> {
    ^bb0(%pos: index, %is_row: i1):
      %d0 = memref.dim %ids, %c0 : memref<?x?xi32, strided<[?, ?], offset: ?>>
      %last = arith.subi %d0, %c1 : index
      %min = arith.minsi %row, %last : index
      %b = arith.maxsi %min, %c0 : index
      %key = memref.load %ids[%b, %pos] : memref<?x?xi32, strided<[?, ?], offset: ?>>
      %wide = arith.extsi %key : i32 to i64
      attn.yield %wide : i64
    }
  } {attn.grid}
  return
}

// -----

// One read per row (a block layout's entry): nothing to gain from a copy
// first, so nothing is staged.

// CHECK-LABEL: func.func @layout_block_lists(
// CHECK-NOT:     attn.stage_row
// CHECK:         attn.tensor_bounds %{{[a-z0-9]+}}[
func.func @layout_block_lists(%layout: memref<?x?xi32>, %lists: memref<?x?x?x?xi32>) attributes {attn.block_list_builder} {
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  scf.forall (%row) in (%c4) {
    attn.block_list_build %lists[%c0, %c0, %row] kv_blocks[%c0, %c4) : memref<?x?x?x?xi32> {
    ^bb0(%kb: index):
      %min, %max = attn.tensor_bounds %layout[%row, %kb] to [%row, %kb] : memref<?x?xi32>
      %any = arith.cmpi ne, %max, %c0 : index
      %all = arith.cmpi ne, %min, %c0 : index
      attn.yield %any, %all : i1, i1
    }
  } {attn.grid}
  return
}

// -----

// Reads of two different rows (q ids of batch %row, kv ids of batch 0):
// no one row holds what the row reads, so nothing is staged.

// CHECK-LABEL: func.func @two_rows_block_lists(
// CHECK-NOT:     attn.stage_row
func.func @two_rows_block_lists(%ids: memref<?x?xi32>, %lists: memref<?x?x?x?xi32>) attributes {attn.block_list_builder} {
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  scf.forall (%row) in (%c4) {
    attn.block_list_build %lists[%row, %c0, %c0] kv_blocks[%c0, %c4) : memref<?x?x?x?xi32> {
    ^bb0(%kb: index):
      %qmin, %qmax = attn.tensor_bounds %ids[%row, %kb] to [%row, %kb] : memref<?x?xi32>
      %kmin, %kmax = attn.tensor_bounds %ids[%c0, %kb] to [%c0, %kb] : memref<?x?xi32>
      %any = arith.cmpi sle, %kmin, %qmax : index
      %all = arith.cmpi eq, %qmin, %kmax : index
      attn.yield %any, %all : i1, i1
    }
  } {attn.grid}
  return
}

// -----

// A box over a range of a leading dimension (rows %row to %row + 1) is
// more than one row: nothing is staged.

// CHECK-LABEL: func.func @box_over_rows_block_lists(
// CHECK-NOT:     attn.stage_row
func.func @box_over_rows_block_lists(%ids: memref<?x?xi32>, %lists: memref<?x?x?x?xi32>) attributes {attn.block_list_builder} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  scf.forall (%row) in (%c4) {
    %next = arith.addi %row, %c1 : index
    attn.block_list_build %lists[%row, %c0, %c0] kv_blocks[%c0, %c4) : memref<?x?x?x?xi32> {
    ^bb0(%kb: index):
      %qmin, %qmax = attn.tensor_bounds %ids[%row, %kb] to [%next, %kb] : memref<?x?xi32>
      %kmin, %kmax = attn.tensor_bounds %ids[%row, %c0] to [%row, %kb] : memref<?x?xi32>
      %any = arith.cmpi sle, %kmin, %qmax : index
      %all = arith.cmpi eq, %qmin, %kmax : index
      attn.yield %any, %all : i1, i1
    }
  } {attn.grid}
  return
}

// -----

// 16-bit entries are not staged (the copy moves 32-bit entries), nor is a
// tensor whose leading index depends on the kv-block (not known before the
// build).

// CHECK-LABEL: func.func @not_stageable_block_lists(
// CHECK-NOT:     attn.stage_row
func.func @not_stageable_block_lists(%narrow: memref<?x?xi16>, %ids: memref<?x?xi32>, %lists: memref<?x?x?x?xi32>) attributes {attn.block_list_builder} {
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  scf.forall (%row) in (%c4) {
    attn.block_list_build %lists[%row, %c0, %c0] kv_blocks[%c0, %c4) : memref<?x?x?x?xi32> {
    ^bb0(%kb: index):
      %amin, %amax = attn.tensor_bounds %narrow[%row, %kb] to [%row, %kb] : memref<?x?xi16>
      %bmin, %bmax = attn.tensor_bounds %narrow[%row, %c0] to [%row, %kb] : memref<?x?xi16>
      %cmin, %cmax = attn.tensor_bounds %ids[%kb, %c0] to [%kb, %c4] : memref<?x?xi32>
      %dmin, %dmax = attn.tensor_bounds %ids[%kb, %row] to [%kb, %row] : memref<?x?xi32>
      %any = arith.cmpi sle, %amin, %cmax : index
      %all = arith.cmpi eq, %bmin, %dmax : index
      attn.yield %any, %all : i1, i1
    }
  } {attn.grid}
  return
}
