// RUN: faopt-opt %s --split-input-file --attn-persistent-programs --verify-diagnostics
// Diagnostics of attn-persistent-programs.

!mem = memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>

// expected-error @+1 {{attn-persistent-programs: the kernel has no attn.grid scf.forall}}
func.func @no_grid(%q: !mem, %k: !mem, %v: !mem) attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 64, block_kv = 64, warps = 4, stages = 2, mma = "wgmma", copy = "tma">} {
  return
}

// -----

!mem = memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>

func.func @not_scheduled(%q: !mem, %k: !mem, %v: !mem, %n: index) attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 64, block_kv = 64, warps = 4, stages = 2, mma = "wgmma", copy = "tma">} {
  // expected-error @+1 {{attn-persistent-programs: expected one linear program index from 0 (run attn-schedule-grid)}}
  scf.forall (%i, %j) in (%n, %n) {
  } {attn.grid}
  return
}
