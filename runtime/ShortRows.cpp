//===- ShortRows.cpp - a second form of a kernel for short kv rows --------===//
//
// A persistent kernel with a fixed schedule releases Q's shared-memory stage
// after its kv loop, except for sliding-window bands (attn-release-q-early,
// auto). Released inside the loop instead, right after the last S = Q K^T,
// the copy thread can bring the next program's Q in while the consumers
// finish the last P V. On an H200 with three K/V stages that gains where
// programs are short and the transition between them is a large share of
// their time: fwd dense +2.2 / +2.7% and causal +4.5 / +1.7% at seqlen
// 512 / 1k, while from 2k on causal loses 0.3-1.1% and prefix-LM 3.2% at
// 8k (docs/performance.md item 87: the in-loop release moves ptxas's
// waits). A kernel cannot choose per program without carrying the in-loop
// code, so the runtime chooses per launch: launches whose seqlen_k bounds
// every program to at most kShortRowKvBlocks kv-blocks run the same spec
// compiled with Q released early (a second kernel, compiled on the first
// such launch and cached like any other); the rest run the kernel itself.
// A kernel that pays its staged O store's read wait after the next Q wait
// (item 94; dense) already shortens the transition its own way, and beats
// the short-row form from 1k on (item 95: −0.6% at 1k, +1.3% at 512), so
// its bound is kDeferredStoreKvBlocks. FAOPT_SHORT_ROW_KERNEL=0 turns this
// off.
//
//===----------------------------------------------------------------------===//
#include "runtime/Context.h"
#include "runtime/Environment.h"

#include <cstdio>

namespace faopt::rt {
namespace {
/// Programs of at most this many kv-blocks (seqlen_k <= 8 * block_kv: 1024
/// for the d = 128 kernels) are where item 87 measured the early release
/// gaining; at 2k causal already lost.
constexpr int64_t kShortRowKvBlocks = 8;
/// The bound for kernels whose store's read wait is deferred (manifest
/// output_wait_at_next_q): 512 at block_kv 128, where item 95 measured the
/// short-row form still ahead of the deferred kernel.
constexpr int64_t kDeferredStoreKvBlocks = 4;
} // namespace

void planShortRows(const faopt_context &ctx, const GpuCompileOptions &options,
                   faopt_kernel &k) {
  faopt_kernel::ShortRows &s = k.shortRows;
  // Only what item 87 measured: sm90a TMA kernels with a fixed schedule
  // (no list builder, no program counter) and three K/V stages whose Q is
  // released after the loop because the release was left to the compiler
  // (FAOPT_RELEASE_Q_EARLY unset), and whose source is the generated one.
  s.eligible = ctx.shortRowKernel && ctx.noDevice.empty() &&
               options.releaseQEarly == ReleaseQMode::Auto &&
               options.cudaSourceOverride.empty() && k.persistent &&
               !k.programCounter && k.listBuilderName.empty() &&
               k.tmaBoxRows[0] != 0 && k.kvStages == 3 && !k.earlyQRelease &&
               k.blockKv > 0;
  if (!s.eligible)
    return;
  s.maxSeqlenK =
      (k.outputWaitAtNextQ ? kDeferredStoreKvBlocks : kShortRowKvBlocks) *
      k.blockKv;
  s.options = options;
  s.options.releaseQEarly = ReleaseQMode::On;
}

const faopt_kernel &kernelForLaunch(const faopt_kernel &k,
                                    const faopt_forward_args &a) {
  faopt_kernel::ShortRows &s = k.shortRows;
  if (!s.eligible || a.seqlen_k > s.maxSeqlenK)
    return k;
  std::call_once(s.once, [&] {
    faopt_kernel *form = nullptr;
    if (obtainKernel(*k.context, k.spec, s.options, form) == FAOPT_SUCCESS &&
        form->function && form->threads == k.threads) {
      s.kernel = form;
      return;
    }
    // A compiler defect, not the user's: said once, and the launch goes on
    // with the kernel itself, which is correct for every length.
    if (!quiet())
      std::fprintf(stderr,
                   "faopt: warning: kernel %s: its short-row form (Q released "
                   "early) could not be made (%s); launches with seqlen_k <= "
                   "%lld run the kernel itself\n",
                   k.name.c_str(),
                   form ? "it launches differently" : faopt_last_error(),
                   static_cast<long long>(s.maxSeqlenK));
  });
  const faopt_kernel *form = s.kernel.load();
  return form ? *form : k;
}

} // namespace faopt::rt
