#!/usr/bin/env bash
# Session 13 device run 5: default GPU tests and runtime tests at the final commit; timeline of the compiler's persistent kernel (O by TMA store).
O="$1"
rm -rf /tmp/f; mkdir -p /tmp/f && tar xJf .device/faopt-device.tar.xz -C /tmp/f
export LD_LIBRARY_PATH=/tmp/f/lib FAOPT_CACHE_DIR=/tmp/c5
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $O/gpu.txt
(cd .device/x && timeout 100 ./timeline e7) > $O/timeline_e7.txt 2>&1; grep -E "MISMATCH|persistent|copy thread|e7|^  program" $O/timeline_e7.txt | grep -v "^dense 1k" | tail -24
timeout 60 /tmp/f/bin/faopt-runtime-tests 2>&1 | tail -1
timeout 260 /tmp/f/bin/faopt-gpu-tests > $O/gpu_tests.txt 2>&1; tail -2 $O/gpu_tests.txt; grep FAILED $O/gpu_tests.txt | head
