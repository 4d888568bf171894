//===- BuilderResetsCounter.cpp - the list builder zeroes the counter -----===//
//
// A kernel whose programs are handed out at run time claims them from a
// counter that must be zero at launch (attn-persistent-programs). Where the
// kernel's kv-block lists come from a list builder launched right before
// it, the builder can do that zeroing:
//
//   func.func @k(..., %lists {attn.block_lists}, %c: memref<1xi32>
//                {attn.program_counter})                   {attn.kernel}
//   func.func @k_block_lists(..., %lists {attn.block_lists})
//                                               {attn.block_list_builder}
// becomes
//   func.func @k(..., %c: memref<1xi32> {attn.program_counter,
//                                        attn.reset_by_builder}) ...
//   func.func @k_block_lists(..., %lists, %c2: memref<1xi32>
//                            {attn.program_counter}) ... {
//     attn.reset_program_counter %c2 : memref<1xi32>
//     ...
//
// Why: otherwise the runtime zeroes the counter with a memset between the
// previous kernel and the builder, a stream operation of its own that also
// keeps the builder from following the previous kernel by programmatic
// dependent launch. The builder's arguments are the kernel's up to the
// lists, so with the counter right after them both launches still share
// one argument list. The kernel reads the counter only after waiting for
// the builder (attn-await-list-builder treats the marked counter as a
// builder output, like the lists).
//
//===----------------------------------------------------------------------===//
#include "compiler/targets/gpu/Passes.h"

#include "compiler/passes/BlockListsArgument.h"

#include "dialects/attn/AttnOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace faopt::gpu {
#define GEN_PASS_DEF_ATTNBUILDERRESETSCOUNTER
#include "compiler/targets/gpu/Passes.h.inc"
} // namespace faopt::gpu

using namespace mlir;
using namespace faopt::attn;

namespace {

std::optional<unsigned> argumentWith(func::FuncOp fn, StringRef attr) {
  for (unsigned i = 0; i < fn.getNumArguments(); ++i)
    if (fn.getArgAttr(i, attr))
      return i;
  return std::nullopt;
}

struct AttnBuilderResetsCounterPass
    : faopt::gpu::impl::AttnBuilderResetsCounterBase<
          AttnBuilderResetsCounterPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    for (auto kernel : module.getOps<func::FuncOp>()) {
      if (!kernel->hasAttr("attn.kernel"))
        continue;
      // attn-block-lists names a kernel's builder after it.
      auto builder = symbols.lookup<func::FuncOp>(
          (kernel.getSymName() + "_block_lists").str());
      if (builder && builder->hasAttr("attn.block_list_builder") &&
          failed(resetInBuilder(kernel, builder)))
        return signalPassFailure();
    }
  }

  LogicalResult resetInBuilder(func::FuncOp kernel, func::FuncOp builder) {
    std::optional<unsigned> counter =
        argumentWith(kernel, "attn.program_counter");
    if (!counter || kernel.getArgAttr(*counter, "attn.reset_by_builder"))
      return success();
    if (argumentWith(builder, "attn.program_counter")) {
      return builder.emitError() << "attn-builder-resets-counter: the list "
                                    "builder already takes a program counter";
    }
    std::optional<unsigned> builderLists = faopt::blockListsArgument(builder);
    std::optional<unsigned> kernelLists = faopt::blockListsArgument(kernel);
    // The shared argument list: the builder's are the kernel's first ones,
    // ending with the lists, and the counter comes right after them.
    if (!builderLists || !kernelLists || *builderLists != *kernelLists ||
        *builderLists + 1 != builder.getNumArguments() ||
        *counter != *kernelLists + 1) {
      return kernel.emitError()
             << "attn-builder-resets-counter: expected the kernel's program "
                "counter right after its block lists, and a list builder "
                "taking the kernel's arguments up to the lists";
    }
    OpBuilder b(kernel.getContext());
    Type type = kernel.getArgument(*counter).getType();
    Location loc = builder.getLoc();
    unsigned at = builder.getNumArguments();
    if (failed(builder.insertArgument(
            at, type,
            b.getDictionaryAttr(
                b.getNamedAttr("attn.program_counter", b.getUnitAttr())),
            loc))) {
      return builder.emitError() << "attn-builder-resets-counter: could not "
                                    "add the program counter argument";
    }
    b.setInsertionPointToStart(&builder.getBody().front());
    ResetProgramCounterOp::create(b, loc, builder.getArgument(at));
    kernel.setArgAttr(*counter, "attn.reset_by_builder", b.getUnitAttr());
    return success();
  }
};

} // namespace
