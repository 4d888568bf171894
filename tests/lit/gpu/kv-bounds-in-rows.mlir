// RUN: faopt-opt %s --attn-kv-bounds-in-rows --split-input-file | FileCheck %s
// RUN: faopt-opt %s --attn-kv-bounds-in-rows=bands-only=true --split-input-file | FileCheck %s --check-prefix=BANDS

// A window mask that is only per-row kv bounds (attn-isolate-kv-bounds's
// form): F_kv_first / F_kv_last return the bounds from the same arguments,
// F keeps the score, and the tile_map names the two.

// CHECK-LABEL: func.func private @window_kv_first(
// CHECK-SAME:      %{{[^:]*}}: f32, %{{[^:]*}}: index, %{{[^:]*}}: index, %[[Q:[^:]*]]: index, %{{[^:]*}}: index {attn.kv_position}, %[[W:[^:]*]]: index) -> index
// CHECK-NEXT:    %[[LO:.*]] = arith.subi %[[Q]], %[[W]] : index
// CHECK-NEXT:    return %[[LO]] : index
// CHECK-LABEL: func.func private @window_kv_last(
// CHECK-SAME:      %[[Q:[^:]*]]: index, %{{[^:]*}}: index {attn.kv_position}, %{{[^:]*}}: index) -> index
// CHECK-NEXT:    return %[[Q]] : index
// CHECK-LABEL: func.func private @window(
// CHECK-SAME:      %[[S:[^:]*]]: f32
// CHECK-SAME:      attn.kv_first = @window_kv_first, attn.kv_last = @window_kv_last
// CHECK-NEXT:    return %[[S]] : f32
// CHECK-LABEL: func.func @k(
// CHECK:         attn.tile_map {{.*}} attributes {attn.kv_bounds = [@window_kv_first, @window_kv_last]}
func.func private @window(%s: f32, %b: index, %h: index, %q: index,
                          %kv: index {attn.kv_position}, %w: index) -> f32
    attributes {attn.device_function} {
  %ninf = arith.constant 0xFF800000 : f32
  %lo = arith.subi %q, %w : index
  %ge = arith.cmpi sge, %kv, %lo : index
  %le = arith.cmpi sle, %kv, %q : index
  %in = arith.andi %ge, %le : i1
  %r = arith.select %in, %s, %ninf : f32
  return %r : f32
}
func.func @k(%t: tensor<64x64xf32>, %i: index, %w: index) -> tensor<64x64xf32> attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 64, block_kv = 64, warps = 4, stages = 2, mma = "wgmma", copy = "tma">} {
  %m = attn.tile_map %t at(%i, %i, %i, %i) {
  ^bb0(%x: f32, %b: index, %h: index, %q: index, %kv: index):
    %r = func.call @window(%x, %b, %h, %q, %kv, %w) : (f32, index, index, index, index, index) -> f32
    attn.yield %r : f32
  } : tensor<64x64xf32>
  return %m : tensor<64x64xf32>
}

// -----

// Causal (an upper bound only): the missing lower bound is -2^31, which
// fits i32, so that function returns i32; a score modifier (here a scale)
// stays in F.

// CHECK-LABEL: func.func private @causal_kv_first(
// CHECK-SAME:      -> i32
// CHECK:         %[[NONE:.*]] = arith.constant -2147483648 : index
// CHECK-NEXT:    %[[N32:.*]] = arith.index_cast %[[NONE]] : index to i32
// CHECK-NEXT:    return %[[N32]] : i32
// CHECK-LABEL: func.func private @causal_kv_last(
// CHECK-SAME:      %[[Q:[^:]*]]: index, %{{[^:]*}}: index {attn.kv_position}) -> index
// CHECK-NEXT:    return %[[Q]] : index
// CHECK-LABEL: func.func private @causal(
// CHECK-SAME:      %[[S:[^:]*]]: f32
// CHECK:         %[[Y:.*]] = arith.mulf %[[S]], %{{.*}} : f32
// CHECK-NEXT:    return %[[Y]] : f32
func.func private @causal(%s: f32, %b: index, %h: index, %q: index,
                          %kv: index {attn.kv_position}) -> f32
    attributes {attn.device_function} {
  %ninf = arith.constant 0xFF800000 : f32
  %c = arith.constant 2.0 : f32
  %y = arith.mulf %s, %c : f32
  %le = arith.cmpi sle, %kv, %q : index
  %r = arith.select %le, %y, %ninf : f32
  return %r : f32
}
func.func @k(%t: tensor<64x64xf32>, %i: index) -> tensor<64x64xf32> attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 64, block_kv = 64, warps = 4, stages = 2, mma = "wgmma", copy = "tma">} {
  %m = attn.tile_map %t at(%i, %i, %i, %i) {
  ^bb0(%x: f32, %b: index, %h: index, %q: index, %kv: index):
    %r = func.call @causal(%x, %b, %h, %q, %kv) : (f32, index, index, index, index) -> f32
    attn.yield %r : f32
  } : tensor<64x64xf32>
  return %m : tensor<64x64xf32>
}

// -----

// The window as attn-isolate-kv-bounds leaves it (q, sk, sq, kv with their
// launch ranges, the parameter clamped to +-2^41): the lower bound
// r - w becomes a saturating i32 subtraction of w clamped to i32, exact
// for every w since r stays far enough inside i32 (kv in [0, 2^29 +
// 1024]); both bound functions return i32.

// CHECK-LABEL: func.func private @ranged_kv_first(
// CHECK-SAME:      %[[Q:[^:]*]]: index {attn.range = array<i64: 0, 536871936>}, %{{[^:]*}}: index {attn.kv_position, attn.range = array<i64: 0, 536871936>}, %[[SK:[^:]*]]: index {attn.range = array<i64: 0, 536870912>}, %[[SQ:[^:]*]]: index {attn.range = array<i64: 0, 536870912>}, %[[W:[^:]*]]: index) -> i32
// CHECK:         %[[R1:.*]] = arith.addi %[[Q]], %[[SK]] : index
// CHECK:         %[[R:.*]] = arith.subi %[[R1]], %[[SQ]] : index
// CHECK:         %[[WLO:.*]] = arith.maxsi %[[W]], %c-2147483648 : index
// CHECK:         %[[WHI:.*]] = arith.minsi %[[WLO]], %c2147483647 : index
// CHECK:         %[[W32:.*]] = arith.index_cast %[[WHI]] : index to i32
// CHECK:         %[[R32:.*]] = arith.index_cast %[[R]] : index to i32
// CHECK:         %[[LO:.*]] = attn.sub_sat %[[R32]], %[[W32]] : i32
// CHECK-NOT:     arith.subi
// CHECK:         return {{.*}} : i32
// CHECK-LABEL: func.func private @ranged_kv_last(
// CHECK-SAME:      -> i32
// CHECK-NOT:     attn.sub_sat
// CHECK:         arith.minsi
// CHECK-LABEL: func.func private @ranged(
// CHECK-SAME:      attn.kv_first = @ranged_kv_first, attn.kv_last = @ranged_kv_last
func.func private @ranged(%s: f32, %b: index, %h: index,
                          %q: index {attn.range = array<i64: 0, 536871936>},
                          %kv: index {attn.kv_position, attn.range = array<i64: 0, 536871936>},
                          %sk: index {attn.range = array<i64: 0, 536870912>},
                          %sq: index {attn.range = array<i64: 0, 536870912>},
                          %w: index) -> f32 attributes {attn.device_function} {
  %ninf = arith.constant 0xFF800000 : f32
  %c1 = arith.constant 1 : index
  %lo_clamp = arith.constant -2199023255552 : index
  %hi_clamp = arith.constant 2199023255552 : index
  %w0 = arith.maxsi %w, %lo_clamp : index
  %wc = arith.minsi %w0, %hi_clamp : index
  %r1 = arith.addi %q, %sk : index
  %r = arith.subi %r1, %sq : index
  %lower = arith.subi %r, %wc : index
  %last = arith.subi %sk, %c1 : index
  %upper = arith.minsi %r, %last : index
  %ge = arith.cmpi sge, %kv, %lower : index
  %le = arith.cmpi sle, %kv, %upper : index
  %in = arith.andi %ge, %le : i1
  %res = arith.select %in, %s, %ninf : f32
  return %res : f32
}
func.func @k(%t: tensor<64x64xf32>, %i: index, %n: index, %w: index) -> tensor<64x64xf32> attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 64, block_kv = 64, warps = 4, stages = 2, mma = "wgmma", copy = "tma">} {
  %m = attn.tile_map %t at(%i, %i, %i, %i) {
  ^bb0(%x: f32, %b: index, %h: index, %q: index, %kv: index):
    %r = func.call @ranged(%x, %b, %h, %q, %kv, %n, %n, %w) : (f32, index, index, index, index, index, index, index) -> f32
    attn.yield %r : f32
  } : tensor<64x64xf32>
  return %m : tensor<64x64xf32>
}

// -----

// An upper bound q + w (a right window) becomes a saturating addition; the
// same clamp with q unranged, or with the sum used other than through min /
// max / small shifts (here doubled), stays 64-bit and the function returns
// index.

// CHECK-LABEL: func.func private @right_kv_last(
// CHECK-SAME:      -> i32
// CHECK:         arith.maxsi %{{.*}}, %c-2147483648 : index
// CHECK:         arith.minsi %{{.*}}, %c2147483647 : index
// CHECK:         attn.add_sat %{{.*}}, %{{.*}} : i32
// CHECK-LABEL: func.func private @right(
// CHECK-LABEL: func.func private @unranged_kv_last(
// CHECK-SAME:      -> index
// CHECK-NOT:     attn.add_sat
// CHECK:         arith.addi
// CHECK-LABEL: func.func private @unranged(
// CHECK-LABEL: func.func private @doubled_kv_last(
// CHECK-SAME:      -> index
// CHECK-NOT:     attn.add_sat
// CHECK:         arith.muli
func.func private @right(%s: f32, %b: index, %h: index,
                         %q: index {attn.range = array<i64: 0, 536871936>},
                         %kv: index {attn.kv_position, attn.range = array<i64: 0, 536871936>},
                         %w: index) -> f32 attributes {attn.device_function} {
  %ninf = arith.constant 0xFF800000 : f32
  %lo_clamp = arith.constant -2199023255552 : index
  %hi_clamp = arith.constant 2199023255552 : index
  %w0 = arith.maxsi %w, %lo_clamp : index
  %wc = arith.minsi %w0, %hi_clamp : index
  %upper = arith.addi %q, %wc : index
  %le = arith.cmpi sle, %kv, %upper : index
  %res = arith.select %le, %s, %ninf : f32
  return %res : f32
}
func.func private @unranged(%s: f32, %b: index, %h: index, %q: index,
                            %kv: index {attn.kv_position, attn.range = array<i64: 0, 536871936>},
                            %w: index) -> f32 attributes {attn.device_function} {
  %ninf = arith.constant 0xFF800000 : f32
  %lo_clamp = arith.constant -2199023255552 : index
  %hi_clamp = arith.constant 2199023255552 : index
  %w0 = arith.maxsi %w, %lo_clamp : index
  %wc = arith.minsi %w0, %hi_clamp : index
  %upper = arith.addi %q, %wc : index
  %le = arith.cmpi sle, %kv, %upper : index
  %res = arith.select %le, %s, %ninf : f32
  return %res : f32
}
func.func private @doubled(%s: f32, %b: index, %h: index,
                           %q: index {attn.range = array<i64: 0, 536871936>},
                           %kv: index {attn.kv_position, attn.range = array<i64: 0, 536871936>},
                           %w: index) -> f32 attributes {attn.device_function} {
  %ninf = arith.constant 0xFF800000 : f32
  %c2 = arith.constant 2 : index
  %lo_clamp = arith.constant -2199023255552 : index
  %hi_clamp = arith.constant 2199023255552 : index
  %w0 = arith.maxsi %w, %lo_clamp : index
  %wc = arith.minsi %w0, %hi_clamp : index
  %sum = arith.addi %q, %wc : index
  %upper = arith.muli %sum, %c2 : index
  %le = arith.cmpi sle, %kv, %upper : index
  %res = arith.select %le, %s, %ninf : f32
  return %res : f32
}
func.func @k(%t: tensor<64x64xf32>, %i: index, %w: index) -> tensor<64x64xf32> attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 64, block_kv = 64, warps = 4, stages = 2, mma = "wgmma", copy = "tma">} {
  %m = attn.tile_map %t at(%i, %i, %i, %i) {
  ^bb0(%x: f32, %b: index, %h: index, %q: index, %kv: index):
    %r = func.call @right(%x, %b, %h, %q, %kv, %w) : (f32, index, index, index, index, index) -> f32
    attn.yield %r : f32
  } : tensor<64x64xf32>
  %n = attn.tile_map %m at(%i, %i, %i, %i) {
  ^bb0(%x: f32, %b: index, %h: index, %q: index, %kv: index):
    %r = func.call @unranged(%x, %b, %h, %q, %kv, %w) : (f32, index, index, index, index, index) -> f32
    attn.yield %r : f32
  } : tensor<64x64xf32>
  %o = attn.tile_map %n at(%i, %i, %i, %i) {
  ^bb0(%x: f32, %b: index, %h: index, %q: index, %kv: index):
    %r = func.call @doubled(%x, %b, %h, %q, %kv, %w) : (f32, index, index, index, index, index) -> f32
    attn.yield %r : f32
  } : tensor<64x64xf32>
  return %o : tensor<64x64xf32>
}

// -----

// Left alone: a mask with a term that is not a bound (document ids), and
// the same window in a kernel that is not a TMA kernel.

// CHECK-LABEL: func.func private @documents(
// CHECK-NOT:     attn.kv_first
// CHECK:         arith.cmpi eq
// CHECK:         arith.select
// CHECK-NOT:     attn.kv_bounds
func.func private @documents(%s: f32, %b: index, %h: index, %q: index,
                             %kv: index {attn.kv_position}, %dq: index, %dk: index) -> f32
    attributes {attn.device_function} {
  %ninf = arith.constant 0xFF800000 : f32
  %le = arith.cmpi sle, %kv, %q : index
  %same = arith.cmpi eq, %dq, %dk : index
  %in = arith.andi %le, %same : i1
  %r = arith.select %in, %s, %ninf : f32
  return %r : f32
}
func.func @k(%t: tensor<64x64xf32>, %i: index) -> tensor<64x64xf32> attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 64, block_kv = 64, warps = 4, stages = 2, mma = "wgmma", copy = "tma">} {
  %m = attn.tile_map %t at(%i, %i, %i, %i) {
  ^bb0(%x: f32, %b: index, %h: index, %q: index, %kv: index):
    %r = func.call @documents(%x, %b, %h, %q, %kv, %i, %i) : (f32, index, index, index, index, index, index) -> f32
    attn.yield %r : f32
  } : tensor<64x64xf32>
  return %m : tensor<64x64xf32>
}

// -----

// CHECK-LABEL: func.func private @window_cp_async(
// CHECK-NOT:     attn.kv_first
// CHECK:         arith.cmpi sge
// CHECK-NOT:     attn.kv_bounds
func.func private @window_cp_async(%s: f32, %b: index, %h: index, %q: index,
                                   %kv: index {attn.kv_position}) -> f32
    attributes {attn.device_function} {
  %ninf = arith.constant 0xFF800000 : f32
  %ge = arith.cmpi sge, %kv, %q : index
  %r = arith.select %ge, %s, %ninf : f32
  return %r : f32
}
func.func @k(%t: tensor<64x64xf32>, %i: index) -> tensor<64x64xf32> attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 64, block_kv = 64, warps = 4, stages = 2, mma = "mma_sync", copy = "cp_async">} {
  %m = attn.tile_map %t at(%i, %i, %i, %i) {
  ^bb0(%x: f32, %b: index, %h: index, %q: index, %kv: index):
    %r = func.call @window_cp_async(%x, %b, %h, %q, %kv) : (f32, index, index, index, index) -> f32
    attn.yield %r : f32
  } : tensor<64x64xf32>
  return %m : tensor<64x64xf32>
}

// -----

// Left alone: F also called outside a tile_map (the split F would lose
// its bounds there), and a select whose other value is not -inf.

// CHECK-LABEL: func.func private @shared(
// CHECK-NOT:     attn.kv_first
// CHECK:         arith.cmpi sle
// CHECK-LABEL: func.func private @not_masked(
// CHECK-NOT:     attn.kv_first
// CHECK:         arith.cmpi sle
// CHECK-LABEL: func.func @k(
// CHECK-NOT:     attn.kv_bounds
func.func private @shared(%s: f32, %b: index, %h: index, %q: index,
                          %kv: index {attn.kv_position}) -> f32
    attributes {attn.device_function} {
  %ninf = arith.constant 0xFF800000 : f32
  %le = arith.cmpi sle, %kv, %q : index
  %r = arith.select %le, %s, %ninf : f32
  return %r : f32
}
func.func private @not_masked(%s: f32, %b: index, %h: index, %q: index,
                              %kv: index {attn.kv_position}) -> f32
    attributes {attn.device_function} {
  %zero = arith.constant 0.0 : f32
  %le = arith.cmpi sle, %kv, %q : index
  %r = arith.select %le, %s, %zero : f32
  return %r : f32
}
func.func @k(%t: tensor<64x64xf32>, %i: index, %x: f32) -> (tensor<64x64xf32>, f32) attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 64, block_kv = 64, warps = 4, stages = 2, mma = "wgmma", copy = "tma">} {
  %m = attn.tile_map %t at(%i, %i, %i, %i) {
  ^bb0(%y: f32, %b: index, %h: index, %q: index, %kv: index):
    %r = func.call @shared(%y, %b, %h, %q, %kv) : (f32, index, index, index, index) -> f32
    attn.yield %r : f32
  } : tensor<64x64xf32>
  %n = attn.tile_map %m at(%i, %i, %i, %i) {
  ^bb0(%y: f32, %b: index, %h: index, %q: index, %kv: index):
    %r = func.call @not_masked(%y, %b, %h, %q, %kv) : (f32, index, index, index, index) -> f32
    attn.yield %r : f32
  } : tensor<64x64xf32>
  %one = func.call @shared(%x, %i, %i, %i, %i) : (f32, index, index, index, index) -> f32
  return %n, %one : tensor<64x64xf32>, f32
}

// -----

// bands-only (the pipeline's default): only a mask whose two bounds both
// read the tile_map's q position is split (a band: the window; chunks of
// 100 with 64-row tiles); a lower bound free of q (a fixed first column),
// none (causal), a chunk start aligned to the tiles (chunks of 128: they
// never cut a block) or no upper bound (a window open to the right) is
// left alone. Without the option all six are split.

// CHECK-DAG:     func.func private @band_kv_first(
// CHECK-DAG:     func.func private @fixed_lower_kv_first(
// CHECK-DAG:     func.func private @upper_only_kv_first(
// CHECK-DAG:     func.func private @chunk100_kv_first(
// CHECK-DAG:     func.func private @chunk128_kv_first(
// CHECK-DAG:     func.func private @lower_only_kv_first(
// BANDS-NOT:     @lower_only_kv_first
// BANDS-NOT:     @fixed_lower_kv_first
// BANDS-NOT:     @upper_only_kv_first
// BANDS-NOT:     @chunk128_kv_first
// BANDS-LABEL:   func.func private @band_kv_first(
// BANDS-NOT:     @fixed_lower_kv_first
// BANDS-NOT:     @upper_only_kv_first
// BANDS-NOT:     @chunk128_kv_first
// BANDS-LABEL:   func.func private @chunk100_kv_first(
// BANDS-NOT:     @fixed_lower_kv_first
// BANDS-NOT:     @upper_only_kv_first
// BANDS-NOT:     @chunk128_kv_first
// BANDS-NOT:     @lower_only_kv_first
// BANDS-LABEL:   func.func @k3(
// BANDS:         attn.tile_map {{.*}} attributes {attn.kv_bounds = [@band_kv_first, @band_kv_last]}
// BANDS:         func.call @fixed_lower(
// BANDS-NEXT:    attn.yield
// BANDS-NEXT:    } : tensor<64x64xf32>
// BANDS:         func.call @upper_only(
// BANDS-NEXT:    attn.yield
// BANDS-NEXT:    } : tensor<64x64xf32>
// BANDS:         attn.tile_map {{.*}} attributes {attn.kv_bounds = [@chunk100_kv_first, @chunk100_kv_last]}
// BANDS:         func.call @chunk128(
// BANDS-NEXT:    attn.yield
// BANDS-NEXT:    } : tensor<64x64xf32>
// BANDS:         func.call @lower_only(
// BANDS-NEXT:    attn.yield
// BANDS-NEXT:    } : tensor<64x64xf32>
func.func private @band(%s: f32, %b: index, %h: index, %q: index,
                        %kv: index {attn.kv_position}, %w: index) -> f32
    attributes {attn.device_function} {
  %ninf = arith.constant 0xFF800000 : f32
  %lo = arith.subi %q, %w : index
  %ge = arith.cmpi sge, %kv, %lo : index
  %le = arith.cmpi sle, %kv, %q : index
  %in = arith.andi %ge, %le : i1
  %r = arith.select %in, %s, %ninf : f32
  return %r : f32
}
func.func private @fixed_lower(%s: f32, %b: index, %h: index, %q: index,
                               %kv: index {attn.kv_position}, %w: index) -> f32
    attributes {attn.device_function} {
  %ninf = arith.constant 0xFF800000 : f32
  %ge = arith.cmpi sge, %kv, %w : index
  %le = arith.cmpi sle, %kv, %q : index
  %in = arith.andi %ge, %le : i1
  %r = arith.select %in, %s, %ninf : f32
  return %r : f32
}
func.func private @upper_only(%s: f32, %b: index, %h: index, %q: index,
                              %kv: index {attn.kv_position}) -> f32
    attributes {attn.device_function} {
  %ninf = arith.constant 0xFF800000 : f32
  %le = arith.cmpi sle, %kv, %q : index
  %r = arith.select %le, %s, %ninf : f32
  return %r : f32
}
func.func private @chunk100(%s: f32, %b: index, %h: index, %q: index,
                            %kv: index {attn.kv_position}) -> f32
    attributes {attn.device_function} {
  %ninf = arith.constant 0xFF800000 : f32
  %c = arith.constant 100 : index
  %d = arith.floordivsi %q, %c : index
  %lo = arith.muli %d, %c : index
  %ge = arith.cmpi sge, %kv, %lo : index
  %le = arith.cmpi sle, %kv, %q : index
  %in = arith.andi %ge, %le : i1
  %r = arith.select %in, %s, %ninf : f32
  return %r : f32
}
func.func private @chunk128(%s: f32, %b: index, %h: index, %q: index,
                            %kv: index {attn.kv_position}) -> f32
    attributes {attn.device_function} {
  %ninf = arith.constant 0xFF800000 : f32
  %c = arith.constant 128 : index
  %d = arith.floordivsi %q, %c : index
  %lo = arith.muli %d, %c : index
  %ge = arith.cmpi sge, %kv, %lo : index
  %le = arith.cmpi sle, %kv, %q : index
  %in = arith.andi %ge, %le : i1
  %r = arith.select %in, %s, %ninf : f32
  return %r : f32
}
func.func private @lower_only(%s: f32, %b: index, %h: index, %q: index,
                              %kv: index {attn.kv_position}, %w: index) -> f32
    attributes {attn.device_function} {
  %ninf = arith.constant 0xFF800000 : f32
  %lo = arith.subi %q, %w : index
  %ge = arith.cmpi sge, %kv, %lo : index
  %r = arith.select %ge, %s, %ninf : f32
  return %r : f32
}
func.func @k3(%t: tensor<64x64xf32>, %i: index, %w: index) -> (tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>) attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 64, block_kv = 64, warps = 4, stages = 2, mma = "wgmma", copy = "tma">} {
  %a = attn.tile_map %t at(%i, %i, %i, %i) {
  ^bb0(%x: f32, %b: index, %h: index, %q: index, %kv: index):
    %r = func.call @band(%x, %b, %h, %q, %kv, %w) : (f32, index, index, index, index, index) -> f32
    attn.yield %r : f32
  } : tensor<64x64xf32>
  %f = attn.tile_map %t at(%i, %i, %i, %i) {
  ^bb0(%x: f32, %b: index, %h: index, %q: index, %kv: index):
    %r = func.call @fixed_lower(%x, %b, %h, %q, %kv, %w) : (f32, index, index, index, index, index) -> f32
    attn.yield %r : f32
  } : tensor<64x64xf32>
  %u = attn.tile_map %t at(%i, %i, %i, %i) {
  ^bb0(%x: f32, %b: index, %h: index, %q: index, %kv: index):
    %r = func.call @upper_only(%x, %b, %h, %q, %kv) : (f32, index, index, index, index) -> f32
    attn.yield %r : f32
  } : tensor<64x64xf32>
  %c1 = attn.tile_map %t at(%i, %i, %i, %i) {
  ^bb0(%x: f32, %b: index, %h: index, %q: index, %kv: index):
    %r = func.call @chunk100(%x, %b, %h, %q, %kv) : (f32, index, index, index, index) -> f32
    attn.yield %r : f32
  } : tensor<64x64xf32>
  %c2 = attn.tile_map %t at(%i, %i, %i, %i) {
  ^bb0(%x: f32, %b: index, %h: index, %q: index, %kv: index):
    %r = func.call @chunk128(%x, %b, %h, %q, %kv) : (f32, index, index, index, index) -> f32
    attn.yield %r : f32
  } : tensor<64x64xf32>
  %lw = attn.tile_map %t at(%i, %i, %i, %i) {
  ^bb0(%x: f32, %b: index, %h: index, %q: index, %kv: index):
    %r = func.call @lower_only(%x, %b, %h, %q, %kv, %w) : (f32, index, index, index, index, index) -> f32
    attn.yield %r : f32
  } : tensor<64x64xf32>
  return %a, %f, %u, %c1, %c2, %lw : tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>
}

// -----

// A chunk start that is a multiple of block_kv (64) but not of block_q
// (128) changes inside a q tile, so the tile's blocks at a chunk start are
// masked for some rows: a band, split with bands-only too.

// BANDS-LABEL:   func.func private @chunk64_kv_first(
// BANDS-LABEL:   func.func @k4(
// BANDS:         attn.tile_map {{.*}} attributes {attn.kv_bounds = [@chunk64_kv_first, @chunk64_kv_last]}
func.func private @chunk64(%s: f32, %b: index, %h: index, %q: index,
                           %kv: index {attn.kv_position}) -> f32
    attributes {attn.device_function} {
  %ninf = arith.constant 0xFF800000 : f32
  %c = arith.constant 64 : index
  %d = arith.floordivsi %q, %c : index
  %lo = arith.muli %d, %c : index
  %ge = arith.cmpi sge, %kv, %lo : index
  %le = arith.cmpi sle, %kv, %q : index
  %in = arith.andi %ge, %le : i1
  %r = arith.select %in, %s, %ninf : f32
  return %r : f32
}
func.func @k4(%t: tensor<128x64xf32>, %i: index) -> tensor<128x64xf32> attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 128, block_kv = 64, warps = 8, stages = 2, mma = "wgmma", copy = "tma">} {
  %m = attn.tile_map %t at(%i, %i, %i, %i) {
  ^bb0(%x: f32, %b: index, %h: index, %q: index, %kv: index):
    %r = func.call @chunk64(%x, %b, %h, %q, %kv) : (f32, index, index, index, index) -> f32
    attn.yield %r : f32
  } : tensor<128x64xf32>
  return %m : tensor<128x64xf32>
}

// -----

// A chunk given at launch (attn-isolate-kv-bounds's bound: %d·(q / %d) and
// clamps): whether its starts cut tiles is known only at run time, and the
// usual sizes are multiples of the tiles, where row bounds lost 4% (one
// masked block a program, as causal; docs/performance.md item 77): not a
// band. Without bands-only it is split like every bounds-only mask.

// CHECK-LABEL:   func.func private @runtime_chunk_kv_first(
// CHECK:         func.func @k5(
// CHECK:         attn.tile_map {{.*}} attributes {attn.kv_bounds = [@runtime_chunk_kv_first, @runtime_chunk_kv_last]}
// BANDS-NOT:     @runtime_chunk_kv_first
// BANDS-LABEL:   func.func @k5(
// BANDS:         func.call @runtime_chunk(
// BANDS-NEXT:    attn.yield
func.func private @runtime_chunk(%s: f32, %b: index, %h: index, %q: index,
                                 %kv: index {attn.kv_position}, %d: index) -> f32
    attributes {attn.device_function} {
  %ninf = arith.constant 0xFF800000 : f32
  %x = arith.floordivsi %q, %d : index
  %start = arith.muli %d, %x : index
  %ge = arith.cmpi sge, %kv, %start : index
  %le = arith.cmpi sle, %kv, %q : index
  %in = arith.andi %ge, %le : i1
  %r = arith.select %in, %s, %ninf : f32
  return %r : f32
}
func.func @k5(%t: tensor<128x128xf32>, %i: index, %d: index) -> tensor<128x128xf32> attributes {attn.kernel, attn.tiling = #attn.tiling<block_q = 128, block_kv = 128, warps = 8, stages = 2, mma = "wgmma", copy = "tma">} {
  %a = attn.tile_map %t at(%i, %i, %i, %i) {
  ^bb0(%x: f32, %b: index, %h: index, %q: index, %kv: index):
    %r = func.call @runtime_chunk(%x, %b, %h, %q, %kv, %d) : (f32, index, index, index, index, index) -> f32
    attn.yield %r : f32
  } : tensor<128x128xf32>
  return %a : tensor<128x128xf32>
}
