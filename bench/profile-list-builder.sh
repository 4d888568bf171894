#!/usr/bin/env bash
# On the GPU machine: one Nsight Compute "full" profile of a variant's
# kv-block list builder (default: the documents one): launch statistics,
# occupancy, issue and memory summaries (--page details), written to
# OUTDIR/KERNEL_details.txt; the report itself stays in /tmp (the device
# tool returns few files). Clocks are left alone, as in list-builder-cost.sh.
#   bench/profile-list-builder.sh OUTDIR [KERNEL]   (KERNEL: var_document_block_lists)
set -euo pipefail
out="${1:?usage: profile-list-builder.sh OUTDIR [KERNEL]}" kernel="${2:-var_document_block_lists}"
root="${FAOPT_ROOT:-/tmp/f}"
export LD_LIBRARY_PATH="$root/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
mkdir -p "$out"
ncu --clock-control none --set full --import-source no -k "regex:^${kernel}\$" \
    --launch-skip 2 --launch-count 1 -f -o "/tmp/$kernel" \
    "$root/bin/faopt-bench" --only variants --reps 3 > "/tmp/${kernel}_run.log" 2>&1 || true
ncu --import "/tmp/$kernel.ncu-rep" --page details > "$out/${kernel}_details.txt" 2>&1 || true
grep -E "Duration|Elapsed Cycles|Registers Per|Achieved Occupancy|Warp Cycles Per Issued|Issued Instructions  |L1/TEX Hit|L2 Hit|Memory Throughput" \
    "$out/${kernel}_details.txt" | head -20
