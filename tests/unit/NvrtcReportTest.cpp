//===- NvrtcReportTest.cpp - reading ptxas's report ----------------------===//
#include "compiler/targets/gpu/Nvrtc.h"

#include <gtest/gtest.h>

namespace {

// The line ptxas (CUDA 13.0) printed for session 21's first rounded-P
// kernel, which ran 25% slower on the H200 (docs/performance.md item 50).
const char *kSerialised =
    "ptxas info    : (C7513) Potential Performance Loss: wgmma.mma_async "
    "instructions are serialized due to non wgmma instructions defining input "
    "registers of a wgmma between start and end of the pipeline stage in the "
    "function 'causal_bf16_d128'\n"
    "ptxas info    : Compiling entry function 'causal_bf16_d128' for "
    "'sm_90a'\n"
    "ptxas info    : Used 168 registers, used 5 barriers\n";

TEST(NvrtcReport, WgmmaSerialisationIsFoundForItsFunction) {
  EXPECT_TRUE(faopt::gpu::reportsWgmmaSerialized(kSerialised, "causal_bf16_d128"));
  EXPECT_TRUE(faopt::gpu::reportsWgmmaSerialized(kSerialised, ""));
  // Another kernel of the module (a list builder) is not the one serialised.
  EXPECT_FALSE(faopt::gpu::reportsWgmmaSerialized(kSerialised, "causal_bf16_d128_block_lists"));
  EXPECT_FALSE(faopt::gpu::reportsWgmmaSerialized(kSerialised, "causal_bf16"));
}

// Session 24's branch around single wgmma instructions (the WIP
// attn-skip-unattended-row-groups): another code, the same consequence.
TEST(NvrtcReport, SerialisationForADivergentPathIsFound) {
  const char *log =
      "ptxas info    : (C7519) warpgroup.arrive is injected in around line "
      "744 by compiler to allow use of registers in GMMA in function 'docs'\n"
      "ptxas info    : (C7520) Potential Performance Loss: wgmma.mma_async "
      "instructions are serialized due to program dependence on "
      "compiler-inserted WG.AR in divergent path in the function 'docs'\n";
  EXPECT_TRUE(faopt::gpu::reportsWgmmaSerialized(log, "docs"));
  EXPECT_FALSE(faopt::gpu::reportsWgmmaSerialized(log, "docs_block_lists"));
}

TEST(NvrtcReport, CleanReportHasNoSerialisation) {
  const char *clean = "ptxas info    : Compiling entry function 'k' for 'sm_90a'\n"
                      "ptxas info    : Used 168 registers, used 5 barriers\n";
  EXPECT_FALSE(faopt::gpu::reportsWgmmaSerialized(clean, "k"));
  EXPECT_FALSE(faopt::gpu::reportsWgmmaSerialized("", ""));
}

} // namespace
