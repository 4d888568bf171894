// faopt_tiles.cuh - the base of faopt's device headers.
//
// What every generated kernel needs before any tensor-core code: fixed-width
// types and scalar helpers for the arith ops C has no operator for, the
// 16-bit element types, strided tensor views (the kernel arguments, mirroring
// memref descriptors), shared-memory tiles and cp.async global -> shared
// copies. A tile's layout depends on FAOPT_WGMMA: XOR-swizzled rows for
// ldmatrix (faopt_sm80.cuh), or wgmma's 64-column slabs of 128-byte swizzled
// rows, which faopt_sm90.cuh asks for by defining FAOPT_WGMMA before it
// includes faopt_sm80.cuh, which includes this file.
//
// Self-contained: no CUDA headers, so NVRTC needs nothing but the embedded
// device headers.

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
/// attn.add_sat / attn.sub_sat: i32 sums clamped to the i32 range.
FAOPT_DEVICE int32_t add_sat32(int32_t a, int32_t b) {
  int32_t r;
  asm("add.sat.s32 %0, %1, %2;" : "=r"(r) : "r"(a), "r"(b));
  return r;
}
FAOPT_DEVICE int32_t sub_sat32(int32_t a, int32_t b) {
  int32_t r;
  asm("sub.sat.s32 %0, %1, %2;" : "=r"(r) : "r"(a), "r"(b));
  return r;
}
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

/// Until the grid launched before this one in the stream has finished and
/// its writes are visible (griddepcontrol.wait). A kernel the runtime starts
/// with programmatic dependent launch may be running before its predecessor
/// ends and must call this before it reads or writes anything the
/// predecessor may touch; without that launch (or before sm_90) the
/// predecessor has ended already and this returns at once. The list
/// builders call it first thing. (FAOPT_NVRTC_OPTIONS=
/// -DFAOPT_DIAG_BUILDER_NO_WAIT leaves it out: wrong results, only to show
/// that GpuVariantsRuntime.ListBuilderWaitsForTheKernelBeforeIt catches it.)
FAOPT_DEVICE void await_previous_grid() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900 &&                         \
    !defined(FAOPT_DIAG_BUILDER_NO_WAIT)
  asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}
/// attn.await_list_builder: until the grid launched before this one (the
/// kv-block list builder) has finished and its writes are visible. The
/// runtime starts list-driven sm90a kernels with programmatic dependent
/// launch, so their CTAs may be running before the builder ends.
FAOPT_DEVICE void await_list_builder() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}
/// Lets the kernel launched after this one with programmatic dependent
/// launch start (it still waits for this grid to finish, in
/// await_list_builder or await_previous_grid): once every CTA of this grid
/// has run this or exited, the dependent launch may begin. The list
/// builder runs it once it has waited
/// for its own predecessor, so a kernel it lets start early (the attention,
/// which loads Q before its await_list_builder) finds everything launched
/// before the builder finished. The attention kernels do not run it (that
/// cost causal 8k 3%, docs/performance.md item 45): a builder launched
/// after one starts as its CTAs exit.
FAOPT_DEVICE void allow_dependent_launch() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}

FAOPT_DEVICE int lane_id() { return threadIdx.x & 31; }
/// A value every lane of the warp holds alike, as lane 0's: the broadcast
/// lets ptxas see that it is warp-uniform. Every lane must call it.
FAOPT_DEVICE faopt_i64 warp_uniform(faopt_i64 v) {
  return (faopt_i64)__shfl_sync(0xffffffffu, (long long)v, 0);
}
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

} // namespace faopt
