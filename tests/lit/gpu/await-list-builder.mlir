// RUN: faopt-opt %s --attn-await-list-builder --split-input-file | FileCheck %s

// A kernel launched right after its list builder waits for it in each role
// just before the role's first read of the lists (attn.block_lists): the
// copy thread after its first Q copy, the consumers after their index math.
// What comes before overlaps the builder (programmatic dependent launch).

!mem = memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>

// CHECK-LABEL: func.func @roles(
// CHECK-SAME:      %[[Q:[^:]*]]: memref{{.*}}, %[[LISTS:[^:]*]]: memref<?x?x?x?xi32> {attn.block_lists
// CHECK:         scf.forall (%[[P:.*]]) in
// CHECK-NEXT:      %[[ROLE:.*]] = attn.copy_producer
// CHECK-NEXT:      scf.if %[[ROLE]] {
// CHECK-NEXT:        %[[ROW:.*]] = arith.muli %[[P]]
// CHECK-NEXT:        attn.tile_prefetch %[[Q]]
// CHECK-NEXT:        attn.await_list_builder
// CHECK-NEXT:        memref.load %[[LISTS]]
// CHECK-NEXT:        scf.for
// CHECK-NOT:           attn.await_list_builder
// CHECK:               memref.load %[[LISTS]]
// CHECK:           } else {
// CHECK-NEXT:        %[[ROW2:.*]] = arith.muli %[[P]]
// CHECK-NEXT:        attn.await_list_builder
// CHECK-NEXT:        scf.for
// CHECK-NEXT:          memref.load %[[LISTS]]
// CHECK-NOT:       attn.await_list_builder
// CHECK:           } {attn.grid}
func.func @roles(%q: !mem, %lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = false}}, %n: index) attributes {attn.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  scf.forall (%p) in (%n) {
    %producer = attn.copy_producer
    scf.if %producer {
      %row = arith.muli %p, %c64 : index
      attn.tile_prefetch %q[%c0, %c0, %row] bound %n stage %c0 round %c0 : !mem -> tensor<64x64xbf16>
      %count = memref.load %lists[%c0, %c0, %p, %c0] : memref<?x?x?x?xi32>
      scf.for %i = %c0 to %n step %c1 {
        %e = memref.load %lists[%c0, %c0, %p, %i] : memref<?x?x?x?xi32>
      }
    } else {
      %row = arith.muli %p, %c64 : index
      scf.for %i = %c0 to %n step %c1 {
        %e = memref.load %lists[%c0, %c0, %p, %i] : memref<?x?x?x?xi32>
      }
    }
  } {attn.grid}
  return
}

// -----

// Without a copy thread (cp.async kernels) the whole body is one role.

// CHECK-LABEL: func.func @one_role(
// CHECK:         scf.forall
// CHECK-NEXT:      arith.muli
// CHECK-NEXT:      attn.await_list_builder
// CHECK-NEXT:      memref.load
// CHECK-NEXT:      memref.load
// CHECK-NOT:     attn.await_list_builder
func.func @one_role(%lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = true}}, %n: index) attributes {attn.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.forall (%p) in (%n) {
    %x = arith.muli %p, %n : index
    %a = memref.load %lists[%c0, %c0, %p, %c0] : memref<?x?x?x?xi32>
    %b = memref.load %lists[%c0, %c0, %p, %c1] : memref<?x?x?x?xi32>
  } {attn.grid}
  return
}

// -----

// Kernels without lists, and list builders themselves, are left alone.

// CHECK-LABEL: func.func @no_lists(
// CHECK-NOT:     attn.await_list_builder
// CHECK-LABEL: func.func @builder(
// CHECK-NOT:     attn.await_list_builder
// CHECK:         return
func.func @no_lists(%n: index) attributes {attn.kernel} {
  scf.forall (%p) in (%n) {
  } {attn.grid}
  return
}
func.func @builder(%lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = true}}, %n: index) attributes {attn.block_list_builder} {
  %c0 = arith.constant 0 : index
  scf.forall (%p) in (%n) {
    %a = memref.load %lists[%c0, %c0, %p, %c0] : memref<?x?x?x?xi32>
  } {attn.grid}
  return
}

// -----

// Where the builder zeroes the program counter (attn.reset_by_builder,
// attn-builder-resets-counter), the counter is the builder's output too:
// the wait comes before the first claim, even one ahead of any list read.

// CHECK-LABEL: func.func @counter(
// CHECK-SAME:      %[[CTR:[a-z0-9]+]]: memref<1xi32> {attn.program_counter, attn.reset_by_builder}
// CHECK:         scf.forall
// CHECK-NEXT:      arith.muli
// CHECK-NEXT:      attn.await_list_builder
// CHECK-NEXT:      memref.load %[[CTR]]
// CHECK-NEXT:      memref.load
// CHECK-NOT:     attn.await_list_builder
func.func @counter(%lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = true}}, %ctr: memref<1xi32> {attn.program_counter, attn.reset_by_builder}, %n: index) attributes {attn.kernel} {
  %c0 = arith.constant 0 : index
  scf.forall (%p) in (%n) {
    %x = arith.muli %p, %n : index
    %claimed = memref.load %ctr[%c0] : memref<1xi32>
    %a = memref.load %lists[%c0, %c0, %p, %c0] : memref<?x?x?x?xi32>
  } {attn.grid}
  return
}
