// RUN: faopt-opt %s --attn-pipeline-kv-loads --split-input-file | FileCheck %s

// K/V tile loads at row %kb * 64 become prefetches into alternating stages:
// stage 0 before the loop, the next block's stage at the top of each
// iteration (when there is a next block), and waits where the loads were.

// CHECK-LABEL: func.func @kv_loop(
// CHECK-SAME:      %[[K:[^:]*]]: memref{{.*}}, %[[V:[^:]*]]: memref{{.*}}, %[[B:[^:]*]]: index, %[[H:[^:]*]]: index, %[[SK:[^:]*]]: index, %[[LO:[^:]*]]: index, %[[HI:[^:]*]]: index, %[[ANY:[^:]*]]: i1
// CHECK:         %[[ROW0:.*]] = arith.muli %[[LO]], %c64
// CHECK:         attn.tile_prefetch %[[K]][%[[B]], %[[H]], %[[ROW0]]] bound %[[SK]] stage %c0{{.*}} round %c0{{.*}} : {{.*}} -> tensor<64x128xbf16>
// CHECK:         attn.tile_prefetch %[[V]][%[[B]], %[[H]], %[[ROW0]]] bound %[[SK]] stage %c0{{.*}} round %c0
// CHECK:         scf.for %[[KB:.*]] = %[[LO]] to %[[HI]]
// CHECK:           %[[REL:.*]] = arith.subi %[[KB]], %[[LO]]
// CHECK:           %[[STAGE:.*]] = arith.remui %[[REL]], %c2
// CHECK:           %[[ROUND:.*]] = arith.divui %[[REL]], %c2
// CHECK:           %[[NEXT:.*]] = arith.addi %[[KB]], %c1
// CHECK:           %[[AHEAD:.*]] = arith.cmpi ult, %[[NEXT]], %[[HI]]
// CHECK:           %[[OTHER:.*]] = arith.subi %c1{{.*}}, %[[STAGE]]
// CHECK:           scf.if %[[AHEAD]] {
// CHECK:             %[[NROW:.*]] = arith.muli %[[NEXT]], %c64
// CHECK:             %[[REL1:.*]] = arith.addi %[[REL]], %c1
// CHECK:             %[[NROUND:.*]] = arith.divui %[[REL1]], %c2
// CHECK:             attn.tile_prefetch %[[K]][%[[B]], %[[H]], %[[NROW]]] bound %[[SK]] stage %[[OTHER]] round %[[NROUND]]
// CHECK:             attn.tile_prefetch %[[V]][%[[B]], %[[H]], %[[NROW]]] bound %[[SK]] stage %[[OTHER]] round %[[NROUND]]
// CHECK:           scf.if %[[ANY]]
// Each wait sits just before the first op that uses its tile.
// CHECK:             %[[KT:.*]] = attn.tile_wait %[[K]][%[[B]], %[[H]], %{{.*}}] bound %[[SK]] stage %[[STAGE]] round %[[ROUND]] ahead %[[AHEAD]]
// CHECK-NEXT:        attn.tile_wait %[[V]][%[[B]], %[[H]], %{{.*}}] bound %[[SK]] stage %[[STAGE]] round %[[ROUND]] ahead %[[AHEAD]]
// CHECK-NEXT:        attn.tile_matmul
// Each stage is released after the last use of its tile (K after the first
// product, V after the second), and in the guard's other branch, so every
// iteration releases once.
// CHECK-NEXT:        attn.tile_release %[[K]] stage %[[STAGE]] round %[[ROUND]]
// CHECK:             attn.tile_matmul
// CHECK-NEXT:        attn.tile_release %[[V]] stage %[[STAGE]] round %[[ROUND]]
// CHECK-NEXT:        scf.yield
// CHECK-NEXT:      } else {
// CHECK-NEXT:        attn.tile_release %[[K]] stage %[[STAGE]] round %[[ROUND]]
// CHECK-NEXT:        attn.tile_release %[[V]] stage %[[STAGE]] round %[[ROUND]]
// CHECK-NEXT:        scf.yield
// CHECK-NOT:       attn.tile_load
func.func @kv_loop(%k: memref<?x?x?x128xbf16, strided<[?, ?, ?, 1], offset: ?>>, %v: memref<?x?x?x128xbf16, strided<[?, ?, ?, 1], offset: ?>>, %b: index, %h: index, %sk: index, %lo: index, %hi: index, %any: i1, %acc0: tensor<64x128xf32>) -> tensor<64x128xf32> attributes {attn.tiling = #attn.tiling<block_q = 128, block_kv = 64, warps = 4, stages = 2>} {
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %r = scf.for %kb = %lo to %hi step %c1 iter_args(%acc = %acc0) -> (tensor<64x128xf32>) {
    %kv0 = arith.muli %kb, %c64 : index
    %next = scf.if %any -> (tensor<64x128xf32>) {
      %kt = attn.tile_load %k[%b, %h, %kv0] bound %sk : memref<?x?x?x128xbf16, strided<[?, ?, ?, 1], offset: ?>> -> tensor<64x128xbf16>
      %vt = attn.tile_load %v[%b, %h, %kv0] bound %sk : memref<?x?x?x128xbf16, strided<[?, ?, ?, 1], offset: ?>> -> tensor<64x128xbf16>
      %s = attn.tile_matmul %kt, %vt {transpose_rhs} : tensor<64x128xbf16>, tensor<64x128xbf16> -> tensor<64x64xf32>
      %p = arith.truncf %s : tensor<64x64xf32> to tensor<64x64xbf16>
      %a = attn.tile_matmul %p, %vt acc %acc : tensor<64x64xbf16>, tensor<64x128xbf16>, tensor<64x128xf32> -> tensor<64x128xf32>
      scf.yield %a : tensor<64x128xf32>
    } else {
      scf.yield %acc : tensor<64x128xf32>
    }
    scf.yield %next : tensor<64x128xf32>
  }
  return %r : tensor<64x128xf32>
}

// -----

// With a single K/V stage (no room for two), loads stay as they are.
// CHECK-LABEL: func.func @one_stage(
// CHECK-NOT:     attn.tile_prefetch
// CHECK:         attn.tile_load
func.func @one_stage(%k: memref<?x?x?x128xbf16, strided<[?, ?, ?, 1], offset: ?>>, %b: index, %h: index, %sk: index, %n: index) -> tensor<64x128xbf16> attributes {attn.tiling = #attn.tiling<block_q = 128, block_kv = 64, warps = 4, stages = 1>} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %init = attn.tile_load %k[%b, %h, %c0] bound %sk : memref<?x?x?x128xbf16, strided<[?, ?, ?, 1], offset: ?>> -> tensor<64x128xbf16>
  %r = scf.for %kb = %c0 to %n step %c1 iter_args(%t = %init) -> (tensor<64x128xbf16>) {
    %kv0 = arith.muli %kb, %c64 : index
    %kt = attn.tile_load %k[%b, %h, %kv0] bound %sk : memref<?x?x?x128xbf16, strided<[?, ?, ?, 1], offset: ?>> -> tensor<64x128xbf16>
    scf.yield %kt : tensor<64x128xbf16>
  }
  return %r : tensor<64x128xbf16>
}

// -----

// A loop over a block list (attn-block-lists): the block index is an entry
// of the list. The entries become loop-carried values: the prologue reads
// entry 1 (the first block, prefetched) and the entry after it (the slot
// of iteration min(1, n - 1), raised to 0); each iteration prefetches from
// the carried next entry without touching memory, then reads the entry two
// ahead (iteration min(i + 2, n - 1)) for the next iteration's prefetch.

// CHECK-LABEL: func.func @list_loop(
// CHECK-SAME:      %[[K:[^:]*]]: memref{{.*}}, %[[L:[^:]*]]: memref<?xi32>, %[[B:[^:]*]]: index, %[[H:[^:]*]]: index, %[[SK:[^:]*]]: index, %[[N:[^:]*]]: index
// CHECK:         %[[LAST:.*]] = arith.subi %[[N]], %c1
// CHECK:         %[[SLOT0:.*]] = arith.addi %c0, %c1
// CHECK:         %[[E0:.*]] = memref.load %[[L]][%[[SLOT0]]]
// CHECK:         %[[I1:.*]] = arith.addi %c0, %c1
// CHECK:         %[[I1MIN:.*]] = arith.minsi %[[I1]], %[[LAST]]
// CHECK:         %[[I1C:.*]] = arith.maxsi %[[I1MIN]], %c0
// CHECK:         %[[SLOT1:.*]] = arith.addi %[[I1C]], %c1
// CHECK:         %[[E1:.*]] = memref.load %[[L]][%[[SLOT1]]]
// CHECK:         %[[KB0:.*]] = arith.index_cast %[[E0]]
// CHECK:         %[[ROW0:.*]] = arith.muli %[[KB0]], %c64
// CHECK:         attn.tile_prefetch %[[K]][%[[B]], %[[H]], %[[ROW0]]] bound %[[SK]] stage %c0
// CHECK:         scf.for %[[I:.*]] = %c0 to %[[N]] step %c1 iter_args(%{{.*}} = %{{.*}}, %[[CUR:.*]] = %[[E0]], %[[NXT:.*]] = %[[E1]])
// CHECK:           %[[NEXT:.*]] = arith.addi %[[I]], %c1
// CHECK:           %[[AHEAD:.*]] = arith.cmpi ult, %[[NEXT]], %[[N]]
// CHECK:           scf.if %[[AHEAD]] {
// CHECK-NOT:         memref.load
// CHECK:             %[[NKB:.*]] = arith.index_cast %[[NXT]]
// CHECK:             %[[NROW:.*]] = arith.muli %[[NKB]], %c64
// CHECK:             attn.tile_prefetch %[[K]][%[[B]], %[[H]], %[[NROW]]]
// CHECK:           }
// CHECK:           %[[I2:.*]] = arith.addi %[[I]], %c2
// CHECK:           %[[I2MIN:.*]] = arith.minsi %[[I2]], %[[LAST]]
// CHECK:           %[[I2C:.*]] = arith.maxsi %[[I2MIN]], %c0
// CHECK:           %[[SLOT2:.*]] = arith.addi %[[I2C]], %c1
// CHECK:           %[[E2:.*]] = memref.load %[[L]][%[[SLOT2]]]
// CHECK:           %[[KB:.*]] = arith.index_cast %[[CUR]]
// CHECK:           %[[ROW:.*]] = arith.muli %[[KB]], %c64
// CHECK:           attn.tile_wait %[[K]][%[[B]], %[[H]], %[[ROW]]]
// CHECK:           scf.yield %{{.*}}, %[[NXT]], %[[E2]]
func.func @list_loop(%k: memref<?x?x?x128xbf16, strided<[?, ?, ?, 1], offset: ?>>, %lists: memref<?xi32>, %b: index, %h: index, %sk: index, %n: index, %init: tensor<64x128xbf16>) -> tensor<64x128xbf16> attributes {attn.tiling = #attn.tiling<block_q = 128, block_kv = 64, warps = 4, stages = 2>} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%t = %init) -> (tensor<64x128xbf16>) {
    %slot = arith.addi %i, %c1 : index
    %e = memref.load %lists[%slot] : memref<?xi32>
    %kb = arith.index_cast %e : i32 to index
    %kv0 = arith.muli %kb, %c64 : index
    %kt = attn.tile_load %k[%b, %h, %kv0] bound %sk : memref<?x?x?x128xbf16, strided<[?, ?, ?, 1], offset: ?>> -> tensor<64x128xbf16>
    scf.yield %kt : tensor<64x128xbf16>
  }
  return %r : tensor<64x128xbf16>
}

// -----

// A persistent kernel (attn-persistent-programs): the loop over the
// worker's programs carries how many kv iterations came before, so each
// stage's fills are numbered across programs (its barrier phases carry on);
// Q has one stage, filled once per program (round = program number) and
// released right after the kv loop.

!mem = memref<?x?x?x128xbf16, strided<[?, ?, ?, 1], offset: ?>>

// CHECK-LABEL: func.func @programs(
// CHECK-SAME:      %[[Q:arg0]]: memref{{.*}}, %[[K:arg1]]: memref{{.*}}, %[[V:arg2]]: memref{{.*}}, %[[LO:arg7]]: index, %[[HI:arg8]]: index
// CHECK:         %[[ZERO:c0_[0-9]+]] = arith.constant 0 : index
// CHECK-NEXT:    scf.for %[[T:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[FILLS:.*]] = %[[ZERO]]) -> (index) {
// CHECK:           attn.tile_prefetch %[[Q]][{{.*}}] bound %{{.*}} stage %c0{{[_0-9]*}} round %[[T]]
// The count after this program, before the kv loop (less live in it).
// CHECK-NEXT:      %[[TRIPS:.*]] = arith.subi %[[HI]], %[[LO]]
// CHECK-NEXT:      %[[NONE:.*]] = arith.constant 0 : index
// CHECK-NEXT:      %[[DONE:.*]] = arith.maxsi %[[TRIPS]], %[[NONE]]
// CHECK-NEXT:      %[[NEXT:.*]] = arith.addi %[[FILLS]], %[[DONE]]
// The first fill only where the kv loop runs: an empty loop releases nothing.
// CHECK:           %[[ST0:.*]] = arith.remui %[[FILLS]], %c2
// CHECK-NEXT:      %[[RD0:.*]] = arith.divui %[[FILLS]], %c2
// CHECK-NEXT:      %[[RUNS:.*]] = arith.cmpi slt, %[[LO]], %[[HI]]
// CHECK-NEXT:      scf.if %[[RUNS]] {
// CHECK-NEXT:        attn.tile_prefetch %[[K]][{{.*}}] bound %{{.*}} stage %[[ST0]] round %[[RD0]]
// CHECK-NEXT:        attn.tile_prefetch %[[V]][{{.*}}] bound %{{.*}} stage %[[ST0]] round %[[RD0]]
// CHECK-NEXT:      }
// CHECK-NEXT:      %[[SHIFT:.*]] = arith.subi %[[FILLS]], %[[LO]]
// CHECK:           attn.tile_wait %[[Q]][{{.*}}] bound %{{.*}} stage %c0{{[_0-9]*}} round %[[T]]
// CHECK:           scf.for %[[KB:.*]] = %[[LO]] to %[[HI]]
// CHECK:             %[[ABS:.*]] = arith.addi %[[KB]], %[[SHIFT]]
// CHECK-NEXT:        %[[STAGE:.*]] = arith.remui %[[ABS]], %c2
// CHECK-NEXT:        %[[ROUND:.*]] = arith.divui %[[ABS]], %c2
// CHECK:             attn.tile_wait %[[K]][{{.*}}] bound %{{.*}} stage %[[STAGE]] round %[[ROUND]]
// CHECK:             scf.yield %{{.*}} : tensor<64x128xf32>
// CHECK-NEXT:      }
// CHECK-NEXT:      attn.tile_release %[[Q]] stage %c0{{[_0-9]*}} round %[[T]]
// CHECK-NEXT:      scf.yield %[[NEXT]] : index
// CHECK-NEXT:    } {attn.kv_fills, attn.programs}
func.func @programs(%q: !mem, %k: !mem, %v: !mem, %b: index, %h: index, %sq: index, %count: index, %lo: index, %hi: index, %acc0: tensor<64x128xf32>) attributes {attn.tiling = #attn.tiling<block_q = 64, block_kv = 64, warps = 4, stages = 2, mma = "wgmma", copy = "tma">} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  scf.for %t = %c0 to %count step %c1 {
    %q0 = arith.muli %t, %c64 : index
    %qt = attn.tile_load %q[%b, %h, %q0] bound %sq : !mem -> tensor<64x128xbf16>
    %r = scf.for %kb = %lo to %hi step %c1 iter_args(%acc = %acc0) -> (tensor<64x128xf32>) {
      %kv0 = arith.muli %kb, %c64 : index
      %kt = attn.tile_load %k[%b, %h, %kv0] bound %sq : !mem -> tensor<64x128xbf16>
      %vt = attn.tile_load %v[%b, %h, %kv0] bound %sq : !mem -> tensor<64x128xbf16>
      %s = attn.tile_matmul %qt, %kt {transpose_rhs} : tensor<64x128xbf16>, tensor<64x128xbf16> -> tensor<64x64xf32>
      %p = arith.truncf %s : tensor<64x64xf32> to tensor<64x64xbf16>
      %a = attn.tile_matmul %p, %vt acc %acc : tensor<64x64xbf16>, tensor<64x128xbf16>, tensor<64x128xf32> -> tensor<64x128xf32>
      scf.yield %a : tensor<64x128xf32>
    }
  } {attn.programs}
  return
}

// -----

// Two Q tiles (attn.q_stages = 2 from attn-persistent-programs): program t
// of the worker fills Q tile t mod 2 for the (t / 2)-th time, waits for and
// releases that fill, so the copy thread can issue the next program's Q
// while this one's kv loop still reads the other tile.

!mem = memref<?x?x?x128xbf16, strided<[?, ?, ?, 1], offset: ?>>

// CHECK-LABEL: func.func @two_q_tiles(
// CHECK-SAME:      %[[Q:arg0]]: memref
// CHECK:         scf.for %[[T:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%{{.*}}) -> (index) {
// CHECK:           %[[QST:.*]] = arith.remui %[[T]], %[[TWO:.*]] : index
// CHECK-NEXT:      %[[QRD:.*]] = arith.divui %[[T]], %[[TWO]] : index
// CHECK-NEXT:      attn.tile_prefetch %[[Q]][{{.*}}] bound %{{.*}} stage %[[QST]] round %[[QRD]]
// CHECK:           attn.tile_wait %[[Q]][{{.*}}] bound %{{.*}} stage %[[QST]] round %[[QRD]]
// CHECK:           scf.for
// CHECK:           attn.tile_release %[[Q]] stage %[[QST]] round %[[QRD]]
// CHECK:         } {attn.kv_fills, attn.programs, attn.q_stages = 2 : i64}
func.func @two_q_tiles(%q: !mem, %k: !mem, %v: !mem, %b: index, %h: index, %sq: index, %count: index, %lo: index, %hi: index, %acc0: tensor<64x128xf32>) attributes {attn.tiling = #attn.tiling<block_q = 64, block_kv = 64, warps = 4, stages = 2, mma = "wgmma", copy = "tma">} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  scf.for %t = %c0 to %count step %c1 {
    %q0 = arith.muli %t, %c64 : index
    %qt = attn.tile_load %q[%b, %h, %q0] bound %sq : !mem -> tensor<64x128xbf16>
    %r = scf.for %kb = %lo to %hi step %c1 iter_args(%acc = %acc0) -> (tensor<64x128xf32>) {
      %kv0 = arith.muli %kb, %c64 : index
      %kt = attn.tile_load %k[%b, %h, %kv0] bound %sq : !mem -> tensor<64x128xbf16>
      %vt = attn.tile_load %v[%b, %h, %kv0] bound %sq : !mem -> tensor<64x128xbf16>
      %s = attn.tile_matmul %qt, %kt {transpose_rhs} : tensor<64x128xbf16>, tensor<64x128xbf16> -> tensor<64x64xf32>
      %p = arith.truncf %s : tensor<64x64xf32> to tensor<64x64xbf16>
      %a = attn.tile_matmul %p, %vt acc %acc : tensor<64x64xbf16>, tensor<64x128xbf16>, tensor<64x128xf32> -> tensor<64x128xf32>
      scf.yield %a : tensor<64x128xf32>
    }
  } {attn.programs, attn.q_stages = 2 : i64}
  return
}

// -----

// Three K/V stages (attn.kv_stages = 3 from attn-persistent-programs): the
// first fill's stage and round modulo 3 (before the loop, on the 64-bit
// count), then in the loop only `local` = first stage + (kb - lo), small,
// is divided: stage local mod 3, round first round + local / 3; the
// prefetch's next stage (local + 1) mod 3 instead of 1 - stage.

!mem = memref<?x?x?x128xbf16, strided<[?, ?, ?, 1], offset: ?>>

// CHECK-LABEL: func.func @three_kv_stages(
// CHECK-SAME:      %[[Q:arg0]]: memref{{.*}}, %[[K:arg1]]: memref{{.*}}, %[[V:arg2]]: memref{{.*}}, %[[LO:arg7]]: index, %[[HI:arg8]]: index
// CHECK:         scf.for %[[T:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[FILLS:.*]] = %{{.*}}) -> (index) {
// CHECK:           %[[ST0:.*]] = arith.remui %[[FILLS]], %[[THREE:c3[_0-9]*]]
// CHECK-NEXT:      %[[RD0:.*]] = arith.divui %[[FILLS]], %[[THREE]]
// CHECK:             attn.tile_prefetch %[[K]][{{.*}}] bound %{{.*}} stage %[[ST0]] round %[[RD0]]
// CHECK:           scf.for %[[KB:[^ ]*]] = %[[LO]] to %[[HI]]
// CHECK:             %[[FROMLO:.*]] = arith.subi %[[KB]], %[[LO]]
// CHECK-NEXT:        %[[LOCAL:.*]] = arith.addi %[[FROMLO]], %[[ST0]]
// CHECK-NEXT:        %[[STAGE:.*]] = arith.remui %[[LOCAL]], %[[THREE2:c3[_0-9]*]]
// CHECK-NEXT:        %[[Q3:.*]] = arith.divui %[[LOCAL]], %[[THREE2]]
// CHECK-NEXT:        %[[ROUND:.*]] = arith.addi %[[RD0]], %[[Q3]]
// CHECK:             %[[AHEAD:.*]] = arith.addi %[[LOCAL]], %c1
// CHECK-NEXT:        %[[NSTAGE:.*]] = arith.remui %[[AHEAD]], %[[THREE2]]
// CHECK-NEXT:        scf.if
// CHECK:               %[[NQ3:.*]] = arith.divui %{{.*}}, %[[THREE2]]
// CHECK-NEXT:          %[[NROUND:.*]] = arith.addi %[[RD0]], %[[NQ3]]
// CHECK-NEXT:          attn.tile_prefetch %[[K]][{{.*}}] bound %{{.*}} stage %[[NSTAGE]] round %[[NROUND]]
// CHECK-NEXT:          attn.tile_prefetch %[[V]][{{.*}}] bound %{{.*}} stage %[[NSTAGE]] round %[[NROUND]]
// CHECK:             attn.tile_wait %[[K]][{{.*}}] bound %{{.*}} stage %[[STAGE]] round %[[ROUND]]
// CHECK:         } {attn.kv_fills, attn.kv_stages = 3 : i64, attn.programs}
func.func @three_kv_stages(%q: !mem, %k: !mem, %v: !mem, %b: index, %h: index, %sq: index, %count: index, %lo: index, %hi: index, %acc0: tensor<64x128xf32>) attributes {attn.tiling = #attn.tiling<block_q = 64, block_kv = 64, warps = 4, stages = 2, mma = "wgmma", copy = "tma">} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  scf.for %t = %c0 to %count step %c1 {
    %q0 = arith.muli %t, %c64 : index
    %qt = attn.tile_load %q[%b, %h, %q0] bound %sq : !mem -> tensor<64x128xbf16>
    %r = scf.for %kb = %lo to %hi step %c1 iter_args(%acc = %acc0) -> (tensor<64x128xf32>) {
      %kv0 = arith.muli %kb, %c64 : index
      %kt = attn.tile_load %k[%b, %h, %kv0] bound %sq : !mem -> tensor<64x128xbf16>
      %vt = attn.tile_load %v[%b, %h, %kv0] bound %sq : !mem -> tensor<64x128xbf16>
      %s = attn.tile_matmul %qt, %kt {transpose_rhs} : tensor<64x128xbf16>, tensor<64x128xbf16> -> tensor<64x64xf32>
      %p = arith.truncf %s : tensor<64x64xf32> to tensor<64x64xbf16>
      %a = attn.tile_matmul %p, %vt acc %acc : tensor<64x64xbf16>, tensor<64x128xbf16>, tensor<64x128xf32> -> tensor<64x128xf32>
      scf.yield %a : tensor<64x128xf32>
    }
  } {attn.programs, attn.kv_stages = 3 : i64}
  return
}

// -----

// Programs handed out at run time (attn-persistent-programs with kv-block
// lists): the kv loop sits in the program guard, so the fill count goes
// through it, unchanged where the worker has no program left.

!mem = memref<?x?x?x128xbf16, strided<[?, ?, ?, 1], offset: ?>>

// CHECK-LABEL: func.func @handed_out(
// CHECK-SAME:      %[[Q:arg0]]: memref{{.*}}, %[[LO:arg7]]: index, %[[HI:arg8]]: index, %{{.*}}: tensor<64x128xf32>, %[[CTR:arg10]]: memref<1xi32>
// CHECK:         scf.for %[[T:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[FILLS:.*]] = %{{.*}}) -> (index) {
// CHECK-NEXT:      %[[P:.*]] = attn.next_program %[[T]]
// CHECK-NEXT:      %[[IN:.*]] = arith.cmpi ult, %[[P]]
// CHECK-NEXT:      %[[AFTER:.*]] = scf.if %[[IN]] -> (index) {
// CHECK:             attn.tile_prefetch %[[Q]][{{.*}}] bound %{{.*}} stage %c0{{[_0-9]*}} round %[[T]]
// CHECK-NEXT:        %[[TRIPS:.*]] = arith.subi %[[HI]], %[[LO]]
// CHECK-NEXT:        %[[NONE:.*]] = arith.constant 0 : index
// CHECK-NEXT:        %[[DONE:.*]] = arith.maxsi %[[TRIPS]], %[[NONE]]
// CHECK-NEXT:        %[[NEXT:.*]] = arith.addi %[[FILLS]], %[[DONE]]
// CHECK:             scf.for %{{.*}} = %[[LO]] to %[[HI]]
// CHECK:             attn.tile_release %[[Q]] stage %c0{{[_0-9]*}} round %[[T]]
// CHECK-NEXT:        scf.yield %[[NEXT]] : index
// CHECK-NEXT:      } else {
// CHECK-NEXT:        attn.no_more_programs
// CHECK-NEXT:        scf.yield %[[FILLS]] : index
// CHECK-NEXT:      } {attn.program_guard}
// CHECK-NEXT:      scf.yield %[[AFTER]] : index
// CHECK-NEXT:    } {attn.hand_out, attn.kv_fills, attn.programs}
func.func @handed_out(%q: !mem, %k: !mem, %v: !mem, %b: index, %h: index, %sq: index, %count: index, %lo: index, %hi: index, %acc0: tensor<64x128xf32>, %ctr: memref<1xi32>) attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 64, block_kv = 64, warps = 4, stages = 2, mma = "wgmma", copy = "tma">} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  scf.for %t = %c0 to %count step %c1 {
    %p = attn.next_program %t of %c0 workers %c1 below %count counter %ctr : memref<1xi32>
    %in = arith.cmpi ult, %p, %count : index
    scf.if %in {
      %q0 = arith.muli %p, %c64 : index
      %qt = attn.tile_load %q[%b, %h, %q0] bound %sq : !mem -> tensor<64x128xbf16>
      %r = scf.for %kb = %lo to %hi step %c1 iter_args(%acc = %acc0) -> (tensor<64x128xf32>) {
        %kv0 = arith.muli %kb, %c64 : index
        %kt = attn.tile_load %k[%b, %h, %kv0] bound %sq : !mem -> tensor<64x128xbf16>
        %vt = attn.tile_load %v[%b, %h, %kv0] bound %sq : !mem -> tensor<64x128xbf16>
        %s = attn.tile_matmul %qt, %kt {transpose_rhs} : tensor<64x128xbf16>, tensor<64x128xbf16> -> tensor<64x64xf32>
        %pp = arith.truncf %s : tensor<64x64xf32> to tensor<64x64xbf16>
        %a = attn.tile_matmul %pp, %vt acc %acc : tensor<64x64xbf16>, tensor<64x128xbf16>, tensor<64x128xf32> -> tensor<64x128xf32>
        scf.yield %a : tensor<64x128xf32>
      }
    } else {
      attn.no_more_programs
    } {attn.program_guard}
  } {attn.hand_out, attn.programs}
  return
}

// -----

// Handed-out programs with two Q tiles (attn-persistent-programs'
// q-stages=2 with the hand-out): inside the program guard, program t
// fills, waits for and releases Q tile t mod 2, its (t / 2)-th fill.

!mem = memref<?x?x?x128xbf16, strided<[?, ?, ?, 1], offset: ?>>

// CHECK-LABEL: func.func @handed_out_two_q_tiles(
// CHECK-SAME:      %[[Q:arg0]]: memref
// CHECK:         scf.for %[[T:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%{{.*}}) -> (index) {
// CHECK-NEXT:      %[[P:.*]] = attn.next_program %[[T]]
// CHECK:           scf.if %{{.*}} -> (index) {
// CHECK:             %[[QST:.*]] = arith.remui %[[T]], %[[TWO:.*]] : index
// CHECK-NEXT:        %[[QRD:.*]] = arith.divui %[[T]], %[[TWO]] : index
// CHECK-NEXT:        attn.tile_prefetch %[[Q]][{{.*}}] bound %{{.*}} stage %[[QST]] round %[[QRD]]
// CHECK:             attn.tile_wait %[[Q]][{{.*}}] bound %{{.*}} stage %[[QST]] round %[[QRD]]
// CHECK:             scf.for
// CHECK:             attn.tile_release %[[Q]] stage %[[QST]] round %[[QRD]]
// CHECK:           } else {
// CHECK-NEXT:        attn.no_more_programs
// CHECK:         } {attn.hand_out, attn.kv_fills, attn.programs, attn.q_stages = 2 : i64}
func.func @handed_out_two_q_tiles(%q: !mem, %k: !mem, %v: !mem, %b: index, %h: index, %sq: index, %count: index, %lo: index, %hi: index, %acc0: tensor<64x128xf32>, %ctr: memref<1xi32>) attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 64, block_kv = 64, warps = 4, stages = 2, mma = "wgmma", copy = "tma">} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  scf.for %t = %c0 to %count step %c1 {
    %p = attn.next_program %t of %c0 workers %c1 below %count counter %ctr : memref<1xi32>
    %in = arith.cmpi ult, %p, %count : index
    scf.if %in {
      %q0 = arith.muli %p, %c64 : index
      %qt = attn.tile_load %q[%b, %h, %q0] bound %sq : !mem -> tensor<64x128xbf16>
      %r = scf.for %kb = %lo to %hi step %c1 iter_args(%acc = %acc0) -> (tensor<64x128xf32>) {
        %kv0 = arith.muli %kb, %c64 : index
        %kt = attn.tile_load %k[%b, %h, %kv0] bound %sq : !mem -> tensor<64x128xbf16>
        %vt = attn.tile_load %v[%b, %h, %kv0] bound %sq : !mem -> tensor<64x128xbf16>
        %s = attn.tile_matmul %qt, %kt {transpose_rhs} : tensor<64x128xbf16>, tensor<64x128xbf16> -> tensor<64x64xf32>
        %pp = arith.truncf %s : tensor<64x64xf32> to tensor<64x64xbf16>
        %a = attn.tile_matmul %pp, %vt acc %acc : tensor<64x64xbf16>, tensor<64x128xbf16>, tensor<64x128xf32> -> tensor<64x128xf32>
        scf.yield %a : tensor<64x128xf32>
      }
    } else {
      attn.no_more_programs
    } {attn.program_guard}
  } {attn.hand_out, attn.programs, attn.q_stages = 2 : i64}
  return
}
