//===- CudaSource.cpp - EmitC module to CUDA C++ --------------------------===//
#include "compiler/targets/gpu/CudaSource.h"

#include "compiler/targets/gpu/DeviceTemplateNames.h"
#include "dialects/attn/AttnOps.h"
#include "mlir/Dialect/EmitC/IR/EmitC.h"
#include "mlir/Target/Cpp/CppEmitter.h"
#include "llvm/Support/raw_ostream.h"

#include "compiler/targets/gpu/faopt_block_lists.cuh.inc"
#include "compiler/targets/gpu/faopt_search.cuh.inc"
#include "compiler/targets/gpu/faopt_sm80.cuh.inc"
#include "compiler/targets/gpu/faopt_tiles.cuh.inc"
#include "compiler/targets/gpu/faopt_sm90.cuh.inc"
#include "compiler/targets/gpu/faopt_sm90_tma.cuh.inc"
#include "compiler/targets/gpu/faopt_sm90_tma_output.cuh.inc"

using namespace mlir;

namespace faopt::gpu {

llvm::ArrayRef<DeviceHeader> deviceHeaders() {
  static const DeviceHeader headers[] = {
      {"faopt_tiles.cuh", k_faopt_tiles_cuh},
      {"faopt_sm80.cuh", k_faopt_sm80_cuh},
      {"faopt_sm90.cuh", k_faopt_sm90_cuh},
      {"faopt_sm90_tma.cuh", k_faopt_sm90_tma_cuh},
      {"faopt_sm90_tma_output.cuh", k_faopt_sm90_tma_output_cuh},
      {"faopt_search.cuh", k_faopt_search_cuh},
      {"faopt_block_lists.cuh", k_faopt_block_lists_cuh}};
  return headers;
}

FailureOr<CudaKernelSource> translateToCuda(ModuleOp module,
                                            llvm::StringRef header) {
  CudaKernelSource out;
  for (auto fn : module.getOps<emitc::FuncOp>()) {
    if (Attribute rows = fn->getAttr("attn.block_list_builder")) {
      out.listBuilder = fn.getSymName().str();
      if (auto dict = dyn_cast<DictionaryAttr>(rows)) {
        auto flag = [&](StringRef name) {
          auto b = dict.getAs<BoolAttr>(name);
          return b && b.getValue();
        };
        out.listsPerBatch = flag("per_batch");
        out.listsPerHead = flag("per_head");
        if (auto rows = dict.getAs<IntegerAttr>("key_range_rows"))
          out.keyRangeRows = rows.getInt();
      }
      out.listBuilderThreads =
          fn->getAttrOfType<IntegerAttr>("attn.threads").getInt();
      out.builderDependentLaunch = fn->hasAttr("attn.dependent_launch");
      out.builderResetsCounter = fn->hasAttr("attn.resets_program_counter");
      fn.walk([&](emitc::CallOpaqueOp call) {
        if (call.getCallee() == faopt::gpu::kStageRow)
          out.builderStagesRow = true;
      });
      continue;
    }
    auto smem = fn->getAttrOfType<IntegerAttr>("attn.shared_memory_bytes");
    if (!smem)
      continue;
    out.name = fn.getSymName().str();
    out.sharedBytes = smem.getInt();
    out.threads = fn->getAttrOfType<IntegerAttr>("attn.threads").getInt();
    out.persistent = fn->hasAttr("attn.persistent");
    out.dependentLaunch = fn->hasAttr("attn.dependent_launch");
    out.programCounter = fn->hasAttr("attn.program_counter");
    out.roundedP = fn->hasAttr("attn.rounded_p");
    out.earlyQRelease = fn->hasAttr("attn.early_q_release");
    out.outputByCopyThread = fn->hasAttr("attn.output_by_copy_thread");
    out.outputWaitAtNextQ = fn->hasAttr("attn.output_wait_at_next_q");
    out.listedTermsDropped = fn->hasAttr("attn.listed_terms_dropped");
    if (auto tiles = fn->getAttrOfType<IntegerAttr>("attn.q_tiles"))
      out.qTiles = tiles.getInt();
    if (auto kv = fn->getAttrOfType<IntegerAttr>("attn.kv_stages"))
      out.kvStages = kv.getInt();
    if (auto t = fn->getAttrOfType<attn::TilingAttr>("attn.tiling")) {
      out.blockQ = t.getBlockQ();
      out.blockKv = t.getBlockKv();
      out.warps = t.getWarps();
      out.stages = t.getStages();
      out.mma = t.getMma().str();
      out.copy = t.getCopy().str();
    }
  }
  if (out.name.empty())
    return module.emitError()
           << "no kernel found: run attn-convert-to-emitc first";
  std::string code;
  llvm::raw_string_ostream os(code);
  os << header;
  if (failed(emitc::translateToCpp(module, os)))
    return failure();
  os.flush();
  out.source = std::move(code);
  return out;
}

} // namespace faopt::gpu
