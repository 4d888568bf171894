//===- DiskCacheTest.cpp - the runtime's disk cache -----------------------===//
//
// libfaopt.so's disk cache through the public API: a hit, a corrupted entry
// (reported, recompiled), an entry whose manifest disagrees with this build
// (rejected), an unwritable directory (memory fallback), two processes
// racing on one key, and a FAOPT_CUDA_OVERRIDE_DIR source's own entry. Needs NVRTC; skips with the reason if absent.
//
//===----------------------------------------------------------------------===//
#include "RuntimeTestUtil.h"
#include "faopt/runtime.hpp"
#include "runtime/KernelCache.h"
#include "tests/common/ScopedEnv.h"

#include "gtest/gtest.h"
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sys/wait.h>
#include <unistd.h>

namespace {

using namespace faopt_test;

TEST(Runtime, DiskCacheHitAndCorruptedEntry) {
  SKIP_WITHOUT_NVRTC();
  std::string dir = freshDir("disk");
  {
    faopt::Context a = context(dir);
    auto k = a.kernel(kSpec);
    ASSERT_TRUE(k) << k.status().message();
    EXPECT_EQ(k->info().source, 0); // compiled
  }
  ASSERT_EQ(entries(dir).size(), 1u);
  {
    faopt::Context b = context(dir);
    auto k = b.kernel(kSpec);
    ASSERT_TRUE(k);
    EXPECT_EQ(k->info().source, 2); // from disk
  }
  // Truncate the entry: detected, reported, recompiled, rewritten.
  fs::path entry = entries(dir)[0];
  auto size = fs::file_size(entry);
  fs::resize_file(entry, size / 2);
  {
    faopt::Context c = context(dir);
    testing::internal::CaptureStderr();
    auto k = c.kernel(kSpec);
    std::string err = testing::internal::GetCapturedStderr();
    ASSERT_TRUE(k) << k.status().message();
    EXPECT_EQ(k->info().source, 0);
    EXPECT_NE(err.find("is corrupted (truncated); recompiling"),
              std::string::npos)
        << err;
  }
  EXPECT_EQ(fs::file_size(entries(dir)[0]), size);
  // A flipped byte in the payload fails the checksum.
  {
    std::fstream f(entries(dir)[0], std::ios::in | std::ios::out |
                                        std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size - 10));
    f.put('\x5a');
  }
  {
    faopt::Context d = context(dir);
    testing::internal::CaptureStderr();
    auto k = d.kernel(kSpec);
    std::string err = testing::internal::GetCapturedStderr();
    ASSERT_TRUE(k);
    EXPECT_NE(err.find("checksum mismatch"), std::string::npos) << err;
  }
  fs::remove_all(dir);
}

/// FAOPT_CUDA_OVERRIDE_DIR through a context's JIT: the override's text is
/// part of the cache key, so a kernel cached from the generated source is
/// not served for the overridden one (compiled, a second entry), and the
/// overridden one is served from disk after that.
TEST(Runtime, CudaOverrideHasItsOwnCacheEntry) {
  SKIP_WITHOUT_NVRTC();
  std::string dir = freshDir("override-key");
  std::string target;
  {
    faopt::Context a = context(dir);
    target = a.target();
    auto k = a.kernel(kSpec);
    ASSERT_TRUE(k) << k.status().message();
    EXPECT_EQ(k->info().source, 0);
  }
  ASSERT_EQ(entries(dir).size(), 1u);
  // The generated source for the context's target, with a comment added.
  void *out = nullptr;
  size_t size = 0;
  ASSERT_EQ(faopt_compile(kSpec, target.c_str(), "cuda", &out, &size, nullptr),
            FAOPT_SUCCESS)
      << faopt_last_error();
  const std::string edited =
      "// hand-edited\n" + std::string(static_cast<const char *>(out), size);
  faopt_free(out);
  const fs::path overrides = fs::path(dir) / "overrides";
  fs::create_directories(overrides);
  std::ofstream(overrides / "rt_causal.cu") << edited;
  faopt::test::ScopedEnv at("FAOPT_CUDA_OVERRIDE_DIR", overrides.c_str());
  for (int expected : {0, 2}) { // compiled, then from disk
    faopt::Context b = context(dir);
    testing::internal::CaptureStderr();
    auto k = b.kernel(kSpec);
    std::string err = testing::internal::GetCapturedStderr();
    ASSERT_TRUE(k) << k.status().message();
    EXPECT_EQ(k->info().source, expected);
    EXPECT_NE(err.find("uses " + (overrides / "rt_causal.cu").string()),
              std::string::npos)
        << err;
  }
  EXPECT_EQ(entries(dir).size(), 2u);
  fs::remove_all(dir);
}

/// A disk-cache entry whose manifest disagrees with the kernel ABI this
/// build reads (written by another build, or edited) is rejected with the
/// manifest check's message, not launched: the entry is rewritten here
/// through the cache itself, so its checksum is valid and only the
/// manifest's content can stop it.
TEST(Runtime, InconsistentCachedManifestIsRejected) {
  SKIP_WITHOUT_NVRTC();
  const std::string spec =
      R"({"name": "rt_doc", "dtype": "bf16", "head_dim": 128,
          "tensors": {"doc": {"dtype": "int32", "shape": ["batch", "seqlen"]}},
          "mask": ["causal", {"type": "document", "ids": "doc"}]})";
  std::string dir = freshDir("manifest");
  faopt::ContextOptions o;
  o.target = "sm90a"; // TMA: the list builder writes key ranges
  o.cacheDir = dir;
  {
    auto ctx = faopt::Context::create(o);
    if (!ctx && ctx.status().message().find("needs a compute capability 9.0") !=
                    std::string::npos)
      GTEST_SKIP() << ctx.status().message(); // a GPU that is not Hopper
    ASSERT_TRUE(ctx) << ctx.status().message();
    auto k = ctx->kernel(spec);
    ASSERT_TRUE(k) << k.status().message();
  }
  ASSERT_EQ(entries(dir).size(), 1u);
  const std::string key = entries(dir)[0].stem().string();
  faopt::rt::DiskCache cache(dir);
  std::optional<faopt::rt::CacheEntry> good = cache.load(key);
  ASSERT_TRUE(good);
  auto rejectedWith = [&](const std::string &from, const std::string &to) {
    faopt::rt::CacheEntry edited = *good;
    size_t at = edited.manifest.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at == std::string::npos)
      return std::string();
    edited.manifest.replace(at, from.size(), to);
    EXPECT_TRUE(cache.store(key, edited));
    auto ctx = faopt::Context::create(o);
    EXPECT_TRUE(ctx) << ctx.status().message();
    if (!ctx)
      return std::string();
    auto k = ctx->kernel(spec);
    EXPECT_FALSE(k);
    return k ? std::string() : k.status().message();
  };
  EXPECT_EQ(rejectedWith("\"key_range_rows\": 128", "\"key_range_rows\": 64"),
            "kernel manifest: block_list_builder.key_range_rows must be 0 or "
            "block_q");
  EXPECT_EQ(rejectedWith("\"kernel\": \"rt_doc_block_lists\"",
                         "\"builder\": \"rt_doc_block_lists\""),
            "kernel manifest has an incomplete block_list_builder");
  // A builder said to zero a program counter the kernel does not take.
  EXPECT_EQ(rejectedWith("\"program_counter\": true",
                         "\"program_counter\": false"),
            "kernel manifest: block_list_builder.resets_program_counter "
            "without a kernel program counter");
  // The entry as compiled loads again.
  ASSERT_TRUE(cache.store(key, *good));
  auto ctx = faopt::Context::create(o);
  ASSERT_TRUE(ctx);
  auto k = ctx->kernel(spec);
  EXPECT_TRUE(k) << k.status().message();
  fs::remove_all(dir);
}

TEST(Runtime, UnwritableCacheFallsBackToMemory) {
  SKIP_WITHOUT_NVRTC();
  // A regular file where a directory should be: nothing can be created
  // under it, even as root.
  std::string base = freshDir("unwritable");
  fs::create_directories(base);
  std::ofstream(base + "/file") << "x";
  std::string dir = base + "/file/cache";
  testing::internal::CaptureStderr();
  faopt::Context ctx = context(dir);
  auto k = ctx.kernel(kSpec);
  std::string err = testing::internal::GetCapturedStderr();
  ASSERT_TRUE(k) << k.status().message();
  EXPECT_NE(err.find("cannot write the kernel cache at " + dir),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("kernels are cached in memory only"), std::string::npos);
  fs::remove_all(base);
}

/// The child side of TwoProcessesRaceOnOneKey, run in a fresh process
/// (exec, not just fork: CUDA does not survive fork() once initialised).
TEST(Runtime, RaceChild) {
  const char *dir = std::getenv("FAOPT_RACE_DIR");
  if (!dir)
    GTEST_SKIP() << "helper for TwoProcessesRaceOnOneKey";
  faopt::ContextOptions o;
  o.cacheDir = dir;
  auto ctx = faopt::Context::create(o);
  ASSERT_TRUE(ctx) << ctx.status().message();
  auto k = ctx->kernel(kSpec);
  ASSERT_TRUE(k) << k.status().message();
}

TEST(Runtime, TwoProcessesRaceOnOneKey) {
  SKIP_WITHOUT_NVRTC();
  std::string dir = freshDir("race");
  std::string self = fs::read_symlink("/proc/self/exe").string();
  pid_t children[2];
  for (pid_t &child : children) {
    child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      setenv("FAOPT_RACE_DIR", dir.c_str(), 1);
      setenv("FAOPT_QUIET", "1", 1);
      execl(self.c_str(), self.c_str(), "--gtest_filter=Runtime.RaceChild",
            static_cast<char *>(nullptr));
      _exit(127);
    }
  }
  for (pid_t child : children) {
    int status = 0;
    waitpid(child, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "child status " << status;
  }
  // One complete entry, no temporary files left, and it loads.
  size_t temps = 0;
  for (const auto &e : fs::directory_iterator(dir))
    temps += e.path().string().find(".tmp-") != std::string::npos;
  EXPECT_EQ(temps, 0u);
  ASSERT_EQ(entries(dir).size(), 1u);
  faopt::Context ctx = context(dir);
  auto k = ctx.kernel(kSpec);
  ASSERT_TRUE(k);
  EXPECT_EQ(k->info().source, 2);
  fs::remove_all(dir);
}

} // namespace
