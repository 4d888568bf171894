// The predicate attn-kv-bounds-in-rows uses to compute a row bound a - u
// or a + u (u any int64: a run-time parameter) as a saturating i32 sum with
// u clamped to i32, then constant shifts (compiler/targets/gpu/
// SaturatedBound.h): wherever it holds, every compare of the bound with kv
// in the kv range must keep its answer. Checked over ranges where it just
// holds, both operations, shifts up to the allowed total, and extreme and
// random values; and it must not hold one step past its limits.
#include "compiler/targets/gpu/SaturatedBound.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

namespace {

using faopt::gpu::saturatedBoundIsExact;

int32_t sat32(__int128 v) {
  return v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : int32_t(v);
}

struct Case {
  bool isSub;
  int64_t aLo, aHi, shift;
};

/// Every compare of kv with the exact and the saturated bound, for values
/// of a, u, kv and a shift in [-shift, shift] (applied as the pass allows:
/// after the sum).
void expectExact(const Case &c, int64_t kvLo, int64_t kvHi) {
  std::mt19937_64 rng(15);
  std::vector<int64_t> as = {c.aLo, c.aLo + 1, c.aHi - 1, c.aHi, (c.aLo + c.aHi) / 2};
  std::vector<int64_t> us = {INT64_MIN, -(int64_t(1) << 41) - 1, -(int64_t(1) << 41),
                             INT32_MIN - int64_t(1), INT32_MIN, INT32_MIN + int64_t(1),
                             -1, 0, 1, INT32_MAX - int64_t(1), INT32_MAX,
                             INT32_MAX + int64_t(1), int64_t(1) << 41,
                             (int64_t(1) << 41) + 1, INT64_MAX};
  std::vector<int64_t> kvs = {kvLo, kvLo + 1, kvHi - 1, kvHi};
  for (int i = 0; i < 60; ++i) {
    as.push_back(c.aLo + int64_t(rng() % uint64_t(c.aHi - c.aLo + 1)));
    us.push_back(int64_t(rng()));
    us.push_back(int64_t(rng() % (uint64_t(1) << 34)) - (int64_t(1) << 33));
    kvs.push_back(kvLo + int64_t(rng() % uint64_t(kvHi - kvLo + 1)));
  }
  for (int64_t a : as) {
    // a - kv +- 1 around the range's ends: where a compare flips.
    for (int64_t k : {kvLo, kvHi})
      for (int64_t d : {-1, 0, 1})
        us.push_back(c.isSub ? a - k + d : k - a + d);
  }
  for (int64_t a : as)
    for (int64_t u : us) {
      const __int128 exact = c.isSub ? __int128(a) - u : __int128(a) + u;
      const int32_t u32 = sat32(u);
      const int32_t s = sat32(c.isSub ? __int128(a) - u32 : __int128(a) + u32);
      for (int64_t shift : {-c.shift, int64_t(0), c.shift}) {
        const __int128 e = exact + shift, b = __int128(s) + shift;
        for (int64_t kv : kvs) {
          ASSERT_EQ(kv >= e, kv >= b) << "a " << a << " u " << u << " shift " << shift << " kv " << kv;
          ASSERT_EQ(kv <= e, kv <= b) << "a " << a << " u " << u << " shift " << shift << " kv " << kv;
        }
      }
    }
}

TEST(SaturatedBound, ExactWhereThePredicateHolds) {
  const int64_t kvLo = 0, kvHi = (int64_t(1) << 29) + 1024;
  std::vector<Case> cases;
  // The window's lower bound, r - w with r = q + sk - sq.
  cases.push_back({true, -(int64_t(1) << 29), (int64_t(1) << 30) + 1024, 1});
  for (int64_t shift : {0, 1, 5, 1024}) {
    // The widest ranges the predicate allows, for each operation.
    const int64_t subHi = kvLo + INT32_MAX - shift - 1;
    const int64_t subLo = kvHi + INT32_MIN + shift + 1;
    cases.push_back({true, subLo, subHi, shift});
    const int64_t addLo = kvHi - INT32_MAX + shift + 1;
    const int64_t addHi = kvLo - INT32_MIN - shift - 1;
    cases.push_back({false, addLo, std::min<int64_t>(addHi, INT32_MAX), shift});
  }
  for (const Case &c : cases) {
    ASSERT_TRUE(saturatedBoundIsExact(c.isSub, c.aLo, c.aHi, c.shift, kvLo, kvHi))
        << (c.isSub ? "sub" : "add") << " [" << c.aLo << ", " << c.aHi << "] shift " << c.shift;
    expectExact(c, kvLo, kvHi);
  }
}

TEST(SaturatedBound, HoldsNoFurther) {
  const int64_t kvLo = 0, kvHi = (int64_t(1) << 29) + 1024;
  for (int64_t shift : {0, 5}) {
    const int64_t subHi = kvLo + INT32_MAX - shift - 1;
    const int64_t subLo = kvHi + INT32_MIN + shift + 1;
    EXPECT_FALSE(saturatedBoundIsExact(true, subLo, subHi + 1, shift, kvLo, kvHi));
    EXPECT_FALSE(saturatedBoundIsExact(true, subLo - 1, subHi, shift, kvLo, kvHi));
    const int64_t addLo = kvHi - INT32_MAX + shift + 1;
    EXPECT_FALSE(saturatedBoundIsExact(false, addLo - 1, 0, shift, kvLo, kvHi));
    EXPECT_FALSE(saturatedBoundIsExact(false, 0, kvLo - INT32_MIN - shift, shift, kvLo, kvHi));
  }
  // a must fit i32, the kv range must leave room, shifts are not negative.
  EXPECT_FALSE(saturatedBoundIsExact(true, 0, int64_t(INT32_MAX) + 1, 0, kvLo, kvHi));
  EXPECT_FALSE(saturatedBoundIsExact(true, 0, 1, 0, INT32_MIN, kvHi));
  EXPECT_FALSE(saturatedBoundIsExact(true, 0, 1, -1, kvLo, kvHi));
  // And past the limit a mismatch exists: a = kvLo + INT32_MAX, u = INT32_MAX
  // + 1 gives the exact bound kvLo - 1 (every kv passes kv >= bound) but the
  // saturated one kvLo (kv = kvLo - 1 would not; kvLo still passes).
  const __int128 exact = __int128(kvLo) + INT32_MAX - (int64_t(INT32_MAX) + 1);
  const int32_t s = sat32(__int128(kvLo) + INT32_MAX - int64_t(INT32_MAX));
  EXPECT_EQ(exact, kvLo - 1);
  EXPECT_EQ(s, kvLo);
}

} // namespace
