// RUN: faopt-opt %s --attn-overlap-softmax=rounded-p=false --split-input-file | FileCheck %s
// RUN: faopt-opt %s --attn-overlap-softmax --split-input-file | FileCheck %s --check-prefix=ROUNDED
// RUN: faopt-opt %s --attn-overlap-softmax=late-k-release --split-input-file | FileCheck %s --check-prefix=LATEK
// RUN: faopt-opt %s --attn-overlap-softmax="late-k-release block-layouts-only" --split-input-file | FileCheck %s --check-prefix=LAYOUTS

// A guarded kv loop of a wgmma + TMA kernel: P V of block j - 1 is started
// right after S of block j, S is waited for with that product still
// running (pending 1), the product only after the softmax, then V(j - 1)'s
// stage is released and O rescaled. P (f32), V's wait operands that vary
// (row, stage, round) and "pending" are carried; a skipped block passes them
// through; the last product runs after the loop. K's stage is released
// right after S's wait; with late-k-release (LATEK, opt-in) just before
// P V's wait, ordered after the row sums (`after`).

!mem = memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>

// CHECK-LABEL: func.func @guarded(
// CHECK-SAME:      %[[Q:[^:]*]]: tensor<64x64xbf16>, %[[K:[^:]*]]: memref{{.*}}, %[[V:[^:]*]]: memref{{.*}}, %[[B:[^:]*]]: index, %[[H:[^:]*]]: index, %[[SK:[^:]*]]: index, %[[N:[^:]*]]: index, %[[ANY:[^:]*]]: i1
// CHECK:         %[[FALSE:.*]] = arith.constant false
// CHECK:         %[[R:.*]]:8 = scf.for %[[KB:.*]] = {{.*}} iter_args(%[[M:[^ ]*]] = %{{[^,]*}}, %[[L:[^ ]*]] = %{{[^,]*}}, %[[O:[^ ]*]] = %{{[^,]*}}, %[[PP:[^ ]*]] = %{{[^,]*}}, %[[PROW:[^ ]*]] = %{{[^,]*}}, %[[PST:[^ ]*]] = %{{[^,]*}}, %[[PRD:[^ ]*]] = %{{[^,]*}}, %[[PEND:[^ ]*]] = %[[FALSE]])
// CHECK:           %[[ST:.*]] = arith.remui %[[KB]]
// CHECK:           %[[RD:.*]] = arith.divui %[[KB]]
// CHECK:           %[[ROW:.*]] = arith.muli %[[KB]]
// CHECK:           %[[G:.*]]:8 = scf.if %[[ANY]]
// CHECK:             %[[KT:.*]] = attn.tile_wait %[[K]]
// CHECK-NEXT:        %[[PB:.*]] = arith.truncf %[[PP]] : tensor<64x64xf32> to tensor<64x64xbf16>
// CHECK-NEXT:        %[[S:.*]] = attn.tile_matmul %[[Q]], %[[KT]] {async, transpose_rhs}
// CHECK-NEXT:        %[[SO:.*]]:2 = scf.if %[[PEND]]
// CHECK-NEXT:          %[[VT:.*]] = attn.tile_wait %[[V]][%[[B]], %[[H]], %[[PROW]]] bound %[[SK]] stage %[[PST]] round %[[PRD]]
// CHECK-NEXT:          %[[PV:.*]] = attn.tile_matmul %[[PB]], %[[VT]] acc %[[O]] {async}
// CHECK-NEXT:          %[[S1:.*]] = attn.tile_mma_wait %[[S]] pending 1
// CHECK-NEXT:          scf.yield %[[S1]], %[[PV]]
// CHECK-NEXT:        } else {
// CHECK-NEXT:          %[[S0:.*]] = attn.tile_mma_wait %[[S]] pending 0
// CHECK-NEXT:          scf.yield %[[S0]], %[[O]]
// CHECK-NEXT:        }
// CHECK-NEXT:        attn.tile_release %[[K]] stage %[[ST]] round %[[RD]]
// CHECK-NEXT:        %[[M2:.*]] = attn.tile_reduce <max> %[[SO]]#0, %[[M]]
// CHECK-NEXT:        %[[P:.*]] = attn.tile_exp2 %[[SO]]#0, %[[M2]]
// CHECK-NEXT:        %[[C:.*]] = attn.tile_exp2 %[[M]], %[[M2]]
// CHECK:             %[[L2:.*]] = attn.tile_reduce <sum> %[[P]]
// CHECK-NEXT:        %[[OW:.*]] = attn.tile_mma_wait %[[SO]]#1 pending 0
// CHECK-NEXT:        scf.if %[[PEND]] {
// CHECK-NEXT:          attn.tile_release %[[V]] stage %[[PST]] round %[[PRD]]
// CHECK-NEXT:        }
// CHECK-NEXT:        %[[OS:.*]] = attn.tile_scale_rows %[[OW]], %[[C]]
// CHECK-NEXT:        %[[TRUE:.*]] = arith.constant true
// CHECK-NEXT:        scf.yield %[[M2]], %[[L2]], %[[OS]], %[[P]], %[[ROW]], %[[ST]], %[[RD]], %[[TRUE]]
// CHECK-NEXT:      } else {
// CHECK-NEXT:        attn.tile_release %[[K]] stage %[[ST]] round %[[RD]]
// CHECK-NEXT:        attn.tile_release %[[V]] stage %[[ST]] round %[[RD]]
// CHECK-NEXT:        scf.yield %[[M]], %[[L]], %[[O]], %[[PP]], %[[PROW]], %[[PST]], %[[PRD]], %[[PEND]]
// CHECK-NEXT:      }
// CHECK-NEXT:      scf.yield %[[G]]#0, %[[G]]#1, %[[G]]#2, %[[G]]#3, %[[G]]#4, %[[G]]#5, %[[G]]#6, %[[G]]#7
// CHECK-NEXT:    }
// CHECK-NEXT:    %[[LAST:.*]] = scf.if %[[R]]#7
// CHECK-NEXT:      %[[PBL:.*]] = arith.truncf %[[R]]#3
// CHECK-NEXT:      %[[VL:.*]] = attn.tile_wait %[[V]][%[[B]], %[[H]], %[[R]]#4] bound %[[SK]] stage %[[R]]#5 round %[[R]]#6
// CHECK-NEXT:      %[[OL:.*]] = attn.tile_matmul %[[PBL]], %[[VL]] acc %[[R]]#2 :
// CHECK-NEXT:      attn.tile_release %[[V]] stage %[[R]]#5 round %[[R]]#6
// CHECK-NEXT:      scf.yield %[[OL]]
// CHECK-NEXT:    } else {
// CHECK-NEXT:      scf.yield %[[R]]#2
// CHECK-NEXT:    }
// CHECK-NEXT:    return %[[LAST]]

// LATEK-LABEL: func.func @guarded(
// LATEK-SAME:      %[[Q:[^:]*]]: tensor<64x64xbf16>, %[[K:[^:]*]]: memref{{.*}}, %[[V:[^:]*]]: memref{{.*}}
// LATEK:           %[[ST:.*]] = arith.remui
// LATEK:           %[[RD:.*]] = arith.divui
// LATEK:             attn.tile_mma_wait %{{.*}} pending 1
// LATEK-NOT:         attn.tile_release %[[K]]
// LATEK:             %[[L2:.*]] = attn.tile_reduce <sum>
// LATEK-NEXT:        attn.tile_release %[[K]] stage %[[ST]] round %[[RD]] after %[[L2]] : memref{{.*}}, tensor<64xf32>
// LATEK-NEXT:        attn.tile_mma_wait %{{.*}} pending 0
// LATEK:           } else {
// LATEK-NEXT:        attn.tile_release %[[K]] stage %[[ST]] round %[[RD]] :
// LATEK-LABEL: func.func @unguarded(
// LATEK:           %[[SUMS:.*]] = attn.tile_reduce <sum>
// LATEK-NEXT:      attn.tile_release {{.*}} after %[[SUMS]]
// LATEK-NEXT:      attn.tile_mma_wait {{.*}} pending 0
// LATEK-LABEL: func.func @cp_async(
// LATEK-NOT:       after
// LATEK-LABEL: func.func @block_layout(

// With block-layouts-only too (the pipeline's default, late-k-release=auto),
// only kernels driven by a block layout (kv-block lists without
// kv_range_follows_q) release K late; the others, and lists that follow q
// (causal documents), right after S's wait.
// LAYOUTS-LABEL: func.func @guarded(
// LAYOUTS-NOT:     after
// LAYOUTS-LABEL: func.func @unguarded(
// LAYOUTS-NOT:     after
// LAYOUTS-LABEL: func.func @cp_async(
// LAYOUTS-NOT:     after
// LAYOUTS-LABEL: func.func @block_layout(
// LAYOUTS:           %[[LSUMS:.*]] = attn.tile_reduce <sum>
// LAYOUTS-NEXT:      attn.tile_release {{.*}} after %[[LSUMS]]
// LAYOUTS-NEXT:      attn.tile_mma_wait {{.*}} pending 0
// LAYOUTS-LABEL: func.func @lists_follow_q(
// LAYOUTS-NOT:     after

// With rounded-p, P is carried rounded, as a register operand: zero before
// the first product, rounded (after a tensor.cast that gives the f32 side
// the encoding) once P V(j-1) is done, used as is by the next product and
// the last one.
// ROUNDED-LABEL: func.func @guarded(
// ROUNDED-SAME:      %[[Q:[^:]*]]: tensor<64x64xbf16>, %[[K:[^:]*]]: memref{{.*}}, %[[V:[^:]*]]: memref{{.*}}, %[[B:[^:]*]]: index, %[[H:[^:]*]]: index, %[[SK:[^:]*]]: index, %[[N:[^:]*]]: index, %[[ANY:[^:]*]]: i1
// ROUNDED:         %[[PZERO:.*]] = arith.constant dense<0.000000e+00> : tensor<64x64xbf16, #attn.register_operand>
// ROUNDED:         %[[FALSE:.*]] = arith.constant false
// ROUNDED:         %[[R:.*]]:8 = scf.for %[[KB:.*]] = {{.*}} iter_args(%[[M:[^ ]*]] = %{{[^,]*}}, %[[L:[^ ]*]] = %{{[^,]*}}, %[[O:[^ ]*]] = %{{[^,]*}}, %[[PP:[^ ]*]] = %[[PZERO]], %[[PROW:[^ ]*]] = %{{[^,]*}}, %[[PST:[^ ]*]] = %{{[^,]*}}, %[[PRD:[^ ]*]] = %{{[^,]*}}, %[[PEND:[^ ]*]] = %[[FALSE]])
// ROUNDED:           %[[ST:.*]] = arith.remui %[[KB]]
// ROUNDED:           %[[RD:.*]] = arith.divui %[[KB]]
// ROUNDED:           %[[ROW:.*]] = arith.muli %[[KB]]
// ROUNDED:           %[[G:.*]]:8 = scf.if %[[ANY]]
// ROUNDED:             %[[KT:.*]] = attn.tile_wait %[[K]]
// ROUNDED-NEXT:        %[[S:.*]] = attn.tile_matmul %[[Q]], %[[KT]] {async, transpose_rhs}
// ROUNDED-NEXT:        %[[SO:.*]]:2 = scf.if %[[PEND]]
// ROUNDED-NEXT:          %[[VT:.*]] = attn.tile_wait %[[V]][%[[B]], %[[H]], %[[PROW]]] bound %[[SK]] stage %[[PST]] round %[[PRD]]
// ROUNDED-NEXT:          %[[PV:.*]] = attn.tile_matmul %[[PP]], %[[VT]] acc %[[O]] {async}
// ROUNDED-NEXT:          %[[S1:.*]] = attn.tile_mma_wait %[[S]] pending 1
// ROUNDED-NEXT:          scf.yield %[[S1]], %[[PV]]
// ROUNDED-NEXT:        } else {
// ROUNDED-NEXT:          %[[S0:.*]] = attn.tile_mma_wait %[[S]] pending 0
// ROUNDED-NEXT:          scf.yield %[[S0]], %[[O]]
// ROUNDED-NEXT:        }
// ROUNDED-NEXT:        attn.tile_release %[[K]] stage %[[ST]] round %[[RD]]
// ROUNDED-NEXT:        %[[M2:.*]] = attn.tile_reduce <max> %[[SO]]#0, %[[M]]
// ROUNDED-NEXT:        %[[P:.*]] = attn.tile_exp2 %[[SO]]#0, %[[M2]]
// ROUNDED-NEXT:        %[[C:.*]] = attn.tile_exp2 %[[M]], %[[M2]]
// ROUNDED:             %[[L2:.*]] = attn.tile_reduce <sum> %[[P]]
// ROUNDED-NEXT:        %[[OW:.*]] = attn.tile_mma_wait %[[SO]]#1 pending 0
// ROUNDED-NEXT:        scf.if %[[PEND]] {
// ROUNDED-NEXT:          attn.tile_release %[[V]] stage %[[PST]] round %[[PRD]]
// ROUNDED-NEXT:        }
// ROUNDED-NEXT:        %[[PE:.*]] = tensor.cast %[[P]] : tensor<64x64xf32> to tensor<64x64xf32, #attn.register_operand>
// ROUNDED-NEXT:        %[[PB:.*]] = arith.truncf %[[PE]] : tensor<64x64xf32, #attn.register_operand> to tensor<64x64xbf16, #attn.register_operand>
// ROUNDED-NEXT:        %[[OS:.*]] = attn.tile_scale_rows %[[OW]], %[[C]]
// ROUNDED-NEXT:        %[[TRUE:.*]] = arith.constant true
// ROUNDED-NEXT:        scf.yield %[[M2]], %[[L2]], %[[OS]], %[[PB]], %[[ROW]], %[[ST]], %[[RD]], %[[TRUE]]
// ROUNDED-NEXT:      } else {
// ROUNDED-NEXT:        attn.tile_release %[[K]] stage %[[ST]] round %[[RD]]
// ROUNDED-NEXT:        attn.tile_release %[[V]] stage %[[ST]] round %[[RD]]
// ROUNDED-NEXT:        scf.yield %[[M]], %[[L]], %[[O]], %[[PP]], %[[PROW]], %[[PST]], %[[PRD]], %[[PEND]]
// ROUNDED-NEXT:      }
// ROUNDED-NEXT:      scf.yield %[[G]]#0, %[[G]]#1, %[[G]]#2, %[[G]]#3, %[[G]]#4, %[[G]]#5, %[[G]]#6, %[[G]]#7
// ROUNDED-NEXT:    }
// ROUNDED-NEXT:    %[[LAST:.*]] = scf.if %[[R]]#7
// ROUNDED-NEXT:      %[[VL:.*]] = attn.tile_wait %[[V]][%[[B]], %[[H]], %[[R]]#4] bound %[[SK]] stage %[[R]]#5 round %[[R]]#6
// ROUNDED-NEXT:      %[[OL:.*]] = attn.tile_matmul %[[R]]#3, %[[VL]] acc %[[R]]#2 :
// ROUNDED-NEXT:      attn.tile_release %[[V]] stage %[[R]]#5 round %[[R]]#6
// ROUNDED-NEXT:      scf.yield %[[OL]]
// ROUNDED-NEXT:    } else {
// ROUNDED-NEXT:      scf.yield %[[R]]#2
// ROUNDED-NEXT:    }
// ROUNDED-NEXT:    return %[[LAST]]

func.func @guarded(%q: tensor<64x64xbf16>, %k: !mem, %v: !mem, %b: index, %h: index, %sk: index, %n: index, %any: i1) -> tensor<64x64xf32> attributes {attn.tiling = #attn.tiling<block_q = 64, block_kv = 64, warps = 4, stages = 2, mma = "wgmma", copy = "tma">} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  %true = arith.constant true
  %ninf = arith.constant dense<0xFF800000> : tensor<64xf32>
  %zrow = arith.constant dense<0.0> : tensor<64xf32>
  %zacc = arith.constant dense<0.0> : tensor<64x64xf32>
  %r:3 = scf.for %kb = %c0 to %n step %c1 iter_args(%m = %ninf, %l = %zrow, %o = %zacc) -> (tensor<64xf32>, tensor<64xf32>, tensor<64x64xf32>) {
    %st = arith.remui %kb, %c2 : index
    %rd = arith.divui %kb, %c2 : index
    %row = arith.muli %kb, %c64 : index
    %res:3 = scf.if %any -> (tensor<64xf32>, tensor<64xf32>, tensor<64x64xf32>) {
      %kt = attn.tile_wait %k[%b, %h, %row] bound %sk stage %st round %rd ahead %true : !mem -> tensor<64x64xbf16>
      %s = attn.tile_matmul %q, %kt {transpose_rhs} : tensor<64x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xf32>
      attn.tile_release %k stage %st round %rd : !mem
      %m2 = attn.tile_reduce <max> %s, %m : tensor<64x64xf32> -> tensor<64xf32>
      %p = attn.tile_exp2 %s, %m2 : tensor<64x64xf32>, tensor<64xf32>
      %c = attn.tile_exp2 %m, %m2 : tensor<64xf32>, tensor<64xf32>
      %ls = attn.tile_scale_rows %l, %c : tensor<64xf32>, tensor<64xf32>
      %l2 = attn.tile_reduce <sum> %p, %ls : tensor<64x64xf32> -> tensor<64xf32>
      %os = attn.tile_scale_rows %o, %c : tensor<64x64xf32>, tensor<64xf32>
      %pb = arith.truncf %p : tensor<64x64xf32> to tensor<64x64xbf16>
      %vt = attn.tile_wait %v[%b, %h, %row] bound %sk stage %st round %rd ahead %true : !mem -> tensor<64x64xbf16>
      %o2 = attn.tile_matmul %pb, %vt acc %os : tensor<64x64xbf16>, tensor<64x64xbf16>, tensor<64x64xf32> -> tensor<64x64xf32>
      attn.tile_release %v stage %st round %rd : !mem
      scf.yield %m2, %l2, %o2 : tensor<64xf32>, tensor<64xf32>, tensor<64x64xf32>
    } else {
      attn.tile_release %k stage %st round %rd : !mem
      attn.tile_release %v stage %st round %rd : !mem
      scf.yield %m, %l, %o : tensor<64xf32>, tensor<64xf32>, tensor<64x64xf32>
    }
    scf.yield %res#0, %res#1, %res#2 : tensor<64xf32>, tensor<64xf32>, tensor<64x64xf32>
  }
  return %r#2 : tensor<64x64xf32>
}

// -----

// No guard (a list-driven loop): the same rewrite on the loop body.

!mem = memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>

// CHECK-LABEL: func.func @unguarded(
// CHECK:         scf.for {{.*}} -> (tensor<64xf32>, tensor<64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, index, index, index, i1)
// CHECK:           attn.tile_matmul {{.*}} {async, transpose_rhs}
// CHECK:           attn.tile_matmul {{.*}} {async}
// CHECK:           attn.tile_mma_wait {{.*}} pending 1
// CHECK:           attn.tile_mma_wait {{.*}} pending 0
// CHECK:           attn.tile_mma_wait {{.*}} pending 0
// CHECK:           scf.yield {{.*}}, %true{{.*}} : tensor<64xf32>, tensor<64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, index, index, index, i1
// CHECK:         scf.if
// CHECK:           attn.tile_matmul
// CHECK-NOT:       async
// ROUNDED-LABEL: func.func @unguarded(
// ROUNDED:         scf.for {{.*}} -> (tensor<64xf32>, tensor<64xf32>, tensor<64x64xf32>, tensor<64x64xbf16, #attn.register_operand>, index, index, index, i1)
// ROUNDED:           attn.tile_matmul {{.*}} {async, transpose_rhs}
// ROUNDED:           attn.tile_matmul {{.*}} {async}
// ROUNDED:           attn.tile_mma_wait {{.*}} pending 1
// ROUNDED:           attn.tile_mma_wait {{.*}} pending 0
// ROUNDED:           attn.tile_mma_wait {{.*}} pending 0
// ROUNDED:           scf.yield {{.*}}, %true{{.*}} : tensor<64xf32>, tensor<64xf32>, tensor<64x64xf32>, tensor<64x64xbf16, #attn.register_operand>, index, index, index, i1
// ROUNDED:         scf.if
// ROUNDED:           attn.tile_matmul
// ROUNDED-NOT:       async

func.func @unguarded(%q: tensor<64x64xbf16>, %k: !mem, %v: !mem, %b: index, %h: index, %sk: index, %n: index) -> tensor<64x64xf32> attributes {attn.tiling = #attn.tiling<block_q = 64, block_kv = 64, warps = 4, stages = 2, mma = "wgmma", copy = "tma">} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  %true = arith.constant true
  %ninf = arith.constant dense<0xFF800000> : tensor<64xf32>
  %zrow = arith.constant dense<0.0> : tensor<64xf32>
  %zacc = arith.constant dense<0.0> : tensor<64x64xf32>
  %r:3 = scf.for %kb = %c0 to %n step %c1 iter_args(%m = %ninf, %l = %zrow, %o = %zacc) -> (tensor<64xf32>, tensor<64xf32>, tensor<64x64xf32>) {
    %st = arith.remui %kb, %c2 : index
    %rd = arith.divui %kb, %c2 : index
    %row = arith.muli %kb, %c64 : index
    %kt = attn.tile_wait %k[%b, %h, %row] bound %sk stage %st round %rd ahead %true : !mem -> tensor<64x64xbf16>
    %s = attn.tile_matmul %q, %kt {transpose_rhs} : tensor<64x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xf32>
    attn.tile_release %k stage %st round %rd : !mem
    %m2 = attn.tile_reduce <max> %s, %m : tensor<64x64xf32> -> tensor<64xf32>
    %p = attn.tile_exp2 %s, %m2 : tensor<64x64xf32>, tensor<64xf32>
    %c = attn.tile_exp2 %m, %m2 : tensor<64xf32>, tensor<64xf32>
    %ls = attn.tile_scale_rows %l, %c : tensor<64xf32>, tensor<64xf32>
    %l2 = attn.tile_reduce <sum> %p, %ls : tensor<64x64xf32> -> tensor<64xf32>
    %os = attn.tile_scale_rows %o, %c : tensor<64x64xf32>, tensor<64xf32>
    %pb = arith.truncf %p : tensor<64x64xf32> to tensor<64x64xbf16>
    %vt = attn.tile_wait %v[%b, %h, %row] bound %sk stage %st round %rd ahead %true : !mem -> tensor<64x64xbf16>
    %o2 = attn.tile_matmul %pb, %vt acc %os : tensor<64x64xbf16>, tensor<64x64xbf16>, tensor<64x64xf32> -> tensor<64x64xf32>
    attn.tile_release %v stage %st round %rd : !mem
    scf.yield %m2, %l2, %o2 : tensor<64xf32>, tensor<64xf32>, tensor<64x64xf32>
  }
  return %r#2 : tensor<64x64xf32>
}

// -----

// cp.async kernels are left alone: the next prefetch would overwrite
// V(j - 1)'s stage before the deferred product reads it.

!mem = memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>

// CHECK-LABEL: func.func @cp_async(
// CHECK-NOT:     async
// CHECK-NOT:     attn.tile_mma_wait
// CHECK:         return
// ROUNDED-LABEL: func.func @cp_async(
// ROUNDED-NOT:     async
// ROUNDED-NOT:     attn.tile_mma_wait
// ROUNDED:         return

func.func @cp_async(%q: tensor<64x64xbf16>, %k: !mem, %v: !mem, %b: index, %h: index, %sk: index, %n: index) -> tensor<64x64xf32> attributes {attn.tiling = #attn.tiling<block_q = 64, block_kv = 64, warps = 4, stages = 2, mma = "wgmma", copy = "cp_async">} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  %true = arith.constant true
  %ninf = arith.constant dense<0xFF800000> : tensor<64xf32>
  %zrow = arith.constant dense<0.0> : tensor<64xf32>
  %zacc = arith.constant dense<0.0> : tensor<64x64xf32>
  %r:3 = scf.for %kb = %c0 to %n step %c1 iter_args(%m = %ninf, %l = %zrow, %o = %zacc) -> (tensor<64xf32>, tensor<64xf32>, tensor<64x64xf32>) {
    %st = arith.remui %kb, %c2 : index
    %rd = arith.divui %kb, %c2 : index
    %row = arith.muli %kb, %c64 : index
    %kt = attn.tile_wait %k[%b, %h, %row] bound %sk stage %st round %rd ahead %true : !mem -> tensor<64x64xbf16>
    %s = attn.tile_matmul %q, %kt {transpose_rhs} : tensor<64x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xf32>
    attn.tile_release %k stage %st round %rd : !mem
    %m2 = attn.tile_reduce <max> %s, %m : tensor<64x64xf32> -> tensor<64xf32>
    %p = attn.tile_exp2 %s, %m2 : tensor<64x64xf32>, tensor<64xf32>
    %c = attn.tile_exp2 %m, %m2 : tensor<64xf32>, tensor<64xf32>
    %ls = attn.tile_scale_rows %l, %c : tensor<64xf32>, tensor<64xf32>
    %l2 = attn.tile_reduce <sum> %p, %ls : tensor<64x64xf32> -> tensor<64xf32>
    %os = attn.tile_scale_rows %o, %c : tensor<64x64xf32>, tensor<64xf32>
    %pb = arith.truncf %p : tensor<64x64xf32> to tensor<64x64xbf16>
    %vt = attn.tile_wait %v[%b, %h, %row] bound %sk stage %st round %rd ahead %true : !mem -> tensor<64x64xbf16>
    %o2 = attn.tile_matmul %pb, %vt acc %os : tensor<64x64xbf16>, tensor<64x64xbf16>, tensor<64x64xf32> -> tensor<64x64xf32>
    attn.tile_release %v stage %st round %rd : !mem
    scf.yield %m2, %l2, %o2 : tensor<64xf32>, tensor<64xf32>, tensor<64x64xf32>
  }
  return %r#2 : tensor<64x64xf32>
}

// -----

// The unguarded loop in a kernel driven by a block layout (lists whose mask
// does not bound kv by q), then by lists that follow q.

!mem = memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>

func.func @block_layout(%q: tensor<64x64xbf16>, %k: !mem, %v: !mem, %b: index, %h: index, %sk: index, %n: index, %lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = false, per_head = false}}) -> tensor<64x64xf32> attributes {attn.tiling = #attn.tiling<block_q = 64, block_kv = 64, warps = 4, stages = 2, mma = "wgmma", copy = "tma">} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  %true = arith.constant true
  %ninf = arith.constant dense<0xFF800000> : tensor<64xf32>
  %zrow = arith.constant dense<0.0> : tensor<64xf32>
  %zacc = arith.constant dense<0.0> : tensor<64x64xf32>
  %r:3 = scf.for %kb = %c0 to %n step %c1 iter_args(%m = %ninf, %l = %zrow, %o = %zacc) -> (tensor<64xf32>, tensor<64xf32>, tensor<64x64xf32>) {
    %st = arith.remui %kb, %c2 : index
    %rd = arith.divui %kb, %c2 : index
    %row = arith.muli %kb, %c64 : index
    %kt = attn.tile_wait %k[%b, %h, %row] bound %sk stage %st round %rd ahead %true : !mem -> tensor<64x64xbf16>
    %s = attn.tile_matmul %q, %kt {transpose_rhs} : tensor<64x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xf32>
    attn.tile_release %k stage %st round %rd : !mem
    %m2 = attn.tile_reduce <max> %s, %m : tensor<64x64xf32> -> tensor<64xf32>
    %p = attn.tile_exp2 %s, %m2 : tensor<64x64xf32>, tensor<64xf32>
    %c = attn.tile_exp2 %m, %m2 : tensor<64xf32>, tensor<64xf32>
    %ls = attn.tile_scale_rows %l, %c : tensor<64xf32>, tensor<64xf32>
    %l2 = attn.tile_reduce <sum> %p, %ls : tensor<64x64xf32> -> tensor<64xf32>
    %os = attn.tile_scale_rows %o, %c : tensor<64x64xf32>, tensor<64xf32>
    %pb = arith.truncf %p : tensor<64x64xf32> to tensor<64x64xbf16>
    %vt = attn.tile_wait %v[%b, %h, %row] bound %sk stage %st round %rd ahead %true : !mem -> tensor<64x64xbf16>
    %o2 = attn.tile_matmul %pb, %vt acc %os : tensor<64x64xbf16>, tensor<64x64xbf16>, tensor<64x64xf32> -> tensor<64x64xf32>
    attn.tile_release %v stage %st round %rd : !mem
    scf.yield %m2, %l2, %o2 : tensor<64xf32>, tensor<64xf32>, tensor<64x64xf32>
  }
  return %r#2 : tensor<64x64xf32>
}

// -----

!mem = memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>

func.func @lists_follow_q(%q: tensor<64x64xbf16>, %k: !mem, %v: !mem, %b: index, %h: index, %sk: index, %n: index, %lists: memref<?x?x?x?xi32> {attn.block_lists = {kv_range_follows_q, per_batch = true, per_head = false}}) -> tensor<64x64xf32> attributes {attn.tiling = #attn.tiling<block_q = 64, block_kv = 64, warps = 4, stages = 2, mma = "wgmma", copy = "tma">} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  %true = arith.constant true
  %ninf = arith.constant dense<0xFF800000> : tensor<64xf32>
  %zrow = arith.constant dense<0.0> : tensor<64xf32>
  %zacc = arith.constant dense<0.0> : tensor<64x64xf32>
  %r:3 = scf.for %kb = %c0 to %n step %c1 iter_args(%m = %ninf, %l = %zrow, %o = %zacc) -> (tensor<64xf32>, tensor<64xf32>, tensor<64x64xf32>) {
    %st = arith.remui %kb, %c2 : index
    %rd = arith.divui %kb, %c2 : index
    %row = arith.muli %kb, %c64 : index
    %kt = attn.tile_wait %k[%b, %h, %row] bound %sk stage %st round %rd ahead %true : !mem -> tensor<64x64xbf16>
    %s = attn.tile_matmul %q, %kt {transpose_rhs} : tensor<64x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xf32>
    attn.tile_release %k stage %st round %rd : !mem
    %m2 = attn.tile_reduce <max> %s, %m : tensor<64x64xf32> -> tensor<64xf32>
    %p = attn.tile_exp2 %s, %m2 : tensor<64x64xf32>, tensor<64xf32>
    %c = attn.tile_exp2 %m, %m2 : tensor<64xf32>, tensor<64xf32>
    %ls = attn.tile_scale_rows %l, %c : tensor<64xf32>, tensor<64xf32>
    %l2 = attn.tile_reduce <sum> %p, %ls : tensor<64x64xf32> -> tensor<64xf32>
    %os = attn.tile_scale_rows %o, %c : tensor<64x64xf32>, tensor<64xf32>
    %pb = arith.truncf %p : tensor<64x64xf32> to tensor<64x64xbf16>
    %vt = attn.tile_wait %v[%b, %h, %row] bound %sk stage %st round %rd ahead %true : !mem -> tensor<64x64xbf16>
    %o2 = attn.tile_matmul %pb, %vt acc %os : tensor<64x64xbf16>, tensor<64x64xbf16>, tensor<64x64xf32> -> tensor<64x64xf32>
    attn.tile_release %v stage %st round %rd : !mem
    scf.yield %m2, %l2, %o2 : tensor<64xf32>, tensor<64xf32>, tensor<64x64xf32>
  }
  return %r#2 : tensor<64x64xf32>
}
