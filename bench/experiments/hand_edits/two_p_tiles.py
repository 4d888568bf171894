#!/usr/bin/env python3
"""Hand experiment (session 33): P in two register tiles, alternating.

In the overlapped kv iteration, O += P V of the previous block runs while
this block's softmax computes the next P. P is one loop-carried variable,
so ptxas gives the new P the registers the running P V is reading, and
must wait for P V before the first F2FP that writes them; it schedules
that wait (WARPGROUP.DEPBAR) before the exponentials, which it interleaves
with the F2FPs, so the softmax does not run under P V at all
(scripts/sass-waits.sh "0/66"; docs/performance.md items 40, 41, 79).
This edit unrolls the kv loop by two, with P carried in two variables that
alternate (even iterations read P0 and write P1, odd ones the reverse), so
the new P has registers of its own. An odd iteration count ends with one
copy P0 = P1. Exact: the same operations in the same order. Applies to the
generated sm90a TMA kernels with one kv loop in the consumers.
usage: two_p_tiles.py GEN.cu OUT.cu  (README.md beside this file)
"""
import re
import sys

from kv_loop import consumers, kv_loop

src, out = sys.argv[1:3]
head, body = consumers(open(src).read())
loop, inner, k = kv_loop(body, 'two_p_tiles.py')
ind, j, lo, hi = loop.groups()
# The carried P: "faopt::OperandA<...> vLocal = vCarried;" at the body's top,
# "vCarried = vNew;" at its end.
top = re.search(r'^(\s*)(faopt::OperandA<[^\n]*>) (v\d+) = (v\d+);$', inner,
                re.M)
if not top:
    sys.exit('two_p_tiles.py: no carried P at the top of the kv loop')
ptype, p_carried = top.group(2), top.group(4)
end = list(re.finditer(rf'^(\s*){p_carried} = (v\d+);$', inner, re.M))
if len(end) != 1:
    sys.exit(f'two_p_tiles.py: {len(end)} updates of {p_carried}, expected 1')
p_other = p_carried + '_odd'
# Even iterations: read P0, write P1. Odd ones: read P1, write P0.
even = (inner[:end[0].start()] + f"{end[0].group(1)}{p_other} = "
        f"{end[0].group(2)};" + inner[end[0].end():])
odd = inner[:top.start()] + (f"{top.group(1)}{ptype} {top.group(3)} = "
                             f"{p_other};") + inner[top.end():]
unrolled = (f"\n{ind}// two_p_tiles: the kv loop unrolled by two, P alternating "
            f"between {p_carried} and {p_other}\n"
            f"{ind}{ptype} {p_other};\n"
            f"{ind}for (int64_t {j}_pair = {lo}; {j}_pair < ((int64_t) {hi}); "
            f"{j}_pair += 2) {{\n"
            f"{ind}  {{\n{ind}  int64_t {j} = {j}_pair;\n{even}{ind}  }}\n"
            f"{ind}  if ({j}_pair + 1 < ((int64_t) {hi})) {{\n"
            f"{ind}  int64_t {j} = {j}_pair + 1;\n{odd}{ind}  }} else {{\n"
            f"{ind}    {p_carried} = {p_other};\n"
            f"{ind}  }}\n"
            f"{ind}}}")
body = body[:loop.start()] + unrolled + body[k:]
open(out, 'w').write(head + body)
