//===- GpuForwardTest.cpp - JIT kernels on the GPU vs a double reference --===//
//
// Each case JIT-compiles a spec through the runtime (libfaopt.so), fills q,
// k, v with fresh random values, poisons o and lse with NaN, launches, and
// compares with ReferenceKernel.cu (double precision) on the same device
// buffers. Skipped, with the reason, where no CUDA driver or device exists.
//
//===----------------------------------------------------------------------===//
#include "GpuTestUtil.h"
#include "ReferenceKernel.h"
#include "faopt/runtime.hpp"
#include "tests/common/Reference.h"

#include "gtest/gtest.h"
#include <cmath>
#include <cstdio>
#include <cuda_runtime.h>
#include <map>
#include <random>
#include <sstream>

using namespace faopt;
using namespace faopt::gputest;

namespace {

struct Case {
  std::string name;
  std::string dtype = "bf16";
  int64_t d = 128;
  bool causal = false;
  std::string layout = "bhsd";
  int64_t batch = 1, heads = 2, kvHeads = 2, seqQ = 128, seqK = 128;
  int64_t padRows = 0; // extra elements per row (multiple of 8)
};

void PrintTo(const Case &c, std::ostream *os) { *os << c.name; }

std::string specFor(const Case &c) {
  std::ostringstream os;
  os << "{\"name\": \"t_" << c.dtype << "_d" << c.d
     << (c.causal ? "_causal" : "_dense") << "\", \"dtype\": \"" << c.dtype
     << "\", \"head_dim\": " << c.d << ", \"layout\": \"" << c.layout << "\""
     << (c.causal ? ", \"mask\": \"causal\"" : "") << "}";
  return os.str();
}

std::vector<Case> cases() {
  std::vector<Case> v;
  for (std::string dtype : {"bf16", "f16"})
    for (int64_t d : {64, 128})
      for (bool causal : {false, true}) {
        std::string base = dtype + "_d" + std::to_string(d) +
                           (causal ? "_causal" : "_dense");
        for (auto [sq, sk] : std::vector<std::pair<int64_t, int64_t>>{
                 {1, 1}, {17, 17}, {1000, 1000}, {4097, 4097}, {17, 1000},
                 {1000, 4097}, {4097, 257}, {300, 0}}) {
          Case c;
          c.name = base + "_" + std::to_string(sq) + "x" + std::to_string(sk);
          c.dtype = dtype;
          c.d = d;
          c.causal = causal;
          c.seqQ = sq;
          c.seqK = sk;
          // {300, 0}: no keys, so o = 0 and lse = -inf; the sm90a kernels
          // then ask TMA for boxes past the end of a 1-row map.
          c.heads = c.kvHeads = sq * sk > 1000000 ? 1 : 2;
          v.push_back(c);
        }
      }
  // d = 256: wgmma on sm90a with 64-wide kv-blocks (a 64-column S product,
  // P V over four 64-column slabs); 8 warps of mma.sync on sm80.
  for (int64_t d : {256})
    for (bool causal : {false, true})
      for (auto [sq, sk] : std::vector<std::pair<int64_t, int64_t>>{
               {17, 17}, {1000, 1000}, {300, 1037}}) {
        Case c;
        c.name = "bf16_d" + std::to_string(d) + (causal ? "_causal_" : "_dense_") +
                 std::to_string(sq) + "x" + std::to_string(sk);
        c.d = d;
        c.causal = causal;
        c.seqQ = sq;
        c.seqK = sk;
        v.push_back(c);
      }
  for (int64_t group : {4, 8}) {
    Case c;
    c.name = "gqa" + std::to_string(group) + "_bshd_causal";
    c.causal = true;
    c.layout = "bshd";
    c.batch = 2;
    c.heads = 8;
    c.kvHeads = 8 / group;
    c.seqQ = 300;
    c.seqK = 513;
    v.push_back(c);
  }
  Case padded;
  padded.name = "padded_rows_f16_d64";
  padded.dtype = "f16";
  padded.d = 64;
  padded.padRows = 24;
  padded.batch = 3;
  padded.seqQ = padded.seqK = 200;
  v.push_back(padded);
  // Rows 152 elements apart: the sm90a kernel's TMA maps carry the strides.
  Case paddedTma;
  paddedTma.name = "padded_rows_bf16_d128_causal";
  paddedTma.causal = true;
  paddedTma.padRows = 24;
  paddedTma.batch = 2;
  paddedTma.seqQ = 333;
  paddedTma.seqK = 333;
  v.push_back(paddedTma);
  // More programs than SMs: on sm90a each persistent CTA runs several, with
  // its K/V fills numbered across them and Q refilled per program; 7
  // q-blocks x 39 heads = 273 programs leave the last row of workers
  // partial (on 132 SMs: rows of 132, 132, 9).
  for (bool causal : {false, true}) {
    Case c;
    c.name = std::string("many_programs_") + (causal ? "causal" : "dense") +
             "_777x1033";
    c.causal = causal;
    c.batch = 3;
    c.heads = c.kvHeads = 13;
    c.seqQ = 777;
    c.seqK = 1033;
    v.push_back(c);
  }
  // Causal head groups capped at whole row pairs of the persistent snake
  // (attn-schedule-grid, docs/performance.md item 83): 12 q-blocks x 48
  // heads on 132 SMs give groups of 2 * 132 / gcd(264, 12) = 22 heads, so
  // 22 + 22 + 4 (a partial last group).
  Case snakeGroups;
  snakeGroups.name = "snake_row_pair_groups_causal_2x24x1536";
  snakeGroups.causal = true;
  snakeGroups.batch = 2;
  snakeGroups.heads = snakeGroups.kvHeads = 24;
  snakeGroups.seqQ = snakeGroups.seqK = 1536;
  v.push_back(snakeGroups);
  Case manyGqa;
  manyGqa.name = "many_programs_gqa4_bshd_causal_1000x1000";
  manyGqa.causal = true;
  manyGqa.layout = "bshd";
  manyGqa.batch = 4;
  manyGqa.heads = 16;
  manyGqa.kvHeads = 4;
  manyGqa.seqQ = manyGqa.seqK = 1000;
  v.push_back(manyGqa);
  return v;
}

/// Which kernels this run tests: on compute capability 9.0 the default
/// target is sm90a and d = 128 bf16 kernels use wgmma with TMA copies (256
/// consumer threads + a 128-thread producer warpgroup); sm80 kernels
/// (forced with FAOPT_TEST_TARGET=sm80) use mma.sync and cp.async.
TEST(GpuTarget, HopperKernelsUseWgmma) {
  SKIP_WITHOUT_GPU();
  Result<Kernel> kernel = context().kernel(
      R"({"dtype": "bf16", "head_dim": 128, "layout": "bhsd", "mask": "causal"})");
  ASSERT_TRUE(kernel) << kernel.status().message();
  KernelInfo info = kernel->info();
  std::string manifest = info.manifest;
  bool wgmma = manifest.find("\"wgmma\"") != std::string::npos;
  std::printf("[ target   ] %s, %s, %d threads\n", info.target,
              wgmma ? "wgmma" : "mma.sync", info.threads);
  EXPECT_EQ(wgmma, std::string(info.target) == "sm90a") << manifest;
  EXPECT_EQ(info.threads, wgmma ? 384 : 128);
  EXPECT_EQ(manifest.find("\"tensor_maps\"") != std::string::npos, wgmma)
      << manifest;
}

/// A device tensor in a physical layout with its logical strides.
class GpuForward : public ::testing::TestWithParam<Case> {};

TEST_P(GpuForward, MatchesReference) {
  SKIP_WITHOUT_GPU();
  const Case &c = GetParam();
  std::string specText = specFor(c);
  spec::AttentionSpec sp = *spec::parseSpec(specText).spec;
  Result<Kernel> kernel = context().kernel(specText);
  ASSERT_TRUE(kernel) << kernel.status().message();

  std::mt19937 rng(std::hash<std::string>()(c.name) ^ 0x5eed);
  DeviceTensor q, k, v, o;
  upload(q, sp.dtype, sp.layout, c.batch, c.heads, c.seqQ, c.d, c.padRows, rng);
  upload(k, sp.dtype, sp.layout, c.batch, c.kvHeads, c.seqK, c.d, c.padRows, rng);
  upload(v, sp.dtype, sp.layout, c.batch, c.kvHeads, c.seqK, c.d, c.padRows, rng);
  upload(o, sp.dtype, sp.layout, c.batch, c.heads, c.seqQ, c.d, c.padRows, rng,
         /*poisonOnly=*/true);
  size_t rows = static_cast<size_t>(c.batch * c.heads * c.seqQ);
  float *lse = nullptr, *refO = nullptr, *refLse = nullptr;
  CUDA_OK(cudaMalloc(&lse, std::max<size_t>(rows, 1) * 4));
  CUDA_OK(cudaMemset(lse, 0xff, std::max<size_t>(rows, 1) * 4)); // NaN
  CUDA_OK(cudaMalloc(&refO, std::max<size_t>(rows * c.d, 1) * 4));
  CUDA_OK(cudaMalloc(&refLse, std::max<size_t>(rows, 1) * 4));

  ForwardArgs args = defaultForwardArgs();
  args.q = q.ptr;
  args.k = k.ptr;
  args.v = v.ptr;
  args.o = o.ptr;
  args.lse = lse;
  args.batch = c.batch;
  args.heads = c.heads;
  args.kv_heads = c.kvHeads;
  args.seqlen_q = c.seqQ;
  args.seqlen_k = c.seqK;
  for (int i = 0; i < 3; ++i) {
    args.q_stride[i] = q.stride[i];
    args.k_stride[i] = k.stride[i];
    args.v_stride[i] = v.stride[i];
    args.o_stride[i] = o.stride[i];
  }
  Status s = kernel->forward(args);
  ASSERT_TRUE(s.ok()) << s.message();
  CUDA_OK(cudaDeviceSynchronize());

  test::RefArgs ref;
  ref.elem = sp.dtype == spec::ElementType::BF16 ? test::RefElem::BF16
                                                  : test::RefElem::F16;
  ref.q = {q.ptr, {q.stride[0], q.stride[1], q.stride[2]}};
  ref.k = {k.ptr, {k.stride[0], k.stride[1], k.stride[2]}};
  ref.v = {v.ptr, {v.stride[0], v.stride[1], v.stride[2]}};
  ref.batch = c.batch;
  ref.heads = c.heads;
  ref.kvHeads = c.kvHeads;
  ref.seqQ = c.seqQ;
  ref.seqK = c.seqK;
  ref.dQK = ref.dV = c.d;
  ref.scale = sp.effectiveScale();
  ref.mask = c.causal ? test::RefMask::Causal : test::RefMask::None;
  ref.o = refO;
  ref.lse = refLse;
  CUDA_OK(static_cast<cudaError_t>(test::referenceAttention(ref)));
  CUDA_OK(cudaDeviceSynchronize());

  std::vector<double> got = download(o, sp.dtype, sp.layout, c.batch, c.heads,
                                     c.seqQ, c.d, c.padRows);
  std::vector<float> want(rows * c.d), gotLse(rows), wantLse(rows);
  CUDA_OK(cudaMemcpy(want.data(), refO, want.size() * 4, cudaMemcpyDeviceToHost));
  CUDA_OK(cudaMemcpy(gotLse.data(), lse, rows * 4, cudaMemcpyDeviceToHost));
  CUDA_OK(cudaMemcpy(wantLse.data(), refLse, rows * 4, cudaMemcpyDeviceToHost));
  cudaFree(lse);
  cudaFree(refO);
  cudaFree(refLse);

  std::vector<double> wantD(want.begin(), want.end());
  double err = test::relativeL2(got, wantD);
  RecordProperty("relative_l2", std::to_string(err));
  EXPECT_LT(err, test::tolerance(sp.dtype)) << "output relative L2";
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_FALSE(std::isnan(got[i])) << "output element " << i << " not written";
  std::vector<double> gl(gotLse.begin(), gotLse.end()),
      wl(wantLse.begin(), wantLse.end());
  EXPECT_LT(test::lseError(gl, wl), 1e-3) << "lse (or NaN / -inf mismatch)";
}

INSTANTIATE_TEST_SUITE_P(Specs, GpuForward, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case> &info) {
                           return info.param.name;
                         });

} // namespace
