// RUN: faopt-opt %s --attn-warp-specialize --split-input-file --verify-diagnostics

// The split needs the one attn.grid loop attn-schedule-grid makes.
// expected-error @+1 {{attn-warp-specialize: expected one attn.grid scf.forall (run attn-schedule-grid first)}}
func.func @no_grid() attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 64, block_kv = 64, warps = 4, stages = 2, mma = "wgmma", copy = "tma">} {
  return
}
