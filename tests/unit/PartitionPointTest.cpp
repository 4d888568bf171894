//===- PartitionPointTest.cpp - the list builder's 8-ary search -----------===//
//
// faopt::partition_point (compiler/targets/gpu/device/faopt_search.cuh) is
// the search the generated list builders run on the GPU to find each q
// row's run of equal document ids (faopt::key_ranges). The header has no
// CUDA dependencies, so this checks the same code on the host against
// std::partition_point: every range of small arrays, random large ones,
// ranges that do not start at 0, and that no probe leaves [lo, hi).
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

} // namespace
