//===- BlockListsArgument.h - the kernel's kv-block lists argument -*- C++ -*-===//
#ifndef FAOPT_COMPILER_PASSES_BLOCKLISTSARGUMENT_H
#define FAOPT_COMPILER_PASSES_BLOCKLISTSARGUMENT_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include <optional>

namespace faopt {

/// The argument attn-block-lists gave a kernel (or its list builder) for
/// the kv-block lists: the one with an `attn.block_lists` dictionary. Found
/// by its attribute, never by position (a persistent kernel with programs
/// handed out takes its program counter after it).
inline std::optional<unsigned> blockListsArgument(mlir::func::FuncOp fn) {
  for (unsigned i = 0; i < fn.getNumArguments(); ++i)
    if (fn.getArgAttr(i, "attn.block_lists"))
      return i;
  return std::nullopt;
}

} // namespace faopt

#endif // FAOPT_COMPILER_PASSES_BLOCKLISTSARGUMENT_H
