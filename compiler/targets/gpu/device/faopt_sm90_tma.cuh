// faopt_sm90_tma.cuh - warp-specialised TMA copies for faopt's wgmma kernels.
//
// A kernel that includes this header (attn.tiling copy = "tma") runs with one
// producer warpgroup after its W consumer warps (32 W + 128 threads):
//   * one producer thread runs the copy slice of the kernel body
//     (attn-warp-specialize): the same loops over the same kv-blocks, with
//     only the index math and the prefetches, each of which waits until its
//     stage is empty and issues TMA loads (64-column boxes with 128-byte
//     swizzle, which is the slab layout of faopt_sm90.cuh's tiles)
//     completing on the stage's "full" mbarrier;
//   * the consumers run the rest: a tile wait waits on the stage's full
//     barrier, and after the tile's last use the stage is released on its
//     "empty" barrier (one arrive per warp).
// The consumers never wait for each other inside the kv loop (no CTA
// barrier): a consumer warpgroup waits only for its data, and with PINGPONG
// for its turn on the tensor cores.
//
// setmaxnreg moves registers from the producer (24) to the consumers (240
// when one CTA owns the SM, chooseTiles' default; what the CTA's launch
// allocation allows otherwise, ConvertToEmitC's addProducer).
// Launch: the tensor maps of q, k and v, and o in a persistent kernel
// (CUtensorMap, built by the runtime with cuTensorMapEncodeTiled: dims
// {d, seq, heads, batch}, box {64, rows}, 128-byte swizzle) follow the
// kernel's other parameters.
#pragma once

#define FAOPT_TMA 1
#include "faopt_sm90.cuh"

namespace faopt {

/// CUtensorMap: 128 opaque bytes, 64-byte aligned, passed by value
/// (`const __grid_constant__`) so TMA can read it from parameter space.
struct alignas(64) TmaMap {
  unsigned long long opaque[16];
};

namespace tma {

FAOPT_DEVICE faopt_u32 shared_addr(const void *p) {
  return (faopt_u32)__cvta_generic_to_shared(p);
}
FAOPT_DEVICE void mbar_init(faopt_u32 bar, int count) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" ::"r"(bar), "r"(count)
               : "memory");
}
FAOPT_DEVICE void mbar_arrive(faopt_u32 bar) {
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];" ::"r"(bar) : "memory");
}
/// `count` arrivals at once (one thread standing for several warps).
FAOPT_DEVICE void mbar_arrive_count(faopt_u32 bar, faopt_u32 count) {
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0], %1;" ::"r"(bar),
               "r"(count)
               : "memory");
}
FAOPT_DEVICE void mbar_expect_tx(faopt_u32 bar, faopt_u32 bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(bar),
               "r"(bytes)
               : "memory");
}
/// Until the phase of parity `parity` has completed (a fresh barrier counts
/// its phase "before 0", parity 1, as complete).
FAOPT_DEVICE void mbar_wait(faopt_u32 bar, faopt_u32 parity) {
  asm volatile("{\n.reg .pred done;\nFAOPT_MBAR_WAIT:\n"
               "mbarrier.try_wait.parity.shared::cta.b64 done, [%0], %1;\n"
               "@!done bra FAOPT_MBAR_WAIT;\n}\n" ::"r"(bar),
               "r"(parity)
               : "memory");
}
/// Diagnosis (faopt-bench --diag-waits, which compiles the kernels with
/// -DFAOPT_DIAG_WAITS=<address of a device buffer>; timing only): SM clock
/// cycles that consumer thread 0 and the copy thread spend in each kind of
/// barrier wait and in the O store, and their time from the CTA's start to
/// their end, summed over the CTA's programs and added to the buffer's
/// row for the CTA (kKinds counters each) as each role finishes: atomics,
/// not printf, which would make ptxas serialise the kernel's wgmma (C7510).
/// Without the macro, timed_wait is mbar_wait.
namespace diag {
enum Kind { kQFull, kKFull, kVFull, kStore, kPrograms, kConsumerTotal,
            kQEmpty, kKEmpty, kVEmpty, kProducerTotal, kStart, kKinds };
#ifdef FAOPT_DIAG_WAITS
FAOPT_DEVICE unsigned long long *counts() {
  __shared__ unsigned long long c[kKinds];
  return c;
}
/// Consumer thread 0 records consumer kinds; the copy thread, the only
/// caller of the producer's waits, the others.
FAOPT_DEVICE void add(int kind, unsigned long long cycles) {
  if (kind >= kQEmpty || threadIdx.x == 0)
    counts()[kind] += cycles;
}
/// Adds counters [first, last) and the role's total to the CTA's row.
FAOPT_DEVICE void flush(int first, int last, int total) {
  if (blockIdx.x >= 65536) // faopt-bench's rows
    return;
  counts()[total] = clock64() - counts()[kStart];
  unsigned long long *row =
      reinterpret_cast<unsigned long long *>(FAOPT_DIAG_WAITS) +
      (size_t)blockIdx.x * kKinds;
  for (int i = first; i < last; ++i)
    atomicAdd(row + i, counts()[i]);
  atomicAdd(row + total, counts()[total]);
}
#endif
} // namespace diag
template <int KIND>
FAOPT_DEVICE void timed_wait(faopt_u32 bar, faopt_u32 parity) {
#ifdef FAOPT_DIAG_WAITS
  const unsigned long long t0 = clock64();
  mbar_wait(bar, parity);
  diag::add(KIND, clock64() - t0);
#else
  mbar_wait(bar, parity);
#endif
}

/// A 64-column box of rows [row, row + rows) of (b, h) into `dst`.
FAOPT_DEVICE void load_box(faopt_u32 dst, const TmaMap *map, faopt_u32 bar,
                           int col, int row, int h, int b) {
  asm volatile("cp.async.bulk.tensor.4d.shared::cluster.global.tile.mbarrier::"
               "complete_tx::bytes [%0], [%1, {%3, %4, %5, %6}], [%2];" ::"r"(dst),
               "l"(map), "r"(bar), "r"(col), "r"(row), "r"(h), "r"(b)
               : "memory");
}

// Shared-memory control block (at byte offset PIPE of the dynamic shared
// memory, after the tiles): full / empty barriers per (source, stage) and
// the kernel's tensor maps for the copy thread. Room for three stages: a
// kernel uses two or three (attn.kv_stages; the barriers of a stage it
// does not use are initialised and never waited on).
constexpr int kSources = 3, kStages = 3;
struct Pipe {
  unsigned long long full[kSources][kStages], empty[kSources][kStages];
  // q, k, v, then o where the output tile leaves by TMA store (persistent
  // kernels).
  const TmaMap *maps[kSources + 1];
};
static_assert(sizeof(Pipe::full) == kSources * kStages * 8 &&
                  sizeof(Pipe::empty) == sizeof(Pipe::full),
              "full_bar / empty_bar below assume this layout");
static_assert(sizeof(Pipe) <= 176,
              "the compiler reserves 176 bytes for the pipe (kTmaPipeBytes, TargetDesc.h)");
template <int PIPE> FAOPT_DEVICE Pipe &pipe() {
  return *reinterpret_cast<Pipe *>(faopt_smem + PIPE);
}
/// Shared-window addresses of a stage's barriers, computed in 32 bits (see
/// SmemTile::sbase; the stage is below kStages). Pipe's first members: full, then
/// empty, kSources x kStages barriers of 8 bytes each.
constexpr int kBarriers = kSources * kStages;
template <int PIPE> FAOPT_DEVICE faopt_u32 full_bar(int source, faopt_i64 stage) {
  return smem_base() + (faopt_u32)PIPE + (faopt_u32)(source * kStages + (int)stage) * 8u;
}
template <int PIPE> FAOPT_DEVICE faopt_u32 empty_bar(int source, faopt_i64 stage) {
  return smem_base() + (faopt_u32)(PIPE + kBarriers * 8) +
         (faopt_u32)(source * kStages + (int)stage) * 8u;
}

/// Registers the producer gives up and the consumers take (0: no change).
template <int CONSUMER_REGS, int PRODUCER_REGS> struct Registers {
  static FAOPT_DEVICE void producer() {
    if constexpr (PRODUCER_REGS > 0)
      asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;" ::"n"(PRODUCER_REGS));
  }
  static FAOPT_DEVICE void consumer() {
    if constexpr (CONSUMER_REGS > 0)
      asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;" ::"n"(CONSUMER_REGS));
  }
};

/// Kernel prologue: the stages' barriers and the tensor maps, before any
/// thread takes a role.
template <int W, int PIPE>
FAOPT_DEVICE void start_with(const TmaMap &q, const TmaMap &k, const TmaMap &v,
                             const TmaMap *o) {
  Pipe &p = pipe<PIPE>();
  if (threadIdx.x == 0) {
    for (int s = 0; s < kSources; ++s)
      for (int t = 0; t < kStages; ++t) {
        mbar_init(full_bar<PIPE>(s, t), 1);
        mbar_init(empty_bar<PIPE>(s, t), W);
      }
    p.maps[0] = &q;
    p.maps[1] = &k;
    p.maps[2] = &v;
    p.maps[3] = o;
#ifdef FAOPT_DIAG_WAITS
    for (int i = 0; i < diag::kKinds; ++i)
      diag::counts()[i] = 0;
    diag::counts()[diag::kStart] = clock64();
#endif
    asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
  }
  __syncthreads();
}
template <int W, int PIPE>
FAOPT_DEVICE void start(const TmaMap &q, const TmaMap &k, const TmaMap &v) {
  start_with<W, PIPE>(q, k, v, nullptr);
}
/// With the output's map too: O leaves by TMA store (store_tile below).
template <int W, int PIPE>
FAOPT_DEVICE void start(const TmaMap &q, const TmaMap &k, const TmaMap &v,
                        const TmaMap &o) {
  start_with<W, PIPE>(q, k, v, &o);
}

/// attn.copy_producer: the producer warpgroup (warps W..W+3) takes the
/// branch of the copy slice, the consumers the other one. The two never
/// meet again (the producer exits at the end of its branch), so ptxas knows
/// each side's register count after setmaxnreg.
template <int W> FAOPT_DEVICE bool is_producer() { return warp_id() >= W; }

/// Start of the producer's branch: the warpgroup gives up registers
/// (all 128 threads, as setmaxnreg requires), then keeps one thread.
template <int W, int PRODUCER_REGS> FAOPT_DEVICE void producer_begin() {
  Registers<0, PRODUCER_REGS>::producer();
  if (warp_id() != W || lane_id() != 0)
    asm volatile("exit;");
}
/// End of the producer's branch. Nothing to wait for: the consumers wait
/// for every fill it started before they return, so none lands after the
/// CTA is gone.
FAOPT_DEVICE void producer_end() {
#ifdef FAOPT_DIAG_WAITS
  diag::flush(diag::kQEmpty, diag::kProducerTotal, diag::kProducerTotal);
#endif
  asm volatile("exit;");
}

/// Start of the consumers' branch: the registers, then the first turn.
template <int W, bool PINGPONG, int CONSUMER_REGS>
FAOPT_DEVICE void consumer_begin() {
  Registers<CONSUMER_REGS, 0>::consumer();
  wgmma::turns_begin<W, PINGPONG>();
}

/// Kernel epilogue (every return of the consumers): the last turn, and the
/// output's last TMA store (store_tile) done reading shared memory before
/// the CTA's shared memory goes away (nothing to wait for without one).
template <int W, int PIPE, bool PINGPONG> FAOPT_DEVICE void finish() {
  wgmma::turns_end<W, PINGPONG>();
  if (threadIdx.x == 0)
    asm volatile("cp.async.bulk.wait_group.read 0;" ::: "memory");
#ifdef FAOPT_DIAG_WAITS
  if (threadIdx.x == 0)
    diag::flush(diag::kQFull, diag::kConsumerTotal, diag::kConsumerTotal);
#endif
}

/// attn.tile_prefetch (copy thread) of source SOURCE (0 q, 1 k, 2 v) into
/// `dst`, stage `stage`, its `round`-th fill: once the consumers have
/// released the stage's previous fill, 64-column boxes completing on the
/// stage's full barrier. Rows at or past `bound` (the map's sequence
/// length) come back as zeros; a tile wholly past it asks for a box past
/// the end (the runtime makes empty dimensions 1 long), so nothing is read.
template <int PIPE, int SOURCE, typename T, int R, int C>
FAOPT_DEVICE void issue_tile(SmemTile<T, R, C> dst, faopt_i64 b, faopt_i64 h,
                             faopt_i64 row, faopt_i64 bound, faopt_i64 stage,
                             faopt_i64 round) {
  const faopt_u32 full = full_bar<PIPE>(SOURCE, stage);
  // Round 0 waits on a fresh barrier's "previous" phase, which counts as
  // complete.
  timed_wait<SOURCE == 0   ? diag::kQEmpty
             : SOURCE == 1 ? diag::kKEmpty
                           : diag::kVEmpty>(empty_bar<PIPE>(SOURCE, stage),
                                            (faopt_u32)(round & 1) ^ 1u);
  constexpr int kSlabs = C / 64, kSlabBytes = SmemTile<T, R, C>::kSlabBytes;
  mbar_expect_tx(full, (faopt_u32)(kSlabs * kSlabBytes));
  const int r = (int)(row < bound ? row : imax(bound, 1));
  const faopt_u32 d = dst.sbase;
  const TmaMap *map = pipe<PIPE>().maps[SOURCE];
#pragma unroll
  for (int s = 0; s < kSlabs; ++s)
    load_box(d + s * kSlabBytes, map, full, 64 * s, r, (int)h, (int)b);
}

/// Programs handed out at run time (attn.next_program; attn-persistent-
/// programs with kv-block lists). The copy thread claims the worker's next
/// program and publishes its index here before the Q fill that carries it;
/// the consumers read it once that fill is complete. One set of slots per
/// Q tile is enough: the consumers read program t's index right after its
/// Q wait, and the copy thread writes the next program of that tile only
/// after they have released that Q
/// (after their kv loop; with attn-release-q-early in its last iteration:
/// the slots stay safe because every read of them, attn.program_value
/// included, comes before the kv loop). (The consumers thus start their index math only
/// once Q is there; their list head comes with it since
/// attn-hand-over-list-header, which gained documents 5% on the H200,
/// docs/performance.md item 56.)
/// Slot 0 holds the program; slots 1-8 the values an attn.publish_program
/// hands over with it (attn-hand-over-list-header: the list's header, so
/// the consumers need not load it after their Q wait). Ordering: the copy
/// thread writes after its wait for Q's stage to be empty (the consumers
/// read every slot before they release that stage) and before its
/// `mbarrier.arrive.expect_tx` on Q's full barrier (release); the consumers
/// read after their wait on that barrier (acquire). compute-sanitizer's
/// racecheck still reports each slot (docs/status.md, session 24).
/// With two Q tiles (attn.q_stages = 2: QS = 2) each tile has its own
/// slots, and program t of the worker uses tile t mod 2 (its fill t / 2),
/// so the copy thread publishes program t + 1 into the other tile's slots
/// while the consumers still read program t's.
FAOPT_DEVICE volatile int *program_slots(int stage) {
  __shared__ int slots[2][9];
  return slots[stage];
}
template <int QS> FAOPT_DEVICE int q_stage(faopt_i64 t) {
  static_assert(QS == 1 || QS == 2, "one or two Q tiles");
  return QS == 2 ? (int)(t & 1) : 0;
}
template <int QS> FAOPT_DEVICE faopt_i64 q_round(faopt_i64 t) {
  return QS == 2 ? t >> 1 : t;
}

/// attn.next_program ... publish_later: the copy thread's claim alone.
/// Program t of this worker is the worker index for t = 0, then the next
/// one the launch's counter hands out (programs `workers`, `workers + 1`,
/// ... to whichever worker asks first).
FAOPT_DEVICE faopt_i64 claim_program_index(faopt_i64 t, faopt_i64 worker,
                                           faopt_i64 workers,
                                           const Tensor<int32_t, 1> &counter) {
  return t == 0 ? worker : workers + (faopt_i64)atomicAdd(counter.data, 1);
}

/// attn.publish_program: once the consumers have released program t's Q
/// stage (q_stage, its fill q_round), the program (at most `total`, below
/// 2^31: the consumers compare it with `total`) and `values` in that
/// stage's slots 0, 1, ...; past the end, that fill completes without a
/// copy (a plain arrive), which tells the consumers to stop.
template <int PIPE, int QS, typename... V>
FAOPT_DEVICE void publish_program(faopt_i64 t, faopt_i64 p, faopt_i64 total,
                                  V... values) {
  const int stage = q_stage<QS>(t);
  timed_wait<diag::kQEmpty>(empty_bar<PIPE>(0, stage),
                            (faopt_u32)(q_round<QS>(t) & 1) ^ 1u);
  volatile int *slots = program_slots(stage);
  slots[0] = (int)(p < total ? p : total);
  int i = 1;
  ((slots[i++] = (int)values), ...);
  (void)i;
  if (p >= total)
    mbar_arrive(full_bar<PIPE>(0, stage));
}

/// attn.next_program ... producer: claim and publish at once (the claim
/// goes first, so its round trip overlaps the wait for Q's stage).
template <int PIPE, int QS>
FAOPT_DEVICE faopt_i64 claim_program(faopt_i64 t, faopt_i64 worker,
                                     faopt_i64 workers, faopt_i64 total,
                                     const Tensor<int32_t, 1> &counter) {
  const faopt_i64 p = claim_program_index(t, worker, workers, counter);
  publish_program<PIPE, QS>(t, p, total);
  return p;
}

/// attn.program_value: value i the copy thread published with the worker's
/// program t (after the consumers' await_program for t).
template <int QS> FAOPT_DEVICE int32_t program_value(int i, faopt_i64 t) {
  return program_slots(q_stage<QS>(t))[1 + i];
}

/// The consumers' side: the program the copy thread published with program
/// t's Q fill (stage q_stage, fill q_round; `total` when there are no more).
template <int PIPE, int QS> FAOPT_DEVICE faopt_i64 await_program(faopt_i64 t) {
  const int stage = q_stage<QS>(t);
  timed_wait<diag::kQFull>(full_bar<PIPE>(0, stage),
                           (faopt_u32)(q_round<QS>(t) & 1));
  return (faopt_i64)program_slots(stage)[0];
}

/// attn.tile_wait: the stage's tile once its `round`-th fill has landed.
template <int PIPE, int SOURCE, typename T, int R, int C>
FAOPT_DEVICE SmemTile<T, R, C> wait_tile(SmemTile<T, R, C> tile,
                                         faopt_i64 stage, faopt_i64 round) {
  timed_wait<SOURCE == 0   ? diag::kQFull
             : SOURCE == 1 ? diag::kKFull
                           : diag::kVFull>(full_bar<PIPE>(SOURCE, stage),
                                           (faopt_u32)(round & 1));
#ifdef FAOPT_DIAG_WAITS
  if (SOURCE == 0) // one Q wait per program, in every kind of kernel
    diag::add(diag::kPrograms, 1);
#endif
  return tile;
}

/// attn.tile_release: this warp is done with the stage (waiting for the
/// fill first, in case the iteration skipped its wait).
template <int PIPE, int SOURCE>
FAOPT_DEVICE void release(faopt_i64 stage, faopt_i64 round) {
  mbar_wait(full_bar<PIPE>(SOURCE, stage), (faopt_u32)(round & 1));
  __syncwarp();
  if (lane_id() == 0)
    mbar_arrive(empty_bar<PIPE>(SOURCE, stage));
}

/// attn.tile_release ... when: this warp is done with the stage where
/// `when` holds (the same for the whole warp). Unlike release it never
/// waits for the fill: its tile was waited for before (attn-release-q-early
/// releases a tile the kernel waited for before its kv loop), and where
/// `when` does not hold the stage may already hold the next fill, whose
/// barrier phase of `round`'s parity completes only after this warp has
/// released it (a wait there deadlocks). A plain `if` around the arrive:
/// a wait predicated on `when` (in C++ or inside its asm), or the arrive
/// predicated inside an asm block, moved ptxas's P V waits before the
/// softmax in the window and document kernels (scripts/sass-waits.sh,
/// docs/performance.md item 58).
template <int PIPE, int SOURCE>
FAOPT_DEVICE void release_when(bool when, faopt_i64 stage, faopt_i64 round) {
  (void)round;
  __syncwarp();
  if (when && lane_id() == 0)
    mbar_arrive(empty_bar<PIPE>(SOURCE, stage));
}

/// attn.tile_release with `after`: the arrive waits for `sums`, a
/// softmax's row sums, whole or a lane's share (LanePartialSums): never
/// negative, and a NaN compares false too, so the predicate always holds.
/// ptxas places a wgmma wait as early as the arrives around it allow;
/// attn-overlap-softmax's late-k-release (block layouts by default) puts
/// K's release, predicated on the sums, just before the wait for P V, which
/// then comes after every exponential instead of before them
/// (docs/performance.md items 80, 81).
template <int PIPE, int SOURCE, int M, int W>
FAOPT_DEVICE void release_after(const Rows<M, W> &sums, faopt_i64 stage,
                                faopt_i64 round) {
  float total = 0.0f;
#pragma unroll
  for (int mt = 0; mt < Rows<M, W>::MT; ++mt)
    total += sums.v[mt][0] + sums.v[mt][1];
  release_when<PIPE, SOURCE>(!(total < -1.0f), stage, round);
}

} // namespace tma
} // namespace faopt

// The output's stores (O staged in shared memory, stored by TMA) live in a
// header of their own.
#include "faopt_sm90_tma_output.cuh"
