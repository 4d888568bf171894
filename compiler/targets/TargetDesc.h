//===- TargetDesc.h - what a target offers and how it tiles ------*- C++ -*-===//
//
// One table per target (sm80, sm90a, cpu): shared memory and register budgets,
// and the rule that picks tile sizes from them and the head dims. Plain C++:
// the tiling pass, --explain and the runtime all ask the same function.
//
//===----------------------------------------------------------------------===//
#ifndef FAOPT_COMPILER_TARGETS_TARGETDESC_H
#define FAOPT_COMPILER_TARGETS_TARGETDESC_H

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace faopt {

enum class TargetKind { SM80, SM90A, CPU };

struct TargetDesc {
  TargetKind kind;
  const char *name;             // "sm80", "sm90a", "cpu"
  int64_t sharedMemPerBlock;    // bytes one block may use (opt-in maximum)
  int64_t registersPerThread;   // architectural cap
  int64_t threadsPerWarp;
  int64_t l2Bytes;              // L2 cache (program order keeps K/V in it)
  bool dependentLaunch;         // programmatic dependent launch (sm_90+):
                                // a kernel may start before its list
                                // builder ends (attn-await-list-builder)
  bool isGpu() const { return kind != TargetKind::CPU; }
};

/// The descriptor for a target name, or nullopt for an unknown name.
std::optional<TargetDesc> lookupTarget(std::string_view name);
const TargetDesc &getTarget(TargetKind kind);

struct TileChoice {
  int64_t blockQ = 0, blockKv = 0, warps = 0, stages = 0;
  int64_t sharedMemBytes = 0;     // Q tile + `stages` K/V tiles
  int64_t accumulatorRegs = 0;    // f32 registers per thread: S tile + O acc
  std::string mma = "mma_sync";   // tensor-core instruction: mma_sync, wgmma
  bool pingpong = false;          // wgmma: the two warpgroups take turns
  std::string copy = "cp_async";  // K/V copies: cp_async, tma (producer warps)
  std::string why;                // one paragraph for --explain
};

/// Picks tile sizes for head dims dQK/dV and element size `elementBytes`.
/// Optional overrides (from pass options) are validated against the budgets;
/// on failure `error` says which budget was exceeded.
std::optional<TileChoice> chooseTiles(const TargetDesc &target, int64_t dQK,
                                      int64_t dV, int64_t elementBytes,
                                      int64_t overrideBlockQ,
                                      int64_t overrideBlockKv,
                                      std::string &error);

/// Whether the two warpgroups of a wgmma kernel with `warps` warps and head
/// dims dQK / dV take turns on the tensor cores (faopt_sm90.cuh). The GPU
/// lowering asks this for the kernel it lowers; chooseTiles records it.
bool wgmmaPingPong(int64_t warps, int64_t dQK, int64_t dV, bool tmaCopies);

/// Whether a wgmma kernel with `stages` K/V stages and head dims dQK / dV
/// copies its tiles with TMA from a producer warpgroup
/// (faopt_sm90_tma.cuh): with a pipelined kv loop, and where one CTA owns
/// the SM (d >= 128), so the consumers can take the producer's registers.
bool wgmmaTmaCopies(int64_t stages, int64_t dQK, int64_t dV);

/// Shared memory a TMA kernel adds after its tiles: the stages' barriers and
/// the tensor-map pointers (faopt::tma::Pipe in faopt_sm90_tma.cuh, which
/// static_asserts it fits): barriers for up to three stages.
constexpr int64_t kTmaPipeBytes = 176;

/// Shared memory a persistent kernel whose programs are handed out at run
/// time adds for its program slots (faopt::tma::program_slots, static
/// shared memory: ptxas pads them to 1 KiB next to the 1024-aligned
/// dynamic tiles).
constexpr int64_t kProgramSlotBytes = 1024;
/// Static shared memory of the V stages' O slots where the copy thread
/// stores the staged O (attn.output_by_copy_thread: 60 bytes, which ptxas
/// rounds to 1 KiB).
constexpr int64_t kOutputSlotBytes = 1024;
/// Static shared memory of the staged store thread 0 owes
/// (attn.output_wait_at_next_q, faopt::tma::owed_output_release: 4 bytes,
/// which ptxas rounds to 1 KiB).
constexpr int64_t kOwedOutputBytes = 1024;

/// Q tiles per persistent worker (attn-persistent-programs' q-stages, the
/// pipeline's qStages): 1 or 2 ask for one or two everywhere (two where they
/// fit), kQStagesAuto for the measured choice (qStagesFor).
constexpr int64_t kQStagesAuto = 0;

/// The Q tiles a persistent kernel asks for under `requested` (kQStagesAuto,
/// 1 or 2). Auto: two where the programs are handed out at run time (on the
/// H200 the next program's Q then lands during this one's kv loop:
/// documents +1.1%, block-sparse +-0), one for the fixed schedules (two
/// lose 0.4-2.1% there: window, prefix-LM, dense, causal;
/// docs/performance.md item 64). The caller still checks that the second
/// tile fits.
int64_t qStagesFor(int64_t requested, bool handedOut);

/// K/V stages per persistent worker (attn-persistent-programs' kv-stages):
/// 2 or 3 ask for that many (three where they fit), kKvStagesAuto for the
/// measured choice (kvStagesFor).
constexpr int64_t kKvStagesAuto = 0;

/// The K/V stages a persistent kernel asks for under `requested`
/// (kKvStagesAuto, 2 or 3). Auto: three for the fixed schedules (H200:
/// dense +1.6-3.5% at 512-8k, causal +0.6-3.6%, docs/performance.md item
/// 85), two where programs are handed out (their second Q tile leaves no
/// room, and with one Q tile ptxas spilled twice as much). A third stage
/// lets the copy thread load two blocks ahead, across a program boundary
/// too; it fits at d = 128 only with O staged in V's stage
/// (attn-stage-output-in-v) and one Q tile. The caller checks that it
/// fits.
int64_t kvStagesFor(int64_t requested, bool handedOut);

/// Whether a persistent kernel with `qStages` Q tiles has room for a third
/// K/V stage: the O tile (bq x dV) must fit in a V stage (bkv x dV), where
/// attn-stage-output-in-v stages it, and the tiles with the pipe (and the
/// program slots where handed out) in `sharedMemPerBlock`.
bool thirdKvStageFits(int64_t bq, int64_t bkv, int64_t dQK, int64_t dV,
                      int64_t elementBytes, int64_t qStages, bool handedOut,
                      int64_t sharedMemPerBlock);

/// Shared memory of a persistent TMA kernel (attn-persistent-programs) with
/// tiles `bq` x `bkv`, head dims dQK / dV, `stages` K/V stages and
/// `qStages` Q tiles: the tiles, the O tile's staging region (Q's may be
/// taking the next program's tile; none with three stages, where O is
/// staged in a V stage) and the pipe. Persistent where this fits
/// the target's per-block limit (d = 128: 192 KiB of 227 with two stages,
/// 224 KiB with two Q tiles or with three stages; d = 256 does not fit).
int64_t persistentSharedBytes(int64_t bq, int64_t bkv, int64_t dQK, int64_t dV,
                              int64_t elementBytes, int64_t stages,
                              int64_t qStages = 1);

/// Which TMA kernels run attn-persistent-programs. Auto (the default): the
/// measured choice, today every TMA kernel whose tiles fit. Kernels whose
/// programs' kv-block counts are known when compiling take a fixed,
/// balanced share (H200: causal 8k and the window gain 3-5%, 512-2k rows
/// 2-21%, docs/performance.md items 34, 35); kernels driven by run-time
/// kv-block lists take their programs from a run-time counter (documents
/// +3%, row starts +7%, block-sparse +2%: item 53; a fixed share was
/// unbalanced, documents -6%). On: the same, spelled out; Off: none.
enum class PersistentMode { Auto, On, Off };
/// "auto", "on", "off" (the disk cache key, diagnostics).
const char *toString(PersistentMode mode);

/// Where TMA kernels compare a bounds-only mask per row and branch once per
/// kv iteration between a full and a masked copy of it
/// (attn-kv-bounds-in-rows, attn-unswitch-masked-blocks). Auto (the
/// default): bands, masks whose kv bounds both move with q (sliding
/// windows; chunks unless their starts are aligned to the tiles), where
/// every program has a masked block at each end; H200: window 1024 +6.4%,
/// while causal, whose one masked block per program is a small share at
/// long rows, lost 2.8% at 8k with them (docs/performance.md item 40). On:
/// every bounds-only mask; Off: none.
enum class RowBoundMode { Auto, On, Off };
/// "auto", "on", "off" (the disk cache key, diagnostics).
const char *toString(RowBoundMode mode);

/// Where persistent TMA kernels release Q's stage right after their kv
/// loop's last S = Q K^T instead of after the loop (attn-release-q-early),
/// so the next program's Q loads under the last softmax, P V and O store.
/// Auto (the default): sliding-window bands, kv loops whose first block is
/// a closed form that moves with the program; H200: window 1024 +1.2%,
/// +1.7% and +1.6% (docs/performance.md items 58, 70, 75), while loops from
/// block 0 lost (prefix-LM -8.6%, causal -1.4%) or were mixed (dense +2.3%
/// at 8k, -3.1% at 16k in one round), and chunks lost 2.2-2.4% (items 75,
/// 76), so loops from a chunk's start are left out too. On: every
/// persistent kernel; Off: none.
enum class ReleaseQMode { Auto, On, Off };
/// "auto", "on", "off" (the disk cache key, diagnostics).
const char *toString(ReleaseQMode mode);

/// Where sm90a TMA kernels release K's stage after the softmax's row sums,
/// just before the wait for P V, instead of right after S's wait
/// (attn-overlap-softmax late-k-release; ptxas then runs the softmax under
/// P V). Auto (the default): kernels driven by a block layout (kv-block
/// lists whose mask does not bound kv by q); H200: block-sparse +1.8 /
/// +2.4% and +2.4 / +2.7% in two A/Bs, dense +-1%, while causal, prefix-LM,
/// documents and run-time chunks lost 1.2-2.1% (docs/performance.md items
/// 80, 81). On: every such kernel; Off: none.
enum class LateKMode { Auto, On, Off };
/// "auto", "on", "off" (the disk cache key, diagnostics).
const char *toString(LateKMode mode);

/// Where a kernel whose O is staged in a V stage (three K/V stages,
/// attn-stage-output-in-v) defers the staged store's read wait, and the
/// stage's release, from the store to right after the next program's Q
/// wait (attn-stage-output-in-v defer-read-wait). Auto (the default):
/// kernels whose programs all read the same kv-blocks and release Q after
/// them (dense, with any score); H200: fwd dense +2.1-3.1% at 2k-16k,
/// while prefix-LM lost 3.0% and causal gained 0.3-0.6% (item 94), and the
/// window (Q released early) and the run-time chunk lost 3.0% in item 91's
/// hand edit (docs/performance.md items 91, 94). On: every kernel with a
/// staged O; Off: none.
enum class DeferOutputWaitMode { Auto, On, Off };
/// "auto", "on", "off" (the disk cache key, diagnostics).
const char *toString(DeferOutputWaitMode mode);

/// Where GPU kernels driven by kv-block lists drop the mask terms every
/// listed tile satisfies (attn-drop-listed-tile-terms: a block layout of
/// the tile's block size, read per score). Auto (the default): where the
/// programs are handed out at run time (persistentFits with lists); H200:
/// block-sparse +1.8% there (docs/performance.md item 71), while one CTA
/// per program it lost 3% (ptxas then waits for P V before the softmax,
/// item 53). On: every list-driven GPU kernel; Off: none. The CPU target
/// always drops them.
enum class ListedTermsMode { Auto, On, Off };
/// "auto", "on", "off" (the disk cache key, diagnostics).
const char *toString(ListedTermsMode mode);

/// Whether a persistent TMA kernel's tiles with `qStages` Q tiles, its O
/// staging region and pipe, and the program slots where its programs are
/// `handedOut`, fit `sharedMemPerBlock` (attn-persistent-programs' test).
bool persistentTilesFit(int64_t bq, int64_t bkv, int64_t dQK, int64_t dV,
                        int64_t elementBytes, int64_t stages, int64_t qStages,
                        bool handedOut, int64_t sharedMemPerBlock);

/// Whether attn-persistent-programs makes a kernel with tiles `t` (head
/// dims dQK / dV, `elementBytes` per element) persistent under
/// `persistent`: TMA copies, and its tiles, O staging and pipe (with the
/// program slots where `listDriven`: its programs are then handed out at
/// run time) fit the target's shared memory.
bool persistentFits(const TargetDesc &target, const TileChoice &t,
                    int64_t dQK, int64_t dV, int64_t elementBytes,
                    PersistentMode persistent, bool listDriven);

} // namespace faopt

#endif // FAOPT_COMPILER_TARGETS_TARGETDESC_H
