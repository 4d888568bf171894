#!/usr/bin/env python3
"""Hand experiment (session 40, docs/performance.md item 100): a generated
fixed-schedule sm90a kernel with attn-schedule-grid's head-group size g set
to 1, so the persistent snake walks one head's q-blocks in order. For
chunked masks (q-block lengths cycling 1..C) the snake then pairs chunk
offset k with offset C-1-k; with the default groups (32-33 heads, the
causal floor) its busiest CTA carried 1.43x the mean.

  faopt-compile specs/var_chunked_const.json --target sm90a --emit cuda -o gen.cu
  head_groups_of_one.py gen.cu DIR/var_chunked_const.cu
  FAOPT_CUDA_OVERRIDE_DIR=DIR faopt-bench --only variants --variant chunked_causal_1024_const
"""
import re
import sys

src, out = sys.argv[1:3]
s = open(src).read()
# g = min(floor or L2 fit, row-pair cap), narrowed to 32 bits, then g * nq,
# right before the worker index: the one place the group size is made.
pat = re.compile(r'int32_t (v\d+) = \(int32_t\) v\d+;(\n\s*int32_t v\d+ = \1 \* v\d+;'
                 r'\n\s*int64_t v\d+ = faopt::block_index<0>\(\);)')
found = pat.findall(s)
if len(found) != 1:
    sys.exit(f"head_groups_of_one.py: {len(found)} group-size lines, expected 1")
s = pat.sub(lambda m: f"int32_t {m.group(1)} = 1; // hand edit: head groups of one head"
            + m.group(2), s)
open(out, 'w').write(s)
