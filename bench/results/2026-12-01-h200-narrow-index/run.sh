#!/usr/bin/env bash
# Session 12 device run 2: GPU tests and benchmarks with 32-bit kernel index math.
O="$1"
rm -rf /tmp/f; mkdir -p /tmp/f && tar xJf .device/faopt-device.tar.xz -C /tmp/f
export LD_LIBRARY_PATH=/tmp/f/lib FAOPT_CACHE_DIR=/tmp/c3
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv > $O/gpu.txt
timeout 280 /tmp/f/bin/faopt-gpu-tests > $O/gpu_tests.txt 2>&1; tail -2 $O/gpu_tests.txt; grep FAILED $O/gpu_tests.txt | head
timeout 60 /tmp/f/bin/faopt-runtime-tests 2>&1 | tail -1
mkdir -p $O/fwd $O/var
timeout 150 bench/run-gpu.sh $O/fwd > $O/fwd.log 2>&1; grep -E "^\| 128" $O/fwd/compare.txt
PEERS_TIMEOUT=150 timeout 260 bench/run-gpu.sh $O/var --variants > $O/var.log 2>&1; cat $O/var/compare_variants.txt | tail -12
