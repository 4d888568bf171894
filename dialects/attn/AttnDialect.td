//===- AttnDialect.td - the attn dialect -------------------*- tablegen -*-===//
//
// The attn dialect carries an attention computation from its high-level
// specification (attn.attention) through the online-softmax recurrence and
// tiling down to tile-level operations that each target lowers.
//
//===----------------------------------------------------------------------===//

#ifndef FAOPT_ATTN_DIALECT_TD
#define FAOPT_ATTN_DIALECT_TD

include "mlir/IR/OpBase.td"

def Attn_Dialect : Dialect {
  let name = "attn";
  let cppNamespace = "::faopt::attn";
  let summary = "Attention computations, from specification to tiles";
  let description = [{
    Three levels live in this dialect:

    * `attn.attention`: softmax(mask(score(Q Kᵀ · scale))) V on tensors, with
      optional mask and score-modifier regions.
    * The online form (`attn.online_init`, `attn.online_update`,
      `attn.online_finalize`): the FlashAttention recurrence with a running row
      maximum, running row sum and a rescaled accumulator, in the base-2
      domain; either over whole tensors or over one (q-block, kv-block) tile.
    * Tile-level operations (`attn.tile_*`) on statically shaped tiles, and the
      block-analysis operations that classify a (q-block, kv-block) pair.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect"
  ];
  let useDefaultAttributePrinterParser = 1;
}

class Attn_Op<string mnemonic, list<Trait> traits = []>
    : Op<Attn_Dialect, mnemonic, traits>;

#endif // FAOPT_ATTN_DIALECT_TD
