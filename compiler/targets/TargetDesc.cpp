//===- TargetDesc.cpp - target budgets and the tile-size rule -------------===//
#include "compiler/targets/TargetDesc.h"

#include <sstream>

namespace faopt {

namespace {
// sm80 (A100): 163 KB of shared memory per block, 40 MB of L2; sm90a
// (H100/H200): 227 KB, 50 MB, and programmatic dependent launch. Both cap
// a thread at 255 registers. The CPU "budget" is a cache-friendly working
// set, not a hard limit.
const TargetDesc kTargets[] = {
    {TargetKind::SM80, "sm80", 163 * 1024, 255, 32, 40ll << 20, false},
    {TargetKind::SM90A, "sm90a", 227 * 1024, 255, 32, 50ll << 20, true},
    {TargetKind::CPU, "cpu", 256 * 1024, 0, 1, 0, false},
};

int64_t sharedBytes(int64_t bq, int64_t bkv, int64_t dQK, int64_t dV,
                    int64_t elementBytes, int64_t stages) {
  return (bq * dQK + stages * bkv * (dQK + dV)) * elementBytes;
}
} // namespace

int64_t persistentSharedBytes(int64_t bq, int64_t bkv, int64_t dQK, int64_t dV,
                              int64_t elementBytes, int64_t stages,
                              int64_t qStages) {
  // With three K/V stages O is staged in the last P V's V stage
  // (attn-stage-output-in-v), not in a region of its own.
  const int64_t staging = stages >= 3 ? 0 : bq * dV * elementBytes;
  return sharedBytes(bq, bkv, dQK, dV, elementBytes, stages) +
         (qStages - 1) * bq * dQK * elementBytes + staging + kTmaPipeBytes;
}

int64_t kvStagesFor(int64_t requested, bool handedOut) {
  if (requested == kKvStagesAuto)
    return handedOut ? 2 : 3;
  return requested;
}

int64_t qStagesFor(int64_t requested, bool handedOut) {
  if (requested == kQStagesAuto)
    return handedOut ? 2 : 1;
  return requested;
}

namespace {
/// The name of a three-way switch (every Mode has Auto, On and Off).
template <typename Mode> const char *autoOnOff(Mode mode) {
  switch (mode) {
  case Mode::Auto:
    return "auto";
  case Mode::On:
    return "on";
  case Mode::Off:
    return "off";
  }
  return "auto";
}
} // namespace

const char *toString(PersistentMode mode) { return autoOnOff(mode); }
const char *toString(RowBoundMode mode) { return autoOnOff(mode); }
const char *toString(ReleaseQMode mode) { return autoOnOff(mode); }
const char *toString(LateKMode mode) { return autoOnOff(mode); }
const char *toString(DeferOutputWaitMode mode) { return autoOnOff(mode); }
const char *toString(ListedTermsMode mode) { return autoOnOff(mode); }

bool persistentTilesFit(int64_t bq, int64_t bkv, int64_t dQK, int64_t dV,
                        int64_t elementBytes, int64_t stages, int64_t qStages,
                        bool handedOut, int64_t sharedMemPerBlock) {
  const int64_t slotBytes = handedOut ? kProgramSlotBytes : 0;
  return persistentSharedBytes(bq, bkv, dQK, dV, elementBytes, stages,
                               qStages) + slotBytes <=
         sharedMemPerBlock;
}

bool thirdKvStageFits(int64_t bq, int64_t bkv, int64_t dQK, int64_t dV,
                      int64_t elementBytes, int64_t qStages, bool handedOut,
                      int64_t sharedMemPerBlock) {
  return bkv >= bq && persistentTilesFit(bq, bkv, dQK, dV, elementBytes, 3,
                                         qStages, handedOut,
                                         sharedMemPerBlock);
}

bool persistentFits(const TargetDesc &target, const TileChoice &t,
                    int64_t dQK, int64_t dV, int64_t elementBytes,
                    PersistentMode persistent, bool listDriven) {
  return persistent != PersistentMode::Off && t.copy == "tma" &&
         persistentTilesFit(t.blockQ, t.blockKv, dQK, dV, elementBytes,
                            t.stages, 1, listDriven, target.sharedMemPerBlock);
}

bool wgmmaPingPong(int64_t warps, int64_t dQK, int64_t dV, bool tmaCopies) {
  // Measured on the H200 (docs/performance.md item 18): with cp.async copies
  // d = 128 gains 2-6%, d = 64 loses 1-5% (its products are too short to
  // hide the other warpgroup's softmax behind), so both products must be
  // >= 128 deep. With TMA copies from a producer warpgroup (item 20) the
  // turns cost 3-6% at d = 128: the warpgroups no longer align at CTA
  // barriers, and waiting for the other's turn only delays them.
  return !tmaCopies && warps == 8 && dQK >= 128 && dV >= 128;
}

bool wgmmaTmaCopies(int64_t stages, int64_t dQK, int64_t dV) {
  // Measured on the H200 (docs/performance.md item 19): a producer
  // warpgroup with TMA copies on mbarriers, no CTA barrier in the kv loop,
  // gains 20-30% over cp.async at d = 128. d = 64 kernels run two CTAs per
  // SM, where 384 threads would cap a thread at 85 registers.
  return stages >= 2 && dQK >= 128 && dV >= 128;
}

std::optional<TargetDesc> lookupTarget(std::string_view name) {
  for (const TargetDesc &t : kTargets)
    if (name == t.name)
      return t;
  return std::nullopt;
}

const TargetDesc &getTarget(TargetKind kind) {
  for (const TargetDesc &t : kTargets)
    if (t.kind == kind)
      return t;
  return kTargets[0];
}

std::optional<TileChoice> chooseTiles(const TargetDesc &target, int64_t dQK,
                                      int64_t dV, int64_t elementBytes,
                                      int64_t overrideBlockQ,
                                      int64_t overrideBlockKv,
                                      std::string &error) {
  TileChoice c;
  std::ostringstream why;
  if (!target.isGpu()) {
    // The CPU target exists to check numerics: small tiles make every test
    // size cross several tile boundaries.
    c.blockQ = overrideBlockQ ? overrideBlockQ : 32;
    c.blockKv = overrideBlockKv ? overrideBlockKv : 32;
    c.warps = 1;
    c.stages = 1;
    c.sharedMemBytes =
        sharedBytes(c.blockQ, c.blockKv, dQK, dV, elementBytes, 1);
    why << "cpu: " << c.blockQ << "x" << c.blockKv
        << " tiles keep every tested length spanning several blocks; the CPU "
           "path checks numerics, speed is not its goal.";
    c.why = why.str();
    return c;
  }

  // FlashAttention-2 on the tensor cores: each warp owns block_q / warps rows
  // of Q, so S = Q Kᵀ and P never leave registers. A thread holds its rows'
  // share of S (rows_per_warp * block_kv / 32 floats) and of the O
  // accumulator (rows_per_warp * d_v / 32); keeping their sum near 192 leaves
  // room for Q/K fragments and addresses under the 255-register cap.
  //
  // sm90a with 16-bit inputs and head dims in whole 64-column slabs uses
  // wgmma: a warpgroup (4 warps) per 64 rows, so 8 warps of 16 rows for a
  // 128-row tile. Twice the threads of the mma.sync kernel halve each
  // thread's share, and the budget is lower (160): 256 threads x 255
  // registers is the whole register file.
  bool wgmma = target.kind == TargetKind::SM90A && elementBytes == 2 &&
               dQK % 64 == 0 && dV % 64 == 0 &&
               (overrideBlockQ == 0 || overrideBlockQ == 64 ||
                overrideBlockQ == 128) &&
               overrideBlockKv % 64 == 0;
  c.blockQ = 128;
  c.warps = dV > 128 ? 8 : 4;
  if (wgmma) {
    c.mma = "wgmma";
    if (overrideBlockQ)
      c.blockQ = overrideBlockQ;
    c.warps = c.blockQ / 16;
  }
  int64_t rowsPerWarp = c.blockQ / c.warps;
  const int64_t regBudget = wgmma ? 160 : 192;
  int64_t accRegs = rowsPerWarp * dV / 32;
  // wgmma products run over whole 64-column slabs of K.
  const int64_t minBlockKv = wgmma ? 64 : 32;
  int64_t bkv = 128;
  while (bkv > minBlockKv && accRegs + rowsPerWarp * bkv / 32 > regBudget)
    bkv /= 2;
  c.blockKv = bkv;
  if (overrideBlockQ)
    c.blockQ = overrideBlockQ;
  if (overrideBlockKv)
    c.blockKv = overrideBlockKv;
  if (c.blockQ % (16 * c.warps) != 0) {
    error = "block_q = " + std::to_string(c.blockQ) + " must be a multiple of " +
            std::to_string(16 * c.warps) + " (16 rows per warp, " +
            std::to_string(c.warps) + " warps)";
    return std::nullopt;
  }
  if (c.blockKv % 16 != 0) {
    error = "block_kv = " + std::to_string(c.blockKv) +
            " must be a multiple of 16 (the MMA k-size)";
    return std::nullopt;
  }
  // Tile copies hand each thread whole 16-byte chunks of a row, in passes
  // of whole rows that keep the 8-row swizzle phase: the chunks of a row
  // must divide the threads into a multiple of 8 rows per pass.
  const int64_t threads = 32 * c.warps;
  auto copyable = [&](int64_t d) {
    return d % 8 == 0 && threads % (d / 8) == 0 && (threads / (d / 8)) % 8 == 0;
  };
  for (int64_t d : {dQK, dV})
    if (!copyable(d)) {
      std::string dims;
      for (int64_t ok : {16, 32, 64, 128, 256})
        if (copyable(ok))
          dims += (dims.empty() ? "" : ", ") + std::to_string(ok);
      error = "head dim " + std::to_string(d) + " is not supported by " +
              target.name + " kernels of " + std::to_string(threads) +
              " threads (tile copies split rows into 16-byte chunks): use " +
              dims + ", or pad the head dim";
      return std::nullopt;
    }
  rowsPerWarp = c.blockQ / c.warps;
  // Double-buffer K/V when it fits; otherwise one stage; otherwise (when
  // block_kv was not pinned) halve block_kv until the tiles fit.
  while (true) {
    c.stages = 2;
    c.sharedMemBytes =
        sharedBytes(c.blockQ, c.blockKv, dQK, dV, elementBytes, c.stages);
    if (c.sharedMemBytes > target.sharedMemPerBlock) {
      c.stages = 1;
      c.sharedMemBytes =
          sharedBytes(c.blockQ, c.blockKv, dQK, dV, elementBytes, 1);
    }
    if (c.sharedMemBytes <= target.sharedMemPerBlock || overrideBlockKv ||
        c.blockKv <= minBlockKv)
      break;
    c.blockKv /= 2;
  }
  c.accumulatorRegs = rowsPerWarp * (c.blockKv + dV) / 32;
  if (wgmma && wgmmaTmaCopies(c.stages, dQK, dV) &&
      c.sharedMemBytes + kTmaPipeBytes <= target.sharedMemPerBlock)
    c.copy = "tma";
  c.pingpong = wgmma && wgmmaPingPong(c.warps, dQK, dV, c.copy == "tma");
  if (c.sharedMemBytes > target.sharedMemPerBlock) {
    error = "tiles " + std::to_string(c.blockQ) + "x" +
            std::to_string(c.blockKv) + " need " +
            std::to_string(c.sharedMemBytes) + " bytes of shared memory; " +
            target.name + " allows " + std::to_string(target.sharedMemPerBlock);
    return std::nullopt;
  }
  if (c.accumulatorRegs > 224) {
    error = "tiles " + std::to_string(c.blockQ) + "x" +
            std::to_string(c.blockKv) + " need " +
            std::to_string(c.accumulatorRegs) +
            " accumulator registers per thread; at most 224 leave room for "
            "operands";
    return std::nullopt;
  }
  why << target.name << ": ";
  if (wgmma)
    why << "wgmma, " << c.warps / 4 << " warpgroup" << (c.warps > 4 ? "s" : "")
        << " of 64 query rows (" << c.warps << " warps x 16 rows"
        << (c.pingpong ? ", taking turns on the tensor cores)" : ")");
  else
    why << "mma.sync, " << c.warps << " warps x " << c.blockQ / c.warps
        << " query rows each";
  why << "; block_kv = " << c.blockKv << " keeps S ("
      << c.blockQ / c.warps * c.blockKv / 32
      << " f32/thread) plus the O accumulator (" << c.blockQ / c.warps * dV / 32
      << " f32/thread) at " << c.accumulatorRegs << " registers, under the "
      << regBudget << " budget that leaves room for operands; " << c.stages
      << " K/V stage" << (c.stages > 1 ? "s" : "") << " ("
      << (c.copy == "tma" ? "TMA double buffering from a producer warpgroup"
          : c.stages > 1  ? "cp.async double buffering"
                          : "one buffer")
      << ") and the Q tile use " << c.sharedMemBytes / 1024 << " KiB of "
      << target.sharedMemPerBlock / 1024 << " KiB shared memory.";
  c.why = why.str();
  return c;
}

} // namespace faopt
