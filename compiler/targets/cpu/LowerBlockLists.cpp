//===- LowerBlockLists.cpp - attn.block_list_build as a serial loop (CPU) -===//
//
// The CPU builds each list row with one loop: classify kv-block kb, append
// its entry when the block is not empty, then write the count (and a valid
// entry 1 for an empty row, which the attention loop may read ahead).
//
//===----------------------------------------------------------------------===//
#include "compiler/targets/cpu/Passes.h"

#include "dialects/attn/AttnOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace faopt::cpu {
#define GEN_PASS_DEF_ATTNLOWERBLOCKLISTS
#include "compiler/targets/cpu/Passes.h.inc"
} // namespace faopt::cpu

using namespace mlir;
using namespace faopt::attn;

namespace {

struct LowerBlockListBuild : OpRewritePattern<BlockListBuildOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(BlockListBuildOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto index = [&](OpBuilder &b, int64_t v) -> Value {
      return arith::ConstantIndexOp::create(b, loc, v);
    };
    Value zero = index(rewriter, 0), one = index(rewriter, 1);
    auto at = [&](Value slot) {
      return SmallVector<Value>{op.getBatch(), op.getHead(), op.getQBlock(),
                                slot};
    };
    auto toI32 = [&](OpBuilder &b, Value v) -> Value {
      return arith::IndexCastOp::create(b, loc, b.getI32Type(), v);
    };
    Block &body = op.getBody().front();
    auto loop = scf::ForOp::create(
        rewriter, loc, op.getLower(), op.getUpper(), one, ValueRange{zero},
        [&](OpBuilder &b, Location, Value kb, ValueRange count) {
          IRMapping m;
          m.map(body.getArgument(0), kb);
          for (Operation &inner : body.without_terminator())
            b.clone(inner, m);
          Operation *yield = body.getTerminator();
          Value any = m.lookup(yield->getOperand(0));
          Value all = m.lookup(yield->getOperand(1));
          auto append = scf::IfOp::create(
              b, loc, any,
              [&](OpBuilder &tb, Location) {
                Value twice = arith::AddIOp::create(tb, loc, kb, kb);
                Value notAll = arith::XOrIOp::create(
                    tb, loc, all, arith::ConstantIntOp::create(tb, loc, 1, 1));
                Value entry = arith::AddIOp::create(
                    tb, loc, twice,
                    arith::IndexCastOp::create(tb, loc, tb.getIndexType(),
                                               arith::ExtUIOp::create(
                                                   tb, loc, tb.getI32Type(),
                                                   notAll)));
                Value next = arith::AddIOp::create(tb, loc, count[0], one);
                memref::StoreOp::create(tb, loc, toI32(tb, entry), op.getLists(),
                                        at(next));
                scf::YieldOp::create(tb, loc, next);
              },
              [&](OpBuilder &eb, Location) {
                scf::YieldOp::create(eb, loc, count[0]);
              });
          scf::YieldOp::create(b, loc, append.getResults());
        });
    Value count = loop.getResult(0);
    memref::StoreOp::create(rewriter, loc, toI32(rewriter, count), op.getLists(),
                            at(zero));
    Value empty = arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::eq,
                                        count, zero);
    scf::IfOp::create(rewriter, loc, empty, [&](OpBuilder &b, Location) {
      memref::StoreOp::create(b, loc, toI32(b, zero), op.getLists(), at(one));
      scf::YieldOp::create(b, loc);
    });
    rewriter.eraseOp(op);
    return success();
  }
};

struct AttnLowerBlockListsPass
    : faopt::cpu::impl::AttnLowerBlockListsBase<AttnLowerBlockListsPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<LowerBlockListBuild>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
