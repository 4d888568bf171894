//===- ExplainLowered.cpp - what the GPU lowering chose -------------------===//
//
// Reads the device templates a lowered (EmitC) kernel calls for its masks,
// and the marks its passes left on it: the report says what this kernel
// does, not what the spec allows.
//
//===----------------------------------------------------------------------===//
#include "compiler/pipeline/ExplainLowered.h"
#include "compiler/targets/gpu/DeviceTemplateNames.h"

#include "mlir/Dialect/EmitC/IR/EmitC.h"
#include "llvm/Support/raw_ostream.h"

namespace faopt {

std::string explainLowered(mlir::ModuleOp module) {
  // The device templates the lowering calls for each form
  // (faopt_sm80.cuh / faopt_block_lists.cuh), found in the EmitC module.
  bool rowBoundMaps = false, keyRanges = false;
  module.walk([&](mlir::emitc::CallOpaqueOp call) {
    llvm::StringRef callee = call.getCallee();
    rowBoundMaps |= callee == gpu::kMapPositionsInRows;
    keyRanges |= callee == gpu::kKeyRanges;
  });
  // attn-drop-listed-tile-terms marks the kernels it changed.
  bool droppedTerms = false;
  for (auto fn : module.getOps<mlir::emitc::FuncOp>())
    droppedTerms |= fn->hasAttr("attn.listed_terms_dropped");
  std::string text;
  llvm::raw_string_ostream os(text);
  if (rowBoundMaps)
    os << "  row bounds: masked kv-blocks compare each score's kv with its "
          "row's first and last allowed kv, computed once per row and "
          "kv-block instead of the mask per score (attn-kv-bounds-in-rows; "
          "--no-row-bound-masks turns them off)\n";
  if (keyRanges)
    os << "  key ranges: the list builder checks, per q-block, whether the kv "
          "keys of the mask's key(q) == key(kv) term are sorted over the "
          "kv-blocks it lists (document ids in order) and then writes each "
          "row's kv range; the kernel reads a flag and runs a copy of its "
          "loop that compares kv with the range instead of reading keys per "
          "score, or the original loop where the keys are not sorted "
          "(attn-sorted-keys-as-bounds; --no-row-bound-masks turns it off)\n";
  if (droppedTerms)
    os << "  listed tiles: the mask terms true on every tile the list builder "
          "lists (a block layout of the tile's block size) are left out of "
          "the listed tiles' per-score mask (attn-drop-listed-tile-terms; by "
          "default where programs are handed out at run time; "
          "--no-drop-listed-tile-terms turns it off)\n";
  return os.str();
}

} // namespace faopt
