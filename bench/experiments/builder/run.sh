#!/usr/bin/env bash
# The document-builder experiments of sessions 18-19 in one short device
# call (~1 minute on an H200; docs/performance.md items 44-45), from the
# repository root with the bundle unpacked at /tmp/f (scripts/pack-device.sh):
#   bench/experiments/builder/run.sh $OUT [NVRTC_OPTION ...]
# Times the builder (ncu, list-builder-cost.sh) and its per-block phase
# stamps (builder-times.sh) with the default device code and then with each
# NVRTC_OPTION (a -D switch a temporary change reads), each in its own
# kernel cache. Timing only; the lists must come out the same (run the
# list-driven GPU tests with the option first).
# Asked and answered so far (item 44 and 45 have the numbers):
# - session 18 (-DFAOPT_FOLD_NO_FENCE, removed since): without
#   fold_contiguous32's fence the builder took 9.6 us against 8.3, as
#   predicted; the fence stays;
# - session 19 (-DFAOPT_FOLD_CHAIN against a tree-shaped fold, reverted):
#   the tree took 8.6 us against the chain's 8.2, so the chain of
#   dependent min / max steps is not what a call's ~1,000 cycles after
#   its loads are.
# - session 20 (item 46; removed since, the code is in 46dd9a9): the key
#   ranges' two searches in lockstep (-DFAOPT_BUILDER_PAIRED_SEARCH, 8.1
#   us), searched by the whole warp per distinct key
#   (-DFAOPT_BUILDER_WARP_SEARCH, 8.1 us) and a one-round order check
#   (-DFAOPT_BUILDER_ORDER_READS=24, 8.2 us), against the default's 7.9.
set -euo pipefail
out="${1:?usage: run.sh OUTDIR [NVRTC_OPTION ...]}"; shift
for opt in "" "$@"; do
  tag="${opt:-default}"; tag="${tag#-D}"
  echo "== $tag"
  FAOPT_NVRTC_OPTIONS="$opt" FAOPT_CACHE_DIR="/tmp/faopt-builder-exp-$tag" \
    bench/list-builder-cost.sh "$out/$tag" | grep "list builder" || true
  FAOPT_NVRTC_OPTIONS="$opt" bench/builder-times.sh "$out/$tag-times" | sed -n 1,5p || true
done
