// RUN: faopt-opt %s --attn-drop-listed-tile-terms --split-input-file | FileCheck %s

// A block layout's term in the masked map of a list-driven loop (the
// column from a list entry, 2 * kb + partial; the row the list row's
// q-block): uniform over the 128 x 128 tile (blocks of 256, a multiple) and
// modelled exactly by the builder, so true in every listed tile: replaced
// by true, its read gone; the sequence bound stays.

// CHECK-LABEL: func.func @layout(
// CHECK:         attn.tile_map
// CHECK-NEXT:    ^bb0
// CHECK-NOT:       memref.load
// CHECK:           %[[TRUE:.*]] = arith.constant true
// CHECK:           %[[IN:.*]] = arith.cmpi slt, %kv, %arg6
// CHECK:           arith.andi %[[TRUE]], %[[IN]]
// CHECK:           arith.select
func.func @layout(%L: memref<?x?xi32>, %s: tensor<128x128xf32>, %b: index, %h: index, %qb: index, %n: index, %sk: index,
    %lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = true}})
    -> tensor<128x128xf32> attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 128, block_kv = 128, warps = 8, stages = 2>} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c128 = arith.constant 128 : index
  %c1_i32 = arith.constant 1 : i32
  %ninf = arith.constant 0xFF800000 : f32
  %row = arith.muli %qb, %c128 : index
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %s) -> (tensor<128x128xf32>) {
        %i1 = arith.addi %i, %c1 : index
        %e = memref.load %lists[%b, %h, %qb, %i1] : memref<?x?x?x?xi32>
        %sh = arith.shrsi %e, %c1_i32 : i32
        %kb = arith.index_cast %sh : i32 to index
        %kv0 = arith.muli %kb, %c128 : index
    %m = attn.tile_map %acc at(%b, %h, %row, %kv0) {
    ^bb0(%score: f32, %bb: index, %hh: index, %q: index, %kv: index):
      %blk = arith.constant 256 : index
      %zero = arith.constant 0 : index
      %qi = arith.floordivsi %q, %blk : index
      %ki = arith.floordivsi %kv, %blk : index
      %x32 = memref.load %L[%qi, %ki] : memref<?x?xi32>
      %x = arith.index_cast %x32 : i32 to index
      %term = arith.cmpi ne, %x, %zero : index
      %inside = arith.cmpi slt, %kv, %sk : index
      %all = arith.andi %term, %inside : i1
      %v = arith.select %all, %score, %ninf : f32
      attn.yield %v : f32
    } : tensor<128x128xf32>
    scf.yield %m : tensor<128x128xf32>
  }
  return %r : tensor<128x128xf32>
}

// -----

// Left alone: blocks of 96 are not a multiple of the 128-row tile (the
// term changes inside a tile) (@uneven); a remainder, which the builder's
// intervals do not model (@remainder); an unsigned compare, likewise
// (@unsigned); a term without a read (cheap per score) (@no_read); a read
// at q itself, not q / B (@per_row); a column not taken from the lists
// (@not_listed).

// CHECK-LABEL: func.func @uneven(
// CHECK:         memref.load %arg0
// CHECK-LABEL: func.func @remainder(
// CHECK:         memref.load %arg0
// CHECK:         arith.remsi
// CHECK-LABEL: func.func @unsigned(
// CHECK:         memref.load %arg0
// CHECK:         arith.cmpi ugt
// CHECK-LABEL: func.func @no_read(
// CHECK:         arith.cmpi eq
// CHECK-NOT:     arith.constant true
// CHECK-LABEL: func.func @per_row(
// CHECK:         memref.load %arg0
// CHECK-LABEL: func.func @not_listed(
// CHECK:         memref.load %arg0
func.func @uneven(%L: memref<?x?xi32>, %s: tensor<128x128xf32>, %b: index, %h: index, %qb: index, %n: index, %sk: index,
    %lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = true}})
    -> tensor<128x128xf32> attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 128, block_kv = 128, warps = 8, stages = 2>} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c128 = arith.constant 128 : index
  %c1_i32 = arith.constant 1 : i32
  %ninf = arith.constant 0xFF800000 : f32
  %row = arith.muli %qb, %c128 : index
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %s) -> (tensor<128x128xf32>) {
        %i1 = arith.addi %i, %c1 : index
        %e = memref.load %lists[%b, %h, %qb, %i1] : memref<?x?x?x?xi32>
        %sh = arith.shrsi %e, %c1_i32 : i32
        %kb = arith.index_cast %sh : i32 to index
        %kv0 = arith.muli %kb, %c128 : index
    %m = attn.tile_map %acc at(%b, %h, %row, %kv0) {
    ^bb0(%score: f32, %bb: index, %hh: index, %q: index, %kv: index):
      %blk = arith.constant 96 : index
      %zero = arith.constant 0 : index
      %qi = arith.floordivsi %q, %blk : index
      %ki = arith.floordivsi %kv, %blk : index
      %x32 = memref.load %L[%qi, %ki] : memref<?x?xi32>
      %x = arith.index_cast %x32 : i32 to index
      %term = arith.cmpi ne, %x, %zero : index
      %inside = arith.cmpi slt, %kv, %sk : index
      %all = arith.andi %term, %inside : i1
      %v = arith.select %all, %score, %ninf : f32
      attn.yield %v : f32
    } : tensor<128x128xf32>
    scf.yield %m : tensor<128x128xf32>
  }
  return %r : tensor<128x128xf32>
}
func.func @remainder(%L: memref<?x?xi32>, %s: tensor<128x128xf32>, %b: index, %h: index, %qb: index, %n: index, %sk: index,
    %lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = true}})
    -> tensor<128x128xf32> attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 128, block_kv = 128, warps = 8, stages = 2>} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c128 = arith.constant 128 : index
  %c1_i32 = arith.constant 1 : i32
  %ninf = arith.constant 0xFF800000 : f32
  %row = arith.muli %qb, %c128 : index
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %s) -> (tensor<128x128xf32>) {
        %i1 = arith.addi %i, %c1 : index
        %e = memref.load %lists[%b, %h, %qb, %i1] : memref<?x?x?x?xi32>
        %sh = arith.shrsi %e, %c1_i32 : i32
        %kb = arith.index_cast %sh : i32 to index
        %kv0 = arith.muli %kb, %c128 : index
    %m = attn.tile_map %acc at(%b, %h, %row, %kv0) {
    ^bb0(%score: f32, %bb: index, %hh: index, %q: index, %kv: index):
      %blk = arith.constant 128 : index
      %zero = arith.constant 0 : index
      %qi = arith.floordivsi %q, %blk : index
      %ki = arith.floordivsi %kv, %blk : index
      %x32 = memref.load %L[%qi, %ki] : memref<?x?xi32>
      %x = arith.index_cast %x32 : i32 to index
      %two = arith.constant 2 : index
      %odd = arith.remsi %x, %two : index
      %term = arith.cmpi ne, %odd, %zero : index
      %inside = arith.cmpi slt, %kv, %sk : index
      %all = arith.andi %term, %inside : i1
      %v = arith.select %all, %score, %ninf : f32
      attn.yield %v : f32
    } : tensor<128x128xf32>
    scf.yield %m : tensor<128x128xf32>
  }
  return %r : tensor<128x128xf32>
}
func.func @unsigned(%L: memref<?x?xi32>, %s: tensor<128x128xf32>, %b: index, %h: index, %qb: index, %n: index, %sk: index,
    %lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = true}})
    -> tensor<128x128xf32> attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 128, block_kv = 128, warps = 8, stages = 2>} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c128 = arith.constant 128 : index
  %c1_i32 = arith.constant 1 : i32
  %ninf = arith.constant 0xFF800000 : f32
  %row = arith.muli %qb, %c128 : index
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %s) -> (tensor<128x128xf32>) {
        %i1 = arith.addi %i, %c1 : index
        %e = memref.load %lists[%b, %h, %qb, %i1] : memref<?x?x?x?xi32>
        %sh = arith.shrsi %e, %c1_i32 : i32
        %kb = arith.index_cast %sh : i32 to index
        %kv0 = arith.muli %kb, %c128 : index
    %m = attn.tile_map %acc at(%b, %h, %row, %kv0) {
    ^bb0(%score: f32, %bb: index, %hh: index, %q: index, %kv: index):
      %blk = arith.constant 128 : index
      %zero = arith.constant 0 : index
      %qi = arith.floordivsi %q, %blk : index
      %ki = arith.floordivsi %kv, %blk : index
      %x32 = memref.load %L[%qi, %ki] : memref<?x?xi32>
      %x = arith.index_cast %x32 : i32 to index
      %term = arith.cmpi ugt, %x, %zero : index
      %inside = arith.cmpi slt, %kv, %sk : index
      %all = arith.andi %term, %inside : i1
      %v = arith.select %all, %score, %ninf : f32
      attn.yield %v : f32
    } : tensor<128x128xf32>
    scf.yield %m : tensor<128x128xf32>
  }
  return %r : tensor<128x128xf32>
}
func.func @no_read(%L: memref<?x?xi32>, %s: tensor<128x128xf32>, %b: index, %h: index, %qb: index, %n: index, %sk: index,
    %lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = true}})
    -> tensor<128x128xf32> attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 128, block_kv = 128, warps = 8, stages = 2>} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c128 = arith.constant 128 : index
  %c1_i32 = arith.constant 1 : i32
  %ninf = arith.constant 0xFF800000 : f32
  %row = arith.muli %qb, %c128 : index
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %s) -> (tensor<128x128xf32>) {
        %i1 = arith.addi %i, %c1 : index
        %e = memref.load %lists[%b, %h, %qb, %i1] : memref<?x?x?x?xi32>
        %sh = arith.shrsi %e, %c1_i32 : i32
        %kb = arith.index_cast %sh : i32 to index
        %kv0 = arith.muli %kb, %c128 : index
    %m = attn.tile_map %acc at(%b, %h, %row, %kv0) {
    ^bb0(%score: f32, %bb: index, %hh: index, %q: index, %kv: index):
      %blk = arith.constant 128 : index
      %zero = arith.constant 0 : index
      %qi = arith.floordivsi %q, %blk : index
      %ki = arith.floordivsi %kv, %blk : index
      %term = arith.cmpi eq, %qi, %ki : index
      %inside = arith.cmpi slt, %kv, %sk : index
      %all = arith.andi %term, %inside : i1
      %v = arith.select %all, %score, %ninf : f32
      attn.yield %v : f32
    } : tensor<128x128xf32>
    scf.yield %m : tensor<128x128xf32>
  }
  return %r : tensor<128x128xf32>
}
func.func @per_row(%L: memref<?x?xi32>, %s: tensor<128x128xf32>, %b: index, %h: index, %qb: index, %n: index, %sk: index,
    %lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = true}})
    -> tensor<128x128xf32> attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 128, block_kv = 128, warps = 8, stages = 2>} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c128 = arith.constant 128 : index
  %c1_i32 = arith.constant 1 : i32
  %ninf = arith.constant 0xFF800000 : f32
  %row = arith.muli %qb, %c128 : index
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %s) -> (tensor<128x128xf32>) {
        %i1 = arith.addi %i, %c1 : index
        %e = memref.load %lists[%b, %h, %qb, %i1] : memref<?x?x?x?xi32>
        %sh = arith.shrsi %e, %c1_i32 : i32
        %kb = arith.index_cast %sh : i32 to index
        %kv0 = arith.muli %kb, %c128 : index
    %m = attn.tile_map %acc at(%b, %h, %row, %kv0) {
    ^bb0(%score: f32, %bb: index, %hh: index, %q: index, %kv: index):
      %blk = arith.constant 128 : index
      %zero = arith.constant 0 : index
      %ki = arith.floordivsi %kv, %blk : index
      %x32 = memref.load %L[%q, %ki] : memref<?x?xi32>
      %x = arith.index_cast %x32 : i32 to index
      %term = arith.cmpi ne, %x, %zero : index
      %inside = arith.cmpi slt, %kv, %sk : index
      %all = arith.andi %term, %inside : i1
      %v = arith.select %all, %score, %ninf : f32
      attn.yield %v : f32
    } : tensor<128x128xf32>
    scf.yield %m : tensor<128x128xf32>
  }
  return %r : tensor<128x128xf32>
}
func.func @not_listed(%L: memref<?x?xi32>, %s: tensor<128x128xf32>, %b: index, %h: index, %qb: index, %n: index, %sk: index,
    %lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = true}})
    -> tensor<128x128xf32> attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 128, block_kv = 128, warps = 8, stages = 2>} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c128 = arith.constant 128 : index
  %c1_i32 = arith.constant 1 : i32
  %ninf = arith.constant 0xFF800000 : f32
  %row = arith.muli %qb, %c128 : index
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %s) -> (tensor<128x128xf32>) {
        %i1 = arith.addi %i, %c1 : index
        %kv0 = arith.muli %i, %c128 : index
    %m = attn.tile_map %acc at(%b, %h, %row, %kv0) {
    ^bb0(%score: f32, %bb: index, %hh: index, %q: index, %kv: index):
      %blk = arith.constant 128 : index
      %zero = arith.constant 0 : index
      %qi = arith.floordivsi %q, %blk : index
      %ki = arith.floordivsi %kv, %blk : index
      %x32 = memref.load %L[%qi, %ki] : memref<?x?xi32>
      %x = arith.index_cast %x32 : i32 to index
      %term = arith.cmpi ne, %x, %zero : index
      %inside = arith.cmpi slt, %kv, %sk : index
      %all = arith.andi %term, %inside : i1
      %v = arith.select %all, %score, %ninf : f32
      attn.yield %v : f32
    } : tensor<128x128xf32>
    scf.yield %m : tensor<128x128xf32>
  }
  return %r : tensor<128x128xf32>
}
