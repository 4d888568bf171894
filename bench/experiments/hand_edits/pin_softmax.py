#!/usr/bin/env python3
"""Hand experiment (session 33): the softmax pinned before the P V wait.

attn-overlap-softmax emits, in each kv iteration, S = Q K^T and O += P V
started together, a wait for S, the softmax, and only then the wait for
P V (`mma_wait<0>`), so the softmax's exponentials run while P V does. The
PTX says otherwise: NVVM sinks the pure arithmetic of the softmax below the
wait's `asm volatile` (it orders only against other volatile asm and
memory), so `wgmma.wait_group 0` comes before all 66 `ex2.approx` of the
dense kernel (`faopt-compile --emit ptx`), and ptxas follows
(scripts/sass-waits.sh "0/66"; docs/performance.md items 40, 41). This edit
pins the softmax's results (the exponentials' tile and the row sums) with
the device headers' `wgmma::pin` (an empty volatile asm that reads and
writes each register) right before that wait: the asms stay in order, so
the exponentials must be computed first. Exact; changes nothing else.
usage: pin_softmax.py GEN.cu OUT.cu  (README.md beside this file)
"""
import re
import sys

src, out = sys.argv[1:3]
s = open(src).read()
helper = '''namespace pin_softmax {
template <int M, int N, int W>
static __device__ __forceinline__ void pin(faopt::Acc<M, N, W> &a) {
  faopt::wgmma::pin(reinterpret_cast<float (&)[faopt::Acc<M, N, W>::kSize]>(a.v));
}
template <int M, int W>
static __device__ __forceinline__ void pin(faopt::Rows<M, W> &r) {
  faopt::wgmma::pin(reinterpret_cast<float (&)[faopt::Rows<M, W>::MT * 2]>(r.v));
}
} // namespace pin_softmax
'''
pat = re.compile(r'(\n(\s*)faopt::Rows<\d+, \d+> (v\d+) = faopt::row_sum_lanes\('
                 r'(v\d+), v\d+\);\n(?:\s*//[^\n]*\n)?)(\s*faopt::Acc<[^>]*> v\d+ = '
                 r'faopt::mma_wait<0>\()')
count = 0


def pinned(m):
    global count
    count += 1
    lead, ind, rowsum, exps, wait = m.groups()
    return (f"{lead}{ind}// pin_softmax: the softmax is done before P V's wait\n"
            f"{ind}pin_softmax::pin({exps});\n{ind}pin_softmax::pin({rowsum});\n"
            f"{wait}")


s = pat.sub(pinned, s)
if count == 0:
    sys.exit('pin_softmax.py: no softmax followed by a P V wait')
kernel = s.index('extern "C" __global__')
s = s[:kernel] + helper + s[kernel:]
open(out, 'w').write(s)
print(f'pin_softmax.py: {count} P V wait(s) pinned', file=sys.stderr)
