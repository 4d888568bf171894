// RUN: faopt-opt %s --split-input-file --attn-hoist-tile-uniform-terms | FileCheck %s

// A layout term over 64 x 64 blocks in 32 x 32 tiles (the tile starts at
// multiples of 32): evaluated once, at the tile's first row and column,
// before the tile_map; the body keeps the causal compare and uses it.

// CHECK-LABEL: func.func @layout_blocks_of_two_tiles(
// CHECK:         %[[ROW:.*]] = arith.muli %arg3, %c32
// CHECK:         %[[COL:.*]] = arith.muli %arg4, %c32
// CHECK:         %[[QB:.*]] = arith.floordivsi %[[ROW]], %c64
// CHECK:         %[[KB:.*]] = arith.floordivsi %[[COL]], %c64
// CHECK:         %[[L:.*]] = memref.load %arg1[%[[QB]], %[[KB]]]
// CHECK:         %[[T:.*]] = arith.cmpi ne, %[[L]]
// CHECK:         attn.tile_map %arg0 at(%arg2, %c0, %[[ROW]], %[[COL]]) {
// CHECK-NEXT:    ^bb0(%{{.*}}: f32, %{{.*}}: index, %{{.*}}: index, %[[Q:.*]]: index, %[[KV:.*]]: index):
// CHECK-NEXT:      %[[C:.*]] = arith.cmpi sge, %[[Q]], %[[KV]]
// CHECK-NEXT:      %[[BOTH:.*]] = arith.andi %[[C]], %[[T]] : i1
// CHECK-NEXT:      arith.select %[[BOTH]]
// CHECK-NEXT:      attn.yield

#tiling = #attn.tiling<block_q = 32, block_kv = 32, warps = 1, stages = 1, mma = "mma_sync", copy = "cp_async">
func.func @layout_blocks_of_two_tiles(%s: tensor<32x32xf32>, %lay: memref<?x?xi32>, %b: index, %i: index, %j: index, %rowarg: index) -> tensor<32x32xf32> attributes {attn.tiling = #tiling} {
  %c0 = arith.constant 0 : index
  %c64 = arith.constant 64 : index
  %c32 = arith.constant 32 : index
  %ninf = arith.constant 0xFF800000 : f32
  %row = arith.muli %i, %c32 : index
  %col = arith.muli %j, %c32 : index
  %m = attn.tile_map %s at(%b, %c0, %row, %col) {
  ^bb0(%x: f32, %bb: index, %h: index, %q: index, %kv: index):
    %causal = arith.cmpi sge, %q, %kv : index
    %qb = arith.floordivsi %q, %c64 : index
    %kb = arith.floordivsi %kv, %c64 : index
    %l = memref.load %lay[%qb, %kb] : memref<?x?xi32>
    %c0i = arith.constant 0 : i32
    %t = arith.cmpi ne, %l, %c0i : i32
    %both = arith.andi %causal, %t : i1
    %v = arith.select %both, %x, %ninf : f32
    attn.yield %v : f32
  } : tensor<32x32xf32>
  return %m : tensor<32x32xf32>
}


// -----

// block_q = 64, block_kv = 32: q / 64 and kv / 32 are uniform over a
// 64 x 32 tile; the batch index maps to the tile_map's batch.

// CHECK-LABEL: func.func @rect_tile_batch_layout(
// CHECK:         %[[ROW:.*]] = arith.muli %arg3, %c64
// CHECK:         %[[COL:.*]] = arith.muli %arg4, %c32
// CHECK:         %[[QB:.*]] = arith.floordivsi %[[ROW]], %c64
// CHECK:         %[[KB:.*]] = arith.floordivsi %[[COL]], %c32
// CHECK:         memref.load %arg1[%arg2, %[[QB]], %[[KB]]]
// CHECK:         attn.tile_map %arg0 at(%arg2, %c0, %[[ROW]], %[[COL]]) {
// CHECK-NOT:       memref.load
// CHECK:           attn.yield

#tiling = #attn.tiling<block_q = 64, block_kv = 32, warps = 1, stages = 1, mma = "mma_sync", copy = "cp_async">
func.func @rect_tile_batch_layout(%s: tensor<64x32xf32>, %lay: memref<?x?x?xi32>, %b: index, %i: index, %j: index) -> tensor<64x32xf32> attributes {attn.tiling = #tiling} {
  %c0 = arith.constant 0 : index
  %c32 = arith.constant 32 : index
  %c64 = arith.constant 64 : index
  %ninf = arith.constant 0xFF800000 : f32
  %row = arith.muli %i, %c64 : index
  %col = arith.muli %j, %c32 : index
  %m = attn.tile_map %s at(%b, %c0, %row, %col) {
  ^bb0(%x: f32, %bb: index, %h: index, %q: index, %kv: index):
    %qb = arith.floordivsi %q, %c64 : index
    %kb = arith.floordivsi %kv, %c32 : index
    %l = memref.load %lay[%bb, %qb, %kb] : memref<?x?x?xi32>
    %c0i = arith.constant 0 : i32
    %t = arith.cmpi ne, %l, %c0i : i32
    %v = arith.select %t, %x, %ninf : f32
    attn.yield %v : f32
  } : tensor<64x32xf32>
  return %m : tensor<64x32xf32>
}
// -----

// Left alone: blocks that are not a multiple of the tile (48 on q and kv;
// 64 on q with 48 on kv), a term that reads no tensor (a chunk's q / 64 ==
// kv / 64), a read at q and kv themselves, a term that uses the score, a
// tile whose first row is not known to be a multiple of the tile (an
// argument; a multiple of 16), a tile taller than block_q, and a body that
// writes memory.

// CHECK-LABEL: func.func @blocks_of_48(
// CHECK:         attn.tile_map
// CHECK:           memref.load
// CHECK-LABEL: func.func @kv_blocks_of_48(
// CHECK:         attn.tile_map
// CHECK:           memref.load
// CHECK-LABEL: func.func @chunk_without_tensor(
// CHECK:         attn.tile_map
// CHECK-NEXT:    ^bb0
// CHECK-NEXT:      arith.cmpi sge
// CHECK-NEXT:      arith.floordivsi
// CHECK-LABEL: func.func @read_at_positions(
// CHECK:         attn.tile_map
// CHECK:           memref.load
// CHECK-LABEL: func.func @score_term(
// CHECK:         attn.tile_map
// CHECK:           memref.load
// CHECK-LABEL: func.func @unaligned_row(
// CHECK:         attn.tile_map
// CHECK:           memref.load
// CHECK-LABEL: func.func @row_multiple_of_16(
// CHECK:         attn.tile_map
// CHECK:           memref.load
// CHECK-LABEL: func.func @tall_tile(
// CHECK:         attn.tile_map
// CHECK:           memref.load
// CHECK-LABEL: func.func @body_writes(
// CHECK:         attn.tile_map
// CHECK:           memref.load

#tiling = #attn.tiling<block_q = 32, block_kv = 32, warps = 1, stages = 1, mma = "mma_sync", copy = "cp_async">
func.func @blocks_of_48(%s: tensor<32x32xf32>, %lay: memref<?x?xi32>, %b: index, %i: index, %j: index, %rowarg: index) -> tensor<32x32xf32> attributes {attn.tiling = #tiling} {
  %c0 = arith.constant 0 : index
  %c16 = arith.constant 16 : index
  %c32 = arith.constant 32 : index
  %c64 = arith.constant 64 : index
  %ninf = arith.constant 0xFF800000 : f32
  %row = arith.muli %i, %c32 : index
  %col = arith.muli %j, %c32 : index
  %m = attn.tile_map %s at(%b, %c0, %row, %col) {
  ^bb0(%x: f32, %bb: index, %h: index, %q: index, %kv: index):
    %causal = arith.cmpi sge, %q, %kv : index
    %c48 = arith.constant 48 : index
    %qb = arith.floordivsi %q, %c48 : index
    %kb = arith.floordivsi %kv, %c48 : index
    %l = memref.load %lay[%qb, %kb] : memref<?x?xi32>
    %c0i = arith.constant 0 : i32
    %t = arith.cmpi ne, %l, %c0i : i32
    %both = arith.andi %causal, %t : i1
    %v = arith.select %both, %x, %ninf : f32
    attn.yield %v : f32
  } : tensor<32x32xf32>
  return %m : tensor<32x32xf32>
}
func.func @kv_blocks_of_48(%s: tensor<32x32xf32>, %lay: memref<?x?xi32>, %b: index, %i: index, %j: index, %rowarg: index) -> tensor<32x32xf32> attributes {attn.tiling = #tiling} {
  %c0 = arith.constant 0 : index
  %c16 = arith.constant 16 : index
  %c32 = arith.constant 32 : index
  %c64 = arith.constant 64 : index
  %ninf = arith.constant 0xFF800000 : f32
  %row = arith.muli %i, %c32 : index
  %col = arith.muli %j, %c32 : index
  %m = attn.tile_map %s at(%b, %c0, %row, %col) {
  ^bb0(%x: f32, %bb: index, %h: index, %q: index, %kv: index):
    %causal = arith.cmpi sge, %q, %kv : index
    %c48 = arith.constant 48 : index
    %qb = arith.floordivsi %q, %c64 : index
    %kb = arith.floordivsi %kv, %c48 : index
    %l = memref.load %lay[%qb, %kb] : memref<?x?xi32>
    %c0i = arith.constant 0 : i32
    %t = arith.cmpi ne, %l, %c0i : i32
    %both = arith.andi %causal, %t : i1
    %v = arith.select %both, %x, %ninf : f32
    attn.yield %v : f32
  } : tensor<32x32xf32>
  return %m : tensor<32x32xf32>
}
func.func @chunk_without_tensor(%s: tensor<32x32xf32>, %lay: memref<?x?xi32>, %b: index, %i: index, %j: index, %rowarg: index) -> tensor<32x32xf32> attributes {attn.tiling = #tiling} {
  %c0 = arith.constant 0 : index
  %c16 = arith.constant 16 : index
  %c32 = arith.constant 32 : index
  %c64 = arith.constant 64 : index
  %ninf = arith.constant 0xFF800000 : f32
  %row = arith.muli %i, %c32 : index
  %col = arith.muli %j, %c32 : index
  %m = attn.tile_map %s at(%b, %c0, %row, %col) {
  ^bb0(%x: f32, %bb: index, %h: index, %q: index, %kv: index):
    %causal = arith.cmpi sge, %q, %kv : index
    %qc = arith.floordivsi %q, %c64 : index
    %kc = arith.floordivsi %kv, %c64 : index
    %t = arith.cmpi eq, %qc, %kc : index
    %both = arith.andi %causal, %t : i1
    %v = arith.select %both, %x, %ninf : f32
    attn.yield %v : f32
  } : tensor<32x32xf32>
  return %m : tensor<32x32xf32>
}
func.func @read_at_positions(%s: tensor<32x32xf32>, %lay: memref<?x?xi32>, %b: index, %i: index, %j: index, %rowarg: index) -> tensor<32x32xf32> attributes {attn.tiling = #tiling} {
  %c0 = arith.constant 0 : index
  %c16 = arith.constant 16 : index
  %c32 = arith.constant 32 : index
  %c64 = arith.constant 64 : index
  %ninf = arith.constant 0xFF800000 : f32
  %row = arith.muli %i, %c32 : index
  %col = arith.muli %j, %c32 : index
  %m = attn.tile_map %s at(%b, %c0, %row, %col) {
  ^bb0(%x: f32, %bb: index, %h: index, %q: index, %kv: index):
    %causal = arith.cmpi sge, %q, %kv : index
    %l = memref.load %lay[%q, %kv] : memref<?x?xi32>
    %c0i = arith.constant 0 : i32
    %t = arith.cmpi ne, %l, %c0i : i32
    %both = arith.andi %causal, %t : i1
    %v = arith.select %both, %x, %ninf : f32
    attn.yield %v : f32
  } : tensor<32x32xf32>
  return %m : tensor<32x32xf32>
}
func.func @score_term(%s: tensor<32x32xf32>, %lay: memref<?x?xi32>, %b: index, %i: index, %j: index, %rowarg: index) -> tensor<32x32xf32> attributes {attn.tiling = #tiling} {
  %c0 = arith.constant 0 : index
  %c16 = arith.constant 16 : index
  %c32 = arith.constant 32 : index
  %c64 = arith.constant 64 : index
  %ninf = arith.constant 0xFF800000 : f32
  %row = arith.muli %i, %c32 : index
  %col = arith.muli %j, %c32 : index
  %m = attn.tile_map %s at(%b, %c0, %row, %col) {
  ^bb0(%x: f32, %bb: index, %h: index, %q: index, %kv: index):
    %causal = arith.cmpi sge, %q, %kv : index
    %qb = arith.floordivsi %q, %c64 : index
    %kb = arith.floordivsi %kv, %c64 : index
    %l = memref.load %lay[%qb, %kb] : memref<?x?xi32>
    %xi = arith.fptosi %x : f32 to i32
    %t = arith.cmpi ne, %l, %xi : i32
    %both = arith.andi %causal, %t : i1
    %v = arith.select %both, %x, %ninf : f32
    attn.yield %v : f32
  } : tensor<32x32xf32>
  return %m : tensor<32x32xf32>
}
func.func @unaligned_row(%s: tensor<32x32xf32>, %lay: memref<?x?xi32>, %b: index, %i: index, %j: index, %rowarg: index) -> tensor<32x32xf32> attributes {attn.tiling = #tiling} {
  %c0 = arith.constant 0 : index
  %c16 = arith.constant 16 : index
  %c32 = arith.constant 32 : index
  %c64 = arith.constant 64 : index
  %ninf = arith.constant 0xFF800000 : f32
  %row = arith.muli %i, %c32 : index
  %col = arith.muli %j, %c32 : index
  %m = attn.tile_map %s at(%b, %c0, %rowarg, %col) {
  ^bb0(%x: f32, %bb: index, %h: index, %q: index, %kv: index):
    %causal = arith.cmpi sge, %q, %kv : index
    %qb = arith.floordivsi %q, %c64 : index
    %kb = arith.floordivsi %kv, %c64 : index
    %l = memref.load %lay[%qb, %kb] : memref<?x?xi32>
    %c0i = arith.constant 0 : i32
    %t = arith.cmpi ne, %l, %c0i : i32
    %both = arith.andi %causal, %t : i1
    %v = arith.select %both, %x, %ninf : f32
    attn.yield %v : f32
  } : tensor<32x32xf32>
  return %m : tensor<32x32xf32>
}
func.func @row_multiple_of_16(%s: tensor<32x32xf32>, %lay: memref<?x?xi32>, %b: index, %i: index, %j: index, %rowarg: index) -> tensor<32x32xf32> attributes {attn.tiling = #tiling} {
  %c0 = arith.constant 0 : index
  %c16 = arith.constant 16 : index
  %c32 = arith.constant 32 : index
  %c64 = arith.constant 64 : index
  %ninf = arith.constant 0xFF800000 : f32
  %row = arith.muli %i, %c16 : index
  %col = arith.muli %j, %c32 : index
  %m = attn.tile_map %s at(%b, %c0, %row, %col) {
  ^bb0(%x: f32, %bb: index, %h: index, %q: index, %kv: index):
    %causal = arith.cmpi sge, %q, %kv : index
    %qb = arith.floordivsi %q, %c64 : index
    %kb = arith.floordivsi %kv, %c64 : index
    %l = memref.load %lay[%qb, %kb] : memref<?x?xi32>
    %c0i = arith.constant 0 : i32
    %t = arith.cmpi ne, %l, %c0i : i32
    %both = arith.andi %causal, %t : i1
    %v = arith.select %both, %x, %ninf : f32
    attn.yield %v : f32
  } : tensor<32x32xf32>
  return %m : tensor<32x32xf32>
}
func.func @tall_tile(%s: tensor<64x32xf32>, %lay: memref<?x?xi32>, %b: index, %i: index, %j: index, %rowarg: index) -> tensor<64x32xf32> attributes {attn.tiling = #tiling} {
  %c0 = arith.constant 0 : index
  %c16 = arith.constant 16 : index
  %c32 = arith.constant 32 : index
  %c64 = arith.constant 64 : index
  %ninf = arith.constant 0xFF800000 : f32
  %row = arith.muli %i, %c32 : index
  %col = arith.muli %j, %c32 : index
  %m = attn.tile_map %s at(%b, %c0, %row, %col) {
  ^bb0(%x: f32, %bb: index, %h: index, %q: index, %kv: index):
    %causal = arith.cmpi sge, %q, %kv : index
    %qb = arith.floordivsi %q, %c64 : index
    %kb = arith.floordivsi %kv, %c64 : index
    %l = memref.load %lay[%qb, %kb] : memref<?x?xi32>
    %c0i = arith.constant 0 : i32
    %t = arith.cmpi ne, %l, %c0i : i32
    %both = arith.andi %causal, %t : i1
    %v = arith.select %both, %x, %ninf : f32
    attn.yield %v : f32
  } : tensor<64x32xf32>
  return %m : tensor<64x32xf32>
}
func.func @body_writes(%s: tensor<32x32xf32>, %lay: memref<?x?xi32>, %b: index, %i: index, %j: index, %rowarg: index) -> tensor<32x32xf32> attributes {attn.tiling = #tiling} {
  %c0 = arith.constant 0 : index
  %c16 = arith.constant 16 : index
  %c32 = arith.constant 32 : index
  %c64 = arith.constant 64 : index
  %ninf = arith.constant 0xFF800000 : f32
  %row = arith.muli %i, %c32 : index
  %col = arith.muli %j, %c32 : index
  %m = attn.tile_map %s at(%b, %c0, %row, %col) {
  ^bb0(%x: f32, %bb: index, %h: index, %q: index, %kv: index):
    %causal = arith.cmpi sge, %q, %kv : index
    %qb = arith.floordivsi %q, %c64 : index
    %kb = arith.floordivsi %kv, %c64 : index
    %c7 = arith.constant 7 : i32
    memref.store %c7, %lay[%c0, %c0] : memref<?x?xi32>
    %l = memref.load %lay[%qb, %kb] : memref<?x?xi32>
    %c0i = arith.constant 0 : i32
    %t = arith.cmpi ne, %l, %c0i : i32
    %both = arith.andi %causal, %t : i1
    %v = arith.select %both, %x, %ninf : f32
    attn.yield %v : f32
  } : tensor<32x32xf32>
  return %m : tensor<32x32xf32>
}
