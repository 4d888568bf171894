//===- KernelPlan.h - what the EmitC lowering decides up front --*- C++ -*-===//
//
// Before the tile ops are converted, the GPU lowering plans the kernel as a
// whole: the shared-memory layout and pipeline depth of every copy, which
// prefetches synchronise, how many copy groups each wait may leave in
// flight, which row sums stay per lane, and the kernel's parameter names.
//
//===----------------------------------------------------------------------===//
#ifndef FAOPT_COMPILER_TARGETS_GPU_KERNELPLAN_H
#define FAOPT_COMPILER_TARGETS_GPU_KERNELPLAN_H

#include "compiler/targets/TargetDesc.h"
#include "compiler/targets/gpu/LanePartialSums.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallVector.h"
#include <string>

namespace faopt::gpu {

/// What the patterns need to know about the kernel being lowered.
struct KernelInfo {
  int64_t warps = 4, threads = 128, blockQ = 0, blockKv = 0;
  bool wgmma = false; // products are warpgroup MMAs (faopt_sm90.cuh)
  bool pingpong = false; // wgmma: the two warpgroups alternate products
  /// TMA copies from a producer warpgroup (faopt_sm90_tma.cuh): the
  /// consumers are `threads`, the launch adds 128; the stages' barriers
  /// and the tensor-map pointers sit at `pipeOffset` in shared memory.
  bool tma = false;
  int64_t pipeOffset = 0;
  /// One CTA runs many programs (attn-persistent-programs): the launch
  /// starts `attn.workers` CTAs.
  bool persistent = false;
  /// The kernel waits for its list builder (attn.await_list_builder), so
  /// the runtime may start it while the builder runs.
  bool dependentLaunch = false;
  /// Programs are handed out at run time (attn.next_program): the kernel
  /// takes a counter argument (attn.program_counter) that must be zero at
  /// launch.
  bool programCounter = false;
  /// Q tiles per worker (attn.q_stages): 2 where Q's stage varies, so the
  /// hand-out's program slots come in pairs too.
  int64_t qStages = 1;
  /// K/V stages (1 without a pipelined kv loop; 3 with attn.kv_stages).
  int64_t kvStages = 1;
  /// Where the O tile is staged for its store (the Q tile's region unless
  /// persistent).
  int64_t stagingOffset = 0;
  /// The kernel argument (0 q, 1 k, 2 v) each copy, wait and release uses.
  llvm::DenseMap<mlir::Operation *, unsigned> source;
  /// Shared-memory buffer of each tile load / prefetch / wait: the byte
  /// offset of stage 0 and the bytes of one stage.
  struct Buffer {
    int64_t offset = 0, stageBytes = 0;
  };
  llvm::DenseMap<mlir::Operation *, Buffer> buffer;
  /// attn.output_by_copy_thread (attn-stage-output-in-v by-copy-thread):
  /// the copy thread stores each program's O from the V stage the
  /// consumers staged it in (argument `stagedOutputSource`: V);
  /// `stagedOutput` is that stage's buffer and
  /// `stagedOutputTile` the tile staged in it (block_q rows, in the
  /// output's element type), for the copy thread's stores.
  bool outputByCopyThread = false;
  /// attn.output_wait_at_next_q (attn-stage-output-in-v defer-read-wait):
  /// the staged store's read wait and the stage's release come after the
  /// next program's Q wait.
  bool outputWaitAtNextQ = false;
  unsigned stagedOutputSource = 2;
  Buffer stagedOutput;
  mlir::RankedTensorType stagedOutputTile;
  /// Prefetches that start with a barrier; waits that wait (the first of
  /// their block); copy groups each wait may leave in flight.
  llvm::DenseSet<mlir::Operation *> barrierFirst;
  llvm::DenseMap<mlir::Operation *, int64_t> groupsAhead;
  int64_t sharedBytes = 0;
  /// Row sums each lane keeps for its own columns until finalize.
  LanePartialSums partialSums;
  /// `attn.param` names of the kernel's arguments ("" where none).
  llvm::SmallVector<std::string> argNames;
};

/// Fills the shared-memory plan of `info` (buffer offsets and stages,
/// barriers, groups in flight) from the kernel's tile copies; with
/// `info.tma`, also the pipe (and every copy must be pipelined).
mlir::LogicalResult planSharedMemory(mlir::func::FuncOp kernel,
                                     KernelInfo &info);

} // namespace faopt::gpu

#endif // FAOPT_COMPILER_TARGETS_GPU_KERNELPLAN_H
