//===- MaskIntervals.cpp - interval arithmetic over mask regions ----------===//
#include "compiler/passes/MaskIntervals.h"

#include "dialects/attn/AttnOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/TypeSwitch.h"
#include <functional>
#include <limits>

using namespace mlir;

namespace faopt {
namespace {

/// The value of an integer constant, if `v` is one.
std::optional<int64_t> constantOf(Value v) {
  APInt c;
  if (matchPattern(v, m_ConstantInt(&c)))
    return c.getSExtValue();
  return std::nullopt;
}

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
  IntervalEmitter(OpBuilder &b, Location loc, bool boundReads = false)
      : b(b), loc(loc), boundReads(boundReads) {}

  void setInt(Value v, Value lo, Value hi) { ints[v] = {lo, hi, true}; }
  /// A region argument that is one outside value (a tensor input).
  void setOuter(Value v, Value outside) { outer[v] = outside; }

  /// Walks the region's block, emitting ranges for every value; returns the
  /// range of the yielded i1.
  BoolRange run(Block &block) {
    for (Operation &op : block.without_terminator())
      visit(op);
    return getBool(block.getTerminator()->getOperand(0));
  }

  /// The range of an index value after run() (unbounded if not modelled).
  IntRange rangeOf(Value v) { return getInt(v); }

private:
  OpBuilder &b;
  Location loc;
  bool boundReads;
  llvm::DenseMap<Value, Value> outer;
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
            [&](auto o) { visitDiv(o); })
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
        .Case<arith::IndexCastOp>([&](auto o) {
          // i32 <-> index: a read's range is kept in index values already.
          IntRange x = getInt(o.getIn());
          if (!x.bounded)
            return unknown(op);
          ints[o] = x;
        })
        .Case<memref::DimOp>([&](auto o) { visitDim(o); })
        .Case<memref::LoadOp>([&](auto o) { visitLoad(o); })
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
  /// So is x / d for a divisor d that is one value over the box (a run-time
  /// parameter such as a chunk size, a sequence length): its sign picks the
  /// direction at run time. Launches refuse a divisor of 0
  /// (spec::zeroDivisor); the bounds' code divides by 1 there all the same,
  /// so that it can never trap.
  template <typename OpTy>
  void visitDiv(OpTy o) {
    IntRange x = getInt(o.getLhs());
    if (!o.getType().isIndex() || !x.bounded)
      return unknown(*o);
    if (std::optional<int64_t> c = constantOf(o.getRhs())) {
      if (*c == 0)
        return unknown(*o);
      Value k = index(*c);
      Value a = OpTy::create(b, loc, x.lo, k);
      Value z = OpTy::create(b, loc, x.hi, k);
      ints[o] = *c > 0 ? IntRange{a, z, true} : IntRange{z, a, true};
      return;
    }
    IntRange y = getInt(o.getRhs());
    if (!y.bounded || y.lo != y.hi)
      return unknown(*o);
    Value zero = index(0);
    Value d = select(cmp(arith::CmpIPredicate::eq, y.lo, zero), index(1), y.lo);
    Value positive = cmp(arith::CmpIPredicate::sgt, d, zero);
    Value a = OpTy::create(b, loc, x.lo, d);
    Value z = OpTy::create(b, loc, x.hi, d);
    ints[o] = {select(positive, a, z), select(positive, z, a), true};
  }

  /// The size of a tensor input: one value over the box.
  void visitDim(memref::DimOp o) {
    Value source = outer.lookup(o.getSource());
    IntRange i = getInt(o.getIndex());
    if (!source || !i.bounded || i.lo != i.hi)
      return unknown(*o);
    Value v = memref::DimOp::create(b, loc, source, i.lo);
    ints[o] = {v, v, true};
  }

  /// An integer tensor read whose indices are bounded: the minimum and
  /// maximum of the entries in the index box (attn.tensor_bounds; an empty
  /// box gives [max, min], which no comparison can satisfy).
  void visitLoad(memref::LoadOp o) {
    Value source = outer.lookup(o.getMemref());
    auto elem = dyn_cast<IntegerType>(o.getType());
    if (!boundReads || !source || !elem || elem.getWidth() > 64 ||
        elem.getWidth() < 2)
      return unknown(*o);
    SmallVector<IntRange> box;
    for (Value i : o.getIndices()) {
      box.push_back(getInt(i));
      if (!box.back().bounded)
        return unknown(*o);
    }
    SmallVector<Value> lower, upper;
    for (const IntRange &r : box) {
      lower.push_back(r.lo);
      upper.push_back(r.hi);
    }
    auto bounds = attn::TensorBoundsOp::create(b, loc, source, lower, upper);
    ints[o] = {bounds.getMin(), bounds.getMax(), true};
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

/// Coefficient of kv in each index value of a mask region, when the value is
/// linear in kv (nullopt otherwise).
llvm::DenseMap<Value, std::optional<int64_t>> kvCoefficients(Block &block) {
  llvm::DenseMap<Value, std::optional<int64_t>> coef;
  for (unsigned i = 0; i < block.getNumArguments(); ++i)
    coef[block.getArgument(i)] = i == 3 ? 1 : 0; // params: kv-free
  auto get = [&](Value v) -> std::optional<int64_t> {
    auto it = coef.find(v);
    return it == coef.end() ? std::nullopt : it->second;
  };
  for (Operation &op : block.without_terminator()) {
    if (op.getNumResults() != 1 || !op.getResult(0).getType().isIndex())
      continue;
    Value r = op.getResult(0);
    std::optional<int64_t> result;
    if (isa<arith::ConstantOp>(op)) {
      result = 0;
    } else if (auto add = dyn_cast<arith::AddIOp>(op)) {
      auto a = get(add.getLhs()), b = get(add.getRhs());
      if (a && b)
        result = *a + *b;
    } else if (auto sub = dyn_cast<arith::SubIOp>(op)) {
      auto a = get(sub.getLhs()), b = get(sub.getRhs());
      if (a && b)
        result = *a - *b;
    } else if (auto mul = dyn_cast<arith::MulIOp>(op)) {
      auto a = get(mul.getLhs()), b = get(mul.getRhs());
      auto ka = constantOf(mul.getLhs()), kb = constantOf(mul.getRhs());
      if (a && kb)
        result = *a * *kb;
      else if (b && ka)
        result = *b * *ka;
      else if (a && b && *a == 0 && *b == 0)
        result = 0;
    } else if (llvm::all_of(op.getOperands(), [&](Value v) {
                 auto c = get(v);
                 return !v.getType().isIndex() || (c && *c == 0);
               })) {
      result = 0; // kv-free
    }
    coef[r] = result;
  }
  return coef;
}

/// Integer parameters are single values over the box; float ones (scores
/// only) stay unmodelled.
void setParams(IntervalEmitter &emitter, Block &block, const PositionBox &box) {
  for (auto [i, p] : llvm::enumerate(box.params)) {
    BlockArgument arg = block.getArgument(4 + i);
    if (arg.getType().isIndex())
      emitter.setInt(arg, p, p);
    else if (isa<MemRefType>(arg.getType()))
      emitter.setOuter(arg, p);
  }
}

} // namespace

KvBounds emitKvBounds(OpBuilder &b, Location loc, Region &mask,
                      const PositionBox &box) {
  Block &block = mask.front();
  auto coef = kvCoefficients(block);
  // Intervals of every value with kv fixed at 0: a value linear in kv is
  // then its kv-free rest.
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  IntervalEmitter emitter(b, loc);
  emitter.setInt(block.getArgument(0), box.batch, box.batch);
  emitter.setInt(block.getArgument(1), box.head, box.head);
  emitter.setInt(block.getArgument(2), box.qFirst, box.qLast);
  emitter.setInt(block.getArgument(3), zero, zero);
  setParams(emitter, block, box);
  emitter.run(block);

  auto cst = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  auto neg = [&](Value v) -> Value { return arith::SubIOp::create(b, loc, zero, v); };
  auto plus = [&](Value v, int64_t k) -> Value {
    return arith::AddIOp::create(b, loc, v, cst(k));
  };
  // One side of a bound: a value, proven unconstrained, or unknown.
  struct Side {
    Value v;
    bool known = false;
  };
  auto bound = [](Value v) { return Side{v, true}; };
  const Side free{Value(), true}, unknown{Value(), false};
  auto minMax = [&](Value x, Value y, bool takeMax) -> Value {
    return takeMax ? Value(arith::MaxSIOp::create(b, loc, x, y))
                   : Value(arith::MinSIOp::create(b, loc, x, y));
  };
  // Intersection: the tighter of two bounds; a bound beats anything.
  auto meet = [&](Side x, Side y, bool isLower) -> Side {
    if (x.v && y.v)
      return bound(minMax(x.v, y.v, isLower));
    if (x.v)
      return x;
    if (y.v)
      return y;
    return x.known && y.known ? free : unknown;
  };
  // Union: the looser of two bounds; unconstrained beats anything.
  auto join = [&](Side x, Side y, bool isLower) -> Side {
    if ((x.known && !x.v) || (y.known && !y.v))
      return free;
    if (x.v && y.v)
      return bound(minMax(x.v, y.v, !isLower));
    return unknown;
  };
  struct Both {
    Side lo, hi;
  };
  // floor(Y / d) == floor(Z / d) with Z = kv + z and Y free of kv (chunked
  // attention, q / c == kv / c, c a constant or a run-time value): kv lies
  // in the chunk of one of Y's values. For d > 0 that chunk is
  // [d m, d m + d - 1] with m = floor(Y / d) in [floor(Ylo / d),
  // floor(Yhi / d)]; for d < 0 it is [d m + d + 1, d m]; the sign is read at
  // run time. (d = 0, which launches refuse, is taken as 1, as in visitDiv.)
  auto chunkBounds = [&](arith::CmpIOp cmp) -> std::optional<Both> {
    if (cmp.getPredicate() != arith::CmpIPredicate::eq)
      return std::nullopt;
    auto y = cmp.getLhs().getDefiningOp<arith::FloorDivSIOp>();
    auto z = cmp.getRhs().getDefiningOp<arith::FloorDivSIOp>();
    if (!y || !z)
      return std::nullopt;
    std::optional<int64_t> ky = constantOf(y.getRhs()),
                           kz = constantOf(z.getRhs());
    if (y.getRhs() != z.getRhs() && !(ky && kz && *ky == *kz))
      return std::nullopt;
    std::optional<int64_t> cy = coef.lookup(y.getLhs()),
                           cz = coef.lookup(z.getLhs());
    if (cy && cz && *cy == 1 && *cz == 0) {
      std::swap(y, z);
      std::swap(cy, cz);
    }
    if (!cy || !cz || *cy != 0 || *cz != 1)
      return std::nullopt;
    IntRange yr = emitter.rangeOf(y.getLhs()), zr = emitter.rangeOf(z.getLhs()),
             dr = emitter.rangeOf(y.getRhs());
    if (!yr.bounded || !zr.bounded || !dr.bounded || dr.lo != dr.hi)
      return std::nullopt;
    using P = arith::CmpIPredicate;
    Value isZero = arith::CmpIOp::create(b, loc, P::eq, dr.lo, zero);
    Value d = arith::SelectOp::create(b, loc, isZero, cst(1), dr.lo);
    Value positive = arith::CmpIOp::create(b, loc, P::sgt, d, zero);
    auto mul = [&](Value x, Value k) -> Value {
      return arith::MulIOp::create(b, loc, x, k);
    };
    auto sub = [&](Value x, Value k) -> Value {
      return arith::SubIOp::create(b, loc, x, k);
    };
    Value first = mul(arith::FloorDivSIOp::create(b, loc, yr.lo, d), d);
    Value last = mul(arith::FloorDivSIOp::create(b, loc, yr.hi, d), d);
    Value loPos = first;
    Value loNeg = plus(arith::AddIOp::create(b, loc, first, d), 1);
    Value hiPos = plus(arith::AddIOp::create(b, loc, last, d), -1);
    Value hiNeg = last;
    Value lo = arith::SelectOp::create(b, loc, positive, loPos, loNeg);
    Value hi = arith::SelectOp::create(b, loc, positive, hiPos, hiNeg);
    return Both{bound(sub(lo, zr.hi)), bound(sub(hi, zr.lo))};
  };
  std::function<Both(Value)> bounds = [&](Value v) -> Both {
    Operation *def = v.getDefiningOp();
    if (!def || def->getBlock() != &block)
      return {unknown, unknown};
    if (auto andOp = dyn_cast<arith::AndIOp>(def)) {
      Both x = bounds(andOp.getLhs()), y = bounds(andOp.getRhs());
      return {meet(x.lo, y.lo, true), meet(x.hi, y.hi, false)};
    }
    if (auto orOp = dyn_cast<arith::OrIOp>(def)) {
      Both x = bounds(orOp.getLhs()), y = bounds(orOp.getRhs());
      return {join(x.lo, y.lo, true), join(x.hi, y.hi, false)};
    }
    if (auto c = dyn_cast<arith::ConstantOp>(def)) {
      auto attr = dyn_cast<IntegerAttr>(c.getValue());
      if (attr && !attr.getValue().getBoolValue())
        return {bound(cst(1)), bound(cst(0))}; // never: an empty range
      return {free, free};
    }
    auto cmp = dyn_cast<arith::CmpIOp>(def);
    if (!cmp || !cmp.getLhs().getType().isIndex())
      return {unknown, unknown};
    if (std::optional<Both> chunk = chunkBounds(cmp))
      return *chunk;
    auto cl = coef.lookup(cmp.getLhs()), cr = coef.lookup(cmp.getRhs());
    if (!cl || !cr)
      return {unknown, unknown};
    int64_t a = *cl - *cr;
    if (a == 0)
      return {free, free}; // does not depend on kv
    if (a != 1 && a != -1)
      return {unknown, unknown};
    auto lr = emitter.rangeOf(cmp.getLhs()), rr = emitter.rangeOf(cmp.getRhs());
    if (!lr.bounded || !rr.bounded)
      return {unknown, unknown};
    // lhs - rhs = a * kv + r with r in [rlo, rhi].
    Value rlo = arith::SubIOp::create(b, loc, lr.lo, rr.hi);
    Value rhi = arith::SubIOp::create(b, loc, lr.hi, rr.lo);
    using P = arith::CmpIPredicate;
    switch (cmp.getPredicate()) {
    case P::slt: // a kv + r < 0
      return a == 1 ? Both{free, bound(plus(neg(rlo), -1))}
                    : Both{bound(plus(rlo, 1)), free};
    case P::sle:
      return a == 1 ? Both{free, bound(neg(rlo))} : Both{bound(rlo), free};
    case P::sgt: // a kv + r > 0
      return a == 1 ? Both{bound(plus(neg(rhi), 1)), free}
                    : Both{free, bound(plus(rhi, -1))};
    case P::sge:
      return a == 1 ? Both{bound(neg(rhi)), free} : Both{free, bound(rhi)};
    case P::eq:
      return a == 1 ? Both{bound(neg(rhi)), bound(neg(rlo))}
                    : Both{bound(rlo), bound(rhi)};
    default:
      return {unknown, unknown};
    }
  };
  Both r = bounds(block.getTerminator()->getOperand(0));
  return {r.lo.v, r.hi.v, r.lo.known, r.hi.known};
}


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

  IntervalEmitter emitter(b, loc, box.boundTensorReads);
  emitter.setInt(block.getArgument(0), box.batch, box.batch);
  emitter.setInt(block.getArgument(1), box.head, box.head);
  emitter.setInt(block.getArgument(2), box.qFirst, box.qLast);
  emitter.setInt(block.getArgument(3), box.kvFirst, kvHi);
  setParams(emitter, block, box);
  BoolRange r = emitter.run(block);

  Value trueV = arith::ConstantIntOp::create(b, loc, 1, 1);
  Value never = arith::XOrIOp::create(b, loc, r.canBeFalse, trueV);
  return {arith::AndIOp::create(b, loc, someInBounds, r.canBeTrue),
          arith::AndIOp::create(b, loc, allInBounds, never)};
}

} // namespace faopt
