// RUN: faopt-opt %s --split-input-file --attn-pipeline-kv-loads --verify-diagnostics
// Diagnostics of attn-pipeline-kv-loads.

// A persistent kernel numbers its fills across programs with one count
// carried by the loop over programs: the kv loop must sit directly in it.

!mem = memref<?x?x?x128xbf16, strided<[?, ?, ?, 1], offset: ?>>

func.func @nested(%k: !mem, %b: index, %h: index, %sk: index, %count: index, %lo: index, %hi: index, %any: i1, %acc0: tensor<64x128xf32>) attributes {attn.tiling = #attn.tiling<block_q = 64, block_kv = 64, warps = 4, stages = 2, mma = "wgmma", copy = "tma">} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  scf.for %t = %c0 to %count step %c1 {
    scf.if %any {
      // expected-error @+1 {{attn-pipeline-kv-loads: a persistent kernel's kv loop must be the only one, directly in the loop over programs (attn.programs)}}
      %r = scf.for %kb = %lo to %hi step %c1 iter_args(%acc = %acc0) -> (tensor<64x128xf32>) {
        %kv0 = arith.muli %kb, %c64 : index
        %kt = attn.tile_load %k[%b, %h, %kv0] bound %sk : !mem -> tensor<64x128xbf16>
        %s = attn.tile_matmul %kt, %kt {transpose_rhs} : tensor<64x128xbf16>, tensor<64x128xbf16> -> tensor<64x64xf32>
        %p = arith.truncf %s : tensor<64x64xf32> to tensor<64x64xbf16>
        %a = attn.tile_matmul %p, %kt acc %acc : tensor<64x64xbf16>, tensor<64x128xbf16>, tensor<64x128xf32> -> tensor<64x128xf32>
        scf.yield %a : tensor<64x128xf32>
      }
    }
  } {attn.programs}
  return
}
