#!/usr/bin/env bash
# On the GPU machine: where the sm90a TMA kernels' consumers and copy
# thread wait, per program. Runs `faopt-bench --only variants --diag-waits`
# (kernels compiled with -DFAOPT_DIAG_WAITS, faopt_sm90_tma.cuh: consumer
# thread 0's cycles in its Q, K and V full waits and the O store, the copy
# thread's in its Q, K and V empty waits, and each one's time from the CTA's
# start to its end, per CTA into a device buffer) and prints, per variant,
# those cycles per program. The counters cost registers and spills, so the
# rates this run prints are not the benchmark's; the waits are what it is for.
# A kernel that hangs (a barrier protocol bug) is cut off after
# $KERNEL_WAITS_TIMEOUT seconds (default 300).
#   bench/kernel-waits.sh OUTDIR [faopt-bench options, e.g. --variant NAME]
#   FAOPT_RELEASE_Q_EARLY=1 bench/kernel-waits.sh OUTDIR   # a compile switch
set -uo pipefail
out="${1:?usage: kernel-waits.sh OUTDIR [faopt-bench options]}"; shift
root="${FAOPT_ROOT:-/tmp/f}"
export LD_LIBRARY_PATH="$root/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
mkdir -p "$out"
FAOPT_CACHE_DIR=/tmp/faopt-kernel-waits-cache \
  timeout "${KERNEL_WAITS_TIMEOUT:-300}" \
  "$root/bin/faopt-bench" --only variants --diag-waits --reps 10 "$@" \
  > "$out/kernel_waits_raw.txt" 2>&1
rc=$?
grep -E "^(diag-waits|variant)" "$out/kernel_waits_raw.txt" | tee "$out/kernel_waits.txt"
if [ "$rc" -ne 0 ]; then
  echo "kernel-waits.sh: faopt-bench exited with $rc$([ "$rc" -eq 124 ] && echo ' (timed out: a hang?)'); its last lines:" >&2
  tail -5 "$out/kernel_waits_raw.txt" >&2
fi
exit "$rc"
