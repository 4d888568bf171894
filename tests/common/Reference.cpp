//===- Reference.cpp - naive attention in double precision ----------------===//
#include "tests/common/Reference.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <limits>
#include <memory>
#include <system_error>
#include <thread>

namespace faopt::test {

namespace {
spec::ExprEnv baseEnv(const spec::AttentionSpec &spec, const Shape &shape,
                      const ParamValues &params, const TensorInputs *tensors) {
  spec::ExprEnv env;
  env.seqlenQ = shape.seqQ;
  env.seqlenK = shape.seqK;
  for (size_t i = 0; i < spec.params.size(); ++i)
    env.params.push_back({spec.params[i].name, i < params.size()
                                                   ? params[i]
                                                   : spec.params[i].defaultValue});
  for (size_t i = 0; tensors && i < spec.tensors.size() && i < tensors->size();
       ++i)
    env.tensors.push_back(
        {spec.tensors[i].name, tensorSizes(spec, i, shape), &(*tensors)[i]});
  return env;
}

/// A mask or score function's environment, shared by its copies. `id` is
/// unique per function (addresses can be reused, ids are not).
struct SharedEnv {
  uint64_t id;
  spec::ExprEnv env;
};
std::shared_ptr<const SharedEnv> shareEnv(spec::ExprEnv env) {
  static std::atomic<uint64_t> next{1};
  return std::make_shared<const SharedEnv>(SharedEnv{next++, std::move(env)});
}

/// This thread's copy of `base`'s environment, for setting the indices of one
/// evaluation. Copying an ExprEnv (parameter names, tensor sizes) per element
/// cost more than evaluating the expression, so each thread keeps copies of
/// the last few functions it evaluated (a mask and a score alternate).
spec::ExprEnv &threadEnv(const SharedEnv &base) {
  thread_local std::array<std::pair<uint64_t, spec::ExprEnv>, 4> cache{};
  thread_local size_t nextSlot = 0;
  for (auto &[id, env] : cache)
    if (id == base.id)
      return env;
  auto &slot = cache[nextSlot];
  nextSlot = (nextSlot + 1) % cache.size();
  slot.first = base.id;
  slot.second = base.env;
  return slot.second;
}
} // namespace

std::vector<int64_t> tensorSizes(const spec::AttentionSpec &spec, size_t i,
                                 const Shape &shape) {
  std::vector<int64_t> sizes;
  spec::LaunchSizes launch{shape.batch, shape.heads, shape.kvHeads, shape.seqQ,
                           shape.seqK};
  if (!spec::expectedTensorSizes(spec.tensors[i], launch, sizes).empty())
    sizes.clear();
  return sizes;
}

std::optional<spec::AttentionSpec> readSpecFile(const std::string &path,
                                                std::string &error,
                                                std::string *text) {
  std::ifstream in(path);
  if (!in) {
    error = "cannot read " + path;
    return std::nullopt;
  }
  std::stringstream contents;
  contents << in.rdbuf();
  if (text)
    *text = contents.str();
  spec::SpecParseResult parsed = spec::parseSpec(contents.str());
  if (!parsed.spec) {
    error = path + ": " + parsed.error;
    return std::nullopt;
  }
  return *parsed.spec;
}

ParamValues paramValues(const spec::AttentionSpec &spec,
                        const std::vector<std::string> &given,
                        std::string &error) {
  error.clear();
  ParamValues values(spec.params.size());
  std::vector<bool> set(spec.params.size(), false);
  for (const std::string &g : given) {
    size_t eq = g.find('=');
    std::string name = g.substr(0, eq);
    size_t i = 0;
    while (i < spec.params.size() && spec.params[i].name != name)
      ++i;
    if (eq == std::string::npos || i == spec.params.size()) {
      error = "--param " + g + ": expected NAME=VALUE with a parameter the "
              "spec declares";
      return {};
    }
    char *end = nullptr;
    std::string text = g.substr(eq + 1);
    values[i] = std::strtod(text.c_str(), &end);
    if (text.empty() || *end) {
      error = "--param " + g + ": not a number";
      return {};
    }
    set[i] = true;
  }
  for (size_t i = 0; i < spec.params.size(); ++i)
    if (!set[i]) {
      if (!spec.params[i].hasDefault) {
        error = "parameter '" + spec.params[i].name +
                "' has no default: give --param " + spec.params[i].name + "=V";
        return {};
      }
      values[i] = spec.params[i].defaultValue;
    }
  return values;
}

std::vector<double> documentIds(int64_t batch, int64_t seq, int docs,
                                std::mt19937 &rng) {
  std::vector<double> ids(std::max<int64_t>(batch * seq, 0));
  for (int64_t b = 0; b < batch; ++b) {
    std::vector<int64_t> cuts;
    for (int i = 0; i + 1 < docs && seq > 1; ++i)
      cuts.push_back(std::uniform_int_distribution<int64_t>(1, seq - 1)(rng));
    std::sort(cuts.begin(), cuts.end());
    for (int64_t s = 0; s < seq; ++s)
      ids[b * seq + s] = static_cast<double>(
          std::upper_bound(cuts.begin(), cuts.end(), s) - cuts.begin());
  }
  return ids;
}

std::vector<double> documentStarts(int64_t batch, int64_t seq, int docs,
                                   std::mt19937 &rng) {
  std::vector<double> ids = documentIds(batch, seq, docs, rng);
  std::vector<double> start(ids.size());
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t i = 0; i < seq; ++i) {
      const size_t k = b * seq + i;
      start[k] = i > 0 && ids[k] == ids[k - 1] ? start[k - 1] : double(i);
    }
  return start;
}

std::vector<double> blockLayout(int64_t rows, int64_t qBlocks, int64_t kvBlocks,
                                double density, std::mt19937 &rng) {
  std::vector<double> v;
  std::bernoulli_distribution attend(density);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < qBlocks; ++i)
      for (int64_t j = 0; j < kvBlocks; ++j)
        v.push_back(i == j || attend(rng) ? 1.0 : 0.0);
  return v;
}

HostTensorInputs hostTensorInputs(const spec::AttentionSpec &spec,
                                  const Shape &shape,
                                  const TensorInputs &values,
                                  std::string &error) {
  HostTensorInputs h;
  error.clear();
  for (size_t i = 0; i < values.size() && i < spec.tensors.size(); ++i) {
    if (spec.tensors[i].isStatic())
      continue;
    std::vector<int64_t> sizes = tensorSizes(spec, i, shape);
    if (sizes.empty()) {
      error = "the shape does not fit tensor '" + spec.tensors[i].name +
              "' (a \"seqlen\" dimension needs seqlen_q == seqlen_k)";
      return {};
    }
    std::vector<int64_t> strides(sizes.size());
    int64_t stride = 1;
    for (size_t d = sizes.size(); d-- > 0;) {
      strides[d] = stride;
      stride *= sizes[d];
    }
    h.decl.push_back(i);
    h.ints.emplace_back();
    h.floats.emplace_back();
    if (spec.tensors[i].type == spec::ExprType::Int)
      h.ints.back().assign(values[i].begin(), values[i].end());
    else
      h.floats.back().assign(values[i].begin(), values[i].end());
    h.sizes.push_back(std::move(sizes));
    h.strides.push_back(std::move(strides));
  }
  return h;
}

TensorInputs sampleTensorInputs(const spec::AttentionSpec &spec,
                                const Shape &shape, std::mt19937 &rng) {
  TensorInputs out;
  for (size_t i = 0; i < spec.tensors.size(); ++i) {
    const spec::TensorDecl &t = spec.tensors[i];
    std::vector<int64_t> sizes = tensorSizes(spec, i, shape);
    int64_t n = 1;
    for (int64_t s : sizes)
      n *= s;
    std::vector<double> v(std::max<int64_t>(n, 0));
    const std::string &last = t.dims.back();
    if (t.isStatic()) {
      if (sizes == t.valueShape)
        v = t.value;
    } else if (t.type == spec::ExprType::Float) {
      std::uniform_real_distribution<double> u(-1, 1);
      for (double &x : v)
        x = static_cast<float>(u(rng));
    } else if (last.find('/') != std::string::npos && sizes.size() >= 2) {
      int64_t kvBlocks = sizes.back(), qBlocks = sizes[sizes.size() - 2];
      int64_t rows = qBlocks * kvBlocks != 0 ? n / (qBlocks * kvBlocks) : 0;
      v = blockLayout(rows, qBlocks, kvBlocks, 0.25, rng);
    } else if (last == "seqlen" || last == "seqlen_q" || last == "seqlen_k") {
      int64_t row = sizes.back();
      v = documentIds(row ? n / row : 0, row, 8, rng);
    } else if (t.dims.size() == 1 && last == "batch") {
      for (double &x : v)
        x = static_cast<double>(std::uniform_int_distribution<int64_t>(
            1, std::max<int64_t>(shape.seqK, 1))(rng));
    } else {
      for (double &x : v)
        x = static_cast<double>(std::uniform_int_distribution<int>(0, 7)(rng));
    }
    out.push_back(std::move(v));
  }
  return out;
}

MaskFn maskOf(const spec::AttentionSpec &spec, const Shape &shape,
              const ParamValues &params, const TensorInputs *tensors) {
  if (!spec.mask)
    return nullptr;
  spec::ExprPtr m = spec.mask;
  auto base = shareEnv(baseEnv(spec, shape, params, tensors));
  return [m, base](int64_t b, int64_t h, int64_t q, int64_t kv) {
    spec::ExprEnv &env = threadEnv(*base);
    env.b = b;
    env.h = h;
    env.q = q;
    env.kv = kv;
    return spec::evalBool(*m, env);
  };
}

ScoreFn scoreOf(const spec::AttentionSpec &spec, const Shape &shape,
                const ParamValues &params, const TensorInputs *tensors) {
  if (!spec.score)
    return nullptr;
  spec::ExprPtr s = spec.score;
  auto base = shareEnv(baseEnv(spec, shape, params, tensors));
  return [s, base](double x, int64_t b, int64_t h, int64_t q, int64_t kv) {
    spec::ExprEnv &env = threadEnv(*base);
    env.b = b;
    env.h = h;
    env.q = q;
    env.kv = kv;
    env.score = x;
    return spec::evalNumeric(*s, env);
  };
}

Reference referenceAttention(const Shape &s, double scale,
                             const std::vector<double> &q,
                             const std::vector<double> &k,
                             const std::vector<double> &v, const MaskFn &mask,
                             const ScoreFn &score) {
  Reference r;
  r.o.assign(s.batch * s.heads * s.seqQ * s.headDimV, 0.0);
  r.lse.assign(s.batch * s.heads * s.seqQ,
               -std::numeric_limits<double>::infinity());
  int64_t group = s.heads / s.kvHeads;
  int64_t rows = s.batch * s.heads * s.seqQ;
  // Rows are independent: threads take chunks of them (the GPU tests'
  // references at 2-8k positions took most of the suite's time serially).
  std::atomic<int64_t> nextRow{0};
  constexpr int64_t chunk = 16;
  auto work = [&] {
    std::vector<double> logits(s.seqK);
    std::vector<char> keep(s.seqK);
    for (int64_t first; (first = nextRow.fetch_add(chunk)) < rows;)
      for (int64_t row = first; row < std::min(rows, first + chunk); ++row) {
        int64_t i = row % s.seqQ, h = row / s.seqQ % s.heads,
                b = row / (s.seqQ * s.heads);
        int64_t kh = h / group;
        const double *qi = &q[row * s.headDimQK];
        double mx = -std::numeric_limits<double>::infinity();
        for (int64_t j = 0; j < s.seqK; ++j) {
          keep[j] = !mask || mask(b, h, i, j);
          if (!keep[j])
            continue;
          const double *kj =
              &k[((b * s.kvHeads + kh) * s.seqK + j) * s.headDimQK];
          double dot = 0;
          for (int64_t d = 0; d < s.headDimQK; ++d)
            dot += qi[d] * kj[d];
          double x = dot * scale;
          if (score)
            x = score(x, b, h, i, j);
          logits[j] = x;
          mx = std::max(mx, x);
        }
        if (mx == -std::numeric_limits<double>::infinity())
          continue; // fully masked: o = 0, lse = -inf
        double sum = 0;
        double *oi = &r.o[row * s.headDimV];
        for (int64_t j = 0; j < s.seqK; ++j) {
          if (!keep[j])
            continue;
          double p = std::exp(logits[j] - mx);
          sum += p;
          const double *vj =
              &v[((b * s.kvHeads + kh) * s.seqK + j) * s.headDimV];
          for (int64_t d = 0; d < s.headDimV; ++d)
            oi[d] += p * vj[d];
        }
        for (int64_t d = 0; d < s.headDimV; ++d)
          oi[d] /= sum;
        r.lse[row] = mx + std::log(sum);
      }
  };
  int64_t threads = std::min<int64_t>(
      {std::max(1u, std::thread::hardware_concurrency()), 32,
       (rows + chunk - 1) / chunk});
  std::vector<std::thread> pool;
  for (int64_t t = 1; t < threads; ++t) {
    try {
      pool.emplace_back(work);
    } catch (const std::system_error &) {
      break; // no more threads to be had: the ones running share the rows
    }
  }
  work();
  for (std::thread &t : pool)
    t.join();
  return r;
}

uint16_t toBF16(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  if ((u & 0x7fffffff) > 0x7f800000) // NaN stays NaN
    return static_cast<uint16_t>((u >> 16) | 0x40);
  u += 0x7fff + ((u >> 16) & 1); // round to nearest even
  return static_cast<uint16_t>(u >> 16);
}

float fromBF16(uint16_t x) {
  uint32_t u = static_cast<uint32_t>(x) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

uint16_t toF16(float x) {
  _Float16 h = static_cast<_Float16>(x);
  uint16_t u;
  std::memcpy(&u, &h, 2);
  return u;
}

float fromF16(uint16_t x) {
  _Float16 h;
  std::memcpy(&h, &x, 2);
  return static_cast<float>(h);
}

double Buffer::get(int64_t i) const {
  if (dtype == spec::ElementType::F32) {
    float f;
    std::memcpy(&f, bytes.data() + 4 * i, 4);
    return f;
  }
  uint16_t u;
  std::memcpy(&u, bytes.data() + 2 * i, 2);
  return dtype == spec::ElementType::BF16 ? fromBF16(u) : fromF16(u);
}

void Buffer::set(int64_t i, double x) {
  if (dtype == spec::ElementType::F32) {
    float f = static_cast<float>(x);
    std::memcpy(bytes.data() + 4 * i, &f, 4);
    return;
  }
  uint16_t u = dtype == spec::ElementType::BF16 ? toBF16(static_cast<float>(x))
                                                : toF16(static_cast<float>(x));
  std::memcpy(bytes.data() + 2 * i, &u, 2);
}

Buffer makeBuffer(spec::ElementType dtype, spec::Layout layout, int64_t b,
                  int64_t h, int64_t s, int64_t d, int64_t padRows) {
  Buffer buf;
  buf.dtype = dtype;
  buf.sizes[0] = b;
  buf.sizes[1] = h;
  buf.sizes[2] = s;
  buf.sizes[3] = d;
  int64_t row = d + padRows;
  buf.strides[3] = 1;
  if (layout == spec::Layout::BHSD) {
    buf.strides[2] = row;
    buf.strides[1] = s * row;
    buf.strides[0] = h * s * row;
  } else {
    buf.strides[1] = row;
    buf.strides[2] = h * row;
    buf.strides[0] = s * h * row;
  }
  buf.bytes.assign(std::max<int64_t>(b * h * s * row, 1) *
                       spec::elementBytes(dtype),
                   0);
  return buf;
}

std::vector<double> fillRandom(Buffer &buf, std::mt19937 &rng) {
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<double> values;
  values.reserve(buf.numElements());
  for (int64_t b = 0; b < buf.sizes[0]; ++b)
    for (int64_t h = 0; h < buf.sizes[1]; ++h)
      for (int64_t s = 0; s < buf.sizes[2]; ++s)
        for (int64_t d = 0; d < buf.sizes[3]; ++d) {
          int64_t i = buf.offset(b, h, s, d);
          buf.set(i, dist(rng));
          values.push_back(buf.get(i)); // the rounded value the kernel sees
        }
  return values;
}

void poisonRows(Buffer &buf,
                const std::function<bool(int64_t b, int64_t s)> &rows) {
  for (int64_t b = 0; b < buf.sizes[0]; ++b)
    for (int64_t s = 0; s < buf.sizes[2]; ++s)
      if (rows(b, s))
        for (int64_t h = 0; h < buf.sizes[1]; ++h)
          for (int64_t d = 0; d < buf.sizes[3]; ++d)
            buf.set(buf.offset(b, h, s, d), std::nan(""));
}

void poison(Buffer &buf) {
  if (buf.dtype == spec::ElementType::F32) {
    uint32_t nan = 0x7fc00000;
    for (size_t i = 0; i + 4 <= buf.bytes.size(); i += 4)
      std::memcpy(buf.bytes.data() + i, &nan, 4);
  } else {
    uint16_t nan = buf.dtype == spec::ElementType::BF16 ? 0x7fc0 : 0x7e00;
    for (size_t i = 0; i + 2 <= buf.bytes.size(); i += 2)
      std::memcpy(buf.bytes.data() + i, &nan, 2);
  }
}

std::vector<double> read(const Buffer &buf) {
  std::vector<double> values;
  values.reserve(buf.numElements());
  for (int64_t b = 0; b < buf.sizes[0]; ++b)
    for (int64_t h = 0; h < buf.sizes[1]; ++h)
      for (int64_t s = 0; s < buf.sizes[2]; ++s)
        for (int64_t d = 0; d < buf.sizes[3]; ++d)
          values.push_back(buf.get(buf.offset(b, h, s, d)));
  return values;
}

double relativeL2(const std::vector<double> &x, const std::vector<double> &ref) {
  double num = 0, den = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    if (std::isnan(x[i]))
      return std::numeric_limits<double>::infinity();
    if (!std::isfinite(ref[i]))
      continue;
    num += (x[i] - ref[i]) * (x[i] - ref[i]);
    den += ref[i] * ref[i];
  }
  if (den == 0)
    return num == 0 ? 0 : 1;
  return std::sqrt(num / den);
}

double lseError(const std::vector<double> &x, const std::vector<double> &ref) {
  for (size_t i = 0; i < ref.size(); ++i) {
    if (std::isnan(x[i]))
      return std::numeric_limits<double>::infinity();
    bool refMasked = std::isinf(ref[i]) && ref[i] < 0;
    bool xMasked = std::isinf(x[i]) && x[i] < 0;
    if (refMasked != xMasked)
      return std::numeric_limits<double>::infinity();
  }
  return relativeL2(x, ref);
}

double tolerance(spec::ElementType dtype) {
  switch (dtype) {
  case spec::ElementType::F32:
    return 1e-5;
  case spec::ElementType::BF16:
    return 1e-2;
  case spec::ElementType::F16:
    return 5e-3;
  }
  return 0;
}

} // namespace faopt::test
