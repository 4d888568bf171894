#!/usr/bin/env bash
# Session 14 run 3: persistent by default where no run-time lists drive the kernel: GPU tests, forward and variants with peers, FAOPT_PERSISTENT=0 for comparison.
O="$1"
rm -rf /tmp/f; mkdir -p /tmp/f && tar xJf .device/faopt-device.tar.xz -C /tmp/f
export LD_LIBRARY_PATH=/tmp/f/lib FAOPT_CACHE_DIR=/tmp/c3
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $O/gpu.txt
timeout 250 /tmp/f/bin/faopt-gpu-tests > $O/gpu_tests.txt 2>&1; tail -2 $O/gpu_tests.txt; grep FAILED $O/gpu_tests.txt | head
timeout 60 /tmp/f/bin/faopt-runtime-tests > $O/runtime_tests.txt 2>&1; tail -2 $O/runtime_tests.txt; grep FAILED $O/runtime_tests.txt | head
mkdir -p $O/fwd $O/var
timeout 150 bench/run-gpu.sh $O/fwd > $O/fwd.log 2>&1; grep -E "^\| 128" $O/fwd/compare.txt; grep "host time" $O/fwd.log
PEERS_TIMEOUT=150 timeout 260 bench/run-gpu.sh $O/var --variants > $O/var.log 2>&1; tail -14 $O/var/compare_variants.txt
FAOPT_PERSISTENT=0 FAOPT_CACHE_DIR=/tmp/c3off timeout 60 /tmp/f/bin/faopt-bench --only variants > $O/var_off.txt 2>&1; grep "^variant" $O/var_off.txt | awk '{print "off", $2, $7}'
