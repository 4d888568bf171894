// RUN: faopt-opt %s --split-input-file --verify-diagnostics

func.func @rank(%q: tensor<?x?x64xbf16>, %k: tensor<?x?x?x64xbf16>, %v: tensor<?x?x?x64xbf16>) {
  // expected-error @+1 {{query must be a rank-4 tensor (bhsd), got rank 3}}
  %o = attn.attention %q, %k, %v : tensor<?x?x64xbf16>, tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16> -> tensor<?x?x?x64xbf16>
  return
}

// -----

func.func @dtype(%q: tensor<?x?x?x64xf64>) {
  // expected-error @+1 {{query element type must be f16, bf16 or f32, got 'f64'}}
  %o = attn.attention %q, %q, %q : tensor<?x?x?x64xf64>, tensor<?x?x?x64xf64>, tensor<?x?x?x64xf64> -> tensor<?x?x?x64xf64>
  return
}

// -----

func.func @dynamic_head_dim(%q: tensor<?x?x?x?xbf16>) {
  // expected-error @+1 {{query head dimension must be static}}
  %o = attn.attention %q, %q, %q : tensor<?x?x?x?xbf16>, tensor<?x?x?x?xbf16>, tensor<?x?x?x?xbf16> -> tensor<?x?x?x?xbf16>
  return
}

// -----

func.func @key_head_dim(%q: tensor<?x?x?x64xbf16>, %k: tensor<?x?x?x32xbf16>) {
  // expected-error @+1 {{key head dim (32) must equal query head dim (64)}}
  %o = attn.attention %q, %k, %q : tensor<?x?x?x64xbf16>, tensor<?x?x?x32xbf16>, tensor<?x?x?x64xbf16> -> tensor<?x?x?x64xbf16>
  return
}

// -----

func.func @gqa(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x3x?x64xbf16>) {
  // expected-error @+1 {{kv_heads (3) must divide heads (8)}}
  %o = attn.attention %q, %k, %k : tensor<?x8x?x64xbf16>, tensor<?x3x?x64xbf16>, tensor<?x3x?x64xbf16> -> tensor<?x8x?x64xbf16>
  return
}

// -----

func.func @output_dim(%q: tensor<?x?x?x64xbf16>, %v: tensor<?x?x?x32xbf16>) {
  // expected-error @+1 {{output head dim (64) must equal value head dim (32)}}
  %o = attn.attention %q, %q, %v : tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>, tensor<?x?x?x32xbf16> -> tensor<?x?x?x64xbf16>
  return
}

// -----

func.func @lse_type(%q: tensor<?x?x?x64xbf16>) {
  // expected-error @+1 {{lse must be a rank-3 f32 tensor [batch, heads, seqlen_q], got 'tensor<?x?x?xf16>'}}
  %o, %l = attn.attention %q, %q, %q : tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16> -> tensor<?x?x?x64xbf16>, tensor<?x?x?xf16>
  return
}

// -----

func.func @scale(%q: tensor<?x?x?x64xbf16>) {
  // expected-error @+1 {{scale must be positive and finite, got -1}}
  %o = attn.attention %q, %q, %q attributes {scale = -1.0 : f32} : tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16> -> tensor<?x?x?x64xbf16>
  return
}

// -----

func.func @mask_args(%q: tensor<?x?x?x64xbf16>) {
  // expected-error @+1 {{'mask' region must take four index arguments (b, h, q, kv)}}
  %o = attn.attention %q, %q, %q mask {
  ^bb0(%qi: index, %kv: index):
    %c = arith.cmpi sge, %qi, %kv : index
    attn.yield %c : i1
  } : tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16> -> tensor<?x?x?x64xbf16>
  return
}

// -----

func.func @mask_yield(%q: tensor<?x?x?x64xbf16>) {
  // expected-error @+1 {{'mask' region must yield a single i1}}
  %o = attn.attention %q, %q, %q mask {
  ^bb0(%b: index, %h: index, %qi: index, %kv: index):
    attn.yield %qi : index
  } : tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16> -> tensor<?x?x?x64xbf16>
  return
}

// -----

func.func @score_args(%q: tensor<?x?x?x64xbf16>) {
  // expected-error @+1 {{'score' region must take (f32, index, index, index, index) arguments (score, b, h, q, kv)}}
  %o = attn.attention %q, %q, %q score {
  ^bb0(%s: f16, %b: index, %h: index, %qi: index, %kv: index):
    attn.yield %s : f16
  } : tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16> -> tensor<?x?x?x64xbf16>
  return
}

// -----

func.func @region_captures(%q: tensor<?x?x?x64xbf16>, %n: index) {
  // expected-note @+1 {{required by region isolation constraints}}
  %o = attn.attention %q, %q, %q mask {
  ^bb0(%b: index, %h: index, %qi: index, %kv: index):
    // expected-error @+1 {{using value defined outside the region}}
    %c = arith.cmpi slt, %kv, %n : index
    attn.yield %c : i1
  } : tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16> -> tensor<?x?x?x64xbf16>
  return
}

// -----

func.func @init_sizes(%n: index) {
  // expected-error @+1 {{expected 3 dynamic sizes for acc, got 1}}
  %m, %l, %a = attn.online_init %n : tensor<?x?x?xf32>, tensor<?x?x?xf32>, tensor<?x?x?x64xf32>
  return
}

// -----

func.func @update_positions(%q: tensor<16x64xbf16>, %m: tensor<16xf32>, %a: tensor<16x64xf32>, %i: index) {
  // expected-error @+1 {{expects no position (batched form) or four (b, h, q0, kv0: tile form), got 2}}
  %u:3 = attn.online_update %q, %q, %q, %m, %m, %a at(%i, %i) logits {
  ^bb0(%s: f32, %b: index, %h: index, %qi: index, %kv: index):
    attn.yield %s : f32
  } : tensor<16x64xbf16>, tensor<16x64xbf16>, tensor<16x64xbf16>, tensor<16xf32>, tensor<16xf32>, tensor<16x64xf32>
  return
}

// -----

func.func @update_batched_bound(%q: tensor<?x?x?x64xbf16>, %m: tensor<?x?x?xf32>, %a: tensor<?x?x?x64xf32>, %i: index) {
  // expected-error @+1 {{kv_bound and masked are only meaningful in the tile form}}
  %u:3 = attn.online_update %q, %q, %q, %m, %m, %a kv_bound %i logits {
  ^bb0(%s: f32, %b: index, %h: index, %qi: index, %kv: index):
    attn.yield %s : f32
  } : tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>, tensor<?x?x?xf32>, tensor<?x?x?xf32>, tensor<?x?x?x64xf32>
  return
}

// -----

func.func @load_rank(%m: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %i: index) {
  // expected-error @+1 {{a rank-4 memref moves rank-2 tiles, got 'tensor<16xbf16>'}}
  %t = attn.tile_load %m[%i, %i, %i] bound %i : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>> -> tensor<16xbf16>
  return
}

// -----

func.func @store_type(%t: tensor<16x64xf16>, %m: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %i: index) {
  // expected-error @+1 {{tile element type 'f16' does not match memref element type 'bf16'}}
  attn.tile_store %t, %m[%i, %i, %i] bound %i : tensor<16x64xf16>, memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
  return
}

// -----

!mem = memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
func.func @store_staged_partly(%t: tensor<16x64xbf16>, %m: !mem, %i: index) {
  // expected-error @+1 {{staged_in needs its source, stage, round and when together}}
  "attn.tile_store"(%t, %m, %i, %i, %i, %i, %m, %i) <{operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 1, 1, 1, 0, 0>}> : (tensor<16x64xbf16>, !mem, index, index, index, index, !mem, index) -> ()
  return
}

// -----

!mem = memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
!rows = memref<?x?x?xf32, strided<[?, ?, 1], offset: ?>>
func.func @store_staged_rows(%r: tensor<16xf32>, %l: !rows, %v: !mem, %i: index, %c: i1) {
  // expected-error @+1 {{only a rank-2 tile is staged in a stage}}
  attn.tile_store %r, %l[%i, %i, %i] bound %i staged_in %v stage %i round %i when %c : tensor<16xf32>, !rows, !mem
  return
}

// -----

func.func @matmul(%a: tensor<16x64xbf16>, %b: tensor<32x32xbf16>) {
  // expected-error @+1 {{contraction sizes differ: lhs has 64, rhs has 32}}
  %s = attn.tile_matmul %a, %b {transpose_rhs} : tensor<16x64xbf16>, tensor<32x32xbf16> -> tensor<16x32xf32>
  return
}

// -----

// A started product is read only after attn.tile_mma_wait, also when it
// leaves an scf.if first.
func.func @async_read(%a: tensor<64x64xbf16>, %b: tensor<64x64xbf16>, %c: i1) -> tensor<64xf32> {
  %z = arith.constant dense<0.0> : tensor<64xf32>
  %r = scf.if %c -> (tensor<64x64xf32>) {
    // expected-error @+1 {{async result used by 'attn.tile_reduce': it may be read only through attn.tile_mma_wait}}
    %s = attn.tile_matmul %a, %b {async, transpose_rhs} : tensor<64x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xf32>
    scf.yield %s : tensor<64x64xf32>
  } else {
    %s = attn.tile_matmul %a, %b {transpose_rhs} : tensor<64x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xf32>
    scf.yield %s : tensor<64x64xf32>
  }
  %m = attn.tile_reduce <max> %r, %z : tensor<64x64xf32> -> tensor<64xf32>
  return %m : tensor<64xf32>
}

// -----

func.func @map_type(%s: tensor<16x16xf16>, %i: index) {
  // expected-error @+1 {{expects a rank-2 f32 tile, got 'tensor<16x16xf16>'}}
  %t = attn.tile_map %s at(%i, %i, %i, %i) {
  ^bb0(%x: f32, %b: index, %h: index, %qi: index, %kv: index):
    attn.yield %x : f32
  } : tensor<16x16xf16>
  return
}

// -----

func.func @reduce_init(%s: tensor<16x8xf32>, %m: tensor<8xf32>) {
  // expected-error @+1 {{init length (8) must equal tile rows (16)}}
  %r = attn.tile_reduce <max> %s, %m : tensor<16x8xf32> -> tensor<8xf32>
  return
}

// -----

func.func @kv_range_block(%i: index) {
  // expected-error @+1 {{block must be positive, got 0}}
  %lo, %hi = attn.mask_kv_range(%i, %i) q[%i, %i] kv_bound %i block 0 {
  ^bb0(%b: index, %h: index, %qi: index, %kv: index):
    %c = arith.cmpi sge, %qi, %kv : index
    attn.yield %c : i1
  }
  return
}

// -----

// expected-error @+1 {{tiling parameters must be positive, got block_q = 0, block_kv = 64, warps = 4, stages = 2}}
func.func @tiling() attributes {attn.tiling = #attn.tiling<block_q = 0, block_kv = 64, warps = 4, stages = 2>} {
  return
}

// -----

// expected-error @+1 {{tiling mma must be "mma_sync" or "wgmma", got "hmma"}}
func.func @tiling_mma() attributes {attn.tiling = #attn.tiling<block_q = 128, block_kv = 64, warps = 4, stages = 2, mma = "hmma">} {
  return
}

// -----

// A warpgroup multiplies 64 rows: 4 warps cannot hold 128 rows with wgmma.
// expected-error @+1 {{wgmma tiling needs warps a multiple of 4, block_q = 16 * warps and block_kv a multiple of 64, got block_q = 128, block_kv = 64, warps = 4}}
func.func @tiling_wgmma() attributes {attn.tiling = #attn.tiling<block_q = 128, block_kv = 64, warps = 4, stages = 2, mma = "wgmma">} {
  return
}

// -----

func.func @param_types(%q: tensor<?x?x?x64xbf16>, %w: index) {
  // expected-error @+1 {{'mask' region takes 0 argument(s) after its positions, which must match the 1 param(s) in number and type}}
  %o = attn.attention %q, %q, %q params(%w : index) mask {
  ^bb0(%b: index, %h: index, %qi: index, %kv: index):
    %c = arith.cmpi sge, %qi, %kv : index
    attn.yield %c : i1
  } : tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16> -> tensor<?x?x?x64xbf16>
  return
}

// -----

func.func @param_region_type(%i: index, %f: f32) {
  // expected-error @+1 {{'mask' region takes 1 argument(s) after its positions, which must match the 1 param(s) in number and type}}
  %any, %all = attn.mask_block_class(%i, %i) q[%i, %i] kv[%i, %i] kv_bound %i params(%f : f32) {
  ^bb0(%b: index, %h: index, %qi: index, %kv: index, %w: index):
    %c = arith.cmpi sge, %qi, %w : index
    attn.yield %c : i1
  }
  return
}

// -----

func.func @param_names(%q: tensor<?x?x?x64xbf16>, %w: index) {
  // expected-error @+1 {{has 1 param(s) but 2 param_names}}
  %o = attn.attention %q, %q, %q params(%w : index) attributes {param_names = ["a", "b"]} : tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16> -> tensor<?x?x?x64xbf16>
  return
}

// -----

func.func @block_list_yield(%l: memref<?x?x?x?xi32>, %i: index) {
  // expected-error @+1 {{body must yield (any, all) as two i1 values}}
  attn.block_list_build %l[%i, %i, %i] kv_blocks[%i, %i) : memref<?x?x?x?xi32> {
  ^bb0(%kb: index):
    %t = arith.constant true
    attn.yield %t : i1
  }
  return
}

// -----

func.func @block_list_arg(%l: memref<?x?x?x?xi32>, %i: index) {
  // expected-error @+1 {{body must take one index argument (the kv-block)}}
  attn.block_list_build %l[%i, %i, %i] kv_blocks[%i, %i) : memref<?x?x?x?xi32> {
  ^bb0(%kb: i32):
    %t = arith.constant true
    attn.yield %t, %t : i1, i1
  }
  return
}

// -----

func.func @key_ranges_args(%l: memref<?x?x?x?xi32>, %i: index) {
  // expected-error @+1 {{body must take a position (index) and a row flag (i1)}}
  attn.key_ranges %l[%i, %i, %i] rows %i kv[%i, %i) attributes {block_kv = 128 : i64, rows = 128 : i64} : memref<?x?x?x?xi32> {
  ^bb0(%p: index):
    %k = arith.constant 0 : i64
    attn.yield %k : i64
  }
  return
}

// -----

func.func @key_ranges_yield(%l: memref<?x?x?x?xi32>, %i: index) {
  // expected-error @+1 {{body must yield one i64 key}}
  attn.key_ranges %l[%i, %i, %i] rows %i kv[%i, %i) attributes {block_kv = 128 : i64, rows = 128 : i64} : memref<?x?x?x?xi32> {
  ^bb0(%p: index, %r: i1):
    %k = arith.constant 0 : i32
    attn.yield %k : i32
  }
  return
}

// -----

func.func @key_ranges_rows(%l: memref<?x?x?x?xi32>, %i: index) {
  // expected-error @+1 {{attribute 'rows' failed to satisfy constraint}}
  attn.key_ranges %l[%i, %i, %i] rows %i kv[%i, %i) attributes {block_kv = 128 : i64, rows = 0 : i64} : memref<?x?x?x?xi32> {
  ^bb0(%p: index, %r: i1):
    %k = arith.constant 0 : i64
    attn.yield %k : i64
  }
  return
}

// -----

func.func @tensor_bounds_rank(%t: memref<?x?xi32>, %i: index) {
  // expected-error @+1 {{needs one lower and one upper bound per dimension (rank 2), got 1 and 1}}
  %lo, %hi = attn.tensor_bounds %t[%i] to [%i] : memref<?x?xi32>
  return
}

// -----

func.func @tensor_bounds_float(%t: memref<?xf32>, %i: index) {
  // expected-error @+1 {{needs a tensor of integers (2 to 64 bits), got 'f32'}}
  %lo, %hi = attn.tensor_bounds %t[%i] to [%i] : memref<?xf32>
  return
}

// -----

// expected-error @+1 {{tiling copy must be "cp_async" or "tma", got "dma"}}
func.func @tiling_copy_unknown() attributes {attn.tiling = #attn.tiling<block_q = 128, block_kv = 128, warps = 8, stages = 2, mma = "wgmma", copy = "dma">} {
  return
}

// -----

// TMA tiles land in wgmma's slab layout: mma.sync kernels copy with cp.async.
// expected-error @+1 {{tiling copy = "tma" needs mma = "wgmma"}}
func.func @tiling_tma_needs_wgmma() attributes {attn.tiling = #attn.tiling<block_q = 128, block_kv = 128, warps = 4, stages = 2, copy = "tma">} {
  return
}

// -----

// A persistent launch's worker count exists only in a kernel.
func.func @workers_outside_kernel() -> index {
  // expected-error @+1 {{'attn.workers' op is only meaningful in a kernel function (attn.kernel)}}
  %n = attn.workers
  return %n : index
}

// -----

// Waiting for a list builder is a kernel's business.
func.func @await_list_builder_outside_kernel() {
  // expected-error @+1 {{'attn.await_list_builder' op is only meaningful in a kernel function (attn.kernel)}}
  attn.await_list_builder
  return
}

// -----

func.func @saturating_i64(%a: i64, %b: i64) -> i64 {
  // expected-error @+1 {{must be 32-bit signless integer}}
  %s = attn.sub_sat %a, %b : i64
  return %s : i64
}

// -----

// Programs handed out at run time exist only in a kernel.
func.func @next_program_outside_kernel(%t: index, %ctr: memref<1xi32>) -> index {
  // expected-error @+1 {{'attn.next_program' op is only meaningful in a kernel function (attn.kernel)}}
  %p = attn.next_program %t of %t workers %t below %t counter %ctr : memref<1xi32>
  return %p : index
}

// -----

func.func @next_program_counter(%t: index, %ctr: memref<2xi32>) -> index attributes {attn.kernel} {
  // expected-error @+1 {{'attn.next_program' op the counter must be memref<1xi32>, got 'memref<2xi32>'}}
  %p = attn.next_program %t of %t workers %t below %t counter %ctr : memref<2xi32>
  return %p : index
}

// -----

func.func @reset_outside_builder(%ctr: memref<1xi32>) attributes {attn.kernel} {
  // expected-error @+1 {{'attn.reset_program_counter' op is only meaningful in a kv-block list builder (attn.block_list_builder)}}
  attn.reset_program_counter %ctr : memref<1xi32>
  return
}

// -----

func.func @reset_counter_size(%ctr: memref<2xi32>) attributes {attn.block_list_builder} {
  // expected-error @+1 {{'attn.reset_program_counter' op the counter must be memref<1xi32>, got 'memref<2xi32>'}}
  attn.reset_program_counter %ctr : memref<2xi32>
  return
}

// -----

func.func @stage_outside_builder(%ids: memref<?x?xi32>, %b: index) attributes {attn.kernel} {
  // expected-error @+1 {{'attn.stage_row' op is only meaningful in a kv-block list builder (attn.block_list_builder)}}
  %s = attn.stage_row %ids[%b] {capacity = 8192 : i64} : memref<?x?xi32> -> memref<?x?xi32, 3>
  return
}

// -----

func.func @stage_wrong_space(%ids: memref<?x?xi32>, %b: index) attributes {attn.block_list_builder} {
  // expected-error @+1 {{'attn.stage_row' op the result must be the tensor's type in memory space 3, got 'memref<?x?xi32, 5>' for 'memref<?x?xi32>'}}
  %s = attn.stage_row %ids[%b] {capacity = 8192 : i64} : memref<?x?xi32> -> memref<?x?xi32, 5>
  return
}

// -----

func.func @stage_lead_count(%ids: memref<?x?x?xi32>, %b: index) attributes {attn.block_list_builder} {
  // expected-error @+1 {{'attn.stage_row' op needs one leading index per dimension but the last (rank 3), got 1}}
  %s = attn.stage_row %ids[%b] {capacity = 8192 : i64} : memref<?x?x?xi32> -> memref<?x?x?xi32, 3>
  return
}

// -----

func.func @stage_narrow(%ids: memref<?x?xi16>, %b: index) attributes {attn.block_list_builder} {
  // expected-error @+1 {{'attn.stage_row' op stages 32-bit entries, got 'i16'}}
  %s = attn.stage_row %ids[%b] {capacity = 8192 : i64} : memref<?x?xi16> -> memref<?x?xi16, 3>
  return
}

// -----

func.func @stage_capacity(%ids: memref<?x?xi32>, %b: index) attributes {attn.block_list_builder} {
  // expected-error @+1 {{'attn.stage_row' op capacity must be a positive multiple of 4 entries, got 6}}
  %s = attn.stage_row %ids[%b] {capacity = 6 : i64} : memref<?x?xi32> -> memref<?x?xi32, 3>
  return
}

// -----

func.func @publish_too_many(%t: index, %x: i32, %ctr: memref<1xi32>) attributes {attn.kernel} {
  %p = attn.next_program %t of %t workers %t below %t counter %ctr producer publish_later : memref<1xi32>
  // expected-error @+1 {{'attn.publish_program' op publishes at most 8 values, got 9}}
  attn.publish_program %p for %t below %t with %x, %x, %x, %x, %x, %x, %x, %x, %x
  return
}

// -----

func.func @publish_unclaimed(%t: index) attributes {attn.kernel} {
  // expected-error @+1 {{'attn.publish_program' op publishes the result of an attn.next_program with producer publish_later}}
  attn.publish_program %t for %t below %t
  return
}

// -----

func.func @claim_never_published(%t: index, %ctr: memref<1xi32>) -> index attributes {attn.kernel} {
  // expected-error @+1 {{'attn.next_program' op publish_later needs exactly one attn.publish_program of its result, got 0}}
  %p = attn.next_program %t of %t workers %t below %t counter %ctr producer publish_later : memref<1xi32>
  return %p : index
}

// -----

func.func @publish_later_consumer(%t: index, %ctr: memref<1xi32>) -> index attributes {attn.kernel} {
  // expected-error @+1 {{'attn.next_program' op publish_later is the copy thread's (producer)}}
  %p = attn.next_program %t of %t workers %t below %t counter %ctr publish_later : memref<1xi32>
  return %p : index
}

// -----

func.func @program_value_outside_kernel(%t: index) -> i32 {
  // expected-error @+1 {{'attn.program_value' op is only meaningful in a kernel function (attn.kernel)}}
  %v = attn.program_value of %t {index = 0}
  return %v : i32
}

// -----

func.func @program_value_slot(%t: index) -> i32 attributes {attn.kernel} {
  // expected-error @+1 {{'attn.program_value' op attribute 'index' failed to satisfy constraint}}
  %v = attn.program_value of %t {index = 8}
  return %v : i32
}

// -----

// Leaving the loop over programs needs one whose programs are handed out.
func.func @no_more_programs_in_snake(%n: index) attributes {attn.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.for %t = %c0 to %n step %c1 {
    // expected-error @+1 {{'attn.no_more_programs' op must be directly in the program guard (scf.if with attn.program_guard) of a loop over programs handed out at run time (scf.for with attn.programs and attn.hand_out)}}
    attn.no_more_programs
  } {attn.programs}
  return
}

// -----

// A break inside an inner loop would leave the wrong loop.
func.func @no_more_programs_nested(%n: index, %c: i1) attributes {attn.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.for %t = %c0 to %n step %c1 {
    scf.if %c {
      scf.for %u = %c0 to %n step %c1 {
        // expected-error @+1 {{'attn.no_more_programs' op must be directly in the program guard}}
        attn.no_more_programs
      }
    } else {
    } {attn.program_guard}
  } {attn.hand_out, attn.programs}
  return
}

// -----

// A release ordered after per-row values (a softmax's row sums) takes a
// rank-1 tensor, and not together with `when`.
func.func @release_after_tile(%k: memref<?x?x?x64xbf16>, %s: index, %p: tensor<64x64xf32>) {
  // expected-error @+1 {{'after' must be per-row values (a rank-1 tensor), got 'tensor<64x64xf32>'}}
  attn.tile_release %k stage %s round %s after %p : memref<?x?x?x64xbf16>, tensor<64x64xf32>
  return
}

// -----

func.func @release_after_and_when(%k: memref<?x?x?x64xbf16>, %s: index, %c: i1, %l: tensor<64xf32>) {
  // expected-error @+1 {{takes 'when' or 'after', not both}}
  attn.tile_release %k stage %s round %s when %c after %l : memref<?x?x?x64xbf16>, tensor<64xf32>
  return
}
