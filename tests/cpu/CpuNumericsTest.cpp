//===- CpuNumericsTest.cpp - every compiler stage, checked by running it --===//
//
// Specs go through the whole pipeline for target cpu (online softmax, tiling
// with 32x32 tiles, mask specialisation, interval classification,
// decomposition, CPU lowering) and run in process; outputs are compared to a
// double-precision reference on fresh random inputs, with outputs poisoned
// beforehand. Lengths are chosen to straddle the tiles (1, 17, 127, 129,
// 1000) and seqlen_q != seqlen_k.
//
//===----------------------------------------------------------------------===//
#include "compiler/targets/cpu/CpuRunner.h"
#include "tests/common/CpuTensorViews.h"
#include "tests/common/Reference.h"
#include "tests/cpu/CpuNumericsCases.h"

#include "gtest/gtest.h"
#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <sstream>

using namespace faopt;
using namespace faopt::test;

namespace {

/// Compiled kernels by canonical spec. Emptied by KernelCacheEnvironment
/// before exit: JIT engines must not outlive LLVM's own static state.
std::map<std::string, std::unique_ptr<cpu::CpuKernel>> cache;

struct KernelCacheEnvironment : ::testing::Environment {
  void TearDown() override { cache.clear(); }
};
const auto *const kCacheEnvironment =
    ::testing::AddGlobalTestEnvironment(new KernelCacheEnvironment);

/// Compiles each distinct spec once.
const cpu::CpuKernel &kernelFor(const spec::AttentionSpec &s) {
  std::string key = s.canonicalJson();
  auto it = cache.find(key);
  if (it != cache.end())
    return *it->second;
  auto compiled = cpu::CpuKernel::compile(s);
  if (!compiled) {
    ADD_FAILURE() << llvm::toString(compiled.takeError());
    std::abort();
  }
  return *cache.emplace(key, std::move(*compiled)).first->second;
}

cpu::HostTensor view(Buffer &b) {
  cpu::HostTensor t;
  t.data = b.data();
  t.rank = 4;
  for (int i = 0; i < 4; ++i) {
    t.sizes[i] = b.sizes[i];
    t.strides[i] = b.strides[i];
  }
  return t;
}

class CpuNumerics : public ::testing::TestWithParam<Case> {};

TEST_P(CpuNumerics, MatchesReference) {
  const Case &c = GetParam();
  spec::SpecParseResult parsed = spec::parseSpec(c.spec);
  ASSERT_TRUE(parsed.spec) << parsed.error;
  const spec::AttentionSpec &sp = *parsed.spec;
  const cpu::CpuKernel &kernel = kernelFor(sp);
  const Shape &s = c.shape;

  std::mt19937 rng(std::hash<std::string>()(c.name));
  // Padded rows: the kernel must honour the strides it is given.
  Buffer q = makeBuffer(sp.dtype, sp.layout, s.batch, s.heads, s.seqQ,
                        s.headDimQK, 3);
  Buffer k = makeBuffer(sp.dtype, sp.layout, s.batch, s.kvHeads, s.seqK,
                        s.headDimQK);
  Buffer v = makeBuffer(sp.dtype, sp.layout, s.batch, s.kvHeads, s.seqK,
                        s.headDimV, 1);
  Buffer o = makeBuffer(sp.dtype, sp.layout, s.batch, s.heads, s.seqQ,
                        s.headDimV);
  std::vector<double> qv = fillRandom(q, rng), kv = fillRandom(k, rng),
                      vv = fillRandom(v, rng);
  if (c.unread) {
    poisonRows(k, c.unread);
    poisonRows(v, c.unread);
  }
  poison(o);
  std::vector<float> lse(std::max<int64_t>(s.batch * s.heads * s.seqQ, 1),
                         std::nanf(""));
  cpu::HostTensor lseView;
  lseView.data = lse.data();
  lseView.rank = 3;
  lseView.sizes[0] = s.batch;
  lseView.sizes[1] = s.heads;
  lseView.sizes[2] = s.seqQ;
  lseView.strides[0] = s.heads * s.seqQ;
  lseView.strides[1] = s.seqQ;
  lseView.strides[2] = 1;

  // Tensor inputs as int32 / float32 host arrays, row-major.
  TensorInputs tensorValues = c.tensors ? c.tensors(s, rng) : TensorInputs{};
  std::string tensorError;
  HostTensorInputs host = hostTensorInputs(sp, s, tensorValues, tensorError);
  ASSERT_EQ(tensorError, "");
  std::vector<cpu::HostTensor> tensorViews = cpuTensorViews(host);

  llvm::Error err = kernel.run(view(q), view(k), view(v), view(o),
                               sp.lse ? &lseView : nullptr, c.params,
                               tensorViews);
  ASSERT_FALSE(err) << llvm::toString(std::move(err));

  MaskFn mask = c.mask ? c.mask : maskOf(sp, s, c.params, &tensorValues);
  ScoreFn score = c.score ? c.score : scoreOf(sp, s, c.params, &tensorValues);
  Reference ref = referenceAttention(s, sp.effectiveScale(), qv, kv, vv, mask,
                                     score);
  std::vector<double> out = read(o);
  EXPECT_LT(relativeL2(out, ref.o), tolerance(sp.dtype))
      << "output relative L2 error";
  for (double x : out)
    ASSERT_FALSE(std::isnan(x)) << "an output element was not written";
  if (sp.lse) {
    std::vector<double> got(lse.begin(), lse.begin() + ref.lse.size());
    EXPECT_LT(lseError(got, ref.lse), sp.dtype == spec::ElementType::F32
                                          ? 1e-5
                                          : 1e-3)
        << "lse error (or -inf / NaN mismatch)";
  }
  // Fully masked rows must be exactly zero.
  for (size_t row = 0; row < ref.lse.size(); ++row)
    if (std::isinf(ref.lse[row])) {
      for (int64_t d = 0; d < s.headDimV; ++d)
        ASSERT_EQ(out[row * s.headDimV + d], 0.0) << "masked row " << row;
    }
}

INSTANTIATE_TEST_SUITE_P(Specs, CpuNumerics, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case> &info) {
                           return info.param.name;
                         });

} // namespace

namespace {

/// CpuKernel::run rejects parameter and tensor-input mistakes with a
/// message, before running anything.
TEST(CpuRunner, ParameterAndTensorErrors) {
  spec::SpecParseResult parsed = spec::parseSpec(
      R"({"name": "errs", "dtype": "f32", "head_dim": 32, "lse": false,
          "params": {"w": "int"},
          "tensors": {"doc": {"dtype": "int32", "shape": ["batch", "seqlen"]}},
          "mask": ["causal", {"type": "document", "ids": "doc"},
                   {"type": "sliding_window", "left": "w"}]})");
  ASSERT_TRUE(parsed.spec) << parsed.error;
  const cpu::CpuKernel &kernel = kernelFor(*parsed.spec);
  auto buf = [&](int64_t seq) {
    return makeBuffer(spec::ElementType::F32, spec::Layout::BHSD, 1, 1, seq, 32);
  };
  Buffer q = buf(40), k = buf(40), v = buf(40), o = buf(40);
  std::vector<int32_t> ids(40, 0);
  cpu::HostTensor doc;
  doc.data = ids.data();
  doc.rank = 2;
  doc.sizes[0] = 1;
  doc.sizes[1] = 40;
  doc.strides[0] = 40;
  doc.strides[1] = 1;
  auto run = [&](llvm::ArrayRef<double> params,
                 std::vector<cpu::HostTensor> tensors) {
    llvm::Error e = kernel.run(view(q), view(k), view(v), view(o), nullptr,
                               params, tensors);
    return e ? llvm::toString(std::move(e)) : std::string();
  };
  EXPECT_EQ(run({}, {doc}), "parameter 'w' has no default: give its value");
  EXPECT_EQ(run({2.5}, {doc}), "parameter 'w' is an int, got 2.500000");
  EXPECT_EQ(run({3, 4}, {doc}), "the spec declares 1 parameter(s), got 2");
  EXPECT_EQ(run({3}, {}), "the spec declares 1 tensor input(s) given at launch, got 0");
  cpu::HostTensor shortDoc = doc;
  shortDoc.sizes[1] = 39;
  EXPECT_EQ(run({3}, {shortDoc}),
            "tensor 'doc' must be non-null with the declared sizes");
  EXPECT_EQ(run({3}, {doc}), "");
}

/// A static block layout covers the sequence lengths it was written for;
/// any other launch is an error that says so.
TEST(CpuRunner, StaticLayoutMustCoverTheLaunch) {
  spec::SpecParseResult parsed = spec::parseSpec(
      R"({"name": "static_layout", "dtype": "f32", "head_dim": 32,
          "sparsity": {"block": [64, 64], "layout": [[1, 0], [1, 1]]}})");
  ASSERT_TRUE(parsed.spec) << parsed.error;
  const cpu::CpuKernel &kernel = kernelFor(*parsed.spec);
  auto run = [&](int64_t seq) {
    Buffer q = makeBuffer(spec::ElementType::F32, spec::Layout::BHSD, 1, 1,
                          seq, 32);
    Buffer k = q, v = q, o = q;
    std::vector<float> lse(seq);
    cpu::HostTensor lseView;
    lseView.rank = 3;
    lseView.data = lse.data();
    lseView.sizes[0] = lseView.sizes[1] = 1;
    lseView.sizes[2] = seq;
    lseView.strides[0] = lseView.strides[1] = seq;
    lseView.strides[2] = 1;
    llvm::Error e =
        kernel.run(view(q), view(k), view(v), view(o), &lseView, {}, {});
    return e ? llvm::toString(std::move(e)) : std::string();
  };
  EXPECT_EQ(run(128), "");
  EXPECT_EQ(run(100), "");
  EXPECT_EQ(run(200),
            "the spec's static 'block_layout' is 2 x 2 but this launch needs "
            "4 x 4 ([seqlen_q/64, seqlen_k/64]): write the layout for these "
            "sequence lengths");
}

} // namespace
