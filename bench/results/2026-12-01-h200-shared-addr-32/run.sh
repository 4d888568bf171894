#!/usr/bin/env bash
# Session 14 run 2 (run 1 packed the wrong build): 32-bit shared addresses vs main's device headers.
# /tmp/f/lib: this checkout's libfaopt.so; /tmp/f/main-lib: main's.
O="$1"
rm -rf /tmp/f; mkdir -p /tmp/f && tar xJf .device/faopt-device.tar.xz -C /tmp/f
mkdir -p /tmp/f/main-lib && tar xJf .device/main-lib.tar.xz -C /tmp/f/main-lib
NEW=/tmp/f/lib; MAIN=/tmp/f/main-lib:/tmp/f/lib
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $O/gpu.txt
LD_LIBRARY_PATH=$NEW FAOPT_CACHE_DIR=/tmp/cn timeout 250 /tmp/f/bin/faopt-gpu-tests > $O/gpu_tests_new.txt 2>&1; tail -2 $O/gpu_tests_new.txt; grep FAILED $O/gpu_tests_new.txt | head
LD_LIBRARY_PATH=$NEW FAOPT_PERSISTENT=1 FAOPT_CACHE_DIR=/tmp/cnp timeout 90 /tmp/f/bin/faopt-gpu-tests --gtest_filter='*d128*:GpuVariants*' > $O/gpu_tests_new_persistent.txt 2>&1; tail -2 $O/gpu_tests_new_persistent.txt; grep FAILED $O/gpu_tests_new_persistent.txt | head
for r in 1 2; do
  for cfg in main new mainP newP; do
    case $cfg in main) L=$MAIN; P=0;; new) L=$NEW; P=0;; mainP) L=$MAIN; P=1;; newP) L=$NEW; P=1;; esac
    LD_LIBRARY_PATH=$L FAOPT_PERSISTENT=$P FAOPT_CACHE_DIR=/tmp/c_$cfg timeout 60 /tmp/f/bin/faopt-bench --only variants > $O/var_${cfg}_$r.txt 2>&1
    grep "^variant" $O/var_${cfg}_$r.txt | awk -v c=$cfg '{printf "%-6s %s %s %s\n", c, $2, $5, $7}'
  done
done
for cfg in main new mainP newP; do
  case $cfg in main) L=$MAIN; P=0;; new) L=$NEW; P=0;; mainP) L=$MAIN; P=1;; newP) L=$NEW; P=1;; esac
  LD_LIBRARY_PATH=$L FAOPT_PERSISTENT=$P FAOPT_CACHE_DIR=/tmp/c_$cfg timeout 60 /tmp/f/bin/faopt-bench --only fwd --d 128 > $O/fwd_${cfg}.txt 2>&1
done
paste <(grep "^fwd" $O/fwd_main.txt | awk '{print $3,$5,$(NF-1)}') <(grep "^fwd" $O/fwd_new.txt | awk '{print $(NF-1)}') <(grep "^fwd" $O/fwd_mainP.txt | awk '{print $(NF-1)}') <(grep "^fwd" $O/fwd_newP.txt | awk '{print $(NF-1)}')
