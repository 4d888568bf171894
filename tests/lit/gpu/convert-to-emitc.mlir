// RUN: faopt-opt %s --attn-schedule-grid --attn-outline-tile-maps --attn-convert-to-emitc | FileCheck %s
// RUN: not faopt-opt %s --attn-convert-to-emitc 2>&1 | FileCheck %s --check-prefix=UNSCHEDULED
// With attn.kv_bounds (attn-kv-bounds-in-rows) the map calls
// faopt::map_positions_in_rows with the two bound functions; anything but
// two function names is an error.
// RUN: sed 's/attn.tile_map \(.*\) {$/attn.tile_map \1 attributes {attn.kv_bounds = [@k_logits, @k_logits]} {/' %s | faopt-opt --attn-schedule-grid --attn-outline-tile-maps --attn-convert-to-emitc | FileCheck %s --check-prefix=ROWS
// RUN: sed 's/attn.tile_map \(.*\) {$/attn.tile_map \1 attributes {attn.kv_bounds = [@k_logits]} {/' %s | not faopt-opt --attn-schedule-grid --attn-outline-tile-maps --attn-convert-to-emitc 2>&1 | FileCheck %s --check-prefix=BADROWS
// ROWS: call_opaque "faopt::map_positions_in_rows"({{.*}}) {template_args = [#emitc.opaque<"k_logits">, #emitc.opaque<"k_logits">, #emitc.opaque<"k_logits">]}
// BADROWS: error: 'attn.tile_map' op attn.kv_bounds must name two functions (first, last)

// A small decomposed kernel (bf16, 32 x 64 tiles, 2 warps): the function
// becomes an extern "C" __global__ kernel taking faopt::Tensor views, the
// grid (ordered by attn-schedule-grid) becomes blockIdx.x, index math becomes int64_t,
// and every tile op becomes one call into faopt_sm80.cuh after a comment
// naming it. Shared memory: Q/O at 0, K after it.

// CHECK: emitc.include "faopt_sm80.cuh"
// CHECK: emitc.func @k_logits(%{{.*}}: f32, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: i64) -> f32
// CHECK-SAME: specifiers = ["static", "__device__", "__forceinline__"]
// CHECK: emitc.func @k(%[[Q:.*]]: !emitc.opaque<"faopt::Tensor<faopt::bf16, 4>">, %[[K:.*]]: !emitc.opaque<"faopt::Tensor<faopt::bf16, 4>">, %{{.*}}: !emitc.opaque<"faopt::Tensor<faopt::bf16, 4>">, %[[O:.*]]: !emitc.opaque<"faopt::Tensor<faopt::bf16, 4>">)
// CHECK-SAME: attn.shared_memory_bytes = 8192 : i64
// CHECK-SAME: specifiers = ["extern \22C\22", "__global__", "__launch_bounds__(64, 2)"]
// CHECK: verbatim "// {} = q, {} = k, {} = v, {} = o: [batch, heads, seq, dim] views (faopt::Tensor)"
// CHECK: %[[SQ:.*]] = call_opaque "faopt::dim"(%[[Q]]) {template_args = [#emitc.opaque<"2">]}
// CHECK: %[[P:.*]] = call_opaque "faopt::block_index"() {template_args = [#emitc.opaque<"0">]}
// CHECK: verbatim "// scf.forall (attn.grid): {} = program index (blockIdx.x), in dispatch order" args %[[P]]
// UNSCHEDULED: error: kernel grid is not one linear program index (run attn-schedule-grid)
// CHECK: verbatim "// attn.tile_load: rows [{}, {} + 32) of (b = {}, h = {}) into shared memory at byte 0"
// CHECK: call_opaque "faopt::smem"(%{{.*}}) {template_args = [#emitc.opaque<"faopt::bf16">, #emitc.opaque<"32">, #emitc.opaque<"64">]}
// CHECK: call_opaque "faopt::load_tile"({{.*}}) {template_args = [#emitc.opaque<"64">]} : {{.*}} -> !emitc.opaque<"auto">
// CHECK: verbatim "// attn.tile_matmul: S = Q K^T (mma.sync, f32)"
// CHECK: call_opaque "faopt::mma_abt"({{.*}}) {template_args = [#emitc.opaque<"2">]} : {{.*}} -> !emitc.opaque<"faopt::Acc<32, 32, 2>">
// CHECK: call_opaque "faopt::map_positions"({{.*}}) {template_args = [#emitc.opaque<"k_logits">]}
// CHECK: call_opaque "faopt::row_max"
// CHECK: call_opaque "faopt::tile_exp2"
// CHECK: call_opaque "faopt::row_sum_lanes"
// CHECK: call_opaque "faopt::to_operand_a"({{.*}}) {template_args = [#emitc.opaque<"faopt::bf16">]}
// CHECK: call_opaque "faopt::mma_ab"
// CHECK: verbatim "// the row sums so far are per lane: add up each quad"
// CHECK: %[[L:.*]] = call_opaque "faopt::rows_quad_sum"
// CHECK: call_opaque "faopt::finalize_output"(%{{.*}}, %[[L]], %{{.*}})
// CHECK: verbatim "// attn.tile_store: the output tile, staged through shared memory"
// CHECK: call_opaque "faopt::store_tile"
// CHECK-NOT: attn.
// CHECK-NOT: arith.
func.func @k(%q: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %k: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %v: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %o: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>) attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 32, block_kv = 32, warps = 2, stages = 1>} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c32 = arith.constant 32 : index
  %ninf = arith.constant dense<0xFF800000> : tensor<32xf32>
  %zrow = arith.constant dense<0.0> : tensor<32xf32>
  %zacc = arith.constant dense<0.0> : tensor<32x64xf32>
  %sq = memref.dim %q, %c2 : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
  %n = arith.ceildivui %sq, %c32 : index
  scf.forall (%qb, %bh) in (%n, %c1) {
    %q0 = arith.muli %qb, %c32 : index
    %qt = attn.tile_load %q[%c0, %bh, %q0] bound %sq : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>> -> tensor<32x64xbf16>
    %kt = attn.tile_load %k[%c0, %bh, %c0] bound %sq : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>> -> tensor<32x64xbf16>
    %s = attn.tile_matmul %qt, %kt {transpose_rhs} : tensor<32x64xbf16>, tensor<32x64xbf16> -> tensor<32x32xf32>
    %t = attn.tile_map %s at(%c0, %bh, %q0, %c0) {
    ^bb0(%x: f32, %b: index, %h: index, %qi: index, %kv: index):
      %c = arith.constant 0.125 : f32
      %y = arith.mulf %x, %c : f32
      attn.yield %y : f32
    } : tensor<32x32xf32>
    %m = attn.tile_reduce <max> %t, %ninf : tensor<32x32xf32> -> tensor<32xf32>
    %p = attn.tile_exp2 %t, %m : tensor<32x32xf32>, tensor<32xf32>
    %l = attn.tile_reduce <sum> %p, %zrow : tensor<32x32xf32> -> tensor<32xf32>
    %pb = arith.truncf %p : tensor<32x32xf32> to tensor<32x32xbf16>
    %acc = attn.tile_matmul %pb, %kt acc %zacc : tensor<32x32xbf16>, tensor<32x64xbf16>, tensor<32x64xf32> -> tensor<32x64xf32>
    %out = attn.online_finalize %m, %l, %acc : tensor<32xf32>, tensor<32xf32>, tensor<32x64xf32> -> tensor<32x64xbf16>
    attn.tile_store %out, %o[%c0, %bh, %q0] bound %sq : tensor<32x64xbf16>, memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
  } {attn.grid}
  return
}
