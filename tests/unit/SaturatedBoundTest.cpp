// The arithmetic attn-kv-bounds-in-rows relies on (KvBoundsInRows.cpp,
// saturateUnboundedTerms): a row bound a - u, with a in a known range and
// u any int64 (a run-time parameter), computed as the saturating i32
// subtraction of u clamped to i32, gives every compare with kv in the
// launch's kv range the same answer as the exact bound. The pass applies it
// when r.hi - INT32_MAX < kvLo and r.lo - INT32_MIN > kvHi; this test checks
// the claim for the window's lower bound q + sk - sq - w at the pass's
// ranges, over extreme and random values.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

namespace {

int32_t subSat32(int32_t a, int32_t b) {
  const int64_t d = int64_t(a) - int64_t(b);
  return d > INT32_MAX ? INT32_MAX : d < INT32_MIN ? INT32_MIN : int32_t(d);
}

int32_t clamp32(int64_t u) {
  return u > INT32_MAX ? INT32_MAX : u < INT32_MIN ? INT32_MIN : int32_t(u);
}

TEST(SaturatedBound, KeepsEveryKvCompare) {
  // attn-outline-tile-maps' ranges: positions in [0, 2^29 + 1024], sizes in
  // [0, 2^29]; r = q + sk - sq.
  const int64_t kvLo = 0, kvHi = (int64_t(1) << 29) + 1024;
  const int64_t rLo = -(int64_t(1) << 29), rHi = (int64_t(1) << 30) + 1024;
  ASSERT_LT(__int128(rHi) - INT32_MAX, kvLo);
  ASSERT_GT(__int128(rLo) - INT32_MIN, kvHi);
  std::vector<int64_t> rs = {rLo, rLo + 1, -1, 0, 1, kvHi, kvHi + 1, rHi - 1, rHi};
  std::vector<int64_t> ws = {INT64_MIN, INT64_MIN + 1, -(int64_t(1) << 41), INT32_MIN - int64_t(1),
                             INT32_MIN, INT32_MIN + int64_t(1), -kvHi - rHi, -1, 0, 1,
                             1023, kvHi, rHi, INT32_MAX - int64_t(1), INT32_MAX,
                             INT32_MAX + int64_t(1), int64_t(1) << 41, INT64_MAX};
  std::vector<int64_t> kvs = {kvLo, kvLo + 1, 1023, 1024, kvHi - 1, kvHi};
  std::mt19937_64 rng(15);
  for (int i = 0; i < 200; ++i) {
    rs.push_back(rLo + int64_t(rng() % uint64_t(rHi - rLo + 1)));
    ws.push_back(int64_t(rng()));
    ws.push_back(int64_t(rng() % (uint64_t(1) << 33)) - (int64_t(1) << 32));
    kvs.push_back(int64_t(rng() % uint64_t(kvHi + 1)));
  }
  int64_t checked = 0;
  for (int64_t r : rs)
    for (int64_t w : ws) {
      const __int128 exact = __int128(r) - w;
      const int32_t bound = subSat32(int32_t(r), clamp32(w));
      for (int64_t kv : kvs) {
        ASSERT_EQ(kv >= exact, kv >= bound) << "r " << r << " w " << w << " kv " << kv;
        ASSERT_EQ(kv <= exact, kv <= bound) << "r " << r << " w " << w << " kv " << kv;
        ++checked;
      }
    }
  EXPECT_GT(checked, 10000000);
}

} // namespace
