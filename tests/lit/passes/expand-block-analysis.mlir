// RUN: faopt-opt %s --attn-expand-block-analysis --split-input-file | FileCheck %s

// Causal (q >= kv) over q in [q0, q1], kv in [k0, k1], keys at or past sk out
// of range. Interval arithmetic: "q >= kv" may hold iff q1 >= k0' and may
// fail iff q0 < k1', where k1' = min(k1, sk - 1) clamps the block to the
// keys that exist. The block is
//   any = (k0 <= k1') and (k0 <= q1)       -- some in-range key may be seen
//   all = (k1 < sk) and not (k1' > q0)     -- in range and always seen

// CHECK-LABEL: func.func @causal_class(
// CHECK-SAME:      %[[B:[^:]*]]: index, %[[H:[^:]*]]: index, %[[Q0:[^:]*]]: index, %[[Q1:[^:]*]]: index, %[[K0:[^:]*]]: index, %[[K1:[^:]*]]: index, %[[SK:[^:]*]]: index)
// CHECK:         %[[LASTKEY:.*]] = arith.subi %[[SK]], %c1
// CHECK:         %[[KHI:.*]] = arith.minsi %[[K1]], %[[LASTKEY]]
// CHECK:         %[[SOME:.*]] = arith.cmpi sle, %[[K0]], %[[KHI]]
// CHECK:         %[[INB:.*]] = arith.cmpi slt, %[[K1]], %[[SK]]
// CHECK:         %[[MAYTRUE:.*]] = arith.cmpi sle, %[[K0]], %[[Q1]]
// CHECK:         %[[MAYFALSE:.*]] = arith.cmpi sgt, %[[KHI]], %[[Q0]]
// CHECK:         %[[NEVERFALSE:.*]] = arith.xori %[[MAYFALSE]], %true
// CHECK:         %[[ANY:.*]] = arith.andi %[[SOME]], %[[MAYTRUE]]
// CHECK:         %[[ALL:.*]] = arith.andi %[[INB]], %[[NEVERFALSE]]
// CHECK:         return %[[ANY]], %[[ALL]]
func.func @causal_class(%b: index, %h: index, %q0: index, %q1: index, %k0: index, %k1: index, %sk: index) -> (i1, i1) {
  %any, %all = attn.mask_block_class(%b, %h) q[%q0, %q1] kv[%k0, %k1] kv_bound %sk {
  ^bb0(%bi: index, %hi: index, %q: index, %kv: index):
    %p = arith.cmpi sge, %q, %kv : index
    attn.yield %p : i1
  }
  return %any, %all : i1, i1
}

// -----

// A sliding window, q - kv <= 128 && kv - q <= 0: subtraction swaps the ends
// of the subtrahend's range, and && is true-if-both / false-if-either.

// CHECK-LABEL: func.func @window_class(
// CHECK-SAME:      %[[Q0:[^:]*]]: index, %[[Q1:[^:]*]]: index, %[[K0:[^:]*]]: index, %[[K1:[^:]*]]: index, %[[SK:[^:]*]]: index)
// CHECK:         %[[KHI:.*]] = arith.minsi %[[K1]], %{{.*}}
// CHECK-DAG:     %[[DLO:.*]] = arith.subi %[[Q0]], %[[KHI]]
// CHECK-DAG:     %[[DHI:.*]] = arith.subi %[[Q1]], %[[K0]]
// CHECK-DAG:     %[[W1T:.*]] = arith.cmpi sle, %[[DLO]], %c128
// CHECK-DAG:     %[[W1F:.*]] = arith.cmpi sgt, %[[DHI]], %c128
// CHECK:         arith.andi
// CHECK:         arith.ori
func.func @window_class(%q0: index, %q1: index, %k0: index, %k1: index, %sk: index) -> (i1, i1) {
  %c0 = arith.constant 0 : index
  %any, %all = attn.mask_block_class(%c0, %c0) q[%q0, %q1] kv[%k0, %k1] kv_bound %sk {
  ^bb0(%bi: index, %hi: index, %q: index, %kv: index):
    %c128 = arith.constant 128 : index
    %c0_ = arith.constant 0 : index
    %d = arith.subi %q, %kv : index
    %w1 = arith.cmpi sle, %d, %c128 : index
    %e = arith.subi %kv, %q : index
    %w2 = arith.cmpi sle, %e, %c0_ : index
    %p = arith.andi %w1, %w2 : i1
    attn.yield %p : i1
  }
  return %any, %all : i1, i1
}

// -----

// What the analysis does not model is "may be either": an unsigned compare
// here. The block can then never be proven full, and is empty only if it is
// out of range.

// CHECK-LABEL: func.func @unknown_class(
// CHECK:         %[[SOME:.*]] = arith.cmpi sle
// CHECK-NOT:     arith.cmpi ult
// CHECK:         return %[[SOME]], %false
func.func @unknown_class(%q0: index, %q1: index, %k0: index, %k1: index, %sk: index) -> (i1, i1) {
  %c0 = arith.constant 0 : index
  %any, %all = attn.mask_block_class(%c0, %c0) q[%q0, %q1] kv[%k0, %k1] kv_bound %sk {
  ^bb0(%bi: index, %hi: index, %q: index, %kv: index):
    %p = arith.cmpi ult, %kv, %q : index
    attn.yield %p : i1
  }
  return %any, %all : i1, i1
}

// -----

// Causal bounds kv from above linearly (kv <= q), so the kv range is closed
// form: blocks [0, min(q1, sk - 1) / 64 + 1) clamped to [0, ceil(sk / 64)).

// CHECK-LABEL: func.func @causal_range(
// CHECK-SAME:      %[[Q0:[^:]*]]: index, %[[Q1:[^:]*]]: index, %[[SK:[^:]*]]: index)
// CHECK-NOT:     scf.while
// CHECK:         %[[NB:.*]] = arith.ceildivui %[[SK]], %c64
// CHECK:         %[[LAST:.*]] = arith.subi %[[SK]], %c1
// CHECK:         %[[HI:.*]] = arith.minsi %[[Q1]], %[[LAST]]
// CHECK:         %[[BLK:.*]] = arith.floordivsi %[[HI]], %c64
// CHECK:         %[[END:.*]] = arith.addi %[[BLK]], %c1
// CHECK:         %[[UP:.*]] = arith.maxsi %[[END]], %c0
// CHECK:         %[[UPPER:.*]] = arith.minsi %[[UP]], %[[NB]]
// CHECK:         return %c0{{.*}}, %[[UPPER]]
func.func @causal_range(%q0: index, %q1: index, %sk: index) -> (index, index) {
  %c0 = arith.constant 0 : index
  %lo, %hi = attn.mask_kv_range(%c0, %c0) q[%q0, %q1] kv_bound %sk block 64 {
  ^bb0(%bi: index, %hi_: index, %q: index, %kv: index):
    %p = arith.cmpi sge, %q, %kv : index
    attn.yield %p : i1
  }
  return %lo, %hi : index, index
}

// -----

// A sliding window bounds kv on both sides: kv >= q0 - 128, kv <= q1.

// CHECK-LABEL: func.func @window_range(
// CHECK-SAME:      %[[Q0:[^:]*]]: index, %[[Q1:[^:]*]]: index, %[[SK:[^:]*]]: index)
// CHECK-NOT:     scf.while
// CHECK:         %[[FROM:.*]] = arith.subi %[[Q0]], %c128
// CHECK:         arith.floordivsi %[[FROM]], %c64
// CHECK:         arith.minsi %[[Q1]]
func.func @window_range(%q0: index, %q1: index, %sk: index) -> (index, index) {
  %c0 = arith.constant 0 : index
  %lo, %hi = attn.mask_kv_range(%c0, %c0) q[%q0, %q1] kv_bound %sk block 64 {
  ^bb0(%bi: index, %hi_: index, %q: index, %kv: index):
    %c128 = arith.constant 128 : index
    %d = arith.subi %q, %kv : index
    %w = arith.cmpi sle, %d, %c128 : index
    %c = arith.cmpi sge, %q, %kv : index
    %m = arith.andi %c, %w : i1
    attn.yield %m : i1
  }
  return %lo, %hi : index, index
}

// -----

// A chunked mask (q / 48 == kv / 48) keeps kv in the chunks of the
// q-block's first and last rows: kv in [floor(q0 / 48) * 48,
// floor(q1 / 48) * 48 + 47], a closed form (no search).

// CHECK-LABEL: func.func @chunked_range(
// CHECK-SAME:      %[[Q0:[^:]*]]: index, %[[Q1:[^:]*]]: index, %[[SK:[^:]*]]: index)
// CHECK-NOT:     scf.while
// CHECK:         %[[M0:.*]] = arith.floordivsi %[[Q0]], %c48
// CHECK:         %[[FIRST:.*]] = arith.muli %[[M0]], %c48
// CHECK:         %[[M1:.*]] = arith.floordivsi %[[Q1]], %c48
// CHECK:         %[[LAST:.*]] = arith.muli %[[M1]], %c48
// CHECK:         %[[END:.*]] = arith.addi %[[LAST]], %c48
// CHECK:         %[[HI:.*]] = arith.addi %[[END]], %c-1
// CHECK:         arith.floordivsi %[[FIRST]], %c64
// CHECK:         arith.minsi %[[HI]]
// CHECK-NOT:     scf.while
// CHECK:         return
func.func @chunked_range(%q0: index, %q1: index, %sk: index) -> (index, index) {
  %c0 = arith.constant 0 : index
  %lo, %hi = attn.mask_kv_range(%c0, %c0) q[%q0, %q1] kv_bound %sk block 64 {
  ^bb0(%bi: index, %hi_: index, %q: index, %kv: index):
    %c48 = arith.constant 48 : index
    %a = arith.floordivsi %q, %c48 : index
    %b = arith.floordivsi %kv, %c48 : index
    %p = arith.cmpi eq, %a, %b : index
    attn.yield %p : i1
  }
  return %lo, %hi : index, index
}

// -----

// The same with the chunk a run-time parameter c (one value over the box):
// for c > 0 kv is in [floor(q0 / c) c, floor(q1 / c) c + c - 1], for c < 0
// in [floor(q0 / c) c + c + 1, floor(q1 / c) c] (a chunk floored the other
// way), chosen at run time; c = 0 (which launches refuse) is
// taken as 1, so the bounds never divide by zero.

// CHECK-LABEL: func.func @chunked_param_range(
// CHECK-SAME:      %[[Q0:[^:]*]]: index, %[[Q1:[^:]*]]: index, %[[SK:[^:]*]]: index, %[[C:[^:]*]]: index) -> (index, index)
// CHECK-NOT:     scf.while
// CHECK:         %[[ZERO:.*]] = arith.cmpi eq, %[[C]], %c0
// CHECK:         %[[D:.*]] = arith.select %[[ZERO]], %c1, %[[C]] : index
// CHECK:         %[[POS:.*]] = arith.cmpi sgt, %[[D]], %c0
// CHECK:         %[[M0:.*]] = arith.floordivsi %[[Q0]], %[[D]]
// CHECK:         %[[FIRST:.*]] = arith.muli %[[M0]], %[[D]]
// CHECK:         %[[M1:.*]] = arith.floordivsi %[[Q1]], %[[D]]
// CHECK:         %[[LAST:.*]] = arith.muli %[[M1]], %[[D]]
// CHECK:         %[[A:.*]] = arith.addi %[[FIRST]], %[[D]]
// CHECK:         %[[LONEG:.*]] = arith.addi %[[A]], %c1
// CHECK:         %[[B:.*]] = arith.addi %[[LAST]], %[[D]]
// CHECK:         %[[HIPOS:.*]] = arith.addi %[[B]], %c-1
// CHECK:         %[[LO:.*]] = arith.select %[[POS]], %[[FIRST]], %[[LONEG]]
// CHECK:         %[[HI:.*]] = arith.select %[[POS]], %[[HIPOS]], %[[LAST]]
// CHECK:         arith.floordivsi %[[LO]], %c64
// CHECK:         arith.minsi %[[HI]]
// CHECK-NOT:     scf.while
// CHECK:         return
func.func @chunked_param_range(%q0: index, %q1: index, %sk: index, %c: index) -> (index, index) {
  %c0 = arith.constant 0 : index
  %lo, %hi = attn.mask_kv_range(%c0, %c0) q[%q0, %q1] kv_bound %sk block 64 params(%c : index) {
  ^bb0(%bi: index, %hi_: index, %q: index, %kv: index, %ch: index):
    %a = arith.floordivsi %q, %ch : index
    %b = arith.floordivsi %kv, %ch : index
    %p = arith.cmpi eq, %a, %b : index
    attn.yield %p : i1
  }
  return %lo, %hi : index, index
}

// -----

// Block classification divides ranges by a run-time value too (one value
// over the box): q / c over [q0, q1] is [q0 / c, q1 / c] for c > 0 and the
// reverse for c < 0, the sign read at run time; c = 0 is taken as 1.

// CHECK-LABEL: func.func @chunked_param_class(
// CHECK-SAME:      %[[Q0:[^:]*]]: index, %[[Q1:[^:]*]]: index, %{{[^:]*}}: index, %{{[^:]*}}: index, %{{[^:]*}}: index, %[[C:[^:]*]]: index)
// CHECK:         %[[ZERO:.*]] = arith.cmpi eq, %[[C]], %c0
// CHECK:         %[[D:.*]] = arith.select %[[ZERO]], %c1{{.*}}, %[[C]] : index
// CHECK:         %[[POS:.*]] = arith.cmpi sgt, %[[D]], %c0
// CHECK:         %[[A:.*]] = arith.floordivsi %[[Q0]], %[[D]] : index
// CHECK:         %[[Z:.*]] = arith.floordivsi %[[Q1]], %[[D]] : index
// CHECK:         arith.select %[[POS]], %[[A]], %[[Z]] : index
// CHECK:         arith.select %[[POS]], %[[Z]], %[[A]] : index
// CHECK:         return
func.func @chunked_param_class(%q0: index, %q1: index, %k0: index, %k1: index, %sk: index, %c: index) -> (i1, i1) {
  %c0 = arith.constant 0 : index
  %any, %all = attn.mask_block_class(%c0, %c0) q[%q0, %q1] kv[%k0, %k1] kv_bound %sk params(%c : index) {
  ^bb0(%bi: index, %hi: index, %q: index, %kv: index, %ch: index):
    %a = arith.floordivsi %q, %ch : index
    %b = arith.floordivsi %kv, %ch : index
    %p = arith.cmpi eq, %a, %b : index
    attn.yield %p : i1
  }
  return %any, %all : i1, i1
}

// -----

// With bound_tensor_reads, a tensor read is bounded by the minimum and
// maximum of the entries its (clamped) indices reach over the block
// (attn.tensor_bounds over the index box; passes/lower-tensor-bounds.mlir
// shows its loop nest). ids[b, q] == ids[b, kv] may hold iff the two
// ranges overlap, and always holds iff both are the same single value.

// CHECK-LABEL: func.func @document_class(
// CHECK-SAME:      %[[IDS:[^:]*]]: memref<?x?xi32>, %[[B:[^:]*]]: index, %[[Q0:[^:]*]]: index, %[[Q1:[^:]*]]: index, %[[K0:[^:]*]]: index, %[[K1:[^:]*]]: index, %[[SK:[^:]*]]: index)
// CHECK:         %[[LAST:.*]] = arith.subi %[[SK]], %c1
// CHECK:         %[[KEND:.*]] = arith.minsi %[[K1]], %[[LAST]]
// CHECK:         %[[QMIN:.*]], %[[QMAX:.*]] = attn.tensor_bounds %[[IDS]][%[[B]], %[[Q0]]] to [%[[B]], %[[Q1]]] : memref<?x?xi32>
// CHECK:         %[[KMIN:.*]], %[[KMAX:.*]] = attn.tensor_bounds %[[IDS]][%[[B]], %[[K0]]] to [%[[B]], %[[KEND]]] : memref<?x?xi32>
// CHECK-DAG:     arith.cmpi sle, %[[KMIN]], %[[QMAX]]
// CHECK-DAG:     arith.cmpi sle, %[[QMIN]], %[[KMAX]]
// CHECK-DAG:     arith.cmpi eq, %[[QMIN]], %[[KMIN]]
// CHECK-DAG:     arith.cmpi eq, %[[KMIN]], %[[KMAX]]
// CHECK-DAG:     arith.cmpi eq, %[[QMIN]], %[[QMAX]]
// CHECK:         return
func.func @document_class(%ids: memref<?x?xi32>, %b: index, %q0: index, %q1: index, %k0: index, %k1: index, %sk: index) -> (i1, i1) {
  %any, %all = attn.mask_block_class(%b, %b) q[%q0, %q1] kv[%k0, %k1] kv_bound %sk params(%ids : memref<?x?xi32>) attributes {bound_tensor_reads} {
  ^bb0(%bi: index, %hi: index, %q: index, %kv: index, %t: memref<?x?xi32>):
    %x = memref.load %t[%bi, %q] : memref<?x?xi32>
    %y = memref.load %t[%bi, %kv] : memref<?x?xi32>
    %xi = arith.index_cast %x : i32 to index
    %yi = arith.index_cast %y : i32 to index
    %eq = arith.cmpi eq, %xi, %yi : index
    attn.yield %eq : i1
  }
  return %any, %all : i1, i1
}

// -----

// Without it a read may be anything: no loop, the block is "partial" unless
// out of range.

// CHECK-LABEL: func.func @document_class_unbounded(
// CHECK-NOT:     scf.for
// CHECK-NOT:     memref.load
// CHECK:         return
func.func @document_class_unbounded(%ids: memref<?x?xi32>, %b: index, %q0: index, %q1: index, %k0: index, %k1: index, %sk: index) -> (i1, i1) {
  %any, %all = attn.mask_block_class(%b, %b) q[%q0, %q1] kv[%k0, %k1] kv_bound %sk params(%ids : memref<?x?xi32>) {
  ^bb0(%bi: index, %hi: index, %q: index, %kv: index, %t: memref<?x?xi32>):
    %x = memref.load %t[%bi, %q] : memref<?x?xi32>
    %y = memref.load %t[%bi, %kv] : memref<?x?xi32>
    %xi = arith.index_cast %x : i32 to index
    %yi = arith.index_cast %y : i32 to index
    %eq = arith.cmpi eq, %xi, %yi : index
    attn.yield %eq : i1
  }
  return %any, %all : i1, i1
}
