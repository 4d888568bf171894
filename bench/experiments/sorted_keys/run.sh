#!/usr/bin/env bash
# Session 17's device call for attn-sorted-keys-as-bounds (document ids as
# per-row kv ranges where the list builder finds them sorted), from the
# repository root with the bundle unpacked at /tmp/f (scripts/pack-device.sh):
#   bench/experiments/sorted_keys/run.sh $OUT
# 1. Every GPU test with the default pipeline (the pass on), ~4.5 minutes.
# 2. The variants with row-bound masks off (A: the pass off; the window
#    loses its row bounds too) against the default (B), two rounds: for
#    documents, B / A is the pass alone (their masks take no other row
#    bounds); ~1.5 minutes.
set -euo pipefail
out="${1:?usage: run.sh OUTDIR}"
root="${FAOPT_ROOT:-/tmp/f}"
mkdir -p "$out"
LD_LIBRARY_PATH="$root/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
  FAOPT_CACHE_DIR=/tmp/faopt-sorted-keys-tests timeout 420 \
  "$root/bin/faopt-gpu-tests" > "$out/gpu_tests.txt" 2>&1 || {
  echo "run.sh: GPU tests failed:" >&2
  grep -E "FAILED|Failure|error" "$out/gpu_tests.txt" | head -30 >&2
  tail -5 "$out/gpu_tests.txt" >&2
  exit 1
}
tail -3 "$out/gpu_tests.txt"
bench/ab-env.sh "$out/ab" FAOPT_ROW_BOUND_MASKS 0 - --no-tests --no-fwd
