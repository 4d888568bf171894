// RUN: faopt-opt %s --allow-unregistered-dialect --attn-release-q-early --split-input-file | FileCheck %s
// RUN: faopt-opt %s --allow-unregistered-dialect --attn-release-q-early --attn-release-q-early --split-input-file | FileCheck %s
// RUN: faopt-opt %s --allow-unregistered-dialect --attn-release-q-early=bands-only --split-input-file | FileCheck %s --check-prefix=BANDS

// Q's release after the kv loop moves into the loop, right after the op
// holding the last S = Q K^T's wait, predicated on the last iteration; the
// release after the loop stays for a loop with no iteration. K's release
// (its tile waited for inside the loop) does not move. Running the pass
// twice changes nothing more (second RUN line).

!mem = memref<?x?x?x64xbf16>
// CHECK-LABEL: func.func @persistent(
// CHECK-SAME:      %[[Q:[^:]*]]: memref<?x?x?x64xbf16>, %[[K:[^:]*]]: memref
// CHECK:         %[[QT:.*]] = attn.tile_wait %[[Q]]{{.*}} stage %[[QS:[^ ]*]] round %[[QR:[^ ]*]] ahead
// CHECK:         scf.for %[[J:.*]] = %[[LB:[^ ]*]] to %[[N:[^ ]*]] step %[[ST:[^ ]*]] {
// CHECK-NEXT:      %[[NEXT:.*]] = arith.addi %[[J]], %[[ST]] : index
// CHECK-NEXT:      %[[LAST:.*]] = arith.cmpi sge, %[[NEXT]], %[[N]] : index
// CHECK-NEXT:      %[[KT:.*]] = attn.tile_wait %[[K]]
// CHECK-NEXT:      %[[S:.*]] = attn.tile_matmul %[[QT]], %[[KT]] {async, transpose_rhs}
// CHECK-NEXT:      %[[W:.*]] = scf.if
// CHECK-COUNT-2:     scf.yield
// CHECK-NEXT:      }
// CHECK-NEXT:      attn.tile_release %[[Q]] stage %[[QS]] round %[[QR]] when %[[LAST]]
// CHECK-NEXT:      attn.tile_release %[[K]] stage
// CHECK-NOT:       when
// CHECK-NEXT:      "test.softmax"(%[[W]])
// CHECK-NEXT:    }
// CHECK-NEXT:    %[[NONE:.*]] = arith.cmpi sle, %[[N]], %[[LB]] : index
// CHECK-NEXT:    attn.tile_release %[[Q]] stage %[[QS]] round %[[QR]] when %[[NONE]]
// CHECK-NOT:     attn.tile_release
func.func @persistent(%q: !mem, %k: !mem, %n: index, %p: index, %pv: i1) attributes {attn.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %true = arith.constant true
  %qt = attn.tile_wait %q[%c0, %c0, %c0] bound %n stage %c0 round %p ahead %true : !mem -> tensor<64x64xbf16>
  scf.for %j = %c0 to %n step %c1 {
    %kt = attn.tile_wait %k[%c0, %c0, %j] bound %n stage %c0 round %j ahead %true : !mem -> tensor<64x64xbf16>
    %s = attn.tile_matmul %qt, %kt {async, transpose_rhs} : tensor<64x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xf32>
    %w = scf.if %pv -> (tensor<64x64xf32>) {
      %a = attn.tile_mma_wait %s pending 1 : tensor<64x64xf32>
      scf.yield %a : tensor<64x64xf32>
    } else {
      %b = attn.tile_mma_wait %s pending 0 : tensor<64x64xf32>
      scf.yield %b : tensor<64x64xf32>
    }
    attn.tile_release %k stage %c0 round %j : !mem
    "test.softmax"(%w) : (tensor<64x64xf32>) -> ()
  }
  attn.tile_release %q stage %c0 round %p : !mem
  return
}

// -----

// A guarded iteration (a static kernel's kv-block outside the mask skips its
// products): the release goes into the guard, after the wait, and at the
// start of the branch that reads nothing, so every path releases once.

!mem = memref<?x?x?x64xbf16>
// CHECK-LABEL: func.func @guarded(
// CHECK:         scf.for %[[J:.*]] = {{.*}} {
// CHECK-NEXT:      arith.addi %[[J]]
// CHECK-NEXT:      %[[LAST:.*]] = arith.cmpi sge
// CHECK-NEXT:      scf.if %{{.*}} {
// CHECK-NEXT:        attn.tile_matmul
// CHECK-NEXT:        attn.tile_mma_wait
// CHECK-NEXT:        attn.tile_release %{{.*}} when %[[LAST]]
// CHECK-NEXT:        "test.softmax"
// CHECK-NEXT:      } else {
// CHECK-NEXT:        attn.tile_release %{{.*}} when %[[LAST]]
// CHECK-NEXT:        "test.skip"
// CHECK-NEXT:      }
// CHECK-NEXT:    }
// CHECK-NEXT:    arith.cmpi sle
// CHECK-NEXT:    attn.tile_release %{{.*}} when
// CHECK-NOT:     attn.tile_release
func.func @guarded(%q: !mem, %n: index, %p: index, %in: i1, %kt: tensor<64x64xbf16>) attributes {attn.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %true = arith.constant true
  %qt = attn.tile_wait %q[%c0, %c0, %c0] bound %n stage %c0 round %p ahead %true : !mem -> tensor<64x64xbf16>
  scf.for %j = %c0 to %n step %c1 {
    scf.if %in {
      %s = attn.tile_matmul %qt, %kt {async, transpose_rhs} : tensor<64x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xf32>
      %a = attn.tile_mma_wait %s pending 0 : tensor<64x64xf32>
      "test.softmax"(%a) : (tensor<64x64xf32>) -> ()
    } else {
      "test.skip"() : () -> ()
    }
  }
  attn.tile_release %q stage %c0 round %p : !mem
  return
}

// -----

// A loop from %lb by %s: the last iteration is the one whose next value
// reaches the bound, and the loop runs no iteration when %n <= %lb. A
// guard without an `else` (nothing to put there) takes the release after
// it.

!mem = memref<?x?x?x64xbf16>
// CHECK-LABEL: func.func @strided(
// CHECK-SAME:      %[[N:[^:]*]]: index, %{{[^:]*}}: index, %[[LB:[^:]*]]: index, %[[ST:[^:]*]]: index,
// CHECK:         scf.for %[[J:.*]] = %[[LB]] to %[[N]] step %[[ST]] {
// CHECK-NEXT:      %[[NEXT:.*]] = arith.addi %[[J]], %[[ST]] : index
// CHECK-NEXT:      %[[LAST:.*]] = arith.cmpi sge, %[[NEXT]], %[[N]] : index
// CHECK-NEXT:      scf.if
// CHECK-NEXT:        attn.tile_matmul
// CHECK-NEXT:        "test.use"
// CHECK-NEXT:      }
// CHECK-NEXT:      attn.tile_release %{{.*}} when %[[LAST]]
// CHECK-NEXT:    }
// CHECK-NEXT:    arith.cmpi sle, %[[N]], %[[LB]] : index
func.func @strided(%q: !mem, %n: index, %p: index, %lb: index, %st: index, %in: i1, %kt: tensor<64x64xbf16>) attributes {attn.kernel} {
  %c0 = arith.constant 0 : index
  %true = arith.constant true
  %qt = attn.tile_wait %q[%c0, %c0, %c0] bound %n stage %c0 round %p ahead %true : !mem -> tensor<64x64xbf16>
  scf.for %j = %lb to %n step %st {
    scf.if %in {
      %s = attn.tile_matmul %qt, %kt {transpose_rhs} : tensor<64x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xf32>
      "test.use"(%s) : (tensor<64x64xf32>) -> ()
    }
  }
  attn.tile_release %q stage %c0 round %p : !mem
  return
}

// -----

// Left alone: a release not right after a loop, a loop that reads the tile
// other than by its products (here an unknown op), a loop that compares
// unsigned, and a function that is not a kernel.

!mem = memref<?x?x?x64xbf16>
// CHECK-LABEL: func.func @left_alone(
// CHECK-NOT:     when
// CHECK-LABEL: func.func @not_a_kernel(
// CHECK-NOT:     when
func.func @left_alone(%q: !mem, %o: !mem, %n: index, %p: index, %kt: tensor<64x64xbf16>) attributes {attn.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %true = arith.constant true
  %qt = attn.tile_wait %q[%c0, %c0, %c0] bound %n stage %c0 round %p ahead %true : !mem -> tensor<64x64xbf16>
  scf.for %j = %c0 to %n step %c1 {
    %s = attn.tile_matmul %qt, %kt {transpose_rhs} : tensor<64x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xf32>
  }
  "test.between"() : () -> ()
  attn.tile_release %q stage %c0 round %p : !mem
  scf.for %j = %c0 to %n step %c1 {
    "test.read"(%qt) : (tensor<64x64xbf16>) -> ()
  }
  attn.tile_release %q stage %c0 round %p : !mem
  scf.for unsigned %j = %c0 to %n step %c1 {
    %s = attn.tile_matmul %qt, %kt {transpose_rhs} : tensor<64x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xf32>
  }
  attn.tile_release %q stage %c0 round %p : !mem
  return
}
func.func @not_a_kernel(%q: !mem, %n: index, %p: index, %kt: tensor<64x64xbf16>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %true = arith.constant true
  %qt = attn.tile_wait %q[%c0, %c0, %c0] bound %n stage %c0 round %p ahead %true : !mem -> tensor<64x64xbf16>
  scf.for %j = %c0 to %n step %c1 {
    %s = attn.tile_matmul %qt, %kt {transpose_rhs} : tensor<64x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xf32>
  }
  attn.tile_release %q stage %c0 round %p : !mem
  return
}

// -----

// bands-only (the pipeline's default, release-q-early=auto): only a kv
// loop whose first block is a closed form moving with the program (a
// sliding window's band) releases Q early; one from block 0 (dense, causal,
// prefix-LM), from a block a binary search found (an scf.while: masks not
// linear in kv) or from a chunk's start ((q0 / c) * c: chunks lost with it)
// keeps the release after the loop. Without the option, all four.

!mem = memref<?x?x?x64xbf16>
// CHECK-LABEL: func.func @from_block_zero(
// CHECK:         attn.tile_release %{{.*}} when
// CHECK-LABEL: func.func @from_a_searched_block(
// CHECK:         attn.tile_release %{{.*}} when
// CHECK-LABEL: func.func @from_a_chunk_start(
// CHECK:         attn.tile_release %{{.*}} when
// CHECK-LABEL: func.func @from_a_band(
// CHECK:         attn.tile_release %{{.*}} when
// BANDS-LABEL: func.func @from_block_zero(
// BANDS-NOT:     when
// BANDS-LABEL: func.func @from_a_searched_block(
// BANDS-NOT:     when
// BANDS-LABEL: func.func @from_a_chunk_start(
// BANDS-NOT:     when
// BANDS-LABEL: func.func @from_a_band(
// BANDS:         scf.for
// BANDS:           attn.tile_release %{{.*}} when
// BANDS:         arith.cmpi sle
// BANDS-NEXT:    attn.tile_release %{{.*}} when
func.func @from_block_zero(%q: !mem, %n: index, %p: index, %kt: tensor<64x64xbf16>) attributes {attn.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %true = arith.constant true
  %qt = attn.tile_wait %q[%c0, %c0, %c0] bound %n stage %c0 round %p ahead %true : !mem -> tensor<64x64xbf16>
  scf.for %j = %c0 to %n step %c1 {
    %s = attn.tile_matmul %qt, %kt {async, transpose_rhs} : tensor<64x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xf32>
    %w = attn.tile_mma_wait %s pending 0 : tensor<64x64xf32>
    "test.softmax"(%w) : (tensor<64x64xf32>) -> ()
  }
  attn.tile_release %q stage %c0 round %p : !mem
  return
}
func.func @from_a_searched_block(%q: !mem, %n: index, %p: index, %kt: tensor<64x64xbf16>) attributes {attn.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %true = arith.constant true
  %qt = attn.tile_wait %q[%c0, %c0, %c0] bound %n stage %c0 round %p ahead %true : !mem -> tensor<64x64xbf16>
  %found = scf.while (%i = %c0) : (index) -> index {
    %more = arith.cmpi slt, %i, %n : index
    scf.condition(%more) %i : index
  } do {
  ^bb0(%i: index):
    %next = arith.addi %i, %c1 : index
    scf.yield %next : index
  }
  %lb = arith.maxsi %found, %c0 : index
  scf.for %j = %lb to %n step %c1 {
    %s = attn.tile_matmul %qt, %kt {async, transpose_rhs} : tensor<64x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xf32>
    %w = attn.tile_mma_wait %s pending 0 : tensor<64x64xf32>
    "test.softmax"(%w) : (tensor<64x64xf32>) -> ()
  }
  attn.tile_release %q stage %c0 round %p : !mem
  return
}
func.func @from_a_chunk_start(%q: !mem, %q0: index, %c: index, %n: index, %p: index, %kt: tensor<64x64xbf16>) attributes {attn.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %true = arith.constant true
  %qt = attn.tile_wait %q[%c0, %c0, %c0] bound %n stage %c0 round %p ahead %true : !mem -> tensor<64x64xbf16>
  %m = arith.floordivsi %q0, %c : index
  %start = arith.muli %m, %c : index
  %lb = arith.floordivsi %start, %c64 : index
  scf.for %j = %lb to %n step %c1 {
    %s = attn.tile_matmul %qt, %kt {async, transpose_rhs} : tensor<64x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xf32>
    %w = attn.tile_mma_wait %s pending 0 : tensor<64x64xf32>
    "test.softmax"(%w) : (tensor<64x64xf32>) -> ()
  }
  attn.tile_release %q stage %c0 round %p : !mem
  return
}
func.func @from_a_band(%q: !mem, %q0: index, %n: index, %p: index, %kt: tensor<64x64xbf16>) attributes {attn.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %true = arith.constant true
  %qt = attn.tile_wait %q[%c0, %c0, %c0] bound %n stage %c0 round %p ahead %true : !mem -> tensor<64x64xbf16>
  %from = arith.subi %q0, %c8 : index
  %lb = arith.maxsi %from, %c0 : index
  scf.for %j = %lb to %n step %c1 {
    %s = attn.tile_matmul %qt, %kt {async, transpose_rhs} : tensor<64x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xf32>
    %w = attn.tile_mma_wait %s pending 0 : tensor<64x64xf32>
    "test.softmax"(%w) : (tensor<64x64xf32>) -> ()
  }
  attn.tile_release %q stage %c0 round %p : !mem
  return
}

// -----

// The copy thread of a kernel whose Q is released early issues a program's
// first K / V (the scf.if before its kv loop) before Q: Q's stage now
// empties before the second-last V stage does (docs/performance.md item
// 84). With two Q tiles (attn.q_stages = 2 on the loop over programs) the
// next Q waits for nothing, and stays first.

!mem = memref<?x?x?x64xbf16>
// CHECK-LABEL: func.func @copy_order(
// CHECK-SAME:      %[[Q:[^:]*]]: memref<?x?x?x64xbf16>, %[[K:[^:]*]]: memref
// CHECK:         scf.if %{{.*}} {
// CHECK-NEXT:      %[[LB:.*]] = arith.maxsi
// CHECK-NEXT:      scf.if %{{.*}} {
// CHECK-NEXT:        attn.tile_prefetch %[[K]]
// CHECK-NEXT:      }
// CHECK-NEXT:      attn.tile_prefetch %[[Q]]
// CHECK-NEXT:      scf.for %{{.*}} = %[[LB]]
// CHECK:         } else {
// CHECK-LABEL: func.func @copy_order_two_q_tiles(
// CHECK-SAME:      %[[Q2:[^:]*]]: memref<?x?x?x64xbf16>, %[[K2:[^:]*]]: memref
// CHECK:           scf.if %{{.*}} {
// CHECK-NEXT:        attn.tile_prefetch %[[Q2]]
// CHECK-NEXT:        arith.maxsi
// CHECK-NEXT:        scf.if %{{.*}} {
// CHECK-NEXT:          attn.tile_prefetch %[[K2]]
func.func @copy_order(%q: !mem, %k: !mem, %q0: index, %n: index, %p: index, %producer: i1, %runs: i1, %kt: tensor<64x64xbf16>) attributes {attn.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %true = arith.constant true
  %from = arith.subi %q0, %c8 : index
  scf.if %producer {
    attn.tile_prefetch %q[%c0, %c0, %q0] bound %n stage %c0 round %p : !mem -> tensor<64x64xbf16>
    %plb = arith.maxsi %from, %c0 : index
    scf.if %runs {
      attn.tile_prefetch %k[%c0, %c0, %plb] bound %n stage %c0 round %p : !mem -> tensor<64x64xbf16>
    }
    scf.for %j = %plb to %n step %c1 {
      "test.next_kv"(%j) : (index) -> ()
    }
  } else {
    %qt = attn.tile_wait %q[%c0, %c0, %q0] bound %n stage %c0 round %p ahead %true : !mem -> tensor<64x64xbf16>
    %lb = arith.maxsi %from, %c0 : index
    scf.for %j = %lb to %n step %c1 {
      %s = attn.tile_matmul %qt, %kt {async, transpose_rhs} : tensor<64x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xf32>
      %w = attn.tile_mma_wait %s pending 0 : tensor<64x64xf32>
      "test.softmax"(%w) : (tensor<64x64xf32>) -> ()
    }
    attn.tile_release %q stage %c0 round %p : !mem
  }
  return
}
func.func @copy_order_two_q_tiles(%q: !mem, %k: !mem, %q0: index, %n: index, %producer: i1, %runs: i1, %kt: tensor<64x64xbf16>) attributes {attn.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %true = arith.constant true
  %from = arith.subi %q0, %c8 : index
  scf.for %p = %c0 to %n step %c1 {
    scf.if %producer {
      attn.tile_prefetch %q[%c0, %c0, %q0] bound %n stage %c0 round %p : !mem -> tensor<64x64xbf16>
      %plb = arith.maxsi %from, %c0 : index
      scf.if %runs {
        attn.tile_prefetch %k[%c0, %c0, %plb] bound %n stage %c0 round %p : !mem -> tensor<64x64xbf16>
      }
      scf.for %j = %plb to %n step %c1 {
        "test.next_kv"(%j) : (index) -> ()
      }
    } else {
      %qt = attn.tile_wait %q[%c0, %c0, %q0] bound %n stage %c0 round %p ahead %true : !mem -> tensor<64x64xbf16>
      %lb = arith.maxsi %from, %c0 : index
      scf.for %j = %lb to %n step %c1 {
        %s = attn.tile_matmul %qt, %kt {async, transpose_rhs} : tensor<64x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xf32>
        %w = attn.tile_mma_wait %s pending 0 : tensor<64x64xf32>
        "test.softmax"(%w) : (tensor<64x64xf32>) -> ()
      }
      attn.tile_release %q stage %c0 round %p : !mem
    }
  } {attn.programs, attn.q_stages = 2 : i64}
  return
}
