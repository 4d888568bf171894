#!/usr/bin/env bash
# On the GPU machine: where block-sparse's time goes. The list-driven
# block-sparse kernel over program lengths (`faopt-bench --only
# block-sparse-shapes`: every block, 50%, 25%, 12.5% random + the diagonal,
# a 16-block band), one CTA per program (FAOPT_PERSISTENT=0) and with
# programs handed out (1, the default since session 23; session 22 ran `-`
# for one CTA per program), alternating over ROUNDS rounds; then the
# variants with FAOPT_PERSISTENT=0 (dense and the static masks one CTA per
# program, for the list-free reference). Each setting has its own kernel
# cache. Expects the unpacked device bundle at $FAOPT_ROOT (default /tmp/f).
#   bench/experiments/block_sparse_shapes/run.sh OUTDIR [ROUNDS]
set -euo pipefail
out="${1:?usage: run.sh OUTDIR [ROUNDS]}"; rounds="${2:-2}"
root="${FAOPT_ROOT:-/tmp/f}"
export LD_LIBRARY_PATH="$root/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
mkdir -p "$out"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$out/gpu.txt"
for r in $(seq 1 "$rounds"); do
  for p in 0 1; do
    export FAOPT_PERSISTENT=$p
    FAOPT_CACHE_DIR=/tmp/bss_cache_$p "$root/bin/faopt-bench" --only block-sparse-shapes \
      > "$out/shapes_persistent${p}_round$r.txt" 2>&1
    grep '^variant' "$out/shapes_persistent${p}_round$r.txt" | sed "s/^/[persistent=$p round $r] /" || true
  done
done
unset FAOPT_PERSISTENT
FAOPT_PERSISTENT=0 FAOPT_CACHE_DIR=/tmp/bss_cache_0 "$root/bin/faopt-bench" --only variants \
  > "$out/variants_persistent0.txt" 2>&1
grep '^variant' "$out/variants_persistent0.txt" | sed "s/^/[persistent=0] /" || true
