#!/usr/bin/env bash
# On the GPU machine: faopt-gpu-tests split into SHARDS processes that run
# side by side (googletest's GTEST_TOTAL_SHARDS / GTEST_SHARD_INDEX), each
# with its own kernel cache directory ($FAOPT_CACHE_DIR-shard-I, default
# /tmp/faopt-gpu-tests-shard-I: a caller comparing settings that the cache
# key does not tell apart, such as two bundles, gives each its own). The suite is bound by NVRTC compiles
# on the host (every fixed-schedule sm90a kernel launched with short rows
# compiles its short-row form too), about 8 minutes in one process on an
# H200 machine with 16 cores (session 39); the shards share those cores
# and the one GPU. Each shard's output goes to OUTDIR/shard-I.txt; the
# summary lists every failed test, and the exit status is non-zero when a
# shard failed, crashed or was cut by the timeout.
#   scripts/gpu-tests-sharded.sh OUTDIR [SHARDS] [gtest options]
# SHARDS defaults to half the cores, at most 6 (what session 39 timed).
#   e.g. scripts/gpu-tests-sharded.sh $OUT/tests 4 --gtest_filter='Specs/*'
# Expects the unpacked device bundle (scripts/pack-device.sh) at $FAOPT_ROOT
# (default /tmp/f). GPU_TESTS_TIMEOUT (seconds, default 540) bounds each
# shard.
set -uo pipefail
if [ $# -lt 1 ]; then
  sed -n '2,19p' "$0" >&2
  exit 2
fi
out=$1
shift
shards=$(( $(nproc) / 2 ))
[ "$shards" -gt 6 ] && shards=6
[ "$shards" -lt 1 ] && shards=1
if [ $# -gt 0 ] && [[ $1 =~ ^[0-9]+$ ]]; then
  shards=$1
  shift
fi
if [ "$shards" -lt 1 ]; then
  echo "gpu-tests-sharded.sh: SHARDS must be at least 1" >&2
  exit 2
fi
root="${FAOPT_ROOT:-/tmp/f}"
bin="$root/bin/faopt-gpu-tests"
if [ ! -x "$bin" ]; then
  echo "gpu-tests-sharded.sh: no $bin (unpack the device bundle there or set FAOPT_ROOT)" >&2
  exit 2
fi
export LD_LIBRARY_PATH="$root/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
mkdir -p "$out"
start=$(date +%s)
pids=()
for ((i = 0; i < shards; ++i)); do
  GTEST_TOTAL_SHARDS=$shards GTEST_SHARD_INDEX=$i \
    FAOPT_CACHE_DIR="${FAOPT_CACHE_DIR:-/tmp/faopt-gpu-tests}-shard-$i" \
    timeout "${GPU_TESTS_TIMEOUT:-540}" "$bin" "$@" > "$out/shard-$i.txt" 2>&1 &
  pids+=($!)
done
status=0
for ((i = 0; i < shards; ++i)); do
  wait "${pids[$i]}"
  rc=$?
  passed=$(grep -c '^\[       OK \]' "$out/shard-$i.txt")
  failed=$(grep -c '^\[  FAILED  \] .*(' "$out/shard-$i.txt")
  skipped=$(grep -c '^\[  SKIPPED \] .*(' "$out/shard-$i.txt")
  note=""
  if [ "$rc" -eq 124 ]; then
    note=" (cut by the ${GPU_TESTS_TIMEOUT:-540} s timeout)"
  elif [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
    note=" (exited with $rc: a crash?)"
  fi
  echo "shard $i: $passed passed, $failed failed, $skipped skipped, exit $rc$note"
  [ "$rc" -ne 0 ] && status=1
done
passed=$(cat "$out"/shard-*.txt | grep -c '^\[       OK \]')
failed=$(cat "$out"/shard-*.txt | grep -c '^\[  FAILED  \] .*(')
skipped=$(cat "$out"/shard-*.txt | grep -c '^\[  SKIPPED \] .*(')
echo "all shards: $passed passed, $failed failed, $skipped skipped, $(( $(date +%s) - start )) s"
grep -h '^\[  FAILED  \] .*(' "$out"/shard-*.txt
grep -h 'GPU test skipped' "$out"/shard-*.txt | sort | uniq -c | head -3
exit $status
