//===- GpuBlockListsTest.cpp - kv-block lists at run time on the GPU ------===//
//
// The runtime side of masks that read tensors: lists built once against
// lists built per launch, strided mask tensors, and the list builder's
// programmatic dependent launch (it must not read its tensors before the
// kernel ahead of it in the stream has finished; queued launches with other
// ids keep their own lists). Outputs are compared bit for bit with other
// launches of the same kernel, and with the CPU reference where noted.
//
//===----------------------------------------------------------------------===//
#include "GpuTestUtil.h"
#include "LateCopyKernel.h"
#include "tests/common/ScopedEnv.h"

#include <random>

using namespace faopt;
using namespace faopt::gputest;

namespace {

/// Random q, k, v (rounded to the spec's dtype) with o and lse on the
/// device for one shape, the ForwardArgs that point at them, and launches
/// that return o's bytes (poisoned before each launch): what the runtime
/// tests below share. Device memory is freed with the object.
struct DeviceLaunch {
  test::Buffer q, k, v;
  std::vector<double> qv, kv, vv;
  size_t bytes = 0;
  ForwardArgs args = defaultForwardArgs();
  std::vector<void *> memory;

  DeviceLaunch(const spec::AttentionSpec &sp, int64_t batch, int64_t heads,
               int64_t n, int64_t d, std::mt19937 &rng)
      : q(test::makeBuffer(sp.dtype, sp.layout, batch, heads, n, d)), k(q),
        v(q) {
    qv = test::fillRandom(q, rng);
    kv = test::fillRandom(k, rng);
    vv = test::fillRandom(v, rng);
    bytes = q.bytes.size();
    args.q = upload(q.data(), bytes);
    args.k = upload(k.data(), bytes);
    args.v = upload(v.data(), bytes);
    args.o = upload(nullptr, bytes);
    args.lse = static_cast<float *>(upload(nullptr, batch * heads * n * 4));
    args.batch = batch;
    args.heads = args.kv_heads = heads;
    args.seqlen_q = args.seqlen_k = n;
  }
  ~DeviceLaunch() {
    for (void *p : memory)
      cudaFree(p);
  }

  /// `size` bytes of device memory holding `host` (if given).
  void *upload(const void *host, size_t size) {
    void *p = nullptr;
    EXPECT_EQ(cudaMalloc(&p, size), cudaSuccess);
    memory.push_back(p);
    if (host) {
      EXPECT_EQ(cudaMemcpy(p, host, size, cudaMemcpyHostToDevice), cudaSuccess);
    }
    return p;
  }
  void *upload(const std::vector<int32_t> &values) {
    return upload(values.data(), values.size() * 4);
  }

  std::vector<uint8_t> run(const Kernel &kernel, const ForwardArgs &a) {
    std::vector<uint8_t> out(bytes);
    EXPECT_EQ(cudaMemset(args.o, 0xff, bytes), cudaSuccess); // poison
    Status st = kernel.forward(a);
    EXPECT_TRUE(st.ok()) << st.message();
    EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
    EXPECT_EQ(cudaMemcpy(out.data(), args.o, bytes, cudaMemcpyDeviceToHost),
              cudaSuccess);
    return out;
  }
};

/// Causal attention within documents whose ids come from the int32 tensor
/// "doc" [batch, seqlen].
std::string causalDocumentSpec(const std::string &name, int headDim) {
  return R"({"name": ")" + name + R"(", "dtype": "bf16", "head_dim": )" +
         std::to_string(headDim) +
         R"(, "tensors": {"doc": {"dtype": "int32", "shape": ["batch", "seqlen"]}},
          "mask": ["causal", {"type": "document", "ids": "doc"}]})";
}

/// test::documentIds as the int32 entries a "doc" tensor holds.
std::vector<int32_t> documentIds32(int64_t batch, int64_t n, int docs,
                                   std::mt19937 &rng) {
  std::vector<int32_t> ids;
  for (double x : test::documentIds(batch, n, docs, rng))
    ids.push_back(static_cast<int32_t>(x));
  return ids;
}

/// Kv-block lists built once (faopt_block_lists_build) give the same
/// output, bit for bit, as lists built by each launch; lists built for other
/// sizes or another kernel are rejected before anything launches.
TEST(GpuVariantsRuntime, PrebuiltBlockListsMatchPerLaunchLists) {
  SKIP_WITHOUT_GPU();
  const std::string specText = causalDocumentSpec("v_prebuilt_lists", 128);
  spec::SpecParseResult parsed = spec::parseSpec(specText);
  ASSERT_TRUE(parsed.spec) << parsed.error;
  const spec::AttentionSpec &sp = *parsed.spec;
  Result<Kernel> kernel = context().kernel(specText);
  ASSERT_TRUE(kernel) << kernel.status().message();
  const int64_t batch = 2, heads = 4, n = 777;
  std::mt19937 rng(7);
  DeviceLaunch launch(sp, batch, heads, n, 128, rng);
  std::vector<int32_t> ids = documentIds32(batch, n, 6, rng);
  void *dids = launch.upload(ids);
  faopt_tensor_value doc{"doc", dids, {batch, n}, {}};
  ForwardArgs args = launch.args;
  args.tensors = &doc;
  args.num_tensors = 1;
  auto run = [&](const faopt_block_lists *lists) {
    ForwardArgs a = args;
    a.block_lists = lists;
    return launch.run(*kernel, a);
  };
  std::vector<uint8_t> perLaunch = run(nullptr);
  Result<BlockLists> lists = kernel->buildBlockLists(args);
  ASSERT_TRUE(lists) << lists.status().message();
  EXPECT_EQ(run(lists->handle()), perLaunch);
  EXPECT_EQ(run(lists->handle()), perLaunch) << "lists are reusable";

  ForwardArgs shorter = args;
  shorter.seqlen_q = shorter.seqlen_k = n - 1;
  shorter.block_lists = lists->handle();
  faopt_tensor_value shortDoc{"doc", dids, {batch, n - 1}, {}};
  shorter.tensors = &shortDoc;
  Status st = kernel->forward(shorter);
  EXPECT_EQ(st.code(), FAOPT_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(st.message(),
            "faopt_forward: block_lists were built for batch 2, heads 4, "
            "seqlen_q 777, seqlen_k 777; this launch has 2, 4, 776, 776");
  // Another kernel with lists.
  Result<Kernel> other =
      context().kernel(causalDocumentSpec("v_prebuilt_other", 64));
  ASSERT_TRUE(other) << other.status().message();
  ForwardArgs mixed = args;
  mixed.block_lists = lists->handle();
  EXPECT_EQ(other->forward(mixed).message(),
            "faopt_forward: block_lists were built for another kernel");
}

/// Prebuilt lists on a kernel with more programs than CTAs, launched three
/// times: the same output, bit for bit, as lists built per launch. Handed
/// out, a launch on prebuilt lists runs no builder, so the runtime zeroes
/// the program counter itself (a memset; per launch the builder does it,
/// attn-builder-resets-counter) and faopt_block_lists_build hands the
/// builder a null counter: a stale counter from the pool's recycled
/// workspace would leave most programs unrun.
TEST(GpuVariantsRuntime, PrebuiltListsRelaunchedWithManyPrograms) {
  SKIP_WITHOUT_GPU();
  const std::string specText =
      causalDocumentSpec("v_prebuilt_many_programs", 128);
  spec::SpecParseResult parsed = spec::parseSpec(specText);
  ASSERT_TRUE(parsed.spec) << parsed.error;
  Result<Kernel> kernel = context().kernel(specText);
  ASSERT_TRUE(kernel) << kernel.status().message();
  // 2 * 16 * 16 = 512 programs: several per CTA on any current GPU.
  const int64_t batch = 2, heads = 16, n = 2048;
  std::mt19937 rng(11);
  DeviceLaunch launch(*parsed.spec, batch, heads, n, 128, rng);
  void *dids = launch.upload(documentIds32(batch, n, 5, rng));
  faopt_tensor_value doc{"doc", dids, {batch, n}, {}};
  ForwardArgs args = launch.args;
  args.tensors = &doc;
  args.num_tensors = 1;
  const std::vector<uint8_t> perLaunch = launch.run(*kernel, args);
  Result<BlockLists> lists = kernel->buildBlockLists(args);
  ASSERT_TRUE(lists) << lists.status().message();
  for (int r = 0; r < 3; ++r) {
    ForwardArgs a = args;
    a.block_lists = lists->handle();
    EXPECT_TRUE(launch.run(*kernel, a) == perLaunch)
        << "launch " << r << " on prebuilt lists differs";
  }
  EXPECT_TRUE(launch.run(*kernel, args) == perLaunch)
      << "a per-launch build after the prebuilt launches differs";
}

/// Launches queued back to back, each with other document ids, give each
/// launch the output of its own ids, bit for bit: on sm90a each list
/// builder is launched by programmatic dependent launch after the previous
/// attention kernel, whose lists live in memory the stream-ordered pool may
/// hand to the next launch. (faopt's attention kernels do not let the next
/// builder start before their CTAs exit, so this passes even with the
/// builder's wait compiled out; ListBuilderWaitsForTheKernelBeforeIt below
/// is the test that needs the wait. docs/performance.md item 45.)
TEST(GpuVariantsRuntime, BackToBackLaunchesKeepTheirOwnLists) {
  SKIP_WITHOUT_GPU();
  const std::string specText = causalDocumentSpec("v_back_to_back", 128);
  spec::SpecParseResult parsed = spec::parseSpec(specText);
  ASSERT_TRUE(parsed.spec) << parsed.error;
  Result<Kernel> kernel = context().kernel(specText);
  ASSERT_TRUE(kernel) << kernel.status().message();
  // Long enough that the attention runs several waves of programs.
  const int64_t batch = 2, heads = 16, n = 4096, launches = 8;
  std::mt19937 rng(5);
  DeviceLaunch launch(*parsed.spec, batch, heads, n, 128, rng);
  std::vector<faopt_tensor_value> docs;
  for (int docCount : {3, 9}) {
    void *ids = launch.upload(documentIds32(batch, n, docCount, rng));
    docs.push_back({"doc", ids, {batch, n}, {}});
  }
  std::vector<std::vector<uint8_t>> expected;
  for (const faopt_tensor_value &doc : docs) {
    ForwardArgs a = launch.args;
    a.tensors = &doc;
    a.num_tensors = 1;
    expected.push_back(launch.run(*kernel, a));
  }
  ASSERT_NE(expected[0], expected[1]) << "the two id sets must differ";
  std::vector<void *> outputs;
  for (int64_t r = 0; r < launches; ++r) {
    outputs.push_back(launch.upload(nullptr, launch.bytes));
    ASSERT_EQ(cudaMemset(outputs.back(), 0xff, launch.bytes), cudaSuccess);
  }
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  for (int64_t r = 0; r < launches; ++r) { // no synchronisation between
    ForwardArgs a = launch.args;
    a.o = outputs[r];
    a.tensors = &docs[r % 2];
    a.num_tensors = 1;
    Status st = kernel->forward(a);
    ASSERT_TRUE(st.ok()) << st.message();
  }
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  for (int64_t r = 0; r < launches; ++r) {
    std::vector<uint8_t> out(launch.bytes);
    ASSERT_EQ(cudaMemcpy(out.data(), outputs[r], launch.bytes,
                         cudaMemcpyDeviceToHost),
              cudaSuccess);
    EXPECT_TRUE(out == expected[r % 2])
        << "launch " << r << " differs from a lone launch with its ids";
  }
}

/// The list builder reads its tensors only once the kernel before it has
/// finished. On sm90a the builder is launched by programmatic dependent
/// launch, so it may start as soon as the kernel before it lets it; here
/// that kernel lets it at once and writes the document ids 200 us later.
/// A builder that did not wait (faopt::await_previous_grid; left out with
/// -DFAOPT_DIAG_BUILDER_NO_WAIT) would list the old ids' blocks. `persistent`
/// is FAOPT_PERSISTENT for the kernel: "0" (one CTA per program) or unset
/// (programs handed out: since session 29 the builder zeroes their counter
/// after its wait, so no memset sits between the two launches any more;
/// with FAOPT_COUNTER_MEMSET=1 one does, and the handed-out case passes
/// whether the builder waits or not).
void expectBuilderWaitsForTheKernelBeforeIt(const char *persistent,
                                            const std::string &name) {
  test::ScopedEnv env("FAOPT_PERSISTENT", persistent);
  const std::string specText = causalDocumentSpec(name, 128);
  spec::SpecParseResult parsed = spec::parseSpec(specText);
  ASSERT_TRUE(parsed.spec) << parsed.error;
  Result<Kernel> kernel = context().kernel(specText);
  ASSERT_TRUE(kernel) << kernel.status().message();
  if (std::string(kernel->info().manifest)
          .find("\"builder_dependent_launch\": true") == std::string::npos)
    GTEST_SKIP() << "this target launches the list builder in stream order "
                    "(no programmatic dependent launch): nothing to test";
  const int64_t batch = 2, heads = 4, n = 2048;
  std::mt19937 rng(9);
  DeviceLaunch launch(*parsed.spec, batch, heads, n, 128, rng);
  std::vector<std::vector<int32_t>> ids;
  for (int docCount : {2, 12})
    ids.push_back(documentIds32(batch, n, docCount, rng));
  void *oldIds = launch.upload(ids[0]), *newIds = launch.upload(ids[1]);
  void *shared = launch.upload(ids[0]); // the old ids until the late copy
  ForwardArgs a = launch.args;
  faopt_tensor_value newDoc{"doc", newIds, {batch, n}, {}};
  a.tensors = &newDoc;
  a.num_tensors = 1;
  const std::vector<uint8_t> expected = launch.run(*kernel, a);
  faopt_tensor_value oldDoc{"doc", oldIds, {batch, n}, {}};
  a.tensors = &oldDoc;
  ASSERT_NE(launch.run(*kernel, a), expected) << "the id sets must differ";

  faopt_tensor_value lateDoc{"doc", shared, {batch, n}, {}};
  a.tensors = &lateDoc;
  ASSERT_EQ(cudaMemset(a.o, 0xff, launch.bytes), cudaSuccess);
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  ASSERT_EQ(test::lateCopy(static_cast<int32_t *>(shared),
                           static_cast<const int32_t *>(newIds), batch * n,
                           200000),
            0);
  Status st = kernel->forward(a);
  ASSERT_TRUE(st.ok()) << st.message();
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  std::vector<uint8_t> out(launch.bytes);
  ASSERT_EQ(cudaMemcpy(out.data(), a.o, launch.bytes, cudaMemcpyDeviceToHost),
            cudaSuccess);
  EXPECT_TRUE(out == expected)
      << "the builder read the ids before the kernel that writes them ended";
}

TEST(GpuVariantsRuntime, ListBuilderWaitsForTheKernelBeforeIt) {
  SKIP_WITHOUT_GPU();
  expectBuilderWaitsForTheKernelBeforeIt("0", "v_late_ids_one_cta");
}

TEST(GpuVariantsRuntime, HandedOutListBuilderWaitsForTheKernelBeforeIt) {
  SKIP_WITHOUT_GPU();
  expectBuilderWaitsForTheKernelBeforeIt(nullptr, "v_late_ids_handed_out");
}

/// Mask tensors with strides (document ids interleaved with other data) give
/// the same output, bit for bit, as the same ids packed: the list builder's
/// strided reads (faopt::tensor_bounds without 16-byte loads, and the
/// warp-shared path with a stride) and the kernel's reads agree. The ids are
/// not sorted (few equal runs: most blocks are partial).
TEST(GpuVariantsRuntime, StridedMaskTensorMatchesPacked) {
  SKIP_WITHOUT_GPU();
  const std::string specText = causalDocumentSpec("v_strided_ids", 64);
  spec::SpecParseResult parsed = spec::parseSpec(specText);
  ASSERT_TRUE(parsed.spec) << parsed.error;
  const spec::AttentionSpec &sp = *parsed.spec;
  Result<Kernel> kernel = context().kernel(specText);
  ASSERT_TRUE(kernel) << kernel.status().message();
  const int64_t batch = 2, heads = 2, n = 1111;
  std::mt19937 rng(11);
  DeviceLaunch launch(sp, batch, heads, n, 64, rng);
  // Ids in runs of 1 to 40 positions, drawn from 4 values (not sorted).
  std::vector<int32_t> packed(batch * n), strided(batch * n * 2);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t s = 0; s < n;) {
      int32_t id = static_cast<int32_t>(rng() % 4);
      for (int64_t r = 1 + rng() % 40; r > 0 && s < n; --r, ++s) {
        packed[b * n + s] = id;
        strided[(b * n + s) * 2] = id;
        strided[(b * n + s) * 2 + 1] = static_cast<int32_t>(rng()); // noise
      }
    }
  void *dpacked = launch.upload(packed), *dstrided = launch.upload(strided);
  auto run = [&](const faopt_tensor_value &doc) {
    ForwardArgs a = launch.args;
    a.tensors = &doc;
    a.num_tensors = 1;
    return launch.run(*kernel, a);
  };
  std::vector<uint8_t> fromPacked = run({"doc", dpacked, {batch, n}, {}});
  std::vector<uint8_t> fromStrided =
      run({"doc", dstrided, {batch, n}, {2 * n, 2}});
  EXPECT_TRUE(fromPacked == fromStrided)
      << "strided ids changed the output";
  // And the packed run matches the reference.
  test::Shape shape;
  shape.batch = batch;
  shape.heads = shape.kvHeads = heads;
  shape.seqQ = shape.seqK = n;
  shape.headDimQK = shape.headDimV = 64;
  test::TensorInputs tensorValues{
      std::vector<double>(packed.begin(), packed.end())};
  test::Reference ref = test::referenceAttention(
      shape, sp.effectiveScale(), launch.qv, launch.kv, launch.vv,
      test::maskOf(sp, shape, {}, &tensorValues),
      test::scoreOf(sp, shape, {}, &tensorValues));
  test::Buffer o = launch.q; // the same layout
  o.bytes.assign(fromPacked.begin(), fromPacked.end());
  EXPECT_LT(test::relativeL2(test::read(o), ref.o), test::tolerance(sp.dtype))
      << "output relative L2";
}

} // namespace
