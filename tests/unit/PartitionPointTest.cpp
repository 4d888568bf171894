//===- PartitionPointTest.cpp - the list builder's 8-ary search -----------===//
//
// faopt::partition_point (compiler/targets/gpu/device/faopt_search.cuh) is
// the search the generated list builders run on the GPU to find each q
// row's run of equal document ids (faopt::key_ranges). The header has no
// CUDA dependencies, so this checks the same code on the host against
// std::partition_point: every range of small arrays, random large ones,
// ranges that do not start at 0, and that no probe leaves [lo, hi). The same
// for faopt::partition_points, its two searches in lockstep, and for the
// rounds of key_ranges' warp search (faopt::probe16 / faopt::narrow16), run
// here for the 16 lanes of each half in turn.
//
//===----------------------------------------------------------------------===//
#include "compiler/targets/gpu/device/faopt_search.cuh"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace {

/// faopt::partition_point(lo, hi, key < target) on sorted `keys`, checking
/// every probe, against std::partition_point.
void expectLowerBound(const std::vector<int> &keys, int lo, int hi, int target,
                      bool strict) {
  auto before = [&](int p) {
    EXPECT_GE(p, lo);
    EXPECT_LT(p, hi);
    if (p < lo || p >= hi)
      return false;
    return strict ? keys[p] < target : keys[p] <= target;
  };
  int got = faopt::partition_point(lo, hi, before);
  auto first = keys.begin() + lo, last = keys.begin() + hi;
  int want = static_cast<int>(
      std::partition_point(first, last,
                           [&](int k) { return strict ? k < target : k <= target; }) -
      keys.begin());
  EXPECT_EQ(got, want) << "lo " << lo << " hi " << hi << " target " << target
                       << (strict ? " (<)" : " (<=)");
}

TEST(PartitionPoint, EveryRangeOfSmallArrays) {
  std::mt19937 rng(3);
  for (int n = 0; n <= 40; ++n) {
    std::vector<int> keys(n);
    for (int &k : keys)
      k = static_cast<int>(rng() % 6);
    std::sort(keys.begin(), keys.end());
    for (int lo = 0; lo <= n; ++lo)
      for (int hi = lo; hi <= n; ++hi)
        for (int target = -1; target <= 6; ++target) {
          expectLowerBound(keys, lo, hi, target, true);
          expectLowerBound(keys, lo, hi, target, false);
        }
  }
}

TEST(PartitionPoint, LargeRangesWithRuns) {
  std::mt19937 rng(11);
  for (int round = 0; round < 200; ++round) {
    const int n = 1 + static_cast<int>(rng() % 20000);
    const int ids = 1 + static_cast<int>(rng() % 300);
    std::vector<int> keys(n);
    for (int &k : keys)
      k = static_cast<int>(rng() % ids) * 2; // even ids: odd targets absent
    std::sort(keys.begin(), keys.end());
    const int lo = static_cast<int>(rng() % n);
    const int hi = lo + static_cast<int>(rng() % (n - lo + 1));
    for (int t = 0; t < 8; ++t) {
      const int target = static_cast<int>(rng() % (2 * ids + 2)) - 1;
      expectLowerBound(keys, lo, hi, target, true);
      expectLowerBound(keys, lo, hi, target, false);
    }
  }
}

TEST(PartitionPoint, PositionsOffsetFromZero) {
  // A list's span starts at a kv-block far from 0.
  std::vector<int> keys(1 << 16);
  for (size_t i = 0; i < keys.size(); ++i)
    keys[i] = static_cast<int>(i / 1000);
  for (int lo : {0, 1, 127, 4096, 60000})
    for (int hi : {lo, lo + 1, lo + 9, lo + 128, lo + 3000, 65536})
      if (hi >= lo && hi <= 65536)
        for (int target : {-1, 0, lo / 1000, lo / 1000 + 1, 70})
          expectLowerBound(keys, lo, hi, target, true);
}

/// faopt::partition_points(lo, hi, key < t0, key <= t1) on sorted `keys`,
/// checking every probe, against two std::partition_point calls. (t0 and t1
/// differ in general: the two searches then part after the first rounds.)
void expectPair(const std::vector<int> &keys, int lo, int hi, int t0, int t1) {
  auto inRange = [&](int p) {
    EXPECT_GE(p, lo);
    EXPECT_LT(p, hi);
    return p >= lo && p < hi;
  };
  auto below = [&](int p) { return inRange(p) && keys[p] < t0; };
  auto atMost = [&](int p) { return inRange(p) && keys[p] <= t1; };
  faopt::SearchPair got = faopt::partition_points(lo, hi, below, atMost);
  auto first = keys.begin() + lo, last = keys.begin() + hi;
  int want0 = static_cast<int>(
      std::partition_point(first, last, [&](int k) { return k < t0; }) -
      keys.begin());
  int want1 = static_cast<int>(
      std::partition_point(first, last, [&](int k) { return k <= t1; }) -
      keys.begin());
  EXPECT_EQ(got.first, want0) << "lo " << lo << " hi " << hi << " t0 " << t0;
  EXPECT_EQ(got.second, want1) << "lo " << lo << " hi " << hi << " t1 " << t1;
}

TEST(PartitionPoints, EveryRangeOfSmallArrays) {
  std::mt19937 rng(5);
  for (int n = 0; n <= 40; ++n) {
    std::vector<int> keys(n);
    for (int &k : keys)
      k = static_cast<int>(rng() % 6);
    std::sort(keys.begin(), keys.end());
    for (int lo = 0; lo <= n; ++lo)
      for (int hi = lo; hi <= n; ++hi)
        for (int t0 = -1; t0 <= 6; ++t0)
          for (int t1 = -1; t1 <= 6; ++t1)
            expectPair(keys, lo, hi, t0, t1);
  }
}

TEST(PartitionPoints, LargeRangesWithRuns) {
  // Runs as long as a document (the equal range of a row's key), and
  // targets that part the two searches at once or only late.
  std::mt19937 rng(13);
  for (int round = 0; round < 300; ++round) {
    const int n = 1 + static_cast<int>(rng() % 20000);
    const int ids = 1 + static_cast<int>(rng() % 300);
    std::vector<int> keys(n);
    for (int &k : keys)
      k = static_cast<int>(rng() % ids) * 2;
    std::sort(keys.begin(), keys.end());
    const int lo = static_cast<int>(rng() % n);
    const int hi = lo + static_cast<int>(rng() % (n - lo + 1));
    for (int t = 0; t < 8; ++t) {
      const int target = static_cast<int>(rng() % (2 * ids + 2)) - 1;
      expectPair(keys, lo, hi, target, target);
      expectPair(keys, lo, hi, target, target + 7);
      expectPair(keys, lo, hi, target + 9, target);
    }
  }
}

TEST(PartitionPoints, PositionsOffsetFromZero) {
  std::vector<int> keys(1 << 16);
  for (size_t i = 0; i < keys.size(); ++i)
    keys[i] = static_cast<int>(i / 1000);
  for (int lo : {0, 1, 127, 4096, 60000})
    for (int hi : {lo, lo + 1, lo + 8, lo + 9, lo + 128, lo + 3000, 65536})
      if (hi >= lo && hi <= 65536)
        for (int target : {-1, 0, lo / 1000, lo / 1000 + 1, 70})
          expectPair(keys, lo, hi, target, target);
}

/// The warp search on the host: half 0 of the warp finds the first key >= t
/// (Before: key < t), half 1 the first key > t, one probe per lane and
/// round, as faopt::warp_key_run does with a ballot. Checks every probe and
/// the result against std::partition_point, and the number of rounds against
/// the 16-ary bound: one per sixteenfold reduction of the range, plus one.
void expectWarpRun(const std::vector<int> &keys, int lo, int hi, int t) {
  int l[2] = {lo, lo}, r[2] = {hi, hi};
  bool done[2] = {hi <= lo, hi <= lo};
  int rounds = 0;
  while (!done[0] || !done[1]) {
    ASSERT_LT(++rounds, 64) << "no progress";
    unsigned bits[2] = {0, 0};
    for (int h = 0; h < 2; ++h)
      for (int i = 0; i < 16 && !done[h]; ++i) {
        int p;
        if (!faopt::probe16(l[h], r[h], i, p))
          continue;
        ASSERT_GE(p, lo);
        ASSERT_LT(p, hi);
        if (h == 0 ? keys[p] < t : keys[p] <= t)
          bits[h] |= 1u << i;
      }
    for (int h = 0; h < 2; ++h)
      if (!done[h])
        faopt::narrow16(l[h], r[h], bits[h], done[h]);
  }
  auto first = keys.begin() + lo, last = keys.begin() + hi;
  int want0 = static_cast<int>(
      std::partition_point(first, last, [&](int k) { return k < t; }) -
      keys.begin());
  int want1 = static_cast<int>(
      std::partition_point(first, last, [&](int k) { return k <= t; }) -
      keys.begin());
  EXPECT_EQ(l[0], want0) << "lo " << lo << " hi " << hi << " t " << t;
  EXPECT_EQ(l[1], want1) << "lo " << lo << " hi " << hi << " t " << t;
  int bound = 1;
  for (int n = hi - lo; n > 16; n = (n + 15) / 16)
    ++bound;
  EXPECT_LE(rounds, bound) << "lo " << lo << " hi " << hi << " t " << t;
}

TEST(WarpSearch, EveryRangeOfSmallArrays) {
  std::mt19937 rng(7);
  for (int n = 0; n <= 70; ++n) {
    std::vector<int> keys(n);
    for (int &k : keys)
      k = static_cast<int>(rng() % 6);
    std::sort(keys.begin(), keys.end());
    for (int lo = 0; lo <= n; ++lo)
      for (int hi = lo; hi <= n; ++hi)
        for (int t = -1; t <= 6; ++t)
          expectWarpRun(keys, lo, hi, t);
  }
}

TEST(WarpSearch, LargeRangesWithRuns) {
  std::mt19937 rng(17);
  for (int round = 0; round < 300; ++round) {
    const int n = 1 + static_cast<int>(rng() % 40000);
    const int ids = 1 + static_cast<int>(rng() % 300);
    std::vector<int> keys(n);
    for (int &k : keys)
      k = static_cast<int>(rng() % ids) * 2;
    std::sort(keys.begin(), keys.end());
    const int lo = static_cast<int>(rng() % n);
    const int hi = lo + static_cast<int>(rng() % (n - lo + 1));
    for (int t = 0; t < 8; ++t)
      expectWarpRun(keys, lo, hi, static_cast<int>(rng() % (2 * ids + 2)) - 1);
  }
}

TEST(WarpSearch, CutsOfLongRanges) {
  // Sequences of up to 2^29 positions: k n would overflow int at 2^27.
  for (int n : {17, 1000, (1 << 27) + 5, (1 << 29) - 1, 1 << 29})
    for (int k = 1; k <= 15; ++k)
      EXPECT_EQ(faopt::cut16(3, n, k),
                3 + static_cast<int>(static_cast<long long>(k) * n / 16))
          << "n " << n << " k " << k;
}

} // namespace
