// RUN: faopt-opt %s --attn-mask-specialize --split-input-file | FileCheck %s

// A causal kv loop: the loop now runs over the kv-blocks the q-block may see
// (attn.mask_kv_range), each block is classified (attn.mask_block_class),
// empty blocks skip their K/V loads, and the update is `masked` only when the
// block is not full: full blocks run without mask or bounds check.

// CHECK-LABEL: func.func @causal(
// CHECK-SAME:      %[[QT:[^:]*]]: tensor<64x64xbf16>, %[[K:[^:]*]]: memref{{.*}}, %[[V:[^:]*]]: memref{{.*}}, %[[B:[^:]*]]: index, %[[H:[^:]*]]: index, %[[Q0:[^:]*]]: index, %[[SK:[^:]*]]: index, %[[N:[^:]*]]: index
// CHECK:         %[[QLAST:.*]] = arith.addi %[[Q0]], %c63
// CHECK:         %[[LO:.*]], %[[HI:.*]] = attn.mask_kv_range(%[[B]], %[[H]]) q[%[[Q0]], %[[QLAST]]] kv_bound %[[SK]] block 32 {
// CHECK-NEXT:    ^bb0(%{{.*}}: index, %{{.*}}: index, %[[MQ:.*]]: index, %[[MKV:.*]]: index):
// CHECK-NEXT:      arith.cmpi sge, %[[MQ]], %[[MKV]]
// CHECK:         scf.for %[[KB:.*]] = %[[LO]] to %[[HI]] step %c1 iter_args(%[[M:.*]] = %{{.*}}, %[[L:.*]] = %{{.*}}, %[[A:.*]] = %{{.*}})
// CHECK:           %[[KV0:.*]] = arith.muli %[[KB]], %c32
// CHECK:           %[[KVLAST:.*]] = arith.addi %[[KV0]], %c31
// CHECK:           %[[ANY:.*]], %[[ALL:.*]] = attn.mask_block_class(%[[B]], %[[H]]) q[%[[Q0]], %[[QLAST]]] kv[%[[KV0]], %[[KVLAST]]] kv_bound %[[SK]] {
// CHECK:           %[[R:.*]]:3 = scf.if %[[ANY]]
// CHECK:             %[[KT:.*]] = attn.tile_load %[[K]][%[[B]], %[[H]], %[[KV0]]]
// CHECK:             %[[VT:.*]] = attn.tile_load %[[V]][%[[B]], %[[H]], %[[KV0]]]
// CHECK:             %[[PARTIAL:.*]] = arith.xori %[[ALL]], %{{.*}} : i1
// CHECK:             %[[UM:.*]], %[[UL:.*]], %[[UA:.*]] = attn.online_update %[[QT]], %[[KT]], %[[VT]], %[[M]], %[[L]], %[[A]] at(%[[B]], %[[H]], %[[Q0]], %[[KV0]]) kv_bound %[[SK]] masked %[[PARTIAL]] logits {
// CHECK:             } mask {
// CHECK:             scf.yield %[[UM]], %[[UL]], %[[UA]]
// CHECK-NEXT:      } else {
// CHECK-NEXT:        scf.yield %[[M]], %[[L]], %[[A]]
// CHECK:           scf.yield %[[R]]#0, %[[R]]#1, %[[R]]#2
func.func @causal(%qt: tensor<64x64xbf16>, %k: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %v: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %b: index, %h: index, %q0: index, %sk: index, %n: index, %m0: tensor<64xf32>, %l0: tensor<64xf32>, %a0: tensor<64x64xf32>) -> (tensor<64xf32>, tensor<64xf32>, tensor<64x64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  %r:3 = scf.for %kb = %c0 to %n step %c1 iter_args(%m = %m0, %l = %l0, %a = %a0) -> (tensor<64xf32>, tensor<64xf32>, tensor<64x64xf32>) {
    %kv0 = arith.muli %kb, %c32 : index
    %kt = attn.tile_load %k[%b, %h, %kv0] bound %sk : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>> -> tensor<32x64xbf16>
    %vt = attn.tile_load %v[%b, %h, %kv0] bound %sk : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>> -> tensor<32x64xbf16>
    %u:3 = attn.online_update %qt, %kt, %vt, %m, %l, %a at(%b, %h, %q0, %kv0) kv_bound %sk logits {
    ^bb0(%score: f32, %bi: index, %hi: index, %qi: index, %kv: index):
      %c = arith.constant 0.180336878 : f32
      %t = arith.mulf %score, %c : f32
      attn.yield %t : f32
    } mask {
    ^bb0(%bi: index, %hi: index, %qi: index, %kv: index):
      %p = arith.cmpi sge, %qi, %kv : index
      attn.yield %p : i1
    } : tensor<64x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64xf32>, tensor<64xf32>, tensor<64x64xf32>
    scf.yield %u#0, %u#1, %u#2 : tensor<64xf32>, tensor<64xf32>, tensor<64x64xf32>
  }
  return %r#0, %r#1, %r#2 : tensor<64xf32>, tensor<64xf32>, tensor<64x64xf32>
}

// -----

// Without a mask the analysis still runs on `true`: only the tail block
// (kv beyond seqlen_k) will classify as partial and keep the bounds check.

// CHECK-LABEL: func.func @dense(
// CHECK:         attn.mask_kv_range{{.*}}block 16 {
// CHECK-NEXT:    ^bb0(
// CHECK-NEXT:      %[[T:.*]] = arith.constant true
// CHECK-NEXT:      attn.yield %[[T]] : i1
// CHECK:         attn.mask_block_class{{.*}} {
// CHECK-NEXT:    ^bb0(
// CHECK-NEXT:      %[[T2:.*]] = arith.constant true
// CHECK-NEXT:      attn.yield %[[T2]] : i1
// CHECK:         scf.if
// CHECK:           attn.online_update {{.*}} kv_bound %{{.*}} masked %{{.*}} logits {
func.func @dense(%qt: tensor<32x32xf32>, %k: memref<?x?x?x32xf32, strided<[?, ?, ?, 1], offset: ?>>, %b: index, %h: index, %q0: index, %sk: index, %n: index, %m0: tensor<32xf32>, %l0: tensor<32xf32>, %a0: tensor<32x32xf32>) -> tensor<32x32xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %r:3 = scf.for %kb = %c0 to %n step %c1 iter_args(%m = %m0, %l = %l0, %a = %a0) -> (tensor<32xf32>, tensor<32xf32>, tensor<32x32xf32>) {
    %kv0 = arith.muli %kb, %c16 : index
    %kt = attn.tile_load %k[%b, %h, %kv0] bound %sk : memref<?x?x?x32xf32, strided<[?, ?, ?, 1], offset: ?>> -> tensor<16x32xf32>
    %u:3 = attn.online_update %qt, %kt, %kt, %m, %l, %a at(%b, %h, %q0, %kv0) kv_bound %sk logits {
    ^bb0(%score: f32, %bi: index, %hi: index, %qi: index, %kv: index):
      attn.yield %score : f32
    } : tensor<32x32xf32>, tensor<16x32xf32>, tensor<16x32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32x32xf32>
    scf.yield %u#0, %u#1, %u#2 : tensor<32xf32>, tensor<32xf32>, tensor<32x32xf32>
  }
  return %r#2 : tensor<32x32xf32>
}
