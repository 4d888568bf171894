//===- WhileToEmitC.cpp - scf.while to a C do-while -----------------------===//
//
// LLVM 22's SCFToEmitC lowers scf.while but assigns the loop's original
// (unconverted) values to the converted variables, which breaks as soon as a
// type changes (index -> int64_t here). This pattern does the same lowering
// through the type converter:
//
//   T r...; T it... = init...; bool c;
//   do {
//     args = it...;  [before region]  r... = forwarded...; c = cond;
//     if (c) { [after region with forwarded...]  it... = yielded...; }
//   } while (c);
//
//===----------------------------------------------------------------------===//
#include "compiler/targets/gpu/ConvertToEmitC.h"

#include "mlir/Dialect/EmitC/IR/EmitC.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;

namespace faopt::gpu {
namespace {

Value declare(OpBuilder &b, Location loc, Type type) {
  return emitc::VariableOp::create(
      b, loc, emitc::LValueType::get(type),
      emitc::OpaqueAttr::get(b.getContext(), ""));
}

struct WhileLowering : OpConversionPattern<scf::WhileOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(scf::WhileOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    const TypeConverter &tc = *getTypeConverter();
    Location loc = op.getLoc();
    SmallVector<Type> iterTypes, resultTypes;
    if (failed(tc.convertTypes(op.getInits().getTypes(), iterTypes)) ||
        failed(tc.convertTypes(op.getResultTypes(), resultTypes)))
      return rewriter.notifyMatchFailure(op, "loop-carried types");
    auto toTarget = [&](Value v, Type t) -> Value {
      return v.getType() == t
                 ? v
                 : tc.materializeTargetConversion(rewriter, loc, t, v);
    };
    auto toSource = [&](Value v, Type t) -> Value {
      return v.getType() == t
                 ? v
                 : tc.materializeSourceConversion(rewriter, loc, t, v);
    };

    SmallVector<Value> results, iters;
    for (Type t : resultTypes)
      results.push_back(declare(rewriter, loc, t));
    for (auto [init, t] : llvm::zip(adaptor.getInits(), iterTypes)) {
      iters.push_back(declare(rewriter, loc, t));
      emitc::AssignOp::create(rewriter, loc, iters.back(), init);
    }
    Value cond = declare(rewriter, loc, rewriter.getI1Type());

    auto loop = emitc::DoOp::create(rewriter, loc);
    Block *body = rewriter.createBlock(&loop.getBodyRegion());
    rewriter.setInsertionPointToStart(body);
    SmallVector<Value> args;
    for (auto [var, orig] : llvm::zip(iters, op.getInits()))
      args.push_back(toSource(emitc::LoadOp::create(
                                  rewriter, loc,
                                  cast<emitc::LValueType>(var.getType())
                                      .getValueType(),
                                  var),
                              orig.getType()));
    Block &before = op.getBefore().front();
    auto condition = cast<scf::ConditionOp>(before.getTerminator());
    rewriter.inlineBlockBefore(&before, body, body->end(), args);
    rewriter.setInsertionPoint(condition);
    for (auto [var, v, t] :
         llvm::zip(results, condition.getArgs(), resultTypes))
      emitc::AssignOp::create(rewriter, loc, var, toTarget(v, t));
    emitc::AssignOp::create(rewriter, loc, cond, condition.getCondition());
    auto ifOp = emitc::IfOp::create(rewriter, loc, condition.getCondition(),
                                    /*addThenBlock=*/false,
                                    /*addElseBlock=*/false);
    Block *thenBlock = rewriter.createBlock(&ifOp.getThenRegion());
    rewriter.setInsertionPointToStart(thenBlock);
    emitc::YieldOp::create(rewriter, loc);
    Block &after = op.getAfter().front();
    auto yield = cast<scf::YieldOp>(after.getTerminator());
    SmallVector<Value> forwarded(condition.getArgs());
    rewriter.inlineBlockBefore(&after, thenBlock, thenBlock->begin(),
                               forwarded);
    rewriter.setInsertionPoint(yield);
    for (auto [var, v, t] : llvm::zip(iters, yield.getOperands(), iterTypes))
      emitc::AssignOp::create(rewriter, loc, var, toTarget(v, t));
    rewriter.eraseOp(yield);
    rewriter.eraseOp(condition);

    // while (c)
    Block *condBlock = rewriter.createBlock(&loop.getConditionRegion());
    rewriter.setInsertionPointToStart(condBlock);
    auto expr = emitc::ExpressionOp::create(rewriter, loc,
                                            rewriter.getI1Type(), cond);
    Block &exprBody = expr.createBody();
    rewriter.setInsertionPointToStart(&exprBody);
    Value c = emitc::LoadOp::create(rewriter, loc, rewriter.getI1Type(),
                                    exprBody.getArgument(0));
    emitc::YieldOp::create(rewriter, loc, c);
    rewriter.setInsertionPointAfter(expr);
    emitc::YieldOp::create(rewriter, loc, expr.getResult());

    rewriter.setInsertionPointAfter(loop);
    SmallVector<Value> values;
    for (auto [var, t] : llvm::zip(results, resultTypes))
      values.push_back(emitc::LoadOp::create(rewriter, loc, t, var));
    rewriter.replaceOp(op, values);
    return success();
  }
};

} // namespace

void populateWhileToEmitCPatterns(TypeConverter &converter,
                                  RewritePatternSet &patterns) {
  patterns.add<WhileLowering>(converter, patterns.getContext(),
                              /*benefit=*/2);
}

} // namespace faopt::gpu
