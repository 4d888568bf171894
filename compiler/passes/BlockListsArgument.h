//===- BlockListsArgument.h - the kernel's kv-block lists argument -*- C++ -*-===//
#ifndef FAOPT_COMPILER_PASSES_BLOCKLISTSARGUMENT_H
#define FAOPT_COMPILER_PASSES_BLOCKLISTSARGUMENT_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
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

/// Whether the kernel is driven by kv-block lists whose mask does not bound
/// kv by q: a block layout. attn-block-lists marks the lists of masks that
/// do bound kv by q (causal documents, for one) `kv_range_follows_q`. A
/// block layout's program lengths come from the data alone.
inline bool drivenByBlockLayout(mlir::func::FuncOp fn) {
  std::optional<unsigned> lists = blockListsArgument(fn);
  if (!lists)
    return false;
  auto info = fn.getArgAttrOfType<mlir::DictionaryAttr>(*lists,
                                                        "attn.block_lists");
  return info && !info.get("kv_range_follows_q");
}

} // namespace faopt

#endif // FAOPT_COMPILER_PASSES_BLOCKLISTSARGUMENT_H
