//===- RuntimeTest.cpp - the JIT runtime without running kernels ----------===//
//
// Everything about libfaopt.so that needs no kernel to run: compiling
// through the C ABI and the C++ API, launch validation (every error path,
// before any driver call) and the memory cache under concurrent requests
// (the disk cache: DiskCacheTest.cpp; the FAOPT_* compiler switches:
// RuntimeEnvTest.cpp). Needs NVRTC; skips with the reason if absent.
//
//===----------------------------------------------------------------------===//
#include "RuntimeTestUtil.h"
#include "faopt/runtime.hpp"

#include "gtest/gtest.h"
#include <cmath>
#include <cstdlib>
#include <functional>
#include <optional>
#include <thread>
#include <unistd.h>

namespace {

using namespace faopt_test;

TEST(Runtime, CompilesThroughTheCApi) {
  SKIP_WITHOUT_NVRTC();
  for (const char *emit : {"cuda", "ptx", "cubin"}) {
    void *out = nullptr;
    size_t size = 0;
    char *manifest = nullptr;
    ASSERT_EQ(faopt_compile(kSpec, "sm90a", emit, &out, &size, &manifest),
              FAOPT_SUCCESS)
        << faopt_last_error();
    EXPECT_GT(size, 100u) << emit;
    EXPECT_NE(std::string(manifest).find("\"kernel\": \"rt_causal\""),
              std::string::npos);
    faopt_free(out);
    faopt_free(manifest);
  }
  void *out = nullptr;
  size_t size = 0;
  EXPECT_EQ(faopt_compile(kSpec, "sm80", "sass", &out, &size, nullptr),
            FAOPT_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(faopt_compile("{\"dtype\": 3}", "sm80", "ptx", &out, &size, nullptr),
            FAOPT_ERROR_INVALID_SPEC);
  EXPECT_EQ(std::string(faopt_last_error()),
            "invalid spec: $.dtype: expected a string, got the number 3");
}

TEST(Runtime, InvalidSpecAndOptions) {
  faopt_context *ctx = nullptr;
  faopt_context_options o;
  faopt_context_options_init(&o);
  o.target = "sm70";
  EXPECT_EQ(faopt_context_create(&o, &ctx), FAOPT_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(std::string(faopt_last_error()),
            "unknown target 'sm70' (auto, sm80, sm90a)");
  faopt::Context c = context("", /*disk=*/false);
  auto k = c.kernel(R"({"dtype": "bf16", "head_dim": 64, "mask": "q >= "})");
  ASSERT_FALSE(k);
  EXPECT_EQ(k.status().code(), FAOPT_ERROR_INVALID_SPEC);
  EXPECT_EQ(k.status().message(),
            "invalid spec: $.mask: mask expression \"q >= \": column 6: "
            "expected an operand, found 'end of expression'");
}

TEST(Runtime, LaunchesAreValidatedFirst) {
  SKIP_WITHOUT_NVRTC();
  faopt::Context ctx = context("", /*disk=*/false);
  auto k = ctx.kernel(kSpec);
  ASSERT_TRUE(k) << k.status().message();
  faopt::KernelInfo info = k->info();
  EXPECT_EQ(std::string(info.name), "rt_causal");
  // mma.sync kernels: 4 warps; sm90a's wgmma kernels: 2 warpgroups (d = 64
  // copies with cp.async: no producer warpgroup).
  EXPECT_EQ(info.threads, std::string(info.target) == "sm90a" ? 256 : 128);
  EXPECT_EQ(info.block_q, 128);
  EXPECT_GT(info.shared_memory_bytes, 0);

  // Fake device addresses: validation must reject before any launch.
  auto good = [] {
    faopt::ForwardArgs a = fakeArgs(2, 8, 2);
    a.seqlen_q = 100;
    a.seqlen_k = 300;
    return a;
  };
  struct Bad {
    const char *what;
    std::function<void(faopt::ForwardArgs &)> edit;
    const char *message;
  } bad[] = {
      {"null q", [](auto &a) { a.q = nullptr; },
       "faopt_forward: q, k, v and o must be non-NULL device pointers"},
      {"no lse", [](auto &a) { a.lse = nullptr; },
       "faopt_forward: the spec returns lse (\"lse\": true): pass an lse pointer"},
      {"gqa", [](auto &a) { a.kv_heads = 3; },
       "faopt_forward: kv_heads (3) must divide heads (8)"},
      {"heads", [](auto &a) { a.heads = 0; },
       "faopt_forward: heads and kv_heads must be positive"},
      {"negative", [](auto &a) { a.seqlen_k = -1; },
       "faopt_forward: batch, seqlen_q and seqlen_k must be non-negative"},
      {"too long", [](auto &a) { a.seqlen_k = (int64_t(1) << 29) + 1; },
       "faopt_forward: seqlen_q and seqlen_k must be at most 2^29 = "
       "536870912"},
      {"misaligned", [](auto &a) { a.k = reinterpret_cast<void *>(0x10002); },
       "faopt_forward: k must be 16-byte aligned"},
      {"stride", [](auto &a) { a.q_stride[0] = 100 * 8 * 64; a.q_stride[1] = 64; a.q_stride[2] = 68; },
       "faopt_forward: q stride 2 (68 elements) must be a multiple of 8 "
       "elements (16 bytes)"},
      {"overlap", [](auto &a) { a.v_stride[0] = 8; a.v_stride[1] = 8; a.v_stride[2] = 8; },
       "faopt_forward: v sequence stride (8) is smaller than the head dim "
       "(64): rows would overlap"},
      {"grid", [](auto &a) { a.batch = int64_t(1) << 28; },
       "faopt_forward: batch * heads * ceil(seqlen_q / 128) exceeds one "
       "launch's 2^31 - 1 programs (split the batch)"},
  };
  for (const Bad &b : bad) {
    faopt::ForwardArgs a = good();
    b.edit(a);
    faopt::Status s = k->forward(a);
    EXPECT_EQ(s.code(), FAOPT_ERROR_INVALID_ARGUMENT) << b.what;
    EXPECT_EQ(s.message(), b.message) << b.what;
  }
  if (!ctx.canLaunch()) {
    faopt::Status s = k->forward(good());
    EXPECT_EQ(s.code(), FAOPT_ERROR_NO_DEVICE) << s.message();
    EXPECT_NE(s.message().find("can be compiled but not launched"),
              std::string::npos)
        << s.message();
  }
  EXPECT_EQ(faopt_forward(nullptr, nullptr, nullptr),
            FAOPT_ERROR_INVALID_ARGUMENT);
}

TEST(Runtime, ParametersAreValidatedFirst) {
  SKIP_WITHOUT_NVRTC();
  faopt::Context ctx = context("", /*disk=*/false);
  auto k = ctx.kernel(R"({"name": "rt_params", "dtype": "bf16", "head_dim": 64,
      "params": {"window": "int", "cap": {"type": "float", "default": 30}},
      "mask": {"type": "sliding_window", "left": "window"},
      "score": {"type": "softcap", "cap": "cap"}})");
  ASSERT_TRUE(k) << k.status().message();
  faopt_param_value window{"window", 128}, cap{"cap", 12.5};
  struct Bad {
    const char *what;
    std::vector<faopt_param_value> params;
    int count; // -1: params.size()
    const char *message;
  } bad[] = {
      {"missing", {cap}, -1,
       "faopt_forward: parameter 'window' has no default in the spec: pass "
       "its value"},
      {"unknown", {window, {"windw", 3}}, -1,
       "faopt_forward: unknown parameter 'windw' (the spec declares: window, "
       "cap)"},
      {"twice", {window, window}, -1,
       "faopt_forward: parameter 'window' given twice"},
      {"not an int", {{"window", 2.5}}, -1,
       "faopt_forward: parameter 'window' is an int, got 2.500000"},
      {"nan", {window, {"cap", std::nan("")}}, -1,
       "faopt_forward: parameter 'cap' is a float, got nan"},
      {"null", {}, 2, "faopt_forward: params must point to num_params (>= 0) "
                      "values"},
  };
  for (const Bad &b : bad) {
    faopt::ForwardArgs a = fakeArgs(1, 2, 2);
    a.seqlen_q = a.seqlen_k = 100;
    a.params = b.params.empty() ? nullptr : b.params.data();
    a.num_params = b.count >= 0 ? b.count : static_cast<int>(b.params.size());
    faopt::Status st = k->forward(a);
    EXPECT_EQ(st.code(), FAOPT_ERROR_INVALID_ARGUMENT) << b.what;
    EXPECT_EQ(st.message(), b.message) << b.what;
  }
  // With every parameter valid, a launch gets past validation (and, without
  // a device, stops there).
  if (!ctx.canLaunch()) {
    faopt::ForwardArgs a = fakeArgs(1, 2, 2);
    a.seqlen_q = a.seqlen_k = 100;
    a.params = &window;
    a.num_params = 1;
    EXPECT_EQ(k->forward(a).code(), FAOPT_ERROR_NO_DEVICE);
  }
  // The manifest lists the parameters after the tensors.
  std::string manifest = k->info().manifest;
  size_t lse = manifest.find("\"name\": \"lse\""),
         w = manifest.find("\"name\": \"window\""),
         c = manifest.find("\"name\": \"cap\"");
  EXPECT_TRUE(lse < w && w < c) << manifest;
}

/// A mask dividing by a run-time value of 0 (a chunk size) is rejected at
/// launch with the divisor named: the CPU code would trap, the GPU's is
/// undefined.
TEST(Runtime, ZeroChunkSizesAreRejected) {
  SKIP_WITHOUT_NVRTC();
  faopt::Context ctx = context("", /*disk=*/false);
  auto k = ctx.kernel(R"({"name": "rt_chunk", "dtype": "bf16", "head_dim": 64,
      "params": {"chunk": "int"},
      "mask": ["causal", {"type": "chunked", "chunk": "chunk"}]})");
  ASSERT_TRUE(k) << k.status().message();
  faopt::ForwardArgs a = fakeArgs(1, 2, 2);
  a.seqlen_q = a.seqlen_k = 100;
  faopt_param_value zero{"chunk", 0};
  a.params = &zero;
  a.num_params = 1;
  faopt::Status st = k->forward(a);
  EXPECT_EQ(st.code(), FAOPT_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(st.message(),
            "faopt_forward: the mask divides by chunk, which is 0 with this "
            "launch's parameters (a divisor must not be 0)");
  if (!ctx.canLaunch()) {
    faopt_param_value some{"chunk", -64};
    a.params = &some;
    EXPECT_EQ(k->forward(a).code(), FAOPT_ERROR_NO_DEVICE);
  }
}

TEST(Runtime, TensorInputsAreValidatedFirst) {
  SKIP_WITHOUT_NVRTC();
  faopt::Context ctx = context("", /*disk=*/false);
  auto k = ctx.kernel(R"({"name": "rt_tensors", "dtype": "bf16", "head_dim": 64,
      "tensors": {"doc": {"dtype": "int32", "shape": ["batch", "seqlen"]},
                  "lens": {"dtype": "int32", "shape": ["batch"]}},
      "mask": [{"type": "document", "ids": "doc"},
               {"type": "key_padding", "lengths": "lens"}]})");
  ASSERT_TRUE(k) << k.status().message();
  const void *dev = reinterpret_cast<void *>(0x40000);
  faopt_tensor_value doc{"doc", dev, {2, 100}, {}}, lens{"lens", dev, {2}, {}};
  struct Bad {
    const char *what;
    std::vector<faopt_tensor_value> tensors;
    int64_t seqlenK;
    const char *message;
  } bad[] = {
      {"missing", {doc}, 100,
       "faopt_forward: tensor 'lens' is missing (the spec declares: doc, "
       "lens)"},
      {"unknown", {doc, lens, {"docs", dev, {2, 100}, {}}}, 100,
       "faopt_forward: unknown tensor 'docs' (the spec declares: doc, lens)"},
      {"twice", {doc, lens, doc}, 100,
       "faopt_forward: tensor 'doc' given twice"},
      {"sizes", {{"doc", dev, {2, 99}, {}}, lens}, 100,
       "faopt_forward: tensor 'doc' must have sizes [batch = 2, seqlen = 100], "
       "got [2, 99]"},
      {"seqlen", {doc, lens}, 120,
       "faopt_forward: tensor 'doc' has a \"seqlen\" dimension, which needs "
       "seqlen_q == seqlen_k (got 100 and 120)"},
      {"null", {doc, {"lens", nullptr, {2}, {}}}, 100,
       "faopt_forward: tensor 'lens' must be a non-NULL device pointer"},
      {"misaligned",
       {doc, {"lens", reinterpret_cast<void *>(0x40002), {2}, {}}}, 100,
       "faopt_forward: tensor 'lens' must be 4-byte aligned"},
  };
  for (const Bad &b : bad) {
    faopt::ForwardArgs a = fakeArgs(2, 2, 2);
    a.seqlen_q = 100;
    a.seqlen_k = b.seqlenK;
    a.tensors = b.tensors.data();
    a.num_tensors = static_cast<int>(b.tensors.size());
    faopt::Status st = k->forward(a);
    EXPECT_EQ(st.code(), FAOPT_ERROR_INVALID_ARGUMENT) << b.what;
    EXPECT_EQ(st.message(), b.message) << b.what;
  }
  std::string manifest = k->info().manifest;
  EXPECT_NE(manifest.find("\"type\": \"faopt::Tensor<int32_t, 2>\""),
            std::string::npos)
      << manifest;
}

/// Score tensors: a bias must have its declared (broadcast) sizes, ALiBi's
/// given slopes one per query head, and computed ALiBi slopes hold only for
/// the head count they were computed for (the spec pins it).
TEST(Runtime, ScoreTensorsAndAlibiHeadsAreValidatedFirst) {
  SKIP_WITHOUT_NVRTC();
  faopt::Context ctx = context("", /*disk=*/false);
  auto bias = ctx.kernel(R"({"name": "rt_bias", "dtype": "bf16",
      "head_dim": 64, "tensors": {"bias": {"dtype": "float32",
      "shape": [1, "heads", 1, "seqlen_k"]}},
      "score": {"type": "bias", "tensor": "bias"}})");
  ASSERT_TRUE(bias) << bias.status().message();
  auto slopes = ctx.kernel(R"({"name": "rt_alibi_slopes", "dtype": "bf16",
      "head_dim": 64, "tensors": {"m": {"dtype": "float32",
      "shape": ["heads"]}}, "score": {"type": "alibi", "slopes": "m"}})");
  ASSERT_TRUE(slopes) << slopes.status().message();
  auto computed = ctx.kernel(R"({"name": "rt_alibi_heads", "dtype": "bf16",
      "head_dim": 64, "score": {"type": "alibi", "heads": 12}})");
  ASSERT_TRUE(computed) << computed.status().message();
  const void *dev = reinterpret_cast<void *>(0x40000);
  auto launch = [&](faopt::Kernel &k, int64_t heads,
                    std::vector<faopt_tensor_value> tensors) {
    faopt::ForwardArgs a = fakeArgs(2, heads, heads);
    a.seqlen_q = 100;
    a.seqlen_k = 120;
    a.tensors = tensors.data();
    a.num_tensors = static_cast<int>(tensors.size());
    return k.forward(a);
  };
  faopt::Status st = launch(*bias, 4, {{"bias", dev, {1, 4, 100, 120}, {}}});
  EXPECT_EQ(st.code(), FAOPT_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(st.message(), "faopt_forward: tensor 'bias' must have sizes "
                          "[1 = 1, heads = 4, 1 = 1, seqlen_k = 120], got "
                          "[1, 4, 100, 120]");
  st = launch(*slopes, 4, {{"m", dev, {8}, {}}});
  EXPECT_EQ(st.message(), "faopt_forward: tensor 'm' must have sizes "
                          "[heads = 4], got [8]");
  st = launch(*computed, 16, {});
  EXPECT_EQ(st.code(), FAOPT_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(st.message(), "faopt_forward: the spec pins heads = 12, got 16");
  // Launches with the declared sizes pass validation (and run, with a
  // device).
  if (!ctx.canLaunch()) {
    EXPECT_EQ(launch(*bias, 4, {{"bias", dev, {1, 4, 1, 120}, {}}}).code(),
              FAOPT_ERROR_NO_DEVICE);
    EXPECT_EQ(launch(*slopes, 4, {{"m", dev, {4}, {}}}).code(),
              FAOPT_ERROR_NO_DEVICE);
    EXPECT_EQ(launch(*computed, 12, {}).code(), FAOPT_ERROR_NO_DEVICE);
  }
}

/// Block layouts: a layout given at launch must have one entry per block of
/// the launch; a static one (in the spec) is not passed and must cover the
/// launch's sequence lengths.
TEST(Runtime, BlockLayoutsAreValidatedFirst) {
  SKIP_WITHOUT_NVRTC();
  faopt::Context ctx = context("", /*disk=*/false);
  auto dynamic = ctx.kernel(R"({"name": "rt_layout", "dtype": "bf16",
      "head_dim": 64, "tensors": {"L": {"dtype": "int32",
      "shape": [1, "heads", "seqlen_q/128", "seqlen_k/128"]}},
      "sparsity": {"block": [128, 128], "layout": "L"}})");
  ASSERT_TRUE(dynamic) << dynamic.status().message();
  auto fixed = ctx.kernel(R"({"name": "rt_static_layout", "dtype": "bf16",
      "head_dim": 64, "mask": "causal",
      "sparsity": {"block": [128, 128], "layout": [[1, 0], [1, 1]]}})");
  ASSERT_TRUE(fixed) << fixed.status().message();
  const void *dev = reinterpret_cast<void *>(0x40000);
  auto launch = [&](faopt::Kernel &k, int64_t seq,
                    std::vector<faopt_tensor_value> tensors) {
    faopt::ForwardArgs a = fakeArgs(2, 2, 2);
    a.seqlen_q = a.seqlen_k = seq;
    a.tensors = tensors.data();
    a.num_tensors = static_cast<int>(tensors.size());
    return k.forward(a);
  };
  faopt::Status st = launch(*dynamic, 300, {{"L", dev, {1, 2, 3, 2}, {}}});
  EXPECT_EQ(st.code(), FAOPT_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(st.message(),
            "faopt_forward: tensor 'L' must have sizes [1 = 1, heads = 2, "
            "seqlen_q/128 = 3, seqlen_k/128 = 3], got [1, 2, 3, 2]");
  st = launch(*fixed, 256, {{"block_layout", dev, {2, 2}, {}}});
  EXPECT_EQ(st.message(), "faopt_forward: tensor 'block_layout' is part of the "
                          "spec (a static layout): do not pass it");
  st = launch(*fixed, 300, {});
  EXPECT_EQ(st.message(),
            "faopt_forward: the spec's static 'block_layout' is 2 x 2 but this "
            "launch needs 3 x 3 ([seqlen_q/128, seqlen_k/128]): write the "
            "layout for these sequence lengths");
  // Launches the layout covers pass validation (and run, with a device).
  if (!ctx.canLaunch()) {
    EXPECT_EQ(launch(*fixed, 256, {}).code(), FAOPT_ERROR_NO_DEVICE);
    EXPECT_EQ(launch(*dynamic, 300, {{"L", dev, {1, 2, 3, 3}, {}}}).code(),
              FAOPT_ERROR_NO_DEVICE);
  }
  EXPECT_NE(std::string(dynamic->info().manifest).find("\"block_list_builder\""),
            std::string::npos);
}

/// faopt_block_lists_build: only for kernels with lists, arguments
/// validated as for a launch (messages name the call).
TEST(Runtime, BlockListsBuildIsValidated) {
  SKIP_WITHOUT_NVRTC();
  faopt::Context ctx = context("", /*disk=*/false);
  auto withLists = ctx.kernel(R"({"name": "rt_lists", "dtype": "bf16",
      "head_dim": 64, "tensors": {"doc": {"dtype": "int32",
      "shape": ["batch", "seqlen"]}},
      "mask": {"type": "document", "ids": "doc"}})");
  ASSERT_TRUE(withLists) << withLists.status().message();
  auto plain = ctx.kernel(R"({"name": "rt_no_lists", "dtype": "bf16",
      "head_dim": 64, "mask": "causal"})");
  ASSERT_TRUE(plain) << plain.status().message();
  const void *dev = reinterpret_cast<void *>(0x40000);
  faopt_tensor_value doc{"doc", dev, {2, 100}, {}};
  faopt::ForwardArgs a = fakeArgs(2, 2, 2);
  a.seqlen_q = a.seqlen_k = 100;
  a.tensors = &doc;
  a.num_tensors = 1;
  auto none = plain->buildBlockLists(a);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.status().message(),
            "faopt_block_lists_build: this kernel's mask reads no tensor, so "
            "it has no kv-block lists to build");
  // Lists handed to a kernel without any: rejected before they are read.
  faopt::ForwardArgs foreign = a;
  foreign.num_tensors = 0;
  foreign.block_lists = reinterpret_cast<const faopt_block_lists *>(0x50000);
  EXPECT_EQ(plain->forward(foreign).message(),
            "faopt_forward: block_lists given, but this kernel's mask reads no "
            "tensor (it has no lists)");
  faopt::ForwardArgs missing = a;
  missing.num_tensors = 0;
  auto bad = withLists->buildBlockLists(missing);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.status().message(),
            "faopt_block_lists_build: tensor 'doc' is missing (the spec "
            "declares: doc)");
  faopt::Status st = faopt::Status::fromLast(
      faopt_block_lists_build(withLists->handle(), &a, nullptr, nullptr));
  EXPECT_EQ(st.code(), FAOPT_ERROR_INVALID_ARGUMENT);
  if (!ctx.canLaunch()) {
    auto noDevice = withLists->buildBlockLists(a);
    ASSERT_FALSE(noDevice);
    EXPECT_EQ(noDevice.status().code(), FAOPT_ERROR_NO_DEVICE);
  }
}

TEST(Runtime, ConcurrentRequestsCompileOnce) {
  SKIP_WITHOUT_NVRTC();
  faopt::Context ctx = context("", /*disk=*/false);
  std::vector<std::thread> threads;
  std::vector<const faopt_kernel *> got(6, nullptr);
  for (int i = 0; i < 6; ++i)
    threads.emplace_back([&, i] {
      // Different spellings of one kernel share one compilation.
      auto k = ctx.kernel(i % 2 ? kSpec
                                : R"({"name": "rt_causal", "dtype": "bf16",
                                     "head_dim_qk": 64, "mask": {"expr": "q >= kv"}})");
      got[i] = k ? k->handle() : nullptr;
    });
  for (auto &t : threads)
    t.join();
  for (const faopt_kernel *k : got) {
    ASSERT_NE(k, nullptr);
    EXPECT_EQ(k, got[0]);
  }
  // A memory hit returns the same kernel.
  auto again = ctx.kernel(kSpec);
  EXPECT_EQ(again->handle(), got[0]);
}

} // namespace
