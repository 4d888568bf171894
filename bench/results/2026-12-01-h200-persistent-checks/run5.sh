#!/usr/bin/env bash
# Session 14 run 5: racecheck on one persistent-by-default case with more programs than SMs.
O="$1"
rm -rf /tmp/f; mkdir -p /tmp/f && tar xJf .device/faopt-device.tar.xz -C /tmp/f
export LD_LIBRARY_PATH=/tmp/f/lib FAOPT_CACHE_DIR=/tmp/c5
S=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
timeout 170 $S --tool racecheck /tmp/f/bin/faopt-gpu-tests --gtest_filter='*many_programs_causal_777x1033*' --gtest_brief=1 > $O/san_racecheck_many_programs.txt 2>&1
echo "racecheck rc=$?"; tail -5 $O/san_racecheck_many_programs.txt
