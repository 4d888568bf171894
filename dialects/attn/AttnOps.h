//===- AttnOps.h - attn dialect operations ----------------------*- C++ -*-===//
#ifndef FAOPT_DIALECTS_ATTN_ATTNOPS_H
#define FAOPT_DIALECTS_ATTN_ATTNOPS_H

#include "dialects/attn/AttnDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "dialects/attn/AttnOps.h.inc"

namespace faopt::attn {
/// Index of the sequence and heads dimensions of a rank-4 q/k/v/o tensor.
inline unsigned seqDim(Layout layout) { return layout == Layout::bhsd ? 2 : 1; }
inline unsigned headsDim(Layout layout) { return layout == Layout::bhsd ? 1 : 2; }
} // namespace faopt::attn

#endif // FAOPT_DIALECTS_ATTN_ATTNOPS_H
