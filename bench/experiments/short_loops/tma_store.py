#!/usr/bin/env python3
"""Hand-made variant of a generated, non-persistent sm90a TMA kernel for
timeline.cu: the output tile leaves through a TMA store instead of the
consumers' 16-byte stores (FlashAttention-3's epilogue), the way the
compiler lowers it in persistent kernels: faopt::tma::store_tile (the
consumers stage O, one thread stores it by TMA, nobody waits; the kernel's
epilogue waits for the store to read the staging tile). The kernel takes
the output's tensor map as one more parameter after k's and v's.
Usage: tma_store.py in.cu name out.cu (kernel name -> name_e7)."""
import re
import sys

src, name, out = sys.argv[1:]
text = open(src).read()
text = re.sub(r"\b" + name + r"(\(|_)", name + r"_e7\1", text)
text, n = re.subn(r"(const __grid_constant__ faopt::TmaMap (v\d+))\) \{",
                  r"\1, const __grid_constant__ faopt::TmaMap o_map) {", text, count=1)
assert n == 1, "no tensor-map parameters"
text, n = re.subn(r"faopt::tma::start<(\d+), (\d+)>\((\w+), (\w+), (\w+)\);",
                  r"faopt::tma::start<\1, \2>(\3, \4, \5, o_map);", text, count=1)
assert n == 1, "no tma::start"
pipe = re.search(r"faopt::tma::start<\d+, (\d+)>", text).group(1)
text, n = re.subn(r"faopt::store_tile<(\d+)>\((\w+), \w+, (\w+), (\w+), (\w+), \w+, (\w+)\);",
                  r"faopt::tma::store_tile<" + pipe + r", \1>(\2, \3, \4, \5, \6);", text)
assert n == 1, "no store_tile"
open(out, "w").write(text)
