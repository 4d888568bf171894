//===- TargetDescTest.cpp - the tile-size rule and --explain --------------===//
#include "compiler/pipeline/Explain.h"
#include "compiler/targets/TargetDesc.h"

#include "gtest/gtest.h"

using namespace faopt;

namespace {

TileChoice choose(const char *target, int64_t d, int64_t dv = 0,
                  int64_t bq = 0, int64_t bk = 0) {
  std::string error;
  auto t = chooseTiles(*lookupTarget(target), d, dv ? dv : d, 2, bq, bk, error);
  EXPECT_TRUE(t) << error;
  return t ? *t : TileChoice();
}

TEST(TargetDesc, FlashAttention2TileSizes) {
  // FlashAttention-2's forward tiles on sm80: 128x128 at d=64, 128x64 at 128.
  TileChoice d64 = choose("sm80", 64);
  EXPECT_EQ(d64.blockQ, 128);
  EXPECT_EQ(d64.blockKv, 128);
  EXPECT_EQ(d64.warps, 4);
  EXPECT_EQ(d64.stages, 2);
  TileChoice d128 = choose("sm80", 128);
  EXPECT_EQ(d128.blockKv, 64);
  EXPECT_EQ(d128.accumulatorRegs, 192);
  EXPECT_EQ(d128.sharedMemBytes, 96 * 1024);
  // d = 256: 8 warps; sm80 cannot double-buffer 64-row K/V tiles, sm90a can.
  TileChoice sm80 = choose("sm80", 256);
  EXPECT_EQ(sm80.warps, 8);
  EXPECT_LE(sm80.sharedMemBytes, 163 * 1024);
  TileChoice sm90 = choose("sm90a", 256);
  EXPECT_GE(sm90.stages * sm90.blockKv, sm80.stages * sm80.blockKv);
}

TEST(TargetDesc, HopperUsesWgmmaForWholeSlabs) {
  // sm90a, 16-bit, head dims in 64-column slabs: a warpgroup per 64 rows.
  TileChoice d128 = choose("sm90a", 128);
  EXPECT_EQ(d128.mma, "wgmma");
  EXPECT_EQ(d128.blockQ, 128);
  EXPECT_EQ(d128.warps, 8);
  EXPECT_EQ(d128.blockKv, 128);
  EXPECT_EQ(d128.stages, 2);
  EXPECT_EQ(d128.accumulatorRegs, 128);
  EXPECT_EQ(d128.copy, "tma"); // one CTA per SM: a producer warpgroup
  // d = 256: the O accumulator alone is 128 registers; 64-wide kv-blocks
  // keep S + O at the 160 budget, double-buffered in 192 KiB.
  TileChoice d256 = choose("sm90a", 256);
  EXPECT_EQ(d256.mma, "wgmma");
  EXPECT_EQ(d256.blockKv, 64);
  EXPECT_EQ(d256.stages, 2);
  EXPECT_EQ(d256.accumulatorRegs, 160);
  EXPECT_EQ(d256.copy, "tma");
  // d = 64 runs two CTAs per SM: 384 threads would cap registers at 85.
  EXPECT_EQ(choose("sm90a", 64).mma, "wgmma");
  EXPECT_EQ(choose("sm90a", 64).copy, "cp_async");
  EXPECT_EQ(choose("sm80", 128).copy, "cp_async");
  // block_q = 64 is one warpgroup.
  TileChoice bq64 = choose("sm90a", 128, 128, 64);
  EXPECT_EQ(bq64.mma, "wgmma");
  EXPECT_EQ(bq64.warps, 4);
  // Anything wgmma cannot tile here keeps mma.sync: a head dim that is not
  // whole slabs, a 32-wide kv-block, f32, and sm80 itself.
  EXPECT_EQ(choose("sm90a", 32).mma, "mma_sync");
  EXPECT_EQ(choose("sm90a", 128, 128, 0, 32).mma, "mma_sync");
  std::string error;
  EXPECT_EQ(chooseTiles(*lookupTarget("sm90a"), 128, 128, 4, 0, 0, error)->mma,
            "mma_sync");
  EXPECT_EQ(choose("sm80", 128).mma, "mma_sync");
  EXPECT_NE(d128.why.find("wgmma, 2 warpgroups"), std::string::npos) << d128.why;
  // The warpgroups take turns where both products are >= 128 deep (two
  // warpgroups only) and the copies are cp.async: with TMA copies from a
  // producer warpgroup the turns measured slower (docs/performance.md item
  // 20), so d = 128 and 256 kernels, which copy with TMA, do not take turns.
  EXPECT_FALSE(d128.pingpong);
  EXPECT_FALSE(d256.pingpong);
  EXPECT_TRUE(wgmmaPingPong(8, 128, 128, /*tmaCopies=*/false));
  EXPECT_TRUE(wgmmaPingPong(8, 256, 256, /*tmaCopies=*/false));
  EXPECT_FALSE(wgmmaPingPong(8, 128, 128, /*tmaCopies=*/true));
  EXPECT_FALSE(wgmmaPingPong(8, 64, 64, /*tmaCopies=*/false));
  EXPECT_FALSE(wgmmaPingPong(4, 128, 128, /*tmaCopies=*/false));
  EXPECT_FALSE(choose("sm90a", 64).pingpong);
  EXPECT_FALSE(bq64.pingpong);
  EXPECT_FALSE(choose("sm90a", 128, 64).pingpong);
}

TEST(TargetDesc, OverridesAreChecked) {
  std::string error;
  EXPECT_FALSE(chooseTiles(*lookupTarget("sm80"), 128, 128, 2, 96, 0, error));
  EXPECT_EQ(error, "block_q = 96 must be a multiple of 64 (16 rows per warp, "
                   "4 warps)");
  EXPECT_FALSE(chooseTiles(*lookupTarget("sm80"), 128, 128, 2, 0, 256, error));
  EXPECT_NE(error.find("accumulator registers"), std::string::npos) << error;
  EXPECT_TRUE(chooseTiles(*lookupTarget("cpu"), 64, 64, 4, 16, 8, error));
  // 96 = 12 chunks of 16 bytes per row do not divide 128 threads: a clear
  // error instead of NVRTC's static_assert.
  EXPECT_FALSE(chooseTiles(*lookupTarget("sm90a"), 96, 96, 2, 0, 0, error));
  EXPECT_EQ(error, "head dim 96 is not supported by sm90a kernels of 128 "
                   "threads (tile copies split rows into 16-byte chunks): "
                   "use 16, 32, 64, 128, or pad the head dim");
  // d = 256 needs 256 threads: one warpgroup (block_q = 64) is too few.
  EXPECT_FALSE(chooseTiles(*lookupTarget("sm90a"), 256, 256, 2, 64, 0, error));
  EXPECT_NE(error.find("head dim 256 is not supported by sm90a kernels of 128"),
            std::string::npos)
      << error;
  EXPECT_TRUE(chooseTiles(*lookupTarget("cpu"), 96, 96, 4, 0, 0, error));
  EXPECT_FALSE(lookupTarget("sm70"));
}

TEST(Explain, ShapesParse) {
  ExplainShape s;
  std::string error;
  ASSERT_TRUE(parseExplainShape("b=2,h=8,kvh=2,sq=100,sk=300", s, error));
  EXPECT_EQ(s.batch, 2);
  EXPECT_EQ(s.kvHeads, 2);
  EXPECT_EQ(s.seqK, 300);
  EXPECT_FALSE(parseExplainShape("h=8,kvh=3", s, error));
  EXPECT_EQ(error, "kvh must divide h");
  EXPECT_FALSE(parseExplainShape("s=-1", s, error));
}

} // namespace
