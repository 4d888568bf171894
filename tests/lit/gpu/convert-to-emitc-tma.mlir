// RUN: not faopt-opt %s --split-input-file --attn-pipeline-kv-loads --attn-schedule-grid --attn-convert-to-emitc=target=sm90a 2>&1 | FileCheck %s

// attn.tiling copy = "tma": the copy thread issues the pipelined K/V and Q
// copies (attn-pipeline-kv-loads, attn-warp-specialize) with TMA; it does
// not serve plain tile loads, which this kernel (no kv loop, so nothing to
// pipeline) keeps. The lowering says so instead of emitting a kernel that
// would wait forever. The TMA lowering of whole kernels (tensor-map
// parameters, the roles, full / empty barriers) is checked on hand-written
// IR in convert-to-emitc-tma-kernel.mlir and on the samples in
// tools/emit-cuda.test (CUDA and PTX).
// CHECK: error: 'attn.tile_load' op TMA copies (attn.tiling copy = "tma") need every tile copy pipelined (attn-pipeline-kv-loads)

func.func @k(%q: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %k: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %v: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %o: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>) attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 64, block_kv = 64, warps = 4, stages = 2, mma = "wgmma", copy = "tma">} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c32 = arith.constant 64 : index
  %ninf = arith.constant dense<0xFF800000> : tensor<64xf32>
  %zrow = arith.constant dense<0.0> : tensor<64xf32>
  %zacc = arith.constant dense<0.0> : tensor<64x64xf32>
  %sq = memref.dim %q, %c2 : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
  %n = arith.ceildivui %sq, %c32 : index
  scf.forall (%qb, %bh) in (%n, %c1) {
    %q0 = arith.muli %qb, %c32 : index
    %qt = attn.tile_load %q[%c0, %bh, %q0] bound %sq : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>> -> tensor<64x64xbf16>
    %kt = attn.tile_load %k[%c0, %bh, %c0] bound %sq : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>> -> tensor<64x64xbf16>
    %s = attn.tile_matmul %qt, %kt {transpose_rhs} : tensor<64x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xf32>
    %t = attn.tile_map %s at(%c0, %bh, %q0, %c0) {
    ^bb0(%x: f32, %b: index, %h: index, %qi: index, %kv: index):
      %c = arith.constant 0.125 : f32
      %y = arith.mulf %x, %c : f32
      attn.yield %y : f32
    } : tensor<64x64xf32>
    %m = attn.tile_reduce <max> %t, %ninf : tensor<64x64xf32> -> tensor<64xf32>
    %p = attn.tile_exp2 %t, %m : tensor<64x64xf32>, tensor<64xf32>
    %l = attn.tile_reduce <sum> %p, %zrow : tensor<64x64xf32> -> tensor<64xf32>
    %pb = arith.truncf %p : tensor<64x64xf32> to tensor<64x64xbf16>
    %acc = attn.tile_matmul %pb, %kt acc %zacc : tensor<64x64xbf16>, tensor<64x64xbf16>, tensor<64x64xf32> -> tensor<64x64xf32>
    %out = attn.online_finalize %m, %l, %acc : tensor<64xf32>, tensor<64xf32>, tensor<64x64xf32> -> tensor<64x64xbf16>
    attn.tile_store %out, %o[%c0, %bh, %q0] bound %sq : tensor<64x64xbf16>, memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
  } {attn.grid}
  return
}

// -----

// Prefetches outside the copy thread's branch (attn-warp-specialize did not
// run) would be issued by every consumer thread: an error too.
// CHECK: error: 'attn.tile_prefetch' op TMA copies are issued by the copy thread only: run attn-warp-specialize

!mem = memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>

func.func @unsplit(%q: !mem, %k: !mem, %v: !mem, %o: !mem, %sk: index) attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 64, block_kv = 64, warps = 4, stages = 2, mma = "wgmma", copy = "tma">} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %true = arith.constant true
  scf.forall (%p) in (%c1) {
    attn.tile_prefetch %q[%c0, %c0, %c0] bound %sk stage %c0 round %c0 : !mem -> tensor<64x64xbf16>
    %qt = attn.tile_wait %q[%c0, %c0, %c0] bound %sk stage %c0 round %c0 ahead %true : !mem -> tensor<64x64xbf16>
    attn.tile_store %qt, %o[%c0, %c0, %c0] bound %sk : tensor<64x64xbf16>, !mem
  } {attn.grid}
  return
}

// -----

// A persistent TMA kernel stores its 2-D tile by TMA through o's tensor map
// (the launch's fourth map), so a tile stored anywhere else is an error
// rather than a store to the wrong tensor.
// CHECK: error: 'attn.tile_store' op a persistent TMA kernel stores tiles by TMA through o's tensor map: the destination must be the kernel's o argument (the fourth) and the tile block_q (64) rows

!mem = memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>

func.func @store_not_o(%q: !mem, %k: !mem, %v: !mem, %o: !mem, %sk: index) attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 64, block_kv = 64, warps = 4, stages = 2, mma = "wgmma", copy = "tma">} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant dense<0.0> : tensor<64x64xbf16>
  scf.forall (%w) in (%c1) {
    scf.for %t = %c0 to %c1 step %c1 {
      attn.tile_store %zero, %v[%c0, %c0, %c0] bound %sk : tensor<64x64xbf16>, !mem
    } {attn.programs}
  } {attn.grid}
  return
}

// -----

// Handed-over values live next to the TMA copy thread's program slot: a
// kernel without one (cp.async copies) cannot read them.
// CHECK: error: 'attn.program_value' op needs TMA copies (attn.tiling copy = "tma")

!mem = memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>

func.func @no_slot(%q: !mem, %k: !mem, %v: !mem, %o: !mem, %out: memref<?xi32>) attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 64, block_kv = 64, warps = 4, stages = 2, mma = "wgmma", copy = "cp_async">} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.forall (%p) in (%c1) {
    %x = attn.program_value of %p {index = 0}
    memref.store %x, %out[%p] : memref<?xi32>
  } {attn.grid}
  return
}

// -----

// An O tile staged in a V stage (attn-stage-output-in-v) needs a persistent
// TMA kernel whose V stages hold it; in one CTA per program with no V
// pipeline there is no such stage: an error, not a store into unplanned
// shared memory.
// CHECK: error: 'attn.tile_store' op is staged in a stage of argument 2, which needs a persistent TMA kernel whose stages of it hold the stored tile (8192 bytes)

!mem = memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>

func.func @staged_without_stages(%q: !mem, %k: !mem, %v: !mem, %o: !mem, %sk: index) attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 64, block_kv = 64, warps = 4, stages = 2, mma = "wgmma", copy = "tma">} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %true = arith.constant true
  %zero = arith.constant dense<0.0> : tensor<64x64xbf16>
  scf.forall (%p) in (%c1) {
    attn.tile_store %zero, %o[%c0, %c0, %c0] bound %sk staged_in %v stage %c0 round %c0 when %true : tensor<64x64xbf16>, !mem, !mem
  } {attn.grid}
  return
}


// -----

// A plan over the target's per-block shared memory (227 KiB on sm90a) is an
// error when lowering, not a launch the driver refuses: here whole Q, K and
// V tiles of 64 + 128 + 128 KiB. The pipeline's own choices never get here
// (chooseTiles and the persistent / third-stage checks use the same limit).
// CHECK: error: plans 327680 bytes of shared memory per block (Q tiles: 1, K/V stages: 1), over sm90a's limit of 232448 bytes

!big = memref<?x?x?x256xbf16, strided<[?, ?, ?, 1], offset: ?>>

func.func @over_the_limit(%q: !big, %k: !big, %v: !big, %o: !big, %sk: index) attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 128, block_kv = 256, warps = 8, stages = 1, mma = "wgmma", copy = "cp_async">} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.forall (%p) in (%c1) {
    %qt = attn.tile_load %q[%c0, %c0, %c0] bound %sk : !big -> tensor<128x256xbf16>
    %kt = attn.tile_load %k[%c0, %c0, %c0] bound %sk : !big -> tensor<256x256xbf16>
    %vt = attn.tile_load %v[%c0, %c0, %c0] bound %sk : !big -> tensor<256x256xbf16>
    attn.tile_store %qt, %o[%c0, %c0, %c0] bound %sk : tensor<128x256xbf16>, !big
  } {attn.grid}
  return
}

// -----

// attn.output_by_copy_thread (attn-stage-output-in-v by-copy-thread) hands
// the copy thread an O tile staged in a V stage; a kernel with no such
// store (or no copy thread) is an error, not a copy thread that stores
// nothing while the consumers skip their store.
// CHECK: error: attn.output_by_copy_thread needs a TMA kernel whose O tile is staged in a V stage (attn-stage-output-in-v)

!mem = memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>

func.func @copy_thread_without_staged_output(%q: !mem, %k: !mem, %v: !mem, %o: !mem, %sk: index) attributes {attn.kernel, attn.output_by_copy_thread, attn.tiling = #attn.tiling<block_q = 64, block_kv = 64, warps = 4, stages = 1, mma = "wgmma", copy = "cp_async">} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.forall (%p) in (%c1) {
    %qt = attn.tile_load %q[%c0, %c0, %c0] bound %sk : !mem -> tensor<64x64xbf16>
    attn.tile_store %qt, %o[%c0, %c0, %c0] bound %sk : tensor<64x64xbf16>, !mem
  } {attn.grid}
  return
}

// -----

// attn.output_wait_at_next_q (attn-stage-output-in-v defer-read-wait) has
// thread 0 pay a staged O store at the next Q wait; without such a store
// it is an error, not a kernel that would owe nothing.
// CHECK: error: attn.output_wait_at_next_q needs a TMA kernel whose O tile is staged in a V stage (attn-stage-output-in-v) and stored by the consumers

!mem = memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>

func.func @deferred_wait_without_staged_output(%q: !mem, %k: !mem, %v: !mem, %o: !mem, %sk: index) attributes {attn.kernel, attn.output_wait_at_next_q, attn.tiling = #attn.tiling<block_q = 64, block_kv = 64, warps = 4, stages = 1, mma = "wgmma", copy = "cp_async">} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.forall (%p) in (%c1) {
    %qt = attn.tile_load %q[%c0, %c0, %c0] bound %sk : !mem -> tensor<64x64xbf16>
    attn.tile_store %qt, %o[%c0, %c0, %c0] bound %sk : tensor<64x64xbf16>, !mem
  } {attn.grid}
  return
}
