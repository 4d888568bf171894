//===- OverlapSoftmax.cpp - overlap the softmax with the P V product ------===//
//
// FlashAttention-3's intra-warpgroup overlap: the product O += P(j-1) V(j-1)
// moves into the next iteration, started right after S(j) = Q K(j)ᵀ, so the
// tensor cores work on it while the warpgroup computes the softmax of S(j).
//
//   scf.for ... iter_args(%m, %l, %o) {
//     [scf.if %guard {]
//       %s = attn.tile_matmul %q, %k {transpose_rhs}
//       ... softmax of %s: %p (f32), %c (rescale factor) ...
//       %os = attn.tile_scale_rows %o, %c
//       %v = attn.tile_wait %V[..] stage %st round %r ahead %a
//       %o2 = attn.tile_matmul (arith.truncf %p), %v acc %os
//       attn.tile_release %V stage %st round %r
//   }
// becomes, with P(j-1) and V(j-1)'s wait operands carried (and %pending:
// an earlier iteration left a product to do):
//   scf.for ... iter_args(%m, %l, %o, %pp, <V operands>, %pending) {
//     [scf.if %guard {]
//       %pb = arith.truncf %pp
//       %s = attn.tile_matmul %q, %k {transpose_rhs, async}
//       %sw, %o1 = scf.if %pending {
//         %v = attn.tile_wait %V[<carried operands>]
//         %o0 = attn.tile_matmul %pb, %v acc %o {async}
//         yield (attn.tile_mma_wait %s pending 1), %o0   // S(j) ready, P V runs
//       } else { yield (attn.tile_mma_wait %s pending 0), %o }
//       ... softmax of %sw ...
//       %ow = attn.tile_mma_wait %o1 pending 0
//       scf.if %pending { attn.tile_release %V <carried stage, round> }
//       %os = attn.tile_scale_rows %ow, %c
//       yield ..., %os, %p, <this iteration's V operands>, true
//   }
//   %o_final = scf.if %pending { the last P V, synchronous; release } else { %o }
//
// With rounded-p (the default since session 22; docs/performance.md item 50) P
// crosses the back edge rounded instead: %pb is carried (a register operand,
// #attn.register_operand, so the GPU lowering can declare the loop variable;
// a tensor.cast gives the f32 side that encoding), rounded right after P
// V(j-1)'s wait (wgmma reads its A operand from registers while it runs:
// defining registers between a wgmma's start and its wait makes ptxas
// serialise every wgmma of the kernel, C7513, which cost dense 25% on the
// H200). The f32 form then dies in the iteration that computes it instead
// of staying live through the O rescale and the next K wait (32 registers a
// thread at 128 x 128): ptxas's spills go from 8-52 bytes to 0-52 on the
// samples, 340 to 140 on the hand-out's early publish (a branch).
//
// Only for kernels whose K/V stages are handed back explicitly
// (attn.tiling copy = "tma"): V(j-1) then stays in its stage until
// released, while cp.async kernels would overwrite it with the prefetch of
// V(j+1). A guard that skips a block passes the carried values through
// unchanged.
//
// K's release follows S's wait. With late-k-release it moves to
// just before P V's wait instead, ordered after the softmax's row sums
// (`attn.tile_release ... after %l`): ptxas places a wgmma wait as early
// as the barrier arrives around it allow, so with K released after S's
// wait, P V's wait lands before every exponential in most kernels (0 of 66
// before it, scripts/sass-waits.sh) and the softmax does not run under P V
// within a warpgroup. With the release after the sums all 66 come first,
// in every variant (docs/performance.md items 79, 80). On the H200 that
// measured mixed (item 81): block-sparse +2.4-2.7%, window and constant
// chunks +1.5%, causal, prefix-LM, documents and run-time chunks -1.2 to
// -2.1% (programs ending in a masked block hand K's stage back one longer
// softmax later). With block-layouts-only (the pipeline's default) only
// kernels driven by a block layout get it.
//
//===----------------------------------------------------------------------===//
#include "compiler/targets/gpu/Passes.h"

#include "compiler/passes/BlockListsArgument.h"

#include "dialects/attn/AttnOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/SetVector.h"

namespace faopt::gpu {
#define GEN_PASS_DEF_ATTNOVERLAPSOFTMAX
#include "compiler/targets/gpu/Passes.h.inc"
} // namespace faopt::gpu

using namespace mlir;
using namespace faopt::attn;

namespace {

/// The ops of one kv loop the rewrite moves, found by `match`.
struct KvProducts {
  TileMatmulOp s;          // S = Q Kᵀ
  TileReleaseOp kRelease;  // K's release after it
  TileMatmulOp pv;         // O' = P V + rescaled O
  TileWaitOp vWait;        // V's wait, used only by pv
  TileReleaseOp vRelease;  // V's release after pv
  arith::TruncFOp p;       // P, rounded to the operand type
  TileScaleRowsOp rescale; // O · c, O the loop's carried accumulator
  unsigned accIndex = 0;   // O's iter_arg
  scf::IfOp guard;         // the scf.if whose then-block holds them, if any
  SmallVector<Value> vOperands; // V's wait operands defined in the loop
};

/// The release of `wait`'s stage after `from` in its block.
TileReleaseOp releaseOf(TileWaitOp wait, Operation *from) {
  for (Operation *n = from->getNextNode(); n; n = n->getNextNode())
    if (auto rel = dyn_cast<TileReleaseOp>(n))
      if (rel.getSource() == wait.getSource() &&
          rel.getStage() == wait.getStage() && rel.getRound() == wait.getRound())
        return rel;
  return nullptr;
}

/// Finds the loop's two products in the shape the header describes; fails
/// (leaving the loop alone) on anything else.
FailureOr<KvProducts> match(scf::ForOp loop) {
  KvProducts m;
  int found = 0;
  loop.getBody()->walk([&](TileMatmulOp mm) {
    ++found;
    if (mm.getTransposeRhs())
      m.s = mm;
    else
      m.pv = mm;
  });
  if (found != 2 || !m.s || !m.pv || !m.pv.getAcc())
    return failure();
  Block *block = m.pv->getBlock();
  if (m.s->getBlock() != block || !m.s->isBeforeInBlock(m.pv))
    return failure();
  if (block != loop.getBody()) {
    m.guard = dyn_cast<scf::IfOp>(block->getParentOp());
    if (!m.guard || m.guard->getBlock() != loop.getBody() ||
        block != m.guard.thenBlock() || !m.guard.elseBlock())
      return failure();
  }
  auto kWait = m.s.getRhs().getDefiningOp<TileWaitOp>();
  m.vWait = m.pv.getRhs().getDefiningOp<TileWaitOp>();
  m.p = m.pv.getLhs().getDefiningOp<arith::TruncFOp>();
  m.rescale = m.pv.getAcc().getDefiningOp<TileScaleRowsOp>();
  if (!kWait || !m.vWait || !m.p || !m.rescale ||
      m.vWait->getBlock() != block || !m.vWait->hasOneUse() ||
      m.p->getBlock() != block || !m.p->hasOneUse() ||
      m.rescale->getBlock() != block || !m.rescale->hasOneUse())
    return failure();
  m.kRelease = releaseOf(kWait, m.s);
  m.vRelease = releaseOf(m.vWait, m.pv);
  if (!m.kRelease || m.kRelease->getBlock() != block || !m.vRelease)
    return failure();
  // O: the rescaled tile is the loop's carried accumulator, and the product
  // goes back to it (through the guard, which passes O through otherwise).
  auto acc = dyn_cast<BlockArgument>(m.rescale.getInput());
  if (!acc || acc.getOwner() != loop.getBody() || acc.getArgNumber() == 0)
    return failure();
  m.accIndex = acc.getArgNumber() - 1;
  Operation *yield = loop.getBody()->getTerminator();
  Value back = yield->getOperand(m.accIndex);
  if (!m.guard) {
    if (back != m.pv.getResult())
      return failure();
  } else {
    auto r = dyn_cast<OpResult>(back);
    if (!r || r.getOwner() != m.guard)
      return failure();
    unsigned i = r.getResultNumber();
    if (m.guard.thenYield()->getOperand(i) != m.pv.getResult() ||
        m.guard.elseYield()->getOperand(i) != acc)
      return failure();
  }
  if (!m.pv->hasOneUse())
    return failure();
  llvm::SetVector<Value> inLoop;
  for (Value v : m.vWait->getOperands())
    if (loop->isAncestor(v.getParentBlock()->getParentOp()))
      inLoop.insert(v);
  m.vOperands.assign(inLoop.begin(), inLoop.end());
  return m;
}

Value zeroOf(OpBuilder &b, Location loc, Type t) {
  if (auto tensor = dyn_cast<RankedTensorType>(t))
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(tensor, b.getZeroAttr(tensor.getElementType())));
  return arith::ConstantOp::create(b, loc, b.getZeroAttr(t));
}

/// Gives `guard` extra results: the then-block yields `thenValues`, the else
/// block `elseValues`. Returns the rebuilt op.
scf::IfOp addResults(RewriterBase &rewriter, scf::IfOp guard,
                     ValueRange thenValues, ValueRange elseValues) {
  SmallVector<Type> types(guard.getResultTypes());
  for (Value v : thenValues)
    types.push_back(v.getType());
  rewriter.setInsertionPoint(guard);
  auto grown = scf::IfOp::create(rewriter, guard.getLoc(), types,
                                 guard.getCondition(), /*withElse=*/true);
  rewriter.eraseBlock(grown.thenBlock());
  rewriter.eraseBlock(grown.elseBlock());
  rewriter.inlineRegionBefore(guard.getThenRegion(), grown.getThenRegion(),
                              grown.getThenRegion().end());
  rewriter.inlineRegionBefore(guard.getElseRegion(), grown.getElseRegion(),
                              grown.getElseRegion().end());
  grown.thenYield()->insertOperands(grown.thenYield()->getNumOperands(), thenValues);
  grown.elseYield()->insertOperands(grown.elseYield()->getNumOperands(), elseValues);
  rewriter.replaceOp(guard, grown.getResults().take_front(guard.getNumResults()));
  return grown;
}

/// The type of P carried across the back edge with rounded-p.
RankedTensorType registerOperand(Type t) {
  auto plain = cast<RankedTensorType>(t);
  return RankedTensorType::get(plain.getShape(), plain.getElementType(),
                               RegisterOperandAttr::get(t.getContext()));
}

/// The softmax's row sums: the sum reduction of P (f32) in P's block.
Value rowSumsOf(Value pFull, Block *block) {
  for (Operation *user : pFull.getUsers())
    if (auto sum = dyn_cast<TileReduceOp>(user))
      if (sum.getKind() == ReduceKind::sum && sum->getBlock() == block &&
          sum.getTile() == pFull)
        return sum.getResult();
  return Value();
}

void overlap(scf::ForOp loop, KvProducts &m, bool roundedP, bool lateKRelease) {
  IRRewriter rewriter(loop.getContext());
  Location loc = m.pv.getLoc();
  Type pFull = m.p.getIn().getType(), pType = m.p.getType();
  Value rowSums =
      lateKRelease ? rowSumsOf(m.p.getIn(), m.p->getBlock()) : Value();
  tensor::CastOp pCast;
  if (roundedP) {
    pType = registerOperand(pType);
    rewriter.setInsertionPoint(m.p);
    pCast = tensor::CastOp::create(rewriter, m.p.getLoc(),
                                   registerOperand(pFull), m.p.getIn());
    m.p.getInMutable().assign(pCast);
    m.p.getResult().setType(cast<RankedTensorType>(pType));
  }
  SmallVector<Value> inits;
  rewriter.setInsertionPoint(loop);
  inits.push_back(zeroOf(rewriter, loop.getLoc(), roundedP ? pType : pFull));
  for (Value v : m.vOperands)
    inits.push_back(zeroOf(rewriter, loop.getLoc(), v.getType()));
  inits.push_back(zeroOf(rewriter, loop.getLoc(), rewriter.getI1Type()));
  unsigned first = loop.getNumRegionIterArgs();
  // The new iter_args yield themselves for now; the values of the block that
  // computes them are threaded through below.
  auto grown = cast<scf::ForOp>(*loop.replaceWithAdditionalYields(
      rewriter, inits, /*replaceInitOperandUsesInLoop=*/false,
      [](OpBuilder &, Location, ArrayRef<BlockArgument> args) {
        return SmallVector<Value>(args.begin(), args.end());
      }));
  auto carried = grown.getRegionIterArgs().drop_front(first);
  Value pPrev = carried.front(), pending = carried.back();
  IRMapping prev; // V's wait operands -> the previous iteration's
  for (auto [v, c] : llvm::zip(m.vOperands, carried.drop_front().drop_back()))
    prev.map(v, c);
  Value acc = grown.getRegionIterArg(m.accIndex);
  Type sType = m.s.getType(), oType = m.pv.getType();

  // P(j-1) packed before S(j) starts (so its f32 form is dead while S's
  // accumulators fill; zeros, unused, before the first product), then S(j)
  // started, then P(j-1) V(j-1) if an earlier iteration left one. (With
  // rounded-p it comes packed.)
  Value pPacked = pPrev;
  if (!roundedP) {
    rewriter.setInsertionPoint(m.s);
    pPacked = arith::TruncFOp::create(rewriter, loc, pType, pPrev);
  }
  m.s.setAsync(true);
  rewriter.setInsertionPointAfter(m.s);
  auto issue = scf::IfOp::create(rewriter, loc, TypeRange{sType, oType},
                                 pending, /*withElse=*/true);
  {
    OpBuilder::InsertionGuard g(rewriter);
    rewriter.setInsertionPointToStart(issue.thenBlock());
    Value v = rewriter.clone(*m.vWait, prev)->getResult(0);
    auto pv = TileMatmulOp::create(rewriter, loc, oType, pPacked, v, acc,
                                   /*transpose_rhs=*/false, /*async=*/true);
    Value s = TileMmaWaitOp::create(rewriter, loc, m.s, 1);
    scf::YieldOp::create(rewriter, loc, ValueRange{s, pv});
    rewriter.setInsertionPointToStart(issue.elseBlock());
    Value s0 = TileMmaWaitOp::create(rewriter, loc, m.s, 0);
    scf::YieldOp::create(rewriter, loc, ValueRange{s0, acc});
  }
  rewriter.replaceUsesWithIf(m.s.getResult(), issue.getResult(0),
                             [&](OpOperand &use) {
                               return !issue->isAncestor(use.getOwner());
                             });
  if (!rowSums)
    rewriter.moveOpAfter(m.kRelease, issue);

  // After the softmax: P V done, V(j-1) handed back, O rescaled.
  rewriter.setInsertionPoint(m.pv);
  if (rowSums) {
    rewriter.moveOpBefore(m.kRelease, m.pv);
    m.kRelease.getAfterMutable().assign(rowSums);
  }
  Value done = TileMmaWaitOp::create(rewriter, loc, issue.getResult(1), 0);
  auto release = scf::IfOp::create(rewriter, loc, TypeRange{}, pending,
                                   /*withElse=*/false);
  {
    OpBuilder::InsertionGuard g(rewriter);
    rewriter.setInsertionPointToStart(release.thenBlock());
    rewriter.clone(*m.vRelease, prev);
  }
  if (roundedP) { // P(j) rounded once P V(j-1) is done
    rewriter.moveOpAfter(pCast, release);
    rewriter.moveOpAfter(m.p, pCast);
  }
  rewriter.moveOpBefore(m.rescale, m.pv);
  m.rescale.getInputMutable().assign(done);
  rewriter.replaceAllUsesWith(m.pv.getResult(), m.rescale.getResult());

  // This iteration's P and V operands go to the next one.
  SmallVector<Value> next{roundedP ? m.p.getResult() : m.p.getIn()};
  next.append(m.vOperands);
  next.push_back(arith::ConstantOp::create(rewriter, loc, rewriter.getBoolAttr(true)));
  Operation *yield = grown.getBody()->getTerminator();
  if (!m.guard) {
    for (auto [i, v] : llvm::enumerate(next))
      yield->setOperand(first + i, v);
  } else {
    unsigned before = m.guard.getNumResults();
    scf::IfOp guard = addResults(rewriter, m.guard, next,
                                 SmallVector<Value>(carried.begin(), carried.end()));
    for (unsigned i = 0; i < next.size(); ++i)
      yield->setOperand(first + i, guard.getResult(before + i));
  }

  // The products' shared-memory tile waits and releases of this iteration
  // are gone with them (the next iteration or the epilogue does them).
  TileWaitOp vWait = m.vWait;
  TileReleaseOp vRelease = m.vRelease;
  rewriter.eraseOp(m.pv);
  if (!roundedP)
    rewriter.eraseOp(m.p);

  // Epilogue: the last product, if any, synchronously; after the releases
  // that directly follow the loop (a persistent kernel's Q tile: the next
  // program's Q may land while this product runs).
  Operation *after = grown;
  while (isa_and_nonnull<TileReleaseOp>(after->getNextNode()))
    after = after->getNextNode();
  rewriter.setInsertionPointAfter(after);
  Value accOut = grown.getResult(m.accIndex);
  auto results = grown.getResults().drop_front(first);
  IRMapping last;
  for (auto [v, r] : llvm::zip(m.vOperands, results.drop_front().drop_back()))
    last.map(v, r);
  auto tail = scf::IfOp::create(rewriter, loc, TypeRange{oType},
                                results.back(), /*withElse=*/true);
  {
    OpBuilder::InsertionGuard g(rewriter);
    rewriter.setInsertionPointToStart(tail.thenBlock());
    Value p = roundedP ? results.front()
                       : arith::TruncFOp::create(rewriter, loc, pType,
                                                 results.front())
                             .getResult();
    Value v = rewriter.clone(*vWait, last)->getResult(0);
    Value o = TileMatmulOp::create(rewriter, loc, oType, p, v, accOut);
    rewriter.clone(*vRelease, last);
    scf::YieldOp::create(rewriter, loc, o);
    rewriter.setInsertionPointToStart(tail.elseBlock());
    scf::YieldOp::create(rewriter, loc, accOut);
  }
  rewriter.replaceUsesWithIf(accOut, tail.getResult(0), [&](OpOperand &use) {
    return !tail->isAncestor(use.getOwner());
  });
  rewriter.eraseOp(vRelease);
  rewriter.eraseOp(vWait);
}

struct AttnOverlapSoftmax
    : faopt::gpu::impl::AttnOverlapSoftmaxBase<AttnOverlapSoftmax> {
  using AttnOverlapSoftmaxBase::AttnOverlapSoftmaxBase;
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    auto tiling = func->getAttrOfType<TilingAttr>("attn.tiling");
    if (!tiling || tiling.getMma() != "wgmma" || tiling.getCopy() != "tma")
      return;
    bool lateK = lateKRelease &&
                 (!blockLayoutsOnly || faopt::drivenByBlockLayout(func));
    SmallVector<scf::ForOp> loops;
    func.walk([&](scf::ForOp loop) { loops.push_back(loop); });
    for (scf::ForOp loop : loops) {
      FailureOr<KvProducts> m = match(loop);
      if (succeeded(m)) {
        overlap(loop, *m, roundedP, lateK);
        // For the manifest (rounded_p): which form the kernel carries.
        if (roundedP)
          func->setAttr("attn.rounded_p", UnitAttr::get(func.getContext()));
      }
    }
  }
};

} // namespace
