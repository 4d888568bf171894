//===- CpuRunner.cpp - compile a spec for the CPU and run it --------------===//
#include "compiler/targets/cpu/CpuRunner.h"

#include "compiler/pipeline/BlockListsAbi.h"
#include "compiler/pipeline/Pipeline.h"
#include "dialects/attn/AttnOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "compiler/spec/SpecToMLIR.h"
#include "mlir/ExecutionEngine/CRunnerUtils.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include <cmath>
#include <string>
#include <vector>
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "llvm/Support/TargetSelect.h"
#include <mutex>

using namespace mlir;

namespace faopt::cpu {

CpuKernel::~CpuKernel() = default;

namespace {
llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// Element types only matter to the generated code; the descriptor layout is
/// the same for every element type.
template <int N>
StridedMemRefType<char, N> descriptor(const HostTensor &t) {
  StridedMemRefType<char, N> d;
  d.basePtr = d.data = static_cast<char *>(t.data);
  d.offset = 0;
  for (int i = 0; i < N; ++i) {
    d.sizes[i] = t.sizes[i];
    d.strides[i] = t.strides[i];
  }
  return d;
}
} // namespace

llvm::Expected<std::unique_ptr<CpuKernel>>
CpuKernel::compile(const spec::AttentionSpec &spec, int64_t blockQ,
                   int64_t blockKv) {
  static std::once_flag nativeInit;
  std::call_once(nativeInit, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });

  DialectRegistry registry;
  registerPipelineDialects(registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  MLIRContext context(registry);
  context.disableMultithreading();
  std::string diagnostics;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &d) {
    llvm::raw_string_ostream os(diagnostics);
    os << d.getLocation() << ": " << d << "\n";
    return success();
  });

  OwningOpRef<ModuleOp> module = spec::buildModule(context, spec, spec.name);
  PipelineOptions options;
  options.target = "cpu";
  options.blockQ = blockQ;
  options.blockKv = blockKv;
  if (failed(runPipeline(*module, options, Stage::Lowered)))
    return makeError("CPU pipeline failed:\n" + diagnostics);

  // The kernel's C interface keeps the facts the launch needs: tiles, and
  // whether a list builder runs first (and how its rows are laid out).
  std::unique_ptr<CpuKernel> kernel(new CpuKernel());
  bool hasLists = false;
  module->walk([&](LLVM::LLVMFuncOp fn) {
    if (fn.getSymName() != "_mlir_ciface_" + spec.name)
      return;
    if (auto tiling = fn->getAttrOfType<attn::TilingAttr>("attn.tiling")) {
      kernel->blockQ_ = tiling.getBlockQ();
      kernel->blockKv_ = tiling.getBlockKv();
    }
    for (unsigned i = 0; i < fn.getNumArguments(); ++i)
      if (auto rows = fn.getArgAttrOfType<DictionaryAttr>(i, "attn.block_lists")) {
        hasLists = true;
        kernel->listsPerBatch_ = rows.getAs<BoolAttr>("per_batch").getValue();
        kernel->listsPerHead_ = rows.getAs<BoolAttr>("per_head").getValue();
      }
  });

  ExecutionEngineOptions engineOptions;
  engineOptions.jitCodeGenOptLevel = llvm::CodeGenOptLevel::Default;
  auto engine = ExecutionEngine::create(*module, engineOptions);
  if (!engine)
    return engine.takeError();
  (*engine)->initialize();
  auto entry = (*engine)->lookupPacked("_mlir_ciface_" + spec.name);
  if (!entry)
    return entry.takeError();
  if (hasLists) {
    auto build = (*engine)->lookupPacked("_mlir_ciface_" + spec.name +
                                         "_block_lists");
    if (!build)
      return build.takeError();
    kernel->buildLists_ = *build;
  }
  kernel->spec_ = spec;
  for (const spec::TensorDecl &d : spec.tensors)
    kernel->staticData_.emplace_back(d.value.begin(), d.value.end());
  kernel->engine_ = std::move(*engine);
  kernel->entry_ = *entry;
  return kernel;
}

llvm::Error CpuKernel::run(const HostTensor &q, const HostTensor &k,
                           const HostTensor &v, const HostTensor &o,
                           const HostTensor *lse,
                           llvm::ArrayRef<double> params,
                           llvm::ArrayRef<HostTensor> tensors) const {
  // Shapes: [b, h, s, d] with k/v sharing kv heads and seqlen_k.
  auto check = [](bool ok, const llvm::Twine &what) {
    return ok ? llvm::Error::success() : makeError(what);
  };
  for (const HostTensor *t : {&q, &k, &v, &o}) {
    if (!t->data || t->rank != 4)
      return makeError("q, k, v and o must be non-null rank-4 tensors");
    if (t->strides[3] != 1)
      return makeError("the head dimension must be contiguous (stride 1)");
    for (int i = 0; i < 4; ++i)
      if (t->sizes[i] < 0)
        return makeError("sizes must be non-negative");
  }
  if (auto e = check(q.sizes[3] == spec_.headDimQK && k.sizes[3] == spec_.headDimQK,
                     "q and k head dim must be " +
                         llvm::Twine(spec_.headDimQK)))
    return e;
  if (auto e = check(v.sizes[3] == spec_.headDimV && o.sizes[3] == spec_.headDimV,
                     "v and o head dim must be " + llvm::Twine(spec_.headDimV)))
    return e;
  if (auto e = check(k.sizes[0] == q.sizes[0] && v.sizes[0] == q.sizes[0] &&
                         o.sizes[0] == q.sizes[0],
                     "batch sizes differ"))
    return e;
  if (auto e = check(v.sizes[1] == k.sizes[1] && v.sizes[2] == k.sizes[2],
                     "k and v must share kv_heads and seqlen_k"))
    return e;
  if (auto e = check(k.sizes[1] > 0 && q.sizes[1] % k.sizes[1] == 0,
                     "kv_heads must be positive and divide heads"))
    return e;
  if (auto e = check(o.sizes[1] == q.sizes[1] && o.sizes[2] == q.sizes[2],
                     "o must match q's heads and seqlen_q"))
    return e;
  if (spec_.heads && q.sizes[1] != *spec_.heads)
    return makeError("the spec pins heads = " + llvm::Twine(*spec_.heads));
  if (spec_.kvHeads && k.sizes[1] != *spec_.kvHeads)
    return makeError("the spec pins kv_heads = " + llvm::Twine(*spec_.kvHeads));
  if (static_cast<bool>(lse) != spec_.lse)
    return makeError(spec_.lse ? "the spec returns lse: pass an lse tensor"
                               : "the spec has no lse output");
  if (lse && (lse->rank != 3 || !lse->data || lse->sizes[0] != q.sizes[0] ||
              lse->sizes[1] != q.sizes[1] || lse->sizes[2] != q.sizes[2] ||
              lse->strides[2] != 1))
    return makeError("lse must be a contiguous-row [batch, heads, seqlen_q] "
                     "tensor");

  // Run-time parameters: int ones as int64 (index), float ones as f32.
  const auto &decls = spec_.params;
  if (params.size() > decls.size())
    return makeError("the spec declares " + llvm::Twine(decls.size()) +
                     " parameter(s), got " + llvm::Twine(params.size()));
  std::vector<int64_t> ints(decls.size());
  std::vector<float> floats(decls.size());
  std::vector<double> resolved(decls.size());
  for (size_t i = 0; i < decls.size(); ++i) {
    if (i >= params.size() && !decls[i].hasDefault)
      return makeError("parameter '" + decls[i].name +
                       "' has no default: give its value");
    double x = i < params.size() ? params[i] : decls[i].defaultValue;
    resolved[i] = x;
    if (decls[i].type == spec::ExprType::Int) {
      if (x != std::floor(x))
        return makeError("parameter '" + decls[i].name + "' is an int, got " +
                         llvm::Twine(std::to_string(x)));
      ints[i] = static_cast<int64_t>(x);
    } else {
      floats[i] = static_cast<float>(x);
    }
  }

  // A divisor of 0 would trap in the compiled code (SIGFPE).
  if (std::string why = spec::zeroDivisorError(spec_, resolved, q.sizes[2],
                                               k.sizes[2]);
      !why.empty())
    return makeError(why);

  // Tensor inputs: sizes as the spec declares them for this launch. Static
  // ones (a block layout in the spec) come from the spec, not the caller.
  size_t runTime = 0;
  for (const spec::TensorDecl &d : spec_.tensors)
    runTime += !d.isStatic();
  if (tensors.size() != runTime)
    return makeError("the spec declares " + llvm::Twine(runTime) +
                     " tensor input(s) given at launch, got " +
                     llvm::Twine(tensors.size()));
  spec::LaunchSizes launch{q.sizes[0], q.sizes[1], k.sizes[1], q.sizes[2],
                           k.sizes[2]};
  // Memref descriptors of the exact rank: {base, data, offset, sizes[r],
  // strides[r]} as 64-bit words.
  std::vector<std::vector<int64_t>> tensorDescs;
  size_t given = 0;
  for (size_t i = 0; i < spec_.tensors.size(); ++i) {
    const spec::TensorDecl &decl = spec_.tensors[i];
    std::vector<int64_t> want;
    std::string why = spec::expectedTensorSizes(decl, launch, want);
    if (why.empty() && decl.isStatic())
      why = spec::staticTensorFits(decl, want);
    if (!why.empty())
      return makeError(why);
    HostTensor t;
    if (decl.isStatic()) {
      t.data = const_cast<int32_t *>(staticData_[i].data());
      t.rank = static_cast<int>(want.size());
      int64_t stride = 1;
      for (int d = t.rank - 1; d >= 0; --d) {
        t.sizes[d] = want[d];
        t.strides[d] = stride;
        stride *= want[d];
      }
    } else {
      t = tensors[given++];
    }
    bool ok = t.data && t.rank == static_cast<int>(want.size());
    for (size_t d = 0; ok && d < want.size(); ++d)
      ok = t.sizes[d] == want[d] && t.strides[d] >= 0;
    if (!ok)
      return makeError("tensor '" + decl.name + "' must be non-null with the "
                       "declared sizes");
    std::vector<int64_t> words{reinterpret_cast<int64_t>(t.data),
                               reinterpret_cast<int64_t>(t.data), 0};
    for (int d = 0; d < t.rank; ++d)
      words.push_back(t.sizes[d]);
    for (int d = 0; d < t.rank; ++d)
      words.push_back(t.strides[d]);
    tensorDescs.push_back(std::move(words));
  }
  std::vector<void *> tensorPtrs;
  for (auto &w : tensorDescs)
    tensorPtrs.push_back(w.data());

  auto dq = descriptor<4>(q), dk = descriptor<4>(k), dv = descriptor<4>(v),
       dout = descriptor<4>(o);
  StridedMemRefType<char, 3> dl;
  if (lse)
    dl = descriptor<3>(*lse);
  void *pq = &dq, *pk = &dk, *pv = &dv, *po = &dout, *pl = &dl;
  std::vector<void *> args{&pq, &pk, &pv, &po};
  if (lse)
    args.push_back(&pl);
  for (size_t i = 0; i < decls.size(); ++i)
    args.push_back(decls[i].type == spec::ExprType::Int
                       ? static_cast<void *>(&ints[i])
                       : static_cast<void *>(&floats[i]));
  for (void *&p : tensorPtrs)
    args.push_back(&p);
  // Data-dependent masks: build the kv-block lists, then attend with them.
  std::vector<int32_t> lists;
  StridedMemRefType<int32_t, 4> listsDesc;
  void *pLists = &listsDesc;
  if (buildLists_) {
    BlockListsShape shape =
        blockListsShape(listsPerBatch_, listsPerHead_, blockQ_, blockKv_,
                        q.sizes[0], q.sizes[1], q.sizes[2], k.sizes[2]);
    lists.assign(shape.elements(), -1);
    listsDesc.basePtr = listsDesc.data = lists.data();
    listsDesc.offset = 0;
    int64_t stride = 1;
    for (int d = 3; d >= 0; --d) {
      listsDesc.sizes[d] = shape.sizes[d];
      listsDesc.strides[d] = stride;
      stride *= shape.sizes[d];
    }
    args.push_back(&pLists);
    buildLists_(args.data());
  }
  entry_(args.data());
  return llvm::Error::success();
}

} // namespace faopt::cpu
