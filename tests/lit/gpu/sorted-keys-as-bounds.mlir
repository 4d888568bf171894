// RUN: faopt-opt %s --split-input-file --attn-sorted-keys-as-bounds | FileCheck %s
// RUN: faopt-opt %s --split-input-file --attn-sorted-keys-as-bounds --attn-sorted-keys-as-bounds | FileCheck %s --check-prefix=TWICE
// RUN: faopt-opt %s --split-input-file --attn-sorted-keys-as-bounds 2>&1 >/dev/null | FileCheck %s --check-prefix=WARN

// A document mask in a list-driven TMA kernel: the builder gets
// attn.key_ranges with both keys, the kernel two copies of its kv loop
// chosen by the builder's flag, the first testing the row's kv range.

// CHECK-LABEL: func.func @docs(
// CHECK-SAME: %[[LISTS:[a-z0-9]+]]: memref<?x?x?x?xi32> {attn.block_lists = {key_range_rows = 128 : i64, per_batch = true, per_head = false}}
// CHECK: %[[SEQK:.*]] = memref.dim %arg1, %c2
// CHECK: %[[ROW:.*]] = arith.muli %arg5, %c128
// CHECK: %[[SIZE:.*]] = memref.dim %[[LISTS]], %c3
// CHECK: %[[BASE:.*]] = arith.subi %[[SIZE]], %c257
// CHECK: %[[FLAG:.*]] = memref.load %[[LISTS]][%arg4, %c0, %arg5, %[[BASE]]]
// CHECK: %[[SORTED:.*]] = arith.cmpi ne, %[[FLAG]], %c0_i32
// CHECK: scf.if %[[SORTED]] -> (tensor<128x128xf32>) {
// CHECK:   scf.for
// CHECK:     attn.tile_map
// CHECK-NEXT:  ^bb0
// CHECK-NEXT:  arith.cmpi sge, %q, %kv
// CHECK-NEXT:  %[[OFF:.*]] = arith.subi %q, %[[ROW]] : index
// CHECK:       %[[DOUBLED:.*]] = arith.muli %[[OFF]], %c2
// CHECK:       %[[PLUS:.*]] = arith.addi %c1{{.*}}, %[[DOUBLED]]
// CHECK:       %[[SLOT:.*]] = arith.addi %[[BASE]], %[[PLUS]]
// CHECK:       %[[LO32:.*]] = memref.load %[[LISTS]][%arg4, %c0, %arg5, %[[SLOT]]]
// CHECK:       %[[LO:.*]] = arith.index_cast %[[LO32]]
// CHECK:       %[[LAST:.*]] = arith.addi %[[SLOT]], %c1
// CHECK:       %[[HI32:.*]] = memref.load %[[LISTS]][%arg4, %c0, %arg5, %[[LAST]]]
// CHECK:       %[[HI:.*]] = arith.index_cast %[[HI32]]
// CHECK-NEXT:  arith.cmpi sle, %kv, %[[HI]]
// CHECK-NEXT:  arith.cmpi sge, %kv, %[[LO]]
// CHECK-NEXT:  arith.andi
// CHECK-NEXT:  arith.andi
// CHECK-NEXT:  arith.cmpi slt, %kv, %[[SEQK]]
// CHECK-NEXT:  arith.andi
// CHECK-NEXT:  arith.select
// CHECK-NEXT:  attn.yield
// CHECK: } else {
// CHECK:   scf.for
// CHECK:     attn.tile_map
// CHECK:       memref.load %arg2[%c0, %{{.*}}]
// CHECK:       memref.load %arg2[%c0, %{{.*}}]
// CHECK:       arith.cmpi eq
// CHECK-LABEL: func.func @docs_block_lists(
// CHECK-SAME: {attn.block_lists = {key_range_rows = 128 : i64, per_batch = true, per_head = false}}
// CHECK: attn.block_list_build %arg6[%arg4, %c0, %arg5] kv_blocks[%c0, %c4)
// CHECK: %[[BSEQK:.*]] = memref.dim %arg1, %c2
// CHECK: %[[Q0:.*]] = arith.muli %arg5, %c128
// CHECK: %[[KV0:.*]] = arith.muli %c0, %c128
// CHECK: %[[END:.*]] = arith.muli %c4, %c128
// CHECK: %[[KV1:.*]] = arith.minsi %[[END]], %[[BSEQK]]
// CHECK: attn.key_ranges %arg6[%arg4, %c0, %arg5] rows %[[Q0]] kv[%[[KV0]], %[[KV1]]) attributes {block_kv = 128 : i64, rows = 128 : i64}
// CHECK: ^bb0(%pos: index, %is_row: i1):
// CHECK:   %[[QC:.*]] = arith.minsi %pos
// CHECK:   %[[QI:.*]] = arith.maxsi %[[QC]], %c0
// CHECK:   %[[QK:.*]] = memref.load %arg2[%c0{{.*}}, %[[QI]]]
// CHECK:   %[[QK64:.*]] = arith.extsi %[[QK]] : i32 to i64
// CHECK:   %[[KK:.*]] = memref.load %arg2[%c0{{.*}}, %{{.*}}]
// CHECK:   %[[KK64:.*]] = arith.extsi %[[KK]] : i32 to i64
// CHECK:   %[[KEY:.*]] = arith.select %is_row, %[[QK64]], %[[KK64]] : i64
// CHECK:   attn.yield %[[KEY]] : i64

// Run twice, the pass leaves its own output alone.
// TWICE-LABEL: func.func @docs(
// TWICE-COUNT-1: scf.if
// TWICE-NOT: scf.if
// TWICE-LABEL: func.func @docs_block_lists(
// TWICE-COUNT-1: attn.key_ranges
// TWICE-NOT: attn.key_ranges
// TWICE-LABEL: func.func @docs_handed_out(
// TWICE-COUNT-1: scf.if
// TWICE-NOT: scf.if
// TWICE-LABEL: func.func @docs_handed_out_block_lists(
// TWICE-COUNT-1: attn.key_ranges
// TWICE-NOT: attn.key_ranges

#tiling = #attn.tiling<block_q = 128, block_kv = 128, warps = 8, stages = 2, mma = "wgmma", copy = "tma">
func.func @docs(%qv: memref<?x?x?x128xbf16>, %k: memref<?x?x?x128xbf16>, %doc: memref<?x?xi32>,
    %s: tensor<128x128xf32>, %b: index, %qb: index,
    %lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = false}})
    -> tensor<128x128xf32> attributes {attn.kernel, attn.tiling = #tiling} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c128 = arith.constant 128 : index
  %ninf = arith.constant 0xFF800000 : f32
  %seqk = memref.dim %k, %c2 : memref<?x?x?x128xbf16>
  %row = arith.muli %qb, %c128 : index
  %n32 = memref.load %lists[%b, %c0, %qb, %c0] : memref<?x?x?x?xi32>
  %n = arith.index_cast %n32 : i32 to index
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %s) -> (tensor<128x128xf32>) {
    %m = attn.tile_map %acc at(%b, %c0, %row, %i) {
    ^bb0(%score: f32, %bb: index, %h: index, %q: index, %kv: index):
      %causal = arith.cmpi sge, %q, %kv : index
      %last = arith.subi %seqk, %c1 : index
      %qc = arith.minsi %q, %last : index
      %qi = arith.maxsi %qc, %c0 : index
      %kc = arith.minsi %kv, %last : index
      %ki = arith.maxsi %kc, %c0 : index
      %x32 = memref.load %doc[%c0, %qi] : memref<?x?xi32>
      %y32 = memref.load %doc[%c0, %ki] : memref<?x?xi32>
      %same = arith.cmpi eq, %x32, %y32 : i32
      %in = arith.andi %causal, %same : i1
      %inside = arith.cmpi slt, %kv, %seqk : index
      %all = arith.andi %in, %inside : i1
      %v = arith.select %all, %score, %ninf : f32
      attn.yield %v : f32
    } : tensor<128x128xf32>
    scf.yield %m : tensor<128x128xf32>
  }
  return %r : tensor<128x128xf32>
}
func.func @docs_block_lists(%qv: memref<?x?x?x128xbf16>, %k: memref<?x?x?x128xbf16>, %doc: memref<?x?xi32>,
    %s: tensor<128x128xf32>, %b: index, %qb: index,
    %lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = false}})
    attributes {attn.block_list_builder} {
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  attn.block_list_build %lists[%b, %c0, %qb] kv_blocks[%c0, %c4) : memref<?x?x?x?xi32> {
  ^bb0(%kb: index):
    %t = arith.constant true
    attn.yield %t, %t : i1, i1
  }
  return
}

// -----

// A persistent kernel with programs handed out at run time takes its
// program counter after the lists (attn-persistent-programs): the lists are
// found by their attribute, not as the last argument (session 21's hand-out
// kernels were left without ranges by that).

// CHECK-LABEL: func.func @docs_handed_out(
// CHECK-SAME: %[[HLISTS:[a-z0-9]+]]: memref<?x?x?x?xi32> {attn.block_lists = {key_range_rows = 128 : i64, per_batch = true, per_head = false}}
// CHECK-SAME: %{{[a-z0-9]+}}: memref<1xi32> {attn.program_counter}
// CHECK: memref.load %[[HLISTS]][%arg4, %c0, %arg5, %{{.*}}]
// CHECK: scf.if
// CHECK: } else {
// CHECK-LABEL: func.func @docs_handed_out_block_lists(
// CHECK: attn.key_ranges %arg6[%arg4, %c0, %arg5]

#tiling_h = #attn.tiling<block_q = 128, block_kv = 128, warps = 8, stages = 2, mma = "wgmma", copy = "tma">
func.func @docs_handed_out(%qv: memref<?x?x?x128xbf16>, %k: memref<?x?x?x128xbf16>, %doc: memref<?x?xi32>,
    %s: tensor<128x128xf32>, %b: index, %qb: index,
    %lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = false}},
    %counter: memref<1xi32> {attn.program_counter})
    -> tensor<128x128xf32> attributes {attn.kernel, attn.tiling = #tiling_h} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c128 = arith.constant 128 : index
  %ninf = arith.constant 0xFF800000 : f32
  %c2 = arith.constant 2 : index
  %seqk = memref.dim %k, %c2 : memref<?x?x?x128xbf16>
  %row = arith.muli %qb, %c128 : index
  %n32 = memref.load %lists[%b, %c0, %qb, %c0] : memref<?x?x?x?xi32>
  %n = arith.index_cast %n32 : i32 to index
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %s) -> (tensor<128x128xf32>) {
    %m = attn.tile_map %acc at(%b, %c0, %row, %i) {
    ^bb0(%score: f32, %bb: index, %h: index, %q: index, %kv: index):
      %last = arith.subi %seqk, %c1 : index
      %qc = arith.minsi %q, %last : index
      %qi = arith.maxsi %qc, %c0 : index
      %kc = arith.minsi %kv, %last : index
      %ki = arith.maxsi %kc, %c0 : index
      %x32 = memref.load %doc[%c0, %qi] : memref<?x?xi32>
      %y32 = memref.load %doc[%c0, %ki] : memref<?x?xi32>
      %same = arith.cmpi eq, %x32, %y32 : i32
      %inside = arith.cmpi slt, %kv, %seqk : index
      %all = arith.andi %same, %inside : i1
      %v = arith.select %all, %score, %ninf : f32
      attn.yield %v : f32
    } : tensor<128x128xf32>
    scf.yield %m : tensor<128x128xf32>
  }
  return %r : tensor<128x128xf32>
}
func.func @docs_handed_out_block_lists(%qv: memref<?x?x?x128xbf16>, %k: memref<?x?x?x128xbf16>, %doc: memref<?x?xi32>,
    %s: tensor<128x128xf32>, %b: index, %qb: index,
    %lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = false}})
    attributes {attn.block_list_builder} {
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  attn.block_list_build %lists[%b, %c0, %qb] kv_blocks[%c0, %c4) : memref<?x?x?x?xi32> {
  ^bb0(%kb: index):
    %t = arith.constant true
    attn.yield %t, %t : i1, i1
  }
  return
}

// -----

// Left alone: a row key that reads the score (@score_key); a kv key that also reads q (@mixed_key); an unclamped key read (the builder reads keys past the span) (@unclamped); a map without kv < seqlen_k (@no_seqlen_term); a key using a value the builder does not have (read in the kernel) (@captured_load);
// a kernel without lists (@no_lists).

// CHECK-LABEL: func.func @score_key(
// CHECK-NOT: scf.if
// CHECK: arith.cmpi eq
// CHECK-LABEL: func.func @score_key_block_lists(
// CHECK-NOT: attn.key_ranges
// CHECK-LABEL: func.func @mixed_key(
// CHECK-NOT: scf.if
// CHECK: arith.cmpi eq
// CHECK-LABEL: func.func @mixed_key_block_lists(
// CHECK-NOT: attn.key_ranges
// CHECK-LABEL: func.func @unclamped(
// CHECK-NOT: scf.if
// CHECK: arith.cmpi eq
// CHECK-LABEL: func.func @unclamped_block_lists(
// CHECK-NOT: attn.key_ranges
// CHECK-LABEL: func.func @no_seqlen_term(
// CHECK-NOT: scf.if
// CHECK: arith.cmpi eq
// CHECK-LABEL: func.func @no_seqlen_term_block_lists(
// CHECK-NOT: attn.key_ranges
// CHECK-LABEL: func.func @captured_load(
// CHECK-NOT: scf.if
// CHECK: arith.cmpi eq
// CHECK-LABEL: func.func @captured_load_block_lists(
// CHECK-NOT: attn.key_ranges
// CHECK-LABEL: func.func @no_lists(
// CHECK-NOT: scf.if

#tiling = #attn.tiling<block_q = 128, block_kv = 128, warps = 8, stages = 2, mma = "wgmma", copy = "tma">
func.func @score_key(%qv: memref<?x?x?x128xbf16>, %k: memref<?x?x?x128xbf16>, %doc: memref<?x?xi32>,
    %s: tensor<128x128xf32>, %b: index, %qb: index,
    %lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = false}})
    -> tensor<128x128xf32> attributes {attn.kernel, attn.tiling = #tiling} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c128 = arith.constant 128 : index
  %ninf = arith.constant 0xFF800000 : f32
  %seqk = memref.dim %k, %c2 : memref<?x?x?x128xbf16>
  %row = arith.muli %qb, %c128 : index
  %n32 = memref.load %lists[%b, %c0, %qb, %c0] : memref<?x?x?x?xi32>
  %n = arith.index_cast %n32 : i32 to index
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %s) -> (tensor<128x128xf32>) {
    %m = attn.tile_map %acc at(%b, %c0, %row, %i) {
    ^bb0(%score: f32, %bb: index, %h: index, %q: index, %kv: index):
      %last = arith.subi %seqk, %c1 : index
      %qc = arith.minsi %q, %last : index
      %qi = arith.maxsi %qc, %c0 : index
      %kc = arith.minsi %kv, %last : index
      %ki = arith.maxsi %kc, %c0 : index
      %x32 = memref.load %doc[%c0, %qi] : memref<?x?xi32>
      %y32 = memref.load %doc[%c0, %ki] : memref<?x?xi32>
      %sx = arith.fptosi %score : f32 to i32
      %x = arith.addi %x32, %sx : i32
      %same = arith.cmpi eq, %x, %y32 : i32
      %inside = arith.cmpi slt, %kv, %seqk : index
      %all = arith.andi %same, %inside : i1
      %v = arith.select %all, %score, %ninf : f32
      attn.yield %v : f32
    } : tensor<128x128xf32>
    scf.yield %m : tensor<128x128xf32>
  }
  return %r : tensor<128x128xf32>
}
func.func @score_key_block_lists(%qv: memref<?x?x?x128xbf16>, %k: memref<?x?x?x128xbf16>, %doc: memref<?x?xi32>,
    %s: tensor<128x128xf32>, %b: index, %qb: index,
    %lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = false}})
    attributes {attn.block_list_builder} {
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  attn.block_list_build %lists[%b, %c0, %qb] kv_blocks[%c0, %c4) : memref<?x?x?x?xi32> {
  ^bb0(%kb: index):
    %t = arith.constant true
    attn.yield %t, %t : i1, i1
  }
  return
}
func.func @mixed_key(%qv: memref<?x?x?x128xbf16>, %k: memref<?x?x?x128xbf16>, %doc: memref<?x?xi32>,
    %s: tensor<128x128xf32>, %b: index, %qb: index,
    %lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = false}})
    -> tensor<128x128xf32> attributes {attn.kernel, attn.tiling = #tiling} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c128 = arith.constant 128 : index
  %ninf = arith.constant 0xFF800000 : f32
  %seqk = memref.dim %k, %c2 : memref<?x?x?x128xbf16>
  %row = arith.muli %qb, %c128 : index
  %n32 = memref.load %lists[%b, %c0, %qb, %c0] : memref<?x?x?x?xi32>
  %n = arith.index_cast %n32 : i32 to index
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %s) -> (tensor<128x128xf32>) {
    %m = attn.tile_map %acc at(%b, %c0, %row, %i) {
    ^bb0(%score: f32, %bb: index, %h: index, %q: index, %kv: index):
      %last = arith.subi %seqk, %c1 : index
      %qc = arith.minsi %q, %last : index
      %qi = arith.maxsi %qc, %c0 : index
      %kc = arith.minsi %kv, %last : index
      %ki = arith.maxsi %kc, %c0 : index
      %x32 = memref.load %doc[%c0, %qi] : memref<?x?xi32>
      %y32 = memref.load %doc[%qi, %ki] : memref<?x?xi32>
      %same = arith.cmpi eq, %x32, %y32 : i32
      %inside = arith.cmpi slt, %kv, %seqk : index
      %all = arith.andi %same, %inside : i1
      %v = arith.select %all, %score, %ninf : f32
      attn.yield %v : f32
    } : tensor<128x128xf32>
    scf.yield %m : tensor<128x128xf32>
  }
  return %r : tensor<128x128xf32>
}
func.func @mixed_key_block_lists(%qv: memref<?x?x?x128xbf16>, %k: memref<?x?x?x128xbf16>, %doc: memref<?x?xi32>,
    %s: tensor<128x128xf32>, %b: index, %qb: index,
    %lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = false}})
    attributes {attn.block_list_builder} {
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  attn.block_list_build %lists[%b, %c0, %qb] kv_blocks[%c0, %c4) : memref<?x?x?x?xi32> {
  ^bb0(%kb: index):
    %t = arith.constant true
    attn.yield %t, %t : i1, i1
  }
  return
}
func.func @unclamped(%qv: memref<?x?x?x128xbf16>, %k: memref<?x?x?x128xbf16>, %doc: memref<?x?xi32>,
    %s: tensor<128x128xf32>, %b: index, %qb: index,
    %lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = false}})
    -> tensor<128x128xf32> attributes {attn.kernel, attn.tiling = #tiling} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c128 = arith.constant 128 : index
  %ninf = arith.constant 0xFF800000 : f32
  %seqk = memref.dim %k, %c2 : memref<?x?x?x128xbf16>
  %row = arith.muli %qb, %c128 : index
  %n32 = memref.load %lists[%b, %c0, %qb, %c0] : memref<?x?x?x?xi32>
  %n = arith.index_cast %n32 : i32 to index
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %s) -> (tensor<128x128xf32>) {
    %m = attn.tile_map %acc at(%b, %c0, %row, %i) {
    ^bb0(%score: f32, %bb: index, %h: index, %q: index, %kv: index):
      %last = arith.subi %seqk, %c1 : index
      %qc = arith.minsi %q, %last : index
      %qi = arith.maxsi %qc, %c0 : index
      %kc = arith.minsi %kv, %last : index
      %ki = arith.maxsi %kc, %c0 : index
      %x32 = memref.load %doc[%c0, %q] : memref<?x?xi32>
      %y32 = memref.load %doc[%c0, %ki] : memref<?x?xi32>
      %same = arith.cmpi eq, %x32, %y32 : i32
      %inside = arith.cmpi slt, %kv, %seqk : index
      %all = arith.andi %same, %inside : i1
      %v = arith.select %all, %score, %ninf : f32
      attn.yield %v : f32
    } : tensor<128x128xf32>
    scf.yield %m : tensor<128x128xf32>
  }
  return %r : tensor<128x128xf32>
}
func.func @unclamped_block_lists(%qv: memref<?x?x?x128xbf16>, %k: memref<?x?x?x128xbf16>, %doc: memref<?x?xi32>,
    %s: tensor<128x128xf32>, %b: index, %qb: index,
    %lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = false}})
    attributes {attn.block_list_builder} {
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  attn.block_list_build %lists[%b, %c0, %qb] kv_blocks[%c0, %c4) : memref<?x?x?x?xi32> {
  ^bb0(%kb: index):
    %t = arith.constant true
    attn.yield %t, %t : i1, i1
  }
  return
}
func.func @no_seqlen_term(%qv: memref<?x?x?x128xbf16>, %k: memref<?x?x?x128xbf16>, %doc: memref<?x?xi32>,
    %s: tensor<128x128xf32>, %b: index, %qb: index,
    %lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = false}})
    -> tensor<128x128xf32> attributes {attn.kernel, attn.tiling = #tiling} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c128 = arith.constant 128 : index
  %ninf = arith.constant 0xFF800000 : f32
  %seqk = memref.dim %k, %c2 : memref<?x?x?x128xbf16>
  %row = arith.muli %qb, %c128 : index
  %n32 = memref.load %lists[%b, %c0, %qb, %c0] : memref<?x?x?x?xi32>
  %n = arith.index_cast %n32 : i32 to index
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %s) -> (tensor<128x128xf32>) {
    %m = attn.tile_map %acc at(%b, %c0, %row, %i) {
    ^bb0(%score: f32, %bb: index, %h: index, %q: index, %kv: index):
      %last = arith.subi %seqk, %c1 : index
      %qc = arith.minsi %q, %last : index
      %qi = arith.maxsi %qc, %c0 : index
      %kc = arith.minsi %kv, %last : index
      %ki = arith.maxsi %kc, %c0 : index
      %x32 = memref.load %doc[%c0, %qi] : memref<?x?xi32>
      %y32 = memref.load %doc[%c0, %ki] : memref<?x?xi32>
      %all = arith.cmpi eq, %x32, %y32 : i32
      %v = arith.select %all, %score, %ninf : f32
      attn.yield %v : f32
    } : tensor<128x128xf32>
    scf.yield %m : tensor<128x128xf32>
  }
  return %r : tensor<128x128xf32>
}
func.func @no_seqlen_term_block_lists(%qv: memref<?x?x?x128xbf16>, %k: memref<?x?x?x128xbf16>, %doc: memref<?x?xi32>,
    %s: tensor<128x128xf32>, %b: index, %qb: index,
    %lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = false}})
    attributes {attn.block_list_builder} {
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  attn.block_list_build %lists[%b, %c0, %qb] kv_blocks[%c0, %c4) : memref<?x?x?x?xi32> {
  ^bb0(%kb: index):
    %t = arith.constant true
    attn.yield %t, %t : i1, i1
  }
  return
}
func.func @captured_load(%qv: memref<?x?x?x128xbf16>, %k: memref<?x?x?x128xbf16>, %doc: memref<?x?xi32>,
    %s: tensor<128x128xf32>, %b: index, %qb: index,
    %lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = false}})
    -> tensor<128x128xf32> attributes {attn.kernel, attn.tiling = #tiling} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c128 = arith.constant 128 : index
  %ninf = arith.constant 0xFF800000 : f32
  %seqk = memref.dim %k, %c2 : memref<?x?x?x128xbf16>
  %row = arith.muli %qb, %c128 : index
  %shift = memref.load %doc[%c0, %c0] : memref<?x?xi32>
  %n32 = memref.load %lists[%b, %c0, %qb, %c0] : memref<?x?x?x?xi32>
  %n = arith.index_cast %n32 : i32 to index
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %s) -> (tensor<128x128xf32>) {
    %m = attn.tile_map %acc at(%b, %c0, %row, %i) {
    ^bb0(%score: f32, %bb: index, %h: index, %q: index, %kv: index):
      %last = arith.subi %seqk, %c1 : index
      %qc = arith.minsi %q, %last : index
      %qi = arith.maxsi %qc, %c0 : index
      %kc = arith.minsi %kv, %last : index
      %ki = arith.maxsi %kc, %c0 : index
      %x32 = memref.load %doc[%c0, %qi] : memref<?x?xi32>
      %x = arith.addi %x32, %shift : i32
      %y32 = memref.load %doc[%c0, %ki] : memref<?x?xi32>
      %same = arith.cmpi eq, %x, %y32 : i32
      %inside = arith.cmpi slt, %kv, %seqk : index
      %all = arith.andi %same, %inside : i1
      %v = arith.select %all, %score, %ninf : f32
      attn.yield %v : f32
    } : tensor<128x128xf32>
    scf.yield %m : tensor<128x128xf32>
  }
  return %r : tensor<128x128xf32>
}
func.func @captured_load_block_lists(%qv: memref<?x?x?x128xbf16>, %k: memref<?x?x?x128xbf16>, %doc: memref<?x?xi32>,
    %s: tensor<128x128xf32>, %b: index, %qb: index,
    %lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = false}})
    attributes {attn.block_list_builder} {
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  attn.block_list_build %lists[%b, %c0, %qb] kv_blocks[%c0, %c4) : memref<?x?x?x?xi32> {
  ^bb0(%kb: index):
    %t = arith.constant true
    attn.yield %t, %t : i1, i1
  }
  return
}
func.func @no_lists(%k: memref<?x?x?x128xbf16>, %doc: memref<?x?xi32>,
                    %s: tensor<128x128xf32>, %b: index, %row: index, %n: index)
    -> tensor<128x128xf32> attributes {attn.kernel, attn.tiling = #tiling} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %ninf = arith.constant 0xFF800000 : f32
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %s) -> (tensor<128x128xf32>) {
    %m = attn.tile_map %acc at(%b, %c0, %row, %i) {
    ^bb0(%score: f32, %bb: index, %h: index, %q: index, %kv: index):
      %x32 = memref.load %doc[%bb, %q] : memref<?x?xi32>
      %y32 = memref.load %doc[%bb, %kv] : memref<?x?xi32>
      %same = arith.cmpi eq, %x32, %y32 : i32
      %v = arith.select %same, %score, %ninf : f32
      attn.yield %v : f32
    } : tensor<128x128xf32>
    scf.yield %m : tensor<128x128xf32>
  }
  return %r : tensor<128x128xf32>
}

// -----

// A builder whose arguments do not end with the kernel's lists (a pipeline
// bug): said, not skipped silently; the kernel keeps its compare.
// WARN: warning: attn-sorted-keys-as-bounds: the list builder's arguments do not end with the kernel's lists argument; the kernel keeps its key compare
// CHECK-LABEL: func.func @mismatched_builder(
// CHECK-NOT:     scf.if
// CHECK:         arith.cmpi eq
#tiling_m = #attn.tiling<block_q = 128, block_kv = 128, warps = 8, stages = 2, mma = "wgmma", copy = "tma">
func.func @mismatched_builder(%qv: memref<?x?x?x128xbf16>, %k: memref<?x?x?x128xbf16>, %doc: memref<?x?xi32>,
    %s: tensor<128x128xf32>, %b: index, %qb: index,
    %lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = false}})
    -> tensor<128x128xf32> attributes {attn.kernel, attn.tiling = #tiling_m} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c128 = arith.constant 128 : index
  %ninf = arith.constant 0xFF800000 : f32
  %seqk = memref.dim %k, %c2 : memref<?x?x?x128xbf16>
  %row = arith.muli %qb, %c128 : index
  %n32 = memref.load %lists[%b, %c0, %qb, %c0] : memref<?x?x?x?xi32>
  %n = arith.index_cast %n32 : i32 to index
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %s) -> (tensor<128x128xf32>) {
    %m = attn.tile_map %acc at(%b, %c0, %row, %i) {
    ^bb0(%score: f32, %bb: index, %h: index, %q: index, %kv: index):
      %last = arith.subi %seqk, %c1 : index
      %qc = arith.minsi %q, %last : index
      %qi = arith.maxsi %qc, %c0 : index
      %kc = arith.minsi %kv, %last : index
      %ki = arith.maxsi %kc, %c0 : index
      %x32 = memref.load %doc[%c0, %qi] : memref<?x?xi32>
      %y32 = memref.load %doc[%c0, %ki] : memref<?x?xi32>
      %same = arith.cmpi eq, %x32, %y32 : i32
      %inside = arith.cmpi slt, %kv, %seqk : index
      %all = arith.andi %same, %inside : i1
      %v = arith.select %all, %score, %ninf : f32
      attn.yield %v : f32
    } : tensor<128x128xf32>
    scf.yield %m : tensor<128x128xf32>
  }
  return %r : tensor<128x128xf32>
}
func.func @mismatched_builder_block_lists(%qv: memref<?x?x?x128xbf16>, %k: memref<?x?x?x128xbf16>,
    %lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = false}})
    attributes {attn.block_list_builder} {
  return
}
