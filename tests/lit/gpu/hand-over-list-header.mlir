// RUN: faopt-opt %s --allow-unregistered-dialect --attn-hand-over-list-header --split-input-file | FileCheck %s
// RUN: faopt-opt %s --allow-unregistered-dialect --attn-hand-over-list-header --attn-hand-over-list-header --split-input-file | FileCheck %s --check-prefix=TWICE

// A kernel whose programs are handed out: the consumers' loads of the list
// head (the count, and an entry whose index needs the count) move to the
// copy thread, which publishes them with the program (clamped to the last
// one: the clones run outside its guard); the consumers read them. Loads
// that stay: in the kv loop (nested), indexed by the loop's counter, of
// another memref, and after the first op with regions (the consumers may
// have released Q's stage, and with it the slots, by then).

// CHECK-LABEL: func.func @handed_out(
// CHECK-SAME:      %[[LISTS:[^:]*]]: memref<?x?x?x?xi32> {attn.block_lists
// CHECK:         scf.if %{{.*}} {
// CHECK:           scf.for %[[T:.*]] = %{{.*}} to %[[TOTAL:[^ ]*]] step
// CHECK-NEXT:        %[[P:.*]] = attn.next_program %[[T]] of {{.*}} producer publish_later
// CHECK:             %[[CL:.*]] = arith.minsi %[[P]], %{{.*}}
// CHECK:             %[[PC:.*]] = arith.minsi %[[CL]], %{{.*}}
// CHECK-NEXT:        %[[N:.*]] = memref.load %[[LISTS]][%{{.*}}, %{{.*}}, %[[PC]], %{{.*}}]
// CHECK:             %[[E:.*]] = memref.load %[[LISTS]]
// CHECK-NEXT:        attn.publish_program %[[P]] for %[[T]] below %[[TOTAL]] with %[[N]], %[[E]]{{$}}
// CHECK-NEXT:        arith.cmpi ult, %[[P]]
// CHECK:           } {attn.hand_out
// CHECK:         } else {
// CHECK:             attn.next_program %[[CT:[^ ]*]] of
// CHECK-NOT:           publish_later
// CHECK:             scf.if
// CHECK-NEXT:          arith.subi
// CHECK-NEXT:          arith.minsi
// CHECK-NEXT:          %[[CN:.*]] = attn.program_value of %[[CT]] {index = 0 : i64}
// CHECK-NEXT:          arith.index_cast %[[CN]]
// CHECK-NEXT:          %[[CE:.*]] = attn.program_value of %[[CT]] {index = 1 : i64}
// CHECK-NEXT:          memref.load %[[LISTS]][%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}] : memref<?x?x?x?xi32>
// CHECK-NEXT:          memref.load %{{.*}} : memref<?xi32>
// CHECK-NEXT:          scf.for
// CHECK-NEXT:            memref.load %[[LISTS]]
// CHECK:               "test.use"(%[[CE]])
// CHECK:               memref.load %[[LISTS]]
func.func @handed_out(%lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = false}}, %ctr: memref<1xi32> {attn.program_counter}, %total: index, %workers: index, %other: memref<?xi32>) attributes {attn.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.forall (%w) in (%workers) {
    %producer = attn.copy_producer
    scf.if %producer {
      scf.for %t = %c0 to %total step %c1 {
        %p = attn.next_program %t of %w workers %workers below %total counter %ctr producer : memref<1xi32>
        %go = arith.cmpi ult, %p, %total : index
        scf.if %go {
          %last = arith.subi %total, %c1 : index
          %pc = arith.minsi %p, %last : index
          %n = memref.load %lists[%c0, %c0, %pc, %c0] : memref<?x?x?x?xi32>
          "test.use"(%n) : (i32) -> ()
        } else {
          attn.no_more_programs
        } {attn.program_guard}
      } {attn.programs, attn.hand_out}
    } else {
      scf.for %t = %c0 to %total step %c1 {
        %p = attn.next_program %t of %w workers %workers below %total counter %ctr : memref<1xi32>
        %go = arith.cmpi ult, %p, %total : index
        scf.if %go {
          %last = arith.subi %total, %c1 : index
          %pc = arith.minsi %p, %last : index
          %n = memref.load %lists[%c0, %c0, %pc, %c0] : memref<?x?x?x?xi32>
          %ni = arith.index_cast %n : i32 to index
          %k = arith.minsi %ni, %c1 : index
          %e = memref.load %lists[%c0, %c0, %pc, %k] : memref<?x?x?x?xi32>
          %byt = memref.load %lists[%c0, %c0, %pc, %t] : memref<?x?x?x?xi32>
          %o = memref.load %other[%pc] : memref<?xi32>
          scf.for %j = %c0 to %ni step %c1 {
            %x = memref.load %lists[%c0, %c0, %pc, %j] : memref<?x?x?x?xi32>
            "test.use"(%x) : (i32) -> ()
          }
          "test.use"(%e) : (i32) -> ()
          %late = memref.load %lists[%c0, %c0, %pc, %c1] : memref<?x?x?x?xi32>
          "test.use"(%byt, %o, %late) : (i32, i32, i32) -> ()
        } else {
          attn.no_more_programs
        } {attn.program_guard}
      } {attn.programs, attn.hand_out}
    }
  } {attn.grid}
  return
}

// -----

// At most 8 values travel: the ninth load stays with the consumers. A
// second run finds the copy thread's claim already publish_later and does
// nothing (the RUN line with the pass twice).

// CHECK-LABEL: func.func @nine(
// CHECK:         attn.publish_program %{{.*}} for %{{.*}} below %{{.*}} with %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}{{$}}
// CHECK:         attn.program_value of %{{.*}} {index = 7 : i64}
// CHECK-NEXT:    memref.load
// TWICE-LABEL:  func.func @handed_out(
// TWICE:         attn.publish_program
// TWICE-NOT:     attn.publish_program
// TWICE-LABEL:  func.func @nine(
// TWICE:         attn.publish_program
// TWICE-NOT:     attn.publish_program
// TWICE-LABEL:  func.func @static_programs(
func.func @nine(%lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = false}}, %ctr: memref<1xi32> {attn.program_counter}, %total: index, %workers: index) attributes {attn.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.forall (%w) in (%workers) {
    %producer = attn.copy_producer
    scf.if %producer {
      scf.for %t = %c0 to %total step %c1 {
        %p = attn.next_program %t of %w workers %workers below %total counter %ctr producer : memref<1xi32>
        %go = arith.cmpi ult, %p, %total : index
        scf.if %go {
        } else {
          attn.no_more_programs
        } {attn.program_guard}
      } {attn.programs, attn.hand_out}
    } else {
      scf.for %t = %c0 to %total step %c1 {
        %p = attn.next_program %t of %w workers %workers below %total counter %ctr : memref<1xi32>
        %go = arith.cmpi ult, %p, %total : index
        scf.if %go {
          %v0 = memref.load %lists[%c0, %c0, %p, %c0] : memref<?x?x?x?xi32>
          %v1 = memref.load %lists[%c0, %c0, %p, %c0] : memref<?x?x?x?xi32>
          %v2 = memref.load %lists[%c0, %c0, %p, %c0] : memref<?x?x?x?xi32>
          %v3 = memref.load %lists[%c0, %c0, %p, %c0] : memref<?x?x?x?xi32>
          %v4 = memref.load %lists[%c0, %c0, %p, %c0] : memref<?x?x?x?xi32>
          %v5 = memref.load %lists[%c0, %c0, %p, %c0] : memref<?x?x?x?xi32>
          %v6 = memref.load %lists[%c0, %c0, %p, %c0] : memref<?x?x?x?xi32>
          %v7 = memref.load %lists[%c0, %c0, %p, %c0] : memref<?x?x?x?xi32>
          %v8 = memref.load %lists[%c0, %c0, %p, %c0] : memref<?x?x?x?xi32>
          "test.use"(%v0, %v1, %v2, %v3, %v4, %v5, %v6, %v7, %v8) : (i32, i32, i32, i32, i32, i32, i32, i32, i32) -> ()
        } else {
          attn.no_more_programs
        } {attn.program_guard}
      } {attn.programs, attn.hand_out}
    }
  } {attn.grid}
  return
}

// -----

// One CTA per program (no hand-out): nothing to hand over.

// CHECK-LABEL: func.func @static_programs(
// CHECK-NOT:     attn.publish_program
// CHECK-NOT:     attn.program_value
func.func @static_programs(%lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = false}}, %n: index) attributes {attn.kernel} {
  %c0 = arith.constant 0 : index
  scf.forall (%p) in (%n) {
    %producer = attn.copy_producer
    scf.if %producer {
      %a = memref.load %lists[%c0, %c0, %p, %c0] : memref<?x?x?x?xi32>
      "test.use"(%a) : (i32) -> ()
    } else {
      %b = memref.load %lists[%c0, %c0, %p, %c0] : memref<?x?x?x?xi32>
      "test.use"(%b) : (i32) -> ()
    }
  } {attn.grid}
  return
}
