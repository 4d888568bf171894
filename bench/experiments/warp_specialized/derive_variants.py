#!/usr/bin/env python3
"""Writes the experiment's derived kernels from the compiled ones, so only
faopt-compile output is kept in the repository:
  gen_<s>_direct.cu        from gen_<s>.cu: thread 0 issues the TMA loads
                           itself (direct_issue.cuh), 256 threads;
  gen_<s>_overlap_turns.cu from gen_<s>_overlap.cu: the warpgroups take
                           turns on the pair S(j), P V(j-1).
Run it here before building ws_main.cu (README.md)."""
import re

for s in ("causal", "dense"):
    src = open(f"gen_{s}.cu").read()
    d = src.replace("__launch_bounds__(384, 1)", "__launch_bounds__(256, 1)")
    d = re.sub(r"faopt::tma_req::start<8, (\d+), false, 240, 24>",
               r"faopt::tma_req::start_direct<8, \1>", d)
    d = d.replace("faopt::tma_req::prefetch_tile<", "faopt::tma_req::prefetch_tile_direct<")
    d = re.sub(r"faopt::tma_req::finish<8, \d+, false>\(\);", "", d)
    d = d.replace(f"{s}_bf16_d128", f"{s}_direct_bf16_d128")
    open(f"gen_{s}_direct.cu", "w").write(d)

    t = open(f"gen_{s}_overlap.cu").read()
    t = t.replace(f"{s}_overlap_bf16_d128", f"{s}_overlap_turns_bf16_d128")
    t = t.replace("start<8, 163840, false, 240, 24>", "start<8, 163840, true, 240, 24>")
    t = t.replace("finish<8, 163840, false>", "finish<8, 163840, true>")
    # Wait for the turn before S; pass it once P V(j-1) is started (or
    # right away when there is none).
    t = re.sub(r"(\n(\s*)faopt::Acc<128, 128, 8> (v\d+) = faopt::mma_abt_async<8, false>)",
               r"\n\2faopt::wgmma::before_product<8, true>(true);\1", t, count=1)
    t = re.sub(r"(faopt::mma_ab_async<8, false>\([^;]*;\n)",
               r"\1        faopt::wgmma::after_product<8, true>(false);\n", t, count=1)
    t = re.sub(r"(\} else \{\n(\s*)// attn.tile_mma_wait: until at most 0)",
               r"} else {\n\2faopt::wgmma::after_product<8, true>(false);\n\2// attn.tile_mma_wait: until at most 0",
               t, count=1)
    open(f"gen_{s}_overlap_turns.cu", "w").write(t)
