#!/usr/bin/env python3
"""Hand experiment (session 34): head groups aligned to the static snake.

attn-schedule-grid keeps a floor of 2048 programs a head group where a
program's work follows its q-block (causal), so below 2k every head is in
one group and the 132 CTAs in flight each read another head's K/V. The
floor exists for the snake's balance (item 6). A group of g heads whose
g * nq programs are a multiple of 2 * workers is whole snake row pairs,
balanced on its own: g = 2W / gcd(2W, nq) (bench/experiments/
schedule_sim.py; docs/performance.md item 83). This edit caps the
generated group size at that, with W = gridDim.x; for a non-persistent
grid it is at least every head, so the cap changes nothing there.
usage: snake_groups.py GEN.cu OUT.cu  (GEN.cu: faopt-compile SPEC
       --target sm90a --emit cuda of a persistent fixed-schedule kernel)
"""
import re
import sys

src, out = sys.argv[1:3]
s = open(src).read()
# The group size: the last clamp, min(g, batch * heads), before the span.
clamp = re.compile(r'  int64_t (v\d+) = faopt::imin\((v\d+), \(int64_t\) (v\d+)\);\n'
                   r'  int32_t (v\d+) = \(int32_t\) \1;\n'
                   r'  int32_t v\d+ = \4 \* (v\d+);\n')
m = clamp.search(s)
if not m:
    sys.exit("snake_groups.py: no head-group clamp found")
g, nq = m.group(1), m.group(5)
cap = f"""  // hand edit (snake_groups.py): g * nq a multiple of 2 * workers.
  {{
    int64_t w2 = 2 * faopt::grid_size<0>(), a = w2, b = {nq};
    while (b != 0) {{ int64_t t = a % b; a = b; b = t; }}
    {g} = faopt::imin({g}, faopt::imax(w2 / a, 1));
  }}
"""
first_line_end = m.start() + len(m.group(0).split('\n')[0]) + 1
s = s[:first_line_end] + cap + s[first_line_end:]
open(out, 'w').write(s)
