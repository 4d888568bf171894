//===- Launch.cpp - validating and launching the forward pass -------------===//
//
// Every launch is checked against the kernel's spec and for internal
// consistency before anything reaches the GPU: a wrong argument is an error
// message, never an out-of-bounds access.
//
//===----------------------------------------------------------------------===//
#include "runtime/Context.h"
#include "llvm/ADT/StringRef.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

using faopt::rt::fail;
using faopt::rt::TensorArg;

namespace {

/// Packed strides of a [b, h, s, d] tensor in the spec's layout.
void packedStrides(faopt::spec::Layout layout, int64_t heads, int64_t seq,
                   int64_t dim, int64_t out[3]) {
  if (layout == faopt::spec::Layout::BHSD) {
    out[0] = heads * seq * dim;
    out[1] = seq * dim;
    out[2] = dim;
  } else {
    out[0] = seq * heads * dim;
    out[1] = dim;
    out[2] = heads * dim;
  }
}

/// The context's pool for kv-block lists, created on first use with no
/// release threshold (its memory is kept for the next launch).
CUresult listsPool(faopt_context &ctx, CUmemoryPool &pool) {
  std::lock_guard<std::mutex> lock(ctx.poolMu);
  if (!ctx.listsPool) {
    const faopt::rt::Driver &d = faopt::rt::driver();
    CUmemPoolProps props{};
    props.allocType = CU_MEM_ALLOCATION_TYPE_PINNED;
    props.handleTypes = CU_MEM_HANDLE_TYPE_NONE;
    props.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
    props.location.id = ctx.cuDevice;
    CUmemoryPool p = nullptr;
    if (CUresult r = d.memPoolCreate(&p, &props); r != CUDA_SUCCESS)
      return r;
    cuuint64_t keep = ~cuuint64_t(0);
    if (CUresult r = d.memPoolSetAttribute(
            p, CU_MEMPOOL_ATTR_RELEASE_THRESHOLD, &keep);
        r != CUDA_SUCCESS) {
      d.memPoolDestroy(p);
      return r;
    }
    ctx.listsPool = p;
  }
  pool = ctx.listsPool;
  return CUDA_SUCCESS;
}

bool allZero(const int64_t *s, int n) {
  for (int i = 0; i < n; ++i)
    if (s[i] != 0)
      return false;
  return true;
}

} // namespace

namespace faopt::rt {

std::string validateForward(const faopt_kernel &k, const faopt_forward_args &a,
                            faopt_forward_args &p) {
  const spec::AttentionSpec &s = k.spec;
  p = a;
  if (!a.q || !a.k || !a.v || !a.o)
    return "q, k, v and o must be non-NULL device pointers";
  if (s.lse && !a.lse)
    return "the spec returns lse (\"lse\": true): pass an lse pointer";
  if (!s.lse && a.lse)
    return "the spec has no lse output (\"lse\": false) but an lse pointer "
           "was given";
  if (a.batch < 0 || a.seqlen_q < 0 || a.seqlen_k < 0)
    return "batch, seqlen_q and seqlen_k must be non-negative";
  // Kernels and their device functions do index arithmetic in 32 bits
  // where it provably fits, which holds up to 2^29 (attn-narrow-index-math;
  // attn-schedule-grid states this bound in the kernel).
  if (a.seqlen_q > (int64_t(1) << 29) || a.seqlen_k > (int64_t(1) << 29))
    return "seqlen_q and seqlen_k must be at most 2^29 = 536870912";
  if (a.heads <= 0 || a.kv_heads <= 0)
    return "heads and kv_heads must be positive";
  if (a.heads % a.kv_heads != 0)
    return "kv_heads (" + std::to_string(a.kv_heads) + ") must divide heads (" +
           std::to_string(a.heads) + ")";
  if (s.heads && a.heads != *s.heads)
    return "the spec pins heads = " + std::to_string(*s.heads) + ", got " +
           std::to_string(a.heads);
  if (s.kvHeads && a.kv_heads != *s.kvHeads)
    return "the spec pins kv_heads = " + std::to_string(*s.kvHeads) + ", got " +
           std::to_string(a.kv_heads);
  // One program per (q-block, batch * heads), a 1-D grid of at most 2^31 - 1
  // (kernels decompose the program index in 32 bits, attn-schedule-grid).
  // Each factor is below 2^31 before it is multiplied in: no overflow.
  int64_t programs = a.seqlen_q / k.blockQ + (a.seqlen_q % k.blockQ != 0);
  for (int64_t f : {a.batch, a.heads})
    if (programs <= INT_MAX && f <= INT_MAX)
      programs *= f;
    else
      programs = int64_t(INT_MAX) + 1;
  if (programs > INT_MAX)
    return "batch * heads * ceil(seqlen_q / " + std::to_string(k.blockQ) +
           ") exceeds one launch's 2^31 - 1 programs (split the batch)";

  struct Named {
    const char *name;
    const void *ptr;
    const int64_t *given;
    int64_t *used;
    int64_t heads, seq, dim;
  } tensors[] = {
      {"q", a.q, a.q_stride, p.q_stride, a.heads, a.seqlen_q, s.headDimQK},
      {"k", a.k, a.k_stride, p.k_stride, a.kv_heads, a.seqlen_k, s.headDimQK},
      {"v", a.v, a.v_stride, p.v_stride, a.kv_heads, a.seqlen_k, s.headDimV},
      {"o", a.o, a.o_stride, p.o_stride, a.heads, a.seqlen_q, s.headDimV}};
  for (Named &t : tensors) {
    if (allZero(t.given, 3))
      packedStrides(s.layout, t.heads, t.seq, t.dim, t.used);
    for (int i = 0; i < 3; ++i) {
      if (t.used[i] < 0)
        return std::string(t.name) + " strides must be non-negative";
      // 16-byte chunks: every row must start 16-byte aligned.
      if (t.used[i] % 8 != 0)
        return std::string(t.name) + " stride " + std::to_string(i) + " (" +
               std::to_string(t.used[i]) +
               " elements) must be a multiple of 8 elements (16 bytes)";
    }
    if (reinterpret_cast<uintptr_t>(t.ptr) % 16 != 0)
      return std::string(t.name) + " must be 16-byte aligned";
    if (t.seq > 1 && t.used[2] < t.dim)
      return std::string(t.name) + " sequence stride (" +
             std::to_string(t.used[2]) + ") is smaller than the head dim (" +
             std::to_string(t.dim) + "): rows would overlap";
  }
  if (a.lse) {
    if (allZero(a.lse_stride, 2)) {
      p.lse_stride[0] = a.heads * a.seqlen_q;
      p.lse_stride[1] = a.seqlen_q;
    }
    if (p.lse_stride[0] < 0 || p.lse_stride[1] < 0)
      return "lse strides must be non-negative";
    if (reinterpret_cast<uintptr_t>(a.lse) % 4 != 0)
      return "lse must be 4-byte aligned";
  }
  return "";
}

namespace {
/// "a, b, c" (or "none"): for error messages only, never on a launch that
/// succeeds.
template <typename Decls> std::string declaredNames(const Decls &decls) {
  std::string names;
  for (const auto &d : decls)
    names += (names.empty() ? "" : ", ") + d.name;
  return names.empty() ? "none" : names;
}
} // namespace

std::string resolveParams(const spec::AttentionSpec &s,
                          const faopt_forward_args &a,
                          llvm::SmallVectorImpl<ScalarArg> &out) {
  out.clear();
  if (a.num_params < 0 || (a.num_params > 0 && !a.params))
    return "params must point to num_params (>= 0) values";
  llvm::SmallVector<bool, 8> given(s.params.size(), false);
  llvm::SmallVector<double, 8> values(s.params.size(), 0.0);
  for (int i = 0; i < a.num_params; ++i) {
    const faopt_param_value &pv = a.params[i];
    llvm::StringRef name = pv.name ? pv.name : "";
    size_t j = 0;
    while (j < s.params.size() && s.params[j].name != name)
      ++j;
    if (j == s.params.size())
      return "unknown parameter '" + name.str() + "' (the spec declares: " +
             declaredNames(s.params) + ")";
    if (given[j])
      return "parameter '" + name.str() + "' given twice";
    if (!std::isfinite(pv.value) ||
        (s.params[j].type == spec::ExprType::Int &&
         (pv.value != std::floor(pv.value) || std::fabs(pv.value) > 9.0e15)))
      return "parameter '" + name.str() + "' is " +
             (s.params[j].type == spec::ExprType::Int ? "an int" : "a float") +
             ", got " + std::to_string(pv.value);
    given[j] = true;
    values[j] = pv.value;
  }
  std::vector<double> resolved(s.params.size());
  for (size_t j = 0; j < s.params.size(); ++j) {
    if (!given[j] && !s.params[j].hasDefault)
      return "parameter '" + s.params[j].name +
             "' has no default in the spec: pass its value";
    double x = given[j] ? values[j] : s.params[j].defaultValue;
    resolved[j] = x;
    ScalarArg arg;
    if (s.params[j].type == spec::ExprType::Int)
      arg.i = static_cast<int64_t>(x);
    else
      arg.f = static_cast<float>(x);
    out.push_back(arg);
  }
  return spec::zeroDivisorError(s, resolved, a.seqlen_q, a.seqlen_k);
}

std::string resolveTensors(const spec::AttentionSpec &s,
                           const faopt_forward_args &a,
                           llvm::ArrayRef<CUdeviceptr> staticData,
                           llvm::SmallVectorImpl<TensorWords> &out) {
  out.assign(s.tensors.size(), TensorWords());
  if (a.num_tensors < 0 || (a.num_tensors > 0 && !a.tensors))
    return "tensors must point to num_tensors (>= 0) values";
  spec::LaunchSizes launch{a.batch, a.heads, a.kv_heads, a.seqlen_q,
                           a.seqlen_k};
  for (int i = 0; i < a.num_tensors; ++i) {
    const faopt_tensor_value &tv = a.tensors[i];
    llvm::StringRef name = tv.name ? tv.name : "";
    size_t j = 0;
    while (j < s.tensors.size() && s.tensors[j].name != name)
      ++j;
    if (j == s.tensors.size())
      return "unknown tensor '" + name.str() + "' (the spec declares: " +
             declaredNames(s.tensors) + ")";
    if (s.tensors[j].isStatic())
      return "tensor '" + name.str() + "' is part of the spec (a static "
             "layout): do not pass it";
    if (!out[j].empty())
      return "tensor '" + name.str() + "' given twice";
    const spec::TensorDecl &d = s.tensors[j];
    std::vector<int64_t> want;
    std::string why = spec::expectedTensorSizes(d, launch, want);
    if (!why.empty())
      return why;
    int rank = static_cast<int>(want.size());
    for (int k = 0; k < rank; ++k)
      if (tv.sizes[k] != want[k]) {
        std::string shape, got;
        for (int m = 0; m < rank; ++m) {
          shape += (m ? ", " : "") + d.dims[m] + " = " + std::to_string(want[m]);
          got += (m ? ", " : "") + std::to_string(tv.sizes[m]);
        }
        return "tensor '" + name.str() + "' must have sizes [" + shape +
               "], got [" + got + "]";
      }
    if (!tv.data)
      return "tensor '" + name.str() + "' must be a non-NULL device pointer";
    if (reinterpret_cast<uintptr_t>(tv.data) % 4 != 0)
      return "tensor '" + name.str() + "' must be 4-byte aligned";
    bool packed = allZero(tv.strides, rank);
    for (int k = 0; k < rank && !packed; ++k)
      if (tv.strides[k] < 0)
        return "tensor '" + name.str() + "' strides must be non-negative";
    // {data, sizes..., strides...}; packed strides are row-major.
    TensorWords &w = out[j];
    w.assign(1 + 2 * rank, 0);
    w[0] = static_cast<int64_t>(reinterpret_cast<uintptr_t>(tv.data));
    int64_t stride = 1;
    for (int k = rank - 1; k >= 0; --k) {
      w[1 + k] = want[k];
      w[1 + rank + k] = packed ? stride : tv.strides[k];
      stride *= want[k];
    }
  }
  for (size_t j = 0; j < s.tensors.size(); ++j) {
    const spec::TensorDecl &d = s.tensors[j];
    if (d.isStatic()) {
      std::vector<int64_t> want;
      std::string why = spec::expectedTensorSizes(d, launch, want);
      if (why.empty())
        why = spec::staticTensorFits(d, want);
      if (!why.empty())
        return why;
      // (Without a device nothing was uploaded: the launch stops at the
      // no-device check.)
      int rank = static_cast<int>(want.size());
      TensorWords &w = out[j];
      w.assign(1 + 2 * rank, 0);
      w[0] = j < staticData.size() ? static_cast<int64_t>(staticData[j]) : 0;
      int64_t stride = 1;
      for (int k = rank - 1; k >= 0; --k) {
        w[1 + k] = want[k];
        w[1 + rank + k] = stride;
        stride *= want[k];
      }
    } else if (out[j].empty()) {
      return "tensor '" + d.name + "' is missing (the spec declares: " +
             declaredNames(s.tensors) + ")";
    }
  }
  return "";
}

faopt_status packLaunch(const faopt_kernel &k, const faopt_forward_args &a,
                        const char *who, PackedLaunch &l) {
  std::string why = validateForward(k, a, l.args);
  if (why.empty())
    why = resolveParams(k.spec, a, l.scalars);
  if (why.empty())
    why = resolveTensors(k.spec, a, k.staticTensors, l.tensors);
  const faopt_forward_args &p = l.args;
  if (why.empty() && a.block_lists) {
    const faopt_block_lists &b = *a.block_lists;
    if (!k.listBuilder && k.listBuilderName.empty())
      why = "block_lists given, but this kernel's mask reads no tensor (it "
            "has no lists)";
    else if (b.kernel != &k)
      why = "block_lists were built for another kernel";
    else if (b.batch != p.batch || b.heads != p.heads ||
             b.seqlenQ != p.seqlen_q || b.seqlenK != p.seqlen_k)
      why = "block_lists were built for batch " + std::to_string(b.batch) +
            ", heads " + std::to_string(b.heads) + ", seqlen_q " +
            std::to_string(b.seqlenQ) + ", seqlen_k " +
            std::to_string(b.seqlenK) + "; this launch has " +
            std::to_string(p.batch) + ", " + std::to_string(p.heads) + ", " +
            std::to_string(p.seqlen_q) + ", " + std::to_string(p.seqlen_k);
  }
  if (!why.empty())
    return fail(FAOPT_ERROR_INVALID_ARGUMENT, std::string(who) + ": " + why);
  const faopt_context &ctx = *k.context;
  if (!ctx.noDevice.empty())
    return fail(FAOPT_ERROR_NO_DEVICE, ctx.noDevice);
  l.empty = p.batch == 0 || p.seqlen_q == 0;
  if (l.empty)
    return FAOPT_SUCCESS;

  const Driver &d = driver();
  CUcontext current = nullptr;
  d.ctxGetCurrent(&current);
  if (current != ctx.cuContext)
    if (CUresult r = d.ctxSetCurrent(ctx.cuContext); r != CUDA_SUCCESS)
      return fail(FAOPT_ERROR_CUDA, d.describe("cuCtxSetCurrent", r));

  const spec::AttentionSpec &s = k.spec;
  auto make4 = [](const void *ptr, int64_t b, int64_t h, int64_t seq,
                  int64_t dim, const int64_t *st) {
    return TensorArg<4>{ptr, {b, h, seq, dim}, {st[0], st[1], st[2], 1}};
  };
  l.q = make4(p.q, p.batch, p.heads, p.seqlen_q, s.headDimQK, p.q_stride);
  l.k = make4(p.k, p.batch, p.kv_heads, p.seqlen_k, s.headDimQK, p.k_stride);
  l.v = make4(p.v, p.batch, p.kv_heads, p.seqlen_k, s.headDimV, p.v_stride);
  l.o = make4(p.o, p.batch, p.heads, p.seqlen_q, s.headDimV, p.o_stride);
  l.lse = TensorArg<3>{p.lse,
                       {p.batch, p.heads, p.seqlen_q},
                       {p.lse_stride[0], p.lse_stride[1], 1}};
  l.params = {&l.q, &l.k, &l.v, &l.o};
  if (s.lse)
    l.params.push_back(&l.lse);
  for (ScalarArg &arg : l.scalars)
    l.params.push_back(&arg);
  for (TensorWords &w : l.tensors)
    l.params.push_back(w.data());
  // The lists (kernels with a list builder): packed row-major.
  l.listsShape = blockListsShape(k.listsPerBatch, k.listsPerHead, k.blockQ,
                                 k.blockKv, p.batch, p.heads, p.seqlen_q,
                                 p.seqlen_k, k.keyRangeRows);
  int64_t stride = 1;
  for (int i = 3; i >= 0; --i) {
    l.lists.size[i] = l.listsShape.sizes[i];
    l.lists.stride[i] = stride;
    stride *= l.listsShape.sizes[i];
  }
  return FAOPT_SUCCESS;
}

faopt_status packTensorMaps(const faopt_kernel &k, PackedLaunch &l) {
  if (k.tmaBoxRows[0] == 0)
    return FAOPT_SUCCESS;
  const Driver &d = driver();
  const TensorArg<4> *views[4] = {&l.q, &l.k, &l.v, &l.o};
  const char *names[4] = {"q", "k", "v", "o"};
  l.mapCount = k.tmaBoxRows[3] != 0 ? 4 : 3;
  for (int i = 0; i < l.mapCount; ++i) {
    const TensorArg<4> &t = *views[i];
    // TMA needs a 16-byte-aligned base and strides in multiples of 16
    // bytes: validateForward already rejected every other view.
    const int64_t elem = 2;
    // Empty dimensions become 1: such tiles are never read (the kernel asks
    // for rows at or past the end, which TMA fills with zeros).
    cuuint64_t dims[4] = {static_cast<cuuint64_t>(t.size[3]),
                          static_cast<cuuint64_t>(std::max<int64_t>(t.size[2], 1)),
                          static_cast<cuuint64_t>(std::max<int64_t>(t.size[1], 1)),
                          static_cast<cuuint64_t>(std::max<int64_t>(t.size[0], 1))};
    cuuint64_t strides[3] = {static_cast<cuuint64_t>(t.stride[2] * elem),
                             static_cast<cuuint64_t>(t.stride[1] * elem),
                             static_cast<cuuint64_t>(t.stride[0] * elem)};
    for (cuuint64_t &st : strides) // a stride of an extent-1 dim may be 0
      st = std::max<cuuint64_t>(st, 16);
    cuuint32_t box[4] = {64, static_cast<cuuint32_t>(k.tmaBoxRows[i]), 1, 1};
    cuuint32_t elementStrides[4] = {1, 1, 1, 1};
    CUtensorMapDataType type = k.spec.dtype == spec::ElementType::BF16
                                   ? CU_TENSOR_MAP_DATA_TYPE_BFLOAT16
                                   : CU_TENSOR_MAP_DATA_TYPE_FLOAT16;
    CUresult r = d.tensorMapEncodeTiled(
        &l.maps[i], type, 4, const_cast<void *>(t.data), dims, strides, box,
        elementStrides, CU_TENSOR_MAP_INTERLEAVE_NONE,
        CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
        CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
    if (r != CUDA_SUCCESS)
      return fail(FAOPT_ERROR_CUDA,
                  d.describe((std::string("cuTensorMapEncodeTiled(") +
                              names[i] + ")").c_str(),
                             r));
  }
  return FAOPT_SUCCESS;
}

CUresult launchGrid(CUfunction f, unsigned grid, unsigned threads,
                    unsigned sharedBytes, CUstream stream, void **params,
                    bool dependent, const char *&what) {
  const Driver &d = driver();
  if (!dependent || !d.launchKernelEx) {
    what = "cuLaunchKernel";
    return d.launchKernel(f, grid, 1, 1, threads, 1, 1, sharedBytes, stream,
                          params, nullptr);
  }
  what = "cuLaunchKernelEx (programmatic dependent launch)";
  CUlaunchAttribute overlap{};
  overlap.id = CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION;
  overlap.value.programmaticStreamSerializationAllowed = 1;
  CUlaunchConfig config{};
  config.gridDimX = grid;
  config.gridDimY = config.gridDimZ = 1;
  config.blockDimX = threads;
  config.blockDimY = config.blockDimZ = 1;
  config.sharedMemBytes = sharedBytes;
  config.hStream = stream;
  config.attrs = &overlap;
  config.numAttrs = 1;
  return d.launchKernelEx(&config, f, params, nullptr);
}

} // namespace faopt::rt

extern "C" {

void faopt_forward_args_init(faopt_forward_args *a) {
  if (a)
    *a = faopt_forward_args{};
}

faopt_status faopt_forward(const faopt_kernel *kernel,
                           const faopt_forward_args *a, void *stream) {
  if (!kernel || !a)
    return fail(FAOPT_ERROR_INVALID_ARGUMENT,
                "faopt_forward: kernel and args must not be NULL");
  faopt::rt::PackedLaunch l;
  if (faopt_status st = faopt::rt::packLaunch(*kernel, *a, "faopt_forward", l);
      st != FAOPT_SUCCESS || l.empty)
    return st;
  // A valid launch, of the kernel or of its short-row form: the same spec,
  // arguments and launch shape, different code inside (runtime/ShortRows.cpp).
  const faopt_kernel *k = &faopt::rt::kernelForLaunch(*kernel, *a);
  const faopt::rt::Driver &d = faopt::rt::driver();
  CUstream cuStream = static_cast<CUstream>(stream);
  const faopt_forward_args &p = l.args;
  if (faopt_status st = faopt::rt::packTensorMaps(*k, l); st != FAOPT_SUCCESS)
    return st;

  // One stream-ordered workspace for this launch: where programs are handed
  // out at run time, their counter first (16 bytes, zeroed by the list
  // builder where it runs and takes it, else by a memset before the
  // kernel); then, unless the caller built them (faopt_block_lists_build),
  // the kv-block lists the builder writes.
  const size_t counterBytes = k->programCounter ? 16 : 0;
  const bool buildLists = k->listBuilder && !a->block_lists;
  const size_t bytes =
      counterBytes +
      (buildLists ? static_cast<size_t>(l.listsShape.elements()) * sizeof(int32_t)
                  : 0);
  CUdeviceptr workspace = 0;
  bool afterBuilder = false;
  if (bytes > 0) {
    CUmemoryPool pool = nullptr;
    if (CUresult r = listsPool(*k->context, pool); r != CUDA_SUCCESS)
      return fail(FAOPT_ERROR_CUDA,
                  d.describe("cuMemPoolCreate(launch workspace)", r));
    if (CUresult r = d.memAllocFromPoolAsync(&workspace, bytes, pool, cuStream);
        r != CUDA_SUCCESS)
      return fail(FAOPT_ERROR_CUDA,
                  d.describe("cuMemAllocFromPoolAsync(launch workspace)", r) +
                      " (" + std::to_string(bytes) + " bytes)");
  }
  auto failFreeing = [&](faopt_status st) {
    d.memFreeAsync(workspace, cuStream);
    return st;
  };
  faopt::rt::TensorArg<1> counterArg{};
  // The builder zeroes the counter (attn-builder-resets-counter): one stream
  // operation fewer between the previous kernel and the builder.
  const bool builderZeroes =
      counterBytes && buildLists && k->builderResetsCounter;
  if (counterBytes) {
    if (!builderZeroes || k->counterMemset)
      if (CUresult r = d.memsetD32Async(workspace, 0, 1, cuStream);
          r != CUDA_SUCCESS)
        return failFreeing(fail(
            FAOPT_ERROR_CUDA,
            d.describe("cuMemsetD32Async(program counter)", r)));
    counterArg = {reinterpret_cast<const void *>(workspace), {1}, {1}};
  }
  if (k->listBuilder && a->block_lists) {
    l.lists.data = reinterpret_cast<const void *>(a->block_lists->data);
    l.params.push_back(&l.lists);
  } else if (buildLists) {
    if (faopt_status st = faopt::rt::launchListBuilder(
            *k, l, workspace + counterBytes,
            builderZeroes ? &counterArg : nullptr, cuStream);
        st != FAOPT_SUCCESS)
      return failFreeing(st);
    afterBuilder = true;
  }
  // After the lists (the builder takes them last, or the counter after
  // them: then it is in the list already).
  if (counterBytes && !builderZeroes)
    l.params.push_back(&counterArg);
  if (k->tmaBoxRows[0] != 0) // TMA kernels: the maps come last
    for (int i = 0; i < l.mapCount; ++i)
      l.params.push_back(&l.maps[i]);
  unsigned programs = static_cast<unsigned>(
      (p.seqlen_q + k->blockQ - 1) / k->blockQ * p.batch * p.heads);
  // A persistent kernel's CTAs (one per SM, as its shared memory allows)
  // take the programs in turn (attn-persistent-programs).
  if (k->persistent && k->context->persistentCtas > 0)
    programs = std::min(programs,
                        static_cast<unsigned>(k->context->persistentCtas));
  // Right after its list builder: the kernel may start while the builder
  // finishes (it waits for it before reading the lists, attn-await-list-
  // builder), overlapping its setup and first Q copy with the builder.
  const char *launch = nullptr;
  CUresult r = faopt::rt::launchGrid(
      k->function, programs, static_cast<unsigned>(k->threads),
      static_cast<unsigned>(k->sharedBytes), cuStream, l.params.data(),
      afterBuilder && k->dependentLaunch && k->context->dependentLaunch,
      launch);
  if (workspace)
    if (CUresult f = d.memFreeAsync(workspace, cuStream);
        f != CUDA_SUCCESS && r == CUDA_SUCCESS)
      return fail(FAOPT_ERROR_CUDA,
                  d.describe("cuMemFreeAsync(launch workspace)", f));
  if (r != CUDA_SUCCESS)
    return fail(FAOPT_ERROR_CUDA, d.describe(launch, r));
  return FAOPT_SUCCESS;
}

} // extern "C"
