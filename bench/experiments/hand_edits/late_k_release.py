#!/usr/bin/env python3
"""Hand experiment (session 33): K released after the softmax, on its sums.

ptxas places the wait for the previous block's P V (`WARPGROUP.DEPBAR`) as
early as the memory-ordered instructions around it allow: after the
arrive that releases K's stage (right after S = Q K^T is waited for) and
before the one that releases V's. The softmax's arithmetic is free to
move, so the wait lands before the exponentials ("0/66",
scripts/sass-waits.sh; docs/performance.md items 40, 41, 79), and the
softmax does not run under P V within a warpgroup.

This edit moves K's release to just before the P V wait and makes it
depend on the row sums: `release_when(!(sum0 + sum1 < -1), ...)`. The sums
are never negative, so the arrive always happens, but ptxas cannot issue it
(or the wait after it) before every exponential is done. Exact: the same
results, and K's stage is freed one softmax later.
usage: late_k_release.py GEN.cu OUT.cu  (README.md beside this file)
"""
import re
import sys

src, out = sys.argv[1:3]
s = open(src).read()
cons = s.index('consumer_begin')
head, body = s[:cons], s[cons:]

release = re.compile(r'\n\s*// attn\.tile_release: this warp is done with stage '
                     r'v\d+ \(fill v\d+\)\n(\s*)faopt::tma::release<(\d+), 1>'
                     r'\((v\d+), (v\d+)\);\n')
sums = re.compile(r'faopt::Rows<128, 8> (v\d+) = faopt::row_sum_lanes\(')
wait = re.compile(r'\n(\s*)(?://[^\n]*\n\s*)?faopt::Acc<[^>]*> v\d+ = '
                  r'faopt::mma_wait<0>\(')
moved, pos = 0, 0
while True:
    r = release.search(body, pos)
    if not r:
        break
    # The next row sums and P V wait, before the next K release.
    nxt = release.search(body, r.end())
    limit = nxt.start() if nxt else len(body)
    sm = sums.search(body, r.end(), limit)
    w = wait.search(body, sm.end(), limit) if sm else None
    if not (sm and w):
        pos = r.end()
        continue
    ind, pipe, stage, fill = r.groups()
    total = sm.group(1)
    late = (f"\n{w.group(1)}// late_k_release: K's stage, once the softmax is done\n"
            f"{w.group(1)}faopt::tma::release_when<{pipe}, 1>(!({total}.v[0][0] + "
            f"{total}.v[0][1] < -1.0f), {stage}, {fill});")
    body = (body[:r.start()] + '\n' + body[r.end():w.start()] + late +
            body[w.start():])
    moved += 1
    pos = r.start()  # the moved release no longer matches
if moved == 0:
    sys.exit('late_k_release.py: no K release followed by row sums and a '
             'P V wait')
open(out, 'w').write(head + body)
print(f'late_k_release.py: {moved} K release(s) moved', file=sys.stderr)
