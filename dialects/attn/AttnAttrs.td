//===- AttnAttrs.td - attn dialect attributes --------------*- tablegen -*-===//

#ifndef FAOPT_ATTN_ATTRS_TD
#define FAOPT_ATTN_ATTRS_TD

include "dialects/attn/AttnDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

// Where the sequence dimension sits in q, k, v and o.
def Attn_Layout : I32EnumAttr<"Layout", "tensor layout of q, k, v and o", [
    I32EnumAttrCase<"bhsd", 0>,   // [batch, heads, seq, head_dim]
    I32EnumAttrCase<"bshd", 1>    // [batch, seq, heads, head_dim]
  ]> {
  let cppNamespace = "::faopt::attn";
  let genSpecializedAttr = 0;
}
def Attn_LayoutAttr : EnumAttr<Attn_Dialect, Attn_Layout, "layout"> {
  let assemblyFormat = "`<` $value `>`";
}

// Which (q-block, kv-block) pairs exist at all. Block-sparse layouts arrive
// with the masks-and-sparsity work; dense visits every pair the mask allows.
def Attn_Sparsity : I32EnumAttr<"Sparsity", "block sparsity of the score matrix", [
    I32EnumAttrCase<"dense", 0>
  ]> {
  let cppNamespace = "::faopt::attn";
  let genSpecializedAttr = 0;
}
def Attn_SparsityAttr : EnumAttr<Attn_Dialect, Attn_Sparsity, "sparsity"> {
  let assemblyFormat = "`<` $value `>`";
}

def Attn_ReduceKind : I32EnumAttr<"ReduceKind", "row reduction", [
    I32EnumAttrCase<"max", 0>,
    I32EnumAttrCase<"sum", 1>
  ]> {
  let cppNamespace = "::faopt::attn";
  let genSpecializedAttr = 0;
}
def Attn_ReduceKindAttr : EnumAttr<Attn_Dialect, Attn_ReduceKind, "reduce"> {
  let assemblyFormat = "`<` $value `>`";
}

// The tiling a target chose: recorded on the kernel function by attn-tile so
// that later stages (and --explain) see one decision.
def Attn_TilingAttr : AttrDef<Attn_Dialect, "Tiling"> {
  let mnemonic = "tiling";
  let summary = "tile sizes and parallel decomposition chosen for a kernel";
  let parameters = (ins
    "int64_t":$block_q,
    "int64_t":$block_kv,
    "int64_t":$warps,
    "int64_t":$stages,
    StringRefParameter<"tensor-core instruction: mma_sync or wgmma",
                       "\"mma_sync\"">:$mma,
    StringRefParameter<"how K/V tiles reach shared memory: cp_async (every "
                       "thread copies) or tma (a producer warpgroup issues "
                       "TMA loads on mbarriers)", "\"cp_async\"">:$copy
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

// A tensor encoding: the tile lives in registers, 16-bit values packed in
// pairs as the A operand of a matrix product. attn-overlap-softmax carries
// P(j-1) across the kv loop in this form, so the GPU lowering can declare
// the loop variable (faopt::OperandA) instead of taking the type from an
// initialiser, as it does for shared-memory tiles of the same shape.
def Attn_RegisterOperandAttr : AttrDef<Attn_Dialect, "RegisterOperand"> {
  let mnemonic = "register_operand";
  let summary = "encoding of a tile held in registers as a packed A operand";
}

#endif // FAOPT_ATTN_ATTRS_TD
