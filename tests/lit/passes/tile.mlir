// RUN: faopt-opt %s --attn-tile --split-input-file | FileCheck %s
// RUN: faopt-opt %s --attn-tile="target=cpu block-q=32 block-kv=16" --split-input-file | FileCheck %s --check-prefix=CPU
// RUN: not faopt-opt %s --attn-tile="target=sm70" --split-input-file 2>&1 | FileCheck %s --check-prefix=BADTARGET
// RUN: faopt-opt %s --attn-tile="target=sm90a" --split-input-file | FileCheck %s --check-prefix=SM90

// sm90a records wgmma: two warpgroups of 64 rows, 128-wide kv-blocks.
// SM90-LABEL: func.func @causal(
// SM90-SAME:      attn.target = "sm90a", attn.tiling = #attn.tiling<block_q = 128, block_kv = 128, warps = 8, stages = 2, mma = "wgmma">}

// The function becomes a kernel over [b, h, s, d] memrefs with any strides
// (o and lse become arguments). The grid is (ceil(Sq / 128), B * H); each
// program loads its Q tile once and walks the kv-blocks of its kv head
// h / (H / KVH). sm80 with d = 64 picks 128 x 128 tiles and records it.

// CHECK-LABEL: func.func @causal(
// CHECK-SAME:      %[[Q:[^:]*]]: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>,
// CHECK-SAME:      %[[K:[^:]*]]: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>,
// CHECK-SAME:      %[[V:[^:]*]]: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>,
// CHECK-SAME:      %[[O:[^:]*]]: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>,
// CHECK-SAME:      %[[LSE:[^:]*]]: memref<?x?x?xf32, strided<[?, ?, 1], offset: ?>>)
// CHECK-SAME:      attributes {attn.kernel, attn.target = "sm80", attn.tiling = #attn.tiling<block_q = 128, block_kv = 128, warps = 4, stages = 2>}
// CHECK-DAG:     %[[BATCH:.*]] = memref.dim %[[Q]], %c0
// CHECK-DAG:     %[[HEADS:.*]] = memref.dim %[[Q]], %c1
// CHECK-DAG:     %[[SQ:.*]] = memref.dim %[[Q]], %c2
// CHECK-DAG:     %[[KVHEADS:.*]] = memref.dim %[[K]], %c1
// CHECK-DAG:     %[[SK:.*]] = memref.dim %[[K]], %c2
// CHECK:         %[[GROUP:.*]] = arith.divui %[[HEADS]], %[[KVHEADS]]
// CHECK:         %[[NQ:.*]] = arith.ceildivui %[[SQ]], %c128
// CHECK:         %[[BH:.*]] = arith.muli %[[BATCH]], %[[HEADS]]
// CHECK:         scf.forall (%[[QB:.*]], %[[BHI:.*]]) in (%[[NQ]], %[[BH]]) {
// CHECK:           %[[B:.*]] = arith.divui %[[BHI]], %[[HEADS]]
// CHECK:           %[[H:.*]] = arith.remui %[[BHI]], %[[HEADS]]
// CHECK:           %[[KVH:.*]] = arith.divui %[[H]], %[[GROUP]]
// CHECK:           %[[Q0:.*]] = arith.muli %[[QB]], %c128
// CHECK:           %[[QT:.*]] = attn.tile_load %[[Q]][%[[B]], %[[H]], %[[Q0]]] bound %[[SQ]] : {{.*}} -> tensor<128x64xbf16>
// CHECK:           %[[M0:.*]], %[[L0:.*]], %[[A0:.*]] = attn.online_init : tensor<128xf32>, tensor<128xf32>, tensor<128x64xf32>
// CHECK:           %[[NKV:.*]] = arith.ceildivui %[[SK]], %c128
// CHECK:           %[[R:.*]]:3 = scf.for %[[KB:.*]] = %c0 to %[[NKV]] step %c1 iter_args(%[[M:.*]] = %[[M0]], %[[L:.*]] = %[[L0]], %[[A:.*]] = %[[A0]])
// CHECK:             %[[KV0:.*]] = arith.muli %[[KB]], %c128
// CHECK:             %[[KT:.*]] = attn.tile_load %[[K]][%[[B]], %[[KVH]], %[[KV0]]] bound %[[SK]] : {{.*}} -> tensor<128x64xbf16>
// CHECK:             %[[VT:.*]] = attn.tile_load %[[V]][%[[B]], %[[KVH]], %[[KV0]]] bound %[[SK]]
// CHECK:             %[[UM:.*]], %[[UL:.*]], %[[UA:.*]] = attn.online_update %[[QT]], %[[KT]], %[[VT]], %[[M]], %[[L]], %[[A]] at(%[[B]], %[[H]], %[[Q0]], %[[KV0]]) kv_bound %[[SK]] logits {
// CHECK:             } mask {
// CHECK:             scf.yield %[[UM]], %[[UL]], %[[UA]]
// CHECK:           %[[OT:.*]], %[[LT:.*]] = attn.online_finalize %[[R]]#0, %[[R]]#1, %[[R]]#2 : {{.*}} -> tensor<128x64xbf16>, tensor<128xf32>
// CHECK:           attn.tile_store %[[OT]], %[[O]][%[[B]], %[[H]], %[[Q0]]] bound %[[SQ]]
// CHECK:           attn.tile_store %[[LT]], %[[LSE]][%[[B]], %[[H]], %[[Q0]]] bound %[[SQ]]
// CHECK:         } {attn.grid}
// CHECK:         return

// The CPU target with explicit tile sizes.
// CPU-LABEL: func.func @causal(
// CPU-SAME:      attn.target = "cpu", attn.tiling = #attn.tiling<block_q = 32, block_kv = 16, warps = 1, stages = 1>
// CPU:           attn.tile_load {{.*}} -> tensor<32x64xbf16>
// CPU:           attn.tile_load {{.*}} -> tensor<16x64xbf16>

// BADTARGET: error: unknown target 'sm70' (known: sm80, sm90a, cpu)
func.func @causal(%q: tensor<?x?x?x64xbf16>, %k: tensor<?x?x?x64xbf16>, %v: tensor<?x?x?x64xbf16>) -> (tensor<?x?x?x64xbf16>, tensor<?x?x?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %b = tensor.dim %q, %c0 : tensor<?x?x?x64xbf16>
  %h = tensor.dim %q, %c1 : tensor<?x?x?x64xbf16>
  %s = tensor.dim %q, %c2 : tensor<?x?x?x64xbf16>
  %max, %sum, %acc = attn.online_init %b, %h, %s : tensor<?x?x?xf32>, tensor<?x?x?xf32>, tensor<?x?x?x64xf32>
  %u:3 = attn.online_update %q, %k, %v, %max, %sum, %acc logits {
  ^bb0(%score: f32, %bi: index, %hi: index, %qi: index, %kv: index):
    %c = arith.constant 0.180336878 : f32
    %t = arith.mulf %score, %c : f32
    attn.yield %t : f32
  } mask {
  ^bb0(%bi: index, %hi: index, %qi: index, %kv: index):
    %m = arith.cmpi sge, %qi, %kv : index
    attn.yield %m : i1
  } : tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>, tensor<?x?x?xf32>, tensor<?x?x?xf32>, tensor<?x?x?x64xf32>
  %o, %lse = attn.online_finalize %u#0, %u#1, %u#2 : tensor<?x?x?xf32>, tensor<?x?x?xf32>, tensor<?x?x?x64xf32> -> tensor<?x?x?x64xbf16>, tensor<?x?x?xf32>
  return %o, %lse : tensor<?x?x?x64xbf16>, tensor<?x?x?xf32>
}

// -----

// bshd and GQA need no special code: the layout is in the memref strides
// (logical [b, h, s, d] views of [b, s, h, d] data) and the kv head is
// computed from the sizes at run time. d_v may differ from d_qk; sm80 then
// sizes block_kv for d_v = 128.

// CHECK-LABEL: func.func @bshd_dv128(
// CHECK-SAME:      memref<?x?x?x64xf16, strided<[?, ?, ?, 1], offset: ?>>
// CHECK-SAME:      memref<?x?x?x128xf16, strided<[?, ?, ?, 1], offset: ?>>
// CHECK-SAME:      attn.tiling = #attn.tiling<block_q = 128, block_kv = 64, warps = 4, stages = 2>
// CHECK:           attn.tile_load {{.*}} -> tensor<64x128xf16>
// CHECK:           attn.online_finalize {{.*}} -> tensor<128x128xf16>{{$}}
func.func @bshd_dv128(%q: tensor<?x?x?x64xf16>, %k: tensor<?x?x?x64xf16>, %v: tensor<?x?x?x128xf16>) -> tensor<?x?x?x128xf16> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %b = tensor.dim %q, %c0 : tensor<?x?x?x64xf16>
  %s = tensor.dim %q, %c1 : tensor<?x?x?x64xf16>
  %h = tensor.dim %q, %c2 : tensor<?x?x?x64xf16>
  %max, %sum, %acc = attn.online_init %b, %h, %s : tensor<?x?x?xf32>, tensor<?x?x?xf32>, tensor<?x?x?x128xf32>
  %u:3 = attn.online_update %q, %k, %v, %max, %sum, %acc attributes {layout = #attn.layout<bshd>} logits {
  ^bb0(%score: f32, %bi: index, %hi: index, %qi: index, %kv: index):
    attn.yield %score : f32
  } : tensor<?x?x?x64xf16>, tensor<?x?x?x64xf16>, tensor<?x?x?x128xf16>, tensor<?x?x?xf32>, tensor<?x?x?xf32>, tensor<?x?x?x128xf32>
  %o = attn.online_finalize %u#0, %u#1, %u#2 {layout = #attn.layout<bshd>} : tensor<?x?x?xf32>, tensor<?x?x?xf32>, tensor<?x?x?x128xf32> -> tensor<?x?x?x128xf16>
  return %o : tensor<?x?x?x128xf16>
}
