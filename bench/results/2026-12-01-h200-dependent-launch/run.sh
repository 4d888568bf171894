#!/usr/bin/env bash
# Session 12 device run: GPU tests, variants with/without programmatic
# dependent launch, list builder cost.
set -x
O="$1"
rm -rf /tmp/f; mkdir -p /tmp/f && tar xJf .device/faopt-device.tar.xz -C /tmp/f
export LD_LIBRARY_PATH=/tmp/f/lib FAOPT_CACHE_DIR=/tmp/c1
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv | tee $O/gpu.txt
timeout 300 /tmp/f/bin/faopt-gpu-tests > $O/gpu_tests.txt 2>&1; tail -3 $O/gpu_tests.txt
timeout 120 /tmp/f/bin/faopt-gpu-tests --gtest_filter='*document*:*block_sparse*:*BlockLists*:*doc*' --gtest_repeat=5 > $O/gpu_tests_lists_repeat.txt 2>&1; grep -cE "^\[  PASSED" $O/gpu_tests_lists_repeat.txt; grep -E "FAILED" $O/gpu_tests_lists_repeat.txt | head
FAOPT_DEPENDENT_LAUNCH=0 timeout 120 /tmp/f/bin/faopt-gpu-tests --gtest_filter='*document*:*block_sparse*:*BlockLists*:*doc*' 2>&1 | tail -2
timeout 60 /tmp/f/bin/faopt-runtime-tests 2>&1 | tail -2
for i in 1 2; do
  timeout 90 /tmp/f/bin/faopt-bench --only variants --csv $O/v_pdl_$i.csv > $O/v_pdl_$i.txt 2>&1
  FAOPT_DEPENDENT_LAUNCH=0 timeout 90 /tmp/f/bin/faopt-bench --only variants --csv $O/v_nopdl_$i.csv > $O/v_nopdl_$i.txt 2>&1
done
grep -h "document\|block_sparse" $O/v_*.csv
FAOPT_ROOT=/tmp/f PATH=$PATH:/usr/local/cuda/bin timeout 150 bench/list-builder-cost.sh $O/lb | tail -8
