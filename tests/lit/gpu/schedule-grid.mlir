// RUN: faopt-opt %s --split-input-file --attn-schedule-grid="l2-bytes=1048576 min-group-programs=64" | FileCheck %s

// The (q-block, batch * heads) grid becomes one linear index p in dispatch
// order: heads in groups whose K and V fit in half the L2 (here 512 KiB;
// one kv row of bf16 K and V with d = 64 is 256 bytes, so a head takes
// seqlen_k * 256 bytes, times heads / kv_heads) but at least 64 programs
// (ceil(64 / nq) heads) where a program's work follows its q-block (here
// its kv loop's bound, as under a causal mask), and within a group the
// q-blocks last to first with the group's heads fastest. Where the launch
// is persistent (attn.workers below the program count) such ordered groups
// are capped at whole row pairs of the static snake: g * nq a multiple of
// 2 * workers, g = 2W / gcd(2W, nq) (docs/performance.md item 83). What the runtime guarantees (at most 2^31 - 1
// programs) is stated on the values it bounds (attn.range), for
// attn-narrow-index-math: the (batch, head) row count, the program count,
// a group's span, and the indices the decomposition yields; sequence
// lengths are at most 2^29.

// CHECK-LABEL: func.func @k(
// CHECK:         memref.dim {attn.range = array<i64: 0, 536870912>} %arg0, %c2
// CHECK:         %[[NQ:.*]] = arith.ceildivui
// CHECK:         %[[NBH:.*]] = arith.muli %dim, %dim_0 {attn.range = array<i64: 0, 2147483647>}
// CHECK:         %[[TOTAL:.*]] = arith.muli %[[NQ]], %[[NBH]] {attn.range = array<i64: 0, 2147483647>} : index
// CHECK:         %[[SK:.*]] = memref.dim {attn.range = array<i64: 0, 536870912>} %arg1, %{{.*}}
// CHECK:         %[[HQ:.*]] = memref.dim %arg0, %{{.*}}
// CHECK:         %[[HKV:.*]] = memref.dim %arg1, %{{.*}}
// CHECK:         %[[HKV1:.*]] = arith.maxsi %[[HKV]], %[[ONE:.*]] : index
// CHECK:         %[[RATIO:.*]] = arith.divui %[[HQ]], %[[HKV1]]
// CHECK:         %[[ROW:.*]] = arith.constant 256 : index
// CHECK:         %[[SK1:.*]] = arith.maxsi %[[SK]], %[[ONE]]
// CHECK:         %[[PER:.*]] = arith.muli %[[SK1]], %[[ROW]]
// CHECK:         %[[HALF:.*]] = arith.constant 524288 : index
// CHECK:         %[[BUDGET:.*]] = arith.muli %[[HALF]], %[[RATIO]]
// CHECK:         %[[FIT:.*]] = arith.divui %[[BUDGET]], %[[PER]]
// CHECK:         %[[MIN:.*]] = arith.constant 64 : index
// CHECK:         %[[NQ1:.*]] = arith.maxsi %[[NQ]], %[[ONE]]
// CHECK:         %[[WAVES:.*]] = arith.ceildivui %[[MIN]], %[[NQ1]]
// CHECK:         %[[G0:.*]] = arith.maxsi %[[FIT]], %[[WAVES]]
// CHECK:         %[[G1:.*]] = arith.maxsi %[[G0]], %[[ONE]]
// CHECK:         %[[G2:.*]] = arith.minsi %[[G1]], %[[NBH]]
// CHECK:         %[[ZERO:.*]] = arith.constant 0 : index
// CHECK:         %[[ONE2:.*]] = arith.constant 1 : index
// CHECK:         %[[TWO:.*]] = arith.constant 2 : index
// CHECK:         %[[W:.*]] = attn.workers
// CHECK:         %[[PERSISTENT:.*]] = arith.cmpi ult, %[[W]], %[[TOTAL]]
// CHECK:         %[[CAP:.*]] = scf.if %[[PERSISTENT]] -> (index) {
// CHECK:           %[[W2:.*]] = arith.muli %[[W]], %[[TWO]]
// CHECK:           %[[GCD:.*]]:2 = scf.while (%[[A:.*]] = %[[W2]], %[[B:.*]] = %[[NQ1]])
// CHECK:             %[[MORE:.*]] = arith.cmpi ne, %[[B]], %[[ZERO]]
// CHECK:             scf.condition(%[[MORE]]) %[[A]], %[[B]]
// CHECK:           } do {
// CHECK:           ^bb0(%[[A2:.*]]: index, %[[B2:.*]]: index):
// CHECK:             %[[REM:.*]] = arith.remui %[[A2]], %[[B2]]
// CHECK:             scf.yield %[[B2]], %[[REM]]
// CHECK:           %[[HEADS:.*]] = arith.divui %[[W2]], %[[GCD]]#0
// CHECK:           %[[HEADS1:.*]] = arith.maxsi %[[HEADS]], %[[ONE2]]
// CHECK:           scf.yield %[[HEADS1]]
// CHECK:         } else {
// CHECK:           scf.yield %[[NBH]]
// CHECK:         %[[G:.*]] = arith.minsi %[[G2]], %[[CAP]] {attn.range = array<i64: 0, 2147483647>}
// CHECK:         %[[SPAN:.*]] = arith.muli %[[G]], %[[NQ]] {attn.range = array<i64: 0, 2147483647>}
// CHECK:         scf.forall (%[[P:.*]]) in (%[[TOTAL]]) {
// CHECK:           %[[GROUP:.*]] = arith.divui %[[P]], %[[SPAN]]
// CHECK:           %[[R:.*]] = arith.remui %[[P]], %[[SPAN]]
// CHECK:           %[[FIRST:.*]] = arith.muli %[[GROUP]], %[[G]] {attn.range = array<i64: 0, 2147483646>}
// CHECK:           %[[LEFT:.*]] = arith.subi %[[NBH]], %[[FIRST]] {attn.range = array<i64: 1, 2147483647>}
// CHECK:           %[[SIZE:.*]] = arith.minsi %[[G]], %[[LEFT]]
// CHECK:           %[[QI:.*]] = arith.divui %[[R]], %[[SIZE]]
// CHECK:           %[[LAST:.*]] = arith.subi %[[NQ]], %[[ONE]]
// CHECK:           %[[QB:.*]] = arith.subi %[[LAST]], %[[QI]] {attn.range = array<i64: 0, 2147483646>}
// CHECK:           %[[HI:.*]] = arith.remui %[[R]], %[[SIZE]]
// CHECK:           %[[BH:.*]] = arith.addi %[[FIRST]], %[[HI]] {attn.range = array<i64: 0, 2147483646>}
// CHECK:           %[[Q0:.*]] = arith.muli %[[QB]], %c32
// CHECK:           attn.tile_load %arg0[%c0, %[[BH]], %[[Q0]]]
// CHECK:         } {attn.grid}

func.func @k(%q: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %k: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %v: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %o: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>) attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 32, block_kv = 32, warps = 2, stages = 1>} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c32 = arith.constant 32 : index
  %b = memref.dim %q, %c0 : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
  %h = memref.dim %q, %c1 : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
  %sq = memref.dim %q, %c2 : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
  %nq = arith.ceildivui %sq, %c32 : index
  %nbh = arith.muli %b, %h : index
  scf.forall (%qb, %bh) in (%nq, %nbh) {
    %q0 = arith.muli %qb, %c32 : index
    %t = attn.tile_load %q[%c0, %bh, %q0] bound %sq : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>> -> tensor<32x64xbf16>
    %nkv = arith.addi %qb, %c1 : index
    scf.for %j = %c0 to %nkv step %c1 {
    }
    %f = arith.extf %t : tensor<32x64xbf16> to tensor<32x64xf32>
    %ob = arith.truncf %f : tensor<32x64xf32> to tensor<32x64xbf16>
    attn.tile_store %ob, %o[%c0, %bh, %q0] bound %sq : tensor<32x64xbf16>, memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
  } {attn.grid}
  return
}

// -----

// Not a kernel (no attn.kernel): left alone.
// CHECK-LABEL: func.func @not_a_kernel(
// CHECK:         scf.forall (%{{.*}}, %{{.*}}) in (%{{.*}}, %{{.*}})
func.func @not_a_kernel(%n: index) {
  scf.forall (%i, %j) in (%n, %n) {
  } {attn.grid}
  return
}

// -----

// A kernel driven by run-time kv-block lists (an argument with
// attn.block_lists): the group is the L2 fit alone, with no floor of
// min-group-programs (its programs' lengths come from the data; the floor's
// one group of all heads cost a random block layout its L2 reuse).
// CHECK-LABEL: func.func @lists(
// CHECK-NOT:     arith.constant 64 : index
// CHECK:         %[[LHALF:.*]] = arith.constant 524288 : index
// CHECK:         %[[LBUDGET:.*]] = arith.muli %[[LHALF]]
// CHECK:         %[[LFIT:.*]] = arith.divui %[[LBUDGET]]
// CHECK-NOT:     arith.constant 64 : index
// CHECK:         %[[LNQ1:.*]] = arith.maxsi %{{.*}}, %{{.*}}
// CHECK:         %[[LWAVES:.*]] = arith.ceildivui %c1{{(_[0-9]+)?}}, %[[LNQ1]]
// CHECK:         %[[LG0:.*]] = arith.maxsi %[[LFIT]], %[[LWAVES]]
// CHECK-NOT:     attn.workers
// CHECK:         scf.forall
func.func @lists(%q: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %k: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %v: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %o: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = false, per_head = false}}) attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 32, block_kv = 32, warps = 2, stages = 1>} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c32 = arith.constant 32 : index
  %b = memref.dim %q, %c0 : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
  %h = memref.dim %q, %c1 : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
  %sq = memref.dim %q, %c2 : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
  %nq = arith.ceildivui %sq, %c32 : index
  %nbh = arith.muli %b, %h : index
  scf.forall (%qb, %bh) in (%nq, %nbh) {
    %q0 = arith.muli %qb, %c32 : index
    %t = attn.tile_load %q[%c0, %bh, %q0] bound %sq : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>> -> tensor<32x64xbf16>
    attn.tile_store %t, %o[%c0, %bh, %q0] bound %sq : tensor<32x64xbf16>, memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
  } {attn.grid}
  return
}

// -----

// Lists whose mask bounds kv by q (kv_range_follows_q, from
// attn-block-lists: causal documents) keep the floor: their longest
// programs start first. Persistent, their programs are handed out at run
// time, not by the static snake: no cap on the group.
// CHECK-LABEL: func.func @ordered_lists(
// CHECK:         %[[OMIN:.*]] = arith.constant 64 : index
// CHECK:         arith.ceildivui %[[OMIN]], %{{.*}}
// CHECK-NOT:     attn.workers
// CHECK:         scf.forall
func.func @ordered_lists(%q: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %k: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %v: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %o: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %lists: memref<?x?x?x?xi32> {attn.block_lists = {kv_range_follows_q, per_batch = true, per_head = false}}) attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 32, block_kv = 32, warps = 2, stages = 1>} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c32 = arith.constant 32 : index
  %b = memref.dim %q, %c0 : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
  %h = memref.dim %q, %c1 : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
  %sq = memref.dim %q, %c2 : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
  %nq = arith.ceildivui %sq, %c32 : index
  %nbh = arith.muli %b, %h : index
  scf.forall (%qb, %bh) in (%nq, %nbh) {
    %q0 = arith.muli %qb, %c32 : index
    %t = attn.tile_load %q[%c0, %bh, %q0] bound %sq : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>> -> tensor<32x64xbf16>
    attn.tile_store %t, %o[%c0, %bh, %q0] bound %sq : tensor<32x64xbf16>, memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
  } {attn.grid}
  return
}

// -----

// Every program does the same work (no mask, or one that does not bound kv
// by q): its kv loop's bounds and the branches around its products do not
// read the q-block (here a branch on the kv-block and the (batch, head)
// index), so there is no longest to start first, and the group is the L2
// fit alone: with the floor, the CTAs running at one time would each read
// another head's K and V (d128 dense at seqlen 1024 on the H200: 28% L2
// hits, docs/performance.md item 82).
// CHECK-LABEL: func.func @same_work(
// CHECK-NOT:     arith.constant 64 : index
// CHECK:         arith.constant 524288 : index
// CHECK:         arith.divui
// CHECK-NOT:     arith.constant 64 : index
// CHECK:         %[[SNQ1:.*]] = arith.maxsi %{{.*}}, %{{.*}}
// CHECK:         arith.ceildivui %c1{{(_[0-9]+)?}}, %[[SNQ1]]
// CHECK-NOT:     attn.workers
// CHECK:         scf.forall
func.func @same_work(%q: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %k: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %v: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %o: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>) attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 32, block_kv = 32, warps = 2, stages = 1>} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c32 = arith.constant 32 : index
  %b = memref.dim %q, %c0 : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
  %h = memref.dim %q, %c1 : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
  %sq = memref.dim %q, %c2 : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
  %sk = memref.dim %k, %c2 : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
  %nq = arith.ceildivui %sq, %c32 : index
  %nkv = arith.ceildivui %sk, %c32 : index
  %nbh = arith.muli %b, %h : index
  scf.forall (%qb, %bh) in (%nq, %nbh) {
    %q0 = arith.muli %qb, %c32 : index
    %t = attn.tile_load %q[%c0, %bh, %q0] bound %sq : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>> -> tensor<32x64xbf16>
    scf.for %j = %c0 to %nkv step %c1 {
      %kv0 = arith.muli %j, %c32 : index
      %in = arith.cmpi ult, %kv0, %sk : index
      %odd = arith.cmpi ult, %j, %bh : index
      %go = arith.andi %in, %odd : i1
      scf.if %go {
        %kt = attn.tile_load %k[%c0, %bh, %kv0] bound %sk : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>> -> tensor<32x64xbf16>
        %s = attn.tile_matmul %t, %kt {transpose_rhs} : tensor<32x64xbf16>, tensor<32x64xbf16> -> tensor<32x32xf32>
      }
    }
    attn.tile_store %t, %o[%c0, %bh, %q0] bound %sq : tensor<32x64xbf16>, memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
  } {attn.grid}
  return
}

// -----

// A branch around a product that reads the q-block (a causal block test
// in a kv loop of fixed length) makes the work follow q: the floor stays.
// CHECK-LABEL: func.func @branch_follows_q(
// CHECK:         %[[BMIN:.*]] = arith.constant 64 : index
// CHECK:         arith.ceildivui %[[BMIN]], %{{.*}}
func.func @branch_follows_q(%q: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %k: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %v: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %o: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>) attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 32, block_kv = 32, warps = 2, stages = 1>} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c32 = arith.constant 32 : index
  %b = memref.dim %q, %c0 : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
  %h = memref.dim %q, %c1 : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
  %sq = memref.dim %q, %c2 : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
  %sk = memref.dim %k, %c2 : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
  %nq = arith.ceildivui %sq, %c32 : index
  %nkv = arith.ceildivui %sk, %c32 : index
  %nbh = arith.muli %b, %h : index
  scf.forall (%qb, %bh) in (%nq, %nbh) {
    %q0 = arith.muli %qb, %c32 : index
    %t = attn.tile_load %q[%c0, %bh, %q0] bound %sq : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>> -> tensor<32x64xbf16>
    scf.for %j = %c0 to %nkv step %c1 {
      %kv0 = arith.muli %j, %c32 : index
      %go = arith.cmpi ule, %kv0, %q0 : index
      scf.if %go {
        %kt = attn.tile_load %k[%c0, %bh, %kv0] bound %sk : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>> -> tensor<32x64xbf16>
        %s = attn.tile_matmul %t, %kt {transpose_rhs} : tensor<32x64xbf16>, tensor<32x64xbf16> -> tensor<32x32xf32>
      }
    }
    attn.tile_store %t, %o[%c0, %bh, %q0] bound %sq : tensor<32x64xbf16>, memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
  } {attn.grid}
  return
}

// -----

// Chunks: the kv loop starts at the chunk's first block, (q0 floordiv
// chunk) * chunk, so programs' lengths rise and fall every chunk instead of
// growing with the q-block. Groups of one head: no L2 fit, no floor, no
// snake cap; a group's span is nq (docs/performance.md items 99, 100).
// CHECK-LABEL: func.func @chunk_lengths(
// CHECK-NOT:     arith.constant 524288 : index
// CHECK-NOT:     attn.workers
// CHECK:         %[[CNQ:.*]] = arith.ceildivui
// CHECK:         %[[CONE:.*]] = arith.constant 1 : index
// CHECK:         %[[CSPAN:.*]] = arith.muli %[[CONE]], %[[CNQ]]
// CHECK:         scf.forall (%[[CP:.*]]) in
// CHECK:           arith.divui %[[CP]], %[[CSPAN]]
func.func @chunk_lengths(%q: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %k: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %v: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %o: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>) attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 32, block_kv = 32, warps = 2, stages = 1>} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c32 = arith.constant 32 : index
  %c128 = arith.constant 128 : index
  %b = memref.dim %q, %c0 : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
  %h = memref.dim %q, %c1 : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
  %sq = memref.dim %q, %c2 : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
  %nq = arith.ceildivui %sq, %c32 : index
  %nbh = arith.muli %b, %h : index
  scf.forall (%qb, %bh) in (%nq, %nbh) {
    %q0 = arith.muli %qb, %c32 : index
    %t = attn.tile_load %q[%c0, %bh, %q0] bound %sq : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>> -> tensor<32x64xbf16>
    %chunk = arith.floordivsi %q0, %c128 : index
    %start = arith.muli %chunk, %c128 : index
    %lo = arith.floordivsi %start, %c32 : index
    %hi = arith.addi %qb, %c1 : index
    scf.for %j = %lo to %hi step %c1 {
    }
    attn.tile_store %t, %o[%c0, %bh, %q0] bound %sq : tensor<32x64xbf16>, memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
  } {attn.grid}
  return
}

// -----

// The same with the chunk a launch argument (a run-time parameter):
// rounded down by the same value.
// CHECK-LABEL: func.func @runtime_chunk_lengths(
// CHECK-NOT:     attn.workers
// CHECK:         %[[RNQ:.*]] = arith.ceildivui
// CHECK:         %[[RONE:.*]] = arith.constant 1 : index
// CHECK:         arith.muli %[[RONE]], %[[RNQ]]
func.func @runtime_chunk_lengths(%q: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %k: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %v: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %o: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %size: index) attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 32, block_kv = 32, warps = 2, stages = 1>} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c32 = arith.constant 32 : index
  %b = memref.dim %q, %c0 : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
  %h = memref.dim %q, %c1 : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
  %sq = memref.dim %q, %c2 : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
  %nq = arith.ceildivui %sq, %c32 : index
  %nbh = arith.muli %b, %h : index
  scf.forall (%qb, %bh) in (%nq, %nbh) {
    %q0 = arith.muli %qb, %c32 : index
    %t = attn.tile_load %q[%c0, %bh, %q0] bound %sq : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>> -> tensor<32x64xbf16>
    %chunk = arith.floordivsi %q0, %size : index
    %start = arith.muli %size, %chunk : index
    %lo = arith.floordivsi %start, %c32 : index
    %hi = arith.addi %qb, %c1 : index
    scf.for %j = %lo to %hi step %c1 {
    }
    attn.tile_store %t, %o[%c0, %bh, %q0] bound %sq : tensor<32x64xbf16>, memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
  } {attn.grid}
  return
}

// -----

// A band (a sliding window): the kv loop's start moves with the q-block
// one block at a time and its lengths stay the same; no chunk start, so
// the causal floor and the snake cap stay (its short first q-blocks then
// come last in the order, where the snake's partial last row wants them).
// CHECK-LABEL: func.func @band_lengths(
// CHECK:         %[[WMIN:.*]] = arith.constant 64 : index
// CHECK:         arith.ceildivui %[[WMIN]], %{{.*}}
// CHECK:         attn.workers
func.func @band_lengths(%q: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %k: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %v: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %o: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>) attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 32, block_kv = 32, warps = 2, stages = 1>} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c32 = arith.constant 32 : index
  %c96 = arith.constant 96 : index
  %b = memref.dim %q, %c0 : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
  %h = memref.dim %q, %c1 : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
  %sq = memref.dim %q, %c2 : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
  %nq = arith.ceildivui %sq, %c32 : index
  %nbh = arith.muli %b, %h : index
  scf.forall (%qb, %bh) in (%nq, %nbh) {
    %q0 = arith.muli %qb, %c32 : index
    %t = attn.tile_load %q[%c0, %bh, %q0] bound %sq : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>> -> tensor<32x64xbf16>
    %first = arith.subi %q0, %c96 : index
    %blk = arith.floordivsi %first, %c32 : index
    %lo = arith.maxsi %blk, %c0 : index
    %hi = arith.addi %qb, %c1 : index
    scf.for %j = %lo to %hi step %c1 {
    }
    attn.tile_store %t, %o[%c0, %bh, %q0] bound %sq : tensor<32x64xbf16>, memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
  } {attn.grid}
  return
}
