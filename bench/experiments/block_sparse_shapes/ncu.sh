#!/usr/bin/env bash
# On the GPU machine: Nsight Compute counters of the block-sparse attention
# kernel in `faopt-bench --only block-sparse-shapes --reps 3` (every launch of
# it: warm-up, timed, lists per launch and built once), one CTA per program
# (FAOPT_PERSISTENT=0) and with programs handed out (1, the default since
# session 23): duration, per-SM active cycles (mean and max: the balance),
# L2 hit rate, DRAM reads and local (spill) loads. Clocks are left alone.
# Writes OUTDIR/ncu_persistent{0,1}.csv. (Session 22 ran it with `-` for
# one CTA per program, then the default.)
#   bench/experiments/block_sparse_shapes/ncu.sh OUTDIR
set -euo pipefail
out="${1:?usage: ncu.sh OUTDIR}"
root="${FAOPT_ROOT:-/tmp/f}"
export LD_LIBRARY_PATH="$root/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
mkdir -p "$out"
metrics=gpu__time_duration.sum,sm__cycles_active.avg,sm__cycles_active.max,lts__t_sector_hit_rate.pct,dram__bytes_read.sum,l1tex__t_bytes_pipe_lsu_mem_local_op_ld.sum,smsp__inst_executed.sum
for p in 0 1; do
  export FAOPT_PERSISTENT=$p
  FAOPT_CACHE_DIR=/tmp/bss_ncu_cache_$p ncu --clock-control none \
    -k 'regex:^var_block_sparse$' --metrics "$metrics" --csv --page raw \
    "$root/bin/faopt-bench" --only block-sparse-shapes --reps 3 \
    > "$out/ncu_persistent$p.csv" 2> "$out/ncu_persistent$p.log" || true
  # ncu's exit status is not the profile's: say when nothing was measured.
  grep -q '"gpu__time_duration.sum"' "$out/ncu_persistent$p.csv" ||
    echo "ncu.sh: no counters for FAOPT_PERSISTENT=$p (see ncu_persistent$p.log)" >&2
done
unset FAOPT_PERSISTENT
