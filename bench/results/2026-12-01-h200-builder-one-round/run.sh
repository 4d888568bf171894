#!/usr/bin/env bash
# Session 13 device run 1: timeline e6/e36, list builder with one round of loads, GPU tests.
O="$1"
rm -rf /tmp/f; mkdir -p /tmp/f && tar xJf .device/faopt-device.tar.xz -C /tmp/f
export LD_LIBRARY_PATH=/tmp/f/lib FAOPT_CACHE_DIR=/tmp/c1 PATH=/usr/local/cuda/bin:$PATH FAOPT_ROOT=/tmp/f
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv | tee $O/gpu.txt
(cd .device/x && timeout 120 ./timeline) > $O/timeline.txt 2>&1; cat $O/timeline.txt | tail -60
timeout 120 bench/list-builder-cost.sh $O/lb > $O/lb.log 2>&1; cat $O/lb/list_builder_cost.txt
timeout 90 /tmp/f/bin/faopt-bench --only variants > $O/var_own.txt 2>&1; cat $O/var_own.txt | tail -20
timeout 280 /tmp/f/bin/faopt-gpu-tests > $O/gpu_tests.txt 2>&1; tail -2 $O/gpu_tests.txt; grep FAILED $O/gpu_tests.txt | head
