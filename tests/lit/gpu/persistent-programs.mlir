// RUN: faopt-opt %s --attn-persistent-programs --split-input-file | FileCheck %s
// RUN: faopt-opt %s --attn-persistent-programs="list-kernels=false" --split-input-file | FileCheck %s --check-prefix=NOLISTS
// RUN: faopt-opt %s --attn-persistent-programs="q-stages=2" --split-input-file | FileCheck %s --check-prefix=QTWO
// RUN: faopt-opt %s --attn-persistent-programs="q-stages=2 shared-memory-bytes=200000" --split-input-file | FileCheck %s --check-prefix=QROOM
// RUN: faopt-opt %s --attn-persistent-programs="q-stages=2 shared-memory-bytes=230000" --split-input-file | FileCheck %s --check-prefix=QSLOT
// RUN: faopt-opt %s --attn-persistent-programs="q-stages=1" --split-input-file | FileCheck %s --check-prefix=QONE
// RUN: faopt-opt %s --attn-persistent-programs="shared-memory-bytes=230000" --split-input-file | FileCheck %s --check-prefix=QSLOT
// RUN: not faopt-opt %s --attn-persistent-programs="q-stages=3" --split-input-file 2>&1 | FileCheck %s --check-prefix=QBAD
// RUN: faopt-opt %s --attn-persistent-programs="hand-out=false" --split-input-file | FileCheck %s --check-prefix=SNAKE
// RUN: faopt-opt %s --attn-persistent-programs="kv-stages=3" --split-input-file | FileCheck %s --check-prefix=KV3
// RUN: faopt-opt %s --attn-persistent-programs="kv-stages=3 q-stages=1" --split-input-file | FileCheck %s --check-prefix=KV3ONE
// RUN: not faopt-opt %s --attn-persistent-programs="kv-stages=4" --split-input-file 2>&1 | FileCheck %s --check-prefix=KVBAD

// A TMA kernel's grid of programs becomes one worker per CTA (attn.workers
// of them) looping over its programs: one from each row of `workers`
// programs, at w in even rows and workers - 1 - w in odd ones (snake
// order). Only the last row can be partial, so the count is the rows before
// it plus one if the worker's program in it exists.

!mem = memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>

// CHECK-LABEL: func.func @kernel(
// NOLISTS-LABEL:  func.func @kernel(
// NOLISTS:          attn.workers
// A second Q tile (q-stages=2) where it fits: noted on the loop over
// programs for attn-pipeline-kv-loads.
// QTWO-LABEL:  func.func @kernel(
// QTWO:          } {attn.kv_stages = 3 : i64, attn.programs, attn.q_stages = 2 : i64}
// QBAD:        error: attn-persistent-programs: q-stages must be 0 (auto), 1 or 2, not 3
// A third K/V stage where it fits with the Q tiles (O is then staged in a
// V stage, so it needs no region): noted on the loop too. The default
// (kv-stages=0, auto) for fixed schedules, as the CHECK lines show;
// kv-stages=3 spelled out here.
// KV3-LABEL:   func.func @kernel(
// KV3:           } {attn.kv_stages = 3 : i64, attn.programs}
// KVBAD:       error: attn-persistent-programs: kv-stages must be 0 (auto), 2 or 3, not 4
// CHECK-SAME:      %[[Q:arg0]]: memref{{.*}}, %[[N:arg4]]: index
// CHECK:         %[[WORKERS:.*]] = attn.workers
// CHECK-NEXT:    scf.forall (%[[W:.*]]) in (%[[WORKERS]]) {
// CHECK-DAG:       %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG:       %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG:       %[[C2:.*]] = arith.constant 2 : index
// CHECK:           %[[LASTW:.*]] = arith.subi %[[WORKERS]], %[[C1]]
// CHECK-NEXT:      %[[MIRROR:.*]] = arith.subi %[[LASTW]], %[[W]]
// CHECK-NEXT:      %[[ROWS:.*]] = arith.ceildivui %[[N]], %[[WORKERS]]
// CHECK-NEXT:      %[[LASTROW:.*]] = arith.subi %[[ROWS]], %[[C1]]
// CHECK-NEXT:      %[[FIRST:.*]] = arith.muli %[[LASTROW]], %[[WORKERS]]
// CHECK-NEXT:      %[[PAR:.*]] = arith.remui %[[LASTROW]], %[[C2]]
// CHECK-NEXT:      %[[ODD:.*]] = arith.cmpi ne, %[[PAR]], %[[C0]]
// CHECK-NEXT:      %[[AT:.*]] = arith.select %[[ODD]], %[[MIRROR]], %[[W]]
// CHECK-NEXT:      %[[LASTP:.*]] = arith.addi %[[FIRST]], %[[AT]]
// CHECK-NEXT:      %[[TAKEN:.*]] = arith.cmpi ult, %[[LASTP]], %[[N]]
// CHECK-NEXT:      %[[EXTRA:.*]] = arith.select %[[TAKEN]], %[[C1]], %[[C0]]
// CHECK-NEXT:      %[[COUNT:.*]] = arith.addi %[[LASTROW]], %[[EXTRA]]
// CHECK-NEXT:      scf.for %[[T:.*]] = %[[C0]] to %[[COUNT]] step %[[C1]] {
// CHECK-NEXT:        %[[TFIRST:.*]] = arith.muli %[[T]], %[[WORKERS]]
// CHECK-NEXT:        %[[TPAR:.*]] = arith.remui %[[T]], %[[C2]]
// CHECK-NEXT:        %[[TODD:.*]] = arith.cmpi ne, %[[TPAR]], %[[C0]]
// CHECK-NEXT:        %[[TAT:.*]] = arith.select %[[TODD]], %[[MIRROR]], %[[W]]
// A program index: below the program count (at most 2^31 - 1), stated
// for attn-narrow-index-math.
// CHECK-NEXT:        %[[P:.*]] = arith.addi %[[TFIRST]], %[[TAT]] {attn.range = array<i64: 0, 2147483646>}
// The old body, on program %P.
// CHECK-NEXT:        %[[ROW:.*]] = arith.muli %[[P]], %c64
// CHECK-NEXT:        attn.tile_load %[[Q]][%c0, %c0, %[[ROW]]]
// CHECK:             attn.tile_store
// CHECK-NEXT:      } {attn.kv_stages = 3 : i64, attn.programs}
// CHECK-NEXT:    } {attn.grid}

func.func @kernel(%q: !mem, %k: !mem, %v: !mem, %o: !mem, %n: index, %sq: index) attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 64, block_kv = 64, warps = 4, stages = 2, mma = "wgmma", copy = "tma">} {
  %c0 = arith.constant 0 : index
  %c64 = arith.constant 64 : index
  scf.forall (%p) in (%n) {
    %row = arith.muli %p, %c64 : index
    %t = attn.tile_load %q[%c0, %c0, %row] bound %sq : !mem -> tensor<64x64xbf16>
    attn.tile_store %t, %o[%c0, %c0, %row] bound %sq : tensor<64x64xbf16>, !mem
  } {attn.grid}
  return
}

// -----

!mem = memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>

// attn-schedule-grid asked for the workers already (its head groups are
// whole row pairs of the snake): the loop over workers takes that value,
// one gridDim.x read for both.
// CHECK-LABEL: func.func @workers_asked_before(
// CHECK:         %[[EARLY:.*]] = attn.workers
// CHECK-NEXT:    %[[CAP:.*]] = arith.minsi %[[EARLY]], %{{.*}}
// CHECK-NOT:     attn.workers
// CHECK:         scf.forall (%{{.*}}) in (%[[EARLY]]) {

func.func @workers_asked_before(%q: !mem, %k: !mem, %v: !mem, %o: !mem, %n: index, %sq: index) attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 64, block_kv = 64, warps = 4, stages = 2, mma = "wgmma", copy = "tma">} {
  %c0 = arith.constant 0 : index
  %c64 = arith.constant 64 : index
  %w = attn.workers
  %cap = arith.minsi %w, %n : index
  scf.forall (%p) in (%n) {
    %row = arith.muli %p, %cap : index
    %t = attn.tile_load %q[%c0, %c0, %row] bound %sq : !mem -> tensor<64x64xbf16>
    attn.tile_store %t, %o[%c0, %c0, %row] bound %sq : tensor<64x64xbf16>, !mem
  } {attn.grid}
  return
}

// -----

!mem = memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>

// Kernels without TMA copies hold two CTAs per SM and keep one CTA per
// program.

// CHECK-LABEL: func.func @cp_async(
// CHECK-NOT:     attn.workers
// CHECK:         scf.forall (%{{.*}}) in (%{{.*}}) {
// CHECK-NOT:       attn.programs
// CHECK:         } {attn.grid}

func.func @cp_async(%q: !mem, %k: !mem, %v: !mem, %o: !mem, %n: index, %sq: index) attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 64, block_kv = 64, warps = 4, stages = 2, mma = "wgmma", copy = "cp_async">} {
  %c0 = arith.constant 0 : index
  %c64 = arith.constant 64 : index
  scf.forall (%p) in (%n) {
    %row = arith.muli %p, %c64 : index
    %t = attn.tile_load %q[%c0, %c0, %row] bound %sq : !mem -> tensor<64x64xbf16>
    attn.tile_store %t, %o[%c0, %c0, %row] bound %sq : tensor<64x64xbf16>, !mem
  } {attn.grid}
  return
}

// -----

// d = 256: Q (64 KiB) and two stages of K and V (128 KiB) leave no room for
// a 64 KiB O staging region in 227 KiB, so the kernel keeps one CTA per
// program (O is staged in Q's region after the loop).

!big = memref<?x?x?x256xbf16, strided<[?, ?, ?, 1], offset: ?>>

// CHECK-LABEL: func.func @d256(
// CHECK-NOT:     attn.workers
// CHECK:         scf.forall (%{{.*}}) in (%{{.*}}) {
// CHECK-NOT:       attn.programs
// CHECK:         } {attn.grid}

func.func @d256(%q: !big, %k: !big, %v: !big, %o: !big, %n: index, %sq: index) attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 128, block_kv = 64, warps = 8, stages = 2, mma = "wgmma", copy = "tma">} {
  %c0 = arith.constant 0 : index
  %c128 = arith.constant 128 : index
  scf.forall (%p) in (%n) {
    %row = arith.muli %p, %c128 : index
    %t = attn.tile_load %q[%c0, %c0, %row] bound %sq : !big -> tensor<128x256xbf16>
    attn.tile_store %t, %o[%c0, %c0, %row] bound %sq : tensor<128x256xbf16>, !big
  } {attn.grid}
  return
}

// -----

// A kernel driven by run-time kv-block lists (an attn.block_lists
// argument, attn-block-lists): left alone with list-kernels=false (for
// comparisons; the pipeline passes true since session 23); persistent
// otherwise, its programs handed out at run time (its programs' lengths come from the data, which the
// snake cannot balance): a counter argument, attn.next_program, the body
// under a guard whose other branch ends the loop; hand-out=false keeps the
// snake. By default (q-stages=0, auto) the hand-out alternates between two
// Q tiles (attn.q_stages = 2, docs/performance.md item 64) where they fit;
// the fixed schedules above keep one. q-stages=1 keeps one here too.

!mem = memref<?x?x?x128xbf16, strided<[?, ?, ?, 1], offset: ?>>
!lists = memref<?x?x?x?xi32, strided<[?, ?, ?, 1], offset: ?>>

// CHECK-LABEL: func.func @lists(
// CHECK-SAME:      %[[N:[a-z0-9]+]]: index, %{{[a-z0-9]+}}: index, %[[CTR:[a-z0-9]+]]: memref<1xi32> {attn.program_counter})
// CHECK:         %[[WORKERS:.*]] = attn.workers
// CHECK:         scf.forall (%[[W:.*]]) in (%[[WORKERS]]) {
// CHECK:           scf.for %[[T:.*]] = %{{.*}} to %[[N]] step
// CHECK-NEXT:        %[[P:.*]] = attn.next_program %[[T]] of %[[W]] workers %[[WORKERS]] below %[[N]] counter %[[CTR]] : memref<1xi32>
// CHECK-NEXT:        %[[IN:.*]] = arith.cmpi ult, %[[P]], %[[N]]
// CHECK-NEXT:        scf.if %[[IN]] {
// CHECK:               %[[LAST:.*]] = arith.subi %[[N]]
// CHECK-NEXT:          %[[PIN:.*]] = arith.minsi %[[P]], %[[LAST]] {attn.range = array<i64: 0, 2147483646>}
// CHECK-NEXT:          arith.muli %[[PIN]]
// CHECK:             } else {
// CHECK-NEXT:          attn.no_more_programs
// CHECK-NEXT:        } {attn.program_guard}
// CHECK-NEXT:      } {attn.hand_out, attn.programs, attn.q_stages = 2 : i64}
// QONE-LABEL: func.func @lists(
// QONE:         attn.next_program
// QONE:         } {attn.hand_out, attn.programs}
// SNAKE-LABEL: func.func @lists(
// SNAKE-NOT:     attn.program_counter
// SNAKE:         attn.workers
// SNAKE-NOT:     attn.next_program
// SNAKE:         } {attn.kv_stages = 3 : i64, attn.programs}
// With q-stages=2 the hand-out alternates between two Q tiles as well
// (program t in tile t mod 2, with that tile's program slots), where they
// fit with the slots' 1 KiB: not in 200000 bytes (192 KiB + 176 + 1 KiB
// fits, 224 KiB does not), nor in 230000 (224 KiB + 176 fits, but not
// with the slots). A third K/V stage does not fit next to two Q tiles
// (kv-stages=3 leaves the auto hand-out's loop as it was); with one Q tile
// it does: Q 32 + 3 x 64 KiB, the pipe and the slots in 227 KiB.
// KV3-LABEL: func.func @lists(
// KV3:         } {attn.hand_out, attn.programs, attn.q_stages = 2 : i64}
// KV3ONE-LABEL: func.func @lists(
// KV3ONE:         } {attn.hand_out, attn.kv_stages = 3 : i64, attn.programs}
// QTWO-LABEL: func.func @lists(
// QTWO:         attn.next_program
// QTWO:         } {attn.hand_out, attn.programs, attn.q_stages = 2 : i64}
// QROOM-LABEL: func.func @lists(
// QROOM:         attn.workers
// QROOM-NOT:     attn.q_stages
// QROOM:         } {attn.hand_out, attn.programs}
// QSLOT-LABEL: func.func @lists(
// QSLOT:         attn.workers
// QSLOT-NOT:     attn.q_stages
// QSLOT:         } {attn.hand_out, attn.programs}
// NOLISTS-LABEL:  func.func @lists(
// NOLISTS-NOT:      attn.workers
// NOLISTS:          scf.forall (%{{.*}}) in (%{{.*}}) {
// NOLISTS-NOT:        attn.programs
// NOLISTS:          } {attn.grid}

func.func @lists(%q: !mem, %k: !mem, %v: !mem, %o: !mem, %l: !lists {attn.block_lists = {per_batch = false, per_head = false}}, %n: index, %sq: index) attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 128, block_kv = 128, warps = 8, stages = 2, mma = "wgmma", copy = "tma">} {
  %c0 = arith.constant 0 : index
  %c128 = arith.constant 128 : index
  scf.forall (%p) in (%n) {
    %row = arith.muli %p, %c128 : index
    %t = attn.tile_load %q[%c0, %c0, %row] bound %sq : !mem -> tensor<128x128xbf16>
    attn.tile_store %t, %o[%c0, %c0, %row] bound %sq : tensor<128x128xbf16>, !mem
  } {attn.grid}
  return
}
