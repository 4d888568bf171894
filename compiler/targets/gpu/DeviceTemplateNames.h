//===- DeviceTemplateNames.h - device template names -------*- C++ -*-===//
//
// The device templates (compiler/targets/gpu/device/*.cuh) that both the
// EmitC lowering calls and `faopt-compile --explain` or the manifest look
// for in a lowered module (ExplainLowered.cpp, CudaSource.cpp): one
// spelling for both.
//
//===----------------------------------------------------------------------===//
#ifndef FAOPT_COMPILER_TARGETS_GPU_DEVICETEMPLATENAMES_H
#define FAOPT_COMPILER_TARGETS_GPU_DEVICETEMPLATENAMES_H

#include "llvm/ADT/StringRef.h"

namespace faopt::gpu {

/// attn.tile_map with per-row kv bounds (attn-kv-bounds-in-rows).
inline constexpr llvm::StringLiteral kMapPositionsInRows =
    "faopt::map_positions_in_rows";
/// attn.key_ranges (attn-sorted-keys-as-bounds), in the list builder.
inline constexpr llvm::StringLiteral kKeyRanges = "faopt::key_ranges";
/// attn.stage_row (attn-stage-builder-rows), in the list builder.
inline constexpr llvm::StringLiteral kStageRow = "faopt::stage_row";

} // namespace faopt::gpu

#endif // FAOPT_COMPILER_TARGETS_GPU_DEVICETEMPLATENAMES_H
