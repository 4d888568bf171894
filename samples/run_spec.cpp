//===- run_spec.cpp - compile a spec, run it on random data, check, time --===//
//
//   faopt-run SPEC [--target cpu] [--shape b=1,h=4,kvh=4,sq=512,sk=512]
//             [--iters N]
//
// JIT-compiles the spec, fills q/k/v with random values, runs the kernel,
// compares the output with a double-precision reference and prints the
// median time of N runs. Exit status 0 only if the check passes.
//
//===----------------------------------------------------------------------===//
#include "compiler/pipeline/Explain.h"
#include "compiler/spec/Spec.h"
#include "compiler/targets/cpu/CpuRunner.h"
#include "tests/common/CpuTensorViews.h"
#include "tests/common/Reference.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>

using namespace faopt;

int main(int argc, char **argv) {
  std::string specPath, target = "cpu", shapeText = "b=1,h=4,s=512";
  int iters = 5;
  std::vector<std::string> paramArgs;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "faopt-run: %s needs a value\n", a.c_str());
        std::exit(1);
      }
      return argv[++i];
    };
    if (a == "--target")
      target = value();
    else if (a == "--shape")
      shapeText = value();
    else if (a == "--iters")
      iters = std::max(1, std::atoi(value().c_str()));
    else if (a == "--param")
      paramArgs.push_back(value());
    else if (!a.empty() && a[0] != '-' && specPath.empty())
      specPath = a;
    else {
      std::fprintf(stderr,
                   "usage: faopt-run SPEC [--target cpu] [--shape b=,h=,kvh=,"
                   "s=,sq=,sk=] [--param NAME=VALUE]... [--iters N]\n");
      return 1;
    }
  }
  if (specPath.empty()) {
    std::fprintf(stderr, "faopt-run: no spec given\n");
    return 1;
  }
  if (target != "cpu") {
    std::fprintf(stderr, "faopt-run: target '%s' is not available in this "
                         "build (cpu)\n", target.c_str());
    return 1;
  }
  std::string specError;
  std::optional<spec::AttentionSpec> loaded =
      test::readSpecFile(specPath, specError);
  if (!loaded) {
    std::fprintf(stderr, "faopt-run: %s\n", specError.c_str());
    return 1;
  }
  const spec::AttentionSpec &sp = *loaded;
  std::string paramError;
  test::ParamValues values = test::paramValues(sp, paramArgs, paramError);
  if (!paramError.empty()) {
    std::fprintf(stderr, "faopt-run: %s\n", paramError.c_str());
    return 1;
  }
  ExplainShape shape;
  std::string error;
  if (!parseExplainShape(shapeText, shape, error)) {
    std::fprintf(stderr, "faopt-run: --shape: %s\n", error.c_str());
    return 1;
  }
  // The CPU target computes in f32 from any input type.
  auto start = std::chrono::steady_clock::now();
  auto kernel = cpu::CpuKernel::compile(sp);
  if (!kernel) {
    std::fprintf(stderr, "faopt-run: %s\n",
                 llvm::toString(kernel.takeError()).c_str());
    return 1;
  }
  double compileMs = std::chrono::duration<double, std::milli>(
                         std::chrono::steady_clock::now() - start)
                         .count();

  test::Shape s;
  s.batch = shape.batch;
  s.heads = shape.heads;
  s.kvHeads = shape.kvHeads;
  s.seqQ = shape.seqQ;
  s.seqK = shape.seqK;
  s.headDimQK = sp.headDimQK;
  s.headDimV = sp.headDimV;
  std::mt19937 rng(2026);
  auto q = test::makeBuffer(sp.dtype, sp.layout, s.batch, s.heads, s.seqQ, s.headDimQK);
  auto k = test::makeBuffer(sp.dtype, sp.layout, s.batch, s.kvHeads, s.seqK, s.headDimQK);
  auto v = test::makeBuffer(sp.dtype, sp.layout, s.batch, s.kvHeads, s.seqK, s.headDimV);
  auto o = test::makeBuffer(sp.dtype, sp.layout, s.batch, s.heads, s.seqQ, s.headDimV);
  auto qv = test::fillRandom(q, rng), kv = test::fillRandom(k, rng),
       vv = test::fillRandom(v, rng);
  test::poison(o);
  // Tensor inputs (document ids, lengths, biases): sample contents.
  test::TensorInputs tensorValues = test::sampleTensorInputs(sp, s, rng);
  std::string tensorError;
  test::HostTensorInputs host =
      test::hostTensorInputs(sp, s, tensorValues, tensorError);
  if (!tensorError.empty()) {
    std::fprintf(stderr, "faopt-run: %s\n", tensorError.c_str());
    return 1;
  }
  std::vector<cpu::HostTensor> tensorViews = test::cpuTensorViews(host);
  std::vector<float> lse(s.batch * s.heads * s.seqQ);
  auto view = [](test::Buffer &b) {
    cpu::HostTensor t;
    t.data = b.data();
    for (int i = 0; i < 4; ++i) {
      t.sizes[i] = b.sizes[i];
      t.strides[i] = b.strides[i];
    }
    return t;
  };
  cpu::HostTensor lseView;
  lseView.data = lse.data();
  lseView.rank = 3;
  lseView.sizes[0] = s.batch;
  lseView.sizes[1] = s.heads;
  lseView.sizes[2] = s.seqQ;
  lseView.strides[0] = s.heads * s.seqQ;
  lseView.strides[1] = s.seqQ;
  lseView.strides[2] = 1;

  std::vector<double> times;
  for (int it = 0; it < iters; ++it) {
    auto t0 = std::chrono::steady_clock::now();
    llvm::Error err = (*kernel)->run(view(q), view(k), view(v), view(o),
                                     sp.lse ? &lseView : nullptr, values,
                                     tensorViews);
    if (err) {
      std::fprintf(stderr, "faopt-run: %s\n", llvm::toString(std::move(err)).c_str());
      return 1;
    }
    times.push_back(std::chrono::duration<double, std::milli>(
                        std::chrono::steady_clock::now() - t0)
                        .count());
  }
  std::sort(times.begin(), times.end());

  test::Reference ref = test::referenceAttention(
      s, sp.effectiveScale(), qv, kv, vv,
      test::maskOf(sp, s, values, &tensorValues),
      test::scoreOf(sp, s, values, &tensorValues));
  double err = test::relativeL2(test::read(o), ref.o);
  bool ok = err < test::tolerance(sp.dtype);
  std::printf("faopt-run: %s on %s, b=%lld h=%lld kv_heads=%lld sq=%lld sk=%lld "
              "d=%lld/%lld %s\n",
              sp.name.c_str(), target.c_str(), (long long)s.batch,
              (long long)s.heads, (long long)s.kvHeads, (long long)s.seqQ,
              (long long)s.seqK, (long long)s.headDimQK, (long long)s.headDimV,
              spec::toString(sp.dtype));
  std::printf("  compile %.0f ms; run median %.2f ms over %d\n", compileMs,
              times[times.size() / 2], iters);
  std::printf("  relative L2 error vs double-precision reference: %.2e (%s, "
              "tolerance %.0e)\n",
              err, ok ? "PASS" : "FAIL", test::tolerance(sp.dtype));
  return ok ? 0 : 1;
}
