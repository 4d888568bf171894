// faopt_block_lists.cuh - device primitives for the kv-block list builders.
//
// A kernel whose mask reads tensors (document ids, block layouts) comes with
// a second kernel that, per q-block and list row, classifies each candidate
// kv-block and writes the list of non-empty ones (attn.block_list_build).
// The classification bounds each tensor read over the block
// (attn.tensor_bounds); both are here. Generated list builders include this
// header, which includes faopt_sm80.cuh.

#pragma once

#include "faopt_sm80.cuh"
#include "faopt_search.cuh"

namespace faopt {

/// Diagnosis (FAOPT_NVRTC_OPTIONS=-DFAOPT_DIAG_BUILDER_TIMES; timing only,
/// prints from every thread block of every launch): thread 0 of each
/// builder thread block reads the SM clock when build_block_list starts,
/// after the first round's classification, when key_ranges has the span,
/// after the order check and at the end, and key_ranges prints the cycles
/// since the start (with the global timer at the start, to see the blocks'
/// start skew), then thread 0's tensor_bounds entries and exits.
/// docs/performance.md item 44 has what it showed.
#ifdef FAOPT_DIAG_BUILDER_TIMES
FAOPT_DEVICE long long *diag_stamps() {
  __shared__ long long stamps[8];
  return stamps;
}
/// Thread 0's clock at the entry and exit of its tensor_bounds calls, and
/// in a thread's own contiguous run after each round of loads has landed
/// (up to eight marks; the report prints six), for the same report. Set up by
/// build_block_list's first stamp: builders only.
FAOPT_DEVICE long long *diag_trace(int **count) {
  __shared__ long long trace[8];
  __shared__ int n;
  *count = &n;
  return trace;
}
FAOPT_DEVICE void diag_trace_mark() {
  int *n;
  long long *t = diag_trace(&n);
  if (threadIdx.x == 0 && *n < 8)
    t[(*n)++] = clock64();
}
FAOPT_DEVICE void diag_stamp(int i) {
  if (threadIdx.x != 0)
    return;
  const long long now = clock64();
  long long *t = diag_stamps();
  if (i == 0) {
    // Stamps a path does not reach print as -1 (t[k] - t[0]).
    for (int k = 1; k < 7; ++k)
      t[k] = now - 1;
    int *n;
    diag_trace(&n);
    *n = 0;
    unsigned long long g;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(g));
    t[7] = static_cast<long long>(g);
  } else if (i == 1 && t[1] != t[0] - 1) {
    return; // the first round's classification only
  }
  t[i] = now;
}
FAOPT_DEVICE void diag_report(int last) {
  __syncthreads();
  diag_stamp(last);
  if (threadIdx.x != 0)
    return;
  const long long *t = diag_stamps();
  int *n;
  const long long *tr = diag_trace(&n);
  printf("builder-times block %d start_ns %lld classified %lld span %lld "
         "checked %lld end %lld trace %lld %lld %lld %lld %lld %lld\n",
         static_cast<int>(blockIdx.x), t[7], t[1] - t[0], t[2] - t[0],
         last > 3 ? t[3] - t[0] : -1, t[last] - t[0],
         *n > 0 ? tr[0] - t[0] : -1, *n > 1 ? tr[1] - t[0] : -1,
         *n > 2 ? tr[2] - t[0] : -1, *n > 3 ? tr[3] - t[0] : -1,
         *n > 4 ? tr[4] - t[0] : -1, *n > 5 ? tr[5] - t[0] : -1);
}
#define FAOPT_DIAG_STAMP(i) diag_stamp(i)
#define FAOPT_DIAG_REPORT(i) diag_report(i)
#define FAOPT_DIAG_TRACE() diag_trace_mark()
#else
#define FAOPT_DIAG_STAMP(i)
#define FAOPT_DIAG_REPORT(i)
#define FAOPT_DIAG_TRACE()
#endif

/// The smallest and largest entry of an integer tensor over a box of
/// indices (attn.tensor_bounds): `bounds` are lower[0..Rank) then
/// upper[0..Rank), inclusive; an empty box gives {INT64_MAX, INT64_MIN}.
/// A box the whole warp shares (the ids of the q-block every kv-block of a
/// list row is classified against) is read by the 32 lanes together,
/// coalesced, and reduced with shuffles; otherwise each thread reads its
/// box alone: contiguous 32-bit runs 16 bytes at a time, anything else 32
/// reads in flight.
struct MinMax {
  faopt_i64 min, max;
};
FAOPT_DEVICE faopt_i64 min_of(MinMax m) { return m.min; }
FAOPT_DEVICE faopt_i64 max_of(MinMax m) { return m.max; }

template <int N, typename T>
FAOPT_DEVICE void fold_reads(const T *row, int i, int step, faopt_i64 stride,
                             T &lo, T &hi) {
  T v[N];
#pragma unroll
  for (int k = 0; k < N; ++k)
    v[k] = __ldg(row + static_cast<faopt_i64>(i + k * step) * stride);
#pragma unroll
  for (int k = 0; k < N; ++k) {
    lo = v[k] < lo ? v[k] : lo;
    hi = v[k] > hi ? v[k] : hi;
  }
}

/// A thread's own run of n contiguous 32-bit entries: 16-byte loads where
/// aligned (a warp's threads read different runs, so every load touches a
/// cache line per lane: four entries per load instead of one).
template <typename T>
FAOPT_DEVICE void fold_contiguous32(const T *p, int n, T &lo, T &hi) {
  static_assert(sizeof(T) == 4, "32-bit entries");
  for (; n > 0 && (reinterpret_cast<unsigned long long>(p) & 15); --n, ++p)
    fold_reads<1>(p, 0, 1, 1, lo, hi);
  const int4 *v = reinterpret_cast<const int4 *>(p);
  auto fold4 = [&](int4 x) {
    const T e[4] = {T(x.x), T(x.y), T(x.z), T(x.w)};
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      lo = e[k] < lo ? e[k] : lo;
      hi = e[k] > hi ? e[k] : hi;
    }
  };
  // Up to 128 entries (a kv-block's ids) per round of loads: the builder is
  // latency-bound, and ptxas, left alone, keeps ~5 of these loads in flight
  // (it interleaves them with the folds to save registers), a round trip
  // each. The fence pins them: plain loads may not sink below it, so a
  // round's loads all issue before the first fold waits (SASS: 32 LDG.128
  // back to back).
  while (n >= 4) {
    const int m = n >= 128 ? 32 : static_cast<int>(n >> 2);
    int4 x[32];
#pragma unroll
    for (int k = 0; k < 32; ++k)
      if (k < m)
        x[k] = v[k];
    __threadfence_block(); // (without it: 9.6 us against 8.3, item 45)
    FAOPT_DIAG_TRACE(); // the round's loads have landed; the fold follows
#pragma unroll
    for (int k = 0; k < 32; ++k)
      if (k < m)
        fold4(x[k]);
    n -= 4 * m;
    v += m;
  }
  for (p = reinterpret_cast<const T *>(v); n > 0; --n, ++p)
    fold_reads<1>(p, 0, 1, 1, lo, hi);
}

/// The whole warp's min and max of each lane's (mn, mx), in every lane.
template <typename W> FAOPT_DEVICE void warp_min_max(W &mn, W &mx) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) {
    W a = __shfl_xor_sync(0xffffffffu, mn, o);
    W b = __shfl_xor_sync(0xffffffffu, mx, o);
    mn = a < mn ? a : mn;
    mx = b > mx ? b : mx;
  }
}

template <typename T, int Rank, typename... B>
FAOPT_DEVICE MinMax tensor_bounds(const Tensor<T, Rank> &t, B... bounds) {
  static_assert(sizeof...(B) == 2 * Rank,
                "a lower and an upper bound per dimension");
  // Indices into the tensor's dimensions (the generated code clamps them to
  // [0, size - 1], and sizes are below 2^31: the spec's fixed sizes are at
  // most 2^30, the others come from batch, heads and sequence lengths the
  // runtime checks), so box + 1 fits: 32-bit arithmetic, which halves this
  // latency-bound code's instructions (docs/performance.md item 45). Only
  // element offsets are 64-bit. (i + 31 * step < end would overflow only
  // for a batch-sized dimension within 1k of 2^31: two billion sequences.)
  const int box[] = {static_cast<int>(bounds)...};
  const unsigned all = 0xffffffffu;
  bool shared = __activemask() == all;
  if (shared) {
    bool same = true;
#pragma unroll
    for (int d = 0; d < 2 * Rank; ++d)
      same &= box[d] == __shfl_sync(all, box[d], 0);
    shared = __all_sync(all, same);
  }
  FAOPT_DIAG_TRACE(); // after the warp-wide checks (it branches on thread 0)
  bool empty = false;
#pragma unroll
  for (int d = 0; d < Rank; ++d)
    empty |= box[Rank + d] < box[d];
  if (empty) { // the same for every lane of a shared box
    const faopt_i64 most = static_cast<faopt_i64>(~0ull >> 1);
    return {most, -most - 1};
  }
  // The element type's largest and smallest values (T is signed).
  T lo = static_cast<T>(~0ull >> (65 - 8 * sizeof(T))), hi = -lo - 1;
  const int lane = shared ? static_cast<int>(threadIdx.x & 31) : 0;
  const int step = shared ? 32 : 1;
  int at[Rank > 1 ? Rank - 1 : 1];
#pragma unroll
  for (int d = 0; d + 1 < Rank; ++d)
    at[d] = box[d];
  for (;;) {
    const T *row = t.data;
#pragma unroll
    for (int d = 0; d + 1 < Rank; ++d)
      row += static_cast<faopt_i64>(at[d]) * t.stride[d];
    const faopt_i64 stride = t.stride[Rank - 1];
    const int end = box[2 * Rank - 1] + 1;
    int i = box[Rank - 1] + lane;
    if constexpr (sizeof(T) == 4)
      if (!shared && stride == 1) {
        fold_contiguous32(row + i, end - i, lo, hi);
        i = end;
      }
    for (; i + 31 * step < end; i += 32 * step)
      fold_reads<32>(row, i, step, stride, lo, hi);
    for (; i + 3 * step < end; i += 4 * step)
      fold_reads<4>(row, i, step, stride, lo, hi);
    for (; i < end; i += step)
      fold_reads<1>(row, i, step, stride, lo, hi);
    int d = Rank - 2; // the next index of the outer dimensions
    for (; d >= 0; --d) {
      if (++at[d] <= box[Rank + d])
        break;
      at[d] = box[d];
    }
    if (d < 0)
      break;
  }
  // In the entries' own width (int for 32-bit and narrower entries).
  using W = decltype(T() + 0);
  W mn = lo, mx = hi;
  if (shared) // lanes past the end kept the identities
    warp_min_max(mn, mx);
  FAOPT_DIAG_TRACE();
  return {static_cast<faopt_i64>(mn), static_cast<faopt_i64>(mx)};
}

/// A tensor input with one row (fixed leading indices, the whole last
/// dimension) copied into the thread block's shared memory by stage_row
/// (attn.stage_row, attn-stage-builder-rows): reads of that row are served
/// from there, anything else from the tensor. `row` is null where nothing
/// was staged. The compiler routes a read through this view only when its
/// leading indices are the staged ones, so only the last index is checked.
template <typename T, int Rank> struct StagedTensor {
  Tensor<T, Rank> t;
  const T *row;
  int n;
};

template <int I, typename T, int Rank>
FAOPT_DEVICE faopt_i64 dim(const StagedTensor<T, Rank> &s) {
  return s.t.size[I];
}

template <typename T, int Rank, typename... I>
FAOPT_DEVICE T load(const StagedTensor<T, Rank> &s, I... index) {
  const faopt_i64 at[] = {static_cast<faopt_i64>(index)...};
  const faopt_i64 last = at[Rank - 1];
  if (s.row && last >= 0 && last < s.n)
    return s.row[last];
  return load(s.t, index...);
}

/// attn.stage_row: the thread block copies t[lead..., 0 .. size) into
/// shared memory (cp.async, 16 bytes a request, all in flight at once) and
/// waits for it, so the list builder's dependent rounds of reads (a
/// q-block's ids, its kv-blocks', the keys' order check and searches) cost
/// shared-memory latency instead of a global round trip each. Nothing is
/// staged (row = null; every read goes to t) where the row is longer than
/// Capacity entries, not contiguous or not 16-byte aligned: the same
/// decision in every thread, as the barrier needs. Lets the dependent
/// kernel launch first, as build_block_list does.
template <int Capacity, typename T, int Rank, typename... L>
FAOPT_DEVICE StagedTensor<T, Rank> stage_row(const Tensor<T, Rank> &t,
                                             L... lead) {
  static_assert(sizeof...(L) + 1 == Rank, "the leading indices");
  static_assert(sizeof(T) == 4, "32-bit entries");
  __shared__ __align__(16) T buf[Capacity];
  allow_dependent_launch();
  StagedTensor<T, Rank> s{t, nullptr, 0};
  const faopt_i64 at[] = {static_cast<faopt_i64>(lead)..., 0};
  const T *src = t.data;
  bool ok = t.stride[Rank - 1] == 1;
#pragma unroll
  for (int d = 0; d + 1 < Rank; ++d) {
    ok &= at[d] >= 0 && at[d] < t.size[d];
    src += at[d] * t.stride[d];
  }
  const faopt_i64 n = t.size[Rank - 1];
  ok &= n > 0 && n <= Capacity &&
        (reinterpret_cast<unsigned long long>(src) & 15) == 0;
  if (!ok)
    return s;
  const int count = static_cast<int>(n);
  const faopt_u32 base =
      static_cast<faopt_u32>(__cvta_generic_to_shared(buf));
  for (int i = 4 * static_cast<int>(threadIdx.x); i < count;
       i += 4 * static_cast<int>(blockDim.x)) {
    if (i + 4 <= count)
      cp_async_16(base + 4u * static_cast<faopt_u32>(i), src + i, true);
    else
      for (int k = i; k < count; ++k)
        buf[k] = __ldg(src + k);
  }
  cp_async_commit();
  cp_async_wait<0>();
  __syncthreads();
  s.row = buf;
  s.n = count;
  return s;
}

/// tensor_bounds over a staged row: from shared memory when the box's last
/// range lies in it (the leading ranges are the staged row's, by
/// construction), else from the tensor. A box the whole warp shares is
/// read by its lanes together and reduced with shuffles; a thread's own
/// run of 128 entries 16 bytes a read, each lane starting at its own
/// chunk, so a quarter warp's reads fall in distinct banks.
template <typename T, int Rank, typename... B>
FAOPT_DEVICE MinMax tensor_bounds(const StagedTensor<T, Rank> &s,
                                  B... bounds) {
  static_assert(sizeof...(B) == 2 * Rank,
                "a lower and an upper bound per dimension");
  const int box[] = {static_cast<int>(bounds)...};
  const int first = box[Rank - 1], last = box[2 * Rank - 1];
  if (!s.row || first < 0 || last >= s.n)
    return tensor_bounds(s.t, bounds...);
  bool empty = last < first;
#pragma unroll
  for (int d = 0; d + 1 < Rank; ++d)
    empty |= box[Rank + d] < box[d];
  if (empty) {
    const faopt_i64 most = static_cast<faopt_i64>(~0ull >> 1);
    return {most, -most - 1};
  }
  const unsigned all = 0xffffffffu;
  bool shared = __activemask() == all;
  if (shared) {
    // Every lane runs both shuffles (no && between them: a lane that
    // skipped one would leave the others waiting in it for good).
    const int first0 = __shfl_sync(all, first, 0);
    const int last0 = __shfl_sync(all, last, 0);
    shared = __all_sync(all, first == first0 && last == last0);
  }
  const T *row = s.row;
  T lo[4], hi[4];
#pragma unroll
  for (int k = 0; k < 4; ++k) {
    lo[k] = static_cast<T>(~0u >> 1);
    hi[k] = -lo[k] - 1;
  }
  auto fold = [&](int k, T v) {
    lo[k] = v < lo[k] ? v : lo[k];
    hi[k] = v > hi[k] ? v : hi[k];
  };
  const int lane = static_cast<int>(threadIdx.x & 31);
  if (shared) {
    for (int i = first + lane; i <= last; i += 32)
      fold(0, row[i]);
  } else if (last - first == 127 && (first & 3) == 0) {
    const int4 *p = reinterpret_cast<const int4 *>(row + first);
#pragma unroll
    for (int k = 0; k < 32; ++k) {
      const int4 x = p[(k + lane) & 31];
      fold(0, static_cast<T>(x.x));
      fold(1, static_cast<T>(x.y));
      fold(2, static_cast<T>(x.z));
      fold(3, static_cast<T>(x.w));
    }
  } else {
    for (int i = first; i <= last; ++i)
      fold(0, row[i]);
  }
  using W = decltype(T() + 0);
  W mn = lo[0] < lo[1] ? lo[0] : lo[1], mx = hi[0] > hi[1] ? hi[0] : hi[1];
  mn = lo[2] < mn ? lo[2] : mn;
  mn = lo[3] < mn ? lo[3] : mn;
  mx = hi[2] > mx ? hi[2] : mx;
  mx = hi[3] > mx ? hi[3] : mx;
  if (shared)
    warp_min_max(mn, mx);
  return {static_cast<faopt_i64>(mn), static_cast<faopt_i64>(mx)};
}

/// attn.reset_program_counter: thread 0 of the builder's first block sets
/// the program counter of the kernel launched after it to 0, so the
/// runtime needs no memset for it (attn-builder-resets-counter). The
/// builder waited for the previous grid first (await_previous_grid): a
/// counter in recycled memory is no longer that grid's. The kernel reads
/// it only after await_list_builder. Null when the builder runs on its
/// own (faopt_block_lists_build): nothing to reset.
FAOPT_DEVICE void reset_program_counter(const Tensor<int32_t, 1> &counter) {
  if (counter.data && blockIdx.x == 0 && threadIdx.x == 0)
    *counter.data = 0;
}

/// The first and the last kv-block and the count of the list the thread
/// block wrote last (build_block_list), for key_ranges: shared memory, so
/// it need not read the list back from global memory. Valid once the block
/// has synchronised after build_block_list; first and last only for a
/// non-empty list.
FAOPT_DEVICE int *list_span() {
  __shared__ int span[3];
  return span;
}

/// One row of the kv-block lists (attn.block_list_build): the thread block
/// classifies kv-blocks [lower, upper) in rounds of blockDim.x, one block
/// per thread, with Classify(kb, args...) (0 empty, 1 partial, 2 full), and
/// appends 2 * kb + partial for each non-empty one in increasing kb: warp
/// ballots give each thread its slot, so the order (and thus the attention
/// result) is deterministic. Slot 0 gets the count; slot 1 is 0 when the
/// row is empty (the attention loop reads one entry ahead).
template <auto Classify, typename... Args>
FAOPT_DEVICE void build_block_list(const Tensor<int32_t, 4> &lists,
                                   faopt_i64 b, faopt_i64 h, faopt_i64 qb,
                                   faopt_i64 lower, faopt_i64 upper,
                                   Args... args) {
  __shared__ int warp_counts[32];
  FAOPT_DIAG_STAMP(0);
  // The attention kernel may start now: it waits for this grid to finish
  // before it reads a list, and until then loads Q and sets up. (Launched
  // itself with programmatic dependent launch, the builder kernel has
  // waited for its predecessor before this: await_previous_grid at its top.)
  allow_dependent_launch();
  int32_t *row = lists.data + b * lists.stride[0] + h * lists.stride[1] +
                 qb * lists.stride[2];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int warps = (blockDim.x + 31) >> 5;
  // kv-block indices and counts: below 2^29 (sequences are at most 2^29).
  const int first = static_cast<int>(lower), last = static_cast<int>(upper);
  int count = 0;
  for (int base = first; base < last; base += blockDim.x) {
    const int kb = base + static_cast<int>(threadIdx.x);
    int cls = kb < last ? Classify(kb, args...) : 0;
    unsigned listed = __ballot_sync(0xffffffffu, cls != 0);
    if (lane == 0)
      warp_counts[warp] = __popc(listed);
    __syncthreads();
    FAOPT_DIAG_STAMP(1);
    int before = 0, total = 0;
    for (int w = 0; w < warps; ++w) {
      before += w < warp ? warp_counts[w] : 0;
      total += warp_counts[w];
    }
    if (cls != 0) {
      const int slot = count + before + __popc(listed & ((1u << lane) - 1u));
      row[1 + slot] = static_cast<int32_t>(2 * kb + (cls == 1));
      if (slot == 0)
        list_span()[0] = kb;
      if (slot == count + total - 1)
        list_span()[1] = kb;
    }
    count += total;
    __syncthreads(); // warp_counts is reused by the next round
  }
  if (threadIdx.x == 0) {
    row[0] = static_cast<int32_t>(count);
    list_span()[2] = static_cast<int>(count);
    if (count == 0)
      row[1] = 0;
  }
}

/// The per-row kv ranges of a mask term `key(q) == key(kv)` (attn.key_ranges,
/// attn-sorted-keys-as-bounds), written after the kv-block list of the same
/// row (build_block_list, just before, by the same thread block): at
/// `base` = the row's length - (1 + 2 * ROWS), 1 if the column keys
/// Key(kv, false, args...) are non-decreasing over the kv range the list
/// spans (its first to its last kv-block, within [kv_begin, kv_end)), else
/// 0 (and nothing more; also for an empty list); then per row r the first
/// and the last kv in that range with Key(kv, false) == Key(q_first + r,
/// true) (first = last + 1 where there is none). The attention kernel
/// visits only listed blocks, so the span is all it needs; for documents
/// it is the q-block's own few documents, not the whole causal range.
/// Sorted keys put each row's matches in one run, so two searches find it
/// exactly. The order check reads the span once, eight loads in flight per
/// thread (Key clamps its reads, so positions past the span are safe to
/// read and ignored), which also brings it into L1 for the searches.
template <auto Key, int ROWS, int BLOCK_KV, typename... Args>
FAOPT_DEVICE void key_ranges(const Tensor<int32_t, 4> &lists, faopt_i64 b,
                             faopt_i64 h, faopt_i64 qb, faopt_i64 q_first,
                             faopt_i64 kv_begin, faopt_i64 kv_end,
                             Args... args) {
  int32_t *list = lists.data + b * lists.stride[0] + h * lists.stride[1] +
                  qb * lists.stride[2];
  int32_t *row = list + (lists.size[3] - (1 + 2 * ROWS));
  const int threads = static_cast<int>(blockDim.x);
  // The first row key is read before the barrier below; the barrier seems
  // to wait for it anyway (without this barrier the phase was ~800 cycles
  // shorter, docs/performance.md item 44), so it costs a round trip here.
  faopt_i64 key = threadIdx.x < ROWS
                      ? Key(static_cast<int>(q_first) + threadIdx.x, true,
                            args...)
                      : 0;
  __syncthreads(); // build_block_list's span and count are written
  FAOPT_DIAG_STAMP(2);
  const int count = list_span()[2];
  if (count <= 0) {
    if (threadIdx.x == 0)
      row[0] = 0;
    FAOPT_DIAG_REPORT(3);
    return;
  }
  // Positions: below 2^29 + BLOCK_KV (sequences are at most 2^29).
  const int first_kv = list_span()[0] * BLOCK_KV;
  const int end_kv = (list_span()[1] + 1) * BLOCK_KV;
  const int begin = static_cast<int>(kv_begin), stop = static_cast<int>(kv_end);
  const int lo_pos = first_kv > begin ? first_kv : begin;
  const int hi_pos = end_kv < stop ? (end_kv > lo_pos ? end_kv : lo_pos)
                                   : (stop > lo_pos ? stop : lo_pos);
  bool sorted = true;
  for (int base = lo_pos + static_cast<int>(threadIdx.x); base + 1 < hi_pos;
       base += 8 * threads) {
    faopt_i64 k0[8], k1[8];
#pragma unroll
    for (int j = 0; j < 8; ++j) {
      k0[j] = Key(base + j * threads, false, args...);
      k1[j] = Key(base + j * threads + 1, false, args...);
    }
#pragma unroll
    for (int j = 0; j < 8; ++j)
      sorted &= base + j * threads + 1 >= hi_pos || k0[j] <= k1[j];
  }
  sorted = __syncthreads_and(sorted);
  FAOPT_DIAG_STAMP(3);
  if (threadIdx.x == 0)
    row[0] = sorted ? 1 : 0;
  if (!sorted) {
    FAOPT_DIAG_REPORT(4);
    return;
  }
  for (int r = threadIdx.x; r < ROWS; r += threads) {
    if (r != static_cast<int>(threadIdx.x))
      key = Key(static_cast<int>(q_first) + r, true, args...);
    const int first = partition_point(lo_pos, hi_pos, [&](int p) {
      return Key(p, false, args...) < key;
    });
    const int end = partition_point(first, hi_pos, [&](int p) {
      return Key(p, false, args...) <= key;
    });
    row[1 + 2 * r] = first;
    row[2 + 2 * r] = end - 1;
  }
  FAOPT_DIAG_REPORT(4);
}

} // namespace faopt
