// RUN: faopt-opt %s --attn-online-softmax --split-input-file | FileCheck %s

// softmax(Q Kᵀ / sqrt(64)) V becomes init / update / finalize. Without a
// score modifier the logits region is the identity and the scale folds with
// log2(e) into exp_scale = log2(e) / sqrt(64) = 0.18033688: the recurrence
// computes p = exp2(exp_scale * (s - m)), one FMA per element, and the raw
// score s is what the running max tracks.

// CHECK-LABEL: func.func @causal
// CHECK-DAG:     %[[B:.*]] = tensor.dim %arg0, %c0
// CHECK-DAG:     %[[H:.*]] = tensor.dim %arg0, %c1
// CHECK-DAG:     %[[S:.*]] = tensor.dim %arg0, %c2
// CHECK:         %[[MAX:.*]], %[[SUM:.*]], %[[ACC:.*]] = attn.online_init %[[B]], %[[H]], %[[S]] : tensor<?x?x?xf32>, tensor<?x?x?xf32>, tensor<?x?x?x64xf32>
// CHECK:         %[[UM:.*]], %[[UL:.*]], %[[UA:.*]] = attn.online_update %arg0, %arg1, %arg2, %[[MAX]], %[[SUM]], %[[ACC]] attributes {exp_scale = 0.180336878 : f32} logits {
// CHECK-NEXT:    ^bb0(%[[SC:.*]]: f32, %{{.*}}: index, %{{.*}}: index, %{{.*}}: index, %{{.*}}: index):
// CHECK-NEXT:      attn.yield %[[SC]] : f32
// CHECK-NEXT:    } mask {
// CHECK-NEXT:    ^bb0(%{{.*}}: index, %{{.*}}: index, %[[Q:.*]]: index, %[[KV:.*]]: index):
// CHECK-NEXT:      %[[M:.*]] = arith.cmpi sge, %[[Q]], %[[KV]] : index
// CHECK-NEXT:      attn.yield %[[M]] : i1
// CHECK:         %[[O:.*]], %[[LSE:.*]] = attn.online_finalize %[[UM]], %[[UL]], %[[UA]] {exp_scale = 0.180336878 : f32} : {{.*}} -> tensor<?x?x?x64xbf16>, tensor<?x?x?xf32>
// CHECK:         return %[[O]], %[[LSE]]
func.func @causal(%q: tensor<?x?x?x64xbf16>, %k: tensor<?x?x?x64xbf16>, %v: tensor<?x?x?x64xbf16>) -> (tensor<?x?x?x64xbf16>, tensor<?x?x?xf32>) {
  %o, %lse = attn.attention %q, %k, %v mask {
  ^bb0(%b: index, %h: index, %qi: index, %kv: index):
    %c = arith.cmpi sge, %qi, %kv : index
    attn.yield %c : i1
  } : tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16> -> tensor<?x?x?x64xbf16>, tensor<?x?x?xf32>
  return %o, %lse : tensor<?x?x?x64xbf16>, tensor<?x?x?xf32>
}

// -----

// With a score modifier, the scale (here explicit, 0.125) is applied before
// it inside the logits region and exp_scale is just log2(e); without lse there
// is no second result.

// CHECK-LABEL: func.func @softcap
// CHECK:         attn.online_update {{.*}} attributes {exp_scale = 1.44269502 : f32} logits {
// CHECK-NEXT:    ^bb0(%[[SC:.*]]: f32, %{{.*}}: index, %{{.*}}: index, %{{.*}}: index, %{{.*}}: index):
// CHECK-DAG:       %[[SCALE:.*]] = arith.constant 1.250000e-01 : f32
// CHECK:           %[[X:.*]] = arith.mulf %[[SC]], %[[SCALE]] : f32
// CHECK:           %[[TANH:.*]] = math.tanh
// CHECK:           %[[CAPPED:.*]] = arith.mulf %[[TANH]], %{{.*}} : f32
// CHECK-NEXT:      attn.yield %[[CAPPED]] : f32
// CHECK-NEXT:    } :
// CHECK:         attn.online_finalize {{.*}} {exp_scale = 1.44269502 : f32} : {{.*}} -> tensor<?x?x?x64xf16>{{$}}
func.func @softcap(%q: tensor<?x?x?x64xf16>, %k: tensor<?x?x?x64xf16>, %v: tensor<?x?x?x64xf16>) -> tensor<?x?x?x64xf16> {
  %o = attn.attention %q, %k, %v attributes {scale = 0.125 : f32} score {
  ^bb0(%s: f32, %b: index, %h: index, %qi: index, %kv: index):
    %cap = arith.constant 30.0 : f32
    %x = arith.divf %s, %cap : f32
    %t = math.tanh %x : f32
    %y = arith.mulf %t, %cap : f32
    attn.yield %y : f32
  } : tensor<?x?x?x64xf16>, tensor<?x?x?x64xf16>, tensor<?x?x?x64xf16> -> tensor<?x?x?x64xf16>
  return %o : tensor<?x?x?x64xf16>
}

// -----

// bshd: q is [b, s, h, d]; the running state is in logical [b, h, s] order,
// sized from q's dims 0, 2 and 1.

// CHECK-LABEL: func.func @bshd
// CHECK-DAG:     %[[B:.*]] = tensor.dim %arg0, %c0
// CHECK-DAG:     %[[S:.*]] = tensor.dim %arg0, %c1
// CHECK-DAG:     %[[H:.*]] = tensor.dim %arg0, %c2
// CHECK:         attn.online_init %[[B]], %[[H]], %[[S]]
// CHECK:         attn.online_update {{.*}} attributes {exp_scale = 0.255034864 : f32, layout = #attn.layout<bshd>}
// CHECK:         attn.online_finalize {{.*}} {exp_scale = 0.255034864 : f32, layout = #attn.layout<bshd>}
func.func @bshd(%q: tensor<?x?x?x32xf32>, %k: tensor<?x?x?x32xf32>, %v: tensor<?x?x?x32xf32>) -> (tensor<?x?x?x32xf32>, tensor<?x?x?xf32>) {
  %o, %lse = attn.attention %q, %k, %v attributes {layout = #attn.layout<bshd>} : tensor<?x?x?x32xf32>, tensor<?x?x?x32xf32>, tensor<?x?x?x32xf32> -> tensor<?x?x?x32xf32>, tensor<?x?x?xf32>
  return %o, %lse : tensor<?x?x?x32xf32>, tensor<?x?x?xf32>
}
