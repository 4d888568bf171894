//===- Context.h - what faopt_context and faopt_kernel hold -----*- C++ -*-===//
#ifndef FAOPT_RUNTIME_CONTEXT_H
#define FAOPT_RUNTIME_CONTEXT_H

#include "compiler/pipeline/BlockListsAbi.h"
#include "compiler/pipeline/GpuCompiler.h"
#include "compiler/spec/Spec.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "faopt/faopt.h"
#include "runtime/Driver.h"
#include "runtime/KernelCache.h"

#include <atomic>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

/// A compiled (and, with a driver, loaded) kernel.
struct faopt_kernel {
  faopt::spec::AttentionSpec spec;
  std::string target, name, manifest;
  int threads = 0, blockQ = 0, blockKv = 0;
  int64_t sharedBytes = 0;
  int registers = -1, spillBytes = 0;
  int source = 0; // 0 compiled, 1 memory, 2 disk
  double compileSeconds = 0;
  faopt_context *context = nullptr;
  CUmodule module = nullptr;
  CUfunction function = nullptr;
  // Data-dependent masks: the kv-block list builder, launched first on the
  // same arguments plus the lists (compiler/pipeline/BlockListsAbi.h).
  std::string listBuilderName;
  CUfunction listBuilder = nullptr;
  int listBuilderThreads = 0;
  bool listsPerBatch = false, listsPerHead = false;
  int64_t keyRangeRows = 0; // list rows also hold kv ranges (BlockListsAbi.h)
  /// Per tensor declaration: the device copy of a static tensor's value
  /// (uploaded when the module is loaded), 0 for tensors given at launch.
  std::vector<CUdeviceptr> staticTensors;
  /// TMA kernels (manifest "tensor_maps"): box rows of the q, k, v (and,
  /// for persistent kernels, o) maps the launch builds and passes after
  /// every other parameter; 0: none.
  int tmaBoxRows[4] = {0, 0, 0, 0};
  /// Persistent kernel (manifest "persistent"): launch min(programs, SMs)
  /// CTAs; each runs programs until none are left.
  bool persistent = false;
  /// The kernel waits for its list builder itself (manifest
  /// block_list_builder.dependent_launch): launched right after the
  /// builder, it may start while the builder runs.
  bool dependentLaunch = false;
  /// Programs handed out at run time (manifest "program_counter"): the
  /// kernel takes a one-int32 counter after the lists, zero at each launch.
  bool programCounter = false;
  /// The builder waits for the grid launched before it (manifest
  /// block_list_builder.builder_dependent_launch), so its launch may
  /// overlap that grid's tail.
  bool builderDependentLaunch = false;
  /// The builder takes the kernel's program counter right after the lists
  /// and zeroes it (manifest block_list_builder.resets_program_counter): a launch
  /// that runs the builder needs no memset; one on prebuilt lists does, and
  /// faopt_block_lists_build hands the builder a null counter.
  bool builderResetsCounter = false;
  /// Zero the program counter with a memset even so: FAOPT_COUNTER_MEMSET=1
  /// (the context's counterMemset), or the kernel was compiled from a
  /// FAOPT_CUDA_OVERRIDE_DIR source, which may not zero it.
  bool counterMemset = false;
  /// Q's stage released inside the kv loop (manifest early_q_release),
  /// the staged O store's read wait paid after the next Q wait (manifest
  /// output_wait_at_next_q) and the kernel's K/V stages (manifest
  /// kv_stages).
  bool earlyQRelease = false;
  bool outputWaitAtNextQ = false;
  int kvStages = 0;
  /// The short-row form (runtime/ShortRows.cpp): the same spec compiled
  /// with Q released early, for launches whose seqlen_k is at most
  /// `maxSeqlenK`; compiled on the first such launch.
  struct ShortRows {
    bool eligible = false;
    int64_t maxSeqlenK = 0;
    faopt::GpuCompileOptions options; // the form's compile options
    std::once_flag once;
    // Null until compiled, or if that failed; read by faopt_kernel_info_get
    // while a launch may be compiling it.
    std::atomic<faopt_kernel *> kernel{nullptr};
  };
  mutable ShortRows shortRows;
};

struct faopt_context {
  int device = 0;
  std::string target;     // sm80 / sm90a
  std::string loadTarget; // "cubin" or "ptx": what the device can run
  CUcontext cuContext = nullptr;
  CUdevice cuDevice = 0;
  /// CTAs a persistent kernel launches at most: the SM count, or
  /// $FAOPT_PERSISTENT_CTAS (diagnosis), read once here; 0 if unknown.
  int persistentCtas = 0;
  /// Launch list-driven kernels and their list builders with programmatic
  /// dependent launch when they allow it, read once here from
  /// FAOPT_DEPENDENT_LAUNCH: 0 neither, `kernel` only the attention kernel
  /// after its builder (the builder in plain stream order, as before
  /// session 19; for comparisons).
  bool dependentLaunch = true;
  bool builderDependentLaunch = true;
  /// Zero a handed-out kernel's program counter with a memset even where
  /// its list builder does (FAOPT_COUNTER_MEMSET=1, read once here; for
  /// comparisons: what the memset costs, docs/performance.md item 73).
  bool counterMemset = false;
  /// Give fixed-schedule sm90a kernels a short-row form chosen per launch
  /// (FAOPT_SHORT_ROW_KERNEL, read once here: unset or 1 yes, 0 no).
  bool shortRowKernel = true;
  std::string noDevice; // non-empty: why kernels cannot launch
  std::unique_ptr<faopt::rt::DiskCache> disk;

  std::mutex mu;
  // The pool the kv-block lists come from (created on first use, under
  // `poolMu`): memory stays reserved between launches instead of being
  // mapped again after every synchronisation, as the device's default pool
  // would.
  std::mutex poolMu;
  CUmemoryPool listsPool = nullptr;
  // Fast path: the exact spec text seen before.
  std::unordered_map<std::string, faopt_kernel *> byText;
  // One entry per canonical key; later requests wait on the first.
  struct Pending {
    std::shared_future<faopt_kernel *> ready;
  };
  std::unordered_map<std::string, Pending> byKey;
  std::vector<std::unique_ptr<faopt_kernel>> kernels;
};

namespace faopt::rt {

/// Records `message` as this thread's last error and returns `status`.
faopt_status fail(faopt_status status, const std::string &message);

/// The kernel for `spec` compiled with `options`: from the context's
/// memory (one compile per cache key, concurrent requests wait for it),
/// the disk cache, or compiled now; loaded when the context has a device.
faopt_status obtainKernel(faopt_context &ctx, const spec::AttentionSpec &spec,
                          const GpuCompileOptions &options, faopt_kernel *&out);

/// The kernel a launch of `k` with these arguments runs: `k` itself, or
/// its short-row form (runtime/ShortRows.cpp), compiled on first use.
const faopt_kernel &kernelForLaunch(const faopt_kernel &k,
                                    const faopt_forward_args &a);

/// Whether `k`, compiled with `options` in `ctx`, gets a short-row form;
/// sets k.shortRows (called once, when the kernel is made).
void planShortRows(const faopt_context &ctx, const GpuCompileOptions &options,
                   faopt_kernel &k);

/// Checks the launch against the kernel's spec; "" when it may launch.
/// `packed` receives the strides actually used (defaults filled in).
std::string validateForward(const faopt_kernel &k, const faopt_forward_args &a,
                            faopt_forward_args &packed);
/// A run-time parameter as the kernel takes it, by value: int64_t for int
/// parameters, float for float ones (the slot's address is the argument).
union ScalarArg {
  int64_t i;
  float f;
};
/// A tensor input as the kernel takes it: faopt::Tensor<T, rank>, i.e.
/// {data, size[rank], stride[rank]} as 64-bit words.
using TensorWords = llvm::SmallVector<int64_t, 9>;

/// The parameters of a launch in declaration order (given ones, then
/// defaults); "" when every parameter has a value of its kind.
std::string resolveParams(const spec::AttentionSpec &s,
                          const faopt_forward_args &a,
                          llvm::SmallVectorImpl<ScalarArg> &out);

/// The tensor inputs of a launch in declaration order; "" when every one is
/// given once, with the declared sizes, non-null and aligned. Static
/// tensors (spec values, at `staticData[i]` on the device) must not be
/// given; their value must fit the launch.
std::string resolveTensors(const spec::AttentionSpec &s,
                           const faopt_forward_args &a,
                           llvm::ArrayRef<CUdeviceptr> staticData,
                           llvm::SmallVectorImpl<TensorWords> &out);

/// The argument layout of faopt::Tensor<T, Rank> in faopt_sm80.cuh.
template <int Rank> struct TensorArg {
  const void *data;
  int64_t size[Rank];
  int64_t stride[Rank];
};

/// A validated launch with its kernel arguments packed: q, k, v, o, [lse],
/// the parameters by value, the tensor inputs and, for kernels with a list
/// builder, the lists last (`lists`, filled in by the caller). `params`
/// points into the object itself: it is neither copied nor moved.
struct PackedLaunch {
  faopt_forward_args args; // as given, default strides filled in
  llvm::SmallVector<ScalarArg, 4> scalars;
  llvm::SmallVector<TensorWords, 2> tensors;
  TensorArg<4> q, k, v, o, lists;
  TensorArg<3> lse;
  CUtensorMap maps[4]; // q, k, v, [o]: TMA kernels only
  int mapCount = 0;
  llvm::SmallVector<void *, 12> params;
  BlockListsShape listsShape; // for kernels with a list builder
  bool empty = false;         // nothing to compute (batch or seqlen_q is 0)

  PackedLaunch() = default;
  PackedLaunch(const PackedLaunch &) = delete;
  PackedLaunch &operator=(const PackedLaunch &) = delete;
};

/// Validates `a` for `k` (messages prefixed with `who`), makes the kernel's
/// CUDA context current and packs the arguments into `out`.
faopt_status packLaunch(const faopt_kernel &k, const faopt_forward_args &a,
                        const char *who, PackedLaunch &out);

/// TMA kernels: builds the tensor maps of q, k, v (and o for persistent
/// kernels) into `l.maps` (after packLaunch, whose checks already make the
/// views TMA-compatible); they go after every other parameter.
faopt_status packTensorMaps(const faopt_kernel &k, PackedLaunch &l);

/// Launches `f` on a 1-D grid; with `dependent`, by programmatic dependent
/// launch (cuLaunchKernelEx), so it may start before the kernel ahead of it
/// in `stream` ends. Only for kernels that wait (griddepcontrol.wait)
/// before touching anything that kernel may write, or whose earlier reads
/// are safe because that kernel lets it start only after its own wait (the
/// attention kernel loads Q before waiting for its list builder, which
/// triggers after waiting for its predecessor). `what` names the call made,
/// for messages.
CUresult launchGrid(CUfunction f, unsigned grid, unsigned threads,
                    unsigned sharedBytes, CUstream stream, void **params,
                    bool dependent, const char *&what);

/// Points `l`'s lists argument at `data` (device memory of
/// l.listsShape) and launches the list builder of `k` on `stream` (by
/// programmatic dependent launch where the builder allows it). A builder
/// that zeroes the kernel's program counter (k.builderResetsCounter) gets
/// `counter` after the lists, or a null one (then it writes nothing);
/// `counter` must outlive the launch call.
faopt_status launchListBuilder(const faopt_kernel &k, PackedLaunch &l,
                               CUdeviceptr data, const TensorArg<1> *counter,
                               CUstream stream);

} // namespace faopt::rt

/// Kv-block lists built once for several launches (faopt_block_lists_build).
struct faopt_block_lists {
  const faopt_kernel *kernel = nullptr;
  int64_t batch = 0, heads = 0, seqlenQ = 0, seqlenK = 0;
  CUdeviceptr data = 0;
};

#endif // FAOPT_RUNTIME_CONTEXT_H
