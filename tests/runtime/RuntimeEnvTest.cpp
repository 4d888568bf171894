//===- RuntimeEnvTest.cpp - the runtime's FAOPT_* compiler switches ------===//
//
// The environment variables that change the generated code (persistent
// programs, the softmax overlap, P carried rounded, row-bound masks, the
// builder's dependent launch): each reaches the kernel a context compiles,
// and an unknown value is reported once on stderr and read as unset
// (docs/runtime.md); FAOPT_CUDA_OVERRIDE_DIR replacing the generated CUDA.
// Compiles to CUDA only (no NVRTC or GPU needed), but for the override's
// compile error, which needs NVRTC and skips without it.
//
//===----------------------------------------------------------------------===//
#include "RuntimeTestUtil.h"
#include "tests/common/ScopedEnv.h"
#include "faopt/runtime.hpp"

#include "gtest/gtest.h"
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <utility>

namespace {

using namespace faopt_test;
using faopt::test::ScopedEnv;

/// What faopt_compile writes for `spec` on sm90a as CUDA (no NVRTC needed):
/// the source and the manifest (its launch facts).
struct Sm90aCuda {
  std::string source, manifest;
};
Sm90aCuda compileSm90aCuda(const char *spec) {
  void *out = nullptr;
  size_t size = 0;
  char *manifest = nullptr;
  EXPECT_EQ(faopt_compile(spec, "sm90a", "cuda", &out, &size, &manifest),
            FAOPT_SUCCESS)
      << faopt_last_error();
  Sm90aCuda got{out ? std::string(static_cast<const char *>(out), size) : "",
                manifest ? manifest : ""};
  faopt_free(out);
  faopt_free(manifest);
  return got;
}
std::string sm90aManifest(const char *spec) {
  return compileSm90aCuda(spec).manifest;
}
std::string sm90aCuda(const char *spec) { return compileSm90aCuda(spec).source; }

/// Runs `compile` twice with stderr captured (a bad environment value is
/// reported once, not per compile): the first result and what was printed.
std::pair<std::string, std::string>
twiceCapturingStderr(const std::function<std::string()> &compile) {
  testing::internal::CaptureStderr();
  std::string first = compile();
  compile();
  return {first, testing::internal::GetCapturedStderr()};
}

TEST(Runtime, PersistentKernelsFollowTheEnvironment) {
  const char *dense = R"({"name": "rt_d128", "dtype": "bf16",
                         "head_dim": 128, "mask": "causal"})";
  const char *documents = R"({"name": "rt_doc", "dtype": "bf16",
      "head_dim": 128, "tensors": {"doc": {"dtype": "int32",
      "shape": ["batch", "seqlen"]}}, "mask": {"type": "document",
      "ids": "doc"}})";
  const std::string yes = "\"persistent\": true", no = "\"persistent\": false";
  // Whatever the caller's environment says, from the defaults.
  ScopedEnv noPersistent("FAOPT_PERSISTENT", nullptr),
      noQStages("FAOPT_Q_STAGES", nullptr), noKvStages("FAOPT_KV_STAGES", nullptr);
  // Unset and 1 alike: every kernel persistent; list-driven kernels take
  // their programs at run time, from the launch's counter after the lists.
  for (const char *value : {static_cast<const char *>(nullptr), "1"}) {
    ScopedEnv on("FAOPT_PERSISTENT", value);
    SCOPED_TRACE(value ? value : "unset");
    EXPECT_NE(sm90aManifest(dense).find(yes), std::string::npos);
    std::string m = sm90aManifest(documents);
    EXPECT_NE(m.find(yes), std::string::npos);
    EXPECT_NE(m.find("\"program_counter\": true"), std::string::npos) << m;
    size_t lists = m.find("\"name\": \"block_lists\""),
           counter = m.find("\"name\": \"program_counter\""),
           qMap = m.find("\"name\": \"q_tensor_map\"");
    EXPECT_TRUE(lists < counter && counter < qMap) << m;
    // Kernels without lists have no counter.
    EXPECT_NE(sm90aManifest(dense).find("\"program_counter\": false"),
              std::string::npos);
  }
  {
    // 0: one CTA per program, lists or not; no counter.
    ScopedEnv off("FAOPT_PERSISTENT", "0");
    EXPECT_NE(sm90aManifest(dense).find(no), std::string::npos);
    std::string m = sm90aManifest(documents);
    EXPECT_NE(m.find(no), std::string::npos) << m;
    EXPECT_NE(m.find("\"program_counter\": false"), std::string::npos) << m;
  }
  {
    // Another value: reported once, read as unset.
    ScopedEnv bad("FAOPT_PERSISTENT", "yes"), loud("FAOPT_QUIET", nullptr);
    auto [m, err] = twiceCapturingStderr([&] { return sm90aManifest(dense); });
    EXPECT_NE(m.find(yes), std::string::npos);
    EXPECT_NE(sm90aManifest(documents).find("\"program_counter\": true"),
              std::string::npos);
    EXPECT_EQ(err, "faopt: warning: FAOPT_PERSISTENT=yes is not 0 or 1; "
                   "using the default (persistent kernels)\n");
  }
  {
    // Two Q tiles: a second 32 KiB Q tile at d = 128, and with it two K/V
    // stages and an O region (a third stage does not fit next to them).
    ScopedEnv two("FAOPT_Q_STAGES", "2");
    std::string m = sm90aManifest(dense);
    EXPECT_NE(m.find("\"dynamic_shared_memory_bytes\": 229552"),
              std::string::npos);
    EXPECT_NE(m.find("\"q_tiles\": 2"), std::string::npos) << m;
    EXPECT_NE(m.find("\"kv_stages\": 2"), std::string::npos) << m;
    // Handed-out programs too (the program slots come in pairs).
    EXPECT_NE(sm90aManifest(documents).find("\"q_tiles\": 2"),
              std::string::npos);
  }
  {
    // 1: one Q tile everywhere, handed-out programs included.
    ScopedEnv one("FAOPT_Q_STAGES", "1");
    EXPECT_NE(sm90aManifest(documents).find("\"q_tiles\": 1"),
              std::string::npos);
  }
  {
    // Another value: reported once, read as unset (auto).
    ScopedEnv bad("FAOPT_Q_STAGES", "3"), loud("FAOPT_QUIET", nullptr);
    auto [m, err] = twiceCapturingStderr([&] { return sm90aManifest(dense); });
    EXPECT_NE(m.find("\"dynamic_shared_memory_bytes\": 229552"),
              std::string::npos);
    EXPECT_NE(m.find("\"q_tiles\": 1"), std::string::npos);
    EXPECT_EQ(err, "faopt: warning: FAOPT_Q_STAGES=3 is not auto, 1 or 2; "
                   "using the default (two Q tiles for handed-out "
                   "programs)\n");
    EXPECT_NE(sm90aManifest(documents).find("\"q_tiles\": 2"),
              std::string::npos);
  }
  // Unset and auto alike: one Q tile for the fixed schedule, two for the
  // handed-out programs.
  for (const char *value : {static_cast<const char *>(nullptr), "auto"}) {
    ScopedEnv q("FAOPT_Q_STAGES", value);
    SCOPED_TRACE(value ? value : "unset");
    // One Q tile and three K/V stages (FAOPT_KV_STAGES unset).
    EXPECT_NE(
        sm90aManifest(dense).find("\"dynamic_shared_memory_bytes\": 229552"),
        std::string::npos);
    EXPECT_NE(sm90aManifest(dense).find("\"q_tiles\": 1"), std::string::npos);
    EXPECT_NE(sm90aManifest(documents).find("\"q_tiles\": 2"),
              std::string::npos);
  }
}

/// $FAOPT_KV_STAGES: three K/V stages where they fit next to the Q tiles,
/// by default for fixed schedules (handed-out programs keep their second Q
/// tile and two stages), O then staged in a V stage, so the shared memory
/// is Q + 3 x (K + V) + the pipe; 2: two stages and an O region.
/// FAOPT_OUTPUT_BY_COPY_THREAD=1 (opt-in): kernels with three K/V stages
/// hand their staged O to the copy thread (the V prefetches store it first,
/// the copy thread's end stores what is left); unset or 0: as before. A
/// kernel with two stages stages nothing, so the switch changes nothing
/// there.
TEST(Runtime, OutputByCopyThreadFollowsTheEnvironment) {
  const char *causal = R"({"name": "rt_ct_d128", "dtype": "bf16",
                          "head_dim": 128, "mask": "causal"})";
  // The store the consumers make by default waits for its read itself
  // where the deferral (FAOPT_DEFER_OUTPUT_WAIT) is off.
  ScopedEnv persistent("FAOPT_PERSISTENT", nullptr),
      qStages("FAOPT_Q_STAGES", nullptr), kv("FAOPT_KV_STAGES", nullptr),
      defer("FAOPT_DEFER_OUTPUT_WAIT", "0");
  for (const char *value : {static_cast<const char *>(nullptr), "0"}) {
    ScopedEnv off("FAOPT_OUTPUT_BY_COPY_THREAD", value);
    SCOPED_TRACE(value ? value : "unset");
    EXPECT_NE(sm90aManifest(causal).find("\"output_by_copy_thread\": false"),
              std::string::npos);
    std::string cuda = sm90aCuda(causal);
    EXPECT_NE(cuda.find("faopt::tma::store_tile_in_stage<"), std::string::npos);
    EXPECT_EQ(cuda.find("after_output"), std::string::npos);
  }
  ScopedEnv on("FAOPT_OUTPUT_BY_COPY_THREAD", "1");
  EXPECT_NE(sm90aManifest(causal).find("\"output_by_copy_thread\": true"),
            std::string::npos);
  std::string cuda = sm90aCuda(causal);
  for (const char *call :
       {"faopt::tma::init_output_slots();",
        "faopt::tma::issue_tile_after_output<229376, 2, 128>(",
        "faopt::tma::stage_output_for_copy_thread<229376, 256, 2>(",
        "faopt::tma::producer_end_after_output<229376, 2, 131072, 32768, "
        "faopt::bf16, 128, 128>();"})
    EXPECT_NE(cuda.find(call), std::string::npos) << call;
  EXPECT_EQ(cuda.find("store_tile_in_stage"), std::string::npos);
  EXPECT_EQ(cuda.find("faopt::tma::producer_end();"), std::string::npos);
  ScopedEnv two("FAOPT_KV_STAGES", "2");
  EXPECT_NE(sm90aManifest(causal).find("\"output_by_copy_thread\": false"),
            std::string::npos);
}

TEST(Runtime, KvStagesFollowTheEnvironment) {
  const char *dense = R"({"name": "rt_kv_d128", "dtype": "bf16",
                         "head_dim": 128, "mask": "causal"})";
  const char *documents = R"({"name": "rt_kv_doc", "dtype": "bf16",
      "head_dim": 128, "tensors": {"doc": {"dtype": "int32",
      "shape": ["batch", "seqlen"]}}, "mask": {"type": "document",
      "ids": "doc"}})";
  ScopedEnv persistent("FAOPT_PERSISTENT", nullptr),
      qStages("FAOPT_Q_STAGES", nullptr),
      defer("FAOPT_DEFER_OUTPUT_WAIT", "0");
  for (const char *value : {static_cast<const char *>(nullptr), "auto", "3"}) {
    ScopedEnv kv("FAOPT_KV_STAGES", value);
    SCOPED_TRACE(value ? value : "unset");
    std::string m = sm90aManifest(dense);
    EXPECT_NE(m.find("\"kv_stages\": 3"), std::string::npos) << m;
    EXPECT_NE(m.find("\"dynamic_shared_memory_bytes\": 229552"),
              std::string::npos)
        << m;
    EXPECT_NE(sm90aCuda(dense).find("faopt::tma::store_tile_in_stage<229376, "
                                    "256, 2>("),
              std::string::npos);
    // Two Q tiles leave no room for a third stage.
    EXPECT_NE(sm90aManifest(documents).find("\"kv_stages\": 2"),
              std::string::npos);
  }
  {
    ScopedEnv two("FAOPT_KV_STAGES", "2");
    std::string m = sm90aManifest(dense);
    EXPECT_NE(m.find("\"kv_stages\": 2"), std::string::npos) << m;
    EXPECT_NE(m.find("\"dynamic_shared_memory_bytes\": 196784"),
              std::string::npos);
    EXPECT_EQ(sm90aCuda(dense).find("store_tile_in_stage"), std::string::npos);
  }
  {
    // Handed-out programs with one Q tile: three stages only when asked.
    ScopedEnv one("FAOPT_Q_STAGES", "1");
    EXPECT_NE(sm90aManifest(documents).find("\"kv_stages\": 2"),
              std::string::npos);
    ScopedEnv three("FAOPT_KV_STAGES", "3");
    EXPECT_NE(sm90aManifest(documents).find("\"kv_stages\": 3"),
              std::string::npos);
  }
  {
    ScopedEnv bad("FAOPT_KV_STAGES", "4"), loud("FAOPT_QUIET", nullptr);
    auto [m, err] = twiceCapturingStderr([&] { return sm90aManifest(dense); });
    EXPECT_NE(m.find("\"kv_stages\": 3"), std::string::npos);
    EXPECT_EQ(err, "faopt: warning: FAOPT_KV_STAGES=4 is not auto, 2 or 3; "
                   "using the default (three K/V stages for fixed "
                   "schedules)\n");
  }
}

/// A boolean switch that is on by default (`var` unset or 1: `marker` in
/// the sm90a CUDA of `spec`; 0: not), and any other value reported once on
/// stderr and read as unset.
void expectSwitchOnByDefault(const char *var, const char *spec,
                             const std::string &marker) {
  SCOPED_TRACE(var);
  {
    ScopedEnv unset(var, nullptr);
    EXPECT_NE(sm90aCuda(spec).find(marker), std::string::npos);
  }
  {
    ScopedEnv on(var, "1");
    EXPECT_NE(sm90aCuda(spec).find(marker), std::string::npos);
  }
  {
    ScopedEnv off(var, "0");
    EXPECT_EQ(sm90aCuda(spec).find(marker), std::string::npos);
  }
  {
    ScopedEnv bad(var, "no"), loud("FAOPT_QUIET", nullptr);
    auto [cuda, err] = twiceCapturingStderr([&] { return sm90aCuda(spec); });
    EXPECT_NE(cuda.find(marker), std::string::npos);
    EXPECT_EQ(err, std::string("faopt: warning: ") + var +
                       "=no is not 0 or 1; using 1\n");
  }
}

TEST(Runtime, SoftmaxOverlapFollowsTheEnvironment) {
  // With the overlap, S is waited for while P V still runs.
  expectSwitchOnByDefault("FAOPT_SOFTMAX_OVERLAP",
                          R"({"name": "rt_overlap", "dtype": "bf16",
                              "head_dim": 128, "mask": "causal"})",
                          "mma_wait<1>");
}

TEST(Runtime, RoundedPFollowsTheEnvironment) {
  // With rounded-p the kv loop carries P packed (faopt::OperandA).
  expectSwitchOnByDefault("FAOPT_ROUNDED_P",
                          R"({"name": "rt_rounded_p", "dtype": "bf16",
                              "head_dim": 128, "mask": "causal"})",
                          "faopt::OperandA<");
}

const char *const kWindowSpec = R"({"name": "rt_window", "dtype": "bf16",
    "head_dim": 128, "params": {"w": "int"},
    "mask": ["causal", {"type": "sliding_window", "left": "w"}]})";
const char *const kCausalSpec = R"({"name": "rt_causal", "dtype": "bf16",
    "head_dim": 128, "mask": "causal"})";
const char *const kBlockLayoutSpec = R"({"name": "rt_block_layout",
    "dtype": "bf16", "head_dim": 128,
    "tensors": {"layout": {"dtype": "int32",
                           "shape": ["seqlen_q/128", "seqlen_k/128"]}},
    "sparsity": {"block": [128, 128], "layout": "layout"}})";

/// A three-way switch `var` (unset = auto, 1 = on everywhere, 0 = off):
/// `marker` is in the generated CUDA of `autoSpec` and not `otherSpec`
/// unset, in both with 1, in neither with 0; `bad` is reported once (as
/// `warning`) and read as unset.
void expectAutoSwitch(const char *var, const char *autoSpec,
                      const char *otherSpec, const std::string &marker,
                      const char *bad, const std::string &warning) {
  SCOPED_TRACE(var);
  auto has = [&](const char *spec) {
    return sm90aCuda(spec).find(marker) != std::string::npos;
  };
  {
    ScopedEnv unset(var, nullptr);
    EXPECT_TRUE(has(autoSpec));
    EXPECT_FALSE(has(otherSpec));
  }
  {
    ScopedEnv on(var, "1");
    EXPECT_TRUE(has(autoSpec));
    EXPECT_TRUE(has(otherSpec));
  }
  {
    ScopedEnv off(var, "0");
    EXPECT_FALSE(has(autoSpec));
    EXPECT_FALSE(has(otherSpec));
  }
  ScopedEnv badValue(var, bad), loud("FAOPT_QUIET", nullptr);
  auto [cuda, err] = twiceCapturingStderr([&] { return sm90aCuda(otherSpec); });
  EXPECT_EQ(cuda.find(marker), std::string::npos);
  EXPECT_EQ(err, warning);
  EXPECT_TRUE(has(autoSpec)); // the default, not 0
}

/// FAOPT_ROW_BOUND_MASKS: unset, row bounds for bands only (a window, not
/// causal; docs/performance.md item 40).
TEST(Runtime, RowBoundMasksFollowTheEnvironment) {
  expectAutoSwitch("FAOPT_ROW_BOUND_MASKS", kWindowSpec, kCausalSpec,
                   "faopt::map_positions_in_rows<", "on",
                   "faopt: warning: FAOPT_ROW_BOUND_MASKS=on is not 0 or 1; "
                   "using the default (band masks only)\n");
}

/// FAOPT_DEPENDENT_LAUNCH is read when a context is created (with or
/// without a GPU); a value other than 0, kernel or 1 is reported once.
/// A switch read when a context is created (`var` set to "yes", which none
/// takes): creating two contexts says `warning` once.
void expectContextSwitchWarnsOnce(const char *var, const std::string &warning) {
  SCOPED_TRACE(var);
  ScopedEnv bad(var, "yes"), loud("FAOPT_QUIET", nullptr);
  auto [ignored, err] = twiceCapturingStderr([] {
    faopt_context *ctx = nullptr;
    EXPECT_EQ(faopt_context_create(nullptr, &ctx), FAOPT_SUCCESS)
        << faopt_last_error();
    faopt_context_destroy(ctx);
    return std::string();
  });
  EXPECT_EQ(err, warning);
}

TEST(Runtime, DependentLaunchSwitchReportsUnknownValues) {
  expectContextSwitchWarnsOnce("FAOPT_DEPENDENT_LAUNCH",
                               "faopt: warning: FAOPT_DEPENDENT_LAUNCH=yes is "
                               "not 0, kernel or 1; using 1\n");
}

TEST(Runtime, CounterMemsetSwitchReportsUnknownValues) {
  expectContextSwitchWarnsOnce("FAOPT_COUNTER_MEMSET",
                               "faopt: warning: FAOPT_COUNTER_MEMSET=yes is not "
                               "0 or 1; using 0 (the builder zeroes the "
                               "counter)\n");
}


TEST(Runtime, ShortRowKernelSwitchReportsUnknownValues) {
  expectContextSwitchWarnsOnce("FAOPT_SHORT_ROW_KERNEL",
                               "faopt: warning: FAOPT_SHORT_ROW_KERNEL=yes is "
                               "not 0 or 1; using 1 (short-row kernels)\n");
}

TEST(Runtime, ListHeaderHandOverFollowsTheEnvironment) {
  // Document ids: a list-driven kernel, its programs handed out; with the
  // pass its consumers read the list head the copy thread published.
  expectSwitchOnByDefault(
      "FAOPT_HAND_OVER_LIST_HEADER",
      R"({"name": "rt_docs", "dtype": "bf16", "head_dim": 128,
          "tensors": {"doc": {"dtype": "int32", "shape": ["batch", "seqlen"]}},
          "mask": ["causal", {"type": "document", "ids": "doc"}]})",
      "faopt::tma::program_value<");
}

/// An opt-in switch `var`: `changed()` (the generated code shows the
/// switch's effect) is false unset and with 0, true with 1.
void expectOptInSwitch(const char *var, const std::function<bool()> &changed) {
  SCOPED_TRACE(var);
  {
    ScopedEnv unset(var, nullptr);
    EXPECT_FALSE(changed());
  }
  {
    ScopedEnv on(var, "1");
    EXPECT_TRUE(changed());
  }
  {
    ScopedEnv off(var, "0");
    EXPECT_FALSE(changed());
  }
}

TEST(Runtime, BuilderRowStagingFollowsTheEnvironment) {
  // Document ids: with FAOPT_STAGE_BUILDER_ROWS=1 (opt-in) the list builder
  // copies the row of ids it reads into shared memory first.
  const char *docs = R"({"name": "rt_docs_staged", "dtype": "bf16",
      "head_dim": 128, "tensors": {"doc": {"dtype": "int32",
      "shape": ["batch", "seqlen"]}},
      "mask": ["causal", {"type": "document", "ids": "doc"}]})";
  const char *marker = "faopt::stage_row<";
  expectOptInSwitch("FAOPT_STAGE_BUILDER_ROWS", [&] {
    return sm90aCuda(docs).find(marker) != std::string::npos;
  });
  ScopedEnv bad("FAOPT_STAGE_BUILDER_ROWS", "yes"),
      loud("FAOPT_QUIET", nullptr);
  auto [cuda, err] = twiceCapturingStderr([&] { return sm90aCuda(docs); });
  EXPECT_EQ(cuda.find(marker), std::string::npos);
  EXPECT_EQ(err, "faopt: warning: FAOPT_STAGE_BUILDER_ROWS=yes is not 0 or "
                 "1; using 0\n");
}

/// FAOPT_RELEASE_Q_EARLY: unset (auto) releases Q's stage in the kv loop's
/// last iteration in sliding-window bands, not where the loop starts at 0
/// (causal); docs/performance.md item 75.
TEST(Runtime, EarlyQReleaseFollowsTheEnvironment) {
  expectAutoSwitch("FAOPT_RELEASE_Q_EARLY", kWindowSpec, kCausalSpec,
                   "faopt::tma::release_when<", "yes",
                   "faopt: warning: FAOPT_RELEASE_Q_EARLY=yes is not 0 or 1; "
                   "using the default (sliding-window bands only)\n");
}

/// FAOPT_DEFER_OUTPUT_WAIT: unset (auto) defers the staged O store's read
/// wait to the next program's Q wait where every program reads the same
/// kv-blocks and releases Q after them (dense), not in causal, whose loop
/// ends at the program's block (docs/performance.md item 94); 1 everywhere,
/// 0 nowhere.
TEST(Runtime, DeferredOutputWaitFollowsTheEnvironment) {
  const char *dense = R"({"name": "rt_dense", "dtype": "bf16",
                         "head_dim": 128})";
  expectAutoSwitch("FAOPT_DEFER_OUTPUT_WAIT", dense, kCausalSpec,
                   "faopt::tma::store_tile_in_stage_owing<", "yes",
                   "faopt: warning: FAOPT_DEFER_OUTPUT_WAIT=yes is not 0 or "
                   "1; using the default (programs that all read the same "
                   "kv-blocks)\n");
}

/// FAOPT_LATE_K_RELEASE: unset (auto) releases K's stage after the row
/// sums in kernels driven by a block layout only (docs/performance.md
/// items 80, 81); 1 everywhere, 0 nowhere.
TEST(Runtime, LateKReleaseFollowsTheEnvironment) {
  expectAutoSwitch("FAOPT_LATE_K_RELEASE", kBlockLayoutSpec, kCausalSpec,
                   "faopt::tma::release_after<", "yes",
                   "faopt: warning: FAOPT_LATE_K_RELEASE=yes is not 0 or 1; "
                   "using the default (block layouts only)\n");
}

/// FAOPT_DROP_LISTED_TERMS: unset (auto) drops a block layout's per-score
/// read where the programs are handed out (persistent), not one CTA per
/// program; 1 drops it in both, 0 in neither; another value is reported
/// once and read as unset.
TEST(Runtime, DroppedListedTermsFollowTheEnvironment) {
  // A block layout of the tile's size: with the pass, the masked map of a
  // listed tile no longer reads the layout (its only tensor read).
  const char *sparse = R"({"name": "rt_sparse", "dtype": "bf16",
      "head_dim": 128, "tensors": {"layout": {"dtype": "int32", "shape":
      ["seqlen_q/128", "seqlen_k/128"]}}, "sparsity": {"block": [128, 128],
      "layout": "layout"}})";
  auto dropped = [&] {
    std::string cuda = sm90aCuda(sparse);
    size_t at = cuda.find("_masked_logits(float");
    size_t end = cuda.find("\n}", at);
    return at == std::string::npos ||
           cuda.substr(at, end - at).find("faopt::load(") == std::string::npos;
  };
  auto droppedOneCtaPerProgram = [&] {
    ScopedEnv oneCta("FAOPT_PERSISTENT", "0");
    return dropped();
  };
  ScopedEnv persistent("FAOPT_PERSISTENT", nullptr);
  {
    ScopedEnv unset("FAOPT_DROP_LISTED_TERMS", nullptr);
    EXPECT_TRUE(dropped());
    EXPECT_FALSE(droppedOneCtaPerProgram());
    EXPECT_NE(sm90aManifest(sparse).find("\"listed_terms_dropped\": true"),
              std::string::npos);
  }
  {
    ScopedEnv on("FAOPT_DROP_LISTED_TERMS", "1");
    EXPECT_TRUE(dropped());
    EXPECT_TRUE(droppedOneCtaPerProgram());
  }
  {
    ScopedEnv off("FAOPT_DROP_LISTED_TERMS", "0");
    EXPECT_FALSE(dropped());
    EXPECT_FALSE(droppedOneCtaPerProgram());
    EXPECT_NE(sm90aManifest(sparse).find("\"listed_terms_dropped\": false"),
              std::string::npos);
  }
  {
    ScopedEnv bad("FAOPT_DROP_LISTED_TERMS", "yes"),
        loud("FAOPT_QUIET", nullptr);
    auto [cuda, err] = twiceCapturingStderr([&] { return sm90aCuda(sparse); });
    EXPECT_EQ(err, "faopt: warning: FAOPT_DROP_LISTED_TERMS=yes is not 0 or "
                   "1; using the default (handed-out kernels only)\n");
    EXPECT_TRUE(dropped()); // the default, not 0
    EXPECT_FALSE(droppedOneCtaPerProgram());
  }
}
} // namespace

namespace {
/// FAOPT_CUDA_OVERRIDE_DIR: a file named after the spec replaces the
/// generated CUDA (said on stderr each time); other specs, and an unset
/// variable, keep the generated source.
TEST(Runtime, CudaOverrideReplacesTheGeneratedSource) {
  const char *spec = R"({"name": "rt_override", "dtype": "bf16",
                        "head_dim": 128, "mask": "causal"})";
  const char *other = R"({"name": "rt_not_overridden", "dtype": "bf16",
                         "head_dim": 128, "mask": "causal"})";
  ScopedEnv none("FAOPT_CUDA_OVERRIDE_DIR", nullptr);
  const std::string generated = sm90aCuda(spec);
  ASSERT_NE(generated.find("void rt_override("), std::string::npos);
  namespace fs = std::filesystem;
  const fs::path dir = freshDir("override");
  fs::create_directories(dir);
  const std::string edited = "// hand-edited\n" + generated;
  std::ofstream(dir / "rt_override.cu", std::ios::binary) << edited;
  {
    ScopedEnv at("FAOPT_CUDA_OVERRIDE_DIR", dir.c_str()),
        loud("FAOPT_QUIET", nullptr);
    testing::internal::CaptureStderr();
    const std::string got = sm90aCuda(spec);
    const std::string err = testing::internal::GetCapturedStderr();
    EXPECT_EQ(got, edited);
    EXPECT_NE(err.find("faopt: warning: kernel rt_override uses " +
                       (dir / "rt_override.cu").string() +
                       " instead of the generated CUDA"),
              std::string::npos)
        << err;
    EXPECT_EQ(sm90aCuda(other).rfind("// Generated by faopt", 0), 0u);
  }
  EXPECT_EQ(sm90aCuda(spec), generated);
  fs::remove_all(dir);
}

/// An override NVRTC rejects: the error says the overriding source, not
/// the generated one, is what was kept for debugging.
TEST(Runtime, CudaOverrideCompileErrorNamesTheOverride) {
  SKIP_WITHOUT_NVRTC();
  const char *spec = R"({"name": "rt_override_bad", "dtype": "bf16",
                        "head_dim": 128, "mask": "causal"})";
  namespace fs = std::filesystem;
  const fs::path dir = freshDir("override-bad");
  fs::create_directories(dir);
  std::ofstream(dir / "rt_override_bad.cu") << "this is not CUDA\n";
  ScopedEnv at("FAOPT_CUDA_OVERRIDE_DIR", dir.c_str()),
      quiet("FAOPT_QUIET", "1");
  void *out = nullptr;
  size_t size = 0;
  testing::internal::CaptureStderr();
  EXPECT_EQ(faopt_compile(spec, "sm90a", "ptx", &out, &size, nullptr),
            FAOPT_ERROR_COMPILE);
  testing::internal::GetCapturedStderr();
  faopt_free(out);
  EXPECT_NE(std::string(faopt_last_error())
                .find("the overriding source (FAOPT_CUDA_OVERRIDE_DIR) "
                      "written to "),
            std::string::npos)
      << faopt_last_error();
  fs::remove_all(dir);
}
} // namespace
