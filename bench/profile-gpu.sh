#!/usr/bin/env bash
# On the GPU machine: Nsight Compute on faopt's kernel and on
# the peers PyTorch SDPA runs (flash = FlashAttention-2, cudnn) for one
# configuration of the benchmark grid (bf16, batch * seqlen = 16k, heads =
# 2048 / d), so they can be compared section by section: launch shape
# (grid, block, cluster, registers, shared memory), occupancy, warp stalls,
# issue slots, L2 hit rate. Needs a runtime where ncu reads counters
# (Firecracker; see the device notes). Clocks are left alone
# (--clock-control none).
#   [PEERS="fa2 cudnn"] bench/profile-gpu.sh OUTDIR [D=128] [CAUSAL=1] [SEQ=16384]
# PEERS defaults to fa2. Writes OUTDIR/{faopt,PEER}.txt (details pages),
# .ncu-rep reports and .log (the profiled programs' output).
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

for peer in ${PEERS:-fa2}; do
  case "$peer" in
    fa2) backend=FLASH_ATTENTION kernels="regex:flash_fwd" ;;
    cudnn) backend=CUDNN_ATTENTION kernels="regex:cudnn|sdpa|fmha|fprop" ;;
    *) echo "profile-gpu.sh: unknown peer $peer (fa2, cudnn)" >&2; exit 2 ;;
  esac
  cat > "$out/$peer.py" <<PY
import torch, torch.nn.functional as F
from torch.nn.attention import sdpa_kernel, SDPBackend
b, h = 16384 // $seq, 2048 // $d
q, k, v = (torch.randn(b, h, $seq, $d, device="cuda", dtype=torch.bfloat16) for _ in range(3))
with sdpa_kernel([SDPBackend.$backend]):
    for _ in range(4):
        F.scaled_dot_product_attention(q, k, v, is_causal=bool($causal))
torch.cuda.synchronize()
PY
  ncu --clock-control none -k "$kernels" --launch-skip 3 --launch-count 1 \
      "${sections[@]}" --export "$out/$peer" --force-overwrite \
      python3 "$out/$peer.py" > "$out/$peer.log" 2>&1 || true
done
for r in faopt ${PEERS:-fa2}; do
  [ -f "$out/$r.ncu-rep" ] && ncu --import "$out/$r.ncu-rep" --page details > "$out/$r.txt" 2>&1 || true
done
grep -E "^  [a-z_]+|Duration|Registers Per|Achieved Occupancy|Issue Slots Busy|L2 Hit Rate|Executed Ipc A|No Eligible|Compute \(SM\) Throughput|Block Limit|Cluster Size|Grid Size|Block Size|Shared Memory Config|Dynamic Shared|Static Shared|Waves Per SM" \
    "$out/faopt.txt" $(for r in ${PEERS:-fa2}; do echo "$out/$r.txt"; done) || true
