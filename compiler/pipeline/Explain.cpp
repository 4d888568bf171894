//===- Explain.cpp - why a kernel is tiled as it is -----------------------===//
#include "compiler/pipeline/Explain.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace faopt {

namespace {

std::string human(double v, const char *unit) {
  const char *prefixes[] = {"", "K", "M", "G", "T", "P"};
  int i = 0;
  while (v >= 1000 && i < 5) {
    v /= 1000;
    ++i;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3g %s%s", v, prefixes[i], unit);
  return buf;
}

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// A parameter's value for the census: given (--param), its default, or 0.
const std::pair<std::string, double> *given(const spec::ParamDecl &p,
                                            const ExplainShape &s) {
  for (const auto &g : s.params)
    if (g.first == p.name)
      return &g;
  return nullptr;
}
double paramValue(const spec::ParamDecl &p, const ExplainShape &s) {
  if (const auto *g = given(p, s))
    return g->second;
  return p.hasDefault ? p.defaultValue : 0.0;
}

struct BlockCensus {
  int64_t pairs = 0, visited = 0, full = 0, partial = 0;
  double attended = 0; // (q, kv) pairs the mask keeps
};

/// Classifies every (q-block, kv-block) of one (batch, head) by evaluating
/// the mask at every position: the exact census of what the kernel skips
/// (the compiled classifier reaches it for causal, windows, prefixes and
/// their combinations; for other masks it may visit more).
BlockCensus census(const spec::AttentionSpec &spec, const TileChoice &t,
                   const ExplainShape &s) {
  BlockCensus c;
  int64_t nq = ceilDiv(s.seqQ, t.blockQ), nk = ceilDiv(s.seqK, t.blockKv);
  c.pairs = nq * nk;
  // Static tensors (a block layout written in the spec) are known here, and
  // so are the sequence lengths and the parameters' values (given, else
  // their defaults).
  spec::ExprEnv base;
  base.seqlenQ = s.seqQ;
  base.seqlenK = s.seqK;
  for (const spec::ParamDecl &p : spec.params)
    base.params.push_back({p.name, paramValue(p, s)});
  spec::LaunchSizes launch{s.batch, s.heads, s.kvHeads, s.seqQ, s.seqK};
  for (const spec::TensorDecl &d : spec.tensors) {
    std::vector<int64_t> sizes;
    if (d.isStatic() && spec::expectedTensorSizes(d, launch, sizes).empty() &&
        spec::staticTensorFits(d, sizes).empty())
      base.tensors.push_back({d.name, sizes, &d.value});
  }
  for (int64_t qb = 0; qb < nq; ++qb) {
    int64_t q0 = qb * t.blockQ, q1 = std::min(q0 + t.blockQ, s.seqQ);
    for (int64_t kb = 0; kb < nk; ++kb) {
      int64_t k0 = kb * t.blockKv, k1 = std::min(k0 + t.blockKv, s.seqK);
      int64_t kept = 0;
      for (int64_t q = q0; q < q1; ++q)
        for (int64_t kv = k0; kv < k1; ++kv) {
          spec::ExprEnv env = base;
          env.q = q;
          env.kv = kv;
          kept += !spec.mask || spec::evalBool(*spec.mask, env);
        }
      c.attended += static_cast<double>(kept);
      if (kept == 0)
        continue;
      ++c.visited;
      bool whole = kept == (q1 - q0) * (k1 - k0) && k1 - k0 == t.blockKv;
      whole ? ++c.full : ++c.partial;
    }
  }
  return c;
}

} // namespace

bool parseExplainParam(const std::string &text, const spec::AttentionSpec &spec,
                       ExplainShape &shape, std::string &error) {
  size_t eq = text.find('=');
  std::string name = text.substr(0, eq);
  auto declared = std::find_if(
      spec.params.begin(), spec.params.end(),
      [&](const spec::ParamDecl &p) { return p.name == name; });
  if (eq == std::string::npos || declared == spec.params.end()) {
    error = "'" + text + "': expected NAME=VALUE with a parameter the spec "
            "declares";
    return false;
  }
  std::string value = text.substr(eq + 1);
  char *end = nullptr;
  double v = std::strtod(value.c_str(), &end);
  if (value.empty() || *end != '\0') {
    error = "'" + text + "': " + value + " is not a number";
    return false;
  }
  for (auto &g : shape.params)
    if (g.first == name) {
      error = "'" + text + "': " + name + " is given twice";
      return false;
    }
  shape.params.push_back({name, v});
  return true;
}

bool parseExplainShape(const std::string &text, ExplainShape &shape,
                       std::string &error) {
  std::stringstream ss(text);
  std::string item;
  bool kvhSet = false;
  while (std::getline(ss, item, ',')) {
    size_t eq = item.find('=');
    if (eq == std::string::npos) {
      error = "expected key=value, got '" + item + "'";
      return false;
    }
    std::string key = item.substr(0, eq), value = item.substr(eq + 1);
    char *end = nullptr;
    long long v = std::strtoll(value.c_str(), &end, 10);
    if (value.empty() || *end != '\0' || v <= 0 || v > (1LL << 24)) {
      error = "'" + key + "' needs a positive integer, got '" + value + "'";
      return false;
    }
    if (key == "b")
      shape.batch = v;
    else if (key == "h")
      shape.heads = v;
    else if (key == "kvh") {
      shape.kvHeads = v;
      kvhSet = true;
    } else if (key == "sq")
      shape.seqQ = v;
    else if (key == "sk")
      shape.seqK = v;
    else if (key == "s")
      shape.seqQ = shape.seqK = v;
    else {
      error = "unknown key '" + key + "' (b, h, kvh, s, sq, sk)";
      return false;
    }
  }
  if (!kvhSet)
    shape.kvHeads = shape.heads;
  if (shape.heads % shape.kvHeads != 0) {
    error = "kvh must divide h";
    return false;
  }
  return true;
}

std::string explain(const spec::AttentionSpec &spec, const TargetDesc &target,
                    const TileChoice &t, const ExplainShape &s,
                    bool softmaxOverlap, PersistentMode persistent,
                    int64_t qStages, bool roundedP, int64_t kvStages) {
  std::ostringstream os;
  const double e = static_cast<double>(spec::elementBytes(spec.dtype));
  const double dqk = static_cast<double>(spec.headDimQK),
               dv = static_cast<double>(spec.headDimV);
  os << "kernel " << spec.name << " for " << target.name << "\n";
  os << "  spec: " << spec::toString(spec.dtype) << ", d_qk=" << spec.headDimQK
     << ", d_v=" << spec.headDimV << ", layout " << spec::toString(spec.layout)
     << ", mask " << (spec.mask ? spec.maskSummary : "none") << ", score "
     << (spec.score ? spec.scoreSummary : "none") << ", scale "
     << spec.effectiveScale() << (spec.scale ? "" : " (1/sqrt(d_qk))")
     << ", lse " << (spec.lse ? "yes" : "no") << "\n";
  const int64_t eBytes = spec::elementBytes(spec.dtype);
  // A mask that reads a tensor, run-time or written in the spec (a static
  // block layout), gets kv-block lists (attn-block-lists) built at launch,
  // and with them programs handed out at run time (attn-persistent-
  // programs); run-time tensors also leave the census below blind.
  bool listDriven = false, runTimeData = false;
  for (const spec::TensorDecl &d : spec.tensors) {
    const bool read = spec.mask && spec::exprUses(*spec.mask, d.name);
    listDriven |= read;
    runTimeData |= read && !d.isStatic();
  }
  // Handed-out programs keep their program slots in shared memory too
  // (persistentFits and persistentTilesFit count them).
  const bool runsPersistent =
      persistentFits(target, t, spec.headDimQK, spec.headDimV, eBytes,
                     persistent, listDriven);
  // Two Q tiles where asked for (by default for handed-out programs) and
  // where they fit.
  const bool wantsSecondQ = qStagesFor(qStages, listDriven) == 2;
  const bool secondQ =
      runsPersistent && wantsSecondQ &&
      persistentTilesFit(t.blockQ, t.blockKv, spec.headDimQK, spec.headDimV,
                         eBytes, t.stages, 2, listDriven,
                         target.sharedMemPerBlock);
  // A third K/V stage where asked for and where it fits next to the Q
  // tiles; O is then staged in a V stage (attn-stage-output-in-v, which
  // needs the overlap's last P V).
  const bool thirdStage =
      runsPersistent && softmaxOverlap && t.stages == 2 &&
      kvStagesFor(kvStages, listDriven) == 3 &&
      thirdKvStageFits(t.blockQ, t.blockKv, spec.headDimQK, spec.headDimV,
                       eBytes, secondQ ? 2 : 1, listDriven,
                       target.sharedMemPerBlock);
  const int64_t stages = thirdStage ? 3 : t.stages;
  os << "  tiles: block_q=" << t.blockQ << ", block_kv=" << t.blockKv << ", "
     << t.warps << " warp" << (t.warps > 1 ? "s" : "") << ", " << stages
     << " K/V stage" << (stages > 1 ? "s" : "") << ", " << t.mma
     << (t.copy == "tma"
             ? ", TMA copies (+ a producer warpgroup: one thread runs the copy slice)"
             : "")
     << "\n";
  os << "    why: " << t.why << "\n";
  // `why` is chooseTiles' plan; the persistent kernel may change its stages
  // afterwards (attn-persistent-programs), so say what and why.
  if (thirdStage)
    os << "    then: a third K/V stage (attn-persistent-programs, --kv-stages): "
          "with O staged in the V stage of each program's last P V "
          "(attn-stage-output-in-v) it fits in "
       << target.sharedMemPerBlock / 1024
       << " KiB, and the copy thread loads two blocks ahead, across "
          "programs too\n";
  else if (secondQ)
    os << "    then: a second Q tile for the next program "
          "(attn-persistent-programs, --q-stages)\n";
  const int64_t tileBytes =
      t.blockQ * spec.headDimQK * eBytes +
      stages * t.blockKv * (spec.headDimQK + spec.headDimV) * eBytes;
  os << "  shared memory: " << tileBytes / 1024 << " KiB (Q "
     << t.blockQ * spec.headDimQK * static_cast<int64_t>(e) / 1024 << " KiB + "
     << stages << " x (K "
     << t.blockKv * spec.headDimQK * static_cast<int64_t>(e) / 1024
     << " KiB + V " << t.blockKv * spec.headDimV * static_cast<int64_t>(e) / 1024
     << " KiB))"
     << (secondQ ? " + the next program's Q " +
                       std::to_string(t.blockQ * spec.headDimQK * eBytes / 1024) +
                       " KiB"
                 : std::string())
     << (thirdStage ? " (O staged in the last P V's V stage)"
         : runsPersistent
             ? " + O staging " +
                   std::to_string(t.blockQ * spec.headDimV * eBytes / 1024) +
                   " KiB"
             : std::string())
     << (t.copy == "tma" ? " + " + std::to_string(kTmaPipeBytes) + " B of stage barriers" : std::string())
     << "\n";
  const bool overlap = softmaxOverlap && t.copy == "tma";
  const int64_t sRegs = t.blockQ / t.warps * t.blockKv / 32;
  // The previous block's P: f32, or two 16-bit values a register with
  // rounded-p.
  const int64_t pRegs = roundedP ? sRegs / 2 : sRegs;
  const int64_t oRegs = t.blockQ / t.warps * spec.headDimV / 32;
  if (target.isGpu() && overlap && roundedP)
    os << "  registers: " << t.accumulatorRegs + pRegs
       << " per thread for the tiles (S " << sRegs << " + O " << oRegs
       << " f32 accumulators + the previous block's P " << pRegs
       << ", rounded to 16 bits)\n";
  else if (target.isGpu())
    os << "  registers: " << t.accumulatorRegs + (overlap ? pRegs : 0)
       << " f32 accumulators per thread (S " << sRegs << " + O " << oRegs
       << (overlap ? " + the previous block's P " + std::to_string(pRegs) : "")
       << ")\n";
  if (overlap)
    os << "  softmax overlap: each kv-block's softmax runs while the previous "
          "block's P V is on the tensor cores (attn-overlap-softmax; "
          "--no-softmax-overlap turns it off)\n";
  os << "  grid: (ceil(seqlen_q / " << t.blockQ
     << "), batch * heads) programs, each a serial loop over kv-blocks\n";
  if (runsPersistent)
    os << "  persistent: one CTA per SM runs programs in turn, loading the "
          "next one's tiles while it finishes the last (attn-persistent-"
          "programs; --no-persistent turns it off)"
       << (listDriven ? "; the kv-block lists set the programs' lengths at "
                         "run time, so each CTA takes the next program when "
                         "it is free (a counter)"
                       : "")
       << (secondQ ? "; two Q tiles, the next program's landing during "
                     "this one's kv loop"
                   : "")
       << (wantsSecondQ && !secondQ ? "; no room for a second Q tile" : "")
       << "\n";

  BlockCensus c = census(spec, t, s);
  const double bh = static_cast<double>(s.batch * s.heads);
  const double sq = static_cast<double>(s.seqQ), sk = static_cast<double>(s.seqK);
  os << "  at batch=" << s.batch << ", heads=" << s.heads
     << ", kv_heads=" << s.kvHeads << ", seqlen_q=" << s.seqQ
     << ", seqlen_k=" << s.seqK << " (--shape to change):\n";
  os << "    programs: " << ceilDiv(s.seqQ, t.blockQ) * s.batch * s.heads << "\n";
  if (runTimeData)
    os << "    kv-blocks visited: decided per launch from the tensor inputs "
          "(a generated kernel lists each q-block's non-empty kv-blocks); "
          "the figures below take every tensor entry as 0\n";
  if (listDriven && target.dependentLaunch)
    os << "    the list builder launches first; this kernel may start while "
          "it finishes and waits for it only before reading a list "
          "(programmatic dependent launch, attn-await-list-builder)\n";
  os << "    kv-blocks visited per (batch, head): " << c.visited << " of "
     << c.pairs << " (" << c.full << " full, no mask code; " << c.partial
     << " partial); mask keeps " << 100.0 * c.attended / (sq * sk)
     << "% of scores (evaluated at b = h = 0";
  std::string zeroed, givenList;
  for (const spec::ParamDecl &p : spec.params) {
    if (const auto *g = given(p, s)) {
      std::ostringstream v;
      v << p.name << " = " << g->second;
      givenList += (givenList.empty() ? "" : ", ") + v.str();
    } else if (!p.hasDefault && spec.mask &&
               spec::exprUses(*spec.mask, p.name)) {
      zeroed += (zeroed.empty() ? "" : ", ") + p.name;
    }
  }
  if (!givenList.empty())
    os << ", " << givenList;
  if (spec.params.size() > s.params.size())
    os << (givenList.empty() ? ", parameters" : ", the others")
       << " at their defaults"
       << (zeroed.empty() ? "" : "; " + zeroed +
                                     ", without one, at 0 (--param NAME=V)");
  os << ")\n";
  double usefulFlops = 2.0 * c.attended * (dqk + dv) * bh;
  double kernelFlops = 2.0 * static_cast<double>(c.visited) * t.blockQ *
                       t.blockKv * (dqk + dv) * bh;
  os << "    FLOPs: " << human(usefulFlops, "FLOP")
     << " on attended scores (4·b·h·s_q·s_k·d when dense); the kernel "
        "computes "
     << human(kernelFlops, "FLOP") << " (whole visited blocks)\n";

  // FlashAttention I/O: Q, O, LSE once; K and V once per visited block.
  double tiled = bh * (sq * dqk * e + sq * dv * e + (spec.lse ? sq * 4 : 0)) +
                 bh * static_cast<double>(c.visited) * t.blockKv * (dqk + dv) * e;
  // Naive attention: S and P written to and read back from HBM.
  double naive = bh * ((sq + sk) * dqk * e + 4.0 * sq * sk * e + sk * dv * e +
                       sq * dv * e);
  os << "    HBM traffic: tiled " << human(tiled, "B") << " vs naive (S and P "
     << "in HBM) " << human(naive, "B") << ": " << naive / tiled
     << "x less; minimum (each tensor once) "
     << human(bh * (sq * dqk + sq * dv) * e +
                  static_cast<double>(s.batch * s.kvHeads) * sk * (dqk + dv) * e,
              "B")
     << "\n";
  return os.str();
}

} // namespace faopt
