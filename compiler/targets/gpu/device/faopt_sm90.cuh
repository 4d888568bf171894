// faopt_sm90.cuh - wgmma products for faopt's generated kernels on sm_90a.
//
// A kernel that includes this header instead of faopt_sm80.cuh keeps every
// primitive of faopt_sm80.cuh except two things (selected there by
// FAOPT_WGMMA):
//   * shared-memory tiles use wgmma's canonical 128-byte-swizzled layout
//     (64-column slabs of 128-byte rows), so wgmma reads them directly;
//   * S = Q K^T and O += P V are warpgroup MMAs (wgmma.mma_async): a CTA of
//     W warps is W / 4 warpgroups, warpgroup g owns query rows
//     [64 g, 64 g + 64) and warp w rows [16 w, 16 w + 16). The accumulator a
//     warp holds for its 16 rows has exactly the mma.sync m16n8 layout
//     (register i: row g + 8 ((i >> 1) & 1), column 8 (i >> 2) + 2 c + (i & 1)
//     with g = lane / 4, c = lane % 4), so Acc<M, N, W> with M = 16 W, the
//     row reductions, map_positions and the stores are shared unchanged; P
//     feeds the second product from registers in the mma.sync A layout.
//
// Q and K are read K-major (no transpose), V MN-major (the transpose bit),
// straight from the stages. mma_abt / mma_ab wait for their wgmma group
// before returning; the _async forms only start it, and mma_wait<N> later
// waits until at most N groups run (attn-overlap-softmax: the softmax of
// one kv-block runs while the previous block's P V is on the tensor cores).

#pragma once

#define FAOPT_WGMMA 1
#include "faopt_sm80.cuh"

namespace faopt {
namespace wgmma {

FAOPT_DEVICE void fence() { asm volatile("wgmma.fence.sync.aligned;" ::: "memory"); }
FAOPT_DEVICE void commit() { asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory"); }
template <int N> FAOPT_DEVICE void wait() {
  asm volatile("wgmma.wait_group.sync.aligned %0;" ::"n"(N) : "memory");
}

/// Register values the compiler must treat as read and written here: keeps
/// ordinary code that writes an accumulator or an A fragment from moving
/// past wgmma.fence, and code that reads a result from moving above
/// wgmma.wait_group (the asm statements are volatile, so stay in order).
template <int K> FAOPT_DEVICE void pin(float (&x)[K]) {
#pragma unroll
  for (int i = 0; i < K; ++i)
    asm volatile("" : "+f"(x[i])::"memory");
}
template <int K> FAOPT_DEVICE void pin(faopt_u32 (&x)[K]) {
#pragma unroll
  for (int i = 0; i < K; ++i)
    asm volatile("" : "+r"(x[i])::"memory");
}

/// Shared-memory matrix descriptor of a 128-byte-swizzled operand at shared
/// address `addr` (1024-byte-aligned tile, so the base offset is 0). Byte
/// offsets are stored >> 4 in 14-bit fields; swizzle mode 1 (128 B) sits in
/// bits 62-63. K-major: `stride` is the step between 8-row groups (1024),
/// `lead` is unused. MN-major: `stride` steps 8 rows of the K dimension,
/// `lead` steps 64-element groups of the N dimension (the next slab).
FAOPT_DEVICE u64 descriptor(faopt_u32 addr, faopt_u32 lead, faopt_u32 stride) {
  faopt_u32 lo = ((addr >> 4) & 0x3FFFu) | (((lead >> 4) & 0x3FFFu) << 16);
  faopt_u32 hi = ((stride >> 4) & 0x3FFFu) | (1u << 30);
  return ((u64)hi << 32) | lo;
}

// m64nNk16 with f32 accumulators, N = 64 or 128. `ss`: D (+)= A B with A and
// B in shared memory, both K-major (accumulate = 0 overwrites D). `rs`:
// D += A B with A from registers and B MN-major (transposed).
template <typename T, int N> struct Mma;

#define FAOPT_WG_REGS32 "{%0,%1,%2,%3,%4,%5,%6,%7,%8,%9,%10,%11,%12,%13,%14,%15,%16,%17,%18,%19,%20,%21,%22,%23,%24,%25,%26,%27,%28,%29,%30,%31}"
#define FAOPT_WG_REGS64 "{%0,%1,%2,%3,%4,%5,%6,%7,%8,%9,%10,%11,%12,%13,%14,%15,%16,%17,%18,%19,%20,%21,%22,%23,%24,%25,%26,%27,%28,%29,%30,%31,%32,%33,%34,%35,%36,%37,%38,%39,%40,%41,%42,%43,%44,%45,%46,%47,%48,%49,%50,%51,%52,%53,%54,%55,%56,%57,%58,%59,%60,%61,%62,%63}"
#define FAOPT_WG_ACC32(o) \
  "+f"(d[o + 0]), "+f"(d[o + 1]), "+f"(d[o + 2]), "+f"(d[o + 3]), "+f"(d[o + 4]), "+f"(d[o + 5]), "+f"(d[o + 6]), "+f"(d[o + 7]), \
  "+f"(d[o + 8]), "+f"(d[o + 9]), "+f"(d[o + 10]), "+f"(d[o + 11]), "+f"(d[o + 12]), "+f"(d[o + 13]), "+f"(d[o + 14]), "+f"(d[o + 15]), \
  "+f"(d[o + 16]), "+f"(d[o + 17]), "+f"(d[o + 18]), "+f"(d[o + 19]), "+f"(d[o + 20]), "+f"(d[o + 21]), "+f"(d[o + 22]), "+f"(d[o + 23]), \
  "+f"(d[o + 24]), "+f"(d[o + 25]), "+f"(d[o + 26]), "+f"(d[o + 27]), "+f"(d[o + 28]), "+f"(d[o + 29]), "+f"(d[o + 30]), "+f"(d[o + 31])
// I0..I4 name the operands after the N / 2 accumulators: ss uses I0, I1
// (descriptors) and I2 (accumulate); rs uses I0..I3 (A) and I4 (B).
#define FAOPT_WG_SHAPE(T, TY, N, REGS, I0, I1, I2, I3, I4, ...)                   \
  template <> struct Mma<T, N> {                                                 \
    static FAOPT_DEVICE void ss(float *d, u64 da, u64 db, int accumulate) {      \
      asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %" I2 ", 0;\n"              \
                   "wgmma.mma_async.sync.aligned.m64n" #N "k16.f32." TY "." TY    \
                   " " REGS ", %" I0 ", %" I1 ", p, 1, 1, 0, 0;\n}\n"            \
                   : __VA_ARGS__                                                 \
                   : "l"(da), "l"(db), "r"(accumulate));                         \
    }                                                                            \
    static FAOPT_DEVICE void rs(float *d, const faopt_u32 (&a)[4], u64 db) {     \
      asm volatile("wgmma.mma_async.sync.aligned.m64n" #N "k16.f32." TY "." TY    \
                   " " REGS ", {%" I0 ",%" I1 ",%" I2 ",%" I3 "}, %" I4          \
                   ", 1, 1, 1, 1;\n"                                             \
                   : __VA_ARGS__                                                 \
                   : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(db));       \
    }                                                                            \
  };
FAOPT_WG_SHAPE(bf16, "bf16", 64, FAOPT_WG_REGS32, "32", "33", "34", "35", "36",
               FAOPT_WG_ACC32(0))
FAOPT_WG_SHAPE(bf16, "bf16", 128, FAOPT_WG_REGS64, "64", "65", "66", "67", "68",
               FAOPT_WG_ACC32(0), FAOPT_WG_ACC32(32))
FAOPT_WG_SHAPE(f16, "f16", 64, FAOPT_WG_REGS32, "32", "33", "34", "35", "36",
               FAOPT_WG_ACC32(0))
FAOPT_WG_SHAPE(f16, "f16", 128, FAOPT_WG_REGS64, "64", "65", "66", "67", "68",
               FAOPT_WG_ACC32(0), FAOPT_WG_ACC32(32))
#undef FAOPT_WG_SHAPE
#undef FAOPT_WG_ACC32
#undef FAOPT_WG_REGS64
#undef FAOPT_WG_REGS32

/// Ping-pong between the two warpgroups of a CTA (W = 8; the compiler asks
/// for it with PINGPONG where it pays: both products at least 128 deep,
/// docs/performance.md item 18): the products go in the order S0, S1, PV0,
/// PV1 in each kv iteration (S = Q K^T, PV = P V; 0 and 1 the warpgroups),
/// each issued as soon as the one before it is, so the tensor cores run them
/// back to back while the other warpgroup's softmax (between its S and its
/// PV) runs on the ALUs.
///   * cp.async kernels: three named barriers of 256 threads, each passed
///     once per iteration (128 arrive, 128 wait); the CTA-wide barriers of
///     the K/V stages close the iteration, so nothing is left pending.
///   * TMA kernels (FAOPT_TMA, faopt_sm90_tma.cuh) have no CTA barrier in
///     the loop, so the warpgroups would pass a token instead (the compiler
///     does not ask for turns on TMA kernels since they measured 3-6%
///     slower there, docs/performance.md item 20; the scheme is kept for
///     a producer that runs further ahead, where the hand-written
///     experiment still gained from it): warpgroup 0 waits on
///     barrier 1 before each product and arrives on barrier 2 after issuing
///     it, warpgroup 1 the other way round; warpgroup 1 hands over the first
///     turn (turns_begin) and warpgroup 0 takes the last one back
///     (turns_end), so each barrier phase has 128 arrivals and 128 waiters.
/// FAOPT_NO_PINGPONG=1 (e.g. through FAOPT_NVRTC_OPTIONS=-DFAOPT_NO_PINGPONG=1)
/// turns it off for diagnosis.
#ifndef FAOPT_NO_PINGPONG
#define FAOPT_NO_PINGPONG 0
#endif
#ifndef FAOPT_TMA
#define FAOPT_TMA 0
#endif
enum Turn { kAfterS0 = 1, kAfterS1 = 2, kAfterPv0 = 3 };
template <int B> FAOPT_DEVICE void turn_wait() {
  asm volatile("bar.sync %0, 256;" ::"n"(B) : "memory");
}
template <int B> FAOPT_DEVICE void turn_pass() {
  asm volatile("bar.arrive %0, 256;" ::"n"(B) : "memory");
}
/// Before issuing S (s = true) or PV: wait for the turn, if any.
template <int W, bool PINGPONG> FAOPT_DEVICE void before_product(bool s) {
  static_assert(!PINGPONG || W == 8, "ping-pong needs two warpgroups");
  if constexpr (PINGPONG && !FAOPT_NO_PINGPONG) {
    const bool second = warp_id() >= 4;
    if constexpr (FAOPT_TMA) {
      if (second)
        turn_wait<2>();
      else
        turn_wait<1>();
    } else if (s && second) {
      turn_wait<kAfterS0>();
    } else if (!s && second) {
      turn_wait<kAfterPv0>();
    } else if (!s) {
      turn_wait<kAfterS1>();
    }
  }
}
/// After issuing it: hand the turn on (cp.async kernels: PV1 hands it to
/// nobody).
template <int W, bool PINGPONG> FAOPT_DEVICE void after_product(bool s) {
  if constexpr (PINGPONG && !FAOPT_NO_PINGPONG) {
    const bool second = warp_id() >= 4;
    if constexpr (FAOPT_TMA) {
      if (second)
        turn_pass<1>();
      else
        turn_pass<2>();
    } else if (s && second) {
      turn_pass<kAfterS1>();
    } else if (s) {
      turn_pass<kAfterS0>();
    } else if (!second) {
      turn_pass<kAfterPv0>();
    }
  }
}
/// TMA kernels: warpgroup 1 gives warpgroup 0 the first turn ...
template <int W, bool PINGPONG> FAOPT_DEVICE void turns_begin() {
  if constexpr (PINGPONG && !FAOPT_NO_PINGPONG && FAOPT_TMA)
    if (warp_id() >= 4)
      turn_pass<1>();
}
/// ... and warpgroup 0 takes back the one warpgroup 1 passed last.
template <int W, bool PINGPONG> FAOPT_DEVICE void turns_end() {
  if constexpr (PINGPONG && !FAOPT_NO_PINGPONG && FAOPT_TMA)
    if (warp_id() < 4)
      turn_wait<1>();
}

} // namespace wgmma

template <int M, int N, int W>
FAOPT_DEVICE void pin(Acc<M, N, W> &x) {
  wgmma::pin(reinterpret_cast<float(&)[Acc<M, N, W>::kSize]>(x.v));
}

/// S = A B^T with A [M, K] and B [N, K] in shared memory (Q K^T): per
/// 16-wide k step one m64nNk16 per warpgroup and 128 (or 64) columns.
template <int W, bool PINGPONG, typename T, int M, int N, int K>
FAOPT_DEVICE Acc<M, N, W> mma_abt_async(SmemTile<T, M, K> a, SmemTile<T, N, K> b) {
  using TA = SmemTile<T, M, K>;
  using TB = SmemTile<T, N, K>;
  static_assert(M == 16 * W && W % 4 == 0, "wgmma: a warpgroup per 64 rows");
  static_assert(N % 64 == 0 && K % 16 == 0, "wgmma: mma_abt shape");
  Acc<M, N, W> s;
  // The warpgroup's 64 rows start 64 rows (8 KiB) into every slab.
  const faopt_u32 sa = a.shared_base() + (warp_id() >> 2) * (64 * 128);
  const faopt_u32 sb = b.shared_base();
  wgmma::before_product<W, PINGPONG>(true);
  wgmma::fence();
#pragma unroll
  for (int kk = 0; kk < K / 16; ++kk) {
    // k columns [16 kk, 16 kk + 16): slab kk / 4, 32 bytes per step inside
    // the 128-byte row (the hardware applies the swizzle to the address).
    const faopt_u32 k = (kk >> 2) * TA::kSlabBytes + (kk & 3) * 32;
    const faopt_u32 kb = (kk >> 2) * TB::kSlabBytes + (kk & 3) * 32;
    const u64 da = wgmma::descriptor(sa + k, 16, 1024);
    // Columns in 128-wide products, then a 64-wide one for the rest.
#pragma unroll
    for (int n0 = 0; n0 + 128 <= N; n0 += 128)
      wgmma::Mma<T, 128>::ss(&s.v[0][n0 / 8][0], da,
                             wgmma::descriptor(sb + kb + n0 * 128, 16, 1024),
                             kk > 0);
    if constexpr (N % 128 != 0)
      wgmma::Mma<T, 64>::ss(&s.v[0][(N - 64) / 8][0], da,
                            wgmma::descriptor(sb + kb + (N - 64) * 128, 16, 1024),
                            kk > 0);
  }
  wgmma::commit();
  wgmma::after_product<W, PINGPONG>(true);
  return s;
}

/// Waits until at most PENDING started products still run (they finish in
/// the order they were started), then hands out `x`, the result of one
/// that has finished: pinned, so no read of it moves above the wait.
template <int PENDING, int M, int N, int W>
FAOPT_DEVICE Acc<M, N, W> mma_wait(Acc<M, N, W> x) {
#ifdef FAOPT_EARLY_PV_WAIT
  // Diagnosis (docs/performance.md item 40): every wait waits for all
  // started products, so the overlapped iteration's P V is done when S
  // is, as ptxas arranged it where a branch split the softmax.
  wgmma::wait<0>();
#else
  wgmma::wait<PENDING>();
#endif
  pin(x);
  return x;
}

template <int W, bool PINGPONG, typename T, int M, int N, int K>
FAOPT_DEVICE Acc<M, N, W> mma_abt(SmemTile<T, M, K> a, SmemTile<T, N, K> b) {
  return mma_wait<0>(mma_abt_async<W, PINGPONG>(a, b));
}

/// C + A B with A packed in registers [M, K] and B [K, N] in shared memory
/// (O += P V): B is read MN-major, 64-column slabs `lead` bytes apart.
template <int W, bool PINGPONG, typename T, int M, int N, int K>
FAOPT_DEVICE Acc<M, N, W> mma_ab_async(OperandA<T, M, K, W> a, SmemTile<T, K, N> b,
                                       Acc<M, N, W> c) {
  using TB = SmemTile<T, K, N>;
  static_assert(M == 16 * W && W % 4 == 0, "wgmma: a warpgroup per 64 rows");
  static_assert(N % 64 == 0 && K % 16 == 0, "wgmma: mma_ab shape");
  const faopt_u32 sb = b.shared_base();
  pin(c);
  wgmma::pin(reinterpret_cast<faopt_u32(&)[K / 16 * 4]>(a.v));
  wgmma::before_product<W, PINGPONG>(false);
  wgmma::fence();
#pragma unroll
  for (int kk = 0; kk < K / 16; ++kk) {
    // k rows [16 kk, 16 kk + 16) of the slab that holds column n0.
    const faopt_u32 k = sb + kk * 16 * 128;
#pragma unroll
    for (int n0 = 0; n0 + 128 <= N; n0 += 128)
      wgmma::Mma<T, 128>::rs(
          &c.v[0][n0 / 8][0], a.v[0][kk],
          wgmma::descriptor(k + (n0 / 64) * TB::kSlabBytes, TB::kSlabBytes, 1024));
    if constexpr (N % 128 != 0)
      wgmma::Mma<T, 64>::rs(
          &c.v[0][(N - 64) / 8][0], a.v[0][kk],
          wgmma::descriptor(k + (N - 64) / 64 * TB::kSlabBytes, TB::kSlabBytes, 1024));
  }
  wgmma::commit();
  wgmma::after_product<W, PINGPONG>(false);
  return c;
}

template <int W, bool PINGPONG, typename T, int M, int N, int K>
FAOPT_DEVICE Acc<M, N, W> mma_ab(OperandA<T, M, K, W> a, SmemTile<T, K, N> b,
                                 Acc<M, N, W> c) {
  return mma_wait<0>(mma_ab_async<W, PINGPONG>(a, b, c));
}

} // namespace faopt
