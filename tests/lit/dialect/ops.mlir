// RUN: faopt-opt %s | faopt-opt | FileCheck %s
// RUN: faopt-opt %s --mlir-print-op-generic | faopt-opt | FileCheck %s

// Every attn op prints in a form that parses back to itself.

// CHECK-LABEL: func.func @spec_level
// CHECK:         attn.attention %{{.*}}, %{{.*}}, %{{.*}} attributes {layout = #attn.layout<bshd>, scale = 1.250000e-01 : f32} mask {
// CHECK-NEXT:    ^bb0(%b: index, %h: index, %q: index, %kv: index):
// CHECK:         } score {
// CHECK-NEXT:    ^bb0(%score: f32, %b: index, %h: index, %q: index, %kv: index):
func.func @spec_level(%q: tensor<2x?x8x64xbf16>, %k: tensor<2x?x2x64xbf16>, %v: tensor<2x?x2x32xbf16>) -> (tensor<2x?x8x32xbf16>, tensor<2x8x?xf32>) {
  %o, %lse = attn.attention %q, %k, %v attributes {layout = #attn.layout<bshd>, scale = 0.125 : f32} mask {
  ^bb0(%b: index, %h: index, %qi: index, %kv: index):
    %c = arith.cmpi sge, %qi, %kv : index
    attn.yield %c : i1
  } score {
  ^bb0(%s: f32, %b: index, %h: index, %qi: index, %kv: index):
    attn.yield %s : f32
  } : tensor<2x?x8x64xbf16>, tensor<2x?x2x64xbf16>, tensor<2x?x2x32xbf16> -> tensor<2x?x8x32xbf16>, tensor<2x8x?xf32>
  return %o, %lse : tensor<2x?x8x32xbf16>, tensor<2x8x?xf32>
}

// CHECK-LABEL: func.func @tile_level
// CHECK:         attn.tile_load
// CHECK:         attn.tile_matmul {{.*}} {transpose_rhs}
// CHECK:         attn.tile_map
// CHECK:         attn.tile_reduce <max>
// CHECK:         attn.tile_exp2
// CHECK:         attn.tile_scale_rows
// CHECK:         attn.tile_reduce <sum>
// CHECK:         attn.tile_matmul {{.*}} acc
// CHECK:         attn.online_finalize
// CHECK:         attn.tile_store
// CHECK:         %any, %all = attn.mask_block_class
// CHECK:         %kv_lower, %kv_upper = attn.mask_kv_range{{.*}} block 32
func.func @tile_level(%mq: memref<?x?x?x16xf16, strided<[?, ?, ?, 1], offset: ?>>, %mo: memref<?x?x?x16xf16, strided<[?, ?, ?, 1], offset: ?>>, %i: index) -> (i1, index) {
  %q = attn.tile_load %mq[%i, %i, %i] bound %i : memref<?x?x?x16xf16, strided<[?, ?, ?, 1], offset: ?>> -> tensor<32x16xf16>
  %s = attn.tile_matmul %q, %q {transpose_rhs} : tensor<32x16xf16>, tensor<32x16xf16> -> tensor<32x32xf32>
  %t = attn.tile_map %s at(%i, %i, %i, %i) {
  ^bb0(%x: f32, %b: index, %h: index, %qi: index, %kv: index):
    attn.yield %x : f32
  } : tensor<32x32xf32>
  %m0, %l0, %a0 = attn.online_init : tensor<32xf32>, tensor<32xf32>, tensor<32x16xf32>
  %m = attn.tile_reduce <max> %t, %m0 : tensor<32x32xf32> -> tensor<32xf32>
  %p = attn.tile_exp2 %t, %m : tensor<32x32xf32>, tensor<32xf32>
  %a = attn.tile_scale_rows %a0, %m : tensor<32x16xf32>, tensor<32xf32>
  %l = attn.tile_reduce <sum> %p, %l0 : tensor<32x32xf32> -> tensor<32xf32>
  %ph = arith.truncf %p : tensor<32x32xf32> to tensor<32x32xf16>
  %acc = attn.tile_matmul %ph, %q acc %a : tensor<32x32xf16>, tensor<32x16xf16>, tensor<32x16xf32> -> tensor<32x16xf32>
  %o = attn.online_finalize %m, %l, %acc : tensor<32xf32>, tensor<32xf32>, tensor<32x16xf32> -> tensor<32x16xf16>
  attn.tile_store %o, %mo[%i, %i, %i] bound %i : tensor<32x16xf16>, memref<?x?x?x16xf16, strided<[?, ?, ?, 1], offset: ?>>
  %any, %all = attn.mask_block_class(%i, %i) q[%i, %i] kv[%i, %i] kv_bound %i {
  ^bb0(%b: index, %h: index, %qi: index, %kv: index):
    %c = arith.cmpi sge, %qi, %kv : index
    attn.yield %c : i1
  }
  %lo, %hi = attn.mask_kv_range(%i, %i) q[%i, %i] kv_bound %i block 32 {
  ^bb0(%b: index, %h: index, %qi: index, %kv: index):
    %c = arith.cmpi sge, %qi, %kv : index
    attn.yield %c : i1
  }
  return %any, %hi : i1, index
}

// Params: scalars every region receives after its positions, named on
// attn.attention by param_names.
// CHECK-LABEL: func.func @with_params
// CHECK:         attn.attention %{{.*}}, %{{.*}}, %{{.*}} params(%{{.*}}, %{{.*}} : index, f32) attributes {param_names = ["window", "cap"]} mask {
// CHECK-NEXT:    ^bb0(%b: index, %h: index, %q: index, %kv: index, %window: index, %cap: f32):
// CHECK:         } score {
// CHECK-NEXT:    ^bb0(%score: f32, %b: index, %h: index, %q: index, %kv: index, %window: index, %cap: f32):
// CHECK:         attn.mask_block_class{{.*}} kv_bound %{{.*}} params(%{{.*}} : index) {
// CHECK-NEXT:    ^bb0(%b: index, %h: index, %q: index, %kv: index, %param: index):
// CHECK:         attn.mask_kv_range{{.*}} block 32 params(%{{.*}} : index) {
func.func @with_params(%q: tensor<?x?x?x64xbf16>, %k: tensor<?x?x?x64xbf16>, %v: tensor<?x?x?x64xbf16>, %w: index, %c: f32, %i: index) -> tensor<?x?x?x64xbf16> {
  %o = attn.attention %q, %k, %v params(%w, %c : index, f32) attributes {param_names = ["window", "cap"]} mask {
  ^bb0(%b: index, %h: index, %qi: index, %kv: index, %win: index, %cp: f32):
    %d = arith.subi %qi, %kv : index
    %in = arith.cmpi sle, %d, %win : index
    attn.yield %in : i1
  } score {
  ^bb0(%s: f32, %b: index, %h: index, %qi: index, %kv: index, %win: index, %cp: f32):
    %x = arith.divf %s, %cp : f32
    attn.yield %x : f32
  } : tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16> -> tensor<?x?x?x64xbf16>
  %any, %all = attn.mask_block_class(%i, %i) q[%i, %i] kv[%i, %i] kv_bound %i params(%w : index) {
  ^bb0(%b: index, %h: index, %qi: index, %kv: index, %win: index):
    %d = arith.subi %qi, %kv : index
    %in = arith.cmpi sle, %d, %win : index
    attn.yield %in : i1
  }
  %lo, %hi = attn.mask_kv_range(%i, %i) q[%i, %i] kv_bound %i block 32 params(%w : index) {
  ^bb0(%b: index, %h: index, %qi: index, %kv: index, %win: index):
    %d = arith.subi %qi, %kv : index
    %in = arith.cmpi sle, %d, %win : index
    attn.yield %in : i1
  }
  return %o : tensor<?x?x?x64xbf16>
}

// CHECK-LABEL: func.func @block_list_build(
// CHECK:         attn.block_list_build %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}] kv_blocks[%{{.*}}, %{{.*}}) : memref<?x?x?x?xi32> {
// CHECK:         ^bb0(%{{.*}}: index):
// CHECK:           attn.yield %{{.*}}, %{{.*}} : i1, i1
func.func @block_list_build(%l: memref<?x?x?x?xi32>, %i: index, %n: index) {
  attn.block_list_build %l[%i, %i, %i] kv_blocks[%i, %n) : memref<?x?x?x?xi32> {
  ^bb0(%kb: index):
    %any = arith.cmpi ult, %kb, %n : index
    attn.yield %any, %any : i1, i1
  }
  return
}

// CHECK-LABEL: func.func @key_ranges(
// CHECK:         attn.key_ranges %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}] rows %{{.*}} kv[%{{.*}}, %{{.*}}) attributes {block_kv = 128 : i64, rows = 128 : i64} : memref<?x?x?x?xi32> {
// CHECK:         ^bb0(%pos: index, %is_row: i1):
// CHECK:           attn.yield %{{.*}} : i64
func.func @key_ranges(%l: memref<?x?x?x?xi32>, %ids: memref<?xi32>, %i: index, %n: index) {
  attn.key_ranges %l[%i, %i, %i] rows %i kv[%i, %n) attributes {block_kv = 128 : i64, rows = 128 : i64} : memref<?x?x?x?xi32> {
  ^bb0(%p: index, %row: i1):
    %k = memref.load %ids[%p] : memref<?xi32>
    %k64 = arith.extsi %k : i32 to i64
    attn.yield %k64 : i64
  }
  return
}

// CHECK-LABEL: func.func @tensor_bounds(
// CHECK:         %{{.*}}, %{{.*}} = attn.tensor_bounds %{{.*}}[%{{.*}}, %{{.*}}] to [%{{.*}}, %{{.*}}] : memref<?x?xi32>
func.func @tensor_bounds(%t: memref<?x?xi32>, %b: index, %q0: index, %q1: index) -> (index, index) {
  %lo, %hi = attn.tensor_bounds %t[%b, %q0] to [%b, %q1] : memref<?x?xi32>
  return %lo, %hi : index, index
}

// CHECK-LABEL: func.func @hand_out(
// CHECK:         %{{.*}} = attn.next_program %{{.*}} of %{{.*}} workers %{{.*}} below %{{.*}} counter %{{.*}} : memref<1xi32>
// CHECK:         %{{.*}} = attn.next_program %{{.*}} of %{{.*}} workers %{{.*}} below %{{.*}} counter %{{.*}} producer : memref<1xi32>
// CHECK:         %[[R:.*]] = attn.next_program %{{.*}} of %{{.*}} workers %{{.*}} below %{{.*}} counter %{{.*}} producer publish_later : memref<1xi32>
// CHECK:         attn.publish_program %[[R]] for %{{.*}} below %{{.*}} with %{{.*}}, %{{.*}}
// CHECK:         %[[S:.*]] = attn.next_program %{{.*}} producer publish_later
// CHECK:         attn.publish_program %[[S]] for %{{.*}} below %{{.*}}{{$}}
// CHECK:         %{{.*}} = attn.program_value of %{{.*}} {index = 1 : i64}
// CHECK:         attn.no_more_programs
func.func @hand_out(%n: index, %w: index, %ws: index, %ctr: memref<1xi32>, %x: i32) attributes {attn.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.for %t = %c0 to %n step %c1 {
    %p = attn.next_program %t of %w workers %ws below %n counter %ctr : memref<1xi32>
    %q = attn.next_program %t of %w workers %ws below %n counter %ctr producer : memref<1xi32>
    %r = attn.next_program %t of %w workers %ws below %n counter %ctr producer publish_later : memref<1xi32>
    attn.publish_program %r for %t below %n with %x, %x
    %s = attn.next_program %t of %w workers %ws below %n counter %ctr producer publish_later : memref<1xi32>
    attn.publish_program %s for %t below %n
    %v = attn.program_value of %t {index = 1}
    %in = arith.cmpi ult, %p, %n : index
    scf.if %in {
    } else {
      attn.no_more_programs
    } {attn.program_guard}
  } {attn.hand_out, attn.programs}
  return
}

// CHECK-LABEL: func.func @workers(
// CHECK:         %{{.*}} = attn.workers
func.func @workers() -> index attributes {attn.kernel} {
  %n = attn.workers
  return %n : index
}

// CHECK-LABEL: func.func @await_list_builder(
// CHECK:         attn.await_list_builder
func.func @await_list_builder() attributes {attn.kernel} {
  attn.await_list_builder
  return
}

// Saturating i32 arithmetic (attn-kv-bounds-in-rows' row bounds).
// CHECK-LABEL: func.func @saturating(
// CHECK: attn.add_sat %{{.*}}, %{{.*}} : i32
// CHECK: attn.sub_sat %{{.*}}, %{{.*}} : i32
func.func @saturating(%a: i32, %b: i32) -> (i32, i32) {
  %s = attn.add_sat %a, %b : i32
  %d = attn.sub_sat %a, %b : i32
  return %s, %d : i32, i32
}

// CHECK-LABEL: func.func @tile_release(
// CHECK:         attn.tile_release %{{.*}} stage %{{.*}} round %{{.*}} : memref<?x?x?x64xbf16>
// CHECK:         attn.tile_release %{{.*}} stage %{{.*}} round %{{.*}} when %{{.*}} : memref<?x?x?x64xbf16>
// CHECK:         attn.tile_release %{{.*}} stage %{{.*}} round %{{.*}} after %{{.*}} : memref<?x?x?x64xbf16>, tensor<64xf32>
func.func @tile_release(%q: memref<?x?x?x64xbf16>, %s: index, %r: index, %last: i1, %sums: tensor<64xf32>) {
  attn.tile_release %q stage %s round %r : memref<?x?x?x64xbf16>
  attn.tile_release %q stage %s round %r when %last : memref<?x?x?x64xbf16>
  attn.tile_release %q stage %s round %r after %sums : memref<?x?x?x64xbf16>, tensor<64xf32>
  return
}

// CHECK-LABEL: func.func @builder_resets(
// CHECK:         attn.reset_program_counter %{{.*}} : memref<1xi32>
func.func @builder_resets(%ctr: memref<1xi32>) attributes {attn.block_list_builder} {
  attn.reset_program_counter %ctr : memref<1xi32>
  return
}

// CHECK-LABEL: func.func @builder_stages(
// CHECK:         attn.stage_row %{{.*}}[%{{.*}}] {capacity = 8192 : i64} : memref<?x?xi32, strided<[?, ?], offset: ?>> -> memref<?x?xi32, strided<[?, ?], offset: ?>, 3>
func.func @builder_stages(%ids: memref<?x?xi32, strided<[?, ?], offset: ?>>, %b: index) attributes {attn.block_list_builder} {
  %s = attn.stage_row %ids[%b] {capacity = 8192 : i64} : memref<?x?xi32, strided<[?, ?], offset: ?>> -> memref<?x?xi32, strided<[?, ?], offset: ?>, 3>
  return
}
