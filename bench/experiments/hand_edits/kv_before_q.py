#!/usr/bin/env python3
"""Hand experiment (session 35): the copy thread issues a program's first K
and V before its Q.

In a persistent kernel with one Q tile whose Q is released after the kv
loop (dense, causal, prefix-LM, chunks; handed-out kernels have two Q
tiles), the copy thread waits for Q's stage first, so the next program's
first K and V, whose stages emptied a block earlier, are issued only after
the consumers finish this program: session 13's timeline put K0 0.59 us
after Q at every program start (docs/performance.md item 84). This edit
moves the Q issue after the first K / V issue in the producer's branch, so
K0 and V0 land under the current program's last block and only Q's latency
is left at the boundary. A window releases Q at its last S = Q K^T,
before V's second-last stage empties, so there the edit issues Q a softmax
later than the generated order (to see whether one order serves both).
usage: kv_before_q.py GEN.cu OUT.cu  (GEN.cu: faopt-compile SPEC --target
       sm90a --emit cuda of a persistent fixed-schedule kernel)
"""
import re
import sys

src, out = sys.argv[1:3]
s = open(src).read()
producer_end = s.index('faopt::tma::producer_end')
head, tail = s[:producer_end], s[producer_end:]
# The Q issue: source 0, stage 0, with its comment and tile line.
q = re.compile(r'( *)// attn\.tile_prefetch: [^\n]*into stage 0, [^\n]*\n'
               r'\1faopt::SmemTile[^\n]*\n'
               r'\1faopt::tma::issue_tile<\d+, 0>\([^\n]*\);\n')
qs = list(q.finditer(head))
if len(qs) != 1:
    sys.exit(f'kv_before_q.py: {len(qs)} Q issues in the producer, expected 1')
qm = qs[0]
body = head[:qm.start()] + head[qm.end():]
# After the first K / V prefetch: the guarded prologue `if (...) { K; V }`,
# which ends before the producer's kv loop.
loop = re.search(r'\n( *)for \(int64_t j\d+ = ', body[qm.start():])
if not loop:
    sys.exit('kv_before_q.py: no kv loop after the Q issue')
at = qm.start() + loop.start() + 1
moved = qm.group(0).replace(qm.group(1), loop.group(1), 3)
s = body[:at] + moved.replace('// attn.tile_prefetch:',
                              '// hand edit (kv_before_q.py), attn.tile_prefetch:', 1) \
    + body[at:] + tail
open(out, 'w').write(s)
