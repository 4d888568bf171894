#!/usr/bin/env bash
# Session 14 run 4: sanitizers on the persistent-by-default kernels; the timeline probe (plain vs persistent, per phase).
O="$1"
rm -rf /tmp/f; mkdir -p /tmp/f && tar xJf .device/faopt-device.tar.xz -C /tmp/f
export LD_LIBRARY_PATH=/tmp/f/lib FAOPT_CACHE_DIR=/tmp/c4
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $O/gpu.txt
S=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
F='*many_programs_causal*:*window_many_programs*:*padded_rows_bf16_d128_causal*:*bf16_d128_causal_1000x4097*'
timeout 60 /tmp/f/bin/faopt-gpu-tests --gtest_filter="$F" --gtest_brief=1 > /dev/null 2>&1  # fill the kernel cache
for tool in racecheck synccheck memcheck; do
  timeout 120 $S --tool $tool /tmp/f/bin/faopt-gpu-tests --gtest_filter="$F" --gtest_brief=1 > $O/san_$tool.txt 2>&1
  echo "$tool rc=$?"; grep -E "ERROR SUMMARY|RACECHECK SUMMARY|hazard|PASSED|FAILED" $O/san_$tool.txt | tail -4
done
(cd .device/x && timeout 150 ./timeline base) > $O/timeline.txt 2>&1; cat $O/timeline.txt | tail -60
