#!/usr/bin/env bash
# On the GPU machine: faopt's benchmark and the peers (PyTorch SDPA flash /
# cuDNN, FlexAttention) in one run, then the ratio table.
#   bench/run-gpu.sh OUTDIR [--quick] [--impls sdpa-flash,sdpa-cudnn,flex]
#   bench/run-gpu.sh OUTDIR --variants [--own-masks]
#                                        # masks vs FlexAttention (n = 8k)
# --variants times FlexAttention's own documents and block layout
# (bench/flex_masks.py reads them from the peers' script; faopt-bench
# --masks-from); --own-masks keeps faopt-bench's draws (the tables before
# session 28: other documents, density 0.092 against Flex's 0.111).
# Expects the unpacked device bundle (scripts/pack-device.sh) at $FAOPT_ROOT
# (default /tmp/f) and the peers script at .device/peers/peers.py.
set -euo pipefail
out="$1"; shift
quick=""; impls="sdpa-flash,sdpa-cudnn"; variants=""; own_masks=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick="--quick" ;;
    --impls) impls="$2"; shift ;;
    --variants) variants=1 ;;
    --own-masks) own_masks=1 ;;
  esac
  shift
done
root="${FAOPT_ROOT:-/tmp/f}"
export LD_LIBRARY_PATH="$root/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
mkdir -p "$out"
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv | tee "$out/gpu.txt"
if [ -n "$variants" ]; then
  masks=()
  if [ -z "$own_masks" ]; then
    python3 bench/flex_masks.py .device/peers "$out/flex_masks.txt"
    masks=(--masks-from "$out/flex_masks.txt")
  fi
  "$root/bin/faopt-bench" --only variants ${masks[@]+"${masks[@]}"} --csv "$out/faopt_variants.csv" | tee "$out/faopt_variants.txt"
  # FlexAttention compiles per shape; its decode section is not needed here.
  PYTHONUNBUFFERED=1 timeout "${PEERS_TIMEOUT:-240}" python3 .device/peers/peers_variants.py --modes fwd > "$out/peers_variants.txt" 2>&1 || true
  python3 bench/compare_variants.py "$out/faopt_variants.csv" "$out/peers_variants.txt" | tee "$out/compare_variants.txt"
  exit 0
fi
"$root/bin/faopt-bench" --only fwd $quick --csv "$out/faopt.csv"
PYTHONUNBUFFERED=1 python3 .device/peers/peers.py --only fwd $quick --impls "$impls" --csv "$out/peers.csv" | tail -n 40
python3 bench/compare.py "$out/faopt.csv" "$out/peers.csv" | tee "$out/compare.txt"
