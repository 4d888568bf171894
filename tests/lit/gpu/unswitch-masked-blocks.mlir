// RUN: faopt-opt %s --attn-unswitch-masked-blocks --split-input-file | FileCheck %s

// A kv iteration's work branch holding the full / masked choice (the masked
// map's mask is only row bounds: attn.kv_bounds) becomes one branch on the
// choice's condition with a copy of the whole iteration on each side: the
// product before and the row maximum after appear twice, the choice is gone.

// CHECK-LABEL: func.func @k(
// CHECK:         scf.for
// CHECK:           %[[FULL:.*]] = arith.cmpi slt
// CHECK:           scf.if %{{.*}} -> (tensor<64xf32>) {
// CHECK-NEXT:        %[[R:.*]] = scf.if %[[FULL]] -> (tensor<64xf32>) {
// CHECK-NEXT:          %[[S:.*]] = attn.tile_matmul
// CHECK-NEXT:          %[[M:.*]] = attn.tile_map %[[S]]
// CHECK-NOT:           attn.kv_bounds
// CHECK:               func.call @score(
// CHECK:             %[[X:.*]] = attn.tile_reduce <max> %[[M]]
// CHECK-NEXT:        scf.yield %[[X]] : tensor<64xf32>
// CHECK-NEXT:      } else {
// CHECK-NEXT:        %[[S2:.*]] = attn.tile_matmul
// CHECK-NEXT:        %[[M2:.*]] = attn.tile_map %[[S2]] {{.*}} attributes {attn.kv_bounds = [@masked_kv_first, @masked_kv_last]}
// CHECK:             %[[X2:.*]] = attn.tile_reduce <max> %[[M2]]
// CHECK-NEXT:        scf.yield %[[X2]] : tensor<64xf32>
// CHECK-NEXT:      }
// CHECK-NEXT:      scf.yield %[[R]] : tensor<64xf32>
// CHECK-NOT:     scf.if %[[FULL]]
func.func private @score(%s: f32, %b: index, %h: index, %q: index, %kv: index {attn.kv_position}) -> f32 attributes {attn.device_function} {
  return %s : f32
}
func.func private @masked(%s: f32, %b: index, %h: index, %q: index, %kv: index {attn.kv_position}) -> f32 attributes {attn.device_function, attn.kv_first = @masked_kv_first, attn.kv_last = @masked_kv_last} {
  return %s : f32
}
func.func private @masked_kv_first(%s: f32, %b: index, %h: index, %q: index, %kv: index {attn.kv_position}) -> index attributes {attn.device_function} {
  %c0 = arith.constant 0 : index
  return %c0 : index
}
func.func private @masked_kv_last(%s: f32, %b: index, %h: index, %q: index, %kv: index {attn.kv_position}) -> index attributes {attn.device_function} {
  return %q : index
}
func.func @k(%qt: tensor<64x64xbf16>, %kt: tensor<64x64xbf16>, %init: tensor<64xf32>, %n: index, %i: index) -> tensor<64xf32> attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 64, block_kv = 64, warps = 4, stages = 2, mma = "wgmma", copy = "tma">} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %r = scf.for %j = %c0 to %n step %c1 iter_args(%acc = %init) -> (tensor<64xf32>) {
    %work = arith.cmpi ult, %j, %i : index
    %full = arith.cmpi slt, %j, %c1 : index
    %next = scf.if %work -> (tensor<64xf32>) {
      %s = attn.tile_matmul %qt, %kt {transpose_rhs} : tensor<64x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xf32>
      %m = scf.if %full -> (tensor<64x64xf32>) {
        %a = attn.tile_map %s at(%i, %i, %i, %j) {
        ^bb0(%x: f32, %b: index, %h: index, %q: index, %kv: index):
          %y = func.call @score(%x, %b, %h, %q, %kv) : (f32, index, index, index, index) -> f32
          attn.yield %y : f32
        } : tensor<64x64xf32>
        scf.yield %a : tensor<64x64xf32>
      } else {
        %a = attn.tile_map %s at(%i, %i, %i, %j) attributes {attn.kv_bounds = [@masked_kv_first, @masked_kv_last]} {
        ^bb0(%x: f32, %b: index, %h: index, %q: index, %kv: index):
          %y = func.call @masked(%x, %b, %h, %q, %kv) : (f32, index, index, index, index) -> f32
          attn.yield %y : f32
        } : tensor<64x64xf32>
        scf.yield %a : tensor<64x64xf32>
      }
      %mx = attn.tile_reduce <max> %m, %acc : tensor<64x64xf32> -> tensor<64xf32>
      scf.yield %mx : tensor<64xf32>
    } else {
      scf.yield %acc : tensor<64xf32>
    }
    scf.yield %next : tensor<64xf32>
  }
  return %r : tensor<64xf32>
}

// -----

// Left alone: the choice's condition comes from an op inside the block
// that cannot move to its start (a call), and a kernel without TMA copies.

// CHECK-LABEL: func.func @inside(
// CHECK:         scf.if %{{.*}} -> (tensor<64xf32>) {
// CHECK:           %[[FULL:.*]] = func.call @flag(
// CHECK:           scf.if %[[FULL]] -> (tensor<64x64xf32>) {
// CHECK-LABEL: func.func @cp_async(
// CHECK:         scf.if %{{.*}} -> (tensor<64xf32>) {
// CHECK:           attn.tile_matmul
// CHECK:           scf.if %{{.*}} -> (tensor<64x64xf32>) {
func.func private @score(%s: f32, %b: index, %h: index, %q: index, %kv: index {attn.kv_position}) -> f32 attributes {attn.device_function} {
  return %s : f32
}
func.func private @masked(%s: f32, %b: index, %h: index, %q: index, %kv: index {attn.kv_position}) -> f32 attributes {attn.device_function} {
  return %s : f32
}
func.func private @flag(%i: index) -> i1
func.func @inside(%s: tensor<64x64xf32>, %init: tensor<64xf32>, %work: i1, %i: index) -> tensor<64xf32> attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 64, block_kv = 64, warps = 4, stages = 2, mma = "wgmma", copy = "tma">} {
  %next = scf.if %work -> (tensor<64xf32>) {
    %full = func.call @flag(%i) : (index) -> i1
    %m = scf.if %full -> (tensor<64x64xf32>) {
      %a = attn.tile_map %s at(%i, %i, %i, %i) {
      ^bb0(%x: f32, %b: index, %h: index, %q: index, %kv: index):
        %y = func.call @score(%x, %b, %h, %q, %kv) : (f32, index, index, index, index) -> f32
        attn.yield %y : f32
      } : tensor<64x64xf32>
      scf.yield %a : tensor<64x64xf32>
    } else {
      %a = attn.tile_map %s at(%i, %i, %i, %i) attributes {attn.kv_bounds = [@score, @score]} {
      ^bb0(%x: f32, %b: index, %h: index, %q: index, %kv: index):
        %y = func.call @masked(%x, %b, %h, %q, %kv) : (f32, index, index, index, index) -> f32
        attn.yield %y : f32
      } : tensor<64x64xf32>
      scf.yield %a : tensor<64x64xf32>
    }
    %mx = attn.tile_reduce <max> %m, %init : tensor<64x64xf32> -> tensor<64xf32>
    scf.yield %mx : tensor<64xf32>
  } else {
    scf.yield %init : tensor<64xf32>
  }
  return %next : tensor<64xf32>
}
func.func @cp_async(%qt: tensor<64x64xbf16>, %kt: tensor<64x64xbf16>, %init: tensor<64xf32>, %work: i1, %full: i1, %i: index) -> tensor<64xf32> attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 64, block_kv = 64, warps = 4, stages = 2>} {
  %next = scf.if %work -> (tensor<64xf32>) {
    %s = attn.tile_matmul %qt, %kt {transpose_rhs} : tensor<64x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xf32>
    %m = scf.if %full -> (tensor<64x64xf32>) {
      %a = attn.tile_map %s at(%i, %i, %i, %i) {
      ^bb0(%x: f32, %b: index, %h: index, %q: index, %kv: index):
        %y = func.call @score(%x, %b, %h, %q, %kv) : (f32, index, index, index, index) -> f32
        attn.yield %y : f32
      } : tensor<64x64xf32>
      scf.yield %a : tensor<64x64xf32>
    } else {
      %a = attn.tile_map %s at(%i, %i, %i, %i) attributes {attn.kv_bounds = [@score, @score]} {
      ^bb0(%x: f32, %b: index, %h: index, %q: index, %kv: index):
        %y = func.call @masked(%x, %b, %h, %q, %kv) : (f32, index, index, index, index) -> f32
        attn.yield %y : f32
      } : tensor<64x64xf32>
      scf.yield %a : tensor<64x64xf32>
    }
    %mx = attn.tile_reduce <max> %m, %init : tensor<64x64xf32> -> tensor<64xf32>
    scf.yield %mx : tensor<64xf32>
  } else {
    scf.yield %init : tensor<64xf32>
  }
  return %next : tensor<64xf32>
}

// -----

// A list-driven iteration: the loop body itself holds the choice, on a
// class read from a carried list entry (bit 0). The condition's ops move
// to the body's start and the rest of the body is copied on each side;
// what the body yields comes from the branch.

// CHECK-LABEL: func.func @list(
// CHECK:         scf.for {{.*}} iter_args(%[[ACC:.*]] = %{{.*}}, %[[E:.*]] = %{{.*}}) -> (tensor<64xf32>, i32) {
// CHECK-NEXT:      %[[BIT:.*]] = arith.andi %[[E]], %{{.*}} : i32
// CHECK-NEXT:      %[[MASKED:.*]] = arith.trunci %[[BIT]] : i32 to i1
// CHECK-NEXT:      %[[R:.*]]:2 = scf.if %[[MASKED]] -> (tensor<64xf32>, i32) {
// CHECK-NEXT:        %[[N:.*]] = func.call @next_entry(
// CHECK-NEXT:        %[[S:.*]] = attn.tile_matmul
// CHECK-NEXT:        %[[M:.*]] = attn.tile_map %[[S]] {{.*}} attributes {attn.kv_bounds = [@score, @score]}
// CHECK:             %[[X:.*]] = attn.tile_reduce <max> %[[M]], %[[ACC]]
// CHECK-NEXT:        scf.yield %[[X]], %[[N]] : tensor<64xf32>, i32
// CHECK-NEXT:      } else {
// CHECK-NEXT:        %[[N2:.*]] = func.call @next_entry(
// CHECK-NEXT:        %[[S2:.*]] = attn.tile_matmul
// CHECK-NEXT:        %[[M2:.*]] = attn.tile_map %[[S2]]
// CHECK-NOT:           attn.kv_bounds
// CHECK:             %[[X2:.*]] = attn.tile_reduce <max> %[[M2]], %[[ACC]]
// CHECK-NEXT:        scf.yield %[[X2]], %[[N2]] : tensor<64xf32>, i32
// CHECK-NEXT:      }
// CHECK-NEXT:      scf.yield %[[R]]#0, %[[R]]#1 : tensor<64xf32>, i32
func.func private @score(%s: f32, %b: index, %h: index, %q: index, %kv: index {attn.kv_position}) -> f32 attributes {attn.device_function} {
  return %s : f32
}
func.func private @next_entry(%j: index) -> i32
func.func @list(%qt: tensor<64x64xbf16>, %kt: tensor<64x64xbf16>, %init: tensor<64xf32>, %first: i32, %n: index, %i: index) -> tensor<64xf32> attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 64, block_kv = 64, warps = 4, stages = 2, mma = "wgmma", copy = "tma">} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1 : i32
  %r:2 = scf.for %j = %c0 to %n step %c1 iter_args(%acc = %init, %e = %first) -> (tensor<64xf32>, i32) {
    %next = func.call @next_entry(%j) : (index) -> i32
    %s = attn.tile_matmul %qt, %kt {transpose_rhs} : tensor<64x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xf32>
    %bit = arith.andi %e, %one : i32
    %masked = arith.trunci %bit : i32 to i1
    %m = scf.if %masked -> (tensor<64x64xf32>) {
      %a = attn.tile_map %s at(%i, %i, %i, %j) attributes {attn.kv_bounds = [@score, @score]} {
      ^bb0(%x: f32, %b: index, %h: index, %q: index, %kv: index):
        %y = func.call @score(%x, %b, %h, %q, %kv) : (f32, index, index, index, index) -> f32
        attn.yield %y : f32
      } : tensor<64x64xf32>
      scf.yield %a : tensor<64x64xf32>
    } else {
      %a = attn.tile_map %s at(%i, %i, %i, %j) {
      ^bb0(%x: f32, %b: index, %h: index, %q: index, %kv: index):
        %y = func.call @score(%x, %b, %h, %q, %kv) : (f32, index, index, index, index) -> f32
        attn.yield %y : f32
      } : tensor<64x64xf32>
      scf.yield %a : tensor<64x64xf32>
    }
    %mx = attn.tile_reduce <max> %m, %acc : tensor<64x64xf32> -> tensor<64xf32>
    scf.yield %mx, %next : tensor<64xf32>, i32
  }
  return %r#0 : tensor<64xf32>
}

// -----

// A condition computed inside the work branch by side-effect-free ops
// moves to the branch's start; and a block that is nothing but the choice
// (with its condition) is left as it is: the pass ends.

// CHECK-LABEL: func.func @pure_inside(
// CHECK:         scf.if %{{.*}} -> (tensor<64xf32>) {
// CHECK-NEXT:      %[[FULL:.*]] = arith.cmpi slt
// CHECK-NEXT:      %{{.*}} = scf.if %[[FULL]] -> (tensor<64xf32>) {
// CHECK-NEXT:        attn.tile_map
// CHECK:             attn.tile_reduce <max>
// CHECK:           } else {
// CHECK-NEXT:        attn.tile_map {{.*}} attributes {attn.kv_bounds
// CHECK:             attn.tile_reduce <max>
// CHECK-LABEL: func.func @only_choice(
// CHECK:         scf.for
// CHECK-NEXT:      arith.andi
// CHECK-NEXT:      arith.trunci
// CHECK-NEXT:      scf.if
// CHECK-NEXT:        attn.tile_map
func.func private @score(%s: f32, %b: index, %h: index, %q: index, %kv: index {attn.kv_position}) -> f32 attributes {attn.device_function} {
  return %s : f32
}
func.func @pure_inside(%s: tensor<64x64xf32>, %init: tensor<64xf32>, %work: i1, %i: index) -> tensor<64xf32> attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 64, block_kv = 64, warps = 4, stages = 2, mma = "wgmma", copy = "tma">} {
  %c1 = arith.constant 1 : index
  %next = scf.if %work -> (tensor<64xf32>) {
    %full = arith.cmpi slt, %i, %c1 : index
    %m = scf.if %full -> (tensor<64x64xf32>) {
      %a = attn.tile_map %s at(%i, %i, %i, %i) {
      ^bb0(%x: f32, %b: index, %h: index, %q: index, %kv: index):
        %y = func.call @score(%x, %b, %h, %q, %kv) : (f32, index, index, index, index) -> f32
        attn.yield %y : f32
      } : tensor<64x64xf32>
      scf.yield %a : tensor<64x64xf32>
    } else {
      %a = attn.tile_map %s at(%i, %i, %i, %i) attributes {attn.kv_bounds = [@score, @score]} {
      ^bb0(%x: f32, %b: index, %h: index, %q: index, %kv: index):
        %y = func.call @score(%x, %b, %h, %q, %kv) : (f32, index, index, index, index) -> f32
        attn.yield %y : f32
      } : tensor<64x64xf32>
      scf.yield %a : tensor<64x64xf32>
    }
    %mx = attn.tile_reduce <max> %m, %init : tensor<64x64xf32> -> tensor<64xf32>
    scf.yield %mx : tensor<64xf32>
  } else {
    scf.yield %init : tensor<64xf32>
  }
  return %next : tensor<64xf32>
}
func.func @only_choice(%s: tensor<64x64xf32>, %first: i32, %n: index, %i: index) -> i32 attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 64, block_kv = 64, warps = 4, stages = 2, mma = "wgmma", copy = "tma">} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1 : i32
  %r = scf.for %j = %c0 to %n step %c1 iter_args(%e = %first) -> (i32) {
    %bit = arith.andi %e, %one : i32
    %masked = arith.trunci %bit : i32 to i1
    %m = scf.if %masked -> (tensor<64x64xf32>) {
      %a = attn.tile_map %s at(%i, %i, %i, %j) attributes {attn.kv_bounds = [@score, @score]} {
      ^bb0(%x: f32, %b: index, %h: index, %q: index, %kv: index):
        %y = func.call @score(%x, %b, %h, %q, %kv) : (f32, index, index, index, index) -> f32
        attn.yield %y : f32
      } : tensor<64x64xf32>
      scf.yield %a : tensor<64x64xf32>
    } else {
      %a = attn.tile_map %s at(%i, %i, %i, %j) {
      ^bb0(%x: f32, %b: index, %h: index, %q: index, %kv: index):
        %y = func.call @score(%x, %b, %h, %q, %kv) : (f32, index, index, index, index) -> f32
        attn.yield %y : f32
      } : tensor<64x64xf32>
      scf.yield %a : tensor<64x64xf32>
    }
    scf.yield %e : i32
  }
  return %r : i32
}
