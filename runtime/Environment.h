//===- Environment.h - the runtime's switches from the environment -*- C++ -*-===//
//
// Every FAOPT_* variable the runtime reads (docs/runtime.md, "Environment"):
// the compile options each kernel gets (part of the disk-cache key), and
// the launch switches a context reads once when it is created. A value a
// switch does not take is said once on stderr and read as its default.
//
//===----------------------------------------------------------------------===//
#ifndef FAOPT_RUNTIME_ENVIRONMENT_H
#define FAOPT_RUNTIME_ENVIRONMENT_H

#include "compiler/pipeline/GpuCompiler.h"

#include <string>

namespace faopt::rt {

/// True under $FAOPT_QUIET: no warnings on stderr.
bool quiet();

/// The compile options the environment sets, for every compile and for the
/// disk cache key alike.
void setFromEnvironment(GpuCompileOptions &options);

/// $FAOPT_CUDA_OVERRIDE_DIR (diagnosis): where DIR/<specName>.cu exists,
/// `options.cudaSourceOverride` becomes that file's text (said on stderr).
void cudaOverrideFromEnvironment(const std::string &specName,
                                 GpuCompileOptions &options);

/// $FAOPT_DEPENDENT_LAUNCH: list builders and the kernels after them by
/// programmatic dependent launch (All), only the kernels (KernelOnly), or
/// neither (None).
enum class DependentLaunch { All, KernelOnly, None };
DependentLaunch dependentLaunchFromEnv();

/// $FAOPT_COUNTER_MEMSET=1: a memset of the program counter even where the
/// list builder zeroes it.
bool counterMemsetFromEnv();

/// $FAOPT_SHORT_ROW_KERNEL: short-row forms (runtime/ShortRows.cpp) unless 0.
bool shortRowKernelFromEnv();

} // namespace faopt::rt

#endif // FAOPT_RUNTIME_ENVIRONMENT_H
