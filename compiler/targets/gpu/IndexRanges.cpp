//===- IndexRanges.cpp - bounds of index values in device functions -------===//
#include "compiler/targets/gpu/IndexRanges.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;

namespace faopt::gpu {

namespace {
std::optional<int64_t> constant(Value v) {
  APInt c;
  if (matchPattern(v, m_ConstantInt(&c)))
    return c.getSExtValue();
  return std::nullopt;
}

__int128 floorDiv(__int128 a, __int128 b) {
  __int128 q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

} // namespace

void stateRange(Value v, int64_t lo, int64_t hi) {
  Operation *op = v.getDefiningOp();
  if (!op || op->getNumResults() != 1 || isa<arith::ConstantOp>(op))
    return;
  op->setAttr("attn.range",
              DenseI64ArrayAttr::get(op->getContext(), {lo, hi}));
}

IndexRanges::IndexRanges(func::FuncOp fn) {
  for (BlockArgument arg : fn.getArguments())
    if (auto r = fn.getArgAttrOfType<DenseI64ArrayAttr>(arg.getArgNumber(),
                                                        "attn.range");
        r && r.size() == 2)
      ranges[arg] = {r[0], r[1]};
  // Pre-order: a loop is seen before its body (its induction variable's
  // range comes from its bounds).
  fn.walk<WalkOrder::PreOrder>([&](Operation *op) { visit(op); });
}

void IndexRanges::binary(Operation *op,
                         function_ref<Range(Range, Range)> fn) {
  auto x = of(op->getOperand(0)), y = of(op->getOperand(1));
  if (x && y)
    ranges[op->getResult(0)] = fn(*x, *y);
}

/// Unsigned division and remainder: ranges only for operands that are
/// never negative (their unsigned and signed values agree).
static bool nonNegative(std::optional<Range> r) { return r && r->lo >= 0; }

void IndexRanges::visit(Operation *op) {
  llvm::TypeSwitch<Operation *>(op)
      .Case<arith::ConstantOp>([&](auto c) {
        if (auto i = dyn_cast<IntegerAttr>(c.getValue());
            i && !c.getType().isInteger(1))
          ranges[c] = {i.getInt(), i.getInt()};
      })
      .Case<arith::AddIOp>([&](auto o) {
        binary(o, [](Range x, Range y) {
          return Range{x.lo + y.lo, x.hi + y.hi};
        });
      })
      .Case<arith::SubIOp>([&](auto o) {
        binary(o, [](Range x, Range y) {
          return Range{x.lo - y.hi, x.hi - y.lo};
        });
      })
      .Case<arith::MulIOp>([&](auto o) {
        binary(o, [](Range x, Range y) {
          __int128 p[4] = {x.lo * y.lo, x.lo * y.hi, x.hi * y.lo, x.hi * y.hi};
          return Range{std::min({p[0], p[1], p[2], p[3]}),
                       std::max({p[0], p[1], p[2], p[3]})};
        });
      })
      // min / max bound their result by one known operand (a clamp of a
      // run-time parameter into [0, blocks] is small).
      .Case<arith::MinSIOp>([&](auto o) {
        auto x = orAny(o.getLhs()), y = orAny(o.getRhs());
        if (of(o.getLhs()) || of(o.getRhs()))
          ranges[o] = {std::min(x.lo, y.lo), std::min(x.hi, y.hi)};
      })
      .Case<arith::MaxSIOp>([&](auto o) {
        auto x = orAny(o.getLhs()), y = orAny(o.getRhs());
        if (of(o.getLhs()) || of(o.getRhs()))
          ranges[o] = {std::max(x.lo, y.lo), std::max(x.hi, y.hi)};
      })
      .Case<arith::FloorDivSIOp, arith::DivSIOp, arith::CeilDivSIOp>(
          [&](auto o) {
            // By a positive constant: monotone, and |x / c| <= |x|.
            auto x = of(o.getLhs());
            auto c = constant(o.getRhs());
            if (x && c && *c > 0)
              ranges[o] = {floorDiv(x->lo, *c), -floorDiv(-x->hi, *c)};
            // By any other divisor (a run-time chunk): |x / d| <= |x| for
            // every d != 0, whichever the rounding (a division by 0 has no
            // meaning to keep).
            else if (x)
              ranges[o] = {-x->magnitude(), x->magnitude()};
          })
      .Case<arith::DivUIOp>([&](auto o) {
        auto x = of(o.getLhs()), y = of(o.getRhs());
        if (nonNegative(x) && nonNegative(y))
          ranges[o] = {0, x->hi / std::max<__int128>(y->lo, 1)};
      })
      .Case<arith::CeilDivUIOp>([&](auto o) {
        auto x = of(o.getLhs()), y = of(o.getRhs());
        if (nonNegative(x) && nonNegative(y)) {
          __int128 d = std::max<__int128>(y->lo, 1);
          ranges[o] = {0, (x->hi + d - 1) / d};
        }
      })
      .Case<arith::RemUIOp>([&](auto o) {
        auto x = of(o.getLhs()), y = of(o.getRhs());
        if (nonNegative(x) && nonNegative(y))
          ranges[o] = {0, std::min(x->hi, std::max<__int128>(y->hi - 1, 0))};
      })
      .Case<arith::RemSIOp>([&](auto o) {
        auto c = constant(o.getRhs());
        if (c && *c > 0)
          ranges[o] = {-(*c - 1), *c - 1};
      })
      .Case<arith::SelectOp>([&](auto o) {
        auto x = of(o.getTrueValue()), y = of(o.getFalseValue());
        if (x && y && !o.getType().isInteger(1))
          ranges[o] = {std::min(x->lo, y->lo), std::max(x->hi, y->hi)};
      })
      .Case<arith::IndexCastOp>([&](auto o) {
        auto in = dyn_cast<IntegerType>(o.getIn().getType());
        if (in && in.getWidth() <= 32)
          ranges[o] = {-(__int128(1) << (in.getWidth() - 1)),
                       (__int128(1) << (in.getWidth() - 1)) - 1};
        else if (auto x = of(o.getIn()))
          ranges[o] = *x;
      })
      .Case<memref::DimOp>([&](auto o) {
        ranges[o] = {0, INT32_MAX}; // sizes of tensor inputs (validated)
      })
      .Case<scf::ForOp>([&](auto f) {
        auto lo = of(f.getLowerBound()), hi = of(f.getUpperBound());
        if (lo && hi)
          ranges[f.getInductionVar()] = {lo->lo, std::max(lo->lo, hi->hi)};
      })
      .Case<scf::ForallOp>([&](auto f) {
        // Normalized loops (from 0, step 1): iv in [0, upper - 1].
        if (!f.isNormalized())
          return;
        for (auto [iv, ub] :
             llvm::zip(f.getInductionVars(), f.getMixedUpperBound())) {
          std::optional<Range> hi;
          if (auto v = dyn_cast<Value>(ub))
            hi = of(v);
          else if (auto c = getConstantIntValue(ub))
            hi = Range{*c, *c};
          if (hi)
            ranges[iv] = {0, std::max<__int128>(hi->hi - 1, 0)};
        }
      });
  // A fact the IR states (attn.range on the op: what every launch
  // guarantees, e.g. attn-schedule-grid's program and head indices below
  // 2^31) narrows what the operands give.
  if (op->getNumResults() == 1)
    if (auto r = op->getAttrOfType<DenseI64ArrayAttr>("attn.range");
        r && r.size() == 2) {
      Range fact{r[0], r[1]};
      auto it = ranges.find(op->getResult(0));
      if (it == ranges.end())
        ranges[op->getResult(0)] = fact;
      else
        it->second = {std::max(it->second.lo, fact.lo),
                      std::min(it->second.hi, fact.hi)};
    }
}

} // namespace faopt::gpu
