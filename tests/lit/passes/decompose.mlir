// RUN: faopt-opt %s --attn-decompose --split-input-file | FileCheck %s

// One FlashAttention-2 step on tiles:
//   S = Q Kᵀ; T = logits(S) with mask and kv bound as -inf; m' = max(m, rowmax T)
//   P = exp2(T - m'); alpha = exp2(m - m'); l' = alpha l + rowsum P
//   acc' = alpha acc + bf16(P) V

// CHECK-LABEL: func.func @step(
// CHECK-SAME:      %[[Q:[^:]*]]: tensor<64x64xbf16>, %[[K:[^:]*]]: tensor<32x64xbf16>, %[[V:[^:]*]]: tensor<32x64xbf16>, %[[M:[^:]*]]: tensor<64xf32>, %[[L:[^:]*]]: tensor<64xf32>, %[[A:[^:]*]]: tensor<64x64xf32>, %[[B:[^:]*]]: index, %[[H:[^:]*]]: index, %[[Q0:[^:]*]]: index, %[[KV0:[^:]*]]: index, %[[SK:[^:]*]]: index)
// CHECK:         %[[S:.*]] = attn.tile_matmul %[[Q]], %[[K]] {transpose_rhs} : tensor<64x64xbf16>, tensor<32x64xbf16> -> tensor<64x32xf32>
// CHECK:         %[[T:.*]] = attn.tile_map %[[S]] at(%[[B]], %[[H]], %[[Q0]], %[[KV0]]) {
// CHECK-NEXT:    ^bb0(%[[SC:.*]]: f32, %{{.*}}: index, %{{.*}}: index, %[[QI:.*]]: index, %[[KVI:.*]]: index):
// CHECK:           %[[LG:.*]] = arith.mulf %[[SC]], %{{.*}} : f32
// CHECK:           %[[KEEP:.*]] = arith.cmpi sge, %[[QI]], %[[KVI]] : index
// CHECK:           %[[INB:.*]] = arith.cmpi slt, %[[KVI]], %[[SK]] : index
// CHECK:           %[[BOTH:.*]] = arith.andi %[[KEEP]], %[[INB]] : i1
// CHECK:           %[[R:.*]] = arith.select %[[BOTH]], %[[LG]], %cst{{.*}} : f32
// CHECK:           attn.yield %[[R]] : f32
// CHECK:         } : tensor<64x32xf32>
// CHECK:         %[[MNEW:.*]] = attn.tile_reduce <max> %[[T]], %[[M]] : tensor<64x32xf32> -> tensor<64xf32>
// CHECK:         %[[P:.*]] = attn.tile_exp2 %[[T]], %[[MNEW]] : tensor<64x32xf32>, tensor<64xf32>
// CHECK:         %[[ALPHA:.*]] = attn.tile_exp2 %[[M]], %[[MNEW]] : tensor<64xf32>, tensor<64xf32>
// CHECK:         %[[LS:.*]] = attn.tile_scale_rows %[[L]], %[[ALPHA]] : tensor<64xf32>, tensor<64xf32>
// CHECK:         %[[LNEW:.*]] = attn.tile_reduce <sum> %[[P]], %[[LS]] : tensor<64x32xf32> -> tensor<64xf32>
// CHECK:         %[[AS:.*]] = attn.tile_scale_rows %[[A]], %[[ALPHA]] : tensor<64x64xf32>, tensor<64xf32>
// CHECK:         %[[PB:.*]] = arith.truncf %[[P]] : tensor<64x32xf32> to tensor<64x32xbf16>
// CHECK:         %[[ANEW:.*]] = attn.tile_matmul %[[PB]], %[[V]] acc %[[AS]] : tensor<64x32xbf16>, tensor<32x64xbf16>, tensor<64x64xf32> -> tensor<64x64xf32>
// CHECK:         return %[[MNEW]], %[[LNEW]], %[[ANEW]]
func.func @step(%q: tensor<64x64xbf16>, %k: tensor<32x64xbf16>, %v: tensor<32x64xbf16>, %m: tensor<64xf32>, %l: tensor<64xf32>, %a: tensor<64x64xf32>, %b: index, %h: index, %q0: index, %kv0: index, %sk: index) -> (tensor<64xf32>, tensor<64xf32>, tensor<64x64xf32>) {
  %u:3 = attn.online_update %q, %k, %v, %m, %l, %a at(%b, %h, %q0, %kv0) kv_bound %sk logits {
  ^bb0(%score: f32, %bi: index, %hi: index, %qi: index, %kv: index):
    %c = arith.constant 0.180336878 : f32
    %t = arith.mulf %score, %c : f32
    attn.yield %t : f32
  } mask {
  ^bb0(%bi: index, %hi: index, %qi: index, %kv: index):
    %p = arith.cmpi sge, %qi, %kv : index
    attn.yield %p : i1
  } : tensor<64x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64xf32>, tensor<64xf32>, tensor<64x64xf32>
  return %u#0, %u#1, %u#2 : tensor<64xf32>, tensor<64xf32>, tensor<64x64xf32>
}

// -----

// A full block (no mask, no bound) maps logits only, with no select; f32
// inputs need no rounding of P. online_init becomes constant tiles.

// CHECK-LABEL: func.func @full_f32(
// CHECK-DAG:     %[[NEGINF:.*]] = arith.constant dense<0xFF800000> : tensor<32xf32>
// CHECK-DAG:     %[[ZACC:.*]] = arith.constant dense<0.000000e+00> : tensor<32x16xf32>
// CHECK:         attn.tile_map
// CHECK-NOT:       arith.select
// CHECK:         attn.tile_reduce <max> %{{.*}}, %[[NEGINF]]
// CHECK-NOT:     arith.truncf
// CHECK:         attn.tile_matmul %{{.*}}, %{{.*}} acc %{{.*}} : tensor<32x16xf32>, tensor<16x16xf32>, tensor<32x16xf32>
func.func @full_f32(%q: tensor<32x16xf32>, %k: tensor<16x16xf32>, %v: tensor<16x16xf32>, %b: index, %h: index, %q0: index, %kv0: index) -> tensor<32x16xf32> {
  %m, %l, %a = attn.online_init : tensor<32xf32>, tensor<32xf32>, tensor<32x16xf32>
  %u:3 = attn.online_update %q, %k, %v, %m, %l, %a at(%b, %h, %q0, %kv0) logits {
  ^bb0(%score: f32, %bi: index, %hi: index, %qi: index, %kv: index):
    attn.yield %score : f32
  } : tensor<32x16xf32>, tensor<16x16xf32>, tensor<16x16xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32x16xf32>
  return %u#2 : tensor<32x16xf32>
}

// -----

// `masked %p`: the mask and bound apply only under %p; the other branch maps
// the logits alone. Everything after the map is shared.

// CHECK-LABEL: func.func @masked_flag(
// CHECK-SAME:      %[[P:[^:]*]]: i1)
// CHECK:         %[[S:.*]] = attn.tile_matmul
// CHECK:         %[[T:.*]] = scf.if %[[P]] -> (tensor<16x16xf32>) {
// CHECK:           attn.tile_map %[[S]]
// CHECK:             arith.cmpi sge
// CHECK:             arith.select
// CHECK:         } else {
// CHECK:           attn.tile_map %[[S]]
// CHECK-NOT:         arith.cmpi
// CHECK:         }
// CHECK:         attn.tile_reduce <max> %[[T]]
// CHECK-COUNT-1: attn.tile_matmul {{.*}} acc
func.func @masked_flag(%q: tensor<16x16xf16>, %k: tensor<16x16xf16>, %m: tensor<16xf32>, %l: tensor<16xf32>, %a: tensor<16x16xf32>, %i: index, %sk: index, %p: i1) -> tensor<16x16xf32> {
  %u:3 = attn.online_update %q, %k, %k, %m, %l, %a at(%i, %i, %i, %i) kv_bound %sk masked %p logits {
  ^bb0(%score: f32, %bi: index, %hi: index, %qi: index, %kv: index):
    attn.yield %score : f32
  } mask {
  ^bb0(%bi: index, %hi: index, %qi: index, %kv: index):
    %c = arith.cmpi sge, %qi, %kv : index
    attn.yield %c : i1
  } : tensor<16x16xf16>, tensor<16x16xf16>, tensor<16x16xf16>, tensor<16xf32>, tensor<16xf32>, tensor<16x16xf32>
  return %u#2 : tensor<16x16xf32>
}
