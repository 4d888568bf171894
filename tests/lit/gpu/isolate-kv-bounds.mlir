// RUN: faopt-opt %s --attn-isolate-kv-bounds --split-input-file | FileCheck %s

// A bottom-right sliding window, r = q + sk - sq: four terms become one
// lower and one upper bound per row. The window w is a parameter (no range):
// it is clamped to +-2^41 first, which cannot change the compare.

// CHECK-LABEL: func.func private @window(
// CHECK-SAME:      %[[S:[^:]*]]: f32, %{{[^:]*}}: index {{.*}}, %{{[^:]*}}: index {{.*}}, %[[Q:[^:]*]]: index {{.*}}, %[[KV:[^:]*]]: index {{.*}}, %[[SK:[^:]*]]: index {{.*}}, %[[SQ:[^:]*]]: index {{.*}}, %[[W:[^:]*]]: index)
// CHECK:         %[[WLO:.*]] = arith.maxsi %[[W]], %c-2199023255552 : index
// CHECK:         %[[WC:.*]] = arith.minsi %[[WLO]], %c2199023255552 : index
// CHECK:         %[[R1:.*]] = arith.addi %[[Q]], %[[SK]] : index
// CHECK:         %[[R:.*]] = arith.subi %[[R1]], %[[SQ]] : index
// CHECK:         %[[LOWER:.*]] = arith.subi %[[R]], %[[WC]] : index
// CHECK:         %[[LAST:.*]] = arith.subi %[[SK]], %c1 : index
// CHECK:         %[[UPPER:.*]] = arith.minsi %[[R]], %[[LAST]] : index
// CHECK:         %[[GE:.*]] = arith.cmpi sge, %[[KV]], %[[LOWER]] : index
// CHECK:         %[[LE:.*]] = arith.cmpi sle, %[[KV]], %[[UPPER]] : index
// CHECK:         %[[M:.*]] = arith.andi %[[GE]], %[[LE]] : i1
// CHECK:         arith.select %[[M]], %[[S]], %{{.*}} : f32
// CHECK-NOT:     arith.cmpi
func.func private @window(%s: f32, %b: index {attn.range = array<i64: 0, 2147483647>},
                          %h: index {attn.range = array<i64: 0, 2147483647>},
                          %q: index {attn.range = array<i64: 0, 536871936>},
                          %kv: index {attn.kv_position, attn.range = array<i64: 0, 536871936>},
                          %sk: index {attn.range = array<i64: 0, 536870912>},
                          %sq: index {attn.range = array<i64: 0, 536870912>},
                          %w: index) -> f32 attributes {attn.device_function} {
  %c0 = arith.constant 0 : index
  %ninf = arith.constant 0xFF800000 : f32
  %r1 = arith.addi %q, %sk : index
  %r = arith.subi %r1, %sq : index
  %causal = arith.cmpi sge, %r, %kv : index
  %d = arith.subi %r, %kv : index
  %in = arith.cmpi sle, %d, %w : index
  %d2 = arith.subi %kv, %r : index
  %right = arith.cmpi sle, %d2, %c0 : index
  %bound = arith.cmpi slt, %kv, %sk : index
  %m0 = arith.andi %causal, %in : i1
  %m1 = arith.andi %m0, %right : i1
  %m = arith.andi %m1, %bound : i1
  %out = arith.select %m, %s, %ninf : f32
  return %out : f32
}

// -----

// Prefix-LM: (kv < p || kv <= q) is one upper bound, max(p - 1, q); with
// kv < sk it is min(that, sk - 1): three compares become one.

// CHECK-LABEL: func.func private @prefix(
// CHECK-SAME:      %[[S:[^:]*]]: f32, %[[Q:[^:]*]]: index {{.*}}, %[[KV:[^:]*]]: index {{.*}}, %[[SK:[^:]*]]: index {{.*}}, %[[P:[^:]*]]: index)
// CHECK:         %[[PLO:.*]] = arith.maxsi %[[P]], %c-2199023255552 : index
// CHECK:         %[[PC:.*]] = arith.minsi %[[PLO]], %c2199023255552 : index
// CHECK:         %[[PLAST:.*]] = arith.subi %[[PC]], %c1 : index
// CHECK:         %[[EITHER:.*]] = arith.maxsi %[[PLAST]], %[[Q]] : index
// CHECK:         %[[LAST:.*]] = arith.subi %[[SK]], %c1{{.*}} : index
// CHECK:         %[[UPPER:.*]] = arith.minsi %[[EITHER]], %[[LAST]] : index
// CHECK:         %[[LE:.*]] = arith.cmpi sle, %[[KV]], %[[UPPER]] : index
// CHECK:         arith.select %[[LE]], %[[S]], %{{.*}} : f32
// CHECK-NOT:     arith.cmpi
func.func private @prefix(%s: f32, %q: index {attn.range = array<i64: 0, 536871936>},
                          %kv: index {attn.kv_position, attn.range = array<i64: 0, 536871936>},
                          %sk: index {attn.range = array<i64: 0, 536870912>},
                          %p: index) -> f32 attributes {attn.device_function} {
  %ninf = arith.constant 0xFF800000 : f32
  %inprefix = arith.cmpi slt, %kv, %p : index
  %causal = arith.cmpi sge, %q, %kv : index
  %either = arith.ori %inprefix, %causal : i1
  %bound = arith.cmpi slt, %kv, %sk : index
  %m = arith.andi %either, %bound : i1
  %out = arith.select %m, %s, %ninf : f32
  return %out : f32
}

// -----

// Document ids: the id compare is not a bound and stays; q >= kv and
// kv < sk merge into kv <= min(q, sk - 1).

// CHECK-LABEL: func.func private @document(
// CHECK-SAME:      %[[S:[^:]*]]: f32, %[[Q:[^:]*]]: index {{.*}}, %[[KV:[^:]*]]: index {{.*}}, %[[SK:[^:]*]]: index {{.*}}, %[[IDS:[^:]*]]: memref<?xi32>)
// CHECK:         %[[X:.*]] = memref.load %[[IDS]][%[[Q]]]
// CHECK:         %[[Y:.*]] = memref.load %[[IDS]][%[[KV]]]
// CHECK:         %[[SAME:.*]] = arith.cmpi eq, %[[X]], %[[Y]] : i32
// CHECK:         %[[LAST:.*]] = arith.subi %[[SK]], %c1 : index
// CHECK:         %[[UPPER:.*]] = arith.minsi %[[Q]], %[[LAST]] : index
// CHECK:         %[[LE:.*]] = arith.cmpi sle, %[[KV]], %[[UPPER]] : index
// CHECK:         %[[M:.*]] = arith.andi %[[LE]], %[[SAME]] : i1
// CHECK:         arith.select %[[M]], %[[S]], %{{.*}} : f32
func.func private @document(%s: f32, %q: index {attn.range = array<i64: 0, 536871936>},
                            %kv: index {attn.kv_position, attn.range = array<i64: 0, 536871936>},
                            %sk: index {attn.range = array<i64: 0, 536870912>},
                            %ids: memref<?xi32>) -> f32 attributes {attn.device_function} {
  %ninf = arith.constant 0xFF800000 : f32
  %x = memref.load %ids[%q] : memref<?xi32>
  %y = memref.load %ids[%kv] : memref<?xi32>
  %same = arith.cmpi eq, %x, %y : i32
  %causal = arith.cmpi sge, %q, %kv : index
  %m0 = arith.andi %causal, %same : i1
  %bound = arith.cmpi slt, %kv, %sk : index
  %m = arith.andi %m0, %bound : i1
  %out = arith.select %m, %s, %ninf : f32
  return %out : f32
}

// -----

// What stays: kv times 2; a term with two values without a range (p, t);
// an || of a lower and an upper bound (not an interval); `ne`; a compare
// with another user (the tree stops there). With no two bounds to merge
// and none to rearrange, the tree is left as it was.

// CHECK-LABEL: func.func private @kept(
// CHECK-SAME:      %{{[^:]*}}: f32, %[[Q:[^:]*]]: index {{.*}}, %[[KV:[^:]*]]: index {{.*}}, %[[SK:[^:]*]]: index {{.*}}, %[[P:[^:]*]]: index, %[[T:[^:]*]]: index)
// CHECK:         %[[TWICE:.*]] = arith.muli %[[KV]], %c2 : index
// CHECK:         arith.cmpi sle, %[[TWICE]], %[[Q]] : index
// CHECK:         %[[D0:.*]] = arith.subi %[[KV]], %[[P]] : index
// CHECK:         %[[D:.*]] = arith.subi %[[D0]], %[[T]] : index
// CHECK:         arith.cmpi slt, %[[D]], %[[Q]] : index
// CHECK:         arith.ori
// CHECK:         arith.cmpi ne, %[[KV]], %[[Q]] : index
// CHECK:         %[[SHARED:.*]] = arith.cmpi sle, %[[KV]], %[[Q]] : index
// CHECK-NOT:     arith.maxsi
// CHECK-NOT:     arith.minsi
// CHECK-NOT:     arith.subi %[[SK]]
// CHECK:         return %{{.*}}, %[[SHARED]] : f32, i1
func.func private @kept(%s: f32, %q: index {attn.range = array<i64: 0, 536871936>},
                        %kv: index {attn.kv_position, attn.range = array<i64: 0, 536871936>},
                        %sk: index {attn.range = array<i64: 0, 536870912>},
                        %p: index, %t: index) -> (f32, i1) attributes {attn.device_function} {
  %c2 = arith.constant 2 : index
  %ninf = arith.constant 0xFF800000 : f32
  %twice = arith.muli %kv, %c2 : index
  %scaled = arith.cmpi sle, %twice, %q : index
  %d0 = arith.subi %kv, %p : index
  %d = arith.subi %d0, %t : index
  %two = arith.cmpi slt, %d, %q : index
  %lo = arith.cmpi sge, %kv, %q : index
  %hi = arith.cmpi slt, %kv, %sk : index
  %band = arith.ori %lo, %hi : i1
  %ne = arith.cmpi ne, %kv, %q : index
  %shared = arith.cmpi sle, %kv, %q : index
  %m0 = arith.andi %scaled, %two : i1
  %m1 = arith.andi %m0, %band : i1
  %m2 = arith.andi %m1, %ne : i1
  %m = arith.andi %m2, %shared : i1
  %out = arith.select %m, %s, %ninf : f32
  return %out, %shared : f32, i1
}

// -----

// Chunked attention: floor(q / 128) == floor(kv / 128) is
// 128·X <= kv <= 128·X + 127 with X = floor(q / 128); with q >= kv the upper
// bound is min(q, 128·X + 127).

// CHECK-LABEL: func.func private @chunked(
// CHECK-SAME:      %[[S:[^:]*]]: f32, %[[Q:[^:]*]]: index {{.*}}, %[[KV:[^:]*]]: index {{.*}})
// CHECK:         %[[X:.*]] = arith.floordivsi %[[Q]], %c128
// CHECK:         %[[START:.*]] = arith.muli %[[X]], %c128
// CHECK:         %[[END:.*]] = arith.addi %[[START]], %c127
// CHECK:         %[[UPPER:.*]] = arith.minsi %[[Q]], %[[END]]
// CHECK:         %[[GE:.*]] = arith.cmpi sge, %[[KV]], %[[START]] : index
// CHECK:         %[[LE:.*]] = arith.cmpi sle, %[[KV]], %[[UPPER]] : index
// CHECK:         %[[M:.*]] = arith.andi %[[GE]], %[[LE]] : i1
// CHECK:         arith.select %[[M]], %[[S]], %{{.*}} : f32
// CHECK-NOT:     arith.floordivsi %[[KV]]
func.func private @chunked(%s: f32, %q: index {attn.range = array<i64: 0, 536871936>},
                           %kv: index {attn.kv_position, attn.range = array<i64: 0, 536871936>}) -> f32 attributes {attn.device_function} {
  %c128 = arith.constant 128 : index
  %ninf = arith.constant 0xFF800000 : f32
  %causal = arith.cmpi sge, %q, %kv : index
  %x = arith.floordivsi %q, %c128 : index
  %y = arith.floordivsi %kv, %c128 : index
  %same = arith.cmpi eq, %x, %y : index
  %m = arith.andi %causal, %same : i1
  %out = arith.select %m, %s, %ninf : f32
  return %out : f32
}

// -----

// Chunks whose size %d is given at run time: floor(q / d) == floor(kv / d)
// is d·X + min(0, d + 1) <= kv <= d·X + max(0, d - 1) with X = floor(q / d)
// (either sign of d). d is clamped to +-(max |kv| + 2), which keeps every
// answer (X = q / d needs no clamp: its magnitude is at most q's), and each
// bound to kv's range widened by one, so no division by d is left per
// score.

// CHECK-LABEL: func.func private @chunked_runtime(
// CHECK-SAME:      %[[S:[^:]*]]: f32, %[[Q:[^:]*]]: index {{.*}}, %[[KV:[^:]*]]: index {{.*}}, %[[D:[^:]*]]: index)
// CHECK:         %[[X:.*]] = arith.floordivsi %[[Q]], %[[D]]
// CHECK:         %[[DLO:.*]] = arith.maxsi %[[D]], %c-1026 : index
// CHECK:         %[[DC:.*]] = arith.minsi %[[DLO]], %c1026 : index
// CHECK-NOT:     arith.maxsi %[[X]]
// CHECK:         %[[DX:.*]] = arith.muli %[[DC]], %[[X]] : index
// CHECK:         %[[DP1:.*]] = arith.addi %[[DC]], %c1 : index
// CHECK:         %[[BELOW:.*]] = arith.minsi %[[DP1]], %c0 : index
// CHECK:         %[[DM1:.*]] = arith.subi %[[DC]], %c1 : index
// CHECK:         %[[ABOVE:.*]] = arith.maxsi %[[DM1]], %c0 : index
// CHECK:         %[[LO0:.*]] = arith.addi %[[DX]], %[[BELOW]] : index
// CHECK:         %[[LO1:.*]] = arith.maxsi %[[LO0]], %c-1 : index
// CHECK:         %[[LO:.*]] = arith.minsi %[[LO1]], %c1025 : index
// CHECK:         %[[HI0:.*]] = arith.addi %[[DX]], %[[ABOVE]] : index
// CHECK:         %[[HI1:.*]] = arith.maxsi %[[HI0]], %c-1
// CHECK:         %[[HI:.*]] = arith.minsi %[[HI1]], %c1025
// CHECK:         %[[UPPER:.*]] = arith.minsi %[[Q]], %[[HI]] : index
// CHECK:         %[[GE:.*]] = arith.cmpi sge, %[[KV]], %[[LO]] : index
// CHECK:         %[[LE:.*]] = arith.cmpi sle, %[[KV]], %[[UPPER]] : index
// CHECK:         %[[M:.*]] = arith.andi %[[GE]], %[[LE]] : i1
// CHECK:         arith.select %[[M]], %[[S]], %{{.*}} : f32
// CHECK-NOT:     arith.floordivsi %[[KV]]
func.func private @chunked_runtime(%s: f32, %q: index {attn.range = array<i64: 0, 1024>},
                                   %kv: index {attn.kv_position, attn.range = array<i64: 0, 1024>},
                                   %d: index) -> f32 attributes {attn.device_function} {
  %ninf = arith.constant 0xFF800000 : f32
  %causal = arith.cmpi sge, %q, %kv : index
  %x = arith.floordivsi %q, %d : index
  %y = arith.floordivsi %kv, %d : index
  %same = arith.cmpi eq, %x, %y : index
  %m = arith.andi %causal, %same : i1
  %out = arith.select %m, %s, %ninf : f32
  return %out : f32
}

// -----

// Only == is rewritten for a run-time divisor: an order's side would
// depend on d's sign. A kv range past 2^30 (the product's room) keeps the
// compare too.

// CHECK-LABEL: func.func private @chunked_runtime_kept(
// CHECK:         arith.floordivsi %{{[^,]*}}, %{{.*}} : index
// CHECK:         %[[Y1:.*]] = arith.floordivsi %[[KV1:[^,]*]], %{{.*}} : index
// CHECK:         arith.cmpi sle, %{{.*}}, %[[Y1]] : index
// CHECK:         %[[Y2:.*]] = arith.floordivsi %{{.*}}, %{{.*}} : index
// CHECK:         arith.cmpi eq, %{{.*}}, %[[Y2]] : index
func.func private @chunked_runtime_kept(%s: f32, %q: index {attn.range = array<i64: 0, 1024>},
                                        %kv: index {attn.kv_position, attn.range = array<i64: 0, 1024>},
                                        %wide: index {attn.range = array<i64: 0, 2147483647>},
                                        %d: index) -> f32 attributes {attn.device_function} {
  %ninf = arith.constant 0xFF800000 : f32
  %x = arith.floordivsi %q, %d : index
  %y = arith.floordivsi %kv, %d : index
  %before = arith.cmpi sle, %x, %y : index
  %far = arith.addi %kv, %wide : index
  %z = arith.floordivsi %far, %d : index
  %same = arith.cmpi eq, %x, %z : index
  %m = arith.andi %before, %same : i1
  %out = arith.select %m, %s, %ninf : f32
  return %out : f32
}
