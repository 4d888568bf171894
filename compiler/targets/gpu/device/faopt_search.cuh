// faopt_search.cuh - the list builder's search, for the device and the host.
//
// key_ranges (faopt_block_lists.cuh) finds each q row's run of equal keys
// with this search; it has no CUDA dependencies so the host unit tests
// (tests/unit/PartitionPointTest.cpp) check the very same code against
// std::partition_point.

#pragma once

#if defined(__CUDACC__) || defined(__CUDACC_RTC__)
#define FAOPT_HOST_DEVICE __host__ __device__ __forceinline__
#define FAOPT_UNROLL _Pragma("unroll")
#else
#define FAOPT_HOST_DEVICE inline
#define FAOPT_UNROLL
#endif

namespace faopt {

/// The first position p in [lo, hi) with Before(p) false, for a Before
/// that is true on a prefix of the range (hi if it holds everywhere): an
/// 8-ary search, seven probes per round issued together, so a search over
/// 8K keys waits for ~5 rounds of loads instead of 13. Probes stay in
/// [lo, hi).
#if defined(__CUDACC__) || defined(__CUDACC_RTC__)
#pragma nv_exec_check_disable
#endif
template <typename Before>
FAOPT_HOST_DEVICE int partition_point(int lo, int hi, Before before) {
  int l = lo, r = hi; // the answer lies in [l, r]
  while (r - l > 8) {
    const int step = (r - l) / 8;
    bool b[7];
    FAOPT_UNROLL
    for (int j = 0; j < 7; ++j)
      b[j] = before(l + (j + 1) * step);
    int c = 0; // probes with Before true (a prefix of them)
    FAOPT_UNROLL
    for (int j = 0; j < 7; ++j)
      c += b[j] ? 1 : 0;
    const int nl = c > 0 ? l + c * step + 1 : l;
    r = c < 7 ? l + (c + 1) * step : r;
    l = nl;
  }
  while (l < r) { // at most 8 left
    const int m = l + ((r - l) >> 1);
    if (before(m))
      l = m + 1;
    else
      r = m;
  }
  return l;
}

/// The first positions p0 and p1 in [lo, hi) with Before0(p0) and
/// Before1(p1) false (each true on a prefix; hi where it holds everywhere):
/// two 8-ary searches in lockstep, so a round issues the seven probes of
/// each together and the two wait for max(rounds) round trips instead of
/// their sum; once an interval is down to at most 8 positions, one last
/// round probes all of them at once instead of three halvings. key_ranges
/// uses it for a row's first key >= k and first key > k. Probes stay in
/// [lo, hi).
struct SearchPair {
  int first, second;
};
#if defined(__CUDACC__) || defined(__CUDACC_RTC__)
#pragma nv_exec_check_disable
#endif
template <typename Before0, typename Before1>
FAOPT_HOST_DEVICE SearchPair partition_points(int lo, int hi, Before0 before0,
                                              Before1 before1) {
  int l0 = lo, r0 = hi, l1 = lo, r1 = hi; // the answers lie in [l, r]
  // One 8-ary round of an interval of more than 8 positions, from its
  // probes' results (a prefix of them true).
  auto narrow = [](int &l, int &r, int step, const bool (&b)[7]) {
    int c = 0;
    FAOPT_UNROLL
    for (int j = 0; j < 7; ++j)
      c += b[j] ? 1 : 0;
    const int nl = c > 0 ? l + c * step + 1 : l;
    r = c < 7 ? l + (c + 1) * step : r;
    l = nl;
  };
  while (r0 - l0 > 8 || r1 - l1 > 8) {
    // An interval already down to 8 probes its low end (hi - lo > 8 here,
    // so that is a position of the range) and ignores the results.
    const int s0 = (r0 - l0) > 8 ? (r0 - l0) / 8 : 0;
    const int s1 = (r1 - l1) > 8 ? (r1 - l1) / 8 : 0;
    const int p0 = l0 < hi ? l0 : hi - 1, p1 = l1 < hi ? l1 : hi - 1;
    bool b0[7], b1[7];
    FAOPT_UNROLL
    for (int j = 0; j < 7; ++j) {
      b0[j] = before0(p0 + (j + 1) * s0);
      b1[j] = before1(p1 + (j + 1) * s1);
    }
    if (s0 > 0)
      narrow(l0, r0, s0, b0);
    if (s1 > 0)
      narrow(l1, r1, s1, b1);
  }
  // At most 8 positions left in each: probe them all; the answer is l plus
  // the count of true ones. The probes are unconditional (past r they
  // re-read r - 1 and are not counted): conditional ones came out of ptxas
  // one round trip each.
  if (hi <= lo)
    return {lo, lo};
  bool b0[8], b1[8];
  FAOPT_UNROLL
  for (int j = 0; j < 8; ++j) {
    b0[j] = before0(l0 + j < r0 ? l0 + j : (r0 > lo ? r0 - 1 : lo));
    b1[j] = before1(l1 + j < r1 ? l1 + j : (r1 > lo ? r1 - 1 : lo));
  }
  int c0 = 0, c1 = 0;
  FAOPT_UNROLL
  for (int j = 0; j < 8; ++j) {
    c0 += l0 + j < r0 && b0[j] ? 1 : 0;
    c1 += l1 + j < r1 && b1[j] ? 1 : 0;
  }
  return {l0 + c0, l1 + c1};
}

/// One round of a 16-ary search that 16 lanes run together (key_ranges'
/// warp search: each half of a warp looks for one bound of a key's run,
/// one probe per lane): the answer lies in [l, r], Before true on a prefix.
/// probe16 says whether lane i (0..15) probes this round, and where: an
/// interval of at most 16 positions is probed whole (lane i at l + i), a
/// longer one at the 15 positions l + floor(k n / 16), k = 1..15, which cut
/// it into 16 parts of at most ceil(n / 16). narrow16 takes the lanes'
/// results (bit i: lane i probed and Before held) and narrows [l, r] to the
/// part after the last true probe; `done` once l is the answer. Neither has
/// CUDA dependencies, so the host tests run the same rounds
/// (tests/unit/PartitionPointTest.cpp).
FAOPT_HOST_DEVICE int cut16(int l, int n, int k) {
  // l + floor(k n / 16) without k n overflowing (n may be near 2^29).
  return l + k * (n >> 4) + ((k * (n & 15)) >> 4);
}
FAOPT_HOST_DEVICE bool probe16(int l, int r, int i, int &p) {
  const int n = r - l;
  if (n <= 16) {
    p = l + i;
    return i < n;
  }
  p = cut16(l, n, i + 1);
  return i < 15;
}
FAOPT_HOST_DEVICE void narrow16(int &l, int &r, unsigned bits, bool &done) {
  const int n = r - l;
  // A prefix of the probes holds (Before is true on a prefix of [l, r)).
#ifdef __CUDA_ARCH__
  const int c = __popc(bits & 0xffffu);
#else
  const int c = __builtin_popcount(bits & 0xffffu);
#endif
  if (n <= 16) {
    l += c;
    r = l;
    done = true;
    return;
  }
  const int nl = c > 0 ? cut16(l, n, c) + 1 : l;
  r = c < 15 ? cut16(l, n, c + 1) : r;
  l = nl;
  done = l >= r;
}

} // namespace faopt
