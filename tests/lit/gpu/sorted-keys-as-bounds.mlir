// RUN: faopt-opt %s --split-input-file --attn-sorted-keys-as-bounds | FileCheck %s

// A document mask in a list-driven TMA kernel: the builder gets
// attn.key_ranges with both keys, the kernel two copies of its kv loop
// chosen by the builder's flag, the first testing the row's kv range.

// CHECK-LABEL: func.func @docs(
// CHECK-SAME: %[[LISTS:[a-z0-9]+]]: memref<?x?x?x?xi32> {attn.block_lists = {key_range_rows = 128 : i64, per_batch = true, per_head = false}}
// CHECK: %[[SIZE:.*]] = memref.dim %[[LISTS]], %c3
// CHECK: %[[BASE:.*]] = arith.subi %[[SIZE]], %c257
// CHECK: %[[FLAG:.*]] = memref.load %[[LISTS]][%arg4, %c0, %arg5, %[[BASE]]]
// CHECK: %[[SORTED:.*]] = arith.cmpi ne, %[[FLAG]], %c0_i32
// CHECK: scf.if %[[SORTED]] -> (tensor<128x128xf32>) {
// CHECK:   scf.for
// CHECK:     attn.tile_map
// CHECK:       %[[OFF:.*]] = arith.subi %q, %arg6 : index
// CHECK:       %[[TWICE:.*]] = arith.muli %[[OFF]], %c2
// CHECK:       %[[PLUS:.*]] = arith.addi %c1{{.*}}, %[[TWICE]]
// CHECK:       %[[SLOT:.*]] = arith.addi %[[BASE]], %[[PLUS]]
// CHECK:       %[[LO32:.*]] = memref.load %[[LISTS]][%arg4, %c0, %arg5, %[[SLOT]]]
// CHECK:       %[[LO:.*]] = arith.index_cast %[[LO32]]
// CHECK:       %[[LAST:.*]] = arith.addi %[[SLOT]], %c1
// CHECK:       %[[HI32:.*]] = memref.load %[[LISTS]][%arg4, %c0, %arg5, %[[LAST]]]
// CHECK:       %[[HI:.*]] = arith.index_cast %[[HI32]]
// CHECK-DAG:   arith.cmpi sle, %kv, %[[HI]]
// CHECK-DAG:   arith.cmpi sge, %kv, %[[LO]]
// CHECK-NOT:   memref.load %arg2
// CHECK:       attn.yield
// CHECK: } else {
// CHECK:   scf.for
// CHECK:     attn.tile_map
// CHECK:       memref.load %arg2[%b, %q]
// CHECK:       memref.load %arg2[%b, %kv]
// CHECK:       arith.cmpi eq
// CHECK-LABEL: func.func @docs_block_lists(
// CHECK-SAME: {attn.block_lists = {key_range_rows = 128 : i64, per_batch = true, per_head = false}}
// CHECK: attn.block_list_build %arg7[%arg4, %c0, %arg5] kv_blocks[%c0, %c4)
// CHECK: %[[SEQK:.*]] = memref.dim %arg1, %c2
// CHECK: %[[Q0:.*]] = arith.muli %arg5, %c128
// CHECK: %[[KV0:.*]] = arith.muli %c0, %c128
// CHECK: %[[END:.*]] = arith.muli %c4, %c128
// CHECK: %[[KV1:.*]] = arith.minsi %[[END]], %[[SEQK]]
// CHECK: attn.key_ranges %arg7[%arg4, %c0, %arg5] rows %[[Q0]] kv[%[[KV0]], %[[KV1]]) attributes {block_kv = 128 : i64, rows = 128 : i64}
// CHECK: ^bb0(%pos: index, %is_row: i1):
// CHECK:   %[[QK:.*]] = memref.load %arg2[%arg4, %pos]
// CHECK:   %[[QK64:.*]] = arith.extsi %[[QK]] : i32 to i64
// CHECK:   %[[KK:.*]] = memref.load %arg2[%arg4, %pos]
// CHECK:   %[[KK64:.*]] = arith.extsi %[[KK]] : i32 to i64
// CHECK:   %[[KEY:.*]] = arith.select %is_row, %[[QK64]], %[[KK64]] : i64
// CHECK:   attn.yield %[[KEY]] : i64

#tiling = #attn.tiling<block_q = 128, block_kv = 128, warps = 8, stages = 2, mma = "wgmma", copy = "tma">
func.func @docs(%qv: memref<?x?x?x128xbf16>, %k: memref<?x?x?x128xbf16>, %doc: memref<?x?xi32>,
    %s: tensor<128x128xf32>, %b: index, %qb: index, %row: index,
    %lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = false}})
    -> tensor<128x128xf32> attributes {attn.kernel, attn.tiling = #tiling} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %ninf = arith.constant 0xFF800000 : f32
  %n32 = memref.load %lists[%b, %c0, %qb, %c0] : memref<?x?x?x?xi32>
  %n = arith.index_cast %n32 : i32 to index
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %s) -> (tensor<128x128xf32>) {
    %m = attn.tile_map %acc at(%b, %c0, %row, %i) {
    ^bb0(%score: f32, %bb: index, %h: index, %q: index, %kv: index):
      %causal = arith.cmpi sge, %q, %kv : index
      %x32 = memref.load %doc[%bb, %q] : memref<?x?xi32>
      %y32 = memref.load %doc[%bb, %kv] : memref<?x?xi32>
      %same = arith.cmpi eq, %x32, %y32 : i32
      %in = arith.andi %causal, %same : i1
      %v = arith.select %in, %score, %ninf : f32
      attn.yield %v : f32
    } : tensor<128x128xf32>
    scf.yield %m : tensor<128x128xf32>
  }
  return %r : tensor<128x128xf32>
}
func.func @docs_block_lists(%qv: memref<?x?x?x128xbf16>, %k: memref<?x?x?x128xbf16>, %doc: memref<?x?xi32>,
    %s: tensor<128x128xf32>, %b: index, %qb: index, %row: index,
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

// A key compare that reads the score, one whose kv side also reads q, and
// a kernel without lists are left alone.

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
// CHECK-LABEL: func.func @no_lists(
// CHECK-NOT: scf.if

#tiling = #attn.tiling<block_q = 128, block_kv = 128, warps = 8, stages = 2, mma = "wgmma", copy = "tma">
func.func @score_key(%qv: memref<?x?x?x128xbf16>, %k: memref<?x?x?x128xbf16>, %doc: memref<?x?xi32>,
    %s: tensor<128x128xf32>, %b: index, %qb: index, %row: index,
    %lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = false}})
    -> tensor<128x128xf32> attributes {attn.kernel, attn.tiling = #tiling} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %ninf = arith.constant 0xFF800000 : f32
  %n32 = memref.load %lists[%b, %c0, %qb, %c0] : memref<?x?x?x?xi32>
  %n = arith.index_cast %n32 : i32 to index
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %s) -> (tensor<128x128xf32>) {
    %m = attn.tile_map %acc at(%b, %c0, %row, %i) {
    ^bb0(%score: f32, %bb: index, %h: index, %q: index, %kv: index):
      %x32 = memref.load %doc[%bb, %q] : memref<?x?xi32>
      %y32 = memref.load %doc[%bb, %kv] : memref<?x?xi32>
      %sx = arith.fptosi %score : f32 to i32
      %x = arith.addi %x32, %sx : i32
      %same = arith.cmpi eq, %x, %y32 : i32
      %v = arith.select %same, %score, %ninf : f32
      attn.yield %v : f32
    } : tensor<128x128xf32>
    scf.yield %m : tensor<128x128xf32>
  }
  return %r : tensor<128x128xf32>
}
func.func @score_key_block_lists(%qv: memref<?x?x?x128xbf16>, %k: memref<?x?x?x128xbf16>, %doc: memref<?x?xi32>,
    %s: tensor<128x128xf32>, %b: index, %qb: index, %row: index,
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
    %s: tensor<128x128xf32>, %b: index, %qb: index, %row: index,
    %lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = false}})
    -> tensor<128x128xf32> attributes {attn.kernel, attn.tiling = #tiling} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %ninf = arith.constant 0xFF800000 : f32
  %n32 = memref.load %lists[%b, %c0, %qb, %c0] : memref<?x?x?x?xi32>
  %n = arith.index_cast %n32 : i32 to index
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %s) -> (tensor<128x128xf32>) {
    %m = attn.tile_map %acc at(%b, %c0, %row, %i) {
    ^bb0(%score: f32, %bb: index, %h: index, %q: index, %kv: index):
      %x32 = memref.load %doc[%bb, %q] : memref<?x?xi32>
      %y32 = memref.load %doc[%q, %kv] : memref<?x?xi32>
      %same = arith.cmpi eq, %x32, %y32 : i32
      %v = arith.select %same, %score, %ninf : f32
      attn.yield %v : f32
    } : tensor<128x128xf32>
    scf.yield %m : tensor<128x128xf32>
  }
  return %r : tensor<128x128xf32>
}
func.func @mixed_key_block_lists(%qv: memref<?x?x?x128xbf16>, %k: memref<?x?x?x128xbf16>, %doc: memref<?x?xi32>,
    %s: tensor<128x128xf32>, %b: index, %qb: index, %row: index,
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
