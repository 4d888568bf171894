// RUN: faopt-opt %s --split-input-file --attn-outline-tile-maps --attn-convert-to-emitc | FileCheck %s

// The running row sum l of the online softmax is only rescaled (alpha l),
// accumulated (l + rowsum P) and read by finalize: each lane may keep the sum
// of its own columns through the loop, and the quad is added up once, in
// finalize (LanePartialSums.h). Through scf.for iter_args and scf.if:

// CHECK-LABEL: emitc.func @loop(
// CHECK:         for
// CHECK:           call_opaque "faopt::scale_rows"
// CHECK:           call_opaque "faopt::row_sum_lanes"
// CHECK-NOT:       call_opaque "faopt::row_sum"(
// CHECK:         call_opaque "faopt::rows_quad_sum"
// CHECK:         call_opaque "faopt::finalize_output"
func.func @loop(%q: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %k: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %o: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %n: index, %go: i1) attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 32, block_kv = 32, warps = 2, stages = 1>} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %ninf = arith.constant dense<0xFF800000> : tensor<32xf32>
  %zrow = arith.constant dense<0.0> : tensor<32xf32>
  %zacc = arith.constant dense<0.0> : tensor<32x64xf32>
  scf.forall (%bh) in (%c1) {
    %qt = attn.tile_load %q[%c0, %bh, %c0] bound %n : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>> -> tensor<32x64xbf16>
    %r:3 = scf.for %i = %c0 to %n step %c1 iter_args(%m0 = %ninf, %l0 = %zrow, %a0 = %zacc) -> (tensor<32xf32>, tensor<32xf32>, tensor<32x64xf32>) {
      %u:3 = scf.if %go -> (tensor<32xf32>, tensor<32xf32>, tensor<32x64xf32>) {
        %kt = attn.tile_load %k[%c0, %bh, %i] bound %n : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>> -> tensor<32x64xbf16>
        %s = attn.tile_matmul %qt, %kt {transpose_rhs} : tensor<32x64xbf16>, tensor<32x64xbf16> -> tensor<32x32xf32>
        %m = attn.tile_reduce <max> %s, %m0 : tensor<32x32xf32> -> tensor<32xf32>
        %p = attn.tile_exp2 %s, %m : tensor<32x32xf32>, tensor<32xf32>
        %alpha = attn.tile_exp2 %m0, %m : tensor<32xf32>, tensor<32xf32>
        %ls = attn.tile_scale_rows %l0, %alpha : tensor<32xf32>, tensor<32xf32>
        %l = attn.tile_reduce <sum> %p, %ls : tensor<32x32xf32> -> tensor<32xf32>
        %as = attn.tile_scale_rows %a0, %alpha : tensor<32x64xf32>, tensor<32xf32>
        %pb = arith.truncf %p : tensor<32x32xf32> to tensor<32x32xbf16>
        %a = attn.tile_matmul %pb, %kt acc %as : tensor<32x32xbf16>, tensor<32x64xbf16>, tensor<32x64xf32> -> tensor<32x64xf32>
        scf.yield %m, %l, %a : tensor<32xf32>, tensor<32xf32>, tensor<32x64xf32>
      } else {
        scf.yield %m0, %l0, %a0 : tensor<32xf32>, tensor<32xf32>, tensor<32x64xf32>
      }
      scf.yield %u#0, %u#1, %u#2 : tensor<32xf32>, tensor<32xf32>, tensor<32x64xf32>
    }
    %out = attn.online_finalize %r#0, %r#1, %r#2 : tensor<32xf32>, tensor<32xf32>, tensor<32x64xf32> -> tensor<32x64xbf16>
    attn.tile_store %out, %o[%c0, %bh, %c0] bound %n : tensor<32x64xbf16>, memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
  } {attn.grid}
  return
}

// -----

// A sum that is also used as something else (here it scales the
// accumulator) needs every lane to hold the whole row: the quad reduction
// stays in the reduce and finalize gets the sum as it is.

// CHECK-LABEL: emitc.func @other_use(
// CHECK:         call_opaque "faopt::row_sum"(
// CHECK-NOT:     row_sum_lanes
// CHECK-NOT:     rows_quad_sum
// CHECK:         call_opaque "faopt::finalize_output"
func.func @other_use(%q: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %o: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %n: index) attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 32, block_kv = 32, warps = 2, stages = 1>} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %ninf = arith.constant dense<0xFF800000> : tensor<32xf32>
  %zrow = arith.constant dense<0.0> : tensor<32xf32>
  %zacc = arith.constant dense<0.0> : tensor<32x64xf32>
  scf.forall (%bh) in (%c1) {
    %qt = attn.tile_load %q[%c0, %bh, %c0] bound %n : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>> -> tensor<32x64xbf16>
    %s = attn.tile_matmul %qt, %qt {transpose_rhs} : tensor<32x64xbf16>, tensor<32x64xbf16> -> tensor<32x32xf32>
    %m = attn.tile_reduce <max> %s, %ninf : tensor<32x32xf32> -> tensor<32xf32>
    %p = attn.tile_exp2 %s, %m : tensor<32x32xf32>, tensor<32xf32>
    %l = attn.tile_reduce <sum> %p, %zrow : tensor<32x32xf32> -> tensor<32xf32>
    %pb = arith.truncf %p : tensor<32x32xf32> to tensor<32x32xbf16>
    %a = attn.tile_matmul %pb, %qt acc %zacc : tensor<32x32xbf16>, tensor<32x64xbf16>, tensor<32x64xf32> -> tensor<32x64xf32>
    %as = attn.tile_scale_rows %a, %l : tensor<32x64xf32>, tensor<32xf32>
    %out = attn.online_finalize %m, %l, %as : tensor<32xf32>, tensor<32xf32>, tensor<32x64xf32> -> tensor<32x64xbf16>
    attn.tile_store %out, %o[%c0, %bh, %c0] bound %n : tensor<32x64xbf16>, memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
  } {attn.grid}
  return
}
