//===- NarrowIndexMath.cpp - 32-bit index arithmetic in device functions --===//
//
// Index values are 64-bit in the generated CUDA, and the per-element mask
// code of a partial block is all index arithmetic: every add is two
// instructions, every compare two more. Positions and sizes are far smaller
// (the runtime rejects sequences over 2^29), so this pass bounds every index
// value of an `attn.device_function` from the `attn.range` its arguments
// carry (set by attn-outline-tile-maps: positions, sizes) and moves each
// operation whose operands and result provably fit in 32 bits to i32.
//
// Kernels get the same treatment: their program decomposition is a chain
// of unsigned divisions (64-bit ones are a ~100-instruction subroutine
// each, on the way to the first tile copy) and their index values hold
// registers the consumers' accumulators need. There the bounds come from
// memref.dim (sizes below 2^31), the grid's extent and the facts
// attn-schedule-grid states with `attn.range` (program and head indices
// below 2^31: the runtime launches at most 2^31 - 1 programs; sequences of
// at most 2^29). Unsigned division and remainder move only with
// non-negative operands. List builders (attn.block_list_builder) likewise,
// on the launch facts attn-outline-tile-maps states for them: a builder is
// one latency-bound chain per thread, where every 64-bit operation costs
// time (docs/performance.md item 45).
//
//   %d = arith.subi %q, %kv : index           // q, kv in [0, 2^29 + 1024]
//   %c = arith.cmpi sle, %d, %w : index       // w: a parameter, any int64
// becomes
//   %q32 = arith.index_cast %q : index to i32
//   %kv32 = arith.index_cast %kv : index to i32
//   %d32 = arith.subi %q32, %kv32 : i32
//   %d = arith.index_cast %d32 : i32 to index  // for the 64-bit compare
//   %c = arith.cmpi sle, %d, %w : index
//
// A signed division of a bounded value by one it cannot bound (a chunk
// given at launch: 64-bit division by a variable is a subroutine, and the
// run-time chunk kernel ran one per kv-block and score) first gets its
// divisor clamped to +-(max |dividend| + 1): past that, the quotient is 0
// or +-1 by the signs alone, so the clamp changes no result, and the
// division moves to i32 (docs/performance.md item 77).
//
// Values it cannot bound (parameters, loop variables) stay 64-bit, so the
// result is the same for every input. The loops' own counters stay 64-bit
// on purpose, even where their bounds fit: counting them in i32 cost dense,
// causal and the window 7-19% at 8k on the H200 (ptxas moved the loop values
// out of uniform registers and added convergence barriers; docs/
// performance.md item 54).
//
//===----------------------------------------------------------------------===//
#include "compiler/targets/gpu/Passes.h"

#include "compiler/targets/gpu/IndexRanges.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

namespace faopt::gpu {
#define GEN_PASS_DEF_ATTNNARROWINDEXMATH
#include "compiler/targets/gpu/Passes.h.inc"
} // namespace faopt::gpu

using namespace mlir;
using faopt::gpu::IndexRanges;

namespace {

bool isSignedPredicate(arith::CmpIPredicate p) {
  using P = arith::CmpIPredicate;
  return p == P::eq || p == P::ne || p == P::slt || p == P::sle ||
         p == P::sgt || p == P::sge;
}

/// Index operations that have an i32 twin with the same meaning when no
/// value overflows.
bool isNarrowableOp(Operation *op) {
  return isa<arith::AddIOp, arith::SubIOp, arith::MulIOp, arith::MinSIOp,
             arith::MaxSIOp, arith::FloorDivSIOp, arith::DivSIOp,
             arith::CeilDivSIOp, arith::RemSIOp, arith::SelectOp,
             arith::ConstantOp, arith::DivUIOp, arith::RemUIOp,
             arith::CeilDivUIOp>(op);
}

/// Unsigned division and remainder keep their meaning in i32 only for
/// operands that are never negative.
bool isUnsignedOp(Operation *op) {
  return isa<arith::DivUIOp, arith::RemUIOp, arith::CeilDivUIOp>(op);
}

struct AttnNarrowIndexMathPass
    : faopt::gpu::impl::AttnNarrowIndexMathBase<AttnNarrowIndexMathPass> {
  void runOnOperation() override {
    for (auto fn : getOperation().getOps<func::FuncOp>())
      if (!fn.isExternal() && (fn->hasAttr("attn.device_function") ||
                               fn->hasAttr("attn.kernel") ||
                               fn->hasAttr("attn.block_list_builder")))
        narrow(fn);
  }

  /// Clamps the unbounded divisor of each signed division whose dividend
  /// fits i32 (see the header), so that the division can move to i32.
  void clampDivisors(func::FuncOp fn) {
    IndexRanges ranges(fn);
    SmallVector<Operation *> divisions;
    fn.walk([&](Operation *op) {
      if (isa<arith::FloorDivSIOp, arith::DivSIOp, arith::CeilDivSIOp>(op) &&
          op->getResult(0).getType().isIndex())
        divisions.push_back(op);
    });
    for (Operation *op : divisions) {
      std::optional<faopt::gpu::Range> x = ranges.of(op->getOperand(0));
      std::optional<faopt::gpu::Range> d = ranges.of(op->getOperand(1));
      if (!x || (d && d->fitsI32()))
        continue;
      if (x->magnitude() + 1 >= INT32_MAX)
        continue;
      const int64_t bound = static_cast<int64_t>(x->magnitude() + 1);
      OpBuilder b(op);
      Location loc = op->getLoc();
      Value lo = arith::MaxSIOp::create(
          b, loc, op->getOperand(1),
          arith::ConstantIndexOp::create(b, loc, -bound));
      Value clamped = arith::MinSIOp::create(
          b, loc, lo, arith::ConstantIndexOp::create(b, loc, bound));
      op->setOperand(1, clamped);
    }
  }

  void narrow(func::FuncOp fn) {
    clampDivisors(fn);
    IndexRanges ranges(fn);
    auto fits = [&](Value v) {
      auto r = ranges.of(v);
      return v.getType().isIndex() && r && r->fitsI32();
    };
    auto fitsUnsigned = [&](Value v) {
      auto r = ranges.of(v);
      return fits(v) && r->lo >= 0;
    };
    // Strictly inside the i32 range: comparing it with any int64 w is the
    // same as comparing it with w saturated to i32.
    auto inside = [&](Value v) {
      auto r = ranges.of(v);
      return v.getType().isIndex() && r && r->lo > INT32_MIN &&
             r->hi < INT32_MAX;
    };
    // Which ops move to i32: index results and operands all bounded; and
    // compares of a value strictly inside i32 with one that may not fit (a
    // parameter, a per-row bound of attn-isolate-kv-bounds).
    llvm::SetVector<Operation *> narrowed, saturated;
    fn.walk([&](Operation *op) {
      if (op->getNumResults() != 1)
        return;
      if (auto cmp = dyn_cast<arith::CmpIOp>(op)) {
        if (!cmp.getLhs().getType().isIndex())
          return;
        if (fits(cmp.getLhs()) && fits(cmp.getRhs()))
          narrowed.insert(op);
        else if (isSignedPredicate(cmp.getPredicate()) &&
                 ((inside(cmp.getLhs()) && !fits(cmp.getRhs())) ||
                  (inside(cmp.getRhs()) && !fits(cmp.getLhs()))))
          saturated.insert(op);
        return;
      }
      if (!isNarrowableOp(op) || !fits(op->getResult(0)))
        return;
      if (auto sel = dyn_cast<arith::SelectOp>(op)) {
        if (fits(sel.getTrueValue()) && fits(sel.getFalseValue()))
          narrowed.insert(op);
        return;
      }
      if (isUnsignedOp(op) ? llvm::all_of(op->getOperands(), fitsUnsigned)
                           : llvm::all_of(op->getOperands(), fits))
        narrowed.insert(op);
    });
    // Constants only move when an i32 user needs them.
    OpBuilder b(fn.getContext());
    Type i32 = b.getI32Type();
    llvm::DenseMap<Value, Value> to32;
    auto narrowValue = [&](Value v) -> Value {
      if (Value n = to32.lookup(v))
        return n;
      if (auto c = v.getDefiningOp<arith::ConstantOp>()) {
        b.setInsertionPoint(c);
        Value n = arith::ConstantIntOp::create(
            b, c.getLoc(), i32, cast<IntegerAttr>(c.getValue()).getInt());
        return to32[v] = n;
      }
      if (auto arg = dyn_cast<BlockArgument>(v))
        b.setInsertionPointToStart(arg.getOwner());
      else
        b.setInsertionPointAfter(v.getDefiningOp());
      Value n = arith::IndexCastOp::create(b, v.getLoc(), i32, v);
      return to32[v] = n;
    };
    SmallVector<Operation *> dead, widened;
    // A value that may not fit (a parameter, a wide per-row bound),
    // saturated to i32 once.
    llvm::DenseMap<Value, Value> saturatedOf;
    auto saturate = [&](Value v) -> Value {
      if (Value s = saturatedOf.lookup(v))
        return s;
      if (auto arg = dyn_cast<BlockArgument>(v))
        b.setInsertionPointToStart(arg.getOwner());
      else
        b.setInsertionPointAfter(v.getDefiningOp());
      Location loc = v.getLoc();
      Value lo = arith::ConstantIndexOp::create(b, loc, INT32_MIN);
      Value hi = arith::ConstantIndexOp::create(b, loc, INT32_MAX);
      Value clamped = arith::MinSIOp::create(
          b, loc, arith::MaxSIOp::create(b, loc, v, lo), hi);
      Value s = arith::IndexCastOp::create(b, loc, i32, clamped);
      return saturatedOf[v] = s;
    };
    for (Operation *op : narrowed) {
      if (isa<arith::ConstantOp>(op))
        continue;
      SmallVector<Value> operands;
      for (Value v : op->getOperands())
        operands.push_back(v.getType().isIndex() ? narrowValue(v) : v);
      b.setInsertionPoint(op);
      OperationState state(op->getLoc(), op->getName(), operands,
                           isa<arith::CmpIOp>(op)
                               ? TypeRange(op->getResultTypes())
                               : TypeRange(i32),
                           op->getAttrs());
      Operation *twin = b.create(state);
      Value result = op->getResult(0);
      if (isa<arith::CmpIOp>(op)) {
        result.replaceAllUsesWith(twin->getResult(0));
      } else {
        to32[result] = twin->getResult(0);
        // 64-bit users see the value widened back (sign extension).
        if (!result.use_empty()) {
          b.setInsertionPointAfter(twin);
          Value wide = arith::IndexCastOp::create(b, op->getLoc(),
                                                  b.getIndexType(),
                                                  twin->getResult(0));
          result.replaceAllUsesWith(wide);
          to32[wide] = twin->getResult(0);
          widened.push_back(wide.getDefiningOp());
        }
      }
      dead.push_back(op);
    }
    for (Operation *op : saturated) {
      auto cmp = cast<arith::CmpIOp>(op);
      Value lhs = cmp.getLhs(), rhs = cmp.getRhs();
      // (An operand that fits may by now be the widening of an i32 twin.)
      auto bounded = [&](Value v) { return to32.count(v) || fits(v); };
      Value l = bounded(lhs) ? narrowValue(lhs) : saturate(lhs);
      Value r = bounded(rhs) ? narrowValue(rhs) : saturate(rhs);
      b.setInsertionPoint(cmp);
      Value twin =
          arith::CmpIOp::create(b, cmp.getLoc(), cmp.getPredicate(), l, r);
      cmp.getResult().replaceAllUsesWith(twin);
      dead.push_back(cmp);
    }
    for (Operation *op : llvm::reverse(dead))
      if (op->use_empty())
        op->erase();
    // Widenings whose users all moved to i32 too, and index constants.
    for (Operation *op : widened)
      if (op->use_empty())
        op->erase();
    for (Operation *op : narrowed)
      if (isa<arith::ConstantOp>(op) && op->use_empty())
        op->erase();
  }
};

} // namespace
