//===- AttnDialect.cpp - the attn dialect ---------------------------------===//
#include "dialects/attn/AttnDialect.h"
#include "dialects/attn/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace faopt::attn;

#include "dialects/attn/AttnDialect.cpp.inc"
#include "dialects/attn/AttnEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/attn/AttnAttrs.cpp.inc"

void AttnDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/attn/AttnOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/attn/AttnAttrs.cpp.inc"
      >();
}

LogicalResult
TilingAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                   int64_t blockQ, int64_t blockKv, int64_t warps,
                   int64_t stages, StringRef mma, StringRef copy) {
  if (blockQ <= 0 || blockKv <= 0 || warps <= 0 || stages <= 0)
    return emitError() << "tiling parameters must be positive, got block_q = "
                       << blockQ << ", block_kv = " << blockKv
                       << ", warps = " << warps << ", stages = " << stages;
  if (mma != "mma_sync" && mma != "wgmma")
    return emitError() << "tiling mma must be \"mma_sync\" or \"wgmma\", got \""
                       << mma << "\"";
  // wgmma: a warpgroup (4 warps) multiplies 64 rows, so each warp holds 16
  // rows of the tile; products run over whole 64-column slabs.
  if (mma == "wgmma" && (warps % 4 != 0 || blockQ != 16 * warps ||
                         blockKv % 64 != 0))
    return emitError() << "wgmma tiling needs warps a multiple of 4, block_q "
                          "= 16 * warps and block_kv a multiple of 64, got "
                          "block_q = "
                       << blockQ << ", block_kv = " << blockKv
                       << ", warps = " << warps;
  if (copy != "cp_async" && copy != "tma")
    return emitError() << "tiling copy must be \"cp_async\" or \"tma\", got \""
                       << copy << "\"";
  // TMA loads land in wgmma's 128-byte-swizzled slab layout, and the
  // producer / consumer split assumes consumer warpgroups.
  if (copy == "tma" && mma != "wgmma")
    return emitError() << "tiling copy = \"tma\" needs mma = \"wgmma\"";
  return success();
}
