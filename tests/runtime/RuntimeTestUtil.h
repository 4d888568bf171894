//===- RuntimeTestUtil.h - helpers shared by the runtime tests -*- C++ -*-===//
//
// The spec most runtime tests compile, fake launch arguments, NVRTC
// detection (tests skip with the reason without it), fresh cache
// directories and a context on one.
//
//===----------------------------------------------------------------------===//
#ifndef FAOPT_TESTS_RUNTIME_RUNTIMETESTUTIL_H
#define FAOPT_TESTS_RUNTIME_RUNTIMETESTUTIL_H

#include "faopt/runtime.hpp"

#include "gtest/gtest.h"
#include <filesystem>
#include <string>
#include <unistd.h>
#include <vector>

namespace faopt_test {

namespace fs = std::filesystem;

inline const char *kSpec =
    R"({"name": "rt_causal", "dtype": "bf16", "head_dim": 64,
        "mask": "causal"})";

/// Launch arguments with fake device addresses: validation must reject (or,
/// without a device, stop) before anything reaches a GPU.
inline faopt::ForwardArgs fakeArgs(int64_t batch, int64_t heads,
                                   int64_t kvHeads) {
  faopt::ForwardArgs a = faopt::defaultForwardArgs();
  a.q = a.k = a.v = reinterpret_cast<void *>(0x10000);
  a.o = reinterpret_cast<void *>(0x20000);
  a.lse = reinterpret_cast<float *>(0x30000);
  a.batch = batch;
  a.heads = heads;
  a.kv_heads = kvHeads;
  return a;
}

/// NVRTC present? (A compile reports "cannot load NVRTC" otherwise.)
inline std::string nvrtcMissing() {
  static std::string why = [] {
    void *out = nullptr;
    size_t size = 0;
    faopt_status s = faopt_compile(kSpec, "sm80", "ptx", &out, &size, nullptr);
    faopt_free(out);
    std::string e = faopt_last_error();
    return s == FAOPT_ERROR_COMPILE && e.find("NVRTC") != std::string::npos &&
                   e.find("load") != std::string::npos
               ? e
               : std::string();
  }();
  return why;
}

#define SKIP_WITHOUT_NVRTC()                                                   \
  do {                                                                         \
    if (!nvrtcMissing().empty())                                               \
      GTEST_SKIP() << "needs NVRTC: " << nvrtcMissing();                       \
  } while (0)

inline std::string freshDir(const std::string &name) {
  fs::path p = fs::temp_directory_path() /
               ("faopt-rt-" + name + "-" + std::to_string(getpid()));
  fs::remove_all(p);
  return p.string();
}

inline std::vector<fs::path> entries(const std::string &dir) {
  std::vector<fs::path> v;
  for (const auto &e : fs::directory_iterator(dir))
    if (e.path().extension() == ".fkc")
      v.push_back(e.path());
  return v;
}

inline faopt::Context context(const std::string &dir, bool disk = true) {
  faopt::ContextOptions o;
  o.cacheDir = dir;
  o.diskCache = disk;
  auto ctx = faopt::Context::create(o);
  EXPECT_TRUE(ctx) << ctx.status().message();
  return *ctx;
}

} // namespace faopt_test

#endif // FAOPT_TESTS_RUNTIME_RUNTIMETESTUTIL_H
