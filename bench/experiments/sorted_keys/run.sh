#!/usr/bin/env bash
# Session 17's device calls for attn-sorted-keys-as-bounds (document ids as
# per-row kv ranges where the list builder finds them sorted), from the
# repository root with the bundle unpacked at /tmp/f (scripts/pack-device.sh):
#   bench/experiments/sorted_keys/run.sh $OUT
# 1. Every GPU test with the default pipeline (the pass on), ~3.5 minutes,
#    then the document tests with persistent list kernels
#    (FAOPT_PERSISTENT=1), where the flag is read per program.
# 2. The variants with row-bound masks off (A: the pass off; the window
#    loses its row bounds too) against the default (B), two rounds: for
#    documents, B / A is the pass alone (their masks take no other row
#    bounds); ~1.5 minutes.
set -euo pipefail
out="${1:?usage: run.sh OUTDIR}"
root="${FAOPT_ROOT:-/tmp/f}"
mkdir -p "$out"
export LD_LIBRARY_PATH="$root/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
tests="$root/bin/faopt-gpu-tests"
check() {
  if ! "${@:2}" > "$out/$1" 2>&1; then
    echo "run.sh: GPU tests failed ($1):" >&2
    grep -E "FAILED|Failure|error" "$out/$1" | head -30 >&2
    tail -5 "$out/$1" >&2
    exit 1
  fi
  tail -1 "$out/$1"
}
check gpu_tests.txt env FAOPT_CACHE_DIR=/tmp/faopt-sk-tests \
  timeout 420 "$tests"
check gpu_tests_persistent_documents.txt env FAOPT_PERSISTENT=1 \
  FAOPT_CACHE_DIR=/tmp/faopt-sk-persistent timeout 200 "$tests" \
  --gtest_filter='*document*'
bench/ab-env.sh "$out/ab" FAOPT_ROW_BOUND_MASKS 0 - --no-tests --no-fwd
