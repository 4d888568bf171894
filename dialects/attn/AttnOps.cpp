//===- AttnOps.cpp - attn dialect operations: verifiers -------------------===//
//
// Every op states its shape and type contract here, with diagnostics that
// name the operand and the two sizes that disagree.
//
//===----------------------------------------------------------------------===//
#include "dialects/attn/AttnOps.h"
#include "dialects/attn/AttnVerify.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/Transforms/RegionUtils.h"
#include <cmath>

using namespace mlir;
using namespace faopt::attn;

#define GET_OP_CLASSES
#include "dialects/attn/AttnOps.cpp.inc"

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

namespace faopt::attn::detail {

bool isSupportedElementType(Type t) { return t.isF16() || t.isBF16() || t.isF32(); }

/// Two sizes agree if either is dynamic or they are equal.
bool compatible(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
}

std::string dimStr(int64_t d) {
  return ShapedType::isDynamic(d) ? std::string("?") : std::to_string(d);
}

LogicalResult checkDim(Operation *op, StringRef what, int64_t a, StringRef whatB,
                       int64_t b) {
  if (compatible(a, b))
    return success();
  return op->emitOpError() << what << " (" << dimStr(a) << ") must equal "
                           << whatB << " (" << dimStr(b) << ")";
}

/// The region's arguments after the positions must be the op's params.
LogicalResult verifyParamArguments(Operation *op, Block &block,
                                   unsigned positions, StringRef name,
                                   TypeRange params) {
  TypeRange extra = TypeRange(block.getArgumentTypes()).drop_front(positions);
  if (extra != params)
    return op->emitOpError()
           << "'" << name << "' region takes " << extra.size()
           << " argument(s) after its positions, which must match the "
           << params.size() << " param(s) in number and type";
  return success();
}

/// A region mapping (b, h, q, kv : index, params...) -> i1, or empty when
/// optional.
LogicalResult verifyMaskRegion(Operation *op, Region &region, StringRef name,
                               bool optional, TypeRange params = {}) {
  if (region.empty()) {
    if (optional)
      return success();
    return op->emitOpError() << "requires a non-empty '" << name << "' region";
  }
  Block &block = region.front();
  if (block.getNumArguments() < 4 ||
      !llvm::all_of(TypeRange(block.getArgumentTypes()).take_front(4),
                    [](Type t) { return t.isIndex(); }))
    return op->emitOpError()
           << "'" << name
           << "' region must take four index arguments (b, h, q, kv)";
  if (failed(verifyParamArguments(op, block, 4, name, params)))
    return failure();
  auto yield = dyn_cast<YieldOp>(block.getTerminator());
  if (!yield || yield.getValues().size() != 1 ||
      !yield.getValues()[0].getType().isInteger(1))
    return op->emitOpError() << "'" << name
                             << "' region must yield a single i1";
  return success();
}

/// A region mapping (score : f32, b, h, q, kv : index, params...) -> f32.
LogicalResult verifyScoreRegion(Operation *op, Region &region, StringRef name,
                                bool optional, TypeRange params) {
  if (region.empty()) {
    if (optional)
      return success();
    return op->emitOpError() << "requires a non-empty '" << name << "' region";
  }
  Block &block = region.front();
  TypeRange args = block.getArgumentTypes();
  if (args.size() < 5 || !args[0].isF32() ||
      !llvm::all_of(args.slice(1, 4), [](Type t) { return t.isIndex(); }))
    return op->emitOpError()
           << "'" << name
           << "' region must take (f32, index, index, index, index) arguments "
              "(score, b, h, q, kv)";
  if (failed(verifyParamArguments(op, block, 5, name, params)))
    return failure();
  auto yield = dyn_cast<YieldOp>(block.getTerminator());
  if (!yield || yield.getValues().size() != 1 ||
      !yield.getValues()[0].getType().isF32())
    return op->emitOpError() << "'" << name
                             << "' region must yield a single f32";
  return success();
}

/// q, k, v as rank-4 tensors in `layout`: element types, head dims, batch,
/// kv heads and kv sequence length. Returns d_v through `headDimV`.
LogicalResult verifyQKV(Operation *op, RankedTensorType q, RankedTensorType k,
                        RankedTensorType v, Layout layout) {
  for (auto [name, t] : {std::pair<StringRef, RankedTensorType>{"query", q},
                         {"key", k},
                         {"value", v}}) {
    if (t.getRank() != 4)
      return op->emitOpError() << name << " must be a rank-4 tensor ("
                               << stringifyLayout(layout) << "), got rank "
                               << t.getRank();
    if (!isSupportedElementType(t.getElementType()))
      return op->emitOpError() << name << " element type must be f16, bf16 or "
                               << "f32, got " << t.getElementType();
    if (ShapedType::isDynamic(t.getDimSize(3)))
      return op->emitOpError() << name << " head dimension must be static";
  }
  if (k.getElementType() != q.getElementType() ||
      v.getElementType() != q.getElementType())
    return op->emitOpError() << "query, key and value must share an element "
                                "type, got "
                             << q.getElementType() << ", " << k.getElementType()
                             << ", " << v.getElementType();
  unsigned hd = headsDim(layout), sd = seqDim(layout);
  if (failed(checkDim(op, "key head dim", k.getDimSize(3), "query head dim",
                      q.getDimSize(3))) ||
      failed(checkDim(op, "key batch", k.getDimSize(0), "query batch",
                      q.getDimSize(0))) ||
      failed(checkDim(op, "value batch", v.getDimSize(0), "query batch",
                      q.getDimSize(0))) ||
      failed(checkDim(op, "value kv_heads", v.getDimSize(hd), "key kv_heads",
                      k.getDimSize(hd))) ||
      failed(checkDim(op, "value seqlen_k", v.getDimSize(sd), "key seqlen_k",
                      k.getDimSize(sd))))
    return failure();
  int64_t heads = q.getDimSize(hd), kvHeads = k.getDimSize(hd);
  if (!ShapedType::isDynamic(heads) && !ShapedType::isDynamic(kvHeads) &&
      (kvHeads == 0 || heads % kvHeads != 0))
    return op->emitOpError() << "kv_heads (" << kvHeads
                             << ") must divide heads (" << heads << ")";
  return success();
}

/// o in `layout` matching q's batch, heads and seq, with head dim d_v; lse as
/// [batch, heads, seq_q] f32.
LogicalResult verifyOutputs(Operation *op, RankedTensorType q, int64_t headDimV,
                            Type elementType, RankedTensorType o,
                            RankedTensorType lse, Layout layout) {
  unsigned hd = headsDim(layout), sd = seqDim(layout);
  if (o.getRank() != 4)
    return op->emitOpError() << "output must be a rank-4 tensor, got rank "
                             << o.getRank();
  if (o.getElementType() != elementType)
    return op->emitOpError() << "output element type " << o.getElementType()
                             << " must be " << elementType;
  if (failed(checkDim(op, "output batch", o.getDimSize(0), "query batch",
                      q.getDimSize(0))) ||
      failed(checkDim(op, "output heads", o.getDimSize(hd), "query heads",
                      q.getDimSize(hd))) ||
      failed(checkDim(op, "output seqlen", o.getDimSize(sd), "query seqlen",
                      q.getDimSize(sd))) ||
      failed(checkDim(op, "output head dim", o.getDimSize(3), "value head dim",
                      headDimV)))
    return failure();
  if (!lse)
    return success();
  if (lse.getRank() != 3 || !lse.getElementType().isF32())
    return op->emitOpError()
           << "lse must be a rank-3 f32 tensor [batch, heads, seqlen_q], got "
           << lse;
  if (failed(checkDim(op, "lse batch", lse.getDimSize(0), "query batch",
                      q.getDimSize(0))) ||
      failed(checkDim(op, "lse heads", lse.getDimSize(1), "query heads",
                      q.getDimSize(hd))) ||
      failed(checkDim(op, "lse seqlen", lse.getDimSize(2), "query seqlen",
                      q.getDimSize(sd))))
    return failure();
  return success();
}

/// exp_scale turns logits into base-2 exponents; it must keep their order.
LogicalResult verifyExpScale(Operation *op, llvm::APFloat k) {
  double v = k.convertToDouble();
  if (!(v > 0) || !std::isfinite(v))
    return op->emitOpError() << "exp_scale must be positive and finite, got "
                             << v;
  return success();
}

RankedTensorType rankedOrNull(Value v) {
  return v ? cast<RankedTensorType>(v.getType()) : RankedTensorType();
}

/// A static f32 row vector of `rows` elements.
LogicalResult checkRowVector(Operation *op, StringRef name, Value v,
                             int64_t rows) {
  auto t = cast<RankedTensorType>(v.getType());
  if (t.getRank() != 1 || !t.getElementType().isF32())
    return op->emitOpError() << name << " must be a rank-1 f32 tile, got " << t;
  return checkDim(op, Twine(name).concat(" length").str(), t.getDimSize(0),
                  "tile rows", rows);
}

/// Names region arguments after what they are: (b, h, q, kv) for masks and
/// (score, b, h, q, kv) for logits / score / tile_map bodies, then the params
/// (by `names` where given, else "param").
void nameRegionArguments(Region &region, OpAsmSetValueNameFn setName,
                         ArrayAttr names = {}) {
  if (region.empty())
    return;
  Block &block = region.front();
  static const char *const kMask[] = {"b", "h", "q", "kv"};
  static const char *const kScore[] = {"score", "b", "h", "q", "kv"};
  if (block.getNumArguments() < 4)
    return;
  bool isScore = block.getArgument(0).getType().isF32();
  unsigned positions = isScore ? 5 : 4;
  if (block.getNumArguments() < positions)
    return;
  for (unsigned i = 0; i < positions; ++i)
    setName(block.getArgument(i), isScore ? kScore[i] : kMask[i]);
  for (unsigned i = positions; i < block.getNumArguments(); ++i) {
    unsigned p = i - positions;
    auto name = names && p < names.size() ? dyn_cast<StringAttr>(names[p])
                                          : StringAttr();
    setName(block.getArgument(i), name ? name.getValue() : "param");
  }
}

} // namespace faopt::attn::detail

using namespace faopt::attn::detail;

void AttentionOp::getAsmBlockArgumentNames(Region &region,
                                           OpAsmSetValueNameFn setName) {
  nameRegionArguments(region, setName, getParamNamesAttr());
}
void OnlineUpdateOp::getAsmBlockArgumentNames(Region &region,
                                              OpAsmSetValueNameFn setName) {
  nameRegionArguments(region, setName);
}
void TileMapOp::getAsmBlockArgumentNames(Region &region,
                                         OpAsmSetValueNameFn setName) {
  nameRegionArguments(region, setName);
}
void MaskBlockClassOp::getAsmBlockArgumentNames(Region &region,
                                                OpAsmSetValueNameFn setName) {
  nameRegionArguments(region, setName);
}
void MaskKvRangeOp::getAsmBlockArgumentNames(Region &region,
                                             OpAsmSetValueNameFn setName) {
  nameRegionArguments(region, setName);
}

void AttentionOp::getAsmResultNames(OpAsmSetValueNameFn setName) {
  setName(getOutput(), "output");
  if (getLse())
    setName(getLse(), "lse");
}
void OnlineUpdateOp::getAsmResultNames(OpAsmSetValueNameFn setName) {
  setName(getNewMax(), "max");
  setName(getNewSum(), "sum");
  setName(getNewAcc(), "acc");
}
void TileMapOp::getAsmResultNames(OpAsmSetValueNameFn setName) {
  setName(getResult(), "logits");
}
void MaskBlockClassOp::getAsmResultNames(OpAsmSetValueNameFn setName) {
  setName(getAny(), "any");
  setName(getAll(), "all");
}
void MaskKvRangeOp::getAsmResultNames(OpAsmSetValueNameFn setName) {
  setName(getLower(), "kv_lower");
  setName(getUpper(), "kv_upper");
}

//===----------------------------------------------------------------------===//
// AttentionOp
//===----------------------------------------------------------------------===//

int64_t AttentionOp::getHeadDimQK() {
  return getQuery().getType().getDimSize(3);
}
int64_t AttentionOp::getHeadDimV() {
  return getValue().getType().getDimSize(3);
}

float AttentionOp::getEffectiveScale() {
  if (auto s = getScaleAttr())
    return s.getValueAsDouble();
  return 1.0f / std::sqrt(static_cast<float>(getHeadDimQK()));
}

LogicalResult AttentionOp::verify() {
  auto q = getQuery().getType(), k = getKey().getType(),
       v = getValue().getType();
  if (failed(verifyQKV(*this, q, k, v, getLayout())))
    return failure();
  if (failed(verifyOutputs(*this, q, v.getDimSize(3), q.getElementType(),
                           getOutput().getType(), rankedOrNull(getLse()),
                           getLayout())))
    return failure();
  if (auto s = getScaleAttr()) {
    double x = s.getValueAsDouble();
    if (!(x > 0) || !std::isfinite(x))
      return emitOpError() << "scale must be positive and finite, got " << x;
  }
  if (auto names = getParamNamesAttr())
    if (names.size() != getParams().size())
      return emitOpError() << "has " << getParams().size() << " param(s) but "
                           << names.size() << " param_names";
  TypeRange params = getParams().getTypes();
  if (failed(verifyMaskRegion(*this, getMask(), "mask", /*optional=*/true,
                              params)) ||
      failed(verifyScoreRegion(*this, getScore(), "score", /*optional=*/true,
                               params)))
    return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// Online form
//===----------------------------------------------------------------------===//

LogicalResult OnlineInitOp::verify() {
  auto acc = getAcc().getType();
  if (acc.getRank() < 1 || !acc.getElementType().isF32())
    return emitOpError() << "acc must be an f32 tensor of rank >= 1, got "
                         << acc;
  auto rowShape = acc.getShape().drop_back();
  for (auto [name, t] : {std::pair<StringRef, RankedTensorType>{
                             "max", getMax().getType()},
                         {"sum", getSum().getType()}}) {
    if (!t.getElementType().isF32() || t.getShape() != rowShape)
      return emitOpError() << name << " must be an f32 tensor shaped like acc "
                           << "without its last dimension, got " << t;
  }
  if (static_cast<int64_t>(getDynamicSizes().size()) != acc.getNumDynamicDims())
    return emitOpError() << "expected " << acc.getNumDynamicDims()
                         << " dynamic sizes for acc, got "
                         << getDynamicSizes().size();
  return success();
}

LogicalResult OnlineUpdateOp::verify() {
  auto q = getQuery().getType(), k = getKey().getType(),
       v = getValue().getType();
  auto m = getMax().getType(), l = getSum().getType(), acc = getAcc().getType();
  if (m != l)
    return emitOpError() << "max and sum must have the same type, got " << m
                         << " and " << l;
  if (!acc.getElementType().isF32() || !m.getElementType().isF32())
    return emitOpError() << "running state (max, sum, acc) must be f32";
  size_t numPos = getPosition().size();
  if (numPos != 0 && numPos != 4)
    return emitOpError() << "expects no position (batched form) or four "
                            "(b, h, q0, kv0: tile form), got "
                         << numPos;
  if (!isTileForm()) {
    if (getKvBound() || getMasked())
      return emitOpError()
             << "kv_bound and masked are only meaningful in the tile form";
    if (failed(verifyQKV(*this, q, k, v, getLayout())))
      return failure();
    unsigned hd = headsDim(getLayout()), sd = seqDim(getLayout());
    if (m.getRank() != 3 || acc.getRank() != 4)
      return emitOpError() << "batched form expects max/sum of rank 3 and acc "
                              "of rank 4";
    if (failed(checkDim(*this, "acc batch", acc.getDimSize(0), "query batch",
                        q.getDimSize(0))) ||
        failed(checkDim(*this, "acc heads", acc.getDimSize(1), "query heads",
                        q.getDimSize(hd))) ||
        failed(checkDim(*this, "acc rows", acc.getDimSize(2), "query seqlen",
                        q.getDimSize(sd))) ||
        failed(checkDim(*this, "acc head dim", acc.getDimSize(3),
                        "value head dim", v.getDimSize(3))))
      return failure();
    if (m.getShape() != acc.getShape().drop_back())
      return emitOpError() << "max/sum shape must be acc's without the head "
                              "dimension";
  } else {
    if (q.getRank() != 2 || k.getRank() != 2 || v.getRank() != 2 ||
        m.getRank() != 1 || acc.getRank() != 2)
      return emitOpError() << "tile form expects rank-2 q, k, v, acc and "
                              "rank-1 max, sum";
    if (!q.hasStaticShape() || !k.hasStaticShape() || !v.hasStaticShape() ||
        !acc.hasStaticShape() || !m.hasStaticShape())
      return emitOpError() << "tile form expects static tile shapes";
    if (k.getElementType() != q.getElementType() ||
        v.getElementType() != q.getElementType())
      return emitOpError() << "query, key and value tiles must share an "
                              "element type";
    if (failed(checkDim(*this, "key tile head dim", k.getDimSize(1),
                        "query tile head dim", q.getDimSize(1))) ||
        failed(checkDim(*this, "value tile rows", v.getDimSize(0),
                        "key tile rows", k.getDimSize(0))) ||
        failed(checkDim(*this, "acc rows", acc.getDimSize(0),
                        "query tile rows", q.getDimSize(0))) ||
        failed(checkDim(*this, "acc head dim", acc.getDimSize(1),
                        "value tile head dim", v.getDimSize(1))) ||
        failed(checkDim(*this, "max/sum length", m.getDimSize(0),
                        "query tile rows", q.getDimSize(0))))
      return failure();
  }
  TypeRange params = getParams().getTypes();
  if (failed(verifyScoreRegion(*this, getLogits(), "logits", false, params)) ||
      failed(verifyMaskRegion(*this, getMask(), "mask", true, params)))
    return failure();
  return verifyExpScale(*this, getExpScale());
}

LogicalResult OnlineFinalizeOp::verify() {
  if (failed(verifyExpScale(*this, getExpScale())))
    return failure();
  auto m = getMax().getType(), l = getSum().getType(), acc = getAcc().getType();
  auto o = getOutput().getType();
  auto lse = rankedOrNull(getLse());
  if (m != l || !m.getElementType().isF32() || !acc.getElementType().isF32())
    return emitOpError() << "running state must be f32 with max and sum of one "
                            "type";
  if (!isSupportedElementType(o.getElementType()))
    return emitOpError() << "output element type must be f16, bf16 or f32, got "
                         << o.getElementType();
  if (m.getShape() != acc.getShape().drop_back())
    return emitOpError() << "max/sum shape must be acc's without the head "
                            "dimension";
  if (acc.getRank() == 2) { // tile form
    if (o.getShape() != acc.getShape())
      return emitOpError() << "output tile shape must equal acc's, got " << o;
    if (lse && lse.getShape() != m.getShape())
      return emitOpError() << "lse tile shape must equal max's, got " << lse;
    if (lse && !lse.getElementType().isF32())
      return emitOpError() << "lse must be f32";
    return success();
  }
  if (acc.getRank() != 4)
    return emitOpError() << "acc must be rank 2 (tile) or rank 4 (batched)";
  // Batched: acc is [b, h, s, d_v]; o is in `layout`.
  unsigned hd = headsDim(getLayout()), sd = seqDim(getLayout());
  if (o.getRank() != 4)
    return emitOpError() << "output must be rank 4";
  if (failed(checkDim(*this, "output batch", o.getDimSize(0), "acc batch",
                      acc.getDimSize(0))) ||
      failed(checkDim(*this, "output heads", o.getDimSize(hd), "acc heads",
                      acc.getDimSize(1))) ||
      failed(checkDim(*this, "output seqlen", o.getDimSize(sd), "acc rows",
                      acc.getDimSize(2))) ||
      failed(checkDim(*this, "output head dim", o.getDimSize(3),
                      "acc head dim", acc.getDimSize(3))))
    return failure();
  if (lse && (lse.getShape() != m.getShape() || !lse.getElementType().isF32()))
    return emitOpError() << "lse must be f32 shaped like max, got " << lse;
  return success();
}

//===----------------------------------------------------------------------===//
// Block analysis
//===----------------------------------------------------------------------===//

LogicalResult MaskBlockClassOp::verify() {
  return verifyMaskRegion(*this, getMask(), "mask", false,
                          getParams().getTypes());
}

LogicalResult BlockListBuildOp::verify() {
  Block &body = getBody().front();
  if (body.getNumArguments() != 1 || !body.getArgument(0).getType().isIndex())
    return emitOpError() << "body must take one index argument (the kv-block)";
  Operation *term = body.getTerminator();
  if (!isa<YieldOp>(term) || term->getNumOperands() != 2 ||
      !llvm::all_of(term->getOperandTypes(),
                    [](Type t) { return t.isInteger(1); }))
    return emitOpError() << "body must yield (any, all) as two i1 values";
  return success();
}

void BlockListBuildOp::getAsmBlockArgumentNames(Region &region,
                                                OpAsmSetValueNameFn setName) {
  setName(region.front().getArgument(0), "kv_block");
}

LogicalResult KeyRangesOp::verify() {
  Block &body = getBody().front();
  if (body.getNumArguments() != 2 || !body.getArgument(0).getType().isIndex() ||
      !body.getArgument(1).getType().isInteger(1))
    return emitOpError()
           << "body must take a position (index) and a row flag (i1)";
  Operation *term = body.getTerminator();
  if (!isa<YieldOp>(term) || term->getNumOperands() != 1 ||
      !term->getOperand(0).getType().isInteger(64))
    return emitOpError() << "body must yield one i64 key";
  return success();
}

void KeyRangesOp::getAsmBlockArgumentNames(Region &region,
                                           OpAsmSetValueNameFn setName) {
  setName(region.front().getArgument(0), "pos");
  setName(region.front().getArgument(1), "is_row");
}

LogicalResult TensorBoundsOp::verify() {
  auto type = cast<MemRefType>(getTensor().getType());
  auto elem = dyn_cast<IntegerType>(type.getElementType());
  if (!elem || elem.getWidth() > 64 || elem.getWidth() < 2)
    return emitOpError() << "needs a tensor of integers (2 to 64 bits), got "
                         << type.getElementType();
  int64_t rank = type.getRank();
  if (static_cast<int64_t>(getLower().size()) != rank ||
      static_cast<int64_t>(getUpper().size()) != rank)
    return emitOpError() << "needs one lower and one upper bound per "
                            "dimension (rank "
                         << rank << "), got " << getLower().size() << " and "
                         << getUpper().size();
  return success();
}

LogicalResult MaskKvRangeOp::verify() {
  if (getBlockKv() <= 0)
    return emitOpError() << "block must be positive, got " << getBlockKv();
  return verifyMaskRegion(*this, getMask(), "mask", false,
                          getParams().getTypes());
}
