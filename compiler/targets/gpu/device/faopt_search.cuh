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

} // namespace faopt
