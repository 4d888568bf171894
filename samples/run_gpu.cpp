//===- run_gpu.cpp - JIT a spec, run it on the GPU, check it, time it -----===//
//
//   faopt-run-gpu SPEC [--shape b=1,h=8,s=2048] [--iters N] [--no-check]
//
// The runtime's C++ API end to end: create a context, get (JIT-compile) the
// kernel for the spec, launch it on random data, print the median time of N
// launches (CUDA events) with its TFLOP/s, and compare the output with a
// double-precision reference computed on the host. --no-check skips the
// reference (timing only: at 8k-16k rows it takes minutes on the host).
// Without a GPU it says so and exits 0 after checking that the spec
// compiles.
//
//===----------------------------------------------------------------------===//
#include "compiler/pipeline/Explain.h"
#include "faopt/runtime.hpp"
#include "tests/common/Reference.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cuda_runtime.h>

using namespace faopt;

static int usage() {
  std::fprintf(stderr,
               "usage: faopt-run-gpu SPEC [--shape b=,h=,kvh=,s=,sq=,sk=] "
               "[--param NAME=VALUE]... [--iters N] [--no-check]\n");
  return 1;
}

int main(int argc, char **argv) {
  std::string specPath, shapeText = "b=1,h=8,s=2048";
  int iters = 20;
  bool check = true;
  std::vector<std::string> paramArgs;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--shape" && i + 1 < argc)
      shapeText = argv[++i];
    else if (a == "--param" && i + 1 < argc)
      paramArgs.push_back(argv[++i]);
    else if (a == "--iters" && i + 1 < argc)
      iters = std::max(1, std::atoi(argv[++i]));
    else if (a == "--no-check")
      check = false;
    else if (!a.empty() && a[0] != '-' && specPath.empty())
      specPath = a;
    else
      return usage();
  }
  if (specPath.empty())
    return usage();
  std::string specError, specText;
  std::optional<spec::AttentionSpec> loaded =
      test::readSpecFile(specPath, specError, &specText);
  if (!loaded) {
    std::fprintf(stderr, "faopt-run-gpu: %s\n", specError.c_str());
    return 1;
  }
  const spec::AttentionSpec &sp = *loaded;
  std::string paramError;
  test::ParamValues values = test::paramValues(sp, paramArgs, paramError);
  if (!paramError.empty()) {
    std::fprintf(stderr, "faopt-run-gpu: %s\n", paramError.c_str());
    return 1;
  }
  ExplainShape shape;
  std::string error;
  if (!parseExplainShape(shapeText, shape, error)) {
    std::fprintf(stderr, "faopt-run-gpu: --shape: %s\n", error.c_str());
    return 1;
  }

  Result<Context> ctx = Context::create();
  if (!ctx) {
    std::fprintf(stderr, "faopt-run-gpu: %s\n", ctx.status().message().c_str());
    return 1;
  }
  Result<Kernel> kernel = ctx->kernel(specText);
  if (!kernel) {
    std::fprintf(stderr, "faopt-run-gpu: %s\n",
                 kernel.status().message().c_str());
    return 1;
  }
  KernelInfo info = kernel->info();
  const char *source[] = {"compiled", "memory cache", "disk cache"};
  std::printf("faopt-run-gpu: %s for %s: %s in %.0f ms; %d threads, %lld B "
              "shared memory, %d registers, %d B spilled\n",
              info.name, info.target, source[info.source],
              info.compile_seconds * 1e3, info.threads,
              (long long)info.shared_memory_bytes, info.registers,
              info.spill_bytes);
  if (!ctx->canLaunch()) {
    std::printf("faopt-run-gpu: no GPU (%s): compiled, not run\n",
                faopt_last_error());
    return 0;
  }

  test::Shape s;
  s.batch = shape.batch;
  s.heads = shape.heads;
  s.kvHeads = shape.kvHeads;
  s.seqQ = shape.seqQ;
  s.seqK = shape.seqK;
  s.headDimQK = sp.headDimQK;
  s.headDimV = sp.headDimV;
  std::mt19937 rng(2026);
  test::Buffer q = test::makeBuffer(sp.dtype, sp.layout, s.batch, s.heads, s.seqQ, s.headDimQK);
  test::Buffer k = test::makeBuffer(sp.dtype, sp.layout, s.batch, s.kvHeads, s.seqK, s.headDimQK);
  test::Buffer v = test::makeBuffer(sp.dtype, sp.layout, s.batch, s.kvHeads, s.seqK, s.headDimV);
  test::Buffer o = test::makeBuffer(sp.dtype, sp.layout, s.batch, s.heads, s.seqQ, s.headDimV);
  auto qv = test::fillRandom(q, rng), kv = test::fillRandom(k, rng),
       vv = test::fillRandom(v, rng);
  test::poison(o);
  void *dq, *dk, *dv, *dout;
  float *dlse = nullptr;
  size_t rows = static_cast<size_t>(s.batch * s.heads * s.seqQ);
  cudaMalloc(&dq, q.bytes.size());
  cudaMalloc(&dk, k.bytes.size());
  cudaMalloc(&dv, v.bytes.size());
  cudaMalloc(&dout, o.bytes.size());
  if (sp.lse)
    cudaMalloc(&dlse, rows * sizeof(float));
  cudaMemcpy(dq, q.data(), q.bytes.size(), cudaMemcpyHostToDevice);
  cudaMemcpy(dk, k.data(), k.bytes.size(), cudaMemcpyHostToDevice);
  cudaMemcpy(dv, v.data(), v.bytes.size(), cudaMemcpyHostToDevice);
  cudaMemcpy(dout, o.data(), o.bytes.size(), cudaMemcpyHostToDevice);

  std::vector<faopt_param_value> launchParams;
  for (size_t i = 0; i < sp.params.size(); ++i)
    launchParams.push_back({sp.params[i].name.c_str(), values[i]});
  // Tensor inputs (document ids, lengths, biases): sample contents, packed.
  test::TensorInputs tensorValues = test::sampleTensorInputs(sp, s, rng);
  std::string tensorError;
  test::HostTensorInputs host =
      test::hostTensorInputs(sp, s, tensorValues, tensorError);
  if (!tensorError.empty()) {
    std::fprintf(stderr, "faopt-run-gpu: %s\n", tensorError.c_str());
    return 1;
  }
  std::vector<faopt_tensor_value> launchTensors;
  std::vector<void *> tensorMemory;
  for (size_t i = 0; i < host.size(); ++i) {
    void *dp = nullptr;
    cudaMalloc(&dp, std::max<size_t>(host.bytes(i), 4));
    cudaMemcpy(dp, host.data(i), host.bytes(i), cudaMemcpyHostToDevice);
    faopt_tensor_value tv{sp.tensors[host.decl[i]].name.c_str(), dp, {}, {}};
    for (size_t d = 0; d < host.sizes[i].size(); ++d)
      tv.sizes[d] = host.sizes[i][d];
    launchTensors.push_back(tv);
    tensorMemory.push_back(dp);
  }
  ForwardArgs args = defaultForwardArgs();
  args.params = launchParams.data();
  args.num_params = static_cast<int>(launchParams.size());
  args.tensors = launchTensors.data();
  args.num_tensors = static_cast<int>(launchTensors.size());
  args.q = dq;
  args.k = dk;
  args.v = dv;
  args.o = dout;
  args.lse = dlse;
  args.batch = s.batch;
  args.heads = s.heads;
  args.kv_heads = s.kvHeads;
  args.seqlen_q = s.seqQ;
  args.seqlen_k = s.seqK; // strides: packed in the spec's layout
  Status st = kernel->forward(args);
  cudaError_t e = cudaDeviceSynchronize();
  if (!st || e != cudaSuccess) {
    std::fprintf(stderr, "faopt-run-gpu: launch failed: %s\n",
                 st ? cudaGetErrorString(e) : st.message().c_str());
    return 1;
  }
  cudaMemcpy(o.data(), dout, o.bytes.size(), cudaMemcpyDeviceToHost);
  if (info.short_rows_max_seqlen_k > 0)
    std::printf("faopt-run-gpu: seqlen_k %lld %s %lld: ran %s\n",
                (long long)s.seqK,
                s.seqK <= info.short_rows_max_seqlen_k ? "<=" : ">",
                (long long)info.short_rows_max_seqlen_k,
                s.seqK <= info.short_rows_max_seqlen_k
                    ? "the short-row form (Q released early)"
                    : "the kernel itself");

  cudaEvent_t start, stop;
  cudaEventCreate(&start);
  cudaEventCreate(&stop);
  std::vector<float> times;
  for (int i = 0; i < iters + 3; ++i) {
    cudaEventRecord(start);
    kernel->forward(args);
    cudaEventRecord(stop);
    cudaEventSynchronize(stop);
    float ms = 0;
    cudaEventElapsedTime(&ms, start, stop);
    if (i >= 3) // warm-up excluded
      times.push_back(ms);
  }
  std::sort(times.begin(), times.end());
  float ms = times[times.size() / 2];

  // FLOPs on the attended pairs (the FlashAttention convention for causal).
  double pairs = 0;
  test::MaskFn pairMask = test::maskOf(sp, s, values, &tensorValues);
  for (int64_t i = 0; i < s.seqQ; ++i)
    for (int64_t j = 0; j < s.seqK; ++j)
      pairs += !pairMask || pairMask(0, 0, i, j);
  double flops = 2.0 * pairs * (s.headDimQK + s.headDimV) * s.batch * s.heads;
  cudaDeviceProp prop;
  cudaGetDeviceProperties(&prop, 0);
  std::printf("faopt-run-gpu: b=%lld h=%lld kv_heads=%lld sq=%lld sk=%lld on %s\n",
              (long long)s.batch, (long long)s.heads, (long long)s.kvHeads,
              (long long)s.seqQ, (long long)s.seqK, prop.name);
  std::printf("  median %.3f ms over %d launches, %.1f TFLOP/s\n", ms, iters,
              flops / (ms * 1e-3) / 1e12);
  std::fflush(stdout);
  bool ok = true;
  if (check) {
    test::Reference ref = test::referenceAttention(
        s, sp.effectiveScale(), qv, kv, vv,
        test::maskOf(sp, s, values, &tensorValues),
        test::scoreOf(sp, s, values, &tensorValues));
    double err = test::relativeL2(test::read(o), ref.o);
    ok = err < test::tolerance(sp.dtype);
    std::printf("  relative L2 error vs double-precision reference: %.2e (%s, "
                "tolerance %.0e)\n",
                err, ok ? "PASS" : "FAIL", test::tolerance(sp.dtype));
  } else {
    std::printf("  not checked against the reference (--no-check)\n");
  }
  cudaFree(dq);
  cudaFree(dk);
  cudaFree(dv);
  cudaFree(dout);
  cudaFree(dlse);
  for (void *p : tensorMemory)
    cudaFree(p);
  return ok ? 0 : 1;
}
