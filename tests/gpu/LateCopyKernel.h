//===- LateCopyKernel.h - a kernel that lets the next one start early -*- C++ -*-===//
//
// For the tests of programmatic dependent launch: one CTA that lets a
// kernel launched after it with programmatic dependent launch start at once
// (griddepcontrol.launch_dependents, sm_90+), waits `delayNs` and only then
// copies `count` int32 values. A dependent kernel that reads the copy's
// destination without waiting for this grid sees the old values.
//
//===----------------------------------------------------------------------===//
#ifndef FAOPT_TESTS_GPU_LATECOPYKERNEL_H
#define FAOPT_TESTS_GPU_LATECOPYKERNEL_H

#include <cstdint>

namespace faopt::test {

/// Launches on the default stream; returns a cudaError_t as int.
int lateCopy(int32_t *dst, const int32_t *src, int64_t count,
             uint64_t delayNs);

} // namespace faopt::test

#endif // FAOPT_TESTS_GPU_LATECOPYKERNEL_H
