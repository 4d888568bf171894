//===- CudaSource.h - EmitC module to CUDA C++ ------------------*- C++ -*-===//
#ifndef FAOPT_COMPILER_TARGETS_GPU_CUDASOURCE_H
#define FAOPT_COMPILER_TARGETS_GPU_CUDASOURCE_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/StringRef.h"
#include <string>

namespace faopt::gpu {

/// A generated kernel and what a launcher must know about it.
struct CudaKernelSource {
  std::string name;   // extern "C" symbol
  std::string source; // CUDA C++; includes deviceHeaderName()
  int64_t threads = 0;
  int64_t sharedBytes = 0; // dynamic shared memory per CTA
  /// Persistent (attn-persistent-programs): launch min(programs, SMs) CTAs,
  /// each runs programs until none are left.
  bool persistent = false;
  int64_t blockQ = 0, blockKv = 0, warps = 0, stages = 0;
  std::string mma = "mma_sync"; // tensor-core instruction (attn.tiling)
  /// "tma": the kernel takes CUtensorMaps of q, k, v after its other
  /// parameters and `threads` includes a producer warpgroup (attn.tiling).
  std::string copy = "cp_async";
  /// The kv-block list builder launched before the kernel (data-dependent
  /// masks, attn-block-lists), "" if none; its threads per block and the
  /// rows of the lists (compiler/pipeline/BlockListsAbi.h).
  std::string listBuilder;
  int64_t listBuilderThreads = 0;
  bool listsPerBatch = false, listsPerHead = false;
  /// Rows whose kv ranges each list row also holds (attn.key_ranges,
  /// attn-sorted-keys-as-bounds), 0 if none.
  int64_t keyRangeRows = 0;
  /// The kernel waits for its list builder before it reads the lists
  /// (attn-await-list-builder), so it may be launched with programmatic
  /// dependent launch right after the builder.
  bool dependentLaunch = false;
  /// The list builder waits for the grid launched ahead of it before it
  /// reads or writes anything (faopt::await_previous_grid), so it too may be
  /// launched with programmatic dependent launch.
  bool builderDependentLaunch = false;
  /// Programs handed out at run time: the kernel takes a one-int32 counter
  /// after the lists, zero at every launch (attn.next_program).
  bool programCounter = false;
  /// The list builder takes that counter after the lists and zeroes it
  /// (attn-builder-resets-counter): no memset where the builder runs.
  bool builderResetsCounter = false;
  /// The list builder copies its row of a tensor into shared memory first
  /// (attn-stage-builder-rows: a faopt::stage_row call).
  bool builderStagesRow = false;
  /// attn-overlap-softmax carries P rounded (its rounded-p) in this kernel.
  bool roundedP = false;
  /// attn-release-q-early moved this kernel's Q release into its kv loop.
  bool earlyQRelease = false;
  /// attn-drop-listed-tile-terms replaced a mask term of this kernel's
  /// listed tiles by true.
  bool listedTermsDropped = false;
  /// Q tiles per CTA: 2 where a persistent worker alternates between two
  /// (attn.q_stages).
  int64_t qTiles = 1;
  /// K/V stages of the pipelined kv loop (attn.kv_stages: 3 where O is
  /// staged in a V stage; 1 without a pipeline).
  int64_t kvStages = 1;
  /// The copy thread stores the O tile the consumers staged in a V stage
  /// (attn.output_by_copy_thread).
  bool outputByCopyThread = false;
  /// The staged store's read wait after the next program's Q wait
  /// (attn.output_wait_at_next_q).
  bool outputWaitAtNextQ = false;
};

/// Translates a module lowered by attn-convert-to-emitc (mlir::emitc::
/// translateToCpp) and collects the kernel's launch facts. `header` is
/// prepended as a comment block (the spec, the target).
mlir::FailureOr<CudaKernelSource> translateToCuda(mlir::ModuleOp module,
                                                  llvm::StringRef header);

/// The device-primitive headers the generated code includes
/// (faopt_sm80.cuh; wgmma kernels faopt_sm90.cuh, TMA kernels
/// faopt_sm90_tma.cuh and list builders faopt_block_lists.cuh, which all
/// include it),
/// embedded in the binary so NVRTC needs no file system.
struct DeviceHeader {
  llvm::StringRef name, source;
};
llvm::ArrayRef<DeviceHeader> deviceHeaders();

} // namespace faopt::gpu

#endif // FAOPT_COMPILER_TARGETS_GPU_CUDASOURCE_H
