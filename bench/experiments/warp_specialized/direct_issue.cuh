// direct_issue.cuh - the "gen direct" variant of ws_main.cu: the generated
// TMA kernels with thread 0 issuing each prefetch's loads itself (no
// producer warpgroup, 256 threads), obtained from faopt-compile's output by
// the sed in README.md. Measured slower than the producer warpgroup
// (docs/performance.md item 22), so it lives here, not in the device header.
#pragma once
#include "faopt_sm90_tma_requests.cuh"

namespace faopt {
namespace tma_req {

/// The kernel's q, k, v tensor maps, kept where the request ring would be
/// (direct issue posts no requests).
template <int PIPE> FAOPT_DEVICE const TmaMap **maps() {
  return reinterpret_cast<const TmaMap **>(&pipe<PIPE>().ring[0]);
}

/// Direct issue (no producer warpgroup, W warps): thread 0 issues each
/// prefetch's TMA loads itself, after waiting for the stage to be empty.
template <int W, int PIPE>
FAOPT_DEVICE void start_direct(const TmaMap &q, const TmaMap &k, const TmaMap &v) {
  Pipe &p = pipe<PIPE>();
  if (threadIdx.x == 0) {
    for (int s = 0; s < kSources; ++s)
      for (int t = 0; t < kStages; ++t) {
        mbar_init(shared_addr(&p.full[s][t]), 1);
        mbar_init(shared_addr(&p.empty[s][t]), W);
      }
    maps<PIPE>()[0] = &q;
    maps<PIPE>()[1] = &k;
    maps<PIPE>()[2] = &v;
    asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
  }
  __syncthreads();
}
template <int PIPE, int SOURCE, typename T, int R, int C>
FAOPT_DEVICE void prefetch_tile_direct(SmemTile<T, R, C> dst, faopt_i64 b,
                                       faopt_i64 h, faopt_i64 row,
                                       faopt_i64 bound, faopt_i64 stage,
                                       faopt_i64 round) {
  if (threadIdx.x != 0)
    return;
  Pipe &p = pipe<PIPE>();
  const faopt_u32 full = shared_addr(&p.full[SOURCE][stage]);
  mbar_wait(shared_addr(&p.empty[SOURCE][stage]), (faopt_u32)(round & 1) ^ 1u);
  constexpr int kSlabs = C / 64, kSlabBytes = SmemTile<T, R, C>::kSlabBytes;
  mbar_expect_tx(full, (faopt_u32)(kSlabs * kSlabBytes));
  const int r = (int)(row < bound ? row : imax(bound, 1));
  const faopt_u32 d = dst.sbase;
#pragma unroll
  for (int s = 0; s < kSlabs; ++s)
    load_box(d + s * kSlabBytes, maps<PIPE>()[SOURCE], full, 64 * s, r, (int)h, (int)b);
}

} // namespace tma_req
} // namespace faopt
