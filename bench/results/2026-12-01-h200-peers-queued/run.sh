#!/usr/bin/env bash
# Session 13 device run 3: two CTAs per SM with the compiler's hand-off; forward and variants with peers (queued timing); persistent GPU tests.
O="$1"
rm -rf /tmp/f; mkdir -p /tmp/f && tar xJf .device/faopt-device.tar.xz -C /tmp/f
export LD_LIBRARY_PATH=/tmp/f/lib FAOPT_CACHE_DIR=/tmp/c3
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $O/gpu.txt
(cd .device/x && timeout 200 ./two_ctas) > $O/two_ctas.txt 2>&1; cat $O/two_ctas.txt
mkdir -p $O/fwd $O/var
timeout 150 bench/run-gpu.sh $O/fwd > $O/fwd.log 2>&1; grep -E "^\| 128" $O/fwd/compare.txt; grep "host time" $O/fwd.log
PEERS_TIMEOUT=150 timeout 260 bench/run-gpu.sh $O/var --variants > $O/var.log 2>&1; tail -14 $O/var/compare_variants.txt; grep "host time" $O/var.log
FAOPT_PERSISTENT=1 FAOPT_CACHE_DIR=/tmp/c3p timeout 280 /tmp/f/bin/faopt-gpu-tests > $O/gpu_tests_persistent.txt 2>&1; tail -2 $O/gpu_tests_persistent.txt; grep FAILED $O/gpu_tests_persistent.txt | head
