//===- GpuTestUtil.h - shared pieces of the GPU tests ------------*- C++ -*-===//
#ifndef FAOPT_TESTS_GPU_GPUTESTUTIL_H
#define FAOPT_TESTS_GPU_GPUTESTUTIL_H

#include "faopt/runtime.hpp"
#include "tests/common/Reference.h"

#include "gtest/gtest.h"
#include <algorithm>
#include <cuda_runtime.h>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

namespace faopt::gputest {

using namespace faopt;

inline std::string cudaSkipReason() {
  int n = 0;
  cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess)
    return std::string("no usable CUDA driver/device: ") + cudaGetErrorString(e);
  if (n == 0)
    return "no CUDA device";
  return "";
}

#define SKIP_WITHOUT_GPU()                                                     \
  do {                                                                         \
    std::string why = cudaSkipReason();                                        \
    if (!why.empty())                                                          \
      GTEST_SKIP() << "GPU test skipped: " << why;                             \
  } while (0)

#define CUDA_OK(expr)                                                          \
  do {                                                                         \
    cudaError_t e_ = (expr);                                                   \
    ASSERT_EQ(e_, cudaSuccess) << #expr << ": " << cudaGetErrorString(e_);     \
  } while (0)


struct DeviceTensor {
  void *ptr = nullptr;
  size_t bytes = 0;
  int64_t stride[3] = {0, 0, 0}; // batch, head, seq
  ~DeviceTensor() {
    if (ptr)
      cudaFree(ptr);
  }
};

/// Fills [b, h, s, d] with random values in the spec's layout (row padding
/// `pad`), uploads, and returns the device tensor.
inline void upload(DeviceTensor &t, spec::ElementType dtype, spec::Layout layout,
            int64_t b, int64_t h, int64_t s, int64_t d, int64_t pad,
            std::mt19937 &rng, bool poisonOnly = false) {
  test::Buffer buf = test::makeBuffer(dtype, layout, b, h, s, d, pad);
  if (poisonOnly)
    test::poison(buf);
  else
    test::fillRandom(buf, rng);
  t.stride[0] = buf.strides[0];
  t.stride[1] = buf.strides[1];
  t.stride[2] = buf.strides[2];
  t.bytes = buf.bytes.size();
  // A tensor with no rows still gets an address (launches reject NULL).
  cudaMalloc(&t.ptr, std::max<size_t>(t.bytes, 16));
  cudaMemcpy(t.ptr, buf.bytes.data(), t.bytes, cudaMemcpyHostToDevice);
}

/// Reads [b, h, s, d] back through strides into logical order.
inline std::vector<double> download(const DeviceTensor &t, spec::ElementType dtype,
                             spec::Layout layout, int64_t b, int64_t h,
                             int64_t s, int64_t d, int64_t pad) {
  test::Buffer buf = test::makeBuffer(dtype, layout, b, h, s, d, pad);
  cudaMemcpy(buf.bytes.data(), t.ptr, t.bytes, cudaMemcpyDeviceToHost);
  return test::read(buf);
}

/// One context for the whole run, memory cache only (every run compiles
/// what it tests). FAOPT_TEST_TARGET picks the target (default auto: sm90a
/// on an H100/H200, whose wgmma kernels then run; sm80 runs the mma.sync
/// kernels on the same card).
inline Context &context() {
  static Result<Context> ctx = [] {
    ContextOptions o;
    o.diskCache = false; // every run compiles what it tests
    if (const char *t = std::getenv("FAOPT_TEST_TARGET"); t && *t)
      o.target = t;
    return Context::create(o);
  }();
  if (!ctx)
    ADD_FAILURE() << ctx.status().message();
  return *ctx;
}


} // namespace faopt::gputest

#endif // FAOPT_TESTS_GPU_GPUTESTUTIL_H
