#!/usr/bin/env bash
# On the GPU machine: where a list builder's time goes, phase by phase.
# Runs `faopt-bench --only variants` with the builders compiled with
# -DFAOPT_DIAG_BUILDER_TIMES (faopt_block_lists.cuh: thread 0 of every
# builder thread block prints SM-clock stamps; only builders with key
# ranges print, i.e. the documents one) and summarises, per launch, the
# cycles from a thread block's start to: its first round's classification,
# key_ranges having the span, the order check, the end (median, p90, max
# over the 128 blocks), and the spread of the blocks' start times; then
# thread 0's entry and exit of its tensor_bounds calls (block 0, and the
# median over blocks of each mark). Then the tail: each thread block's
# median over the launches, the slowest five (a block is a list row:
# blockIdx.x = (batch row * heads row) * q-blocks + q-block) against the
# median block, which is what the attention kernel waits for beyond the
# typical row (docs/status.md Next 5).
#   bench/builder-times.sh OUTDIR [faopt-bench options...]
# e.g. `--variant document_causal_8docs --masks-from FILE` (Flex's
# documents, bench/flex_masks.py).
set -euo pipefail
out="${1:?usage: builder-times.sh OUTDIR [faopt-bench options...]}"
shift
root="${FAOPT_ROOT:-/tmp/f}"
export LD_LIBRARY_PATH="$root/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
mkdir -p "$out"
FAOPT_NVRTC_OPTIONS="${FAOPT_NVRTC_OPTIONS:-} -DFAOPT_DIAG_BUILDER_TIMES" \
FAOPT_CACHE_DIR=/tmp/faopt-builder-times-cache \
  "$root/bin/faopt-bench" --only variants --reps 3 "$@" > "$out/builder_times_raw.txt" 2>&1 || true
python3 - "$out/builder_times_raw.txt" <<'PY' | tee "$out/builder_times.txt"
import re, statistics as st, sys
rows = []
for line in open(sys.argv[1]):
    if line.startswith("builder-times"):
        rows.append([int(x) for x in re.findall(r"-?\d+", line)[:12]])
if not rows:
    print("no builder-times lines (no builder with key ranges ran?)"); sys.exit(0)
blocks = max(r[0] for r in rows) + 1
launches = [rows[i:i + blocks] for i in range(0, len(rows) - blocks + 1, blocks)]
print(f"{len(launches)} launches of {blocks} thread blocks (cycles from each block's start)")
for k, launch in enumerate(launches):
    spread = max(r[1] for r in launch) - min(r[1] for r in launch)
    parts = []
    for name, i in (("classified", 2), ("span", 3), ("checked", 4), ("end", 5)):
        v = sorted(r[i] for r in launch if r[i] >= 0)
        if v:
            parts.append(f"{name} {st.median(v):.0f}/{v[int(0.9 * (len(v) - 1))]}/{v[-1]}")
    print(f"launch {k}: start spread {spread} ns; median/p90/max: " + "; ".join(parts))
    # Thread 0's tensor_bounds calls (entry, exit, ...): block 0 (one
    # candidate kv-block) and the median block.
    if len(launch[0]) >= 12:
        b0 = next(r for r in launch if r[0] == 0)
        med = []
        for i in range(6, 12):
            v = [r[i] for r in launch if r[i] >= 0]
            med.append(round(st.median(v)) if v else -1)
        print("   tensor_bounds entry/exit, block 0:", b0[6:12], " median over blocks, per mark:", med)
# The tail: per block, the median over launches of each phase's end.
per_block = {}
for launch in launches:
    for r in launch:
        per_block.setdefault(r[0], []).append(r)
def med(rs, i):
    v = [r[i] for r in rs if r[i] >= 0]
    return round(st.median(v)) if v else -1
ends = sorted(((med(rs, 5), b) for b, rs in per_block.items()), reverse=True)
typical = st.median(e for e, _ in ends)
print(f"tail: median block ends at {typical:.0f} cycles; the slowest, "
      "(block: classified / span / checked / end, medians over launches):")
for e, b in ends[:5]:
    rs = per_block[b]
    print(f"   block {b}: {med(rs, 2)} / {med(rs, 3)} / {med(rs, 4)} / {e}"
          f"  ({e - typical:+.0f} against the median block)")
PY
