#!/usr/bin/env python3
"""Hand experiment (session 33): the kv loop's first iteration peeled.

In the overlapped kv loop (attn-overlap-softmax) every iteration asks
whether a P V is pending (`if (pending) { wait V; O += P V (async) }`); only
the first active iteration of a program has none. With that branch between
the products and the softmax, ptxas waits for P V right after S, before any
exponential, in most kernels (scripts/sass-waits.sh "0/66",
docs/performance.md items 40, 41, 53): the softmax does not run under P V
within a warpgroup. This edit runs the kv loop's first iteration by itself
(its body copied, with j = the loop's start) and then, where it left a P V
pending, the rest of the loop with `pending` a constant true, so no branch
separates the products from the softmax. Exact: the same operations in the same
order, as long as the first tile is active (it is in the kernels named
below; a trap says otherwise, rather than a wrong answer). Applies to the
generated sm90a TMA kernels with one kv loop in the consumers (fixed
schedules: dense, causal, window, prefix-LM, chunks).
usage: peel_first.py GEN.cu OUT.cu  (README.md beside this file)
"""
import re
import sys

from kv_loop import consumers, kv_loop

src, out = sys.argv[1:3]
head, body = consumers(open(src).read())
loop, inner, k = kv_loop(body, 'peel_first.py')
ind, j, lo, hi = loop.groups()
# The pending flag: the last bool the body's head copies from its carried
# state ("bool vA = vB;" lines at the top of the body).
copies = re.findall(r'^\s*bool (v\d+) = (v\d+);$', inner[:3000], re.M)
if len(copies) < 2:
    sys.exit('peel_first.py: no carried flags at the top of the kv loop')
pend_local, pend_carried = copies[-1]
if f'if ({pend_local}) {{' not in inner:
    sys.exit(f'peel_first.py: {pend_local} is not the pending flag')
hot = re.sub(rf'^(\s*)bool {pend_local} = {pend_carried};$',
             rf'\1const bool {pend_local} = true; // peel_first: pending',
             inner, count=1, flags=re.M)
peeled = (f"\n{ind}// peel_first: the first iteration, then the rest with a P V"
          f" always pending\n"
          f"{ind}if ({lo} < {hi}) {{\n"
          f"{ind}  int64_t {j} = {lo};\n{inner}"
          f"{ind}}}\n"
          f"{ind}if (!{pend_carried} && {lo} + 1 < {hi}) __trap();\n"
          f"{ind}for (int64_t {j} = {lo} + 1; {j} < ((int64_t) {hi}); "
          f"{j} += 1) {{\n{hot}}}")
body = body[:loop.start()] + peeled + body[k:]
open(out, 'w').write(head + body)
