// faopt_sm90_tma_requests.cuh - session 9's TMA scheme (consumers post
// requests to a ring that a producer thread serves), kept for the
// experiment's comparison with today's copy slice (attn-warp-specialize):
// compiler/targets/gpu/device/faopt_sm90_tma.cuh at commit f0cd0c2, with
// the namespace renamed to faopt::tma_req and TmaMap taken from the
// current header.
#include "faopt_sm90_tma.cuh"
// faopt_sm90_tma.cuh - warp-specialised TMA copies for faopt's wgmma kernels.
//
// A kernel that includes this header (attn.tiling copy = "tma") runs with one
// producer warpgroup after its W consumer warps (32 W + 128 threads):
//   * the consumers run the generated kernel unchanged, except that a tile
//     prefetch posts a *request* (what to copy, into which stage) to a ring in
//     shared memory, a tile wait waits on the stage's "full" mbarrier, and the
//     end of an iteration releases its stages on their "empty" mbarriers (one
//     arrive per warp);
//   * the producer is a copy engine: one thread takes the requests in order,
//     waits until the stage is empty, and issues the TMA loads (64-column
//     boxes with 128-byte swizzle, which is the slab layout of
//     faopt_sm90.cuh's tiles) completing on the stage's "full" barrier.
// The consumers never wait for each other inside the kv loop (no CTA
// barrier): a consumer warpgroup waits only for its data, and with PINGPONG
// for its turn on the tensor cores. Where the request ring puts the copy
// decisions (which kv-block, when) is the consumer's generated code, so
// list-driven loops and guarded tiles need nothing special here.
//
// setmaxnreg moves registers from the producer (24) to the consumers (240)
// when one CTA owns the SM (the only configuration chooseTiles picks).
// Launch: the tensor maps of q, k and v (CUtensorMap, built by the runtime
// with cuTensorMapEncodeTiled: dims {d, seq, heads, batch}, box {64, rows},
// 128-byte swizzle) follow the kernel's other parameters.
#pragma once

#define FAOPT_TMA 1
#include "faopt_sm90.cuh"

namespace faopt {


namespace tma_req {

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
/// A 64-column box of rows [row, row + rows) of (b, h) into `dst`.
FAOPT_DEVICE void load_box(faopt_u32 dst, const TmaMap *map, faopt_u32 bar,
                           int col, int row, int h, int b) {
  asm volatile("cp.async.bulk.tensor.4d.shared::cluster.global.tile.mbarrier::"
               "complete_tx::bytes [%0], [%1, {%3, %4, %5, %6}], [%2];" ::"r"(dst),
               "l"(map), "r"(bar), "r"(col), "r"(row), "r"(h), "r"(b)
               : "memory");
}

// Shared-memory control block (at byte offset PIPE of the dynamic shared
// memory, after the tiles): full / empty barriers per (source, stage), the
// request ring with its barriers, and the poster's request count.
constexpr int kSources = 3, kStages = 2, kRing = 8;
struct Request {
  faopt_u32 dst, full, empty, empty_parity;
  int map, slabs, slab_bytes, row, h, b, pad[2];
};
struct Pipe {
  unsigned long long full[kSources][kStages], empty[kSources][kStages];
  unsigned long long ring_full[kRing], ring_empty[kRing];
  Request ring[kRing];
  faopt_u32 posted;
};
static_assert(sizeof(Pipe) <= 640,
              "the compiler reserves 640 bytes for the pipe (kTmaPipeBytes, TargetDesc.h)");
template <int PIPE> FAOPT_DEVICE Pipe &pipe() {
  return *reinterpret_cast<Pipe *>(faopt_smem + PIPE);
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

/// The producer warpgroup's copy engine: serves requests until the stop
/// request, then waits for the copies it issued (none may land after the
/// CTA exits).
FAOPT_DEVICE void serve(Pipe &p, const TmaMap *q, const TmaMap *k,
                        const TmaMap *v) {
  faopt_u32 issued = 0; // bit 2 i: stage barrier i has a copy; bit 2 i + 1: its parity
  for (faopt_u32 n = 0;; ++n) {
    const faopt_u32 slot = n % kRing, lap = n / kRing;
    mbar_wait(shared_addr(&p.ring_full[slot]), lap & 1);
    const Request r = p.ring[slot]; // ordered by the barriers (memory clobbers)
    mbar_arrive(shared_addr(&p.ring_empty[slot]));
    if (r.map < 0)
      break;
    mbar_wait(r.empty, r.empty_parity);
    mbar_expect_tx(r.full, (faopt_u32)(r.slabs * r.slab_bytes));
    // A select, not an array indexed at run time (which would live in
    // local memory at the producer's 24 registers).
    const TmaMap *map = r.map == 0 ? q : r.map == 1 ? k : v;
    for (int s = 0; s < r.slabs; ++s)
      load_box(r.dst + s * r.slab_bytes, map, r.full, 64 * s, r.row, r.h, r.b);
    const faopt_u32 i = (r.full - shared_addr(&p.full[0][0])) / 8;
    issued = (issued & ~(3u << (2 * i))) | ((1u | (r.empty_parity ^ 1u) << 1) << (2 * i));
  }
  for (int i = 0; i < kSources * kStages; ++i)
    if (issued >> (2 * i) & 1)
      mbar_wait(shared_addr(&p.full[0][0]) + 8 * i, issued >> (2 * i + 1) & 1);
}

/// Thread 0 of the consumers posts a request; the ring is deep enough that
/// the wait for a free slot returns at once (a consumer waits for each tile
/// it requested before requesting more than two kv-blocks ahead).
FAOPT_DEVICE void post(Pipe &p, const Request &r) {
  const faopt_u32 n = p.posted++;
  const faopt_u32 slot = n % kRing, lap = n / kRing;
  mbar_wait(shared_addr(&p.ring_empty[slot]), (lap & 1) ^ 1);
  p.ring[slot] = r;
  mbar_arrive(shared_addr(&p.ring_full[slot]));
}

/// Kernel prologue: barriers, then the producer warpgroup (warps W..W+3)
/// serves copies and exits; consumers return and run the kernel body.
template <int W, int PIPE, bool PINGPONG, int CONSUMER_REGS, int PRODUCER_REGS>
FAOPT_DEVICE void start(const TmaMap &q, const TmaMap &k, const TmaMap &v) {
  Pipe &p = pipe<PIPE>();
  if (threadIdx.x == 0) {
    for (int s = 0; s < kSources; ++s)
      for (int t = 0; t < kStages; ++t) {
        mbar_init(shared_addr(&p.full[s][t]), 1);
        mbar_init(shared_addr(&p.empty[s][t]), W);
      }
    for (int i = 0; i < kRing; ++i) {
      mbar_init(shared_addr(&p.ring_full[i]), 1);
      mbar_init(shared_addr(&p.ring_empty[i]), 1);
    }
    p.posted = 0;
    asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
  }
  __syncthreads();
  if (warp_id() >= W) {
    Registers<CONSUMER_REGS, PRODUCER_REGS>::producer();
    if (warp_id() == W && lane_id() == 0)
      serve(p, &q, &k, &v);
    asm volatile("exit;");
  }
  Registers<CONSUMER_REGS, PRODUCER_REGS>::consumer();
  wgmma::turns_begin<W, PINGPONG>();
}

/// Kernel epilogue (every return of the consumers): the last turn, and the
/// stop request once no request can follow.
template <int W, int PIPE, bool PINGPONG> FAOPT_DEVICE void finish() {
  wgmma::turns_end<W, PINGPONG>();
  if (threadIdx.x == 0) {
    Request stop = {};
    stop.map = -1;
    post(pipe<PIPE>(), stop);
  }
}

/// attn.tile_prefetch of source SOURCE (0 q, 1 k, 2 v) into `dst`, stage
/// `stage`, its `round`-th fill.
/// Rows at or past `bound` (the map's sequence length) come back as zeros;
/// a tile wholly past it asks for a box past the end (the runtime makes
/// empty dimensions 1 long), so nothing is read.
template <int PIPE, int SOURCE, typename T, int R, int C>
FAOPT_DEVICE void prefetch_tile(SmemTile<T, R, C> dst, faopt_i64 b, faopt_i64 h,
                                faopt_i64 row, faopt_i64 bound, faopt_i64 stage,
                                faopt_i64 round) {
  if (threadIdx.x != 0)
    return;
  Pipe &p = pipe<PIPE>();
  Request r;
  r.dst = dst.sbase;
  r.full = shared_addr(&p.full[SOURCE][stage]);
  r.empty = shared_addr(&p.empty[SOURCE][stage]);
  r.empty_parity = (faopt_u32)(round & 1) ^ 1u; // round 0: a fresh barrier
  r.map = SOURCE;
  r.slabs = C / 64;
  r.slab_bytes = SmemTile<T, R, C>::kSlabBytes;
  r.row = (int)(row < bound ? row : imax(bound, 1));
  r.h = (int)h;
  r.b = (int)b;
  post(p, r);
}

/// attn.tile_wait: the stage's tile once its `round`-th fill has landed.
template <int PIPE, int SOURCE, typename T, int R, int C>
FAOPT_DEVICE SmemTile<T, R, C> wait_tile(SmemTile<T, R, C> tile,
                                         faopt_i64 stage, faopt_i64 round) {
  mbar_wait(shared_addr(&pipe<PIPE>().full[SOURCE][stage]), (faopt_u32)(round & 1));
  return tile;
}

/// attn.tile_release: this warp is done with the stage (waiting for the
/// fill first, in case the iteration skipped its wait).
template <int PIPE, int SOURCE>
FAOPT_DEVICE void release(faopt_i64 stage, faopt_i64 round) {
  Pipe &p = pipe<PIPE>();
  mbar_wait(shared_addr(&p.full[SOURCE][stage]), (faopt_u32)(round & 1));
  __syncwarp();
  if (lane_id() == 0)
    mbar_arrive(shared_addr(&p.empty[SOURCE][stage]));
}

} // namespace tma_req
} // namespace faopt
