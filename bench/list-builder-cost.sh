#!/usr/bin/env bash
# On the GPU machine: what the kv-block list builder costs next to the
# attention kernel it feeds, for the variants that have one (document ids,
# block layouts; n = 8k, as faopt-bench --only variants). Nsight Compute
# times each kernel (gpu__time_duration, clocks left alone); the script
# prints per kernel the median over the profiled launches.
#   bench/list-builder-cost.sh OUTDIR
set -euo pipefail
out="$1"
root="${FAOPT_ROOT:-/tmp/f}"
export LD_LIBRARY_PATH="$root/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
mkdir -p "$out"
ncu --clock-control none -k "regex:^var_(document|block_sparse)" \
    --metrics gpu__time_duration.sum --csv \
    "$root/bin/faopt-bench" --only variants --reps 3 \
    > "$out/list_builder_ncu.csv" 2> "$out/list_builder_ncu.log" || true
python3 - "$out/list_builder_ncu.csv" <<'PY' | tee "$out/list_builder_cost.txt"
import csv, statistics, sys
times = {}
rows = [l for l in open(sys.argv[1]) if l.startswith('"')]
for r in csv.DictReader(rows):
    if r.get("Metric Name") != "gpu__time_duration.sum":
        continue
    unit = r.get("Metric Unit", "ns")
    v = float(r["Metric Value"].replace(",", ""))
    v *= {"ns": 1e-3, "usecond": 1, "us": 1, "msecond": 1e3, "ms": 1e3}.get(unit, 1e-3)
    times.setdefault(r["Kernel Name"], []).append(v)
for name in sorted(times):
    print(f"{name:40s} median {statistics.median(times[name]):10.1f} us over {len(times[name])}")
for name in sorted(times):
    if name.endswith("_block_lists"):
        att = name[: -len("_block_lists")]
        if att in times:
            b, a = statistics.median(times[name]), statistics.median(times[att])
            print(f"{att}: list builder {b:.1f} us = {100 * b / (a + b):.2f}% of builder + attention ({a:.1f} us)")
PY
