// Experiment: the d = 128 forward with warp specialisation (docs/hopper-plan.md
// steps 2-3) written by hand on top of faopt_sm90.cuh, to measure what the
// compiler should generate before building the pass.
//   * a producer warpgroup (warps 8-11, setmaxnreg 24): one thread issues TMA
//     tile loads (128-byte swizzle = faopt's wgmma slab layout) that complete
//     on "full" mbarriers, after waiting on the stage's "empty" mbarrier;
//   * two consumer warpgroups (warps 0-7, setmaxnreg 240) run the generated
//     kernel's loop body unchanged, waiting on "full" and releasing K after
//     S = Q K^T and V after O += P V (one arrive per warp);
//   * no CTA-wide barrier in the loop; with PP the consumers take strict
//     turns on the tensor cores (token passing on named barriers 1 and 2).
#pragma once
#include "faopt_sm90_tma.cuh"

namespace ws {
using namespace faopt;
using TmaMap = faopt::TmaMap;


// mbarriers and TMA boxes: faopt_sm90_tma.cuh's.
using tma::load_box;
using tma::mbar_arrive;
using tma::mbar_expect_tx;
using tma::mbar_init;
using tma::mbar_wait;
FAOPT_DEVICE faopt_u32 saddr(const void *p) { return tma::shared_addr(p); }
template <int N> FAOPT_DEVICE void regs_inc() {
  asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;" ::"n"(N));
}
template <int N> FAOPT_DEVICE void regs_dec() {
  asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;" ::"n"(N));
}
FAOPT_DEVICE void bar_sync(int id, int n) {
  asm volatile("bar.sync %0, %1;" ::"r"(id), "r"(n) : "memory");
}
FAOPT_DEVICE void bar_arrive(int id, int n) {
  asm volatile("bar.arrive %0, %1;" ::"r"(id), "r"(n) : "memory");
}

/// Rows [row0, row0 + 128) of a [b, h, seq, 128] tensor into a 128 x 128
/// slab tile: two 64-column boxes of 16 KiB.
FAOPT_DEVICE void tma_tile(faopt_u32 dst, const TmaMap *map, faopt_u32 bar,
                           int row0, int h, int b) {
  load_box(dst, map, bar, 0, row0, h, b);
  load_box(dst + 16384, map, bar, 64, row0, h, b);
}

template <bool PP> FAOPT_DEVICE void turn_begin() {
  if (PP)
    bar_sync(warp_id() < 4 ? 1 : 2, 256);
}
template <bool PP> FAOPT_DEVICE void turn_end() {
  if (PP)
    bar_arrive(warp_id() < 4 ? 2 : 1, 256);
}

template <bool PP>
FAOPT_DEVICE Acc<128, 128, 8> s_product(faopt_u32 q, faopt_u32 k) {
  Acc<128, 128, 8> s;
  const faopt_u32 sa = opaque(q + (warp_id() >> 2) * (64 * 128));
  turn_begin<PP>();
  wgmma::fence();
#pragma unroll
  for (int kk = 0; kk < 8; ++kk) {
    const faopt_u32 off = (kk >> 2) * 16384 + (kk & 3) * 32;
    wgmma::Mma<bf16, 128>::ss(&s.v[0][0][0], wgmma::descriptor(sa + off, 16, 1024),
                              wgmma::descriptor(k + off, 16, 1024), kk > 0);
  }
  wgmma::commit();
  turn_end<PP>();
  wgmma::wait<0>();
  pin(s);
  return s;
}

template <bool PP>
FAOPT_DEVICE Acc<128, 128, 8> pv_product(OperandA<bf16, 128, 128, 8> a,
                                         faopt_u32 v, Acc<128, 128, 8> c) {
  pin(c);
  wgmma::pin(reinterpret_cast<faopt_u32(&)[32]>(a.v));
  turn_begin<PP>();
  wgmma::fence();
#pragma unroll
  for (int kk = 0; kk < 8; ++kk) {
    const faopt_u32 k = v + kk * 16 * 128;
    wgmma::Mma<bf16, 128>::rs(&c.v[0][0][0], a.v[0][kk],
                              wgmma::descriptor(k, 16384, 1024));
  }
  wgmma::commit();
  turn_end<PP>();
  wgmma::wait<0>();
  pin(c);
  return c;
}

FAOPT_DEVICE void store_out(const OutTile<bf16, 128, 128, 8> &o,
                            const Tensor<bf16, 4> &dst, faopt_i64 b,
                            faopt_i64 h, faopt_i64 row0, faopt_i64 bound,
                            SmemTile<bf16, 128, 128> staging) {
  bar_sync(3, 256); // every consumer is done reading Q (the staging area)
  const int l = lane_id();
#pragma unroll
  for (int nt = 0; nt < 16; ++nt)
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      int row = warp_id() * 16 + (l >> 2) + half * 8;
      int col = nt * 8 + (l & 3) * 2;
      st_shared_b32(staging.chunk_addr(row, col / 8) + (col % 8) * 2, o.v[0][nt][half]);
    }
  bar_sync(3, 256);
  char *plane = (char *)(dst.data + b * dst.stride[0] + h * dst.stride[1]);
#pragma unroll
  for (int i = 0; i < 8; ++i) {
    int idx = i * 256 + threadIdx.x;
    int row = idx / 16, chunk = idx % 16;
    faopt_i64 grow = row0 + row;
    if (grow < bound)
      *(uint4 *)(plane + grow * dst.stride[2] * 2 + chunk * 16) =
          ld_shared_v4(staging.chunk_addr(row, chunk));
  }
}

/// This program's (b, h, kv head, first q row) and kv-block count, in the
/// generated kernels' program order (attn-schedule-grid).
struct Program {
  int64_t sq, sk, b, h, hk, q0, n;
};
template <bool CAUSAL>
FAOPT_DEVICE Program program(const Tensor<bf16, 4> &q, const Tensor<bf16, 4> &k) {
  int64_t batch = dim<0>(q), heads = dim<1>(q), sq = dim<2>(q);
  int64_t kvHeads = dim<1>(k), sk = dim<2>(k);
  int64_t group = udiv(heads, kvHeads);
  int64_t qBlocks = ceil_div_u(sq, 128);
  int64_t bh = batch * heads;
  int64_t v21 = udiv(udiv(heads, imax(kvHeads, 1)) * 26214400, imax(sk, 1) * 512);
  int64_t v24 = imax(v21, ceil_div_u(2048, imax(qBlocks, 1)));
  int64_t chunk = imin(imax(v24, 1), bh);
  int64_t per = chunk * qBlocks;
  int64_t p = block_index<0>();
  int64_t c0 = udiv(p, per) * chunk;
  int64_t r = urem(p, per);
  int64_t width = imin(chunk, bh - c0);
  int64_t qb = udiv(r, width);
  int64_t bhIdx = c0 + urem(r, width);
  int64_t b = udiv(bhIdx, heads), h = urem(bhIdx, heads), hk = udiv(h, group);
  int64_t q0 = ((qBlocks - 1) - qb) * 128;
  int64_t last = imin(q0 + 127, sk - 1);
  int64_t n = CAUSAL ? imin(imax(floor_div(last, 128) + 1, 0), ceil_div_u(sk, 128))
                     : ceil_div_u(sk, 128);

  return {sq, sk, b, h, hk, q0, n};
}

} // namespace ws

// The generated kernels' element functions (masked / unmasked logits).
template <bool CAUSAL> struct Logits;

template <bool CAUSAL, bool PP>
__global__ __launch_bounds__(384, 1) void ws_attention(
    faopt::Tensor<faopt::bf16, 4> q, faopt::Tensor<faopt::bf16, 4> k,
    faopt::Tensor<faopt::bf16, 4> v, faopt::Tensor<faopt::bf16, 4> o,
    faopt::Tensor<float, 3> lse, const __grid_constant__ ws::TmaMap mq,
    const __grid_constant__ ws::TmaMap mk, const __grid_constant__ ws::TmaMap mv) {
  using namespace faopt;
  using namespace ws;
  const Program pr = program<CAUSAL>(q, k);
  const int64_t sq = pr.sq, sk = pr.sk, b = pr.b, h = pr.h, hk = pr.hk,
                q0 = pr.q0, n = pr.n;
  const faopt_u32 base = saddr(faopt_smem);
  const faopt_u32 sQ = base, sK = base + 32768, sV = base + 98304;
  const faopt_u32 bars = base + 163840; // q full, k full x2, k empty x2, v full x2, v empty x2
  const faopt_u32 qFull = bars, kFull = bars + 8, kEmpty = bars + 24,
                  vFull = bars + 40, vEmpty = bars + 56;
  if (threadIdx.x == 0) {
    mbar_init(qFull, 1);
    for (int s = 0; s < 2; ++s) {
      mbar_init(kFull + 8 * s, 1);
      mbar_init(vFull + 8 * s, 1);
      mbar_init(kEmpty + 8 * s, 8);
      mbar_init(vEmpty + 8 * s, 8);
    }
    asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
  }
  __syncthreads();

  if (warp_id() >= 8) { // producer warpgroup
    regs_dec<24>();
    if (warp_id() == 8 && lane_id() == 0) {
      mbar_expect_tx(qFull, 32768);
      tma_tile(sQ, &mq, qFull, (int)q0, (int)h, (int)b);
      for (int64_t j = 0; j < n; ++j) {
        const int s = (int)(j & 1), ph = (int)((j >> 1) & 1);
        mbar_wait(kEmpty + 8 * s, ph ^ 1);
        mbar_expect_tx(kFull + 8 * s, 32768);
        tma_tile(sK + s * 32768, &mk, kFull + 8 * s, (int)(j * 128), (int)hk, (int)b);
        mbar_wait(vEmpty + 8 * s, ph ^ 1);
        mbar_expect_tx(vFull + 8 * s, 32768);
        tma_tile(sV + s * 32768, &mv, vFull + 8 * s, (int)(j * 128), (int)hk, (int)b);
      }
    }
    return;
  }
  regs_inc<240>();
  if (PP && warp_id() >= 4)
    bar_arrive(1, 256); // warpgroup 0 takes the first turn

  Acc<128, 128, 8> acc = acc_fill<128, 128, 8>(0.0f);
  Rows<128, 8> rowSum = rows_fill<128, 8>(0.0f);
  Rows<128, 8> rowMax = rows_fill<128, 8>(-INFINITY);
  mbar_wait(qFull, 0);
  for (int64_t j = 0; j < n; ++j) {
    const int s = (int)(j & 1), ph = (int)((j >> 1) & 1);
    const int64_t kv0 = j * 128;
    mbar_wait(kFull + 8 * s, ph);
    Acc<128, 128, 8> sc = s_product<PP>(sQ, sK + s * 32768);
    if (lane_id() == 0)
      mbar_arrive(kEmpty + 8 * s);
    const int64_t kvLast = imin(kv0 + 127, sk - 1);
    if (kv0 + 127 < sk && (!CAUSAL || kvLast <= q0))
      sc = map_positions<Logits<CAUSAL>::unmasked>(sc, b, h, q0, kv0);
    else
      sc = map_positions<Logits<CAUSAL>::masked>(sc, b, h, q0, kv0, sk);
    Rows<128, 8> m = row_max(sc, rowMax);
    Acc<128, 128, 8> pr = tile_exp2(sc, m, 0.127517432f);
    Rows<128, 8> corr = tile_exp2(rowMax, m, 0.127517432f);
    rowSum = row_sum_lanes(pr, scale_rows(rowSum, corr));
    acc = scale_rows(acc, corr);
    rowMax = m;
    auto pa = to_operand_a<bf16>(pr);
    mbar_wait(vFull + 8 * s, ph);
    acc = pv_product<PP>(pa, sV + s * 32768, acc);
    if (lane_id() == 0)
      mbar_arrive(vEmpty + 8 * s);
  }
  if (PP && warp_id() < 4)
    bar_sync(1, 256); // warpgroup 1's last hand-over
  Rows<128, 8> l = rows_quad_sum(rowSum);
  auto out = finalize_output<bf16>(rowMax, l, acc);
  Rows<128, 8> lseRows = finalize_lse(rowMax, l, 0.127517432f);
  store_out(out, o, b, h, q0, sq, smem<bf16, 128, 128>(0));
  store_rows(lseRows, lse, b, h, q0, sq);
}

// Variant without a producer: 256 threads, thread 0 issues the TMA loads of
// kv-block j + 1 at the top of iteration j (after waiting for the stage to be
// released), as attn-pipeline-kv-loads places its prefetches today.
template <bool CAUSAL, bool PP>
__global__ __launch_bounds__(256, 1) void tma_attention(
    faopt::Tensor<faopt::bf16, 4> q, faopt::Tensor<faopt::bf16, 4> k,
    faopt::Tensor<faopt::bf16, 4> v, faopt::Tensor<faopt::bf16, 4> o,
    faopt::Tensor<float, 3> lse, const __grid_constant__ ws::TmaMap mq,
    const __grid_constant__ ws::TmaMap mk, const __grid_constant__ ws::TmaMap mv) {
  using namespace faopt;
  using namespace ws;
  const Program pr = program<CAUSAL>(q, k);
  const int64_t sq = pr.sq, sk = pr.sk, b = pr.b, h = pr.h, hk = pr.hk,
                q0 = pr.q0, n = pr.n;
  const faopt_u32 base = saddr(faopt_smem);
  const faopt_u32 sQ = base, sK = base + 32768, sV = base + 98304;
  const faopt_u32 bars = base + 163840;
  const faopt_u32 qFull = bars, kFull = bars + 8, kEmpty = bars + 24,
                  vFull = bars + 40, vEmpty = bars + 56;
  const bool issuer = threadIdx.x == 0;
  if (issuer) {
    mbar_init(qFull, 1);
    for (int s = 0; s < 2; ++s) {
      mbar_init(kFull + 8 * s, 1);
      mbar_init(vFull + 8 * s, 1);
      mbar_init(kEmpty + 8 * s, 8);
      mbar_init(vEmpty + 8 * s, 8);
    }
    asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
  }
  __syncthreads();
  if (issuer) {
    mbar_expect_tx(qFull, 32768);
    tma_tile(sQ, &mq, qFull, (int)q0, (int)h, (int)b);
    if (n > 0) {
      mbar_expect_tx(kFull, 32768);
      tma_tile(sK, &mk, kFull, 0, (int)hk, (int)b);
      mbar_expect_tx(vFull, 32768);
      tma_tile(sV, &mv, vFull, 0, (int)hk, (int)b);
    }
  }
  if (PP && warp_id() >= 4)
    bar_arrive(1, 256);
  Acc<128, 128, 8> acc = acc_fill<128, 128, 8>(0.0f);
  Rows<128, 8> rowSum = rows_fill<128, 8>(0.0f);
  Rows<128, 8> rowMax = rows_fill<128, 8>(-INFINITY);
  mbar_wait(qFull, 0);
  for (int64_t j = 0; j < n; ++j) {
    const int s = (int)(j & 1), ph = (int)((j >> 1) & 1);
    if (issuer && j + 1 < n) {
      const int s1 = 1 - s, ph1 = (int)(((j + 1) >> 1) & 1);
      mbar_wait(kEmpty + 8 * s1, ph1 ^ 1);
      mbar_expect_tx(kFull + 8 * s1, 32768);
      tma_tile(sK + s1 * 32768, &mk, kFull + 8 * s1, (int)((j + 1) * 128), (int)hk, (int)b);
      mbar_wait(vEmpty + 8 * s1, ph1 ^ 1);
      mbar_expect_tx(vFull + 8 * s1, 32768);
      tma_tile(sV + s1 * 32768, &mv, vFull + 8 * s1, (int)((j + 1) * 128), (int)hk, (int)b);
    }
    const int64_t kv0 = j * 128;
    mbar_wait(kFull + 8 * s, ph);
    Acc<128, 128, 8> sc = s_product<PP>(sQ, sK + s * 32768);
    if (lane_id() == 0)
      mbar_arrive(kEmpty + 8 * s);
    const int64_t kvLast = imin(kv0 + 127, sk - 1);
    if (kv0 + 127 < sk && (!CAUSAL || kvLast <= q0))
      sc = map_positions<Logits<CAUSAL>::unmasked>(sc, b, h, q0, kv0);
    else
      sc = map_positions<Logits<CAUSAL>::masked>(sc, b, h, q0, kv0, sk);
    Rows<128, 8> m = row_max(sc, rowMax);
    Acc<128, 128, 8> pr = tile_exp2(sc, m, 0.127517432f);
    Rows<128, 8> corr = tile_exp2(rowMax, m, 0.127517432f);
    rowSum = row_sum_lanes(pr, scale_rows(rowSum, corr));
    acc = scale_rows(acc, corr);
    rowMax = m;
    auto pa = to_operand_a<bf16>(pr);
    mbar_wait(vFull + 8 * s, ph);
    acc = pv_product<PP>(pa, sV + s * 32768, acc);
    if (lane_id() == 0)
      mbar_arrive(vEmpty + 8 * s);
  }
  if (PP && warp_id() < 4)
    bar_sync(1, 256);
  Rows<128, 8> l = rows_quad_sum(rowSum);
  auto out = finalize_output<bf16>(rowMax, l, acc);
  Rows<128, 8> lseRows = finalize_lse(rowMax, l, 0.127517432f);
  store_out(out, o, b, h, q0, sq, smem<bf16, 128, 128>(0));
  store_rows(lseRows, lse, b, h, q0, sq);
}
