#!/usr/bin/env bash
# On the GPU machine: Nsight Compute on faopt's kernel and on
# FlashAttention-2 (PyTorch SDPA, flash backend) for one configuration of the
# benchmark grid (bf16, batch * seqlen = 16k, heads = 2048 / d), so the two
# can be compared section by section: occupancy, warp stalls, issue slots, L2
# hit rate. Needs a runtime where ncu reads counters (Firecracker; see the
# device notes). Clocks are left alone (--clock-control none).
#   bench/profile-gpu.sh OUTDIR [D=128] [CAUSAL=1] [SEQ=16384]
# Writes OUTDIR/{faopt,fa2}.txt (details pages), .ncu-rep reports and .log
# (the profiled programs' output).
set -euo pipefail
out="$1"; d="${2:-128}"; causal="${3:-1}"; seq="${4:-16384}"
root="${FAOPT_ROOT:-/tmp/f}"
export LD_LIBRARY_PATH="$root/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
mkdir -p "$out"
sections=(--section SpeedOfLight --section Occupancy --section LaunchStats
          --section WarpStateStats --section SchedulerStats
          --section ComputeWorkloadAnalysis --section MemoryWorkloadAnalysis
          --section InstructionStats)
kind=$([ "$causal" = 1 ] && echo causal || echo dense)

# faopt-bench warms up three launches first; profile the fourth.
ncu --clock-control none -k "regex:^bench_d${d}_${kind}\$" --launch-skip 3 --launch-count 1 \
    "${sections[@]}" --export "$out/faopt" --force-overwrite \
    "$root/bin/faopt-bench" --only fwd --d "$d" --causal "$causal" --seq "$seq" --reps 3 \
    > "$out/faopt.log" 2>&1 || true

cat > "$out/fa2.py" <<PY
import torch, torch.nn.functional as F
from torch.nn.attention import sdpa_kernel, SDPBackend
b, h = 16384 // $seq, 2048 // $d
q, k, v = (torch.randn(b, h, $seq, $d, device="cuda", dtype=torch.bfloat16) for _ in range(3))
with sdpa_kernel([SDPBackend.FLASH_ATTENTION]):
    for _ in range(4):
        F.scaled_dot_product_attention(q, k, v, is_causal=bool($causal))
torch.cuda.synchronize()
PY
ncu --clock-control none -k "regex:flash_fwd" --launch-skip 3 --launch-count 1 \
    "${sections[@]}" --export "$out/fa2" --force-overwrite \
    python3 "$out/fa2.py" > "$out/fa2.log" 2>&1 || true
for r in faopt fa2; do
  [ -f "$out/$r.ncu-rep" ] && ncu --import "$out/$r.ncu-rep" --page details > "$out/$r.txt" 2>&1 || true
done
grep -E "^  [a-z_]+|Duration|Registers Per|Achieved Occupancy|Issue Slots Busy|L2 Hit Rate|Executed Ipc A|No Eligible|Compute \(SM\) Throughput|Block Limit" \
    "$out/faopt.txt" "$out/fa2.txt" || true
