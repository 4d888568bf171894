//===- ReferenceKernel.h - naive attention on the GPU, in double -*- C++ -*-===//
//
// The GPU tests' reference: one CTA per query row computes every score in
// double precision, a full softmax and the weighted sum of V. Slow and
// obviously right; inputs are read through the same strides the kernel
// under test uses, so layouts are checked too.
//
//===----------------------------------------------------------------------===//
#ifndef FAOPT_TESTS_GPU_REFERENCEKERNEL_H
#define FAOPT_TESTS_GPU_REFERENCEKERNEL_H

#include <cstdint>

namespace faopt::test {

enum class RefElem { BF16, F16 };
enum class RefMask { None, Causal };

struct RefTensor {
  const void *data;
  int64_t stride[3]; // batch, head, seq (elements); dim contiguous
};

struct RefArgs {
  RefElem elem;
  RefTensor q, k, v;
  int64_t batch, heads, kvHeads, seqQ, seqK, dQK, dV;
  double scale;
  RefMask mask;
  float *o;   // [b, h, sq, dv] packed, f32
  float *lse; // [b, h, sq] packed
};

/// Launches on the default stream; returns a cudaError_t as int.
int referenceAttention(const RefArgs &args);

} // namespace faopt::test

#endif // FAOPT_TESTS_GPU_REFERENCEKERNEL_H
