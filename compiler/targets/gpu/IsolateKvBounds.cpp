//===- IsolateKvBounds.cpp - per-row kv bounds for per-element masks ------===//
//
// A partial block's mask is evaluated on every score a thread holds (64 per
// kv-block at 128 x 64 tiles), so each compare or subtraction in it costs
// 64 instructions. Most mask terms are linear in kv with coefficient +-1
// (causal, windows, prefixes, the sequence bound), and such a term is a
// bound on kv that depends only on the row:
//
//   q + sk - sq - kv <= w      is      kv >= q + sk - sq - w
//
// This pass rewrites each and/or tree of such terms in an
// `attn.device_function` (the argument marked `attn.kv_position` is kv)
// into at most two compares against per-row bounds: terms joined by && give
// the largest lower and the smallest upper bound, terms joined by || that
// all bound kv from the same side give the loosest one; a chunk compare,
// floor(kv / C) == X for a constant C, is C·X <= kv <= C·X + C - 1 (for a
// divisor d given at run time, d·X + min(0, d + 1) <= kv <= d·X +
// max(0, d - 1), whichever its sign: no per-score division is left). Terms
// that are not bounds (document ids) stay as they are, joined by &&:
//
//   (r >= kv && r - kv <= w && kv - r <= 0) && kv < sk
// becomes
//   kv >= r - w && kv <= min(r, sk - 1)
//
// The bounds are computed from the row's values only, which the CUDA
// compiler then evaluates once per row instead of once per element.
//
// Exactness: every value the bounds add up must have a range (IndexRanges),
// except at most one per term (a run-time parameter), which is clamped to
// +-2^41 first: the rest of the term lies within +-2^39 of kv, so the compare
// gives the same answer for every value of the parameter, and no sum of the
// bounds can overflow 64 bits.
//
//===----------------------------------------------------------------------===//
#include "compiler/targets/gpu/Passes.h"

#include "compiler/targets/gpu/IndexRanges.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/RegionUtils.h"

namespace faopt::gpu {
#define GEN_PASS_DEF_ATTNISOLATEKVBOUNDS
#include "compiler/targets/gpu/Passes.h.inc"
} // namespace faopt::gpu

using namespace mlir;
using faopt::gpu::IndexRanges;
using faopt::gpu::Range;

namespace {

/// The rest of a term must stay this close to kv for the clamp of an
/// unbounded value to leave the compare unchanged.
constexpr int64_t kNearKv = int64_t(1) << 39;
/// An unbounded value (a parameter) is clamped to [-kClamp, kClamp].
constexpr int64_t kClamp = faopt::gpu::kUnrangedClamp;

using P = arith::CmpIPredicate;

/// The predicate of `b op a` for `a pred b` (eq and the signed orders).
P swapOperands(P pred) {
  switch (pred) {
  case P::slt:
    return P::sgt;
  case P::sle:
    return P::sge;
  case P::sgt:
    return P::slt;
  case P::sge:
    return P::sle;
  default:
    return pred;
  }
}

/// kvCoefficient * kv + sum of sign * value.
struct LinearForm {
  int64_t kvCoefficient = 0;
  SmallVector<std::pair<int64_t, Value>> terms;
};

/// What an i1 tree says about kv: kv >= lower (if set), kv <= upper (if
/// set), and every value of `others`.
struct KvForm {
  Value lower, upper;
  SmallVector<Value> others;
  unsigned boundTerms = 0;   // leaves that became bounds
  bool rearranged = false;   // some bound leaf was not `kv op value` already
};

class KvBoundRewriter {
public:
  KvBoundRewriter(func::FuncOp fn, Value kv)
      : kv(kv), ranges(fn), builder(fn.getContext()) {}

  /// Rewrites the tree rooted at `root` if that saves compares or moves
  /// arithmetic off kv. Returns whether it did (bounds it built and did not
  /// use are left for dead-code elimination).
  bool rewrite(Operation *root) {
    builder.setInsertionPoint(root);
    loc = root->getLoc();
    Block *block = root->getBlock();
    KvForm form = formOf(root->getResult(0), block, /*isRoot=*/true);
    unsigned compares = (form.lower ? 1 : 0) + (form.upper ? 1 : 0);
    if (form.boundTerms == 0 ||
        (compares >= form.boundTerms && !form.rearranged))
      return false;
    SmallVector<Value> conjuncts;
    if (form.lower)
      conjuncts.push_back(
          arith::CmpIOp::create(builder, loc, P::sge, kv, form.lower));
    if (form.upper)
      conjuncts.push_back(
          arith::CmpIOp::create(builder, loc, P::sle, kv, form.upper));
    llvm::append_range(conjuncts, form.others);
    Value result = conjuncts.front();
    for (Value c : ArrayRef<Value>(conjuncts).drop_front())
      result = arith::AndIOp::create(builder, loc, result, c);
    root->getResult(0).replaceAllUsesWith(result);
    return true;
  }

private:
  Value kv;
  IndexRanges ranges;
  OpBuilder builder;
  Location loc = builder.getUnknownLoc();
  llvm::DenseMap<Value, bool> kvDependent;
  llvm::DenseMap<Value, Value> clamped;

  bool dependsOnKv(Value v) {
    if (v == kv)
      return true;
    if (auto it = kvDependent.find(v); it != kvDependent.end())
      return it->second;
    Operation *def = v.getDefiningOp();
    bool depends = def && llvm::any_of(def->getOperands(), [&](Value o) {
                     return dependsOnKv(o);
                   });
    return kvDependent[v] = depends;
  }

  /// Adds sign * v to `form`; fails where kv enters other than by + and -.
  bool linearize(Value v, int64_t sign, LinearForm &form) {
    if (v == kv) {
      form.kvCoefficient += sign;
      return true;
    }
    if (!dependsOnKv(v)) {
      form.terms.push_back({sign, v});
      return true;
    }
    if (auto add = v.getDefiningOp<arith::AddIOp>())
      return linearize(add.getLhs(), sign, form) &&
             linearize(add.getRhs(), sign, form);
    if (auto sub = v.getDefiningOp<arith::SubIOp>())
      return linearize(sub.getLhs(), sign, form) &&
             linearize(sub.getRhs(), -sign, form);
    return false;
  }

  Value constant(int64_t c) {
    return arith::ConstantIndexOp::create(builder, loc, c);
  }

  Value clampOnce(Value v) {
    if (Value c = clamped.lookup(v))
      return c;
    OpBuilder::InsertionGuard guard(builder);
    if (auto arg = dyn_cast<BlockArgument>(v))
      builder.setInsertionPointToStart(arg.getOwner());
    else
      builder.setInsertionPointAfter(v.getDefiningOp());
    Value lo = arith::MaxSIOp::create(builder, loc, v, constant(-kClamp));
    return clamped[v] = arith::MinSIOp::create(builder, loc, lo, constant(kClamp));
  }

  /// The range of a sum of sign * value (leaving out `skip`), if every
  /// value has one.
  std::optional<Range> rangeOfSum(ArrayRef<std::pair<int64_t, Value>> terms,
                                  Value skip = Value()) {
    Range sum{0, 0};
    for (auto [sign, v] : terms) {
      if (v == skip)
        continue;
      std::optional<Range> r = ranges.of(v);
      if (!r)
        return std::nullopt;
      sum = sign > 0 ? Range{sum.lo + r->lo, sum.hi + r->hi}
                     : Range{sum.lo - r->hi, sum.hi - r->lo};
    }
    return sum;
  }

  /// floor((kv + S) / C) pred X with C a positive constant and X free of kv
  /// (chunked attention: q / chunk == kv / chunk) bounds kv too: floor(E /
  /// C) == X holds iff C·X <= E <= C·X + C - 1, and the orders keep one of
  /// the two sides. Every value involved must have a range (no clamping).
  std::optional<KvForm> chunkBoundOf(arith::CmpIOp cmp) {
    P pred = cmp.getPredicate();
    Value lhs = cmp.getLhs(), rhs = cmp.getRhs();
    if (!lhs.getDefiningOp<arith::FloorDivSIOp>() || !dependsOnKv(lhs)) {
      std::swap(lhs, rhs);
      pred = swapOperands(pred);
    }
    auto div = lhs.getDefiningOp<arith::FloorDivSIOp>();
    if (!div || dependsOnKv(rhs) || dependsOnKv(div.getRhs()))
      return std::nullopt;
    APInt c;
    if (!matchPattern(div.getRhs(), m_ConstantInt(&c)))
      return pred == P::eq ? runtimeChunkBoundOf(div, rhs) : std::nullopt;
    if (c.getSExtValue() <= 0)
      return std::nullopt;
    int64_t chunk = c.getSExtValue();
    LinearForm form;
    if (!linearize(div.getLhs(), 1, form) || form.kvCoefficient != 1)
      return std::nullopt;
    std::optional<Range> sum = rangeOfSum(form.terms);
    std::optional<Range> x = ranges.of(rhs);
    if (!sum || !x || x->hi - x->lo > kNearKv || x->lo < -kNearKv ||
        x->hi > kNearKv || chunk > kNearKv || sum->lo < -kNearKv ||
        sum->hi > kNearKv)
      return std::nullopt;
    // kv + S in [C·X + a, C·X + b] is kv in [C·X + a - S, C·X + b - S].
    Value cx = builder.createOrFold<arith::MulIOp>(loc, rhs, constant(chunk));
    auto shifted = [&](int64_t a) {
      Value t = a ? builder.createOrFold<arith::AddIOp>(loc, cx, constant(a))
                  : cx;
      for (auto [sign, v] : form.terms)
        t = sign > 0 ? builder.createOrFold<arith::SubIOp>(loc, t, v)
                     : builder.createOrFold<arith::AddIOp>(loc, t, v);
      return t;
    };
    KvForm result;
    result.boundTerms = 1;
    result.rearranged = true;
    switch (pred) {
    case P::eq:
      result.lower = shifted(0);
      result.upper = shifted(chunk - 1);
      break;
    case P::sle: // floor <= X: E <= C·X + C - 1
      result.upper = shifted(chunk - 1);
      break;
    case P::slt: // floor <= X - 1
      result.upper = shifted(-1);
      break;
    case P::sge: // E >= C·X
      result.lower = shifted(0);
      break;
    case P::sgt: // floor >= X + 1
      result.lower = shifted(chunk);
      break;
    default:
      return std::nullopt;
    }
    return result;
  }

  /// floor((kv + S) / d) == X with d a run-time value (a chunk size given
  /// at launch), whose sign is known only then: for d > 0 it holds iff
  /// d·X <= E <= d·X + d - 1, for d < 0 iff d·X + d + 1 <= E <= d·X, that
  /// is d·X + min(0, d + 1) <= E <= d·X + max(0, d - 1). S must have a
  /// range; d and X need none: with M = max |E| + 2, clamping d to [-M, M]
  /// keeps floor(E / d) for every E in range (beyond, it is 0 or -1 either
  /// way), and floor(E / d) lies in (-M, M), so clamping X there keeps the
  /// answer (none) for an X outside. The product is then at most M², and
  /// each bound is clamped to kv's range widened by one, so that it has a
  /// small range (attn-kv-bounds-in-rows returns it as i32).
  std::optional<KvForm> runtimeChunkBoundOf(arith::FloorDivSIOp div, Value x) {
    LinearForm form;
    std::optional<Range> kvRange = ranges.of(kv);
    if (!kvRange || !linearize(div.getLhs(), 1, form) || form.kvCoefficient != 1)
      return std::nullopt;
    std::optional<Range> sum = rangeOfSum(form.terms);
    if (!sum)
      return std::nullopt;
    __int128 m = Range{kvRange->lo + sum->lo, kvRange->hi + sum->hi}.magnitude() + 2;
    if (m > (int64_t(1) << 30))
      return std::nullopt;
    const int64_t bound = static_cast<int64_t>(m);
    auto clampTo = [&](Value v, int64_t lo, int64_t hi) {
      std::optional<Range> r = ranges.of(v);
      if (r && r->lo >= lo && r->hi <= hi)
        return v;
      Value atLeast = builder.createOrFold<arith::MaxSIOp>(loc, v, constant(lo));
      return builder.createOrFold<arith::MinSIOp>(loc, atLeast, constant(hi));
    };
    Value d = clampTo(div.getRhs(), -bound, bound);
    Value dx = builder.createOrFold<arith::MulIOp>(loc, d, clampTo(x, -bound, bound));
    Value one = constant(1), zero = constant(0);
    Value below = builder.createOrFold<arith::MinSIOp>(
        loc, zero, builder.createOrFold<arith::AddIOp>(loc, d, one));
    Value above = builder.createOrFold<arith::MaxSIOp>(
        loc, zero, builder.createOrFold<arith::SubIOp>(loc, d, one));
    const int64_t kvLo = static_cast<int64_t>(kvRange->lo);
    const int64_t kvHi = static_cast<int64_t>(kvRange->hi);
    auto shifted = [&](Value offset) {
      Value t = builder.createOrFold<arith::AddIOp>(loc, dx, offset);
      for (auto [sign, v] : form.terms)
        t = sign > 0 ? builder.createOrFold<arith::SubIOp>(loc, t, v)
                     : builder.createOrFold<arith::AddIOp>(loc, t, v);
      // kv >= t for t below kv's range is kv >= kvLo, and so on.
      return clampTo(t, kvLo - 1, kvHi + 1);
    };
    KvForm result;
    result.boundTerms = 1;
    result.rearranged = true;
    result.lower = shifted(below);
    result.upper = shifted(above);
    return result;
  }

  /// The bound a compare puts on kv, if it is one and rewriting it is exact.
  std::optional<KvForm> boundOf(arith::CmpIOp cmp) {
    if (!cmp.getLhs().getType().isIndex())
      return std::nullopt;
    P pred = cmp.getPredicate();
    if (pred != P::eq && pred != P::slt && pred != P::sle && pred != P::sgt &&
        pred != P::sge)
      return std::nullopt;
    if (std::optional<KvForm> chunked = chunkBoundOf(cmp))
      return chunked;
    LinearForm form;
    if (!linearize(cmp.getLhs(), 1, form) || !linearize(cmp.getRhs(), -1, form))
      return std::nullopt;
    // c * kv + S pred 0: with c = 1, kv pred -S; with c = -1, S pred kv.
    if (form.kvCoefficient == 1) {
      for (auto &term : form.terms)
        term.first = -term.first;
    } else if (form.kvCoefficient == -1) {
      pred = swapOperands(pred);
    } else {
      return std::nullopt;
    }
    // Now kv pred T, T = the sum of the terms. Bound T's known part.
    std::optional<Range> kvRange = ranges.of(kv);
    if (!kvRange)
      return std::nullopt;
    // At most one term may lack a range (it is clamped below).
    Value unbounded;
    for (auto [sign, v] : form.terms)
      if (!ranges.of(v))
        unbounded = v;
    std::optional<Range> known = rangeOfSum(form.terms, unbounded);
    if (!known || known->hi - kvRange->lo >= kNearKv ||
        kvRange->hi - known->lo >= kNearKv)
      return std::nullopt;

    // Positive terms first: fewer negations.
    llvm::stable_sort(form.terms, [](auto &a, auto &b) {
      return a.first > b.first;
    });
    Value bound;
    for (auto [sign, v] : form.terms) {
      Value x = v == unbounded ? clampOnce(v) : v;
      if (!bound)
        bound = sign > 0 ? x
                         : builder.createOrFold<arith::SubIOp>(loc, constant(0), x);
      else
        bound = sign > 0 ? builder.createOrFold<arith::AddIOp>(loc, bound, x)
                         : builder.createOrFold<arith::SubIOp>(loc, bound, x);
    }
    if (!bound)
      bound = constant(0);
    KvForm result;
    result.boundTerms = 1;
    Value other = cmp.getLhs() == kv ? cmp.getRhs()
                  : cmp.getRhs() == kv ? cmp.getLhs() : Value();
    result.rearranged = !other || dependsOnKv(other);
    switch (pred) {
    case P::sle:
      result.upper = bound;
      break;
    case P::slt:
      result.upper = builder.createOrFold<arith::SubIOp>(loc, bound, constant(1));
      break;
    case P::sge:
      result.lower = bound;
      break;
    case P::sgt:
      result.lower = builder.createOrFold<arith::AddIOp>(loc, bound, constant(1));
      break;
    default: // eq
      result.lower = result.upper = bound;
      break;
    }
    return result;
  }

  Value combine(Value a, Value b, bool takeMax) {
    if (!a || !b)
      return a ? a : b;
    return takeMax ? builder.createOrFold<arith::MaxSIOp>(loc, a, b)
                   : builder.createOrFold<arith::MinSIOp>(loc, a, b);
  }

  KvForm leaf(Value v) {
    KvForm form;
    form.others.push_back(v);
    return form;
  }

  KvForm formOf(Value v, Block *block, bool isRoot = false) {
    Operation *def = v.getDefiningOp();
    // Inner nodes are followed only where nothing else uses them.
    if (!def || def->getBlock() != block || (!isRoot && !v.hasOneUse()))
      return leaf(v);
    if (auto cmp = dyn_cast<arith::CmpIOp>(def)) {
      if (std::optional<KvForm> bound = boundOf(cmp))
        return *bound;
      return leaf(v);
    }
    if (isa<arith::AndIOp>(def) && v.getType().isInteger(1)) {
      KvForm l = formOf(def->getOperand(0), block);
      KvForm r = formOf(def->getOperand(1), block);
      l.lower = combine(l.lower, r.lower, /*takeMax=*/true);
      l.upper = combine(l.upper, r.upper, /*takeMax=*/false);
      llvm::append_range(l.others, r.others);
      l.boundTerms += r.boundTerms;
      l.rearranged |= r.rearranged;
      return l;
    }
    if (isa<arith::OrIOp>(def) && v.getType().isInteger(1)) {
      KvForm l = formOf(def->getOperand(0), block);
      KvForm r = formOf(def->getOperand(1), block);
      // A union of one-sided bounds from the same side is one bound.
      bool onlyBounds = l.others.empty() && r.others.empty();
      bool upperOnly = !l.lower && !r.lower && l.upper && r.upper;
      bool lowerOnly = !l.upper && !r.upper && l.lower && r.lower;
      if (!onlyBounds || !(upperOnly || lowerOnly))
        return leaf(v); // (the bounds built for l and r die unused)
      l.lower = lowerOnly ? combine(l.lower, r.lower, /*takeMax=*/false)
                          : Value();
      l.upper = upperOnly ? combine(l.upper, r.upper, /*takeMax=*/true)
                          : Value();
      l.boundTerms += r.boundTerms;
      l.rearranged |= r.rearranged;
      return l;
    }
    return leaf(v);
  }
};

bool isBooleanTreeOp(Operation *op) {
  return op->getNumResults() == 1 && op->getResult(0).getType().isInteger(1) &&
         isa<arith::AndIOp, arith::OrIOp, arith::CmpIOp>(op);
}

struct AttnIsolateKvBoundsPass
    : faopt::gpu::impl::AttnIsolateKvBoundsBase<AttnIsolateKvBoundsPass> {
  void runOnOperation() override {
    for (auto fn : getOperation().getOps<func::FuncOp>()) {
      if (fn.isExternal() || !fn->hasAttr("attn.device_function"))
        continue;
      Value kv;
      for (BlockArgument arg : fn.getArguments())
        if (fn.getArgAttr(arg.getArgNumber(), "attn.kv_position"))
          kv = arg;
      if (kv)
        isolate(fn, kv);
    }
  }

  void isolate(func::FuncOp fn, Value kv) {
    // Roots: boolean ops not folded into a parent && or ||.
    SmallVector<Operation *> roots;
    fn.walk([&](Operation *op) {
      if (!isBooleanTreeOp(op))
        return;
      Value v = op->getResult(0);
      bool inner = v.hasOneUse() &&
                   isa<arith::AndIOp, arith::OrIOp>(*v.getUsers().begin()) &&
                   v.getUsers().begin()->getBlock() == op->getBlock();
      if (!inner)
        roots.push_back(op);
    });
    KvBoundRewriter rewriter(fn, kv);
    for (Operation *root : roots)
      (void)rewriter.rewrite(root);
    // The replaced trees, and bounds built for trees left as they were.
    IRRewriter cleanup(fn.getContext());
    (void)runRegionDCE(cleanup, fn->getRegions());
  }
};

} // namespace
