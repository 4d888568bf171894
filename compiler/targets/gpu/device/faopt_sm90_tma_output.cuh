// faopt_sm90_tma_output.cuh - the output stores of persistent TMA kernels.
//
// A persistent sm90a kernel (attn-persistent-programs) stores each
// program's O tile by TMA from shared memory: from a staging tile of its
// own (store_tile), or from the V stage its last P V read
// (attn-stage-output-in-v: store_tile_in_stage, with the read wait paid at
// once, after the next Q wait (defer-read-wait), or by the copy thread
// before it refills the stage (by-copy-thread)). Included by
// faopt_sm90_tma.cuh, whose pipe, barriers and roles these use.
#pragma once

#include "faopt_sm90_tma.cuh"

namespace faopt {
namespace tma {

/// The bulk tensor stores of a staged O tile (one thread): a box per
/// 64-column slab, committed as one group.
template <int PIPE, typename T, int M, int N>
FAOPT_DEVICE void issue_output_store(SmemTile<T, M, N> staging, faopt_i64 b,
                                     faopt_i64 h, faopt_i64 row0) {
  const TmaMap *map = pipe<PIPE>().maps[3];
  const faopt_u32 src = staging.sbase;
#pragma unroll
  for (int s = 0; s < N / 64; ++s)
    asm volatile("cp.async.bulk.tensor.4d.global.shared::cta.tile.bulk_group"
                 " [%0, {%2, %3, %4, %5}], [%1];" ::"l"(map),
                 "r"(src + s * SmemTile<T, M, N>::kSlabBytes), "r"(64 * s),
                 "r"((int)row0), "r"((int)h), "r"((int)b)
                 : "memory");
  asm volatile("cp.async.bulk.commit_group;" ::: "memory");
}

/// attn.tile_store of O in a persistent kernel (FlashAttention-3's
/// epilogue): the consumers write the tile into the staging tile, whose
/// layout (64-column slabs of 128-byte swizzled rows) is the one the tensor
/// map describes; one thread issues a bulk tensor store per slab and the
/// consumers go on to their next program without waiting for it. Rows past
/// seqlen_q are outside the map, so TMA skips them. The staging tile is
/// written again only after the previous store has read it.
template <int PIPE, int THREADS, typename T, int M, int N, int W>
FAOPT_DEVICE void store_tile(const OutTile<T, M, N, W> &o, faopt_i64 b,
                             faopt_i64 h, faopt_i64 row0,
                             SmemTile<T, M, N> staging) {
  static_assert(N % 64 == 0, "whole 64-column slabs");
#ifdef FAOPT_DIAG_WAITS
  const unsigned long long t0 = clock64();
#endif
  if (threadIdx.x == 0)
    asm volatile("cp.async.bulk.wait_group.read 0;" ::: "memory");
  body_barrier<THREADS>();
  stage_output(o, staging);
  // Every thread's writes, visible to the TMA unit (the async proxy).
  asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
  body_barrier<THREADS>();
  if (threadIdx.x == 0)
    issue_output_store<PIPE>(staging, b, h, row0);
#ifdef FAOPT_DIAG_WAITS
  diag::add(diag::kStore, clock64() - t0);
#endif
}

/// attn-stage-output-in-v with defer-read-wait (the kernel's
/// attn.output_wait_at_next_q; docs/performance.md items 91, 94): the
/// storing thread (thread 0) does not wait for its bulk store to read the
/// V stage; it records the stage's empty barrier here and pays the wait and
/// the release for all W consumer warps right after its next Q wait
/// (wait_tile_paying_output) or at the kernel's end. Only thread 0 reads or
/// writes it, so program order is all the ordering it needs. Static shared
/// memory: only these kernels have it.
FAOPT_DEVICE faopt_u32 &owed_output_release() {
  __shared__ faopt_u32 empty_barrier;
  return empty_barrier;
}
/// Before start: nothing owed (thread 0, the only one that looks).
FAOPT_DEVICE void init_owed_output_release() {
  if (threadIdx.x == 0)
    owed_output_release() = 0;
}
/// Thread 0: the owed store's read, then the stage back to the copy thread.
/// Under FAOPT_DIAG_WAITS its cycles count as the O store's (kStore).
template <int W> FAOPT_DEVICE void pay_owed_output_release() {
  if (threadIdx.x == 0) {
    const faopt_u32 bar = owed_output_release();
    if (bar != 0) {
#ifdef FAOPT_DIAG_WAITS
      const unsigned long long t0 = clock64();
#endif
      asm volatile("cp.async.bulk.wait_group.read 0;" ::: "memory");
      mbar_arrive_count(bar, (faopt_u32)W);
      owed_output_release() = 0;
#ifdef FAOPT_DIAG_WAITS
      diag::add(diag::kStore, clock64() - t0);
#endif
    }
  }
}
/// The staged store of both forms below: every consumer warp has finished
/// the last P V at the first barrier (each waited for its own), so the
/// stage may be overwritten; thread 0 issues the store and then, with OWE,
/// records the stage's release as owed, else waits for the store to read
/// the stage and hands it back for all W consumer warps at once.
template <int PIPE, int THREADS, int SOURCE, bool OWE, int W, typename T,
          int M, int N>
FAOPT_DEVICE void store_staged_output(const OutTile<T, M, N, W> &o,
                                      const Tensor<T, 4> &dst, faopt_i64 b,
                                      faopt_i64 h, faopt_i64 row0,
                                      faopt_i64 bound, SmemTile<T, M, N> stage,
                                      faopt_i64 stage_index, bool held) {
  static_assert(N % 64 == 0, "whole 64-column slabs");
#ifdef FAOPT_DIAG_WAITS
  const unsigned long long t0 = clock64();
#endif
  if (!held) {
    store_fragments(o, dst, b, h, row0, bound);
    return;
  }
  body_barrier<THREADS>();
  stage_output(o, stage);
  // Every thread's writes, visible to the TMA unit (the async proxy).
  asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
  body_barrier<THREADS>();
  if (threadIdx.x == 0) {
    issue_output_store<PIPE>(stage, b, h, row0);
    if constexpr (OWE) {
      owed_output_release() = empty_bar<PIPE>(SOURCE, stage_index);
    } else {
      asm volatile("cp.async.bulk.wait_group.read 0;" ::: "memory");
      mbar_arrive_count(empty_bar<PIPE>(SOURCE, stage_index), (faopt_u32)W);
    }
  }
#ifdef FAOPT_DIAG_WAITS
  diag::add(diag::kStore, clock64() - t0);
#endif
}

/// attn.tile_store ... staged_in (attn-stage-output-in-v): O staged in the
/// stage of source SOURCE (V) that the program's last P V read, which the
/// consumers still hold (`held`), so the kernel needs no staging tile of
/// its own (FlashAttention-3 lines smem_o up with smem_v the same way).
/// Every consumer warp has finished that P V at the first barrier (each
/// waited for its own), so the tile may be overwritten; the thread that
/// issues the store waits until the store has read it and then hands the
/// stage back for all W consumer warps at once (their own releases of it
/// were removed). Where no P V ran (`held` false: no kv-block, so no stage
/// is held) the fragments go straight to global memory (rows below
/// `bound`).
template <int PIPE, int THREADS, int SOURCE, int W, typename T, int M, int N>
FAOPT_DEVICE void store_tile_in_stage(const OutTile<T, M, N, W> &o,
                                      const Tensor<T, 4> &dst, faopt_i64 b,
                                      faopt_i64 h, faopt_i64 row0,
                                      faopt_i64 bound, SmemTile<T, M, N> stage,
                                      faopt_i64 stage_index, bool held) {
  store_staged_output<PIPE, THREADS, SOURCE, false>(o, dst, b, h, row0, bound,
                                                    stage, stage_index, held);
}

/// store_tile_in_stage without the wait: the release is owed until the
/// next program's Q wait.
template <int PIPE, int THREADS, int SOURCE, int W, typename T, int M, int N>
FAOPT_DEVICE void store_tile_in_stage_owing(const OutTile<T, M, N, W> &o,
                                            const Tensor<T, 4> &dst,
                                            faopt_i64 b, faopt_i64 h,
                                            faopt_i64 row0, faopt_i64 bound,
                                            SmemTile<T, M, N> stage,
                                            faopt_i64 stage_index, bool held) {
  store_staged_output<PIPE, THREADS, SOURCE, true>(o, dst, b, h, row0, bound,
                                                   stage, stage_index, held);
}
/// attn.tile_wait of Q in such a kernel: the tile, then what thread 0 owes.
template <int PIPE, int SOURCE, int W, typename T, int R, int C>
FAOPT_DEVICE SmemTile<T, R, C>
wait_tile_paying_output(SmemTile<T, R, C> tile, faopt_i64 stage,
                        faopt_i64 round) {
  tile = wait_tile<PIPE, SOURCE>(tile, stage, round);
  pay_owed_output_release<W>();
  return tile;
}

/// attn-stage-output-in-v with by-copy-thread (the kernel's
/// attn.output_by_copy_thread; docs/performance.md item 92): the copy
/// thread, not a consumer thread, issues each program's O store from the V
/// stage where the consumers staged it, when it comes to refill that stage
/// (it is the one that needs the stage back), so no consumer waits for the
/// store to read shared memory. Per V stage, the O waiting in it (`valid`,
/// its coordinates) and the round after the stage's last fill (0: none),
/// in static shared memory: only these kernels have it. One thread writes a
/// slot before its warp's arrive on the stage's empty barrier (release);
/// the copy thread reads it after its wait on that barrier (acquire).
struct OutputSlot {
  faopt_u32 valid;
  int b, h, row;
};
FAOPT_DEVICE volatile OutputSlot *output_slots() {
  __shared__ OutputSlot slots[kStages];
  return slots;
}
FAOPT_DEVICE volatile faopt_u32 *v_rounds() {
  __shared__ faopt_u32 rounds[kStages];
  return rounds;
}
/// Before the roles split (with start): no O waits anywhere yet.
FAOPT_DEVICE void init_output_slots() {
  if (threadIdx.x < kStages) {
    output_slots()[threadIdx.x].valid = 0;
    v_rounds()[threadIdx.x] = 0;
  }
}

/// The copy thread, once stage `stage` of V is empty: the O the consumers
/// left in it (if any) leaves by TMA, and the stage is reused only after
/// the store has read it.
template <int PIPE, typename T, int R, int C>
FAOPT_DEVICE void store_output_from(SmemTile<T, R, C> tile, int stage) {
  volatile OutputSlot &slot = output_slots()[stage];
  if (!slot.valid)
    return;
  issue_output_store<PIPE>(tile, slot.b, slot.h, slot.row);
  asm volatile("cp.async.bulk.wait_group.read 0;" ::: "memory");
  slot.valid = 0;
}

/// attn.tile_prefetch of V in such a kernel: issue_tile, with the O left in
/// the stage stored first (after the same wait for the stage to be empty).
/// The O tile has OR (block_q) rows laid out from the stage's start, which
/// may be fewer than the V tile's (block_kv).
template <int PIPE, int SOURCE, int OR, typename T, int R, int C>
FAOPT_DEVICE void issue_tile_after_output(SmemTile<T, R, C> dst, faopt_i64 b,
                                          faopt_i64 h, faopt_i64 row,
                                          faopt_i64 bound, faopt_i64 stage,
                                          faopt_i64 round) {
  static_assert(OR <= R, "the O tile fits the V stage");
  timed_wait<diag::kVEmpty>(empty_bar<PIPE>(SOURCE, stage),
                            (faopt_u32)(round & 1) ^ 1u);
  SmemTile<T, OR, C> out;
  out.sbase = dst.sbase;
  store_output_from<PIPE>(out, (int)stage);
  v_rounds()[stage] = (faopt_u32)round + 1u;
  issue_tile<PIPE, SOURCE>(dst, b, h, row, bound, stage, round);
}

/// The consumers' side of attn.tile_store ... staged_in in such a kernel:
/// O into the V stage they still hold (after a consumer barrier: every
/// warp's P V has read it), its coordinates into the stage's slot, visible
/// to the TMA unit, then the stage released by each warp like any other.
/// Where no P V ran (`held` false) the fragments go to global memory.
template <int PIPE, int THREADS, int SOURCE, int W, typename T, int M, int N>
FAOPT_DEVICE void stage_output_for_copy_thread(
    const OutTile<T, M, N, W> &o, const Tensor<T, 4> &dst, faopt_i64 b,
    faopt_i64 h, faopt_i64 row0, faopt_i64 bound, SmemTile<T, M, N> stage,
    faopt_i64 stage_index, bool held) {
  static_assert(N % 64 == 0, "whole 64-column slabs");
  if (!held) {
    store_fragments(o, dst, b, h, row0, bound);
    return;
  }
  body_barrier<THREADS>();
  stage_output(o, stage);
  if (threadIdx.x == 0) {
    volatile OutputSlot &slot = output_slots()[stage_index];
    slot.b = (int)b;
    slot.h = (int)h;
    slot.row = (int)row0;
    slot.valid = 1;
  }
  asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
  __syncwarp();
  if (lane_id() == 0)
    mbar_arrive(empty_bar<PIPE>(SOURCE, stage_index));
}

/// The copy thread's end in such a kernel: the O still waiting in any V
/// stage (its program's successors did not refill that stage) leaves once
/// the consumers have released the stage's last fill; the CTA's shared
/// memory stays until the stores have read it, and the thread waits for
/// them to complete before it exits.
template <int PIPE, int SOURCE, int VBASE, int VSTRIDE, typename T, int R, int C>
FAOPT_DEVICE void producer_end_after_output() {
  for (int s = 0; s < kStages; ++s) {
    const faopt_u32 rounds = v_rounds()[s];
    if (rounds == 0)
      continue;
    mbar_wait(empty_bar<PIPE>(SOURCE, s), (rounds - 1u) & 1u);
    store_output_from<PIPE>(smem<T, R, C>(VBASE + s * VSTRIDE), s);
  }
  asm volatile("cp.async.bulk.wait_group 0;" ::: "memory");
  producer_end();
}

} // namespace tma
} // namespace faopt
