#!/usr/bin/env bash
# Persistent list kernels x two Q tiles: tests, then variants alternating.
set -u
out=$1
export LD_LIBRARY_PATH=/tmp/f/lib
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader
FAOPT_CACHE_DIR=/tmp/c11 FAOPT_PERSISTENT=1 FAOPT_Q_STAGES=2 timeout 280 /tmp/f/bin/faopt-gpu-tests > $out/tests_p1q2.txt 2>&1; echo "tests p1q2 rc=$?"; tail -1 $out/tests_p1q2.txt
grep -E "FAILED" $out/tests_p1q2.txt | head
for r in 1 2; do
for cfg in "-:-" "1:-" "1:2" "-:2"; do
  p=${cfg%%:*}; q=${cfg##*:}
  envs=(env FAOPT_CACHE_DIR=/tmp/c$p$q)
  [ "$p" != "-" ] && envs+=(FAOPT_PERSISTENT=$p)
  [ "$q" != "-" ] && envs+=(FAOPT_Q_STAGES=$q)
  echo "== round $r persistent=$p qstages=$q"
  "${envs[@]}" timeout 120 /tmp/f/bin/faopt-bench --only variants 2>&1 | grep -E "^variant" 
done
done
