//===- GpuVariantsCases.h - the GPU variants tests' cases -----*- C++ -*-===//
//
// One case per mask / score / sparsity form (GpuVariantsCases.cpp lists
// them): the spec's fields, the launch shape, parameter and tensor values,
// and the K / V rows no query may attend.
//
//===----------------------------------------------------------------------===//
#ifndef FAOPT_TESTS_GPU_GPUVARIANTSCASES_H
#define FAOPT_TESTS_GPU_GPUVARIANTSCASES_H

#include "tests/common/Reference.h"

#include <functional>
#include <ostream>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace faopt::gputest {

struct Variant {
  std::string name;
  std::string fields; // JSON fields after dtype/head_dim
  std::string dtype = "bf16";
  int64_t d = 128;
  int64_t batch = 1, heads = 2, kvHeads = 2, seqQ = 300, seqK = 1000;
  std::vector<std::pair<std::string, double>> params;
  /// Tensor inputs (declaration order, row-major) for the case's shape.
  std::function<test::TensorInputs(const test::Shape &, std::mt19937 &)>
      tensors = nullptr;
  /// K / V rows (b, kv) no query attends, whole 128-key blocks: NaN on the
  /// device (the reference has the real values), so a kernel that loads and
  /// computes with an empty block fails.
  std::function<bool(int64_t b, int64_t kv)> unread = nullptr;
};

inline void PrintTo(const Variant &v, std::ostream *os) { *os << v.name; }

/// The variant's spec (named v_<name>).
inline std::string specFor(const Variant &v) {
  std::ostringstream os;
  os << "{\"name\": \"v_" << v.name << "\", \"dtype\": \"" << v.dtype
     << "\", \"head_dim\": " << v.d << ", " << v.fields << "}";
  return os.str();
}

/// Every case, in the order the tests run them.
std::vector<Variant> variants();

} // namespace faopt::gputest

#endif // FAOPT_TESTS_GPU_GPUVARIANTSCASES_H
