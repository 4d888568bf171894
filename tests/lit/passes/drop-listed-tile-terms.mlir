// RUN: faopt-opt %s --attn-drop-listed-tile-terms --split-input-file | FileCheck %s

// A block layout's term in the mask of a list-driven update (its first
// column from the list entry, 2 * kb + partial, under the loop over that
// row's count; its first row the row's q-block): uniform over the
// 128 x 128 tile (blocks of 256, a multiple) and modelled exactly by the
// builder, so true in every listed tile: replaced by true, its read gone;
// the causal term stays. The logits region is not touched.

// CHECK-LABEL: func.func @layout(
// CHECK:         attn.online_update
// CHECK:         } mask {
// CHECK-NEXT:    ^bb0
// CHECK-NEXT:      %[[TRUE:.*]] = arith.constant true
// CHECK-NEXT:      %[[C:.*]] = arith.cmpi sge, %q, %kv
// CHECK-NEXT:      %[[M:.*]] = arith.andi %[[TRUE]], %[[C]]
// CHECK-NEXT:      attn.yield %[[M]]
func.func @layout(%qt: tensor<128x128xbf16>, %kt: tensor<128x128xbf16>, %vt: tensor<128x128xbf16>, %m0: tensor<128xf32>, %l0: tensor<128xf32>, %a0: tensor<128x128xf32>,
    %L: memref<?x?xi32>, %b: index, %h: index, %qb: index, %sk: index,
    %lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = true}})
    -> tensor<128x128xf32> attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 128, block_kv = 128, warps = 8, stages = 2>} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c128 = arith.constant 128 : index
  %c1_i32 = arith.constant 1 : i32
  %row = arith.muli %qb, %c128 : index
  %n32 = memref.load %lists[%b, %h, %qb, %c0] : memref<?x?x?x?xi32>
  %n = arith.index_cast %n32 : i32 to index
  %r:3 = scf.for %i = %c0 to %n step %c1 iter_args(%m = %m0, %l = %l0, %a = %a0) -> (tensor<128xf32>, tensor<128xf32>, tensor<128x128xf32>) {
    %i1 = arith.addi %i, %c1 : index
    %e = memref.load %lists[%b, %h, %qb, %i1] : memref<?x?x?x?xi32>
    %sh = arith.shrsi %e, %c1_i32 : i32
    %kb = arith.index_cast %sh : i32 to index
    %kv0 = arith.muli %kb, %c128 : index
    %p = arith.constant true
    %m1, %l1, %a1 = attn.online_update %qt, %kt, %vt, %m, %l, %a at(%b, %h, %row, %kv0) kv_bound %sk masked %p params(%L : memref<?x?xi32>) logits {
    ^bb0(%score: f32, %bb: index, %hh: index, %q: index, %kv: index, %t: memref<?x?xi32>):
      attn.yield %score : f32
    } mask {
    ^bb0(%bb: index, %hh: index, %q: index, %kv: index, %t: memref<?x?xi32>):
      %blk = arith.constant 256 : index
      %zero = arith.constant 0 : index
      %qi = arith.floordivsi %q, %blk : index
      %ki = arith.floordivsi %kv, %blk : index
      %x32 = memref.load %t[%qi, %ki] : memref<?x?xi32>
      %x = arith.index_cast %x32 : i32 to index
      %lay = arith.cmpi ne, %x, %zero : index
      %causal = arith.cmpi sge, %q, %kv : index
      %term = arith.andi %lay, %causal : i1
      attn.yield %term : i1
    } : tensor<128x128xbf16>, tensor<128x128xbf16>, tensor<128x128xbf16>, tensor<128xf32>, tensor<128xf32>, tensor<128x128xf32>
    scf.yield %m1, %l1, %a1 : tensor<128xf32>, tensor<128xf32>, tensor<128x128xf32>
  }
  return %r#2 : tensor<128x128xf32>
}

// -----

// Left alone: blocks of 96 are not a multiple of the 128-row tile (the
// term changes inside a tile) (@uneven); a remainder, which the builder's
// intervals do not model (@remainder); an unsigned compare, likewise
// (@unsigned); a term without a read (cheap per score) (@no_read); a read
// at q itself, not q / B (@per_row); a column not taken from the lists
// (@not_listed); a row of twice the tile (not the list row's q-block)
// (@wide_row); a list entry other than the loop's i + 1 (@other_entry); a
// list row shared by every batch entry (b' = 0) under a mask that reads b
// (@shared_row).

// CHECK-LABEL: func.func @uneven(
// CHECK:         } mask {
// CHECK:           memref.load
// CHECK-LABEL: func.func @remainder(
// CHECK:         } mask {
// CHECK:           memref.load
// CHECK-LABEL: func.func @unsigned(
// CHECK:         } mask {
// CHECK:           memref.load
// CHECK-LABEL: func.func @no_read(
// CHECK:         } mask {
// CHECK-NOT:       arith.constant true
// CHECK:           arith.cmpi eq
// CHECK-LABEL: func.func @per_row(
// CHECK:         } mask {
// CHECK:           memref.load
// CHECK-LABEL: func.func @not_listed(
// CHECK:         } mask {
// CHECK:           memref.load
// CHECK-LABEL: func.func @wide_row(
// CHECK:         } mask {
// CHECK:           memref.load
// CHECK-LABEL: func.func @other_entry(
// CHECK:         } mask {
// CHECK:           memref.load
// CHECK-LABEL: func.func @shared_row(
// CHECK:         } mask {
// CHECK:           memref.load
func.func @uneven(%qt: tensor<128x128xbf16>, %kt: tensor<128x128xbf16>, %vt: tensor<128x128xbf16>, %m0: tensor<128xf32>, %l0: tensor<128xf32>, %a0: tensor<128x128xf32>,
    %L: memref<?x?xi32>, %b: index, %h: index, %qb: index, %sk: index,
    %lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = true}})
    -> tensor<128x128xf32> attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 128, block_kv = 128, warps = 8, stages = 2>} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c128 = arith.constant 128 : index
  %c1_i32 = arith.constant 1 : i32
  %row = arith.muli %qb, %c128 : index
  %n32 = memref.load %lists[%b, %h, %qb, %c0] : memref<?x?x?x?xi32>
  %n = arith.index_cast %n32 : i32 to index
  %r:3 = scf.for %i = %c0 to %n step %c1 iter_args(%m = %m0, %l = %l0, %a = %a0) -> (tensor<128xf32>, tensor<128xf32>, tensor<128x128xf32>) {
    %i1 = arith.addi %i, %c1 : index
    %e = memref.load %lists[%b, %h, %qb, %i1] : memref<?x?x?x?xi32>
    %sh = arith.shrsi %e, %c1_i32 : i32
    %kb = arith.index_cast %sh : i32 to index
    %kv0 = arith.muli %kb, %c128 : index
    %p = arith.constant true
    %m1, %l1, %a1 = attn.online_update %qt, %kt, %vt, %m, %l, %a at(%b, %h, %row, %kv0) kv_bound %sk masked %p params(%L : memref<?x?xi32>) logits {
    ^bb0(%score: f32, %bb: index, %hh: index, %q: index, %kv: index, %t: memref<?x?xi32>):
      attn.yield %score : f32
    } mask {
    ^bb0(%bb: index, %hh: index, %q: index, %kv: index, %t: memref<?x?xi32>):
      %blk = arith.constant 96 : index
      %zero = arith.constant 0 : index
      %qi = arith.floordivsi %q, %blk : index
      %ki = arith.floordivsi %kv, %blk : index
      %x32 = memref.load %t[%qi, %ki] : memref<?x?xi32>
      %x = arith.index_cast %x32 : i32 to index
      %lay = arith.cmpi ne, %x, %zero : index
      %term = arith.andi %lay, %lay : i1
      attn.yield %term : i1
    } : tensor<128x128xbf16>, tensor<128x128xbf16>, tensor<128x128xbf16>, tensor<128xf32>, tensor<128xf32>, tensor<128x128xf32>
    scf.yield %m1, %l1, %a1 : tensor<128xf32>, tensor<128xf32>, tensor<128x128xf32>
  }
  return %r#2 : tensor<128x128xf32>
}
func.func @remainder(%qt: tensor<128x128xbf16>, %kt: tensor<128x128xbf16>, %vt: tensor<128x128xbf16>, %m0: tensor<128xf32>, %l0: tensor<128xf32>, %a0: tensor<128x128xf32>,
    %L: memref<?x?xi32>, %b: index, %h: index, %qb: index, %sk: index,
    %lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = true}})
    -> tensor<128x128xf32> attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 128, block_kv = 128, warps = 8, stages = 2>} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c128 = arith.constant 128 : index
  %c1_i32 = arith.constant 1 : i32
  %row = arith.muli %qb, %c128 : index
  %n32 = memref.load %lists[%b, %h, %qb, %c0] : memref<?x?x?x?xi32>
  %n = arith.index_cast %n32 : i32 to index
  %r:3 = scf.for %i = %c0 to %n step %c1 iter_args(%m = %m0, %l = %l0, %a = %a0) -> (tensor<128xf32>, tensor<128xf32>, tensor<128x128xf32>) {
    %i1 = arith.addi %i, %c1 : index
    %e = memref.load %lists[%b, %h, %qb, %i1] : memref<?x?x?x?xi32>
    %sh = arith.shrsi %e, %c1_i32 : i32
    %kb = arith.index_cast %sh : i32 to index
    %kv0 = arith.muli %kb, %c128 : index
    %p = arith.constant true
    %m1, %l1, %a1 = attn.online_update %qt, %kt, %vt, %m, %l, %a at(%b, %h, %row, %kv0) kv_bound %sk masked %p params(%L : memref<?x?xi32>) logits {
    ^bb0(%score: f32, %bb: index, %hh: index, %q: index, %kv: index, %t: memref<?x?xi32>):
      attn.yield %score : f32
    } mask {
    ^bb0(%bb: index, %hh: index, %q: index, %kv: index, %t: memref<?x?xi32>):
      %blk = arith.constant 128 : index
      %zero = arith.constant 0 : index
      %qi = arith.floordivsi %q, %blk : index
      %ki = arith.floordivsi %kv, %blk : index
      %x32 = memref.load %t[%qi, %ki] : memref<?x?xi32>
      %x = arith.index_cast %x32 : i32 to index
      %two = arith.constant 2 : index
      %odd = arith.remsi %x, %two : index
      %term = arith.cmpi ne, %odd, %zero : index
      attn.yield %term : i1
    } : tensor<128x128xbf16>, tensor<128x128xbf16>, tensor<128x128xbf16>, tensor<128xf32>, tensor<128xf32>, tensor<128x128xf32>
    scf.yield %m1, %l1, %a1 : tensor<128xf32>, tensor<128xf32>, tensor<128x128xf32>
  }
  return %r#2 : tensor<128x128xf32>
}
func.func @unsigned(%qt: tensor<128x128xbf16>, %kt: tensor<128x128xbf16>, %vt: tensor<128x128xbf16>, %m0: tensor<128xf32>, %l0: tensor<128xf32>, %a0: tensor<128x128xf32>,
    %L: memref<?x?xi32>, %b: index, %h: index, %qb: index, %sk: index,
    %lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = true}})
    -> tensor<128x128xf32> attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 128, block_kv = 128, warps = 8, stages = 2>} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c128 = arith.constant 128 : index
  %c1_i32 = arith.constant 1 : i32
  %row = arith.muli %qb, %c128 : index
  %n32 = memref.load %lists[%b, %h, %qb, %c0] : memref<?x?x?x?xi32>
  %n = arith.index_cast %n32 : i32 to index
  %r:3 = scf.for %i = %c0 to %n step %c1 iter_args(%m = %m0, %l = %l0, %a = %a0) -> (tensor<128xf32>, tensor<128xf32>, tensor<128x128xf32>) {
    %i1 = arith.addi %i, %c1 : index
    %e = memref.load %lists[%b, %h, %qb, %i1] : memref<?x?x?x?xi32>
    %sh = arith.shrsi %e, %c1_i32 : i32
    %kb = arith.index_cast %sh : i32 to index
    %kv0 = arith.muli %kb, %c128 : index
    %p = arith.constant true
    %m1, %l1, %a1 = attn.online_update %qt, %kt, %vt, %m, %l, %a at(%b, %h, %row, %kv0) kv_bound %sk masked %p params(%L : memref<?x?xi32>) logits {
    ^bb0(%score: f32, %bb: index, %hh: index, %q: index, %kv: index, %t: memref<?x?xi32>):
      attn.yield %score : f32
    } mask {
    ^bb0(%bb: index, %hh: index, %q: index, %kv: index, %t: memref<?x?xi32>):
      %blk = arith.constant 128 : index
      %zero = arith.constant 0 : index
      %qi = arith.floordivsi %q, %blk : index
      %ki = arith.floordivsi %kv, %blk : index
      %x32 = memref.load %t[%qi, %ki] : memref<?x?xi32>
      %x = arith.index_cast %x32 : i32 to index
      %term = arith.cmpi ugt, %x, %zero : index
      attn.yield %term : i1
    } : tensor<128x128xbf16>, tensor<128x128xbf16>, tensor<128x128xbf16>, tensor<128xf32>, tensor<128xf32>, tensor<128x128xf32>
    scf.yield %m1, %l1, %a1 : tensor<128xf32>, tensor<128xf32>, tensor<128x128xf32>
  }
  return %r#2 : tensor<128x128xf32>
}
func.func @no_read(%qt: tensor<128x128xbf16>, %kt: tensor<128x128xbf16>, %vt: tensor<128x128xbf16>, %m0: tensor<128xf32>, %l0: tensor<128xf32>, %a0: tensor<128x128xf32>,
    %L: memref<?x?xi32>, %b: index, %h: index, %qb: index, %sk: index,
    %lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = true}})
    -> tensor<128x128xf32> attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 128, block_kv = 128, warps = 8, stages = 2>} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c128 = arith.constant 128 : index
  %c1_i32 = arith.constant 1 : i32
  %row = arith.muli %qb, %c128 : index
  %n32 = memref.load %lists[%b, %h, %qb, %c0] : memref<?x?x?x?xi32>
  %n = arith.index_cast %n32 : i32 to index
  %r:3 = scf.for %i = %c0 to %n step %c1 iter_args(%m = %m0, %l = %l0, %a = %a0) -> (tensor<128xf32>, tensor<128xf32>, tensor<128x128xf32>) {
    %i1 = arith.addi %i, %c1 : index
    %e = memref.load %lists[%b, %h, %qb, %i1] : memref<?x?x?x?xi32>
    %sh = arith.shrsi %e, %c1_i32 : i32
    %kb = arith.index_cast %sh : i32 to index
    %kv0 = arith.muli %kb, %c128 : index
    %p = arith.constant true
    %m1, %l1, %a1 = attn.online_update %qt, %kt, %vt, %m, %l, %a at(%b, %h, %row, %kv0) kv_bound %sk masked %p params(%L : memref<?x?xi32>) logits {
    ^bb0(%score: f32, %bb: index, %hh: index, %q: index, %kv: index, %t: memref<?x?xi32>):
      attn.yield %score : f32
    } mask {
    ^bb0(%bb: index, %hh: index, %q: index, %kv: index, %t: memref<?x?xi32>):
      %blk = arith.constant 128 : index
      %zero = arith.constant 0 : index
      %qi = arith.floordivsi %q, %blk : index
      %ki = arith.floordivsi %kv, %blk : index
      %term = arith.cmpi eq, %qi, %ki : index
      attn.yield %term : i1
    } : tensor<128x128xbf16>, tensor<128x128xbf16>, tensor<128x128xbf16>, tensor<128xf32>, tensor<128xf32>, tensor<128x128xf32>
    scf.yield %m1, %l1, %a1 : tensor<128xf32>, tensor<128xf32>, tensor<128x128xf32>
  }
  return %r#2 : tensor<128x128xf32>
}
func.func @per_row(%qt: tensor<128x128xbf16>, %kt: tensor<128x128xbf16>, %vt: tensor<128x128xbf16>, %m0: tensor<128xf32>, %l0: tensor<128xf32>, %a0: tensor<128x128xf32>,
    %L: memref<?x?xi32>, %b: index, %h: index, %qb: index, %sk: index,
    %lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = true}})
    -> tensor<128x128xf32> attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 128, block_kv = 128, warps = 8, stages = 2>} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c128 = arith.constant 128 : index
  %c1_i32 = arith.constant 1 : i32
  %row = arith.muli %qb, %c128 : index
  %n32 = memref.load %lists[%b, %h, %qb, %c0] : memref<?x?x?x?xi32>
  %n = arith.index_cast %n32 : i32 to index
  %r:3 = scf.for %i = %c0 to %n step %c1 iter_args(%m = %m0, %l = %l0, %a = %a0) -> (tensor<128xf32>, tensor<128xf32>, tensor<128x128xf32>) {
    %i1 = arith.addi %i, %c1 : index
    %e = memref.load %lists[%b, %h, %qb, %i1] : memref<?x?x?x?xi32>
    %sh = arith.shrsi %e, %c1_i32 : i32
    %kb = arith.index_cast %sh : i32 to index
    %kv0 = arith.muli %kb, %c128 : index
    %p = arith.constant true
    %m1, %l1, %a1 = attn.online_update %qt, %kt, %vt, %m, %l, %a at(%b, %h, %row, %kv0) kv_bound %sk masked %p params(%L : memref<?x?xi32>) logits {
    ^bb0(%score: f32, %bb: index, %hh: index, %q: index, %kv: index, %t: memref<?x?xi32>):
      attn.yield %score : f32
    } mask {
    ^bb0(%bb: index, %hh: index, %q: index, %kv: index, %t: memref<?x?xi32>):
      %blk = arith.constant 128 : index
      %zero = arith.constant 0 : index
      %ki = arith.floordivsi %kv, %blk : index
      %x32 = memref.load %t[%q, %ki] : memref<?x?xi32>
      %x = arith.index_cast %x32 : i32 to index
      %term = arith.cmpi ne, %x, %zero : index
      attn.yield %term : i1
    } : tensor<128x128xbf16>, tensor<128x128xbf16>, tensor<128x128xbf16>, tensor<128xf32>, tensor<128xf32>, tensor<128x128xf32>
    scf.yield %m1, %l1, %a1 : tensor<128xf32>, tensor<128xf32>, tensor<128x128xf32>
  }
  return %r#2 : tensor<128x128xf32>
}
func.func @not_listed(%qt: tensor<128x128xbf16>, %kt: tensor<128x128xbf16>, %vt: tensor<128x128xbf16>, %m0: tensor<128xf32>, %l0: tensor<128xf32>, %a0: tensor<128x128xf32>,
    %L: memref<?x?xi32>, %b: index, %h: index, %qb: index, %sk: index,
    %lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = true}})
    -> tensor<128x128xf32> attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 128, block_kv = 128, warps = 8, stages = 2>} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c128 = arith.constant 128 : index
  %c1_i32 = arith.constant 1 : i32
  %row = arith.muli %qb, %c128 : index
  %n32 = memref.load %lists[%b, %h, %qb, %c0] : memref<?x?x?x?xi32>
  %n = arith.index_cast %n32 : i32 to index
  %r:3 = scf.for %i = %c0 to %n step %c1 iter_args(%m = %m0, %l = %l0, %a = %a0) -> (tensor<128xf32>, tensor<128xf32>, tensor<128x128xf32>) {
    %i1 = arith.addi %i, %c1 : index
    %kv0 = arith.muli %i, %c128 : index
    %p = arith.constant true
    %m1, %l1, %a1 = attn.online_update %qt, %kt, %vt, %m, %l, %a at(%b, %h, %row, %kv0) kv_bound %sk masked %p params(%L : memref<?x?xi32>) logits {
    ^bb0(%score: f32, %bb: index, %hh: index, %q: index, %kv: index, %t: memref<?x?xi32>):
      attn.yield %score : f32
    } mask {
    ^bb0(%bb: index, %hh: index, %q: index, %kv: index, %t: memref<?x?xi32>):
      %blk = arith.constant 128 : index
      %zero = arith.constant 0 : index
      %qi = arith.floordivsi %q, %blk : index
      %ki = arith.floordivsi %kv, %blk : index
      %x32 = memref.load %t[%qi, %ki] : memref<?x?xi32>
      %x = arith.index_cast %x32 : i32 to index
      %lay = arith.cmpi ne, %x, %zero : index
      %term = arith.andi %lay, %lay : i1
      attn.yield %term : i1
    } : tensor<128x128xbf16>, tensor<128x128xbf16>, tensor<128x128xbf16>, tensor<128xf32>, tensor<128xf32>, tensor<128x128xf32>
    scf.yield %m1, %l1, %a1 : tensor<128xf32>, tensor<128xf32>, tensor<128x128xf32>
  }
  return %r#2 : tensor<128x128xf32>
}
func.func @wide_row(%qt: tensor<128x128xbf16>, %kt: tensor<128x128xbf16>, %vt: tensor<128x128xbf16>, %m0: tensor<128xf32>, %l0: tensor<128xf32>, %a0: tensor<128x128xf32>,
    %L: memref<?x?xi32>, %b: index, %h: index, %qb: index, %sk: index,
    %lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = true}})
    -> tensor<128x128xf32> attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 128, block_kv = 128, warps = 8, stages = 2>} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c128 = arith.constant 128 : index
  %c1_i32 = arith.constant 1 : i32
  %c256 = arith.constant 256 : index
  %row = arith.muli %qb, %c256 : index
  %n32 = memref.load %lists[%b, %h, %qb, %c0] : memref<?x?x?x?xi32>
  %n = arith.index_cast %n32 : i32 to index
  %r:3 = scf.for %i = %c0 to %n step %c1 iter_args(%m = %m0, %l = %l0, %a = %a0) -> (tensor<128xf32>, tensor<128xf32>, tensor<128x128xf32>) {
    %i1 = arith.addi %i, %c1 : index
    %e = memref.load %lists[%b, %h, %qb, %i1] : memref<?x?x?x?xi32>
    %sh = arith.shrsi %e, %c1_i32 : i32
    %kb = arith.index_cast %sh : i32 to index
    %kv0 = arith.muli %kb, %c128 : index
    %p = arith.constant true
    %m1, %l1, %a1 = attn.online_update %qt, %kt, %vt, %m, %l, %a at(%b, %h, %row, %kv0) kv_bound %sk masked %p params(%L : memref<?x?xi32>) logits {
    ^bb0(%score: f32, %bb: index, %hh: index, %q: index, %kv: index, %t: memref<?x?xi32>):
      attn.yield %score : f32
    } mask {
    ^bb0(%bb: index, %hh: index, %q: index, %kv: index, %t: memref<?x?xi32>):
      %blk = arith.constant 256 : index
      %zero = arith.constant 0 : index
      %qi = arith.floordivsi %q, %blk : index
      %ki = arith.floordivsi %kv, %blk : index
      %x32 = memref.load %t[%qi, %ki] : memref<?x?xi32>
      %x = arith.index_cast %x32 : i32 to index
      %lay = arith.cmpi ne, %x, %zero : index
      %term = arith.andi %lay, %lay : i1
      attn.yield %term : i1
    } : tensor<128x128xbf16>, tensor<128x128xbf16>, tensor<128x128xbf16>, tensor<128xf32>, tensor<128xf32>, tensor<128x128xf32>
    scf.yield %m1, %l1, %a1 : tensor<128xf32>, tensor<128xf32>, tensor<128x128xf32>
  }
  return %r#2 : tensor<128x128xf32>
}
func.func @other_entry(%qt: tensor<128x128xbf16>, %kt: tensor<128x128xbf16>, %vt: tensor<128x128xbf16>, %m0: tensor<128xf32>, %l0: tensor<128xf32>, %a0: tensor<128x128xf32>,
    %L: memref<?x?xi32>, %b: index, %h: index, %qb: index, %sk: index,
    %lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = true}})
    -> tensor<128x128xf32> attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 128, block_kv = 128, warps = 8, stages = 2>} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c128 = arith.constant 128 : index
  %c1_i32 = arith.constant 1 : i32
  %row = arith.muli %qb, %c128 : index
  %n32 = memref.load %lists[%b, %h, %qb, %c0] : memref<?x?x?x?xi32>
  %n = arith.index_cast %n32 : i32 to index
  %r:3 = scf.for %i = %c0 to %n step %c1 iter_args(%m = %m0, %l = %l0, %a = %a0) -> (tensor<128xf32>, tensor<128xf32>, tensor<128x128xf32>) {
    %i1 = arith.addi %i, %c1 : index
    %e = memref.load %lists[%b, %h, %qb, %i] : memref<?x?x?x?xi32>
    %sh = arith.shrsi %e, %c1_i32 : i32
    %kb = arith.index_cast %sh : i32 to index
    %kv0 = arith.muli %kb, %c128 : index
    %p = arith.constant true
    %m1, %l1, %a1 = attn.online_update %qt, %kt, %vt, %m, %l, %a at(%b, %h, %row, %kv0) kv_bound %sk masked %p params(%L : memref<?x?xi32>) logits {
    ^bb0(%score: f32, %bb: index, %hh: index, %q: index, %kv: index, %t: memref<?x?xi32>):
      attn.yield %score : f32
    } mask {
    ^bb0(%bb: index, %hh: index, %q: index, %kv: index, %t: memref<?x?xi32>):
      %blk = arith.constant 128 : index
      %zero = arith.constant 0 : index
      %qi = arith.floordivsi %q, %blk : index
      %ki = arith.floordivsi %kv, %blk : index
      %x32 = memref.load %t[%qi, %ki] : memref<?x?xi32>
      %x = arith.index_cast %x32 : i32 to index
      %lay = arith.cmpi ne, %x, %zero : index
      %term = arith.andi %lay, %lay : i1
      attn.yield %term : i1
    } : tensor<128x128xbf16>, tensor<128x128xbf16>, tensor<128x128xbf16>, tensor<128xf32>, tensor<128xf32>, tensor<128x128xf32>
    scf.yield %m1, %l1, %a1 : tensor<128xf32>, tensor<128xf32>, tensor<128x128xf32>
  }
  return %r#2 : tensor<128x128xf32>
}
func.func @shared_row(%qt: tensor<128x128xbf16>, %kt: tensor<128x128xbf16>, %vt: tensor<128x128xbf16>, %m0: tensor<128xf32>, %l0: tensor<128xf32>, %a0: tensor<128x128xf32>,
    %L: memref<?x?xi32>, %b: index, %h: index, %qb: index, %sk: index,
    %lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = true}})
    -> tensor<128x128xf32> attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 128, block_kv = 128, warps = 8, stages = 2>} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c128 = arith.constant 128 : index
  %c1_i32 = arith.constant 1 : i32
  %row = arith.muli %qb, %c128 : index
  %n32 = memref.load %lists[%c0, %h, %qb, %c0] : memref<?x?x?x?xi32>
  %n = arith.index_cast %n32 : i32 to index
  %r:3 = scf.for %i = %c0 to %n step %c1 iter_args(%m = %m0, %l = %l0, %a = %a0) -> (tensor<128xf32>, tensor<128xf32>, tensor<128x128xf32>) {
    %i1 = arith.addi %i, %c1 : index
    %e = memref.load %lists[%c0, %h, %qb, %i1] : memref<?x?x?x?xi32>
    %sh = arith.shrsi %e, %c1_i32 : i32
    %kb = arith.index_cast %sh : i32 to index
    %kv0 = arith.muli %kb, %c128 : index
    %p = arith.constant true
    %m1, %l1, %a1 = attn.online_update %qt, %kt, %vt, %m, %l, %a at(%b, %h, %row, %kv0) kv_bound %sk masked %p params(%L : memref<?x?xi32>) logits {
    ^bb0(%score: f32, %bb: index, %hh: index, %q: index, %kv: index, %t: memref<?x?xi32>):
      attn.yield %score : f32
    } mask {
    ^bb0(%bb: index, %hh: index, %q: index, %kv: index, %t: memref<?x?xi32>):
      %blk = arith.constant 128 : index
      %zero = arith.constant 0 : index
      %qi = arith.floordivsi %q, %blk : index
      %ki = arith.floordivsi %kv, %blk : index
      %bi = arith.addi %qi, %bb : index
      %x32 = memref.load %t[%bi, %ki] : memref<?x?xi32>
      %x = arith.index_cast %x32 : i32 to index
      %term = arith.cmpi ne, %x, %zero : index
      attn.yield %term : i1
    } : tensor<128x128xbf16>, tensor<128x128xbf16>, tensor<128x128xbf16>, tensor<128xf32>, tensor<128xf32>, tensor<128x128xf32>
    scf.yield %m1, %l1, %a1 : tensor<128xf32>, tensor<128xf32>, tensor<128x128xf32>
  }
  return %r#2 : tensor<128x128xf32>
}
