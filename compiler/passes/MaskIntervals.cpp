//===- MaskIntervals.cpp - interval arithmetic over mask regions ----------===//
#include "compiler/passes/MaskIntervals.h"

#include "dialects/attn/AttnOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;

namespace faopt {
namespace {

/// [lo, hi] of an index value; `bounded == false` means "any index".
struct IntRange {
  Value lo, hi;
  bool bounded = false;
};

/// What an i1 value may be over the box.
struct BoolRange {
  Value canBeTrue, canBeFalse;
};

class IntervalEmitter {
public:
  IntervalEmitter(OpBuilder &b, Location loc) : b(b), loc(loc) {}

  void setInt(Value v, Value lo, Value hi) { ints[v] = {lo, hi, true}; }

  /// Walks the region's block, emitting ranges for every value; returns the
  /// range of the yielded i1.
  BoolRange run(Block &block) {
    for (Operation &op : block.without_terminator())
      visit(op);
    return getBool(block.getTerminator()->getOperand(0));
  }

private:
  OpBuilder &b;
  Location loc;
  llvm::DenseMap<Value, IntRange> ints;
  llvm::DenseMap<Value, BoolRange> bools;

  Value index(int64_t c) { return arith::ConstantIndexOp::create(b, loc, c); }
  Value boolean(bool c) { return arith::ConstantIntOp::create(b, loc, c, 1); }
  Value cmp(arith::CmpIPredicate p, Value x, Value y) {
    return arith::CmpIOp::create(b, loc, p, x, y);
  }
  Value andI(Value x, Value y) { return arith::AndIOp::create(b, loc, x, y); }
  Value orI(Value x, Value y) { return arith::OrIOp::create(b, loc, x, y); }
  Value notI(Value x) { return arith::XOrIOp::create(b, loc, x, boolean(true)); }
  Value minI(Value x, Value y) { return arith::MinSIOp::create(b, loc, x, y); }
  Value maxI(Value x, Value y) { return arith::MaxSIOp::create(b, loc, x, y); }
  Value select(Value c, Value x, Value y) {
    return arith::SelectOp::create(b, loc, c, x, y);
  }

  IntRange getInt(Value v) {
    auto it = ints.find(v);
    return it == ints.end() ? IntRange() : it->second;
  }
  BoolRange getBool(Value v) {
    auto it = bools.find(v);
    if (it != bools.end())
      return it->second;
    return {boolean(true), boolean(true)}; // unknown: may be either
  }

  void unknown(Operation &op) {
    for (Value r : op.getResults())
      if (r.getType().isInteger(1))
        bools[r] = {boolean(true), boolean(true)};
    // Index results stay absent from `ints`: unbounded.
  }

  void visit(Operation &op) {
    llvm::TypeSwitch<Operation *>(&op)
        .Case<arith::ConstantOp>([&](auto c) { visitConstant(c); })
        .Case<arith::AddIOp>([&](auto o) {
          binary(o, [&](IntRange x, IntRange y) {
            return IntRange{arith::AddIOp::create(b, loc, x.lo, y.lo),
                            arith::AddIOp::create(b, loc, x.hi, y.hi), true};
          });
        })
        .Case<arith::SubIOp>([&](auto o) {
          binary(o, [&](IntRange x, IntRange y) {
            return IntRange{arith::SubIOp::create(b, loc, x.lo, y.hi),
                            arith::SubIOp::create(b, loc, x.hi, y.lo), true};
          });
        })
        .Case<arith::MulIOp>([&](auto o) { visitMul(o); })
        .Case<arith::FloorDivSIOp, arith::DivSIOp, arith::CeilDivSIOp>(
            [&](auto o) { visitDivByConstant(o); })
        .Case<arith::MinSIOp>([&](auto o) {
          binary(o, [&](IntRange x, IntRange y) {
            return IntRange{minI(x.lo, y.lo), minI(x.hi, y.hi), true};
          });
        })
        .Case<arith::MaxSIOp>([&](auto o) {
          binary(o, [&](IntRange x, IntRange y) {
            return IntRange{maxI(x.lo, y.lo), maxI(x.hi, y.hi), true};
          });
        })
        .Case<arith::CmpIOp>([&](auto o) { visitCmp(o); })
        .Case<arith::AndIOp>([&](auto o) {
          if (!o.getType().isInteger(1))
            return unknown(op);
          BoolRange x = getBool(o.getLhs()), y = getBool(o.getRhs());
          bools[o] = {andI(x.canBeTrue, y.canBeTrue),
                      orI(x.canBeFalse, y.canBeFalse)};
        })
        .Case<arith::OrIOp>([&](auto o) {
          if (!o.getType().isInteger(1))
            return unknown(op);
          BoolRange x = getBool(o.getLhs()), y = getBool(o.getRhs());
          bools[o] = {orI(x.canBeTrue, y.canBeTrue),
                      andI(x.canBeFalse, y.canBeFalse)};
        })
        .Case<arith::XOrIOp>([&](auto o) {
          if (!o.getType().isInteger(1))
            return unknown(op);
          bools[o] = xorRange(getBool(o.getLhs()), getBool(o.getRhs()));
        })
        .Case<arith::SelectOp>([&](auto o) { visitSelect(o); })
        .Default([&](Operation *) { unknown(op); });
  }

  void visitConstant(arith::ConstantOp c) {
    auto attr = dyn_cast<IntegerAttr>(c.getValue());
    if (!attr)
      return unknown(*c);
    if (c.getType().isInteger(1)) {
      bool v = attr.getValue().getBoolValue();
      bools[c] = {boolean(v), boolean(!v)};
    } else if (c.getType().isIndex()) {
      Value v = index(attr.getInt());
      ints[c] = {v, v, true};
    } else {
      unknown(*c);
    }
  }

  template <typename OpTy, typename Fn>
  void binary(OpTy o, Fn fn) {
    IntRange x = getInt(o.getLhs()), y = getInt(o.getRhs());
    if (!o.getType().isIndex() || !x.bounded || !y.bounded)
      return unknown(*o);
    ints[o] = fn(x, y);
  }

  static std::optional<int64_t> constantOf(Value v) {
    APInt c;
    if (matchPattern(v, m_ConstantInt(&c)))
      return c.getSExtValue();
    return std::nullopt;
  }

  void visitMul(arith::MulIOp o) {
    IntRange x = getInt(o.getLhs()), y = getInt(o.getRhs());
    if (!o.getType().isIndex() || !x.bounded || !y.bounded)
      return unknown(*o);
    // By a constant: scale (and swap the ends for a negative one).
    std::optional<int64_t> c = constantOf(o.getRhs());
    IntRange r = x;
    if (!c) {
      c = constantOf(o.getLhs());
      r = y;
    }
    if (c) {
      Value k = index(*c);
      Value a = arith::MulIOp::create(b, loc, r.lo, k);
      Value z = arith::MulIOp::create(b, loc, r.hi, k);
      ints[o] = *c >= 0 ? IntRange{a, z, true} : IntRange{z, a, true};
      return;
    }
    Value p[4] = {arith::MulIOp::create(b, loc, x.lo, y.lo),
                  arith::MulIOp::create(b, loc, x.lo, y.hi),
                  arith::MulIOp::create(b, loc, x.hi, y.lo),
                  arith::MulIOp::create(b, loc, x.hi, y.hi)};
    ints[o] = {minI(minI(p[0], p[1]), minI(p[2], p[3])),
               maxI(maxI(p[0], p[1]), maxI(p[2], p[3])), true};
  }

  /// x / c for a constant c != 0 is monotone in x (non-decreasing for c > 0).
  template <typename OpTy>
  void visitDivByConstant(OpTy o) {
    IntRange x = getInt(o.getLhs());
    std::optional<int64_t> c = constantOf(o.getRhs());
    if (!o.getType().isIndex() || !x.bounded || !c || *c == 0)
      return unknown(*o);
    Value k = index(*c);
    Value a = OpTy::create(b, loc, x.lo, k);
    Value z = OpTy::create(b, loc, x.hi, k);
    ints[o] = *c > 0 ? IntRange{a, z, true} : IntRange{z, a, true};
  }

  void visitSelect(arith::SelectOp o) {
    BoolRange c = getBool(o.getCondition());
    if (o.getType().isInteger(1)) {
      BoolRange x = getBool(o.getTrueValue()), y = getBool(o.getFalseValue());
      bools[o] = {orI(andI(c.canBeTrue, x.canBeTrue),
                      andI(c.canBeFalse, y.canBeTrue)),
                  orI(andI(c.canBeTrue, x.canBeFalse),
                      andI(c.canBeFalse, y.canBeFalse))};
      return;
    }
    IntRange x = getInt(o.getTrueValue()), y = getInt(o.getFalseValue());
    if (!o.getType().isIndex() || !x.bounded || !y.bounded)
      return unknown(*o);
    // Hull of the branches that may be taken.
    Value lo = select(c.canBeFalse,
                      select(c.canBeTrue, minI(x.lo, y.lo), y.lo), x.lo);
    Value hi = select(c.canBeFalse,
                      select(c.canBeTrue, maxI(x.hi, y.hi), y.hi), x.hi);
    ints[o] = {lo, hi, true};
  }

  BoolRange xorRange(BoolRange x, BoolRange y) {
    return {orI(andI(x.canBeTrue, y.canBeFalse), andI(x.canBeFalse, y.canBeTrue)),
            orI(andI(x.canBeTrue, y.canBeTrue), andI(x.canBeFalse, y.canBeFalse))};
  }

  void visitCmp(arith::CmpIOp o) {
    using P = arith::CmpIPredicate;
    if (o.getLhs().getType().isInteger(1)) {
      BoolRange x = getBool(o.getLhs()), y = getBool(o.getRhs());
      BoolRange differ = xorRange(x, y);
      if (o.getPredicate() == P::ne)
        bools[o] = differ;
      else if (o.getPredicate() == P::eq)
        bools[o] = {differ.canBeFalse, differ.canBeTrue};
      else
        unknown(*o);
      return;
    }
    IntRange x = getInt(o.getLhs()), y = getInt(o.getRhs());
    if (!x.bounded || !y.bounded)
      return unknown(*o);
    switch (o.getPredicate()) {
    case P::slt: // x < y
      bools[o] = {cmp(P::slt, x.lo, y.hi), cmp(P::sge, x.hi, y.lo)};
      return;
    case P::sle:
      bools[o] = {cmp(P::sle, x.lo, y.hi), cmp(P::sgt, x.hi, y.lo)};
      return;
    case P::sgt: // y < x
      bools[o] = {cmp(P::slt, y.lo, x.hi), cmp(P::sge, y.hi, x.lo)};
      return;
    case P::sge:
      bools[o] = {cmp(P::sle, y.lo, x.hi), cmp(P::sgt, y.hi, x.lo)};
      return;
    case P::eq:
    case P::ne: {
      Value overlap = andI(cmp(P::sle, x.lo, y.hi), cmp(P::sle, y.lo, x.hi));
      Value bothPoint = andI(andI(cmp(P::eq, x.lo, x.hi), cmp(P::eq, y.lo, y.hi)),
                             cmp(P::eq, x.lo, y.lo));
      BoolRange eq{overlap, notI(bothPoint)};
      bools[o] = o.getPredicate() == P::eq ? eq
                                           : BoolRange{eq.canBeFalse, eq.canBeTrue};
      return;
    }
    default: // unsigned predicates: not modelled
      return unknown(*o);
    }
  }
};

} // namespace

BlockClass emitMaskBlockClass(OpBuilder &b, Location loc, Region &mask,
                              const PositionBox &box) {
  using P = arith::CmpIPredicate;
  Block &block = mask.front();
  // Positions at or past kvBound are never attended: clamp the kv range to
  // the in-bounds part for `any`; `all` additionally needs the whole block in
  // bounds, in which case the clamped range is the block itself.
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value lastInBounds = arith::SubIOp::create(b, loc, box.kvBound, one);
  Value kvHi = arith::MinSIOp::create(b, loc, box.kvLast, lastInBounds);
  Value someInBounds =
      arith::CmpIOp::create(b, loc, P::sle, box.kvFirst, kvHi);
  Value allInBounds =
      arith::CmpIOp::create(b, loc, P::slt, box.kvLast, box.kvBound);

  IntervalEmitter emitter(b, loc);
  emitter.setInt(block.getArgument(0), box.batch, box.batch);
  emitter.setInt(block.getArgument(1), box.head, box.head);
  emitter.setInt(block.getArgument(2), box.qFirst, box.qLast);
  emitter.setInt(block.getArgument(3), box.kvFirst, kvHi);
  BoolRange r = emitter.run(block);

  Value trueV = arith::ConstantIntOp::create(b, loc, 1, 1);
  Value never = arith::XOrIOp::create(b, loc, r.canBeFalse, trueV);
  return {arith::AndIOp::create(b, loc, someInBounds, r.canBeTrue),
          arith::AndIOp::create(b, loc, allInBounds, never)};
}

} // namespace faopt
