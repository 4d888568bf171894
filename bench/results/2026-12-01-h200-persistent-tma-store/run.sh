#!/usr/bin/env bash
# Session 13 device run 4: persistent kernels store O by TMA: GPU tests with FAOPT_PERSISTENT=1, default vs persistent benchmarks.
O="$1"
rm -rf /tmp/f; mkdir -p /tmp/f && tar xJf .device/faopt-device.tar.xz -C /tmp/f
export LD_LIBRARY_PATH=/tmp/f/lib
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $O/gpu.txt
for r in 1 2; do
  FAOPT_CACHE_DIR=/tmp/c4 timeout 100 /tmp/f/bin/faopt-bench --only variants > $O/var_default_$r.txt 2>&1
  FAOPT_PERSISTENT=1 FAOPT_CACHE_DIR=/tmp/c4p timeout 100 /tmp/f/bin/faopt-bench --only variants > $O/var_persistent_$r.txt 2>&1
  grep "^variant" $O/var_default_$r.txt | awk '{print "default   ", $2, $5, $7}'
  grep "^variant" $O/var_persistent_$r.txt | awk '{print "persistent", $2, $5, $7}'
done
FAOPT_CACHE_DIR=/tmp/c4 timeout 100 /tmp/f/bin/faopt-bench --only fwd --d 128 > $O/fwd_default.txt 2>&1
FAOPT_PERSISTENT=1 FAOPT_CACHE_DIR=/tmp/c4p timeout 100 /tmp/f/bin/faopt-bench --only fwd --d 128 > $O/fwd_persistent.txt 2>&1
paste <(grep "^fwd" $O/fwd_default.txt | cut -c1-60,61-) <(grep "^fwd" $O/fwd_persistent.txt | awk '{print $(NF-1)}')
FAOPT_PERSISTENT=1 FAOPT_CACHE_DIR=/tmp/c4p timeout 270 /tmp/f/bin/faopt-gpu-tests > $O/gpu_tests_persistent.txt 2>&1; tail -2 $O/gpu_tests_persistent.txt; grep FAILED $O/gpu_tests_persistent.txt | head
FAOPT_CACHE_DIR=/tmp/c4 timeout 60 /tmp/f/bin/faopt-gpu-tests --gtest_filter='*d128_dense_1000x4097*:*d128_causal_4097x257*:GpuVariants*' > $O/gpu_tests_default_some.txt 2>&1; tail -2 $O/gpu_tests_default_some.txt; grep FAILED $O/gpu_tests_default_some.txt | head
