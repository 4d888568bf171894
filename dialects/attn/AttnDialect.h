//===- AttnDialect.h - the attn dialect and its attributes ------*- C++ -*-===//
#ifndef FAOPT_DIALECTS_ATTN_ATTNDIALECT_H
#define FAOPT_DIALECTS_ATTN_ATTNDIALECT_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/DialectImplementation.h"

#include "dialects/attn/AttnDialect.h.inc"
#include "dialects/attn/AttnEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/attn/AttnAttrs.h.inc"

#endif // FAOPT_DIALECTS_ATTN_ATTNDIALECT_H
