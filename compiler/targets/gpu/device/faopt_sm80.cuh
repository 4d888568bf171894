// faopt_sm80.cuh - device primitives for faopt's generated attention kernels.
//
// Generated kernels (compiler/targets/gpu) call these functions, one per tile
// operation of the attn dialect. The structure of a kernel - grid, kv loop,
// block classification, which blocks are masked - comes from the compiler;
// this header only knows how to do one tile operation well on tensor cores:
//
//   * FlashAttention-2 warp partitioning: a CTA of W warps owns a block of
//     M query rows; warp w owns rows [w*M/W, (w+1)*M/W), so S = Q K^T, P and
//     the O accumulator live in registers, never in shared memory.
//   * mma.sync.m16n8k16 (bf16/f16 in, f32 accumulate) fed by ldmatrix from
//     XOR-swizzled shared memory (conflict-free), which cp.async copies fill
//     with zeros past the sequence end (both in faopt_tiles.cuh).
//   * Row statistics (max, sum) reduced across the 4 lanes that share a row.
//
// faopt_sm90.cuh defines FAOPT_WGMMA and includes this file: its kernels keep
// everything here except the shared-memory tile layout and the two products,
// which come from wgmma (one warpgroup per 64 rows; the accumulator of a
// warp's 16 rows has the mma.sync layout, so fragments are shared).
//
// Built on faopt_tiles.cuh (types, tensor views, shared-memory tiles,
// cp.async copies). Self-contained: no CUDA headers, so NVRTC needs nothing
// but the embedded device headers. Sizes and strides are int64; lanes
// compute in int32 where it is safe.

#pragma once

#include "faopt_tiles.cuh"

namespace faopt {

// ---------------------------------------------------------------------------
// Register fragments of the mma.m16n8k16 accumulator layout.
// A CTA tile of M x N floats over W warps: warp w owns rows
// [w*M/W, (w+1)*M/W) as MT = M/W/16 m-tiles; NT = N/8 n-tiles per row.
// Lane l holds, per (m-tile, n-tile), 4 values:
//   [0],[1]: row l/4,     cols 2(l%4), 2(l%4)+1
//   [2],[3]: row l/4 + 8, same cols
// ---------------------------------------------------------------------------
template <int M, int N, int W> struct Acc {
  static_assert(M % (16 * W) == 0 && N % 8 == 0, "fragment shape");
  static constexpr int MT = M / W / 16, NT = N / 8, kSize = MT * NT * 4;
  float v[MT][NT][4];
};

/// Per-row values for the rows a lane owns: [mt][0] row l/4, [mt][1] row l/4+8
/// of m-tile mt. The 4 lanes of a quad hold the same rows.
template <int M, int W> struct Rows {
  static constexpr int MT = M / W / 16;
  float v[MT][2];
};

/// Packed 16-bit A operands (M x K), as mma.m16n8k16 reads them.
template <typename T, int M, int K, int W> struct OperandA {
  static constexpr int MT = M / W / 16, KT = K / 16;
  faopt_u32 v[MT][KT][4];
};

/// A finished output tile: normalised values packed in pairs, accumulator
/// layout.
template <typename T, int M, int N, int W> struct OutTile {
  static constexpr int MT = M / W / 16, NT = N / 8;
  faopt_u32 v[MT][NT][2];
};

template <int M, int N, int W> FAOPT_DEVICE Acc<M, N, W> acc_fill(float x) {
  Acc<M, N, W> a;
#pragma unroll
  for (int mt = 0; mt < Acc<M, N, W>::MT; ++mt)
#pragma unroll
    for (int nt = 0; nt < Acc<M, N, W>::NT; ++nt)
#pragma unroll
      for (int i = 0; i < 4; ++i)
        a.v[mt][nt][i] = x;
  return a;
}

template <int M, int W> FAOPT_DEVICE Rows<M, W> rows_fill(float x) {
  Rows<M, W> r;
#pragma unroll
  for (int mt = 0; mt < Rows<M, W>::MT; ++mt)
    r.v[mt][0] = r.v[mt][1] = x;
  return r;
}

/// Row (within the CTA tile) of fragment element (mt, i).
template <int M, int W> FAOPT_DEVICE int frag_row(int mt, int i) {
  return warp_id() * (M / W) + mt * 16 + (lane_id() >> 2) + (i >= 2 ? 8 : 0);
}
/// Column of fragment element (nt, i).
FAOPT_DEVICE int frag_col(int nt, int i) {
  return nt * 8 + (lane_id() & 3) * 2 + (i & 1);
}

// ---------------------------------------------------------------------------
// Tensor-core products (mma.sync; wgmma kernels get theirs from
// faopt_sm90.cuh).
// ---------------------------------------------------------------------------
#if !FAOPT_WGMMA
template <typename T> struct Mma;
template <> struct Mma<bf16> {
  static FAOPT_DEVICE void run(float (&d)[4], const faopt_u32 (&a)[4],
                               faopt_u32 b0, faopt_u32 b1) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
        "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  }
};
template <> struct Mma<f16> {
  static FAOPT_DEVICE void run(float (&d)[4], const faopt_u32 (&a)[4],
                               faopt_u32 b0, faopt_u32 b1) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 "
        "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  }
};

FAOPT_DEVICE void ldmatrix_x4(faopt_u32 (&r)[4], faopt_u32 addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(addr));
}
FAOPT_DEVICE void ldmatrix_x4_trans(faopt_u32 (&r)[4], faopt_u32 addr) {
  asm volatile(
      "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];"
      : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
      : "r"(addr));
}

/// S = A B^T with A [M, K] and B [N, K] in shared memory (Q K^T).
template <int W, typename T, int M, int N, int K>
FAOPT_DEVICE Acc<M, N, W> mma_abt(SmemTile<T, M, K> a, SmemTile<T, N, K> b) {
  using Out = Acc<M, N, W>;
  using TA = SmemTile<T, M, K>;
  using TB = SmemTile<T, N, K>;
  static_assert(K % 16 == 0 && N % 16 == 0, "mma_abt shape");
  Out s = acc_fill<M, N, W>(0.0f);
  const int l = opaque(lane_id());
  const int aRow = warp_id() * (M / W) + (l & 7) + ((l >> 3) & 1) * 8;
  const int aChunk = l >> 4;
  const int bRow = (l & 7) + (l >> 4) * 8;
  const int bChunk = (l >> 3) & 1;
  const faopt_u32 sa = a.shared_base(), sb = b.shared_base();
#pragma unroll
  for (int kk = 0; kk < K / 16; ++kk) {
    faopt_u32 af[Out::MT][4];
#pragma unroll
    for (int mt = 0; mt < Out::MT; ++mt)
      ldmatrix_x4(af[mt], TA::addr(sa, aRow + mt * 16, kk * 2 + aChunk));
#pragma unroll
    for (int np = 0; np < N / 16; ++np) {
      faopt_u32 bf[4];
      ldmatrix_x4(bf, TB::addr(sb, bRow + np * 16, kk * 2 + bChunk));
#pragma unroll
      for (int mt = 0; mt < Out::MT; ++mt) {
        Mma<T>::run(s.v[mt][2 * np], af[mt], bf[0], bf[1]);
        Mma<T>::run(s.v[mt][2 * np + 1], af[mt], bf[2], bf[3]);
      }
    }
  }
  return s;
}

/// C + A B with A packed in registers [M, K] and B [K, N] in shared memory
/// (O += P V).
template <int W, typename T, int M, int N, int K>
FAOPT_DEVICE Acc<M, N, W> mma_ab(const OperandA<T, M, K, W> &a,
                                 SmemTile<T, K, N> b, Acc<M, N, W> c) {
  using Out = Acc<M, N, W>;
  using TB = SmemTile<T, K, N>;
  static_assert(K % 16 == 0 && N % 16 == 0, "mma_ab shape");
  const int l = opaque(lane_id());
  const int bRow = (l & 7) + ((l >> 3) & 1) * 8;
  const int bChunk = l >> 4;
  const faopt_u32 sb = b.shared_base();
#pragma unroll
  for (int kk = 0; kk < K / 16; ++kk) {
#pragma unroll
    for (int np = 0; np < N / 16; ++np) {
      faopt_u32 bf[4];
      ldmatrix_x4_trans(bf, TB::addr(sb, kk * 16 + bRow, np * 2 + bChunk));
#pragma unroll
      for (int mt = 0; mt < Out::MT; ++mt) {
        Mma<T>::run(c.v[mt][2 * np], a.v[mt][kk], bf[0], bf[1]);
        Mma<T>::run(c.v[mt][2 * np + 1], a.v[mt][kk], bf[2], bf[3]);
      }
    }
  }
  return c;
}

#endif // !FAOPT_WGMMA

/// Rounds an f32 tile to T and repacks it as an A operand: the accumulator
/// layout of two adjacent n-tiles is the A layout of one k-tile.
template <typename T, int M, int K, int W>
FAOPT_DEVICE OperandA<T, M, K, W> to_operand_a(const Acc<M, K, W> &p) {
  OperandA<T, M, K, W> a;
#pragma unroll
  for (int mt = 0; mt < Acc<M, K, W>::MT; ++mt)
#pragma unroll
    for (int kk = 0; kk < K / 16; ++kk) {
      a.v[mt][kk][0] = Convert<T>::pack(p.v[mt][2 * kk][0], p.v[mt][2 * kk][1]);
      a.v[mt][kk][1] = Convert<T>::pack(p.v[mt][2 * kk][2], p.v[mt][2 * kk][3]);
      a.v[mt][kk][2] =
          Convert<T>::pack(p.v[mt][2 * kk + 1][0], p.v[mt][2 * kk + 1][1]);
      a.v[mt][kk][3] =
          Convert<T>::pack(p.v[mt][2 * kk + 1][2], p.v[mt][2 * kk + 1][3]);
    }
  return a;
}

// ---------------------------------------------------------------------------
// Elementwise and row operations.
// ---------------------------------------------------------------------------

/// s[i][j] = F(s[i][j], b, h, q0 + i, kv0 + j, extra...) for the elements
/// this lane holds. F is a generated __device__ function.
///
/// FAOPT_DIAG_NO_MASKS (timing only: the results are wrong) makes this and
/// map_positions_in_rows return the scores unchanged: no mask, and no score
/// modifier on any block either. For pure masks (every benchmark variant)
/// the masked blocks then cost what full ones do: the ceiling of any work
/// on masks (FAOPT_NVRTC_OPTIONS=-DFAOPT_DIAG_NO_MASKS with bench/ab-env.sh
/// --no-tests; docs/status.md, Next).
template <auto F, int M, int N, int W, typename... X>
FAOPT_DEVICE Acc<M, N, W> map_positions(Acc<M, N, W> s, faopt_i64 b,
                                        faopt_i64 h, faopt_i64 q0,
                                        faopt_i64 kv0, X... extra) {
#ifdef FAOPT_DIAG_NO_MASKS
  return s;
#endif
#pragma unroll
  for (int mt = 0; mt < Acc<M, N, W>::MT; ++mt)
#pragma unroll
    for (int nt = 0; nt < Acc<M, N, W>::NT; ++nt)
#pragma unroll
      for (int i = 0; i < 4; ++i)
        s.v[mt][nt][i] =
            F(s.v[mt][nt][i], b, h, q0 + frag_row<M, W>(mt, i),
              kv0 + frag_col(nt, i), extra...);
  return s;
}

/// A row's kv bound relative to the lane's first column `base`, clamped
/// to [-1, N] (which keeps every comparison with a column offset in
/// [0, N) the same); clamped before the subtraction, so nothing overflows.
/// attn-kv-bounds-in-rows returns an int32_t bound where it provably fits
/// (all 32-bit arithmetic), else a 64-bit one.
template <int N, typename T> FAOPT_DEVICE int relative_bound(T bound, int base) {
  if constexpr (sizeof(T) <= 4)
    return imin32(imax32((int32_t)bound, base - 1), base + N) - base;
  else
    return (int)(imin((faopt_i64)imax((faopt_i64)bound, (faopt_i64)base - 1),
                      (faopt_i64)base + N) - base);
}

/// map_positions for a mask that bounds kv per row (attn-kv-bounds-in-rows):
/// LO and HI give each row's first and last kv allowed (F's arguments; they
/// read neither the score nor kv), F the score. The bounds are taken
/// relative to this lane's first column (relative_bound), so each score
/// costs two compares against a constant and a select (and F).
/// Positions are below 2^29 + 1024 (the runtime's limit), so rows and
/// columns are 32-bit here.
template <auto LO, auto HI, auto F, int M, int N, int W, typename... X>
FAOPT_DEVICE Acc<M, N, W> map_positions_in_rows(Acc<M, N, W> s, faopt_i64 b,
                                                faopt_i64 h, faopt_i64 q0,
                                                faopt_i64 kv0, X... extra) {
#ifdef FAOPT_DIAG_NO_MASKS
  return s;
#endif
  const int base = (int)kv0 + frag_col(0, 0);
#pragma unroll
  for (int mt = 0; mt < Acc<M, N, W>::MT; ++mt)
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      const int q = (int)q0 + frag_row<M, W>(mt, 2 * half);
      const int lo = relative_bound<N>(LO(0.0f, b, h, q, base, extra...), base);
      const int hi = relative_bound<N>(HI(0.0f, b, h, q, base, extra...), base);
#pragma unroll
      for (int nt = 0; nt < Acc<M, N, W>::NT; ++nt)
#pragma unroll
        for (int j = 0; j < 2; ++j) {
          const int col = nt * 8 + j; // frag_col(nt, j) - frag_col(0, 0)
          // F unconditionally (it is pure and its reads are clamped): kept
          // under the compare, its reads would not be shared between scores.
          const float y = F(s.v[mt][nt][2 * half + j], b, h, q, base + col, extra...);
          s.v[mt][nt][2 * half + j] = col >= lo && col <= hi ? y : -__int_as_float(0x7f800000);
        }
    }
  return s;
}

FAOPT_DEVICE float quad_max(float x) {
  x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, 1));
  return fmaxf(x, __shfl_xor_sync(0xffffffffu, x, 2));
}
FAOPT_DEVICE float quad_sum(float x) {
  x += __shfl_xor_sync(0xffffffffu, x, 1);
  return x + __shfl_xor_sync(0xffffffffu, x, 2);
}

/// init[r] max (max over the row of s).
template <int M, int N, int W>
FAOPT_DEVICE Rows<M, W> row_max(const Acc<M, N, W> &s, Rows<M, W> r) {
#pragma unroll
  for (int mt = 0; mt < Acc<M, N, W>::MT; ++mt) {
    float m0 = -__int_as_float(0x7f800000), m1 = m0;
#pragma unroll
    for (int nt = 0; nt < Acc<M, N, W>::NT; ++nt) {
      m0 = fmaxf(m0, fmaxf(s.v[mt][nt][0], s.v[mt][nt][1]));
      m1 = fmaxf(m1, fmaxf(s.v[mt][nt][2], s.v[mt][nt][3]));
    }
    r.v[mt][0] = fmaxf(r.v[mt][0], quad_max(m0));
    r.v[mt][1] = fmaxf(r.v[mt][1], quad_max(m1));
  }
  return r;
}

/// init[r] + (sum over the row of s).
template <int M, int N, int W>
FAOPT_DEVICE Rows<M, W> row_sum(const Acc<M, N, W> &s, Rows<M, W> r) {
#pragma unroll
  for (int mt = 0; mt < Acc<M, N, W>::MT; ++mt) {
    float s0 = 0.0f, s1 = 0.0f;
#pragma unroll
    for (int nt = 0; nt < Acc<M, N, W>::NT; ++nt) {
      s0 += s.v[mt][nt][0] + s.v[mt][nt][1];
      s1 += s.v[mt][nt][2] + s.v[mt][nt][3];
    }
    r.v[mt][0] += quad_sum(s0);
    r.v[mt][1] += quad_sum(s1);
  }
  return r;
}

/// init[r] + (sum over this lane's columns of row r): the quad's four lanes
/// each keep a share of the row sum (see LanePartialSums.h).
template <int M, int N, int W>
FAOPT_DEVICE Rows<M, W> row_sum_lanes(const Acc<M, N, W> &s, Rows<M, W> r) {
#pragma unroll
  for (int mt = 0; mt < Acc<M, N, W>::MT; ++mt) {
    float s0 = 0.0f, s1 = 0.0f; // the block's share first: less rounding
#pragma unroll
    for (int nt = 0; nt < Acc<M, N, W>::NT; ++nt) {
      s0 += s.v[mt][nt][0] + s.v[mt][nt][1];
      s1 += s.v[mt][nt][2] + s.v[mt][nt][3];
    }
    r.v[mt][0] += s0;
    r.v[mt][1] += s1;
  }
  return r;
}

/// Per-lane shares of row values summed over each quad.
template <int M, int W> FAOPT_DEVICE Rows<M, W> rows_quad_sum(Rows<M, W> r) {
#pragma unroll
  for (int mt = 0; mt < Rows<M, W>::MT; ++mt) {
    r.v[mt][0] = quad_sum(r.v[mt][0]);
    r.v[mt][1] = quad_sum(r.v[mt][1]);
  }
  return r;
}

/// A row maximum of -inf (nothing seen yet) counts as 0, so that exp2 of a
/// fully masked row is 0 rather than NaN.
FAOPT_DEVICE float safe_max(float m) {
  return m == -__int_as_float(0x7f800000) ? 0.0f : m;
}

/// exp2(k (x - m)) as exp2(fma(x, k, -k m)): one multiply-add per element.
template <int M, int N, int W>
FAOPT_DEVICE Acc<M, N, W> tile_exp2(Acc<M, N, W> x, const Rows<M, W> &m,
                                    float k) {
#pragma unroll
  for (int mt = 0; mt < Acc<M, N, W>::MT; ++mt) {
    float m0 = -k * safe_max(m.v[mt][0]), m1 = -k * safe_max(m.v[mt][1]);
#pragma unroll
    for (int nt = 0; nt < Acc<M, N, W>::NT; ++nt) {
      x.v[mt][nt][0] = exp2_approx(fmaf(x.v[mt][nt][0], k, m0));
      x.v[mt][nt][1] = exp2_approx(fmaf(x.v[mt][nt][1], k, m0));
      x.v[mt][nt][2] = exp2_approx(fmaf(x.v[mt][nt][2], k, m1));
      x.v[mt][nt][3] = exp2_approx(fmaf(x.v[mt][nt][3], k, m1));
    }
  }
  return x;
}

template <int M, int W>
FAOPT_DEVICE Rows<M, W> tile_exp2(Rows<M, W> x, const Rows<M, W> &m, float k) {
#pragma unroll
  for (int mt = 0; mt < Rows<M, W>::MT; ++mt)
#pragma unroll
    for (int i = 0; i < 2; ++i)
      x.v[mt][i] = exp2_approx(k * (x.v[mt][i] - safe_max(m.v[mt][i])));
  return x;
}

template <int M, int N, int W>
FAOPT_DEVICE Acc<M, N, W> scale_rows(Acc<M, N, W> x, const Rows<M, W> &f) {
#pragma unroll
  for (int mt = 0; mt < Acc<M, N, W>::MT; ++mt)
#pragma unroll
    for (int nt = 0; nt < Acc<M, N, W>::NT; ++nt) {
      x.v[mt][nt][0] *= f.v[mt][0];
      x.v[mt][nt][1] *= f.v[mt][0];
      x.v[mt][nt][2] *= f.v[mt][1];
      x.v[mt][nt][3] *= f.v[mt][1];
    }
  return x;
}

template <int M, int W>
FAOPT_DEVICE Rows<M, W> scale_rows(Rows<M, W> x, const Rows<M, W> &f) {
#pragma unroll
  for (int mt = 0; mt < Rows<M, W>::MT; ++mt) {
    x.v[mt][0] *= f.v[mt][0];
    x.v[mt][1] *= f.v[mt][1];
  }
  return x;
}

// ---------------------------------------------------------------------------
// Finalisation and stores.
// ---------------------------------------------------------------------------

/// o = acc / l, 0 where l = 0 (nothing attended), rounded to T.
template <typename T, int M, int N, int W>
FAOPT_DEVICE OutTile<T, M, N, W> finalize_output(const Rows<M, W> &m,
                                                 const Rows<M, W> &l,
                                                 const Acc<M, N, W> &acc) {
  OutTile<T, M, N, W> o;
#pragma unroll
  for (int mt = 0; mt < Acc<M, N, W>::MT; ++mt) {
    float i0 = l.v[mt][0] == 0.0f ? 0.0f : 1.0f / l.v[mt][0];
    float i1 = l.v[mt][1] == 0.0f ? 0.0f : 1.0f / l.v[mt][1];
#pragma unroll
    for (int nt = 0; nt < Acc<M, N, W>::NT; ++nt) {
      o.v[mt][nt][0] = Convert<T>::pack(acc.v[mt][nt][0] * i0, acc.v[mt][nt][1] * i0);
      o.v[mt][nt][1] = Convert<T>::pack(acc.v[mt][nt][2] * i1, acc.v[mt][nt][3] * i1);
    }
  }
  return o;
}

/// lse = ln2 (k m + log2 l), -inf where l = 0.
template <int M, int W>
FAOPT_DEVICE Rows<M, W> finalize_lse(const Rows<M, W> &m, const Rows<M, W> &l,
                                     float k) {
  Rows<M, W> r;
#pragma unroll
  for (int mt = 0; mt < Rows<M, W>::MT; ++mt)
#pragma unroll
    for (int i = 0; i < 2; ++i)
      r.v[mt][i] = l.v[mt][i] == 0.0f
                       ? -__int_as_float(0x7f800000)
                       : 0.69314718055994531f * (k * m.v[mt][i] + __log2f(l.v[mt][i]));
  return r;
}

/// Each thread's fragments of the output tile into `staging` (the shared
/// tile's layout), for store_tile and tma::store_tile.
template <typename T, int M, int N, int W>
FAOPT_DEVICE void stage_output(const OutTile<T, M, N, W> &o,
                               SmemTile<T, M, N> staging) {
  const int l = lane_id();
#pragma unroll
  for (int mt = 0; mt < OutTile<T, M, N, W>::MT; ++mt)
#pragma unroll
    for (int nt = 0; nt < OutTile<T, M, N, W>::NT; ++nt)
#pragma unroll
      for (int half = 0; half < 2; ++half) {
        int row = warp_id() * (M / W) + mt * 16 + (l >> 2) + half * 8;
        int col = nt * 8 + (l & 3) * 2;
        st_shared_b32(staging.chunk_addr(row, col / 8) + (col % 8) * 2,
                      o.v[mt][nt][half]);
      }
}

/// Writes rows [row0, min(row0 + M, bound)) of dst[b, h] through `staging`
/// (shared memory of at least M x N elements), with 16-byte coalesced stores.
template <int THREADS, typename T, int M, int N, int W>
FAOPT_DEVICE void store_tile(const OutTile<T, M, N, W> &o,
                             const Tensor<T, 4> &dst, faopt_i64 b, faopt_i64 h,
                             faopt_i64 row0, faopt_i64 bound,
                             SmemTile<T, M, N> staging) {
  cp_async_wait<0>();      // no copy may still be landing when the CTA ends
  body_barrier<THREADS>(); // the staging area may still be read (Q tile)
  stage_output(o, staging);
  body_barrier<THREADS>();
  constexpr int kChunks = SmemTile<T, M, N>::kChunks;
  constexpr int kTotal = M * kChunks;
  char *plane = (char *)(dst.data + b * dst.stride[0] + h * dst.stride[1]);
#pragma unroll
  for (int i = 0; i < (kTotal + THREADS - 1) / THREADS; ++i) {
    int idx = i * THREADS + threadIdx.x;
    if (kTotal % THREADS != 0 && idx >= kTotal)
      break;
    int row = idx / kChunks, chunk = idx % kChunks;
    faopt_i64 grow = row0 + row;
    if (grow < bound)
      *(uint4 *)(plane + grow * dst.stride[2] * 2 + chunk * 16) =
          ld_shared_v4(staging.chunk_addr(row, chunk));
  }
}

/// Writes rows [row0, min(row0 + M, bound)) of dst[b, h] straight from each
/// thread's fragments (two elements, 4 bytes, per store): no shared memory,
/// no barrier, uncoalesced. For a tile with nowhere to be staged
/// (tma::store_tile_in_stage of a program that held no V stage).
template <typename T, int M, int N, int W>
FAOPT_DEVICE void store_fragments(const OutTile<T, M, N, W> &o,
                                  const Tensor<T, 4> &dst, faopt_i64 b,
                                  faopt_i64 h, faopt_i64 row0,
                                  faopt_i64 bound) {
  const int l = lane_id();
  T *plane = dst.data + b * dst.stride[0] + h * dst.stride[1];
#pragma unroll
  for (int mt = 0; mt < OutTile<T, M, N, W>::MT; ++mt)
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      faopt_i64 row = row0 + warp_id() * (M / W) + mt * 16 + (l >> 2) + half * 8;
      if (row >= bound)
        continue;
#pragma unroll
      for (int nt = 0; nt < OutTile<T, M, N, W>::NT; ++nt)
        *(faopt_u32 *)(plane + row * dst.stride[2] + nt * 8 + (l & 3) * 2) =
            o.v[mt][nt][half];
    }
}

/// Writes one float per row (lse): rows [row0, min(row0 + M, bound)).
template <int M, int W>
FAOPT_DEVICE void store_rows(const Rows<M, W> &r, const Tensor<float, 3> &dst,
                             faopt_i64 b, faopt_i64 h, faopt_i64 row0,
                             faopt_i64 bound) {
  const int l = lane_id();
  if ((l & 3) != 0)
    return;
  float *plane = dst.data + b * dst.stride[0] + h * dst.stride[1];
#pragma unroll
  for (int mt = 0; mt < Rows<M, W>::MT; ++mt)
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      faopt_i64 row = row0 + warp_id() * (M / W) + mt * 16 + (l >> 2) + i * 8;
      if (row < bound)
        plane[row * dst.stride[2]] = r.v[mt][i];
    }
}

} // namespace faopt
