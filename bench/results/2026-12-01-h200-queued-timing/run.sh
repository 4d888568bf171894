#!/usr/bin/env bash
# Session 13 device run 2: two CTAs per SM (64-row tiles) probe; faopt-bench queued vs synchronised launches.
O="$1"
rm -rf /tmp/f; mkdir -p /tmp/f && tar xJf .device/faopt-device.tar.xz -C /tmp/f
export LD_LIBRARY_PATH=/tmp/f/lib FAOPT_CACHE_DIR=/tmp/c2
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $O/gpu.txt
(cd .device/x && timeout 200 ./two_ctas) > $O/two_ctas.txt 2>&1; cat $O/two_ctas.txt
timeout 150 /tmp/f/bin/faopt-bench --only variants > $O/var_queued.txt 2>&1; tail -10 $O/var_queued.txt
timeout 150 /tmp/f/bin/faopt-bench --only variants --sync-each > $O/var_sync.txt 2>&1; tail -10 $O/var_sync.txt
timeout 100 /tmp/f/bin/faopt-bench --only fwd --d 128 > $O/fwd_queued.txt 2>&1; grep -E "fwd|host" $O/fwd_queued.txt
timeout 100 /tmp/f/bin/faopt-bench --only fwd --d 128 --sync-each > $O/fwd_sync.txt 2>&1; grep -E "fwd|host" $O/fwd_sync.txt
