#!/usr/bin/env bash
# The next document-builder question in one short device call (~2 minutes
# on an H200; docs/performance.md item 44, docs/status.md Next item 5),
# from the repository root with the bundle unpacked at /tmp/f
# (scripts/pack-device.sh):
#   bench/experiments/builder/run.sh $OUT
# Does fold_contiguous32's fence (MEMBAR.SC.CTA after each round of 16-byte
# loads) cost more than the load batching it buys? Each setting: the ncu
# kernel times (list-builder-cost.sh) and the per-block phase stamps
# (builder-times.sh). Prediction: without the fence ptxas keeps ~5 loads
# in flight (session 13's reason for it), so the kv-block read phase grows
# and the builder gets slower (> 8.2 us); if it gets faster, the fence's
# own cost dominates and a cheaper way to pin the loads is the next step.
# The stamps (builder-times.sh) now also mark thread 0's contiguous run
# after its loads have landed, so the kv-block read splits into loads
# and fold: which of the two is the ~2,800 cycles (item 44, call 8)?
# Timing only; the lists are the same either way (the fence orders nothing
# the fold needs).
set -euo pipefail
out="${1:?usage: run.sh OUTDIR}"
for opt in "" "-DFAOPT_FOLD_NO_FENCE"; do
  tag="${opt:-default}"; tag="${tag#-D}"
  echo "== $tag"
  FAOPT_NVRTC_OPTIONS="$opt" FAOPT_CACHE_DIR="/tmp/faopt-builder-exp-$tag" \
    bench/list-builder-cost.sh "$out/$tag" | grep "list builder" || true
  FAOPT_NVRTC_OPTIONS="$opt" bench/builder-times.sh "$out/$tag-times" | sed -n 1,5p || true
done
