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
//     XOR-swizzled shared memory (conflict-free), cp.async global->shared
//     copies with zero-fill past the sequence end.
//   * Row statistics (max, sum) reduced across the 4 lanes that share a row.
//
// faopt_sm90.cuh defines FAOPT_WGMMA and includes this file: its kernels keep
// everything here except the shared-memory tile layout and the two products,
// which come from wgmma (one warpgroup per 64 rows; the accumulator of a
// warp's 16 rows has the mma.sync layout, so fragments are shared).
//
// Self-contained: no CUDA headers, so NVRTC needs nothing but this file.
// Sizes and strides are int64; lanes compute in int32 where it is safe.

#pragma once

#ifndef FAOPT_WGMMA
#define FAOPT_WGMMA 0
#endif

#define FAOPT_DEVICE __device__ __forceinline__

// Fixed-width integers: NVRTC has no <cstdint>.
#if defined(__CUDACC_RTC__)
typedef long long int64_t;
typedef unsigned long long uint64_t;
typedef int int32_t;
typedef unsigned int uint32_t;
#else
#include <cstdint>
#endif

typedef unsigned int faopt_u32;
typedef unsigned short faopt_u16;
typedef long long faopt_i64;

#ifndef INFINITY
#define INFINITY (__int_as_float(0x7f800000))
#endif
#ifndef NAN
#define NAN (__int_as_float(0x7fffffff))
#endif

namespace faopt {

// ---------------------------------------------------------------------------
// Scalar helpers the generated code uses for arith ops C has no operator
// for (unsigned views of int64, floor/ceil division, min/max).
// ---------------------------------------------------------------------------
typedef unsigned long long u64;
FAOPT_DEVICE faopt_i64 udiv(faopt_i64 a, faopt_i64 b) { return (faopt_i64)((u64)a / (u64)b); }
FAOPT_DEVICE faopt_i64 urem(faopt_i64 a, faopt_i64 b) { return (faopt_i64)((u64)a % (u64)b); }
FAOPT_DEVICE faopt_i64 ceil_div_u(faopt_i64 a, faopt_i64 b) {
  return a == 0 ? 0 : (faopt_i64)(((u64)a - 1) / (u64)b + 1);
}
FAOPT_DEVICE faopt_i64 floor_div(faopt_i64 a, faopt_i64 b) {
  faopt_i64 q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}
FAOPT_DEVICE faopt_i64 ceil_div(faopt_i64 a, faopt_i64 b) {
  faopt_i64 q = a / b;
  return (a % b != 0 && ((a < 0) == (b < 0))) ? q + 1 : q;
}
FAOPT_DEVICE faopt_i64 shr_u(faopt_i64 a, faopt_i64 s) { return (faopt_i64)((u64)a >> s); }
FAOPT_DEVICE faopt_i64 imin(faopt_i64 a, faopt_i64 b) { return a < b ? a : b; }
FAOPT_DEVICE faopt_i64 imax(faopt_i64 a, faopt_i64 b) { return a > b ? a : b; }
FAOPT_DEVICE faopt_i64 iabs(faopt_i64 a) { return a < 0 ? -a : a; }
// 32-bit twins for index arithmetic attn-narrow-index-math proved small.
FAOPT_DEVICE int32_t floor_div32(int32_t a, int32_t b) {
  int32_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}
FAOPT_DEVICE int32_t ceil_div32(int32_t a, int32_t b) {
  int32_t q = a / b;
  return (a % b != 0 && ((a < 0) == (b < 0))) ? q + 1 : q;
}
FAOPT_DEVICE int32_t imin32(int32_t a, int32_t b) { return a < b ? a : b; }
FAOPT_DEVICE int32_t imax32(int32_t a, int32_t b) { return a > b ? a : b; }
// (Unsigned ones only see non-negative operands: the pass proves it.)
FAOPT_DEVICE int32_t udiv32(int32_t a, int32_t b) { return (int32_t)((unsigned)a / (unsigned)b); }
FAOPT_DEVICE int32_t urem32(int32_t a, int32_t b) { return (int32_t)((unsigned)a % (unsigned)b); }
FAOPT_DEVICE int32_t ceil_div_u32(int32_t a, int32_t b) {
  return a == 0 ? 0 : (int32_t)(((unsigned)a - 1) / (unsigned)b + 1);
}
FAOPT_DEVICE bool ult32(int32_t a, int32_t b) { return (unsigned)a < (unsigned)b; }
FAOPT_DEVICE bool ule32(int32_t a, int32_t b) { return (unsigned)a <= (unsigned)b; }
FAOPT_DEVICE bool ugt32(int32_t a, int32_t b) { return (unsigned)a > (unsigned)b; }
FAOPT_DEVICE bool uge32(int32_t a, int32_t b) { return (unsigned)a >= (unsigned)b; }
FAOPT_DEVICE bool ult(faopt_i64 a, faopt_i64 b) { return (u64)a < (u64)b; }
FAOPT_DEVICE bool ule(faopt_i64 a, faopt_i64 b) { return (u64)a <= (u64)b; }
FAOPT_DEVICE bool ugt(faopt_i64 a, faopt_i64 b) { return (u64)a > (u64)b; }
FAOPT_DEVICE bool uge(faopt_i64 a, faopt_i64 b) { return (u64)a >= (u64)b; }

// ---------------------------------------------------------------------------
// Element types: 16-bit storage, distinct types for dispatch.
// ---------------------------------------------------------------------------
struct bf16 { faopt_u16 bits; };
struct f16 { faopt_u16 bits; };

template <typename T> struct Convert;
template <> struct Convert<bf16> {
  // Two floats to a packed pair; `lo` lands in the low half (lower index).
  static FAOPT_DEVICE faopt_u32 pack(float lo, float hi) {
    faopt_u32 r;
    asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(hi), "f"(lo));
    return r;
  }
};
template <> struct Convert<f16> {
  static FAOPT_DEVICE faopt_u32 pack(float lo, float hi) {
    faopt_u32 r;
    asm("cvt.rn.f16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(hi), "f"(lo));
    return r;
  }
};

// ---------------------------------------------------------------------------
// Kernel arguments: a strided view, mirroring a memref descriptor. Rank 4 is
// [batch, heads, seq, dim] (dim contiguous); rank 3 is [batch, heads, seq].
// ---------------------------------------------------------------------------
template <typename T, int Rank> struct Tensor {
  T *data;
  faopt_i64 size[Rank];
  faopt_i64 stride[Rank];
};

template <int I, typename T, int Rank>
FAOPT_DEVICE faopt_i64 dim(const Tensor<T, Rank> &t) { return t.size[I]; }

/// t[i0, i1, ...] of a tensor input (the indices are in bounds: the
/// generated code clamps them). Read through the read-only data cache.
template <typename T, int Rank, typename... I>
FAOPT_DEVICE T load(const Tensor<T, Rank> &t, I... index) {
  static_assert(sizeof...(I) == Rank, "one index per dimension");
  const faopt_i64 at[] = {static_cast<faopt_i64>(index)...};
  faopt_i64 offset = 0;
#pragma unroll
  for (int d = 0; d < Rank; ++d)
    offset += at[d] * t.stride[d];
  return __ldg(t.data + offset);
}

/// The program order (which q-block and head a block index means) is decided
/// in the IR by attn-schedule-grid; the kernel only reads blockIdx.
template <int I> FAOPT_DEVICE faopt_i64 block_index() {
  return I == 0 ? (faopt_i64)blockIdx.x : I == 1 ? (faopt_i64)blockIdx.y
                                                 : (faopt_i64)blockIdx.z;
}

/// A persistent kernel's worker count (attn.workers): the grid size.
template <int I> FAOPT_DEVICE faopt_i64 grid_size() {
  return I == 0 ? (faopt_i64)gridDim.x : I == 1 ? (faopt_i64)gridDim.y
                                                : (faopt_i64)gridDim.z;
}

/// attn.await_list_builder: until the grid launched before this one (the
/// kv-block list builder) has finished and its writes are visible. The
/// runtime starts list-driven sm90a kernels with programmatic dependent
/// launch, so their CTAs may be running before the builder ends; without
/// it (or before sm_90) the builder has ended already.
FAOPT_DEVICE void await_list_builder() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}
/// The list builder lets the kernel after it start (it still waits in
/// await_list_builder for the builder to finish): once every builder CTA
/// has run this or exited, the dependent launch may begin.
FAOPT_DEVICE void allow_dependent_launch() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}

FAOPT_DEVICE int lane_id() { return threadIdx.x & 31; }
FAOPT_DEVICE int warp_id() { return threadIdx.x >> 5; }
FAOPT_DEVICE void barrier() { __syncthreads(); }
/// A barrier of the THREADS threads that run the kernel body: the CTA, or
/// with a producer warpgroup (faopt_sm90_tma.cuh, which has exited by then)
/// the consumers only, on named barrier 4.
template <int THREADS> FAOPT_DEVICE void body_barrier() {
#if defined(FAOPT_TMA) && FAOPT_TMA
  asm volatile("bar.sync 4, %0;" ::"n"(THREADS) : "memory");
#else
  __syncthreads();
#endif
}

/// Hides a value from the optimiser. Address arithmetic derived from it is
/// then recomputed where it is used (a few integer ops) instead of being
/// hoisted out of the kv loop into registers the fragments need.
template <typename T> FAOPT_DEVICE T opaque(T x) {
  static_assert(sizeof(T) == 4 || sizeof(T) == 8, "opaque: 32/64-bit values");
  if constexpr (sizeof(T) == 4)
    asm volatile("" : "+r"(x));
  else
    asm volatile("" : "+l"(x));
  return x;
}

FAOPT_DEVICE float exp2_approx(float x) {
  float r;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(r) : "f"(x));
  return r;
}

// ---------------------------------------------------------------------------
// Shared memory tiles: R rows of C 16-bit elements in 16-byte chunks, XOR-
// swizzled so that the 8 rows an ldmatrix (or wgmma) reads and the rows
// cp.async writes fall in distinct banks.
//   * mma.sync kernels: row-major, chunk c of row r at chunk c ^ (r / k % s).
//   * wgmma kernels (FAOPT_WGMMA, faopt_sm90.cuh): wgmma's canonical 128-byte
//     swizzle: 64-column slabs of R rows x 128 bytes, chunk c of row r at
//     chunk (c % 8) ^ (r % 8) of its slab. Tiles start 1024-byte aligned.
// ---------------------------------------------------------------------------
template <typename T, int R, int C> struct SmemTile {
  static_assert(C % 8 == 0, "rows are whole 16-byte chunks");
  static constexpr int kChunks = C / 8;                      // per row
  static constexpr int kBytes = R * C * 2;
#if FAOPT_WGMMA
  static_assert(C % 64 == 0, "wgmma tiles are whole 64-column slabs");
  static constexpr int kRowBytes = 128;      // row pitch inside a slab
  static constexpr int kSlabBytes = R * 128; // one 64-column slab
  FAOPT_DEVICE static int offset(int row, int chunk) {
    return (chunk >> 3) * kSlabBytes + row * 128 + (((chunk & 7) ^ (row & 7)) << 4);
  }
#else
  static constexpr int kSwz = kChunks < 8 ? kChunks : 8;     // xor width
  static constexpr int kRowsPerSwz = 8 / kSwz;               // rows per xor step
  static constexpr int kRowBytes = C * 2;
  FAOPT_DEVICE static int offset(int row, int chunk) {
    return row * (C * 2) + (chunk ^ ((row / kRowsPerSwz) % kSwz)) * 16;
  }
#endif
  // The tile's shared-window address. Kept as a 32-bit integer, not a
  // generic pointer: from a generic `char *` NVRTC's NVVM does every
  // address computation in 64 bits (nvcc's uses 32-bit shared pointers),
  // which costs the kernels registers and integer issue slots.
  faopt_u32 sbase;

  FAOPT_DEVICE faopt_u32 chunk_addr(int row, int chunk) const {
    return sbase + offset(row, chunk);
  }
  /// Shared-window address of the tile, hidden from the optimiser.
  FAOPT_DEVICE faopt_u32 shared_base() const { return opaque(sbase); }
  /// Address of (row, chunk) from shared_base().
  FAOPT_DEVICE static faopt_u32 addr(faopt_u32 base, int row, int chunk) {
    return base + offset(row, chunk);
  }
};

#if FAOPT_WGMMA
extern __shared__ __align__(1024) char faopt_smem[];
#else
extern __shared__ __align__(128) char faopt_smem[];
#endif

/// Shared-window address of the dynamic shared memory.
FAOPT_DEVICE faopt_u32 smem_base() {
  return (faopt_u32)__cvta_generic_to_shared(faopt_smem);
}
template <typename T, int R, int C>
FAOPT_DEVICE SmemTile<T, R, C> smem(faopt_i64 byte_offset) {
  SmemTile<T, R, C> t;
  t.sbase = smem_base() + (faopt_u32)byte_offset;
  return t;
}
FAOPT_DEVICE void st_shared_b32(faopt_u32 addr, faopt_u32 v) {
  asm volatile("st.shared.b32 [%0], %1;" ::"r"(addr), "r"(v) : "memory");
}
FAOPT_DEVICE uint4 ld_shared_v4(faopt_u32 addr) {
  uint4 v;
  asm volatile("ld.shared.v4.b32 {%0, %1, %2, %3}, [%4];"
               : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
               : "r"(addr)
               : "memory");
  return v;
}

// ---------------------------------------------------------------------------
// Global -> shared copies (cp.async, 16 bytes per request).
// ---------------------------------------------------------------------------
FAOPT_DEVICE void cp_async_16(faopt_u32 dst, const void *src, bool valid) {
  int bytes = valid ? 16 : 0; // 0: fill with zeros, read nothing
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" ::"r"(dst),
               "l"(src), "r"(bytes));
}
FAOPT_DEVICE void cp_async_commit() { asm volatile("cp.async.commit_group;"); }
/// After a thread's copies landed and before the barrier that publishes
/// them: wgmma reads shared memory through the async proxy, which must see
/// what cp.async wrote through the generic one. Nothing on mma.sync kernels.
FAOPT_DEVICE void publish_to_async_proxy() {
#if FAOPT_WGMMA
  asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
#endif
}
template <int N> FAOPT_DEVICE void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;" ::"n"(N));
}

/// Issues the copy of rows [row0, row0 + R) of src[b, h] into `dst`; rows at
/// or past `bound` become zeros. One commit group.
template <int THREADS, typename T, int R, int C>
FAOPT_DEVICE void issue_tile_load(SmemTile<T, R, C> dst,
                                  const Tensor<T, 4> &src, faopt_i64 b,
                                  faopt_i64 h, faopt_i64 row0,
                                  faopt_i64 bound) {
  using Tile = SmemTile<T, R, C>;
  constexpr int kChunks = Tile::kChunks;
  static_assert(THREADS % kChunks == 0 && (R * kChunks) % THREADS == 0,
                "tile must split evenly over threads");
  // Each pass copies kRowsPerPass whole rows; a thread keeps its chunk
  // column, so its addresses advance by a constant per pass.
  constexpr int kRowsPerPass = THREADS / kChunks;
  static_assert(kRowsPerPass % 8 == 0 || R <= kRowsPerPass,
                "passes must preserve the swizzle phase");
  const int tid = opaque((int)threadIdx.x);
  const int row = tid / kChunks, chunk = tid % kChunks;
  faopt_i64 rowStrideBytes = src.stride[2] * 2;
  const char *g = (const char *)(src.data + b * src.stride[0] +
                                 h * src.stride[1]) +
                  (row0 + row) * rowStrideBytes + chunk * 16;
  faopt_u32 s = Tile::addr(dst.shared_base(), row, chunk);
  faopt_i64 left = bound - row0 - row; // rows this thread may still read
#pragma unroll
  for (int i = 0; i < R / kRowsPerPass; ++i) {
    bool valid = i * kRowsPerPass < left;
    cp_async_16(s + i * kRowsPerPass * Tile::kRowBytes,
                valid ? g + i * kRowsPerPass * rowStrideBytes : g - 0,
                valid);
  }
  cp_async_commit();
}

/// The tile, complete and visible to every thread of the CTA. The leading
/// barrier keeps the copy from overwriting data other warps still read.
template <int THREADS, typename T, int R, int C>
FAOPT_DEVICE SmemTile<T, R, C> load_tile(SmemTile<T, R, C> dst,
                                         const Tensor<T, 4> &src, faopt_i64 b,
                                         faopt_i64 h, faopt_i64 row0,
                                         faopt_i64 bound) {
  __syncthreads();
  issue_tile_load<THREADS>(dst, src, b, h, row0, bound);
  cp_async_wait<0>();
  publish_to_async_proxy();
  __syncthreads();
  return dst;
}

/// Software pipelining (attn.tile_prefetch): start filling one stage. The
/// barrier (first prefetch of a group) keeps the copy from overwriting data
/// other warps still read from the previous use of this stage.
template <int THREADS, bool BARRIER, typename T, int R, int C>
FAOPT_DEVICE void prefetch_tile(SmemTile<T, R, C> dst, const Tensor<T, 4> &src,
                                faopt_i64 b, faopt_i64 h, faopt_i64 row0,
                                faopt_i64 bound) {
  if (BARRIER)
    __syncthreads();
  issue_tile_load<THREADS>(dst, src, b, h, row0, bound);
}

/// attn.tile_wait: the stage's tile once its copies are complete. With
/// `ahead`, the AHEAD newest copy groups (the next stage) stay in flight.
/// Only the first wait of a group waits and synchronises; the others find
/// their data already there.
template <int AHEAD, bool FIRST, typename T, int R, int C>
FAOPT_DEVICE SmemTile<T, R, C> wait_tile(SmemTile<T, R, C> tile, bool ahead) {
  if (FIRST) {
    if (ahead)
      cp_async_wait<AHEAD>();
    else
      cp_async_wait<0>();
    publish_to_async_proxy();
    __syncthreads();
  }
  return tile;
}

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
template <auto F, int M, int N, int W, typename... X>
FAOPT_DEVICE Acc<M, N, W> map_positions(Acc<M, N, W> s, faopt_i64 b,
                                        faopt_i64 h, faopt_i64 q0,
                                        faopt_i64 kv0, X... extra) {
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
