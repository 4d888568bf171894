// RUN: faopt-opt %s --attn-outline-tile-maps | FileCheck %s

// The body becomes a device function; constants are copied in, the sequence
// bound used from above becomes a parameter, and the tile_map only calls it.

// CHECK-LABEL: func.func private @k_masked_logits(
// CHECK-SAME:      %[[S:[^:]*]]: f32, %{{[^:]*}}: index, %{{[^:]*}}: index, %[[Q:[^:]*]]: index, %[[KV:[^:]*]]: index, %[[SK:[^:]*]]: index) -> f32
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
