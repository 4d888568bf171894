//===- CpuNumericsCases.h - the CPU numerics tests' cases -----*- C++ -*-===//
//
// One case per spec kind (CpuNumericsCases.cpp lists them): the spec, the
// launch shape, hand-written reference functions for built-ins, parameter
// and tensor values, and the K / V rows no query may attend.
//
//===----------------------------------------------------------------------===//
#ifndef FAOPT_TESTS_CPU_CPUNUMERICSCASES_H
#define FAOPT_TESTS_CPU_CPUNUMERICSCASES_H

#include "tests/common/Reference.h"

#include <functional>
#include <ostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace faopt::test {

struct Case {
  std::string name;
  std::string spec; // JSON
  Shape shape;
  /// The reference mask/score, written by hand for built-ins so that the
  /// spec's own desugaring is checked too; null = use the spec's expression.
  MaskFn mask = nullptr;
  ScoreFn score = nullptr;
  /// Run-time parameter values, in declaration order.
  ParamValues params = {};
  /// Fills the tensor inputs (declaration order, row-major) for a shape.
  std::function<TensorInputs(const Shape &, std::mt19937 &)> tensors = nullptr;
  /// K / V rows (b, kv) no query attends, whole tiles of every target: the
  /// kernel gets NaN there (the reference the real values), so a kernel
  /// that loads and computes with an empty block fails.
  std::function<bool(int64_t b, int64_t kv)> unread = nullptr;
};

inline void PrintTo(const Case &c, std::ostream *os) { *os << c.name; }

inline std::string specJson(const std::string &dtype, int64_t d,
                     const std::string &extra, const std::string &layout = "bhsd",
                     int64_t dv = 0) {
  std::ostringstream os;
  os << "{\"name\": \"k\", \"dtype\": \"" << dtype << "\", ";
  if (dv)
    os << "\"head_dim_qk\": " << d << ", \"head_dim_v\": " << dv;
  else
    os << "\"head_dim\": " << d;
  os << ", \"layout\": \"" << layout << "\"" << extra << "}";
  return os.str();
}

inline Shape shape(int64_t b, int64_t h, int64_t kvh, int64_t sq, int64_t sk,
            int64_t d, int64_t dv = 0) {
  Shape s;
  s.batch = b;
  s.heads = h;
  s.kvHeads = kvh;
  s.seqQ = sq;
  s.seqK = sk;
  s.headDimQK = d;
  s.headDimV = dv ? dv : d;
  return s;
}

inline const MaskFn kCausal = [](int64_t, int64_t, int64_t q, int64_t kv) {
  return q >= kv;
};

/// Every case, named for gtest.
std::vector<Case> cases();

} // namespace faopt::test

#endif // FAOPT_TESTS_CPU_CPUNUMERICSCASES_H
