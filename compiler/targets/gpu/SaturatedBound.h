//===- SaturatedBound.h - when a saturated i32 row bound is exact -*- C++ -*-===//
//
// attn-kv-bounds-in-rows computes a row bound a - u (or a + u), u any int64
// (a run-time parameter), as the saturating i32 subtraction (addition) of u
// clamped to i32, followed by constant shifts of at most `shift` in total.
// That keeps every compare of the bound with kv in [kvLo, kvHi] when:
//  - a fits i32 and the kv range lies inside i32 with room for the shifts;
//  - a u at or past the i32 range moves the bound past the kv range with
//    the same room (sub: a.hi - INT32_MAX + shift < kvLo and
//    a.lo - INT32_MIN - shift > kvHi; add mirrored).
// Then a true bound past i32 saturates to a value still past the kv range
// on its side after the shifts, and min / max with other bounds keep every
// compare. MLIR-free so the unit test checks the same predicate
// (tests/unit/SaturatedBoundTest.cpp).
//
//===----------------------------------------------------------------------===//
#ifndef FAOPT_COMPILER_TARGETS_GPU_SATURATEDBOUND_H
#define FAOPT_COMPILER_TARGETS_GPU_SATURATEDBOUND_H

#include <cstdint>

namespace faopt::gpu {

inline bool saturatedBoundIsExact(bool isSub, __int128 aLo, __int128 aHi,
                                  int64_t shift, int64_t kvLo, int64_t kvHi) {
  const __int128 lo32 = INT32_MIN, hi32 = INT32_MAX, s = shift;
  if (shift < 0 || aLo < lo32 || aHi > hi32 || kvLo > kvHi ||
      kvLo - s <= lo32 || kvHi + s >= hi32)
    return false;
  return isSub ? aHi - hi32 + s < kvLo && aLo - lo32 - s > kvHi
               : aLo + hi32 - s > kvHi && aHi + lo32 + s < kvLo;
}

} // namespace faopt::gpu

#endif // FAOPT_COMPILER_TARGETS_GPU_SATURATEDBOUND_H
