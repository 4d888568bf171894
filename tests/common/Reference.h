//===- Reference.h - naive attention in double precision --------*- C++ -*-===//
//
// The reference every kernel is checked against: softmax computed row by row
// in double precision from the same (rounded) inputs the kernel saw, with the
// mask and score modifier given as plain functions. Plus the data helpers the
// CPU and GPU tests share: random inputs in bf16/f16/f32, strided layouts,
// and relative L2 error.
//
//===----------------------------------------------------------------------===//
#ifndef FAOPT_TESTS_COMMON_REFERENCE_H
#define FAOPT_TESTS_COMMON_REFERENCE_H

#include "compiler/spec/Spec.h"
#include <cstdint>
#include <functional>
#include <random>
#include <optional>
#include <string>
#include <vector>

namespace faopt::test {

struct Shape {
  int64_t batch = 1, heads = 1, kvHeads = 1, seqQ = 1, seqK = 1;
  int64_t headDimQK = 64, headDimV = 64;
};

using MaskFn = std::function<bool(int64_t b, int64_t h, int64_t q, int64_t kv)>;
using ScoreFn =
    std::function<double(double s, int64_t b, int64_t h, int64_t q, int64_t kv)>;

/// The values a launch gives the spec's run-time parameters, in declaration
/// order (defaults fill in the ones left out).
using ParamValues = std::vector<double>;

/// Reads and parses the spec file at `path` (its text into `text` if given);
/// nullopt with `error` ("cannot read PATH" or "PATH: what is wrong")
/// otherwise. For the sample runners.
std::optional<spec::AttentionSpec> readSpecFile(const std::string &path,
                                                std::string &error,
                                                std::string *text = nullptr);

/// Parameter values in declaration order from "name=value" strings (the
/// samples' --param), with defaults for the rest; "" or the error in `error`.
ParamValues paramValues(const spec::AttentionSpec &spec,
                        const std::vector<std::string> &given,
                        std::string &error);

/// Tensor inputs' contents in declaration order, row-major, with the sizes
/// the spec declares for the launch's shape.
using TensorInputs = std::vector<std::vector<double>>;

/// The sizes of tensor input `i` for `shape` (empty if the shape does not
/// fit its declaration).
std::vector<int64_t> tensorSizes(const spec::AttentionSpec &spec, size_t i,
                                 const Shape &shape);

/// Document ids of packed sequences: per batch entry, `docs` documents of
/// random lengths, ids 0, 1, ... increasing along the sequence.
std::vector<double> documentIds(int64_t batch, int64_t seq, int docs,
                                std::mt19937 &rng);

/// The same documents as each position's document start (the first
/// position of its run of equal ids), for masks written as
/// `kv >= start[b, q]`.
std::vector<double> documentStarts(int64_t batch, int64_t seq, int docs,
                                   std::mt19937 &rng);

/// A block layout: per leading index (`rows` layouts of q x kv blocks), each
/// block attended with probability `density`, the diagonal always (so no
/// query row is empty) -- the benchmark's "random + diagonal".
std::vector<double> blockLayout(int64_t rows, int64_t qBlocks, int64_t kvBlocks,
                                double density, std::mt19937 &rng);

/// Tensor inputs given at launch as the kernels read them: int32 / float32
/// arrays, packed row-major, with their sizes for the launch; static
/// tensors (spec values) are left out, `decl[i]` is the declaration of
/// entry i. `bytes(i)` is the size of array i; `data(i)` its first element.
struct HostTensorInputs {
  std::vector<size_t> decl;
  std::vector<std::vector<int32_t>> ints;
  std::vector<std::vector<float>> floats;
  std::vector<std::vector<int64_t>> sizes, strides;
  const void *data(size_t i) const {
    return ints[i].empty() ? static_cast<const void *>(floats[i].data())
                           : static_cast<const void *>(ints[i].data());
  }
  size_t bytes(size_t i) const {
    return 4 * (ints[i].empty() ? floats[i].size() : ints[i].size());
  }
  size_t size() const { return sizes.size(); }
};
/// Converts `values` for `shape`; empty with `error` set when the shape does
/// not fit a declaration ("seqlen" with seqlen_q != seqlen_k).
HostTensorInputs hostTensorInputs(const spec::AttentionSpec &spec,
                                  const Shape &shape,
                                  const TensorInputs &values,
                                  std::string &error);

/// Plausible contents for a spec's tensor inputs (what the samples run on):
/// int32 tensors whose last dimension is a sequence get sorted ids (packed
/// documents, 8 per row at most), block layouts (last dimension in blocks)
/// 25% random + diagonal, [batch] ones lengths in [1, seqlen_k], others
/// small integers; float32 tensors uniform values in [-1, 1]. Static
/// tensors get their spec value (when it fits the shape).
TensorInputs sampleTensorInputs(const spec::AttentionSpec &spec,
                                const Shape &shape, std::mt19937 &rng);

/// The spec's own mask and score as functions (evaluating its expressions),
/// for sequence lengths `shape`, parameter values `params` and tensor inputs
/// `tensors` (which must outlive the functions).
MaskFn maskOf(const spec::AttentionSpec &spec, const Shape &shape = {},
              const ParamValues &params = {},
              const TensorInputs *tensors = nullptr);
ScoreFn scoreOf(const spec::AttentionSpec &spec, const Shape &shape = {},
                const ParamValues &params = {},
                const TensorInputs *tensors = nullptr);

/// Logical [b, h, s, d] arrays of doubles (contiguous in that order).
struct Reference {
  std::vector<double> o;   // [b, h, sq, dv]
  std::vector<double> lse; // [b, h, sq]; -inf for fully masked rows
};
/// Rows run in parallel threads: `mask` and `score` are called from several
/// threads at once and must not keep state of their own (maskOf / scoreOf
/// and plain lambdas over read-only data are fine).
Reference referenceAttention(const Shape &s, double scale,
                             const std::vector<double> &q,
                             const std::vector<double> &k,
                             const std::vector<double> &v, const MaskFn &mask,
                             const ScoreFn &score);

/// Element storage in a dtype: bits for bf16/f16 (uint16), floats for f32.
uint16_t toBF16(float x);
float fromBF16(uint16_t x);
uint16_t toF16(float x);
float fromF16(uint16_t x);

/// A tensor stored in `dtype` in a physical layout, with its logical view.
struct Buffer {
  spec::ElementType dtype = spec::ElementType::F32;
  std::vector<uint8_t> bytes;
  int64_t sizes[4] = {0, 0, 0, 0};   // logical [b, h, s, d]
  int64_t strides[4] = {0, 0, 0, 0}; // element strides of the logical dims

  int64_t offset(int64_t b, int64_t h, int64_t s, int64_t d) const {
    return b * strides[0] + h * strides[1] + s * strides[2] + d * strides[3];
  }
  double get(int64_t i) const;
  void set(int64_t i, double x);
  void *data() { return bytes.data(); }
  int64_t numElements() const {
    return sizes[0] * sizes[1] * sizes[2] * sizes[3];
  }
};

/// A [b, h, s, d] buffer in `layout` (bshd stores s before h). `padRows`
/// adds unused elements between rows so strides are not the dense ones.
Buffer makeBuffer(spec::ElementType dtype, spec::Layout layout, int64_t b,
                  int64_t h, int64_t s, int64_t d, int64_t padRows = 0);

/// Fills with uniform values in [-1, 1] rounded to the buffer's dtype and
/// returns them (logical order) as doubles.
std::vector<double> fillRandom(Buffer &buf, std::mt19937 &rng);
/// Fills every element (padding included) with NaN bits, so unwritten
/// outputs cannot pass.
void poison(Buffer &buf);
/// Sets every element of the rows (b, s) for which `rows` holds, in every
/// head, to NaN: K and V rows no query may attend, so a kernel that
/// computes with them (P = 0 times NaN is NaN) fails.
void poisonRows(Buffer &buf, const std::function<bool(int64_t b, int64_t s)> &rows);
/// Logical-order values of a buffer.
std::vector<double> read(const Buffer &buf);

/// ||x - ref|| / ||ref|| over the finite entries of ref (1 when ref is all
/// zero and x is not). NaN anywhere in x gives +inf.
double relativeL2(const std::vector<double> &x, const std::vector<double> &ref);

/// Checks lse: -inf exactly where ref is -inf, and relative L2 elsewhere.
/// Returns the error (+inf on a mismatch of -inf positions or NaN).
double lseError(const std::vector<double> &x, const std::vector<double> &ref);

/// Tolerance on relative L2 for outputs in `dtype` (the contract:
/// 1e-5 for f32 inputs, 1e-2 for bf16, 5e-3 for f16).
double tolerance(spec::ElementType dtype);

} // namespace faopt::test

#endif // FAOPT_TESTS_COMMON_REFERENCE_H
