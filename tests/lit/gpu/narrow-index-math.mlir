// RUN: faopt-opt %s --attn-narrow-index-math --split-input-file --allow-unregistered-dialect | FileCheck %s

// A sliding window mask: positions and the sequence lengths are bounded by
// their attn.range, so q + sk - sq, its difference with kv and their
// compares move to i32; the window `w` is a parameter (any int64): the
// difference lies strictly inside the i32 range, so comparing it with w
// saturated to i32 gives the same answer.

// CHECK-LABEL: func.func private @window(
// CHECK-SAME:      %[[S:[^:]*]]: f32, %[[B:[^:]*]]: index {{.*}}, %[[H:[^:]*]]: index {{.*}}, %[[Q:[^:]*]]: index {{.*}}, %[[KV:[^:]*]]: index {{.*}}, %[[SK:[^:]*]]: index {{.*}}, %[[SQ:[^:]*]]: index {{.*}}, %[[W:[^:]*]]: index)
// CHECK:         %[[WLO:.*]] = arith.maxsi %[[W]], %c-2147483648 : index
// CHECK:         %[[WSAT:.*]] = arith.minsi %[[WLO]], %c2147483647 : index
// CHECK:         %[[W32:.*]] = arith.index_cast %[[WSAT]] : index to i32
// CHECK-DAG:     %[[Q32:.*]] = arith.index_cast %[[Q]] : index to i32
// CHECK-DAG:     %[[KV32:.*]] = arith.index_cast %[[KV]] : index to i32
// CHECK-DAG:     %[[SK32:.*]] = arith.index_cast %[[SK]] : index to i32
// CHECK-DAG:     %[[SQ32:.*]] = arith.index_cast %[[SQ]] : index to i32
// CHECK:         %[[R1:.*]] = arith.addi %[[Q32]], %[[SK32]] : i32
// CHECK:         %[[R:.*]] = arith.subi %[[R1]], %[[SQ32]] : i32
// CHECK:         %[[CAUSAL:.*]] = arith.cmpi sge, %[[R]], %[[KV32]] : i32
// CHECK:         %[[D32:.*]] = arith.subi %[[R]], %[[KV32]] : i32
// CHECK:         %[[IN:.*]] = arith.cmpi sle, %[[D32]], %[[W32]] : i32
// CHECK:         %[[BOUND:.*]] = arith.cmpi slt, %[[KV32]], %[[SK32]] : i32
// CHECK-NOT:     arith.addi {{.*}} : index
func.func private @window(%s: f32, %b: index {attn.range = array<i64: 0, 2147483647>},
                          %h: index {attn.range = array<i64: 0, 2147483647>},
                          %q: index {attn.range = array<i64: 0, 536871936>},
                          %kv: index {attn.range = array<i64: 0, 536871936>},
                          %sk: index {attn.range = array<i64: 0, 536870912>},
                          %sq: index {attn.range = array<i64: 0, 536870912>},
                          %w: index) -> f32 attributes {attn.device_function} {
  %ninf = arith.constant 0xFF800000 : f32
  %r1 = arith.addi %q, %sk : index
  %r = arith.subi %r1, %sq : index
  %causal = arith.cmpi sge, %r, %kv : index
  %d = arith.subi %r, %kv : index
  %in = arith.cmpi sle, %d, %w : index
  %bound = arith.cmpi slt, %kv, %sk : index
  %m1 = arith.andi %causal, %in : i1
  %m = arith.andi %m1, %bound : i1
  %out = arith.select %m, %s, %ninf : f32
  return %out : f32
}

// -----

// Document ids: clamped indices (min/max with a tensor size minus one) are
// small; the loaded ids are i32 already; the indices of the loads are
// widened back for memref.load. A product of two positions can exceed 32
// bits and stays 64-bit.

// CHECK-LABEL: func.func private @document(
// CHECK:         %[[D:.*]] = memref.dim %{{.*}}, %c1
// CHECK:         %[[D32:.*]] = arith.index_cast %[[D]] : index to i32
// CHECK:         %[[LAST:.*]] = arith.subi %[[D32]], %c1_i32 : i32
// CHECK:         %[[MIN:.*]] = arith.minsi %{{.*}}, %[[LAST]] : i32
// CHECK:         %[[MAX:.*]] = arith.maxsi %[[MIN]], %c0_i32 : i32
// CHECK:         %[[IDX:.*]] = arith.index_cast %[[MAX]] : i32 to index
// CHECK:         memref.load %{{.*}}[%{{.*}}, %[[IDX]]]
// CHECK:         arith.muli %{{.*}}, %{{.*}} : index
func.func private @document(%s: f32, %b: index {attn.range = array<i64: 0, 2147483647>},
                            %h: index {attn.range = array<i64: 0, 2147483647>},
                            %q: index {attn.range = array<i64: 0, 536871936>},
                            %kv: index {attn.range = array<i64: 0, 536871936>},
                            %ids: memref<?x?xi32>) -> f32 attributes {attn.device_function} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %ninf = arith.constant 0xFF800000 : f32
  %d = memref.dim %ids, %c1 : memref<?x?xi32>
  %last = arith.subi %d, %c1 : index
  %lo = arith.minsi %q, %last : index
  %qi = arith.maxsi %lo, %c0 : index
  %x = memref.load %ids[%c0, %qi] : memref<?x?xi32>
  %y = memref.load %ids[%c0, %c0] : memref<?x?xi32>
  %same = arith.cmpi eq, %x, %y : i32
  %p = arith.muli %q, %kv : index
  %big = arith.cmpi sgt, %p, %c0 : index
  %m = arith.andi %same, %big : i1
  %out = arith.select %m, %s, %ninf : f32
  return %out : f32
}

// -----

// Chunked / strided masks: floor division and remainder by constants, a
// select between bounded values, all fit; a ceil division of a parameter
// does not (unbounded), and neither does its compare with a position...
// which compares with the quotient saturated to i32 instead.

// CHECK-LABEL: func.func private @chunked(
// CHECK-SAME:      %{{[^:]*}}: f32, %{{[^:]*}}: index {{.*}}, %{{[^:]*}}: index {{.*}}, %[[Q:[^:]*]]: index {{.*}}, %[[KV:[^:]*]]: index {{.*}}, %[[P:[^:]*]]: index, %{{[^:]*}}: i1)
// CHECK-DAG:     %[[Q32:.*]] = arith.index_cast %[[Q]] : index to i32
// CHECK-DAG:     %[[KV32:.*]] = arith.index_cast %[[KV]] : index to i32
// CHECK:         %[[QC:.*]] = arith.floordivsi %[[Q32]], %c128_i32 : i32
// CHECK:         %[[KC:.*]] = arith.floordivsi %[[KV32]], %c128_i32 : i32
// CHECK:         arith.cmpi eq, %[[QC]], %[[KC]] : i32
// CHECK:         %[[R:.*]] = arith.remsi %[[KV32]], %c3_i32 : i32
// CHECK:         %[[SEL:.*]] = arith.select %{{.*}}, %[[R]], %[[QC]] : i32
// CHECK:         %[[HALF:.*]] = arith.ceildivsi %[[P]], %c2 : index
// CHECK:         %[[LO:.*]] = arith.maxsi %[[HALF]], %c-2147483648 : index
// CHECK:         %[[SAT:.*]] = arith.minsi %[[LO]], %c2147483647 : index
// CHECK:         %[[SAT32:.*]] = arith.index_cast %[[SAT]] : index to i32
// CHECK:         arith.cmpi slt, %[[SEL]], %[[SAT32]] : i32
func.func private @chunked(%s: f32, %b: index {attn.range = array<i64: 0, 2147483647>},
                           %h: index {attn.range = array<i64: 0, 2147483647>},
                           %q: index {attn.range = array<i64: 0, 536871936>},
                           %kv: index {attn.range = array<i64: 0, 536871936>},
                           %p: index, %c: i1) -> f32 attributes {attn.device_function} {
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c128 = arith.constant 128 : index
  %ninf = arith.constant 0xFF800000 : f32
  %qc = arith.floordivsi %q, %c128 : index
  %kc = arith.floordivsi %kv, %c128 : index
  %same = arith.cmpi eq, %qc, %kc : index
  %r = arith.remsi %kv, %c3 : index
  %sel = arith.select %c, %r, %qc : index
  %half = arith.ceildivsi %p, %c2 : index
  %lt = arith.cmpi slt, %sel, %half : index
  %m = arith.andi %same, %lt : i1
  %out = arith.select %m, %s, %ninf : f32
  return %out : f32
}

// -----

// A per-row bound of attn-isolate-kv-bounds has a range, but one wider than
// i32 (a clamped parameter in it): kv lies strictly inside i32, so the
// compare uses the bound saturated to i32.

// CHECK-LABEL: func.func private @wide_bound(
// CHECK-SAME:      %{{[^:]*}}: f32, %[[Q:[^:]*]]: index {{.*}}, %[[KV:[^:]*]]: index {{.*}}, %[[W:[^:]*]]: index)
// CHECK-DAG:     %[[LOWER:.*]] = arith.subi %{{.*}}, %{{.*}} : index
// CHECK-DAG:     %[[LO:.*]] = arith.maxsi %[[LOWER]], %c-2147483648 : index
// CHECK-DAG:     %[[SAT:.*]] = arith.minsi %[[LO]], %c2147483647 : index
// CHECK-DAG:     %[[SAT32:.*]] = arith.index_cast %[[SAT]] : index to i32
// CHECK-DAG:     %[[KV32:.*]] = arith.index_cast %[[KV]] : index to i32
// CHECK:         arith.cmpi sge, %[[KV32]], %[[SAT32]] : i32
func.func private @wide_bound(%s: f32, %q: index {attn.range = array<i64: 0, 536871936>},
                              %kv: index {attn.kv_position, attn.range = array<i64: 0, 536871936>},
                              %w: index) -> f32 attributes {attn.device_function} {
  %ninf = arith.constant 0xFF800000 : f32
  %lo = arith.constant -2199023255552 : index
  %hi = arith.constant 2199023255552 : index
  %w1 = arith.maxsi %w, %lo : index
  %wc = arith.minsi %w1, %hi : index
  %lower = arith.subi %q, %wc : index
  %in = arith.cmpi sge, %kv, %lower : index
  %out = arith.select %in, %s, %ninf : f32
  return %out : f32
}

// -----

// Kernels: the program decomposition. The grid's extent and the facts
// attn-schedule-grid states (attn.range) bound the program index and the
// (batch, head) row; memref.dim bounds the sizes. The unsigned divisions of
// non-negative values move to i32 (faopt::udiv32 in CUDA, not the 64-bit
// subroutine); a difference that may be negative keeps its unsigned
// division 64-bit; a product of two sizes (no fact) stays 64-bit; a clamp
// of a parameter into [0, blocks] is small whatever the parameter (blocks
// of 128 rows of a size below 2^31: times 64 fits, times 128 would not).

// CHECK-LABEL: func.func @kernel(
// CHECK-SAME:      %[[Q:[^:]*]]: memref{{.*}}, %[[W:[^:]*]]: index)
// CHECK:         %[[H:.*]] = memref.dim %[[Q]], %c1
// CHECK:         %[[H32:.*]] = arith.index_cast %[[H]] : index to i32
// CHECK:         %[[WIDE:.*]] = arith.muli %{{.*}}, %{{.*}} : index
// CHECK:         scf.forall (%[[P:.*]]) in
// CHECK:           %[[P32:.*]] = arith.index_cast %[[P]] : index to i32
// CHECK:           %[[B:.*]] = arith.divui %[[BH32:.*]], %[[H32]] : i32
// CHECK:           %[[HEAD:.*]] = arith.remui %[[BH32]], %[[H32]] : i32
// CHECK:           %[[D:.*]] = arith.subi %[[HEAD]], %[[B]] : i32
// CHECK:           %[[DW:.*]] = arith.index_cast %[[D]] : i32 to index
// CHECK:           arith.divui %[[DW]], %c2 : index
// CHECK:           %[[LO:.*]] = arith.maxsi %[[W]], %c0 : index
// CHECK:           %[[CLAMP:.*]] = arith.minsi %[[LO]], %{{.*}} : index
// CHECK:           %[[C32:.*]] = arith.index_cast %[[CLAMP]] : index to i32
// CHECK:           arith.muli %[[C32]], %c64_i32 : i32
func.func @kernel(%q: memref<?x?x?x64xbf16>, %w: index) attributes {attn.kernel} {
  %c64 = arith.constant 64 : index
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c128 = arith.constant 128 : index
  %b = memref.dim %q, %c0 : memref<?x?x?x64xbf16>
  %h = memref.dim %q, %c1 : memref<?x?x?x64xbf16>
  %s = memref.dim %q, %c2 : memref<?x?x?x64xbf16>
  %nbh = arith.muli %b, %h {attn.range = array<i64: 0, 2147483647>} : index
  %wide = arith.muli %b, %s : index
  %nq = arith.ceildivui %s, %c128 : index
  scf.forall (%p) in (%nbh) {
    %bh = arith.remui %p, %nbh {attn.range = array<i64: 0, 2147483646>} : index
    %bi = arith.divui %bh, %h : index
    %hi = arith.remui %bh, %h : index
    %d = arith.subi %hi, %bi : index
    %half = arith.divui %d, %c2 : index
    %blk = arith.maxsi %w, %c0 : index
    %blk1 = arith.minsi %blk, %nq : index
    %row = arith.muli %blk1, %c64 : index
    "test.use"(%wide, %half, %row) : (index, index, index) -> ()
  } {attn.grid}
  return
}

// -----

// List builders too (attn.block_list_builder), on the launch facts
// attn-outline-tile-maps states for them: the row decomposition and the
// q-block's first position move to i32.

// CHECK-LABEL: func.func @b_block_lists(
// CHECK:         scf.forall (%[[P:.*]]) in
// CHECK:           %[[P32:.*]] = arith.index_cast %[[P]] : index to i32
// CHECK:           %[[QB:.*]] = arith.remui %[[P32]], %{{.*}} : i32
// CHECK:           arith.divui %[[P32]], %{{.*}} : i32
// CHECK:           arith.muli %[[QB]], %c128_i32 : i32
func.func @b_block_lists(%k: memref<?x?x?x64xbf16>, %lists: memref<?x?x?x?xi32>) attributes {attn.block_list_builder} {
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c128 = arith.constant 128 : index
  %nqb = memref.dim {attn.range = array<i64: 0, 4194304>} %lists, %c2 : memref<?x?x?x?xi32>
  %nh = memref.dim %lists, %c1 : memref<?x?x?x?xi32>
  %rows = arith.muli %nqb, %nh {attn.range = array<i64: 0, 2147483647>} : index
  scf.forall (%p) in (%rows) {
    %qb = arith.remui %p, %nqb : index
    %h = arith.divui %p, %nqb : index
    %first = arith.muli %qb, %c128 : index
    "test.use"(%h, %first) : (index, index) -> ()
  } {attn.grid}
  return
}

// -----

// A division of a bounded value by a run-time one (a chunk given at
// launch): the divisor is clamped to +-(max |dividend| + 1) = +-1025, past
// which the quotient depends on the signs alone, and the division moves to
// i32. A dividend that may reach 2^31 keeps its 64-bit division.

// CHECK-LABEL: func.func private @runtime_divisor(
// CHECK-SAME:      %[[Q:[^:]*]]: index {{.*}}, %[[W:[^:]*]]: index {{.*}}, %[[D:[^:]*]]: index)
// CHECK:         %[[Q32:.*]] = arith.index_cast %[[Q]] : index to i32
// CHECK:         %[[LO:.*]] = arith.maxsi %[[D]], %c-1025 : index
// CHECK:         %[[DC:.*]] = arith.minsi %[[LO]], %c1025 : index
// CHECK:         %[[D32:.*]] = arith.index_cast %[[DC]] : index to i32
// CHECK:         arith.floordivsi %[[Q32]], %[[D32]] : i32
// CHECK:         arith.floordivsi %[[W]], %[[D]] : index
func.func private @runtime_divisor(%q: index {attn.range = array<i64: 0, 1024>},
                                   %wide: index {attn.range = array<i64: 0, 2147483647>},
                                   %d: index) -> (index, index) attributes {attn.device_function} {
  %x = arith.floordivsi %q, %d : index
  %y = arith.floordivsi %wide, %d : index
  return %x, %y : index, index
}
