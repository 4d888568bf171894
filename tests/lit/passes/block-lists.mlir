// RUN: faopt-opt %s --attn-block-lists --canonicalize --split-input-file --allow-unregistered-dialect | FileCheck %s

// A document mask (ids[b, q] == ids[b, kv]): the classification reads a
// tensor, so the kernel gets a lists argument (rows per batch, not per head:
// the mask does not read h), its kv loop walks a list row, and a builder
// function classifies each (q-block, kv-block) with the reads bounded.

// CHECK-LABEL: func.func @doc(
// CHECK-SAME:      %[[LISTS:[^:]*]]: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = false}})
// CHECK:         scf.forall (%[[QB:.*]], %[[BH:.*]]) in
// CHECK:           %[[B:.*]] = arith.divui %[[BH]]
// CHECK-NOT:       attn.mask_kv_range
// CHECK:           %[[N32:.*]] = memref.load %[[LISTS]][%[[B]], %c0, %[[QB]], %c0]
// CHECK:           %[[N:.*]] = arith.index_cast %[[N32]] : i32 to index
// CHECK:           scf.for %[[I:.*]] = %c0 to %[[N]] step %c1
// CHECK:             %[[SLOT:.*]] = arith.addi %[[I]], %c1
// CHECK:             %[[E:.*]] = memref.load %[[LISTS]][%[[B]], %c0, %[[QB]], %[[SLOT]]]
// CHECK:             %[[KB32:.*]] = arith.shrsi %[[E]], %c1_i32
// CHECK:             %[[KB:.*]] = arith.index_cast %[[KB32]]
// CHECK:             %[[PBIT:.*]] = arith.andi %[[E]], %c1_i32
// CHECK:             %[[PARTIAL:.*]] = arith.trunci %[[PBIT]] : i32 to i1
// CHECK:             %[[FULL:.*]] = arith.xori %[[PARTIAL]], %true
// CHECK-NOT:         attn.mask_block_class
// CHECK:             %[[KV0:.*]] = arith.muli %[[KB]], %c64
// CHECK-NOT:         scf.if
// CHECK:               "test.use"(%[[KV0]], %[[FULL]])

// CHECK-LABEL: func.func @doc_block_lists(
// CHECK-SAME:      %[[LISTS2:[^:]*]]: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = false}})
// CHECK-SAME:      attributes {attn.block_list_builder,
// CHECK-NOT:       attn.kernel
// CHECK:         %[[NQ:.*]] = memref.dim %[[LISTS2]], %c2
// CHECK:         %[[NH:.*]] = memref.dim %[[LISTS2]], %c1
// CHECK:         %[[NB:.*]] = memref.dim %[[LISTS2]], %c0
// CHECK:         %[[ROWS:.*]] = arith.muli %[[NB]], %[[NH]]
// CHECK:         %[[P:.*]] = arith.muli %[[NQ]], %[[ROWS]]
// CHECK:         scf.forall (%[[PID:.*]]) in (%[[P]])
// CHECK:           %[[QB2:.*]] = arith.remui %[[PID]], %[[NQ]]
// CHECK:           %[[ROW:.*]] = arith.divui %[[PID]], %[[NQ]]
// CHECK:           %[[B2:.*]] = arith.divui %[[ROW]], %[[NH]]
// CHECK:           %[[H2:.*]] = arith.remui %[[ROW]], %[[NH]]
// CHECK:           %[[Q0:.*]] = arith.muli %[[QB2]], %c128
// CHECK:           %[[Q1:.*]] = arith.addi %[[Q0]], %c127
// CHECK:           %[[LO:.*]], %[[HI:.*]] = attn.mask_kv_range(%[[B2]], %[[H2]]) q[%[[Q0]], %[[Q1]]]
// CHECK:           attn.block_list_build %[[LISTS2]][%[[B2]], %[[H2]], %[[QB2]]] kv_blocks[%[[LO]], %[[HI]])
// CHECK:           ^bb0(%[[KVB:.*]]: index):
// CHECK:             %[[K0:.*]] = arith.muli %[[KVB]], %c64
// CHECK:             %[[K1:.*]] = arith.addi %[[K0]], %c63
// CHECK:             %[[ANY:.*]], %[[ALL:.*]] = attn.mask_block_class(%[[B2]], %[[H2]]) q[%[[Q0]], %[[Q1]]] kv[%[[K0]], %[[K1]]]
// CHECK-SAME:          bound_tensor_reads
// CHECK:             attn.yield %[[ANY]], %[[ALL]] : i1, i1
// CHECK:         } {attn.grid}
func.func @doc(%ids: memref<?x?xi32>, %nq: index, %nbh: index, %sk: index, %heads: index)
    attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 128, block_kv = 64, warps = 4, stages = 2>} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c63 = arith.constant 63 : index
  %c64 = arith.constant 64 : index
  %c127 = arith.constant 127 : index
  %c128 = arith.constant 128 : index
  scf.forall (%qb, %bh) in (%nq, %nbh) {
    %b = arith.divui %bh, %heads : index
    %h = arith.remui %bh, %heads : index
    %q0 = arith.muli %qb, %c128 : index
    %q1 = arith.addi %q0, %c127 : index
    %lo, %hi = attn.mask_kv_range(%b, %h) q[%q0, %q1] kv_bound %sk block 64 params(%ids : memref<?x?xi32>) {
    ^bb0(%bi: index, %hi_: index, %q: index, %kv: index, %t: memref<?x?xi32>):
      %x = memref.load %t[%bi, %q] : memref<?x?xi32>
      %y = memref.load %t[%bi, %kv] : memref<?x?xi32>
      %eq = arith.cmpi eq, %x, %y : i32
      attn.yield %eq : i1
    }
    scf.for %kb = %lo to %hi step %c1 {
      %k0 = arith.muli %kb, %c64 : index
      %k1 = arith.addi %k0, %c63 : index
      %any, %all = attn.mask_block_class(%b, %h) q[%q0, %q1] kv[%k0, %k1] kv_bound %sk params(%ids : memref<?x?xi32>) {
      ^bb0(%bi: index, %hi_: index, %q: index, %kv: index, %t: memref<?x?xi32>):
        %x = memref.load %t[%bi, %q] : memref<?x?xi32>
        %y = memref.load %t[%bi, %kv] : memref<?x?xi32>
        %eq = arith.cmpi eq, %x, %y : i32
        attn.yield %eq : i1
      }
      scf.if %any {
        "test.use"(%k0, %all) : (index, i1) -> ()
      }
    }
  } {attn.grid}
  return
}

// -----

// A mask without tensor reads (causal) keeps its closed-form loop.

// CHECK-LABEL: func.func @causal(
// CHECK-NOT:     attn.block_lists
// CHECK:         attn.mask_kv_range
// CHECK:         attn.mask_block_class
// CHECK-NOT:     func.func @causal_block_lists
func.func @causal(%nq: index, %nbh: index, %sk: index)
    attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 128, block_kv = 64, warps = 4, stages = 2>} {
  %c1 = arith.constant 1 : index
  %c63 = arith.constant 63 : index
  %c64 = arith.constant 64 : index
  %c127 = arith.constant 127 : index
  %c128 = arith.constant 128 : index
  scf.forall (%qb, %bh) in (%nq, %nbh) {
    %q0 = arith.muli %qb, %c128 : index
    %q1 = arith.addi %q0, %c127 : index
    %lo, %hi = attn.mask_kv_range(%bh, %bh) q[%q0, %q1] kv_bound %sk block 64 {
    ^bb0(%bi: index, %hi_: index, %q: index, %kv: index):
      %p = arith.cmpi sge, %q, %kv : index
      attn.yield %p : i1
    }
    scf.for %kb = %lo to %hi step %c1 {
      %k0 = arith.muli %kb, %c64 : index
      %k1 = arith.addi %k0, %c63 : index
      %any, %all = attn.mask_block_class(%bh, %bh) q[%q0, %q1] kv[%k0, %k1] kv_bound %sk {
      ^bb0(%bi: index, %hi_: index, %q: index, %kv: index):
        %p = arith.cmpi sge, %q, %kv : index
        attn.yield %p : i1
      }
      scf.if %any {
        "test.use"(%k0, %all) : (index, i1) -> ()
      }
    }
  } {attn.grid}
  return
}

// -----

// Causal documents (q >= kv && ids[b, q] == ids[b, kv]): the mask compares
// q with kv other than through the reads, so later q-blocks tend to have
// longer lists: the lists argument says so (kv_range_follows_q), and
// attn-schedule-grid keeps their longest-first order. The document mask
// above (the compare only through reads) has no such mark.

// CHECK-LABEL: func.func @causal_doc(
// CHECK-SAME:      memref<?x?x?x?xi32> {attn.block_lists = {kv_range_follows_q, per_batch = true, per_head = false}})
// CHECK-LABEL: func.func @causal_doc_block_lists(
// CHECK-SAME:      {attn.block_lists = {kv_range_follows_q, per_batch = true, per_head = false}}
func.func @causal_doc(%ids: memref<?x?xi32>, %nq: index, %nbh: index, %sk: index, %heads: index)
    attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 128, block_kv = 64, warps = 4, stages = 2>} {
  %c1 = arith.constant 1 : index
  %c63 = arith.constant 63 : index
  %c64 = arith.constant 64 : index
  %c127 = arith.constant 127 : index
  %c128 = arith.constant 128 : index
  scf.forall (%qb, %bh) in (%nq, %nbh) {
    %b = arith.divui %bh, %heads : index
    %h = arith.remui %bh, %heads : index
    %q0 = arith.muli %qb, %c128 : index
    %q1 = arith.addi %q0, %c127 : index
    %lo, %hi = attn.mask_kv_range(%b, %h) q[%q0, %q1] kv_bound %sk block 64 params(%ids : memref<?x?xi32>) {
    ^bb0(%bi: index, %hi_: index, %q: index, %kv: index, %t: memref<?x?xi32>):
      %c = arith.cmpi sge, %q, %kv : index
      %x = memref.load %t[%bi, %q] : memref<?x?xi32>
      %y = memref.load %t[%bi, %kv] : memref<?x?xi32>
      %eq = arith.cmpi eq, %x, %y : i32
      %m = arith.andi %c, %eq : i1
      attn.yield %m : i1
    }
    scf.for %kb = %lo to %hi step %c1 {
      %k0 = arith.muli %kb, %c64 : index
      %k1 = arith.addi %k0, %c63 : index
      %any, %all = attn.mask_block_class(%b, %h) q[%q0, %q1] kv[%k0, %k1] kv_bound %sk params(%ids : memref<?x?xi32>) {
      ^bb0(%bi: index, %hi_: index, %q: index, %kv: index, %t: memref<?x?xi32>):
        %c = arith.cmpi sge, %q, %kv : index
        %x = memref.load %t[%bi, %q] : memref<?x?xi32>
        %y = memref.load %t[%bi, %kv] : memref<?x?xi32>
        %eq = arith.cmpi eq, %x, %y : i32
        %m = arith.andi %c, %eq : i1
        attn.yield %m : i1
      }
      scf.if %any {
        "test.use"(%k0, %all) : (index, i1) -> ()
      }
    }
  } {attn.grid}
  return
}

// -----

// A block layout (layout[q / 128, kv / 64] != 0): q and kv meet only in a
// tensor read, so the lists carry no kv_range_follows_q (their programs'
// lengths come from the data; attn-schedule-grid groups them for the L2).

// CHECK-LABEL: func.func @layout(
// CHECK-SAME:      memref<?x?x?x?xi32> {attn.block_lists = {per_batch = false, per_head = false}})
func.func @layout(%l: memref<?x?xi32>, %nq: index, %nbh: index, %sk: index)
    attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 128, block_kv = 64, warps = 4, stages = 2>} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c63 = arith.constant 63 : index
  %c64 = arith.constant 64 : index
  %c127 = arith.constant 127 : index
  %c128 = arith.constant 128 : index
  scf.forall (%qb, %bh) in (%nq, %nbh) {
    %q0 = arith.muli %qb, %c128 : index
    %q1 = arith.addi %q0, %c127 : index
    %lo, %hi = attn.mask_kv_range(%c0, %c0) q[%q0, %q1] kv_bound %sk block 64 params(%l : memref<?x?xi32>) {
    ^bb0(%bi: index, %hi_: index, %q: index, %kv: index, %t: memref<?x?xi32>):
      %c128_ = arith.constant 128 : index
      %c64_ = arith.constant 64 : index
      %zero = arith.constant 0 : i32
      %i = arith.floordivsi %q, %c128_ : index
      %j = arith.floordivsi %kv, %c64_ : index
      %x = memref.load %t[%i, %j] : memref<?x?xi32>
      %on = arith.cmpi ne, %x, %zero : i32
      attn.yield %on : i1
    }
    scf.for %kb = %lo to %hi step %c1 {
      %k0 = arith.muli %kb, %c64 : index
      %k1 = arith.addi %k0, %c63 : index
      %any, %all = attn.mask_block_class(%c0, %c0) q[%q0, %q1] kv[%k0, %k1] kv_bound %sk params(%l : memref<?x?xi32>) {
      ^bb0(%bi: index, %hi_: index, %q: index, %kv: index, %t: memref<?x?xi32>):
        %c128_ = arith.constant 128 : index
        %c64_ = arith.constant 64 : index
        %zero = arith.constant 0 : i32
        %i = arith.floordivsi %q, %c128_ : index
        %j = arith.floordivsi %kv, %c64_ : index
        %x = memref.load %t[%i, %j] : memref<?x?xi32>
        %on = arith.cmpi ne, %x, %zero : i32
        attn.yield %on : i1
      }
      scf.if %any {
        "test.use"(%k0, %all) : (index, i1) -> ()
      }
    }
  } {attn.grid}
  return
}
