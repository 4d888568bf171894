//===- CpuRunner.h - compile a spec for the CPU and run it ------*- C++ -*-===//
//
// The CPU target end to end: spec -> pipeline (target cpu) -> LLVM -> MLIR's
// ExecutionEngine, in process. Used by tests/cpu as the check of every
// compiler stage, by samples, and by faopt-compile --run.
//
//===----------------------------------------------------------------------===//
#ifndef FAOPT_COMPILER_TARGETS_CPU_CPURUNNER_H
#define FAOPT_COMPILER_TARGETS_CPU_CPURUNNER_H

#include "compiler/spec/Spec.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"
#include <cstdint>
#include <memory>
#include <vector>

namespace mlir {
class ExecutionEngine;
}

namespace faopt::cpu {

/// A strided view of host memory in logical order: [batch, heads, seq, dim]
/// for q, k, v, o (rank 4) or [batch, heads, seq_q] for lse (rank 3). Strides
/// are in elements; the last one must be 1.
struct HostTensor {
  void *data = nullptr;
  int rank = 4;
  int64_t sizes[4] = {0, 0, 0, 0};
  int64_t strides[4] = {0, 0, 0, 0};
};

class CpuKernel {
public:
  ~CpuKernel();

  /// Compiles `spec` for the CPU (tile sizes may be overridden; 0 = default).
  static llvm::Expected<std::unique_ptr<CpuKernel>>
  compile(const spec::AttentionSpec &spec, int64_t blockQ = 0,
          int64_t blockKv = 0);

  /// Checks the shapes against the spec and each other, then runs the kernel.
  /// `lse` must be given exactly when the spec asks for it. `params` are the
  /// run-time parameters in declaration order (int ones must be integral);
  /// trailing ones may be left out when the spec gives them defaults.
  /// `tensors` are the tensor inputs given at launch in declaration order
  /// (int32 / float data, `rank` and sizes as declared for this launch);
  /// static ones (a block layout written in the spec) are not passed.
  llvm::Error run(const HostTensor &q, const HostTensor &k,
                  const HostTensor &v, const HostTensor &o,
                  const HostTensor *lse,
                  llvm::ArrayRef<double> params = {},
                  llvm::ArrayRef<HostTensor> tensors = {}) const;

  const spec::AttentionSpec &spec() const { return spec_; }

private:
  CpuKernel() = default;
  spec::AttentionSpec spec_;
  std::unique_ptr<mlir::ExecutionEngine> engine_;
  void (*entry_)(void **) = nullptr;
  /// The list builder of a data-dependent mask (attn-block-lists), run
  /// before the kernel on the same arguments; null when there is none.
  void (*buildLists_)(void **) = nullptr;
  bool listsPerBatch_ = false, listsPerHead_ = false;
  /// Each tensor declaration's spec value as int32 (empty unless static).
  std::vector<std::vector<int32_t>> staticData_;
  int64_t blockQ_ = 0, blockKv_ = 0;
};

} // namespace faopt::cpu

#endif // FAOPT_COMPILER_TARGETS_CPU_CPURUNNER_H
