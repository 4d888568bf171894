//===- BlockLists.cpp - kv-block lists: per launch, or built once ---------===//
//
// A kernel whose mask reads tensors comes with a list builder (the
// manifest's "block_list_builder"). faopt_forward runs it before every
// launch; faopt_block_lists_build runs it once into memory the returned
// handle owns, for launches that share sizes and tensor contents (every
// layer of a model with the same documents or block layout).
//
//===----------------------------------------------------------------------===//
#include "runtime/Context.h"

using faopt::rt::fail;

namespace faopt::rt {

faopt_status launchListBuilder(const faopt_kernel &k, PackedLaunch &l,
                               CUdeviceptr data, const TensorArg<1> *counter,
                               CUstream stream) {
  const Driver &d = driver();
  l.lists.data = reinterpret_cast<const void *>(data);
  l.params.push_back(&l.lists);
  // A builder that zeroes its kernel's program counter takes it after the
  // lists: the launch's, or a null one when it runs on its own.
  static const TensorArg<1> kNoCounter{nullptr, {1}, {1}};
  if (k.builderResetsCounter)
    l.params.push_back(const_cast<TensorArg<1> *>(counter ? counter : &kNoCounter));
  const BlockListsShape &shape = l.listsShape;
  unsigned rows =
      static_cast<unsigned>(shape.sizes[0] * shape.sizes[1] * shape.sizes[2]);
  // A builder that waits for its predecessor (sm90a) may start as soon as
  // that kernel lets it: as its CTAs exit, or earlier where the kernel runs
  // griddepcontrol.launch_dependents (faopt's attention kernels do not;
  // measured: no gain either way, docs/performance.md item 45).
  const char *what = nullptr;
  CUresult r = launchGrid(
      k.listBuilder, rows, static_cast<unsigned>(k.listBuilderThreads), 0,
      stream, l.params.data(),
      k.builderDependentLaunch && k.context->builderDependentLaunch, what);
  if (r != CUDA_SUCCESS)
    return fail(FAOPT_ERROR_CUDA,
                d.describe((std::string(what) + " (list builder)").c_str(), r));
  return FAOPT_SUCCESS;
}

} // namespace faopt::rt

extern "C" {

faopt_status faopt_block_lists_build(const faopt_kernel *k,
                                     const faopt_forward_args *a, void *stream,
                                     faopt_block_lists **out) {
  if (!k || !a || !out)
    return fail(FAOPT_ERROR_INVALID_ARGUMENT,
                "faopt_block_lists_build: kernel, args and out must not be "
                "NULL");
  *out = nullptr;
  if (k->listBuilderName.empty())
    return fail(FAOPT_ERROR_INVALID_ARGUMENT,
                "faopt_block_lists_build: this kernel's mask reads no tensor, "
                "so it has no kv-block lists to build");
  if (a->block_lists)
    return fail(FAOPT_ERROR_INVALID_ARGUMENT,
                "faopt_block_lists_build: args.block_lists must be NULL");
  faopt::rt::PackedLaunch l;
  if (faopt_status st =
          faopt::rt::packLaunch(*k, *a, "faopt_block_lists_build", l);
      st != FAOPT_SUCCESS)
    return st;
  const faopt::rt::Driver &d = faopt::rt::driver();
  auto lists = std::make_unique<faopt_block_lists>();
  lists->kernel = k;
  lists->batch = l.args.batch;
  lists->heads = l.args.heads;
  lists->seqlenQ = l.args.seqlen_q;
  lists->seqlenK = l.args.seqlen_k;
  if (!l.empty) {
    size_t bytes =
        static_cast<size_t>(l.listsShape.elements()) * sizeof(int32_t);
    if (CUresult r = d.memAlloc(&lists->data, bytes); r != CUDA_SUCCESS)
      return fail(FAOPT_ERROR_CUDA,
                  d.describe("cuMemAlloc(kv-block lists)", r) + " (" +
                      std::to_string(bytes) + " bytes)");
    if (faopt_status st = faopt::rt::launchListBuilder(
            *k, l, lists->data, /*counter=*/nullptr,
            static_cast<CUstream>(stream));
        st != FAOPT_SUCCESS) {
      d.memFree(lists->data);
      return st;
    }
  }
  *out = lists.release();
  return FAOPT_SUCCESS;
}

void faopt_block_lists_destroy(faopt_block_lists *lists) {
  if (!lists)
    return;
  if (lists->data) {
    const faopt::rt::Driver &d = faopt::rt::driver();
    d.ctxSetCurrent(lists->kernel->context->cuContext);
    d.memFree(lists->data);
  }
  delete lists;
}

} // extern "C"
