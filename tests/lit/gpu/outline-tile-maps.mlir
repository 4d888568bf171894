// RUN: faopt-opt %s --attn-outline-tile-maps --split-input-file | FileCheck %s

// The body becomes a device function; constants are copied in, the sequence
// bound used from above becomes a parameter, and the tile_map only calls it.
// Batch and head indices and positions carry the ranges every launch
// guarantees (sequences of at most 2^29, tiles reaching at most 1024 past),
// for attn-narrow-index-math.

// CHECK-LABEL: func.func private @k_masked_logits(
// CHECK-SAME:      %[[S:[^:]*]]: f32, %{{[^:]*}}: index {attn.range = array<i64: 0, 2147483647>}, %{{[^:]*}}: index {attn.range = array<i64: 0, 2147483647>}, %[[Q:[^:]*]]: index {attn.range = array<i64: 0, 536871936>}, %[[KV:[^:]*]]: index {attn.kv_position, attn.range = array<i64: 0, 536871936>}, %[[SK:[^:]*]]: index) -> f32
// CHECK-SAME:      attributes {attn.device_function}
// CHECK-DAG:     arith.constant 0.180336878 : f32
// CHECK-DAG:     arith.constant 0xFF800000 : f32
// CHECK:         arith.cmpi sge, %[[Q]], %[[KV]]
// CHECK:         arith.cmpi slt, %[[KV]], %[[SK]]
// CHECK:         return
// CHECK-LABEL: func.func @k(
// CHECK:         attn.tile_map %{{.*}} at(%{{.*}}) {
// CHECK-NEXT:    ^bb0(%[[X:.*]]: f32, %[[B:.*]]: index, %[[H:.*]]: index, %[[QQ:.*]]: index, %[[KK:.*]]: index):
// CHECK-NEXT:      %[[R:.*]] = func.call @k_masked_logits(%[[X]], %[[B]], %[[H]], %[[QQ]], %[[KK]], %{{.*}})
// CHECK-NEXT:      attn.yield %[[R]] : f32
func.func @k(%s: tensor<64x64xf32>, %i: index, %sk: index) -> tensor<64x64xf32> attributes {attn.kernel} {
  %c = arith.constant 0.180336878 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %t = attn.tile_map %s at(%i, %i, %i, %i) {
  ^bb0(%x: f32, %b: index, %h: index, %q: index, %kv: index):
    %y = arith.mulf %x, %c : f32
    %m = arith.cmpi sge, %q, %kv : index
    %in = arith.cmpi slt, %kv, %sk : index
    %keep = arith.andi %m, %in : i1
    %r = arith.select %keep, %y, %ninf : f32
    attn.yield %r : f32
  } : tensor<64x64xf32>
  return %t : tensor<64x64xf32>
}

// -----

// A block_list_build body becomes @k_kv_block_class(kb, captured...) -> i32
// (0 empty, 1 partial, 2 full); the body calls it and decodes the class.

// CHECK-LABEL: func.func private @k_kv_block_class(
// CHECK-SAME:      %[[KB:[^:]*]]: index {attn.range = array<i64: 0, 536870912>}, %[[LIM:[^:]*]]: index) -> i32 attributes {attn.device_function}
// CHECK:         %[[ANY:.*]] = arith.cmpi slt, %[[KB]], %[[LIM]]
// CHECK:         %[[ALL:.*]] = arith.cmpi eq, %[[KB]], %c0
// CHECK:         %[[FP:.*]] = arith.select %[[ALL]], %c2_i32, %c1_i32
// CHECK:         %[[CODE:.*]] = arith.select %[[ANY]], %[[FP]], %c0_i32
// CHECK:         return %[[CODE]] : i32
// CHECK-LABEL: func.func @k_block_lists(
// CHECK:         attn.block_list_build
// CHECK:           %[[C:.*]] = func.call @k_kv_block_class(%{{.*}}, %{{.*}}) : (index, index) -> i32
// CHECK:           %[[A:.*]] = arith.cmpi ne, %[[C]], %c0_i32
// CHECK:           %[[F:.*]] = arith.cmpi eq, %[[C]], %c2_i32
// CHECK:           attn.yield %[[A]], %[[F]] : i1, i1
func.func @k_block_lists(%lists: memref<?x?x?x?xi32>, %b: index, %lim: index) attributes {attn.block_list_builder} {
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  attn.block_list_build %lists[%b, %b, %b] kv_blocks[%c0, %c4) : memref<?x?x?x?xi32> {
  ^bb0(%kb: index):
    %any = arith.cmpi slt, %kb, %lim : index
    %all = arith.cmpi eq, %kb, %c0 : index
    attn.yield %any, %all : i1, i1
  }
  return
}

// -----

// A captured value the kernel computes from a size (a sequence length minus
// 3, as a mask expression's seqlen_k - 3 is hoisted out of the body) gets
// the range the kernel's index ranges give it; one without any (a kernel
// argument) or with one past i32 (a product of sizes: the mask then
// clamps it as a parameter) gets none.

// CHECK-LABEL: func.func private @sized_masked_logits(
// CHECK-SAME:      %{{[^:]*}}: index {attn.range = array<i64: -3, 2147483644>}, %{{[^:]*}}: index, %{{[^:]*}}: index) -> f32
func.func @sized(%s: tensor<64x64xf32>, %m: memref<?x?x?x64xbf16>, %i: index, %p: index) -> tensor<64x64xf32> attributes {attn.kernel} {
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %ninf = arith.constant 0xFF800000 : f32
  %dim = memref.dim %m, %c2 : memref<?x?x?x64xbf16>
  %lim = arith.subi %dim, %c3 : index
  %area = arith.muli %dim, %dim : index
  %t = attn.tile_map %s at(%i, %i, %i, %i) {
  ^bb0(%x: f32, %b: index, %h: index, %q: index, %kv: index):
    %in = arith.cmpi slt, %kv, %lim : index
    %in2 = arith.cmpi slt, %kv, %p : index
    %in3 = arith.cmpi slt, %kv, %area : index
    %both = arith.andi %in, %in2 : i1
    %keep = arith.andi %both, %in3 : i1
    %r = arith.select %keep, %x, %ninf : f32
    attn.yield %r : f32
  } : tensor<64x64xf32>
  return %t : tensor<64x64xf32>
}

// -----

// A list builder's launch facts, stated before its classifier is outlined:
// fewer than 2^31 rows (one thread block each), sequences of at most 2^29,
// so at most 2^22 q-blocks of 128 here; the classifier's kv-block index
// is below 2^29 / 64 and the values it captures get the ranges those give
// (the q-block's first row, the last kv), all within i32 for
// attn-narrow-index-math.

// CHECK-LABEL: func.func private @t_kv_block_class(
// CHECK-SAME:      %{{[^:]*}}: index {attn.range = array<i64: 0, 8388608>}, %{{[^:]*}}: index {attn.range = array<i64: 0, 536870784>}, %{{[^:]*}}: index {attn.range = array<i64: -1, 536870911>}) -> i32
// CHECK-LABEL: func.func @t_block_lists(
// CHECK:         memref.dim {attn.range = array<i64: 0, 536870912>} %arg1, %c2
// CHECK:         memref.dim {attn.range = array<i64: 0, 4194304>} %arg4, %c2
// CHECK:         %[[ROWS:.*]] = arith.muli %{{.*}}, %{{.*}} {attn.range = array<i64: 0, 2147483647>} : index
// CHECK:         scf.forall (%{{.*}}) in (%[[ROWS]])
func.func @t_block_lists(%q: memref<?x?x?x128xbf16>, %k: memref<?x?x?x128xbf16>, %v: memref<?x?x?x128xbf16>, %o: memref<?x?x?x128xbf16>, %lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = false, per_head = true}}) attributes {attn.block_list_builder, attn.tiling = #attn.tiling<block_q = 128, block_kv = 64, warps = 8, stages = 2, mma = "wgmma", copy = "tma">} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %c64 = arith.constant 64 : index
  %c128 = arith.constant 128 : index
  %seq = memref.dim %k, %c2 : memref<?x?x?x128xbf16>
  %nqb = memref.dim %lists, %c2 : memref<?x?x?x?xi32>
  %nh = memref.dim %lists, %c1 : memref<?x?x?x?xi32>
  %rows = arith.muli %nqb, %nh : index
  scf.forall (%p) in (%rows) {
    %qb = arith.remui %p, %nqb : index
    %h = arith.divui %p, %nqb : index
    %first = arith.muli %qb, %c128 : index
    %last = arith.subi %seq, %c1 : index
    attn.block_list_build %lists[%c0, %h, %qb] kv_blocks[%c0, %c4) : memref<?x?x?x?xi32> {
    ^bb0(%kb: index):
      %kv = arith.muli %kb, %c64 : index
      %any = arith.cmpi sle, %kv, %first : index
      %all = arith.cmpi slt, %kv, %last : index
      attn.yield %any, %all : i1, i1
    }
  } {attn.grid}
  return
}
