//===- CpuTensorViews.h - tensor inputs for the CPU runner ------*- C++ -*-===//
#ifndef FAOPT_TESTS_COMMON_CPUTENSORVIEWS_H
#define FAOPT_TESTS_COMMON_CPUTENSORVIEWS_H

#include "compiler/targets/cpu/CpuRunner.h"
#include "tests/common/Reference.h"

namespace faopt::test {

/// CpuKernel::run's views of host tensor inputs (which must outlive them).
inline std::vector<cpu::HostTensor> cpuTensorViews(HostTensorInputs &host) {
  std::vector<cpu::HostTensor> views;
  for (size_t i = 0; i < host.size(); ++i) {
    cpu::HostTensor t;
    t.data = const_cast<void *>(host.data(i));
    t.rank = static_cast<int>(host.sizes[i].size());
    for (int d = 0; d < t.rank; ++d) {
      t.sizes[d] = host.sizes[i][d];
      t.strides[d] = host.strides[i][d];
    }
    views.push_back(t);
  }
  return views;
}

} // namespace faopt::test

#endif // FAOPT_TESTS_COMMON_CPUTENSORVIEWS_H
