#!/usr/bin/env python3
"""Hand-made variant of a generated sm90a TMA kernel (plain or persistent)
for timeline.cu: the output tile leaves through a TMA store instead of the
consumers' 16-byte stores (FlashAttention-3's epilogue). The consumers
still write O into the shared staging tile (its layout is the 128-byte
swizzled one TMA reads); then one thread issues a bulk tensor store per
64-column slab and the consumers go on (in a persistent kernel: to the next
program) without waiting for it; the staging tile is reused only after the
store has read it (faopt::tma_store_tile in timeline.cu). The kernel takes the
output's tensor map as one more parameter after k's and v's.
Usage: tma_store.py in.cu name out.cu (kernel name -> name_e7)."""
import re
import sys

src, name, out = sys.argv[1:]
text = open(src).read()
text = re.sub(r"\b" + name + r"(\(|_)", name + r"_e7\1", text)
text, n = re.subn(r"(const __grid_constant__ faopt::TmaMap (v\d+))\) \{",
                  r"\1, const __grid_constant__ faopt::TmaMap o_map) {", text, count=1)
assert n == 1, "no tensor-map parameters"
text, n = re.subn(r"faopt::store_tile<(\d+)>\((\w+), \w+, (\w+), (\w+), (\w+), \w+, (\w+)\);",
                  r"faopt::tma_store_tile<\1>(\2, &o_map, \3, \4, \5, \6);", text)
assert n == 1, "no store_tile"
text, n = re.subn(r"(\n\s*)(faopt::tma::finish<)", r"\1faopt::tma_store_drain();\1\2", text)
assert n >= 1, "no finish"
open(out, "w").write(text)
