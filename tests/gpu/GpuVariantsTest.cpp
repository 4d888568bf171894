//===- GpuVariantsTest.cpp - masks, scores and parameters on the GPU ------===//
//
// Built-in and expression masks and score modifiers, sequence lengths in
// expressions and run-time parameters, JIT-compiled through the runtime and
// checked against the double-precision CPU reference (tests/common) on the
// same rounded inputs; outputs and lse are poisoned first. The built-ins'
// desugaring is checked against hand-written references in tests/cpu; here
// the spec's own expressions are the reference, evaluated with the launch's
// sequence lengths and parameter values.
//
//===----------------------------------------------------------------------===//
#include "GpuTestUtil.h"
#include "GpuVariantsCases.h"
#include "tests/common/ScopedEnv.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <sstream>

using namespace faopt;
using namespace faopt::gputest;

namespace {

class GpuVariants : public ::testing::TestWithParam<Variant> {};

/// Runs `kernel` (compiled from specFor(c)) on random inputs of c's shape,
/// with c's parameter and tensor values, and checks o and lse against the
/// double-precision reference.
void expectMatchesReference(const Variant &c, Kernel &kernel) {
  std::string specText = specFor(c);
  spec::SpecParseResult parsed = spec::parseSpec(specText);
  ASSERT_TRUE(parsed.spec) << parsed.error;
  const spec::AttentionSpec &sp = *parsed.spec;

  std::mt19937 rng(std::hash<std::string>()(c.name) ^ 0xfeed);
  auto make = [&](int64_t h, int64_t s) {
    return test::makeBuffer(sp.dtype, sp.layout, c.batch, h, s, c.d);
  };
  test::Buffer q = make(c.heads, c.seqQ), k = make(c.kvHeads, c.seqK),
               v = make(c.kvHeads, c.seqK), o = make(c.heads, c.seqQ);
  std::vector<double> qv = test::fillRandom(q, rng),
                      kv = test::fillRandom(k, rng),
                      vv = test::fillRandom(v, rng);
  if (c.unread) {
    test::poisonRows(k, c.unread);
    test::poisonRows(v, c.unread);
  }
  test::poison(o);
  size_t rows = static_cast<size_t>(c.batch * c.heads * c.seqQ);
  void *dq, *dk, *dv, *dout;
  float *dlse;
  CUDA_OK(cudaMalloc(&dq, q.bytes.size()));
  CUDA_OK(cudaMalloc(&dk, k.bytes.size()));
  CUDA_OK(cudaMalloc(&dv, v.bytes.size()));
  CUDA_OK(cudaMalloc(&dout, o.bytes.size()));
  CUDA_OK(cudaMalloc(&dlse, rows * 4));
  CUDA_OK(cudaMemcpy(dq, q.data(), q.bytes.size(), cudaMemcpyHostToDevice));
  CUDA_OK(cudaMemcpy(dk, k.data(), k.bytes.size(), cudaMemcpyHostToDevice));
  CUDA_OK(cudaMemcpy(dv, v.data(), v.bytes.size(), cudaMemcpyHostToDevice));
  CUDA_OK(cudaMemcpy(dout, o.data(), o.bytes.size(), cudaMemcpyHostToDevice));
  CUDA_OK(cudaMemset(dlse, 0xff, rows * 4)); // NaN

  std::vector<faopt_param_value> params;
  for (const auto &[name, value] : c.params)
    params.push_back({name.c_str(), value});
  // Tensor inputs: int32 / float32 on the device, packed row-major.
  test::Shape shape;
  shape.batch = c.batch;
  shape.heads = c.heads;
  shape.kvHeads = c.kvHeads;
  shape.seqQ = c.seqQ;
  shape.seqK = c.seqK;
  shape.headDimQK = shape.headDimV = c.d;
  test::TensorInputs tensorValues =
      c.tensors ? c.tensors(shape, rng) : test::TensorInputs{};
  std::string tensorError;
  test::HostTensorInputs host =
      test::hostTensorInputs(sp, shape, tensorValues, tensorError);
  ASSERT_EQ(tensorError, "");
  std::vector<faopt_tensor_value> tensors;
  std::vector<void *> tensorMemory;
  for (size_t i = 0; i < host.size(); ++i) {
    void *dp = nullptr;
    CUDA_OK(cudaMalloc(&dp, std::max<size_t>(host.bytes(i), 4)));
    CUDA_OK(cudaMemcpy(dp, host.data(i), host.bytes(i), cudaMemcpyHostToDevice));
    faopt_tensor_value tv{sp.tensors[host.decl[i]].name.c_str(), dp, {}, {}};
    for (size_t d = 0; d < host.sizes[i].size(); ++d)
      tv.sizes[d] = host.sizes[i][d];
    tensors.push_back(tv);
    tensorMemory.push_back(dp);
  }
  ForwardArgs args = defaultForwardArgs();
  args.q = dq;
  args.k = dk;
  args.v = dv;
  args.o = dout;
  args.lse = dlse;
  args.batch = c.batch;
  args.heads = c.heads;
  args.kv_heads = c.kvHeads;
  args.seqlen_q = c.seqQ;
  args.seqlen_k = c.seqK;
  args.params = params.data();
  args.num_params = static_cast<int>(params.size());
  args.tensors = tensors.data();
  args.num_tensors = static_cast<int>(tensors.size());
  Status s = kernel.forward(args);
  ASSERT_TRUE(s.ok()) << s.message();
  CUDA_OK(cudaDeviceSynchronize());
  CUDA_OK(cudaMemcpy(o.data(), dout, o.bytes.size(), cudaMemcpyDeviceToHost));
  std::vector<float> lse(rows);
  CUDA_OK(cudaMemcpy(lse.data(), dlse, rows * 4, cudaMemcpyDeviceToHost));
  for (void *p : {dq, dk, dv, dout, static_cast<void *>(dlse)})
    cudaFree(p);
  for (void *p : tensorMemory)
    cudaFree(p);

  // Parameter values in declaration order, defaults where not given.
  test::ParamValues values;
  for (const spec::ParamDecl &p : sp.params) {
    double x = p.defaultValue;
    for (const auto &[name, value] : c.params)
      if (name == p.name)
        x = value;
    values.push_back(x);
  }
  test::Reference ref = test::referenceAttention(
      shape, sp.effectiveScale(), qv, kv, vv,
      test::maskOf(sp, shape, values, &tensorValues),
      test::scoreOf(sp, shape, values, &tensorValues));
  std::vector<double> got = test::read(o);
  for (double x : got)
    ASSERT_FALSE(std::isnan(x)) << "an output element was not written";
  EXPECT_LT(test::relativeL2(got, ref.o), test::tolerance(sp.dtype))
      << "output relative L2";
  std::vector<double> gl(lse.begin(), lse.end());
  EXPECT_LT(test::lseError(gl, ref.lse), 1e-3) << "lse (or -inf mismatch)";
  for (size_t row = 0; row < ref.lse.size(); ++row) {
    if (std::isinf(ref.lse[row])) {
      for (int64_t d = 0; d < c.d; ++d)
        ASSERT_EQ(got[row * c.d + d], 0.0) << "masked row " << row;
    }
  }
}

TEST_P(GpuVariants, MatchesReference) {
  SKIP_WITHOUT_GPU();
  const Variant &c = GetParam();
  Result<Kernel> kernel = context().kernel(specFor(c));
  ASSERT_TRUE(kernel) << kernel.status().message();
  expectMatchesReference(c, *kernel);
}

INSTANTIATE_TEST_SUITE_P(Specs, GpuVariants, ::testing::ValuesIn(variants()),
                         [](const ::testing::TestParamInfo<Variant> &info) {
                           return info.param.name;
                         });

/// Changing a run-time parameter re-launches the same compiled kernel: one
/// kernel, got once, runs two window sizes and matches the reference for
/// each, and getting the spec again returns that kernel (no compile).
TEST(GpuVariantsRuntime, ParameterChangeNeedsNoRecompile) {
  SKIP_WITHOUT_GPU();
  Variant narrow = variants()[2]; // window_100
  ASSERT_EQ(narrow.name, "window_100");
  narrow.name = "window_param_relaunch"; // a spec no other test compiles
  Variant wide = narrow;
  wide.params = {{"window", 513}};
  ASSERT_EQ(specFor(narrow), specFor(wide));
  Result<Kernel> kernel = context().kernel(specFor(narrow));
  ASSERT_TRUE(kernel) << kernel.status().message();
  // The parameter is a kernel argument, not part of the compiled code.
  EXPECT_NE(std::string(kernel->info().manifest).find("\"name\": \"window\""),
            std::string::npos)
      << kernel->info().manifest;
  expectMatchesReference(narrow, *kernel);
  expectMatchesReference(wide, *kernel);
  Result<Kernel> again = context().kernel(specFor(wide));
  ASSERT_TRUE(again) << again.status().message();
  EXPECT_EQ(again->handle(), kernel->handle()) << "one spec, one kernel";
  expectMatchesReference(narrow, *again);
}

/// The variants `names`, each compiled under the environment the caller
/// set, against the reference; on sm90a each manifest must contain every
/// string of `manifestHas` (`otherwise` says what an absence means). The
/// specs are renamed `<name>_<suffix>`: the context compiles a spec text
/// once and keeps the kernel, whatever the environment says later, so
/// under the variant's own name this could get (or leave behind for
/// Specs/GpuVariants) a kernel compiled under another environment.
void expectNamedVariantsMatch(const std::vector<const char *> &names,
                              const std::string &suffix,
                              std::initializer_list<const char *> manifestHas,
                              const char *otherwise) {
  const std::vector<Variant> all = variants();
  for (const char *name : names) {
    SCOPED_TRACE(name);
    auto it = std::find_if(all.begin(), all.end(),
                           [&](const Variant &v) { return v.name == name; });
    ASSERT_NE(it, all.end());
    Variant own = *it;
    own.name += "_" + suffix;
    Result<Kernel> kernel = context().kernel(specFor(own));
    ASSERT_TRUE(kernel) << kernel.status().message();
    if (context().target() == "sm90a") {
      for (const char *expected : manifestHas) {
        EXPECT_NE(std::string(kernel->info().manifest).find(expected),
                  std::string::npos)
            << otherwise << " (no " << expected << " in the manifest)";
      }
    }
    expectMatchesReference(own, *kernel);
  }
}

/// Persistent list-driven kernels with their programs handed out at run
/// time (attn-persistent-programs' hand-out on sm90a; the default since
/// session 23, docs/performance.md item 53, so the cases above run it
/// too; here the manifests must say so): more programs than SMs, empty and
/// short programs, lists built per launch, all against the reference;
/// document ids sorted in some list rows and not in others, so both of
/// attn-sorted-keys-as-bounds' copies run (its key ranges, which these
/// kernels lacked before session 22).
TEST(GpuVariantsRuntime, HandedOutProgramsMatchTheReference) {
  SKIP_WITHOUT_GPU();
  test::ScopedEnv persistent("FAOPT_PERSISTENT", nullptr);
  expectNamedVariantsMatch(
      {"document_causal_many_programs", "block_sparse_per_head_many_programs",
       "document_causal_many_short", "document_start_causal",
       "key_padding_unread", "block_sparse_empty_column_unread"},
      "handed_out", {"\"program_counter\": true"}, "not handed out");
  expectNamedVariantsMatch(
      {"document_causal_sorted_and_unsorted", "document_causal_locally_sorted"},
      "handed_out", {"\"program_counter\": true", "\"key_range_rows\": 128"},
      "not handed out, or without key ranges");
}

/// A handed-out kernel's list builder zeroes the program counter
/// (attn-builder-resets-counter; the runtime then skips its memset): one
/// kernel launched three times, each output against the reference. The
/// launch workspace comes from a stream-ordered pool, so later launches get
/// earlier ones' memory back, their final counter included: a builder that
/// left it alone would have those launches' workers claim past the end
/// after their first program, leaving most of the output unwritten.
TEST(GpuVariantsRuntime, RelaunchedHandedOutKernelsClaimFromZero) {
  SKIP_WITHOUT_GPU();
  if (const char *m = std::getenv("FAOPT_COUNTER_MEMSET"); m && *m == '1')
    GTEST_SKIP() << "FAOPT_COUNTER_MEMSET=1: the runtime zeroes the counter "
                    "as well, so the builder's reset cannot be seen";
  test::ScopedEnv persistent("FAOPT_PERSISTENT", nullptr);
  const std::vector<Variant> all = variants();
  auto it = std::find_if(all.begin(), all.end(), [](const Variant &v) {
    return v.name == "document_causal_many_programs";
  });
  ASSERT_NE(it, all.end());
  Variant own = *it;
  own.name += "_relaunched";
  Result<Kernel> kernel = context().kernel(specFor(own));
  ASSERT_TRUE(kernel) << kernel.status().message();
  if (context().target() == "sm90a") {
    EXPECT_NE(std::string(kernel->info().manifest)
                  .find("\"resets_program_counter\": true"),
              std::string::npos)
        << "the builder does not zero the counter: "
        << kernel->info().manifest;
  }
  for (int launch = 0; launch < 3; ++launch) {
    SCOPED_TRACE(launch);
    expectMatchesReference(own, *kernel);
  }
}

/// attn-stage-builder-rows (opt-in, FAOPT_STAGE_BUILDER_ROWS=1): the list
/// builders copy their row of ids into shared memory before classifying;
/// documents sorted, unsorted and locally sorted, many short ones, cross
/// attention, rows with whole warps classifying (n = 4096) and rows longer
/// than the 8192-entry copy (n = 8301: read where they are), handed out,
/// against the reference.
TEST(GpuVariantsRuntime, StagedBuilderRowsMatchTheReference) {
  SKIP_WITHOUT_GPU();
  test::ScopedEnv stage("FAOPT_STAGE_BUILDER_ROWS", "1");
  test::ScopedEnv persistent("FAOPT_PERSISTENT", nullptr);
  expectNamedVariantsMatch(
      {"document_causal", "document_causal_sorted_and_unsorted",
       "document_causal_locally_sorted", "document_causal_many_short",
       "document_cross_sorted_keys", "document_causal_4096",
       "document_causal_8301"},
      "staged_row", {"\"staged_row\": true"},
      "the list builder does not stage its row although "
      "FAOPT_STAGE_BUILDER_ROWS=1");
}

/// The same list-driven cases with one CTA per program (FAOPT_PERSISTENT=0,
/// the default before session 23, kept for comparisons): no counter.
TEST(GpuVariantsRuntime, OneCtaPerProgramListKernelsMatchTheReference) {
  SKIP_WITHOUT_GPU();
  test::ScopedEnv persistent("FAOPT_PERSISTENT", "0");
  expectNamedVariantsMatch(
      {"document_causal_many_programs", "block_sparse_per_head_many_programs",
       "document_causal_many_short", "document_start_causal",
       "key_padding_unread", "block_sparse_empty_column_unread",
       "document_causal_sorted_and_unsorted"},
      "one_cta", {"\"persistent\": false"}, "persistent although FAOPT_PERSISTENT=0");
}

/// P carried in f32 across the kv loop (FAOPT_ROUNDED_P=0; rounded-p is the
/// default since session 22, docs/performance.md item 50, so every other
/// test runs it), on d = 128 TMA kernels of every kind (static masks, a
/// band, lists, block-sparse, fully masked rows, many programs), against
/// the reference; and ptxas must not have serialised their wgmmas (C7513,
/// C7520).
TEST(GpuVariantsRuntime, F32PMatchesTheReference) {
  SKIP_WITHOUT_GPU();
  test::ScopedEnv f32("FAOPT_ROUNDED_P", "0");
  expectNamedVariantsMatch(
      {"window_2pow52_d128", "chunked_causal_128_d128", "expr_seqlen_band_d128",
       "fully_masked_rows", "document_causal", "document_causal_many_programs",
       "block_sparse_per_head_window_d128", "block_sparse_per_head_many_programs"},
      "f32_p", {"\"rounded_p\": false", "\"wgmma_serialized\": false"},
      "rounded-p although FAOPT_ROUNDED_P=0, or ptxas serialised the wgmmas");
}

/// attn-drop-listed-tile-terms (by default where programs are handed out,
/// docs/performance.md item 71; FAOPT_DROP_LISTED_TERMS=1 everywhere):
/// block layouts whose blocks are a multiple of the tile lose their
/// per-score read in listed tiles; every block-sparse case (layouts per
/// head and broadcast, blocks of the tile, smaller and uneven ones that
/// must keep the read, static layouts, empty rows and columns, many
/// programs) against the reference, one CTA per program (where only =1
/// drops them); and two of them handed out (the default's case; the
/// other block-sparse cases run handed out by default too).
TEST(GpuVariantsRuntime, DroppedListedTermsMatchTheReference) {
  SKIP_WITHOUT_GPU();
  test::ScopedEnv drop("FAOPT_DROP_LISTED_TERMS", "1");
  {
    test::ScopedEnv oneCta("FAOPT_PERSISTENT", "0");
    expectNamedVariantsMatch(
        {"block_sparse_per_head", "block_sparse_broadcast_causal_small_blocks_gqa",
         "block_sparse_per_head_window_d128", "block_sparse_2d_empty_row",
         "block_sparse_static_causal", "block_sparse_per_head_many_programs",
         "block_sparse_empty_column_unread"},
        "dropped_terms", {"\"persistent\": false"},
        "persistent although FAOPT_PERSISTENT=0");
  }
  test::ScopedEnv persistent("FAOPT_PERSISTENT", nullptr);
  expectNamedVariantsMatch(
      {"block_sparse_per_head_many_programs", "block_sparse_empty_column_unread"},
      "dropped_terms_handed_out",
      {"\"program_counter\": true", "\"listed_terms_dropped\": true"},
      "not handed out, or the layout's read not dropped");
}
} // namespace

namespace {
/// attn-release-q-early (docs/performance.md items 58, 75): Q's stage
/// released in the kv loop's last iteration. By default (unset: sliding-
/// window bands) the windows and an expression band, not masks whose loops
/// start at block 0 or at one a search finds (chunks). Everywhere
/// with FAOPT_RELEASE_Q_EARLY=1, against the reference: static persistent
/// kernels (window, chunks, fully masked rows, whose empty kv loops take
/// the release after the loop), handed-out ones (documents, many short
/// programs, an empty list row), and two Q tiles.
TEST(GpuVariantsRuntime, EarlyQReleaseMatchesTheReference) {
  SKIP_WITHOUT_GPU();
  test::ScopedEnv persistent("FAOPT_PERSISTENT", nullptr);
  {
    test::ScopedEnv unset("FAOPT_RELEASE_Q_EARLY", nullptr);
    expectNamedVariantsMatch(
        {"window_2pow52_d128", "window_513", "expr_seqlen_band_d128"},
        "early_q_default", {"\"early_q_release\": true"},
        "Q not released early by default in a sliding-window band");
    expectNamedVariantsMatch(
        {"fully_masked_rows", "chunked_causal_128_d128",
         "chunked_param_300_d128"},
        "early_q_default", {"\"early_q_release\": false"},
        "Q released early by default in a kernel that is not a band");
  }
  test::ScopedEnv early("FAOPT_RELEASE_Q_EARLY", "1");
  expectNamedVariantsMatch(
      {"window_2pow52_d128", "chunked_causal_128_d128",
       "chunked_param_300_d128", "fully_masked_rows",
       "document_causal_many_programs", "document_causal_many_short",
       "block_sparse_2d_empty_row", "block_sparse_per_head_many_programs"},
      "early_q", {"\"early_q_release\": true"},
      "Q not released early although FAOPT_RELEASE_Q_EARLY=1");
  test::ScopedEnv two("FAOPT_Q_STAGES", "2");
  expectNamedVariantsMatch({"window_2pow52_d128", "chunked_causal_128_d128"},
                           "early_q_two_tiles",
                           {"\"early_q_release\": true"},
                           "Q not released early with two Q tiles");
}

/// Handed-out kernels with many short programs, an empty list row, and
/// block-sparse per head (the switches' tests below).
const std::vector<const char *> kHandedOutVariants{
    "document_causal_many_programs", "document_causal_many_short",
    "block_sparse_2d_empty_row", "block_sparse_per_head_many_programs"};

/// Handed-out programs with two Q tiles (attn-persistent-programs; the
/// default since session 27, FAOPT_Q_STAGES unset: the same kernel as =2,
/// whose manifest RuntimeEnvTest checks): program t takes Q tile t mod 2
/// and that tile's program slots, so the copy thread publishes program
/// t + 1 while the consumers still read program t's values. With one
/// (FAOPT_Q_STAGES=1) as well. Many short programs per worker, an empty
/// list row, and the same with Q released early. (The test context caches
/// kernels by spec text, so each setting needs its own suffix.)
TEST(GpuVariantsRuntime, TwoQTilesHandedOutMatchTheReference) {
  SKIP_WITHOUT_GPU();
  test::ScopedEnv persistent("FAOPT_PERSISTENT", nullptr);
  {
    test::ScopedEnv two("FAOPT_Q_STAGES", nullptr);
    test::ScopedEnv early("FAOPT_RELEASE_Q_EARLY", nullptr);
    expectNamedVariantsMatch(kHandedOutVariants, "two_q_tiles_handed_out",
                             {"\"q_tiles\": 2", "\"program_counter\": true"},
                             "not two Q tiles handed out");
    test::ScopedEnv earlyOn("FAOPT_RELEASE_Q_EARLY", "1");
    expectNamedVariantsMatch(kHandedOutVariants,
                             "two_q_tiles_handed_out_early_q",
                             {"\"q_tiles\": 2", "\"early_q_release\": true"},
                             "not two Q tiles released early");
  }
  test::ScopedEnv one("FAOPT_Q_STAGES", "1");
  test::ScopedEnv early("FAOPT_RELEASE_Q_EARLY", nullptr);
  expectNamedVariantsMatch(kHandedOutVariants, "one_q_tile_handed_out",
                           {"\"q_tiles\": 1", "\"program_counter\": true"},
                           "not one Q tile handed out");
  test::ScopedEnv earlyOn("FAOPT_RELEASE_Q_EARLY", "1");
  expectNamedVariantsMatch(kHandedOutVariants, "one_q_tile_handed_out_early_q",
                           {"\"q_tiles\": 1", "\"early_q_release\": true"},
                           "not one Q tile released early");
}

/// Three K/V stages (FAOPT_KV_STAGES=3; docs/performance.md item 85): fills
/// numbered modulo 3 across programs, and O staged in the V stage of each
/// program's last P V, released by the store once read
/// (attn-stage-output-in-v). Many programs a worker, a window releasing Q
/// early, bottom-right chunks and an expression whose first q-blocks have
/// no kv-block (programs that hold no V stage store straight from their
/// fragments), and handed-out programs with one Q tile (with two, a third
/// stage does not fit).
TEST(GpuVariantsRuntime, ThreeKvStagesMatchTheReference) {
  SKIP_WITHOUT_GPU();
  test::ScopedEnv persistent("FAOPT_PERSISTENT", nullptr);
  test::ScopedEnv early("FAOPT_RELEASE_Q_EARLY", nullptr);
  test::ScopedEnv three("FAOPT_KV_STAGES", "3");
  {
    test::ScopedEnv q("FAOPT_Q_STAGES", nullptr);
    expectNamedVariantsMatch(
        {"window_513", "window_many_programs", "empty_programs_many",
         "chunked_bottom_right_more_queries", "chunked_param_300_d128",
         "prefix_lm_bottom_right", "fully_masked_rows",
         "expr_seqlen_band_d128"},
        "three_kv_stages", {"\"kv_stages\": 3"}, "not three K/V stages");
  }
  test::ScopedEnv one("FAOPT_Q_STAGES", "1");
  expectNamedVariantsMatch(kHandedOutVariants, "three_kv_stages_handed_out",
                           {"\"kv_stages\": 3", "\"program_counter\": true"},
                           "not three K/V stages handed out");
}

/// The case of variants() called `name` (a failure, and an empty case, if
/// there is none).
Variant variantNamed(const char *name) {
  const std::vector<Variant> all = variants();
  auto it = std::find_if(all.begin(), all.end(),
                         [&](const Variant &v) { return v.name == name; });
  EXPECT_NE(it, all.end()) << "no variant " << name;
  return it == all.end() ? Variant{} : *it;
}

/// Short-row forms (runtime/ShortRows.cpp; docs/performance.md item 93): a
/// fixed-schedule sm90a kernel with three K/V stages runs launches whose
/// seqlen_k is at most its short_rows_max_seqlen_k (8 kv-blocks; 4 for a
/// kernel that defers its staged store's read wait, item 95) with the same
/// spec compiled with Q released early, compiled on the first such launch.
/// Each kernel launched past the bound (the kernel itself: no form compiled
/// yet), at its case's own length and at the bound (the form, whose
/// manifest must say so), all against the reference; a window, whose Q is
/// released early already, has no form; and a context made with
/// FAOPT_SHORT_ROW_KERNEL=0 runs the kernel itself at the short lengths.
/// Cases: causal, GQA with ALiBi, softcap (f16), prefix-LM, run-time chunks,
/// fully masked rows, many programs some of which are empty, and dense (the
/// deferred store: the lower bound).
TEST(GpuVariantsRuntime, ShortRowFormsMatchTheReference) {
  SKIP_WITHOUT_GPU();
  if (const char *v = std::getenv("FAOPT_SHORT_ROW_KERNEL"); v && *v == '0')
    GTEST_SKIP() << "FAOPT_SHORT_ROW_KERNEL=0: the suite's context has no "
                    "short-row forms";
  test::ScopedEnv persistent("FAOPT_PERSISTENT", nullptr);
  test::ScopedEnv early("FAOPT_RELEASE_Q_EARLY", nullptr);
  test::ScopedEnv q("FAOPT_Q_STAGES", nullptr);
  test::ScopedEnv kv("FAOPT_KV_STAGES", nullptr);
  const bool sm90a = context().target() == "sm90a";
  std::vector<Variant> cases;
  for (const char *name :
       {"causal_bottom_right_300x1000", "alibi_12_heads_gqa", "softcap_param",
        "prefix_lm_param", "chunked_param_300_d128", "fully_masked_rows",
        "empty_programs_many"})
    cases.push_back(variantNamed(name));
  Variant dense{"dense_bhsd", "\"layout\": \"bhsd\""};
  dense.batch = 3;
  dense.heads = dense.kvHeads = 8;
  dense.seqQ = 700;
  dense.seqK = 500;
  cases.push_back(dense);
  for (const Variant &c : cases) {
    SCOPED_TRACE(c.name);
    Variant own = c;
    own.name += "_short_rows";
    Result<Kernel> kernel = context().kernel(specFor(own));
    ASSERT_TRUE(kernel) << kernel.status().message();
    KernelInfo info = kernel->info();
    if (!sm90a) {
      EXPECT_EQ(info.short_rows_max_seqlen_k, 0) << "a short-row form on sm80";
      expectMatchesReference(own, *kernel);
      continue;
    }
    const bool deferred = std::string(info.manifest).find(
                              "\"output_wait_at_next_q\": true") !=
                          std::string::npos;
    EXPECT_EQ(deferred, c.name == dense.name) << info.manifest;
    ASSERT_EQ(info.short_rows_max_seqlen_k,
              (deferred ? 4 : 8) * info.block_kv)
        << "no short-row form: " << info.manifest;
    ASSERT_LE(own.seqK, info.short_rows_max_seqlen_k);
    Variant longer = own;
    longer.seqK = info.short_rows_max_seqlen_k + 1;
    expectMatchesReference(longer, *kernel);
    EXPECT_EQ(kernel->info().short_rows_manifest, nullptr)
        << "the short-row form compiled for a launch past its bound";
    expectMatchesReference(own, *kernel);
    const char *form = kernel->info().short_rows_manifest;
    ASSERT_NE(form, nullptr) << "a short launch did not make the form";
    EXPECT_NE(std::string(form).find("\"early_q_release\": true"),
              std::string::npos)
        << form;
    Variant atBound = own;
    atBound.seqK = info.short_rows_max_seqlen_k;
    expectMatchesReference(atBound, *kernel);
  }
  if (sm90a) {
    Variant window = variantNamed("window_513");
    window.name += "_short_rows";
    Result<Kernel> kernel = context().kernel(specFor(window));
    ASSERT_TRUE(kernel) << kernel.status().message();
    EXPECT_EQ(kernel->info().short_rows_max_seqlen_k, 0)
        << "a short-row form for a kernel that releases Q early already";
  }

  test::ScopedEnv off("FAOPT_SHORT_ROW_KERNEL", "0");
  ContextOptions o;
  o.diskCache = false;
  o.target = context().target();
  Result<Context> itself = Context::create(o);
  ASSERT_TRUE(itself) << itself.status().message();
  for (const Variant &c : cases) {
    SCOPED_TRACE(c.name);
    Variant own = c;
    own.name += "_short_rows";
    Result<Kernel> kernel = itself->kernel(specFor(own));
    ASSERT_TRUE(kernel) << kernel.status().message();
    EXPECT_EQ(kernel->info().short_rows_max_seqlen_k, 0)
        << "a short-row form although FAOPT_SHORT_ROW_KERNEL=0";
    expectMatchesReference(own, *kernel);
  }
}

/// The staged O store's read wait and its V stage's release deferred to
/// right after the next program's Q wait (attn-stage-output-in-v
/// defer-read-wait; docs/performance.md item 94). Auto (FAOPT_DEFER_OUTPUT_
/// WAIT unset): kernels whose programs all read the same kv-blocks (dense,
/// with a softcap, with GQA, in bshd), launched past their short-row bound
/// (the short-row forms release Q early, so they keep the plain store),
/// with many programs per CTA (each program pays the one before it; the
/// last pays at the end) and a launch with fewer programs than CTAs (only
/// the end pays); causal keeps the store's own wait. Then
/// FAOPT_DEFER_OUTPUT_WAIT=1 on kernels auto leaves alone (causal, prefix-LM,
/// a window, whose copy thread runs ahead, chunks, an expression band,
/// programs of no kv-block, fully masked rows), at their own lengths
/// (short-row forms included).
TEST(GpuVariantsRuntime, DeferredOutputWaitMatchesTheReference) {
  SKIP_WITHOUT_GPU();
  test::ScopedEnv persistent("FAOPT_PERSISTENT", nullptr);
  test::ScopedEnv early("FAOPT_RELEASE_Q_EARLY", nullptr);
  test::ScopedEnv q("FAOPT_Q_STAGES", nullptr);
  test::ScopedEnv kv("FAOPT_KV_STAGES", nullptr);
  auto run = [&](Variant c, const char *suffix, const char *expected) {
    SCOPED_TRACE(c.name);
    c.name += suffix;
    Result<Kernel> kernel = context().kernel(specFor(c));
    ASSERT_TRUE(kernel) << kernel.status().message();
    if (context().target() == "sm90a") {
      EXPECT_NE(std::string(kernel->info().manifest).find(expected),
                std::string::npos)
          << "no " << expected << " in the manifest";
    }
    expectMatchesReference(c, *kernel);
  };
  {
    test::ScopedEnv unset("FAOPT_DEFER_OUTPUT_WAIT", nullptr);
    Variant dense{"dense_deferred", "\"layout\": \"bhsd\""};
    dense.batch = 4;
    dense.heads = dense.kvHeads = 16;
    dense.seqQ = 1000;
    dense.seqK = 1300;
    run(dense, "", "\"output_wait_at_next_q\": true");
    Variant few = dense; // 22 programs: at most one a CTA
    few.batch = 1;
    few.heads = few.kvHeads = 2;
    few.seqQ = few.seqK = 1400;
    run(few, "", "\"output_wait_at_next_q\": true");
    Variant softcap{"dense_softcap_gqa_bshd_deferred",
                    "\"kv_heads\": 2, \"layout\": \"bshd\", \"score\": "
                    "{\"type\": \"softcap\", \"cap\": 20.0}",
                    "f16", 128, 3, 16, 2, 1111, 2049};
    run(softcap, "", "\"output_wait_at_next_q\": true");
    Variant causal = variantNamed("causal_bottom_right_300x1000");
    causal.batch = 4;
    causal.heads = causal.kvHeads = 16;
    causal.seqK = 1300;
    run(causal, "_not_deferred", "\"output_wait_at_next_q\": false");
  }
  test::ScopedEnv on("FAOPT_DEFER_OUTPUT_WAIT", "1");
  for (const char *name :
       {"causal_bottom_right_300x1000", "prefix_lm_param", "window_many_programs",
        "window_513", "chunked_param_300_d128",
        "chunked_bottom_right_more_queries", "expr_seqlen_band_d128",
        "empty_programs_many", "fully_masked_rows"})
    run(variantNamed(name), "_deferred_everywhere",
        "\"output_wait_at_next_q\": true");
}

/// FAOPT_OUTPUT_BY_COPY_THREAD=1 (attn-stage-output-in-v by-copy-thread,
/// opt-in; docs/performance.md item 92): the consumers release the V stage
/// they staged O in, and the copy thread stores O from it when it refills
/// the stage, or at its end for the stages no later program refilled. The
/// cases: more programs than CTAs, empty programs (no O staged), programs of
/// one and two kv-blocks (their successors do not refill the stage),
/// early-Q windows (K / V before Q in the copy thread), fully masked rows.
TEST(GpuVariantsRuntime, OutputByCopyThreadMatchesTheReference) {
  SKIP_WITHOUT_GPU();
  test::ScopedEnv persistent("FAOPT_PERSISTENT", nullptr);
  test::ScopedEnv early("FAOPT_RELEASE_Q_EARLY", nullptr);
  test::ScopedEnv q("FAOPT_Q_STAGES", nullptr);
  test::ScopedEnv kv("FAOPT_KV_STAGES", nullptr);
  test::ScopedEnv copyThread("FAOPT_OUTPUT_BY_COPY_THREAD", "1");
  expectNamedVariantsMatch(
      {"window_513", "window_many_programs", "empty_programs_many",
       "chunked_bottom_right_more_queries", "chunked_param_300_d128",
       "chunked_causal_128_d128", "prefix_lm_bottom_right",
       "fully_masked_rows", "expr_seqlen_band_d128", "window_2pow52_d128"},
      "output_by_copy_thread",
      {"\"kv_stages\": 3", "\"output_by_copy_thread\": true"},
      "O not stored by the copy thread");
}
} // namespace
