//===- RolesToEmitC.cpp - the TMA kernel's roles and programs in CUDA ------===//
//
// The ops that say who does what in a warp-specialised, persistent kernel
// (attn.copy_producer, attn.workers, attn.await_list_builder,
// attn.next_program, attn.no_more_programs), each a call into
// faopt_sm90_tma.cuh / faopt_sm80.cuh or a statement.
//
//===----------------------------------------------------------------------===//
#include "compiler/targets/gpu/ConvertToEmitC.h"
#include "compiler/targets/gpu/DeviceTemplateNames.h"
#include "compiler/targets/gpu/EmitCBuilders.h"

#include "dialects/attn/AttnOps.h"

using namespace mlir;
using namespace faopt::attn;
using namespace faopt::gpu::emit;
using faopt::gpu::KernelInfo;

namespace {

/// The roles and the hand-out exist only with a TMA copy thread.
LogicalResult needsTma(Operation *op, const KernelInfo &kernel) {
  if (kernel.tma)
    return success();
  return op->emitOpError() << "needs TMA copies (attn.tiling copy = \"tma\")";
}

/// attn.copy_producer: the TMA copy thread (faopt_sm90_tma.cuh).
struct CopyProducerLowering : KernelPattern<CopyProducerOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(CopyProducerOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (failed(needsTma(op, kernel)))
      return failure();
    Location loc = op.getLoc();
    comment(rewriter, loc,
            "attn.copy_producer: the producer's copy thread runs the copy "
            "slice, the consumers the rest");
    rewriter.replaceOp(op, call(rewriter, loc, rewriter.getI1Type(),
                                "faopt::tma::is_producer", {},
                                {str(kernel.warps)}));
    return success();
  }
};

/// attn.workers: the CTAs of a persistent launch (gridDim.x).
struct WorkersLowering : KernelPattern<WorkersOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(WorkersOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value n = call(rewriter, loc, rewriter.getI64Type(), "faopt::grid_size", {},
                   {"0"});
    comment(rewriter, loc,
            "attn.workers: {} = CTAs of this persistent launch (gridDim.x, "
            "min(programs, SMs))",
            {n});
    rewriter.replaceOp(op, getTypeConverter()->materializeSourceConversion(
                               rewriter, loc, rewriter.getIndexType(), n));
    return success();
  }
};

/// attn.next_program (faopt_sm90_tma.cuh): the copy thread claims and
/// publishes the worker's next program; the consumers wait for it.
struct NextProgramLowering : KernelPattern<NextProgramOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(NextProgramOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (failed(needsTma(op, kernel)))
      return failure();
    Location loc = op.getLoc();
    Value p;
    if (op.getProducer() && op.getPublishLater()) {
      p = call(rewriter, loc, rewriter.getI64Type(),
               "faopt::tma::claim_program_index",
               {adaptor.getT(), adaptor.getWorker(), adaptor.getWorkers(),
                adaptor.getCounter()});
      comment(rewriter, loc,
              "attn.next_program: {} = this worker's program {}: the worker "
              "index first, then the launch's counter (run-time hand-out); "
              "published below (attn.publish_program)",
              {p, adaptor.getT()});
    } else if (op.getProducer()) {
      p = call(rewriter, loc, rewriter.getI64Type(), "faopt::tma::claim_program",
               {adaptor.getT(), adaptor.getWorker(), adaptor.getWorkers(),
                adaptor.getTotal(), adaptor.getCounter()},
               {str(kernel.pipeOffset), str(kernel.qStages)});
      comment(rewriter, loc,
              "attn.next_program: {} = this worker's program {}: the worker "
              "index first, then the launch's counter (run-time hand-out); "
              "published to the consumers with Q's fill",
              {p, adaptor.getT()});
    } else {
      p = call(rewriter, loc, rewriter.getI64Type(), "faopt::tma::await_program",
               {adaptor.getT()},
               {str(kernel.pipeOffset), str(kernel.qStages)});
      comment(rewriter, loc,
              "attn.next_program: {} = the program the copy thread handed "
              "out for this worker's program {} (once that program's Q "
              "fill is complete)",
              {p, adaptor.getT()});
    }
    rewriter.replaceOp(op, getTypeConverter()->materializeSourceConversion(
                               rewriter, loc, rewriter.getIndexType(), p));
    return success();
  }
};

/// attn.publish_program: the Q stage's wait, the program and its values in
/// shared memory (faopt_sm90_tma.cuh).
struct PublishProgramLowering : KernelPattern<PublishProgramOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(PublishProgramOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (failed(needsTma(op, kernel)))
      return failure();
    Location loc = op.getLoc();
    comment(rewriter, loc,
            "attn.publish_program: once the consumers have released Q's "
            "stage, program {} for fill {} and " +
                str(op.getValues().size()) +
                " value(s) they read instead of loading them",
            {adaptor.getProgram(), adaptor.getT()});
    SmallVector<Value> operands{adaptor.getT(), adaptor.getProgram(),
                                adaptor.getTotal()};
    llvm::append_range(operands, adaptor.getValues());
    call(rewriter, loc, Type(), "faopt::tma::publish_program", operands,
         {str(kernel.pipeOffset), str(kernel.qStages)});
    rewriter.eraseOp(op);
    return success();
  }
};

/// attn.program_value: a published value (faopt_sm90_tma.cuh).
struct ProgramValueLowering : KernelPattern<ProgramValueOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(ProgramValueOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (failed(needsTma(op, kernel)))
      return failure();
    Location loc = op.getLoc();
    Value i = literal(rewriter, loc, rewriter.getI32Type(),
                      str(op.getIndex()));
    rewriter.replaceOp(op, call(rewriter, loc, convert(op.getType()),
                                "faopt::tma::program_value",
                                {i, adaptor.getT()}, {str(kernel.qStages)}));
    return success();
  }
};

/// attn.no_more_programs: leave the loop over programs.
struct NoMoreProgramsLowering : KernelPattern<NoMoreProgramsOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(NoMoreProgramsOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    emitc::VerbatimOp::create(
        rewriter, op.getLoc(),
        rewriter.getStringAttr("break; // attn.no_more_programs: every later "
                               "program is past the end"));
    rewriter.eraseOp(op);
    return success();
  }
};

/// attn.await_list_builder: griddepcontrol.wait (faopt_sm80.cuh).
struct AwaitListBuilderLowering : KernelPattern<AwaitListBuilderOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(AwaitListBuilderOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    comment(rewriter, loc,
            "attn.await_list_builder: the list builder launched before this "
            "kernel has finished (programmatic dependent launch)");
    call(rewriter, loc, Type(), "faopt::await_list_builder", {});
    rewriter.eraseOp(op);
    return success();
  }
};

/// attn.reset_program_counter (list builders): faopt::reset_program_counter
/// (faopt_block_lists.cuh).
struct ResetProgramCounterLowering : KernelPattern<ResetProgramCounterOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(ResetProgramCounterOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    comment(rewriter, loc,
            "attn.reset_program_counter: the kernel launched after this "
            "builder claims its programs from {}, zero from here (no memset)",
            {adaptor.getCounter()});
    call(rewriter, loc, Type(), "faopt::reset_program_counter",
         {adaptor.getCounter()});
    rewriter.eraseOp(op);
    return success();
  }
};

/// attn.stage_row -> `faopt::StagedTensor<T, R> v =
/// faopt::stage_row<capacity>(t, lead...)` (faopt_block_lists.cuh).
struct StageRowLowering : KernelPattern<StageRowOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(StageRowOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    comment(rewriter, loc,
            "attn.stage_row: the row of {} this list row reads, copied into "
            "shared memory (up to " +
                std::to_string(op.getCapacity()) +
                " entries; else read where it is)",
            {adaptor.getTensor()});
    SmallVector<Value> operands{adaptor.getTensor()};
    llvm::append_range(operands, adaptor.getLead());
    rewriter.replaceOp(op, call(rewriter, loc, convert(op.getType()),
                                faopt::gpu::kStageRow, operands,
                                {std::to_string(op.getCapacity())}));
    return success();
  }
};

} // namespace

void faopt::gpu::emit::populateRolesToEmitCPatterns(
    const TypeConverter &converter, RewritePatternSet &patterns,
    const KernelInfo &info) {
  patterns.add<CopyProducerLowering, WorkersLowering, AwaitListBuilderLowering,
               NextProgramLowering, NoMoreProgramsLowering,
               PublishProgramLowering, ProgramValueLowering,
               ResetProgramCounterLowering, StageRowLowering>(
      converter, patterns.getContext(), info);
}
