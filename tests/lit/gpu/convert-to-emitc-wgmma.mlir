// RUN: faopt-opt %s --attn-schedule-grid --attn-outline-tile-maps --attn-convert-to-emitc=target=sm90a | FileCheck %s
// RUN: not faopt-opt %s --attn-schedule-grid --attn-convert-to-emitc=target=sm80 2>&1 | FileCheck %s --check-prefix=SM80

// A kernel tiled for wgmma (attn.tiling mma = "wgmma": one warpgroup of 4
// warps x 16 rows over a 64-row tile) includes faopt_sm90.cuh, whose
// mma_abt / mma_ab are warpgroup MMAs over wgmma's shared-memory layout; every
// other tile op lowers to the same call as on mma.sync kernels, since a
// warp's 16 rows of the wgmma accumulator have the mma.sync fragment layout.

// CHECK: emitc.include "faopt_sm90.cuh"
// CHECK: specifiers = ["extern \22C\22", "__global__", "__launch_bounds__(128, {{[12]}})"]
// CHECK: call_opaque "faopt::load_tile"({{.*}}) {template_args = [#emitc.opaque<"128">]}
// CHECK: verbatim "// attn.tile_matmul: S = Q K^T (wgmma, f32)"
// One warpgroup: no ping-pong (the second template argument).
// CHECK: call_opaque "faopt::mma_abt"({{.*}}) {template_args = [#emitc.opaque<"4">, #emitc.opaque<"false">]} : {{.*}} -> !emitc.opaque<"faopt::Acc<64, 64, 4>">
// CHECK: call_opaque "faopt::map_positions"
// CHECK: call_opaque "faopt::to_operand_a"({{.*}}) {template_args = [#emitc.opaque<"faopt::bf16">]}
// CHECK: verbatim "// attn.tile_matmul: O += P V (wgmma, f32)"
// CHECK: call_opaque "faopt::mma_ab"({{.*}}) {template_args = [#emitc.opaque<"4">, #emitc.opaque<"false">]}
// CHECK: call_opaque "faopt::store_tile"
// SM80: error: wgmma tiling needs target sm90a, got 'sm80'
func.func @k(%q: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %k: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %v: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %o: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>) attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 64, block_kv = 64, warps = 4, stages = 1, mma = "wgmma">} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c32 = arith.constant 64 : index
  %ninf = arith.constant dense<0xFF800000> : tensor<64xf32>
  %zrow = arith.constant dense<0.0> : tensor<64xf32>
  %zacc = arith.constant dense<0.0> : tensor<64x64xf32>
  %sq = memref.dim %q, %c2 : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
  %n = arith.ceildivui %sq, %c32 : index
  scf.forall (%qb, %bh) in (%n, %c1) {
    %q0 = arith.muli %qb, %c32 : index
    %qt = attn.tile_load %q[%c0, %bh, %q0] bound %sq : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>> -> tensor<64x64xbf16>
    %kt = attn.tile_load %k[%c0, %bh, %c0] bound %sq : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>> -> tensor<64x64xbf16>
    %s = attn.tile_matmul %qt, %kt {transpose_rhs} : tensor<64x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xf32>
    %t = attn.tile_map %s at(%c0, %bh, %q0, %c0) {
    ^bb0(%x: f32, %b: index, %h: index, %qi: index, %kv: index):
      %c = arith.constant 0.125 : f32
      %y = arith.mulf %x, %c : f32
      attn.yield %y : f32
    } : tensor<64x64xf32>
    %m = attn.tile_reduce <max> %t, %ninf : tensor<64x64xf32> -> tensor<64xf32>
    %p = attn.tile_exp2 %t, %m : tensor<64x64xf32>, tensor<64xf32>
    %l = attn.tile_reduce <sum> %p, %zrow : tensor<64x64xf32> -> tensor<64xf32>
    %pb = arith.truncf %p : tensor<64x64xf32> to tensor<64x64xbf16>
    %acc = attn.tile_matmul %pb, %kt acc %zacc : tensor<64x64xbf16>, tensor<64x64xbf16>, tensor<64x64xf32> -> tensor<64x64xf32>
    %out = attn.online_finalize %m, %l, %acc : tensor<64xf32>, tensor<64xf32>, tensor<64x64xf32> -> tensor<64x64xbf16>
    attn.tile_store %out, %o[%c0, %bh, %q0] bound %sq : tensor<64x64xbf16>, memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
  } {attn.grid}
  return
}
