// RUN: faopt-opt %s --attn-warp-specialize --split-input-file | FileCheck %s

// A TMA kernel's grid body splits on attn.copy_producer. The producer side
// keeps what the prefetches need: their index math, the block-list reads
// (also the next entry, read in the loop) and the loop and branch around
// them, but none of the loop-carried softmax state, no waits, products,
// releases or stores. The consumer side is the body without prefetches.

!mem = memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>

// CHECK-LABEL: func.func @kernel(
// CHECK-SAME:      %[[Q:[^:]*]]: memref{{.*}}, %[[K:[^:]*]]: memref{{.*}}, %[[V:[^:]*]]: memref{{.*}}, %[[O:[^:]*]]: memref{{.*}}, %[[LIST:[^:]*]]: memref<?xindex>, %[[N:[^:]*]]: index
// CHECK:         scf.forall (%[[P:.*]]) in
// CHECK-NEXT:      %[[ROLE:.*]] = attn.copy_producer
// CHECK-NEXT:      scf.if %[[ROLE]] {
// CHECK-NEXT:        %[[Q0:.*]] = arith.muli %[[P]]
// CHECK-NEXT:        attn.tile_prefetch %[[Q]][{{.*}}, %[[Q0]]] {{.*}} stage %c0 round %c0
// CHECK-NEXT:        %[[FIRST:.*]] = memref.load %[[LIST]][%c0]
// CHECK-NEXT:        %[[ROW0:.*]] = arith.muli %[[FIRST]]
// CHECK-NEXT:        attn.tile_prefetch %[[K]][{{.*}}, %[[ROW0]]]
// CHECK-NEXT:        attn.tile_prefetch %[[V]][{{.*}}, %[[ROW0]]]
// CHECK-NEXT:        scf.for %[[I:[^ ]*]] = %c0 to %[[N]] step %c1 {
// CHECK-NEXT:          %[[ST:.*]] = arith.remui %[[I]], %c2
// CHECK-NEXT:          %[[NEXT:.*]] = arith.addi %[[I]], %c1
// CHECK-NEXT:          %[[AHEAD:.*]] = arith.cmpi ult, %[[NEXT]], %[[N]]
// CHECK-NEXT:          %[[OTHER:.*]] = arith.subi %c1, %[[ST]]
// CHECK-NEXT:          %[[EN:.*]] = memref.load %[[LIST]][%[[NEXT]]]
// CHECK-NEXT:          scf.if %[[AHEAD]] {
// CHECK-NEXT:            %[[ROWN:.*]] = arith.muli %[[EN]]
// CHECK-NEXT:            %[[RDN:.*]] = arith.divui %[[NEXT]], %c2
// CHECK-NEXT:            attn.tile_prefetch %[[K]][{{.*}}, %[[ROWN]]] {{.*}} stage %[[OTHER]] round %[[RDN]]
// CHECK-NEXT:            attn.tile_prefetch %[[V]][{{.*}}, %[[ROWN]]] {{.*}} stage %[[OTHER]] round %[[RDN]]
// CHECK-NEXT:          }
// CHECK-NEXT:        }
// CHECK-NEXT:      } else {
// CHECK-NOT:         attn.tile_prefetch
// CHECK:             attn.tile_wait %[[Q]]
// CHECK:             scf.for {{.*}} iter_args({{.*}}) -> (tensor<64xf32>, tensor<64xf32>, tensor<64x64xf32>, index)
// CHECK-NOT:           attn.tile_prefetch
// CHECK:               attn.tile_wait %[[K]]
// CHECK:               attn.tile_matmul
// CHECK:               attn.tile_release %[[K]]
// CHECK:               attn.tile_wait %[[V]]
// CHECK:               attn.tile_matmul
// CHECK:               attn.tile_release %[[V]]
// CHECK:             attn.online_finalize
// CHECK:             attn.tile_store
// CHECK-NEXT:      }
// CHECK-NEXT:    } {attn.grid}

func.func @kernel(%q: !mem, %k: !mem, %v: !mem, %o: !mem, %list: memref<?xindex>, %n: index, %sk: index) attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 64, block_kv = 64, warps = 4, stages = 2, mma = "wgmma", copy = "tma">} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  %true = arith.constant true
  %ninf = arith.constant dense<0xFF800000> : tensor<64xf32>
  %zrow = arith.constant dense<0.0> : tensor<64xf32>
  %zacc = arith.constant dense<0.0> : tensor<64x64xf32>
  scf.forall (%p) in (%n) {
    %q0 = arith.muli %p, %c64 : index
    attn.tile_prefetch %q[%c0, %c0, %q0] bound %sk stage %c0 round %c0 : !mem -> tensor<64x64xbf16>
    %first = memref.load %list[%c0] : memref<?xindex>
    %row0 = arith.muli %first, %c64 : index
    attn.tile_prefetch %k[%c0, %c0, %row0] bound %sk stage %c0 round %c0 : !mem -> tensor<64x64xbf16>
    attn.tile_prefetch %v[%c0, %c0, %row0] bound %sk stage %c0 round %c0 : !mem -> tensor<64x64xbf16>
    %qt = attn.tile_wait %q[%c0, %c0, %q0] bound %sk stage %c0 round %c0 ahead %true : !mem -> tensor<64x64xbf16>
    %r:4 = scf.for %i = %c0 to %n step %c1 iter_args(%m = %ninf, %l = %zrow, %acc = %zacc, %e = %first) -> (tensor<64xf32>, tensor<64xf32>, tensor<64x64xf32>, index) {
      %st = arith.remui %i, %c2 : index
      %rd = arith.divui %i, %c2 : index
      %next = arith.addi %i, %c1 : index
      %ahead = arith.cmpi ult, %next, %n : index
      %other = arith.subi %c1, %st : index
      %en = memref.load %list[%next] : memref<?xindex>
      scf.if %ahead {
        %rown = arith.muli %en, %c64 : index
        %rdn = arith.divui %next, %c2 : index
        attn.tile_prefetch %k[%c0, %c0, %rown] bound %sk stage %other round %rdn : !mem -> tensor<64x64xbf16>
        attn.tile_prefetch %v[%c0, %c0, %rown] bound %sk stage %other round %rdn : !mem -> tensor<64x64xbf16>
      }
      %row = arith.muli %e, %c64 : index
      %kt = attn.tile_wait %k[%c0, %c0, %row] bound %sk stage %st round %rd ahead %ahead : !mem -> tensor<64x64xbf16>
      %s = attn.tile_matmul %qt, %kt {transpose_rhs} : tensor<64x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xf32>
      attn.tile_release %k stage %st round %rd : !mem
      %m2 = attn.tile_reduce <max> %s, %m : tensor<64x64xf32> -> tensor<64xf32>
      %pp = attn.tile_exp2 %s, %m2 : tensor<64x64xf32>, tensor<64xf32>
      %c = attn.tile_exp2 %m, %m2 : tensor<64xf32>, tensor<64xf32>
      %ls = attn.tile_scale_rows %l, %c : tensor<64xf32>, tensor<64xf32>
      %l2 = attn.tile_reduce <sum> %pp, %ls : tensor<64x64xf32> -> tensor<64xf32>
      %os = attn.tile_scale_rows %acc, %c : tensor<64x64xf32>, tensor<64xf32>
      %pb = arith.truncf %pp : tensor<64x64xf32> to tensor<64x64xbf16>
      %vt = attn.tile_wait %v[%c0, %c0, %row] bound %sk stage %st round %rd ahead %ahead : !mem -> tensor<64x64xbf16>
      %o2 = attn.tile_matmul %pb, %vt acc %os : tensor<64x64xbf16>, tensor<64x64xbf16>, tensor<64x64xf32> -> tensor<64x64xf32>
      attn.tile_release %v stage %st round %rd : !mem
      scf.yield %m2, %l2, %o2, %en : tensor<64xf32>, tensor<64xf32>, tensor<64x64xf32>, index
    }
    %out = attn.online_finalize %r#0, %r#1, %r#2 : tensor<64xf32>, tensor<64xf32>, tensor<64x64xf32> -> tensor<64x64xbf16>
    attn.tile_store %out, %o[%c0, %c0, %q0] bound %sk : tensor<64x64xbf16>, !mem
  } {attn.grid}
  return
}

// -----

// cp.async kernels have no copy thread: left alone.

!mem = memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>

// CHECK-LABEL: func.func @cp_async(
// CHECK-NOT:     attn.copy_producer
// CHECK:         return

func.func @cp_async(%q: !mem, %k: !mem, %v: !mem, %o: !mem, %list: memref<?xindex>, %n: index, %sk: index) attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 64, block_kv = 64, warps = 4, stages = 2, mma = "wgmma", copy = "cp_async">} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  %true = arith.constant true
  %ninf = arith.constant dense<0xFF800000> : tensor<64xf32>
  %zrow = arith.constant dense<0.0> : tensor<64xf32>
  %zacc = arith.constant dense<0.0> : tensor<64x64xf32>
  scf.forall (%p) in (%n) {
    %q0 = arith.muli %p, %c64 : index
    attn.tile_prefetch %q[%c0, %c0, %q0] bound %sk stage %c0 round %c0 : !mem -> tensor<64x64xbf16>
    %first = memref.load %list[%c0] : memref<?xindex>
    %row0 = arith.muli %first, %c64 : index
    attn.tile_prefetch %k[%c0, %c0, %row0] bound %sk stage %c0 round %c0 : !mem -> tensor<64x64xbf16>
    attn.tile_prefetch %v[%c0, %c0, %row0] bound %sk stage %c0 round %c0 : !mem -> tensor<64x64xbf16>
    %qt = attn.tile_wait %q[%c0, %c0, %q0] bound %sk stage %c0 round %c0 ahead %true : !mem -> tensor<64x64xbf16>
    %r:4 = scf.for %i = %c0 to %n step %c1 iter_args(%m = %ninf, %l = %zrow, %acc = %zacc, %e = %first) -> (tensor<64xf32>, tensor<64xf32>, tensor<64x64xf32>, index) {
      %st = arith.remui %i, %c2 : index
      %rd = arith.divui %i, %c2 : index
      %next = arith.addi %i, %c1 : index
      %ahead = arith.cmpi ult, %next, %n : index
      %other = arith.subi %c1, %st : index
      %en = memref.load %list[%next] : memref<?xindex>
      scf.if %ahead {
        %rown = arith.muli %en, %c64 : index
        %rdn = arith.divui %next, %c2 : index
        attn.tile_prefetch %k[%c0, %c0, %rown] bound %sk stage %other round %rdn : !mem -> tensor<64x64xbf16>
        attn.tile_prefetch %v[%c0, %c0, %rown] bound %sk stage %other round %rdn : !mem -> tensor<64x64xbf16>
      }
      %row = arith.muli %e, %c64 : index
      %kt = attn.tile_wait %k[%c0, %c0, %row] bound %sk stage %st round %rd ahead %ahead : !mem -> tensor<64x64xbf16>
      %s = attn.tile_matmul %qt, %kt {transpose_rhs} : tensor<64x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xf32>
      attn.tile_release %k stage %st round %rd : !mem
      %m2 = attn.tile_reduce <max> %s, %m : tensor<64x64xf32> -> tensor<64xf32>
      %pp = attn.tile_exp2 %s, %m2 : tensor<64x64xf32>, tensor<64xf32>
      %c = attn.tile_exp2 %m, %m2 : tensor<64xf32>, tensor<64xf32>
      %ls = attn.tile_scale_rows %l, %c : tensor<64xf32>, tensor<64xf32>
      %l2 = attn.tile_reduce <sum> %pp, %ls : tensor<64x64xf32> -> tensor<64xf32>
      %os = attn.tile_scale_rows %acc, %c : tensor<64x64xf32>, tensor<64xf32>
      %pb = arith.truncf %pp : tensor<64x64xf32> to tensor<64x64xbf16>
      %vt = attn.tile_wait %v[%c0, %c0, %row] bound %sk stage %st round %rd ahead %ahead : !mem -> tensor<64x64xbf16>
      %o2 = attn.tile_matmul %pb, %vt acc %os : tensor<64x64xbf16>, tensor<64x64xbf16>, tensor<64x64xf32> -> tensor<64x64xf32>
      attn.tile_release %v stage %st round %rd : !mem
      scf.yield %m2, %l2, %o2, %en : tensor<64xf32>, tensor<64xf32>, tensor<64x64xf32>, index
    }
    %out = attn.online_finalize %r#0, %r#1, %r#2 : tensor<64xf32>, tensor<64xf32>, tensor<64x64xf32> -> tensor<64x64xbf16>
    attn.tile_store %out, %o[%c0, %c0, %q0] bound %sk : tensor<64x64xbf16>, !mem
  } {attn.grid}
  return
}
