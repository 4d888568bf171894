// RUN: faopt-opt %s --allow-unregistered-dialect --attn-stage-output-in-v --split-input-file --verify-diagnostics | FileCheck %s
// RUN: faopt-opt %s --allow-unregistered-dialect --attn-stage-output-in-v=by-copy-thread=true --split-input-file --verify-diagnostics | FileCheck %s --check-prefix=COPY
// RUN: faopt-opt %s --allow-unregistered-dialect --attn-stage-output-in-v=defer-read-wait=true --split-input-file --verify-diagnostics | FileCheck %s --check-prefix=DEFER
// RUN: faopt-opt %s --allow-unregistered-dialect "--attn-stage-output-in-v=defer-read-wait=true same-blocks-only=true" --split-input-file --verify-diagnostics | FileCheck %s --check-prefix=AUTO

// With three K/V stages (attn.kv_stages = 3 on the loop over programs) the
// release of V's stage in the guarded last P V after the kv loop moves onto
// the O store: staged in that stage, released by the store where the guard's
// condition held. K's release, Q's release and the lse store do not change.

!mem = memref<?x?x?x64xbf16>
!lse = memref<?x?x?xf32>
// by-copy-thread (opt-in): the same move, and the kernel says the copy
// thread stores the staged O (attn-convert-to-emitc then lowers the store,
// the V prefetches and the copy thread's end for it); by default it does not.
// COPY-LABEL: func.func @three_stages(
// COPY-SAME:    attributes {attn.kernel, attn.output_by_copy_thread}
// COPY:           attn.tile_store %{{.*}} staged_in
// COPY-LABEL: func.func @two_stages(
// COPY-SAME:    attributes {attn.kernel} {
// CHECK-LABEL: func.func @three_stages(
// CHECK-SAME:      %[[Q:[^:]*]]: memref<?x?x?x64xbf16>, %[[K:[^:]*]]: memref<?x?x?x64xbf16>, %[[V:[^:]*]]: memref<?x?x?x64xbf16>, %[[O:[^:]*]]: memref<?x?x?x64xbf16>
// CHECK-SAME:      attributes {attn.kernel} {
// CHECK:         scf.for
// CHECK:           %[[KV:.*]]:2 = "test.kv_loop"()
// CHECK-NEXT:      attn.tile_release %[[Q]] stage
// CHECK-NEXT:      %[[PV:.*]] = scf.if %[[HELD:[^ ]*]] -> (tensor<64x64xf32>) {
// CHECK-NEXT:        %[[VT:.*]] = attn.tile_wait %[[V]]{{.*}} stage %[[KV]]#0 round %[[KV]]#1
// CHECK-NEXT:        %[[ACC:.*]] = attn.tile_matmul
// CHECK-NEXT:        scf.yield %[[ACC]]
// CHECK-NEXT:      } else {
// CHECK-NEXT:        scf.yield
// CHECK-NEXT:      }
// CHECK-NEXT:      %[[OT:.*]] = "test.finalize"(%[[PV]])
// CHECK-NEXT:      attn.tile_store %[[OT]], %[[O]][{{.*}}] bound %{{.*}} staged_in %[[V]] stage %[[KV]]#0 round %[[KV]]#1 when %[[HELD]] : tensor<64x64xbf16>, memref<?x?x?x64xbf16>, memref<?x?x?x64xbf16>
// CHECK-NEXT:      attn.tile_store %{{.*}}, %{{.*}}[{{.*}}] bound %{{.*}} : tensor<64xf32>, memref<?x?x?xf32>
// CHECK-NOT:     attn.tile_release %[[V]]
func.func @three_stages(%q: !mem, %k: !mem, %v: !mem, %o: !mem, %lse: !lse, %n: index, %held: i1, %p: tensor<64x64xbf16>, %acc: tensor<64x64xf32>, %rows: tensor<64xf32>) attributes {attn.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %true = arith.constant true
  scf.for %t = %c0 to %n step %c1 {
    %kv:2 = "test.kv_loop"() : () -> (index, index)
    attn.tile_release %q stage %c0 round %t : !mem
    %pv = scf.if %held -> (tensor<64x64xf32>) {
      %vt = attn.tile_wait %v[%c0, %c0, %c0] bound %n stage %kv#0 round %kv#1 ahead %true : !mem -> tensor<64x64xbf16>
      %r = attn.tile_matmul %p, %vt acc %acc : tensor<64x64xbf16>, tensor<64x64xbf16>, tensor<64x64xf32> -> tensor<64x64xf32>
      attn.tile_release %v stage %kv#0 round %kv#1 : !mem
      scf.yield %r : tensor<64x64xf32>
    } else {
      scf.yield %acc : tensor<64x64xf32>
    }
    %out = "test.finalize"(%pv) : (tensor<64x64xf32>) -> tensor<64x64xbf16>
    attn.tile_store %out, %o[%c0, %c0, %t] bound %n : tensor<64x64xbf16>, !mem
    attn.tile_store %rows, %lse[%c0, %c0, %t] bound %n : tensor<64xf32>, !lse
  } {attn.programs, attn.kv_stages = 3 : i64}
  return
}

// -----

// Two stages (no attn.kv_stages): O keeps its region, V its release.

!mem = memref<?x?x?x64xbf16>
// CHECK-LABEL: func.func @two_stages(
// CHECK:         attn.tile_release %{{.*}} stage %{{.*}} round
// CHECK:         attn.tile_store
// CHECK-NOT:     staged_in
func.func @two_stages(%q: !mem, %k: !mem, %v: !mem, %o: !mem, %n: index, %held: i1, %p: tensor<64x64xbf16>, %acc: tensor<64x64xf32>) attributes {attn.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %true = arith.constant true
  scf.for %t = %c0 to %n step %c1 {
    %pv = scf.if %held -> (tensor<64x64xf32>) {
      %vt = attn.tile_wait %v[%c0, %c0, %c0] bound %n stage %c0 round %t ahead %true : !mem -> tensor<64x64xbf16>
      %r = attn.tile_matmul %p, %vt acc %acc : tensor<64x64xbf16>, tensor<64x64xbf16>, tensor<64x64xf32> -> tensor<64x64xf32>
      attn.tile_release %v stage %c0 round %t : !mem
      scf.yield %r : tensor<64x64xf32>
    } else {
      scf.yield %acc : tensor<64x64xf32>
    }
    %out = "test.finalize"(%pv) : (tensor<64x64xf32>) -> tensor<64x64xbf16>
    attn.tile_store %out, %o[%c0, %c0, %t] bound %n : tensor<64x64xbf16>, !mem
  } {attn.programs}
  return
}

// -----

// Three stages but no guarded P V releasing V before the store (the
// pipeline without attn-overlap-softmax): nowhere to stage O, an error.

!mem = memref<?x?x?x64xbf16>
func.func @no_last_pv(%q: !mem, %k: !mem, %v: !mem, %o: !mem, %n: index, %out: tensor<64x64xbf16>) attributes {attn.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.for %t = %c0 to %n step %c1 {
    attn.tile_release %v stage %c0 round %t : !mem
    // expected-error @below {{no guarded P V releasing V's stage precedes this store}}
    attn.tile_store %out, %o[%c0, %c0, %t] bound %n : tensor<64x64xbf16>, !mem
  } {attn.programs, attn.kv_stages = 3 : i64}
  return
}

// -----

// defer-read-wait: every kernel with a staged O gets
// attn.output_wait_at_next_q (its store's read wait and the stage's release
// after the next program's Q wait), by-copy-thread kernels aside. With
// same-blocks-only (the pipeline's auto) only kernels whose programs
// all read the same kv-blocks, from a constant first one to a bound that
// does not depend on the program (dense), and whose Q is released after
// that loop: not a loop from a computed block (a band or a chunk), not
// one whose end follows the program (causal, prefix-LM), not a kernel that
// releases Q early (attn.early_q_release). Without the option, none.
// DEFER-LABEL: func.func @same_blocks_in_every_program(
// DEFER-SAME:    attributes {attn.kernel, attn.output_wait_at_next_q}
// DEFER-LABEL: func.func @from_a_computed_block(
// DEFER-SAME:    attributes {attn.kernel, attn.output_wait_at_next_q}
// DEFER-LABEL: func.func @q_released_early(
// DEFER-SAME:    attributes {attn.early_q_release, attn.kernel, attn.output_wait_at_next_q}
// DEFER-LABEL: func.func @to_a_block_of_the_program(
// DEFER-SAME:    attributes {attn.kernel, attn.output_wait_at_next_q}
// AUTO-LABEL: func.func @same_blocks_in_every_program(
// AUTO-SAME:    attributes {attn.kernel, attn.output_wait_at_next_q}
// AUTO-LABEL: func.func @from_a_computed_block(
// AUTO-SAME:    attributes {attn.kernel} {
// AUTO-LABEL: func.func @q_released_early(
// AUTO-SAME:    attributes {attn.early_q_release, attn.kernel} {
// AUTO-LABEL: func.func @to_a_block_of_the_program(
// AUTO-SAME:    attributes {attn.kernel} {
// CHECK-LABEL: func.func @same_blocks_in_every_program(
// CHECK-SAME:    attributes {attn.kernel} {

!mem = memref<?x?x?x64xbf16>
func.func @same_blocks_in_every_program(%q: !mem, %k: !mem, %v: !mem, %o: !mem, %n: index, %held: i1, %p: tensor<64x64xbf16>, %acc: tensor<64x64xf32>) attributes {attn.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %true = arith.constant true
  scf.for %t = %c0 to %n step %c1 {
    %s:2 = "test.last_fill"() : () -> (index, index)
    scf.for %kb = %c1 to %n step %c1 {
      "test.kv_block"(%kb) : (index) -> ()
    }
    %pv = scf.if %held -> (tensor<64x64xf32>) {
      %vt = attn.tile_wait %v[%c0, %c0, %c0] bound %n stage %s#0 round %s#1 ahead %true : !mem -> tensor<64x64xbf16>
      %r = attn.tile_matmul %p, %vt acc %acc : tensor<64x64xbf16>, tensor<64x64xbf16>, tensor<64x64xf32> -> tensor<64x64xf32>
      attn.tile_release %v stage %s#0 round %s#1 : !mem
      scf.yield %r : tensor<64x64xf32>
    } else {
      scf.yield %acc : tensor<64x64xf32>
    }
    %out = "test.finalize"(%pv) : (tensor<64x64xf32>) -> tensor<64x64xbf16>
    attn.tile_store %out, %o[%c0, %c0, %t] bound %n : tensor<64x64xbf16>, !mem
  } {attn.programs, attn.kv_stages = 3 : i64}
  return
}
func.func @from_a_computed_block(%q: !mem, %k: !mem, %v: !mem, %o: !mem, %n: index, %held: i1, %p: tensor<64x64xbf16>, %acc: tensor<64x64xf32>) attributes {attn.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %true = arith.constant true
  scf.for %t = %c0 to %n step %c1 {
    %s:2 = "test.last_fill"() : () -> (index, index)
    %lo = "test.first_block"(%t) : (index) -> index
    scf.for %kb = %lo to %n step %c1 {
      "test.kv_block"(%kb) : (index) -> ()
    }
    %pv = scf.if %held -> (tensor<64x64xf32>) {
      %vt = attn.tile_wait %v[%c0, %c0, %c0] bound %n stage %s#0 round %s#1 ahead %true : !mem -> tensor<64x64xbf16>
      %r = attn.tile_matmul %p, %vt acc %acc : tensor<64x64xbf16>, tensor<64x64xbf16>, tensor<64x64xf32> -> tensor<64x64xf32>
      attn.tile_release %v stage %s#0 round %s#1 : !mem
      scf.yield %r : tensor<64x64xf32>
    } else {
      scf.yield %acc : tensor<64x64xf32>
    }
    %out = "test.finalize"(%pv) : (tensor<64x64xf32>) -> tensor<64x64xbf16>
    attn.tile_store %out, %o[%c0, %c0, %t] bound %n : tensor<64x64xbf16>, !mem
  } {attn.programs, attn.kv_stages = 3 : i64}
  return
}
func.func @q_released_early(%q: !mem, %k: !mem, %v: !mem, %o: !mem, %n: index, %held: i1, %p: tensor<64x64xbf16>, %acc: tensor<64x64xf32>) attributes {attn.kernel, attn.early_q_release} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %true = arith.constant true
  scf.for %t = %c0 to %n step %c1 {
    %s:2 = "test.last_fill"() : () -> (index, index)
    scf.for %kb = %c1 to %n step %c1 {
      "test.kv_block"(%kb) : (index) -> ()
    }
    %pv = scf.if %held -> (tensor<64x64xf32>) {
      %vt = attn.tile_wait %v[%c0, %c0, %c0] bound %n stage %s#0 round %s#1 ahead %true : !mem -> tensor<64x64xbf16>
      %r = attn.tile_matmul %p, %vt acc %acc : tensor<64x64xbf16>, tensor<64x64xbf16>, tensor<64x64xf32> -> tensor<64x64xf32>
      attn.tile_release %v stage %s#0 round %s#1 : !mem
      scf.yield %r : tensor<64x64xf32>
    } else {
      scf.yield %acc : tensor<64x64xf32>
    }
    %out = "test.finalize"(%pv) : (tensor<64x64xf32>) -> tensor<64x64xbf16>
    attn.tile_store %out, %o[%c0, %c0, %t] bound %n : tensor<64x64xbf16>, !mem
  } {attn.programs, attn.kv_stages = 3 : i64}
  return
}
func.func @to_a_block_of_the_program(%q: !mem, %k: !mem, %v: !mem, %o: !mem, %n: index, %held: i1, %p: tensor<64x64xbf16>, %acc: tensor<64x64xf32>) attributes {attn.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %true = arith.constant true
  scf.for %t = %c0 to %n step %c1 {
    %s:2 = "test.last_fill"() : () -> (index, index)
    %hi = "test.last_block"(%t) : (index) -> index
    scf.for %kb = %c1 to %hi step %c1 {
      "test.kv_block"(%kb) : (index) -> ()
    }
    %pv = scf.if %held -> (tensor<64x64xf32>) {
      %vt = attn.tile_wait %v[%c0, %c0, %c0] bound %n stage %s#0 round %s#1 ahead %true : !mem -> tensor<64x64xbf16>
      %r = attn.tile_matmul %p, %vt acc %acc : tensor<64x64xbf16>, tensor<64x64xbf16>, tensor<64x64xf32> -> tensor<64x64xf32>
      attn.tile_release %v stage %s#0 round %s#1 : !mem
      scf.yield %r : tensor<64x64xf32>
    } else {
      scf.yield %acc : tensor<64x64xf32>
    }
    %out = "test.finalize"(%pv) : (tensor<64x64xf32>) -> tensor<64x64xbf16>
    attn.tile_store %out, %o[%c0, %c0, %t] bound %n : tensor<64x64xbf16>, !mem
  } {attn.programs, attn.kv_stages = 3 : i64}
  return
}
