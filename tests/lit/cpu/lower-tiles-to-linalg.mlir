// RUN: faopt-opt %s --attn-lower-tiles-to-linalg --split-input-file | FileCheck %s

// Q Kᵀ: a (i, j, k) contraction reading K as (j, k), widening bf16 to f32.
// CHECK-DAG: #[[MQ:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[MK:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[MS:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @qk(
// CHECK:         %[[Z:.*]] = linalg.fill
// CHECK:         linalg.generic {indexing_maps = [#[[MQ]], #[[MK]], #[[MS]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%{{.*}}, %{{.*}} : tensor<16x32xbf16>, tensor<8x32xbf16>) outs(%[[Z]] : tensor<16x8xf32>)
// CHECK:           arith.extf
// CHECK:           arith.extf
// CHECK:           arith.mulf
// CHECK:           arith.addf
func.func @qk(%q: tensor<16x32xbf16>, %k: tensor<8x32xbf16>) -> tensor<16x8xf32> {
  %s = attn.tile_matmul %q, %k {transpose_rhs} : tensor<16x32xbf16>, tensor<8x32xbf16> -> tensor<16x8xf32>
  return %s : tensor<16x8xf32>
}

// -----

// Loads read rows below the bound and zero-fill the rest.
// CHECK-LABEL: func.func @load(
// CHECK:         tensor.generate {
// CHECK-NEXT:    ^bb0(%[[I:.*]]: index, %[[J:.*]]: index):
// CHECK:           %[[ROW:.*]] = arith.addi %{{.*}}, %[[I]]
// CHECK:           %[[IN:.*]] = arith.cmpi slt, %[[ROW]], %{{.*}}
// CHECK:           %[[SAFE:.*]] = arith.select %[[IN]], %[[ROW]], %c0
// CHECK:           %[[X:.*]] = memref.load %{{.*}}[%{{.*}}, %{{.*}}, %[[SAFE]], %[[J]]]
// CHECK:           %[[V:.*]] = arith.select %[[IN]], %[[X]], %cst
// CHECK:           tensor.yield %[[V]] : bf16
// CHECK:         } : tensor<16x32xbf16>
func.func @load(%m: memref<?x?x?x32xbf16, strided<[?, ?, ?, 1], offset: ?>>, %b: index, %h: index, %r: index, %n: index) -> tensor<16x32xbf16> {
  %t = attn.tile_load %m[%b, %h, %r] bound %n : memref<?x?x?x32xbf16, strided<[?, ?, ?, 1], offset: ?>> -> tensor<16x32xbf16>
  return %t : tensor<16x32xbf16>
}

// -----

// Stores write min(rows, bound - row) rows, rounding f32 to the memref type.
// CHECK-LABEL: func.func @store(
// CHECK:         %[[LEFT:.*]] = arith.subi
// CHECK:         %[[POS:.*]] = arith.maxsi %[[LEFT]], %c0
// CHECK:         %[[ROWS:.*]] = arith.minsi %c16, %[[POS]]
// CHECK:         scf.for %[[I:.*]] = %c0 to %[[ROWS]] step %c1 {
// CHECK:           scf.for %[[J:.*]] = %c0 to %c32 step %c1 {
// CHECK:             %[[X:.*]] = tensor.extract %{{.*}}[%[[I]], %[[J]]] : tensor<16x32xf32>
// CHECK:             %[[Y:.*]] = arith.truncf %[[X]] : f32 to bf16
// CHECK:             memref.store %[[Y]]
func.func @store(%t: tensor<16x32xf32>, %m: memref<?x?x?x32xbf16, strided<[?, ?, ?, 1], offset: ?>>, %b: index, %h: index, %r: index, %n: index) {
  attn.tile_store %t, %m[%b, %h, %r] bound %n : tensor<16x32xf32>, memref<?x?x?x32xbf16, strided<[?, ?, ?, 1], offset: ?>>
  return
}

// -----

// tile_map: positions are the tile's origin plus linalg.index.
// CHECK-LABEL: func.func @map(
// CHECK-SAME:      %[[Q0:[^:]*]]: index, %[[KV0:[^:]*]]: index)
// CHECK:         linalg.generic
// CHECK:           %[[I:.*]] = linalg.index 0
// CHECK:           %[[J:.*]] = linalg.index 1
// CHECK:           %[[Q:.*]] = arith.addi %[[Q0]], %[[I]]
// CHECK:           %[[KV:.*]] = arith.addi %[[KV0]], %[[J]]
// CHECK:           arith.cmpi sge, %[[Q]], %[[KV]]
func.func @map(%s: tensor<16x8xf32>, %q0: index, %kv0: index) -> tensor<16x8xf32> {
  %c0 = arith.constant 0 : index
  %t = attn.tile_map %s at(%c0, %c0, %q0, %kv0) {
  ^bb0(%x: f32, %b: index, %h: index, %q: index, %kv: index):
    %ninf = arith.constant 0xFF800000 : f32
    %p = arith.cmpi sge, %q, %kv : index
    %y = arith.select %p, %x, %ninf : f32
    attn.yield %y : f32
  } : tensor<16x8xf32>
  return %t : tensor<16x8xf32>
}

// -----

// Row reductions and the guarded exp2(k (x - m)): a row maximum of -inf
// counts as 0, and k is the op's exp_scale.
// CHECK-LABEL: func.func @softmax_parts(
// CHECK:         linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]
// CHECK:           arith.maximumf
// CHECK:         linalg.generic {{.*}}iterator_types = ["parallel", "parallel"]
// CHECK:           %[[ISNEG:.*]] = arith.cmpf oeq, %{{.*}}, %cst
// CHECK:           %[[SAFE:.*]] = arith.select %[[ISNEG]], %{{.*}}, %{{.*}} : f32
// CHECK:           %[[D:.*]] = arith.subf %{{.*}}, %[[SAFE]]
// CHECK:           %[[K:.*]] = arith.constant 5.000000e-01 : f32
// CHECK:           %[[E:.*]] = arith.mulf %[[D]], %[[K]]
// CHECK:           math.exp2 %[[E]]
func.func @softmax_parts(%t: tensor<16x8xf32>, %m: tensor<16xf32>) -> tensor<16x8xf32> {
  %mx = attn.tile_reduce <max> %t, %m : tensor<16x8xf32> -> tensor<16xf32>
  %p = attn.tile_exp2 %t, %mx {exp_scale = 0.5 : f32} : tensor<16x8xf32>, tensor<16xf32>
  return %p : tensor<16x8xf32>
}

// -----

// Finalize: o = acc / l (0 where l = 0), lse = ln2 (k m + log2 l) (-inf
// there) with k = exp_scale;
// kernels get llvm.emit_c_interface for the CPU runner.
// CHECK-LABEL: func.func @finalize(
// CHECK-SAME:      llvm.emit_c_interface
// CHECK:         linalg.generic
// CHECK:           arith.divf
// CHECK:           arith.select
// CHECK:           arith.truncf {{.*}} f32 to f16
// CHECK:         linalg.generic
// CHECK:           math.log2
// CHECK:           arith.constant 2.500000e-01 : f32
// CHECK:           arith.mulf
// CHECK:           arith.addf
// CHECK:           arith.constant 0.693147182 : f32
func.func @finalize(%m: tensor<16xf32>, %l: tensor<16xf32>, %a: tensor<16x32xf32>) -> (tensor<16x32xf16>, tensor<16xf32>) attributes {attn.kernel} {
  %o, %lse = attn.online_finalize %m, %l, %a {exp_scale = 0.25 : f32} : tensor<16xf32>, tensor<16xf32>, tensor<16x32xf32> -> tensor<16x32xf16>, tensor<16xf32>
  return %o, %lse : tensor<16x32xf16>, tensor<16xf32>
}
