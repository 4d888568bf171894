//===- ExprToMLIR.cpp - expressions to mask / score regions ---------------===//
//
// Integers become `index` arithmetic (so that mask analysis and every target
// see one integer type), booleans i1, floats f32. Integer / and % round toward
// negative infinity.
//
//===----------------------------------------------------------------------===//
#include "compiler/spec/ExprToMLIR.h"

#include "dialects/attn/AttnOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringMap.h"

using namespace mlir;

namespace faopt::spec {
namespace {

class ExprEmitter {
public:
  ExprEmitter(OpBuilder &b, StringRef source, Value score, Value bIdx,
              Value hIdx, Value qIdx, Value kvIdx,
              llvm::StringMap<Value> params)
      : b(b), source(source), score(score), bIdx(bIdx), hIdx(hIdx),
        qIdx(qIdx), kvIdx(kvIdx), params(std::move(params)) {}

  Value emit(const Expr &e) {
    Location loc = e.column ? Location(FileLineColLoc::get(
                                  b.getContext(), source, 1, e.column))
                            : Location(b.getUnknownLoc());
    switch (e.kind) {
    case Expr::Kind::Literal:
      if (e.type == ExprType::Bool)
        return arith::ConstantIntOp::create(b, loc, e.boolValue, 1);
      if (e.type == ExprType::Int)
        return arith::ConstantIndexOp::create(b, loc, e.intValue);
      return arith::ConstantOp::create(
          b, loc, b.getF32FloatAttr(static_cast<float>(e.floatValue)));
    case Expr::Kind::Var:
      if (e.name == "b") return bIdx;
      if (e.name == "h") return hIdx;
      if (e.name == "q") return qIdx;
      if (e.name == "kv") return kvIdx;
      if (e.name == "score") return score;
      return params.lookup(e.name); // seqlen_q, seqlen_k, run-time params
    case Expr::Kind::Unary:
      return emitUnary(e, loc);
    case Expr::Kind::Binary:
      return emitBinary(e, loc);
    case Expr::Kind::Select: {
      // Emit in source order (condition, then, else) for readable IR.
      Value cond = emit(*e.operands[0]);
      Value thenValue = emit(*e.operands[1]);
      Value elseValue = emit(*e.operands[2]);
      return arith::SelectOp::create(b, loc, cond, thenValue, elseValue);
    }
    case Expr::Kind::Call:
      return emitCall(e, loc);
    case Expr::Kind::Index:
      return emitIndex(e, loc);
    }
    return {};
  }

private:
  OpBuilder &b;
  StringRef source;
  Value score, bIdx, hIdx, qIdx, kvIdx;
  llvm::StringMap<Value> params;

  /// t[i, j, ...] with every index clamped into [0, dim - 1]: a read never
  /// leaves the tensor, whatever the expression computes (and positions past
  /// the sequence end, which partial tiles evaluate, stay in bounds).
  Value emitIndex(const Expr &e, Location loc) {
    Value t = params.lookup(e.name);
    SmallVector<Value> indices;
    Value zero = zeroIndex(loc);
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    for (auto [i, operand] : llvm::enumerate(e.operands)) {
      Value x = emit(*operand);
      Value dim = tensor::DimOp::create(b, loc, t, i);
      Value last = arith::SubIOp::create(b, loc, dim, one);
      Value below = arith::MinSIOp::create(b, loc, x, last);
      indices.push_back(arith::MaxSIOp::create(b, loc, below, zero));
    }
    Value v = tensor::ExtractOp::create(b, loc, t, indices);
    if (e.type == ExprType::Int)
      return arith::IndexCastOp::create(b, loc, b.getIndexType(), v);
    return v;
  }

  Value zeroIndex(Location loc) {
    return arith::ConstantIndexOp::create(b, loc, 0);
  }

  Value emitUnary(const Expr &e, Location loc) {
    Value x = emit(*e.operands[0]);
    if (e.name == "!")
      return arith::XOrIOp::create(
          b, loc, x, arith::ConstantIntOp::create(b, loc, 1, 1));
    if (e.name == "float") {
      Value i64 = arith::IndexCastOp::create(b, loc, b.getI64Type(), x);
      return arith::SIToFPOp::create(b, loc, b.getF32Type(), i64);
    }
    if (e.type == ExprType::Int)
      return arith::SubIOp::create(b, loc, zeroIndex(loc), x);
    return arith::NegFOp::create(b, loc, x);
  }

  Value emitBinary(const Expr &e, Location loc) {
    Value x = emit(*e.operands[0]), y = emit(*e.operands[1]);
    const std::string &op = e.name;
    if (op == "&&")
      return arith::AndIOp::create(b, loc, x, y);
    if (op == "||")
      return arith::OrIOp::create(b, loc, x, y);
    ExprType operandType = e.operands[0]->type;
    if (op == "<" || op == "<=" || op == ">" || op == ">=" || op == "==" ||
        op == "!=") {
      if (operandType == ExprType::Float) {
        arith::CmpFPredicate p =
            op == "<"    ? arith::CmpFPredicate::OLT
            : op == "<=" ? arith::CmpFPredicate::OLE
            : op == ">"  ? arith::CmpFPredicate::OGT
            : op == ">=" ? arith::CmpFPredicate::OGE
            : op == "==" ? arith::CmpFPredicate::OEQ
                         : arith::CmpFPredicate::UNE;
        return arith::CmpFOp::create(b, loc, p, x, y);
      }
      arith::CmpIPredicate p =
          op == "<"    ? arith::CmpIPredicate::slt
          : op == "<=" ? arith::CmpIPredicate::sle
          : op == ">"  ? arith::CmpIPredicate::sgt
          : op == ">=" ? arith::CmpIPredicate::sge
          : op == "==" ? arith::CmpIPredicate::eq
                       : arith::CmpIPredicate::ne;
      return arith::CmpIOp::create(b, loc, p, x, y);
    }
    if (e.type == ExprType::Float) {
      if (op == "+") return arith::AddFOp::create(b, loc, x, y);
      if (op == "-") return arith::SubFOp::create(b, loc, x, y);
      if (op == "*") return arith::MulFOp::create(b, loc, x, y);
      return arith::DivFOp::create(b, loc, x, y);
    }
    if (op == "+") return arith::AddIOp::create(b, loc, x, y);
    if (op == "-") return arith::SubIOp::create(b, loc, x, y);
    if (op == "*") return arith::MulIOp::create(b, loc, x, y);
    Value quotient = arith::FloorDivSIOp::create(b, loc, x, y);
    if (op == "/")
      return quotient;
    // Floor modulo: x - floor(x / y) * y.
    return arith::SubIOp::create(b, loc, x,
                                 arith::MulIOp::create(b, loc, quotient, y));
  }

  Value emitCall(const Expr &e, Location loc) {
    Value x = emit(*e.operands[0]);
    const std::string &f = e.name;
    if (f == "min" || f == "max") {
      Value y = emit(*e.operands[1]);
      if (e.type == ExprType::Float)
        return f == "min" ? Value(arith::MinimumFOp::create(b, loc, x, y))
                          : Value(arith::MaximumFOp::create(b, loc, x, y));
      return f == "min" ? Value(arith::MinSIOp::create(b, loc, x, y))
                        : Value(arith::MaxSIOp::create(b, loc, x, y));
    }
    if (f == "abs") {
      if (e.type == ExprType::Float)
        return math::AbsFOp::create(b, loc, x);
      Value neg = arith::SubIOp::create(b, loc, zeroIndex(loc), x);
      Value isNeg = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, x,
                                          zeroIndex(loc));
      return arith::SelectOp::create(b, loc, isNeg, neg, x);
    }
    if (f == "tanh") return math::TanhOp::create(b, loc, x);
    if (f == "exp") return math::ExpOp::create(b, loc, x);
    if (f == "exp2") return math::Exp2Op::create(b, loc, x);
    if (f == "log") return math::LogOp::create(b, loc, x);
    return math::SqrtOp::create(b, loc, x);
  }
};

/// Appends one block argument per region parameter and names them.
llvm::StringMap<Value> addParamArguments(Block *block,
                                         ArrayRef<RegionParam> params,
                                         Location loc) {
  llvm::StringMap<Value> byName;
  for (const RegionParam &p : params)
    byName[p.name] = block->addArgument(p.type, loc);
  return byName;
}

} // namespace

void buildMaskRegion(Region &region, const Expr &mask, StringRef source,
                     ArrayRef<RegionParam> params) {
  OpBuilder b(region.getContext());
  Location loc = FileLineColLoc::get(b.getContext(), source, 1, 1);
  Type idx = b.getIndexType();
  Block *block = b.createBlock(&region, {}, {idx, idx, idx, idx},
                               {loc, loc, loc, loc});
  ExprEmitter emitter(b, source, Value(), block->getArgument(0),
                      block->getArgument(1), block->getArgument(2),
                      block->getArgument(3),
                      addParamArguments(block, params, loc));
  Value result = emitter.emit(mask);
  attn::YieldOp::create(b, loc, result);
}

void buildScoreRegion(Region &region, const Expr &score, StringRef source,
                      ArrayRef<RegionParam> params) {
  OpBuilder b(region.getContext());
  Location loc = FileLineColLoc::get(b.getContext(), source, 1, 1);
  Type idx = b.getIndexType();
  Block *block = b.createBlock(&region, {}, {b.getF32Type(), idx, idx, idx, idx},
                               {loc, loc, loc, loc, loc});
  ExprEmitter emitter(b, source, block->getArgument(0), block->getArgument(1),
                      block->getArgument(2), block->getArgument(3),
                      block->getArgument(4),
                      addParamArguments(block, params, loc));
  Value result = emitter.emit(score);
  attn::YieldOp::create(b, loc, result);
}

} // namespace faopt::spec
