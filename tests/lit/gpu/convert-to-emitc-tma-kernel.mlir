// RUN: faopt-opt %s --attn-schedule-grid --cse --attn-pipeline-kv-loads --attn-warp-specialize --attn-convert-to-emitc=target=sm90a | FileCheck %s
// RUN: faopt-opt %s --attn-schedule-grid --cse --attn-persistent-programs=kv-stages=2 --attn-pipeline-kv-loads --attn-warp-specialize --attn-convert-to-emitc=target=sm90a | FileCheck %s --check-prefix=PERSIST

// The TMA lowering of a whole kernel (attn.tiling copy = "tma"), from
// hand-written IR through the passes before it: the tensor maps of q, k, v
// become the last parameters, the pipe's barriers are set up before the
// roles split, the copy thread's branch issues TMA tiles (Q, then K and V
// before and inside its kv loop) and ends the producer; the consumers wait
// for each tile's fill and release its stage; every return is preceded by
// the last turn. Shared memory: Q 8 KiB at 0, K and V two 8 KiB stages at
// 8192 and 24576, the pipe at 40960.

// CHECK: emitc.include "faopt_sm90_tma.cuh"
// CHECK-LABEL: emitc.func @k(
// CHECK-SAME: !emitc.opaque<"const __grid_constant__ faopt::TmaMap">, %{{.*}}: !emitc.opaque<"const __grid_constant__ faopt::TmaMap">, %{{.*}}: !emitc.opaque<"const __grid_constant__ faopt::TmaMap">)
// CHECK-SAME: attn.shared_memory_bytes = 41136
// CHECK-SAME: attn.threads = 256
// CHECK: call_opaque "faopt::tma::start"(%arg4, %arg5, %arg6) {template_args = [#emitc.opaque<"4">, #emitc.opaque<"40960">]}
// CHECK: call_opaque "faopt::block_index"()
// CHECK: call_opaque "faopt::tma::is_producer"() {template_args = [#emitc.opaque<"4">]}
// Two CTAs per SM (41 KiB of shared memory, 128 registers per thread at
// launch): the producer keeps 24 registers, the consumers take 232.
// CHECK: call_opaque "faopt::tma::producer_begin"() {template_args = [#emitc.opaque<"4">, #emitc.opaque<"24">]}
// CHECK: call_opaque "faopt::tma::issue_tile"({{.*}}) {template_args = [#emitc.opaque<"40960">, #emitc.opaque<"0">]}
// CHECK: call_opaque "faopt::tma::issue_tile"({{.*}}) {template_args = [#emitc.opaque<"40960">, #emitc.opaque<"1">]}
// CHECK: call_opaque "faopt::tma::issue_tile"({{.*}}) {template_args = [#emitc.opaque<"40960">, #emitc.opaque<"2">]}
// CHECK: for
// CHECK: call_opaque "faopt::tma::issue_tile"({{.*}}) {template_args = [#emitc.opaque<"40960">, #emitc.opaque<"1">]}
// CHECK: call_opaque "faopt::tma::issue_tile"({{.*}}) {template_args = [#emitc.opaque<"40960">, #emitc.opaque<"2">]}
// CHECK: call_opaque "faopt::tma::producer_end"()
// CHECK-NOT: issue_tile
// CHECK: call_opaque "faopt::tma::consumer_begin"() {template_args = [#emitc.opaque<"4">, #emitc.opaque<"false">, #emitc.opaque<"232">]}
// CHECK: call_opaque "faopt::tma::wait_tile"({{.*}}) {template_args = [#emitc.opaque<"40960">, #emitc.opaque<"0">]}
// CHECK: for
// CHECK: call_opaque "faopt::tma::wait_tile"({{.*}}) {template_args = [#emitc.opaque<"40960">, #emitc.opaque<"1">]}
// CHECK: call_opaque "faopt::mma_abt"
// CHECK: call_opaque "faopt::tma::release"({{.*}}) {template_args = [#emitc.opaque<"40960">, #emitc.opaque<"1">]}
// CHECK: call_opaque "faopt::tma::wait_tile"({{.*}}) {template_args = [#emitc.opaque<"40960">, #emitc.opaque<"2">]}
// CHECK: call_opaque "faopt::mma_ab"
// CHECK: call_opaque "faopt::tma::release"({{.*}}) {template_args = [#emitc.opaque<"40960">, #emitc.opaque<"2">]}
// O is staged in Q's region.
// CHECK: %[[AT:.*]] = literal "0" : i64
// CHECK-NEXT: %[[STAGING:.*]] = call_opaque "faopt::smem"(%[[AT]])
// CHECK-NEXT: call_opaque "faopt::store_tile"({{.*}}, %[[STAGING]])
// CHECK: call_opaque "faopt::tma::finish"() {template_args = [#emitc.opaque<"4">, #emitc.opaque<"40960">, #emitc.opaque<"false">]}
// CHECK-NEXT: return

// Persistent (attn-persistent-programs): a worker count, the roles around
// loops over programs, Q filled once per program (round = the program's
// number) and released after the kv loop, O staged in a region of its own
// (40960, the pipe moves to 49152). Two K/V stages (kv-stages=2): the
// three-stage default, whose O attn-stage-output-in-v stages in a V stage,
// is checked on a whole kernel in tools/emit-cuda.test.
// Its O leaves by TMA store through a fourth tensor map (o's), the last
// parameter.
// PERSIST-LABEL: emitc.func @k(
// PERSIST-SAME: %{{.*}}: !emitc.opaque<"const __grid_constant__ faopt::TmaMap">, %{{.*}}: !emitc.opaque<"const __grid_constant__ faopt::TmaMap">, %{{.*}}: !emitc.opaque<"const __grid_constant__ faopt::TmaMap">, %{{.*}}: !emitc.opaque<"const __grid_constant__ faopt::TmaMap">)
// PERSIST-SAME: attn.persistent
// PERSIST-SAME: attn.shared_memory_bytes = 49328
// PERSIST: call_opaque "faopt::tma::start"(%arg4, %arg5, %arg6, %arg7) {template_args = [#emitc.opaque<"4">, #emitc.opaque<"49152">]}
// PERSIST: call_opaque "faopt::grid_size"()
// PERSIST: call_opaque "faopt::block_index"()
// PERSIST: call_opaque "faopt::tma::producer_begin"()
// PERSIST: for %[[T:.*]] = %{{.*}} to
// PERSIST: call_opaque "faopt::tma::issue_tile"({{.*}}, %[[T]]) {template_args = [#emitc.opaque<"49152">, #emitc.opaque<"0">]}
// PERSIST: call_opaque "faopt::tma::producer_end"()
// PERSIST: for %[[C:.*]] = %{{.*}} to
// PERSIST: call_opaque "faopt::tma::wait_tile"({{.*}}, %[[C]]) {template_args = [#emitc.opaque<"49152">, #emitc.opaque<"0">]}
// PERSIST: call_opaque "faopt::tma::release"({{.*}}, %[[C]]) {template_args = [#emitc.opaque<"49152">, #emitc.opaque<"0">]}
// PERSIST: %[[AT:.*]] = literal "40960" : i64
// PERSIST-NEXT: %[[STAGING:.*]] = call_opaque "faopt::smem"(%[[AT]])
// PERSIST-NEXT: call_opaque "faopt::tma::store_tile"({{.*}}, %[[STAGING]]) {template_args = [#emitc.opaque<"49152">, #emitc.opaque<"128">]}

!mem = memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>

func.func @k(%q: !mem, %k: !mem, %v: !mem, %o: !mem) attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 64, block_kv = 64, warps = 4, stages = 2, mma = "wgmma", copy = "tma">} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  %ninf = arith.constant dense<0xFF800000> : tensor<64xf32>
  %zrow = arith.constant dense<0.0> : tensor<64xf32>
  %zacc = arith.constant dense<0.0> : tensor<64x64xf32>
  %sq = memref.dim %q, %c2 : !mem
  %n = arith.ceildivui %sq, %c64 : index
  scf.forall (%qb, %bh) in (%n, %c1) {
    %q0 = arith.muli %qb, %c64 : index
    %qt = attn.tile_load %q[%c0, %bh, %q0] bound %sq : !mem -> tensor<64x64xbf16>
    %r:3 = scf.for %kb = %c0 to %n step %c1 iter_args(%m0 = %ninf, %l0 = %zrow, %a0 = %zacc) -> (tensor<64xf32>, tensor<64xf32>, tensor<64x64xf32>) {
      %kv0 = arith.muli %kb, %c64 : index
      %kt = attn.tile_load %k[%c0, %bh, %kv0] bound %sq : !mem -> tensor<64x64xbf16>
      %vt = attn.tile_load %v[%c0, %bh, %kv0] bound %sq : !mem -> tensor<64x64xbf16>
      %s = attn.tile_matmul %qt, %kt {transpose_rhs} : tensor<64x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xf32>
      %m = attn.tile_reduce <max> %s, %m0 : tensor<64x64xf32> -> tensor<64xf32>
      %p = attn.tile_exp2 %s, %m : tensor<64x64xf32>, tensor<64xf32>
      %l = attn.tile_reduce <sum> %p, %l0 : tensor<64x64xf32> -> tensor<64xf32>
      %pb = arith.truncf %p : tensor<64x64xf32> to tensor<64x64xbf16>
      %a = attn.tile_matmul %pb, %vt acc %a0 : tensor<64x64xbf16>, tensor<64x64xbf16>, tensor<64x64xf32> -> tensor<64x64xf32>
      scf.yield %m, %l, %a : tensor<64xf32>, tensor<64xf32>, tensor<64x64xf32>
    }
    %out = attn.online_finalize %r#0, %r#1, %r#2 : tensor<64xf32>, tensor<64xf32>, tensor<64x64xf32> -> tensor<64x64xbf16>
    attn.tile_store %out, %o[%c0, %bh, %q0] bound %sq : tensor<64x64xbf16>, !mem
  } {attn.grid}
  return
}
