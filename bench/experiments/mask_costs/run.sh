#!/usr/bin/env bash
# Session 16's open questions in one device call (~9 minutes on an H200;
# docs/status.md, Next, item 2), from the repository root with the bundle
# unpacked at /tmp/f (scripts/pack-device.sh):
#   bench/experiments/mask_costs/run.sh $OUT
# 1. What all mask work costs (~2 minutes, first: it survives a call that
#    runs out of time): FAOPT_DIAG_NO_MASKS (tile_maps return the scores
#    unchanged; timing only, the results are wrong, so no tests).
# 2. Where to wait for P V: row bounds on for every bounds-only mask, with
#    and without FAOPT_EARLY_PV_WAIT (GPU tests with both first, ~4.5
#    minutes of the ~7).
# Both time document_causal_8docs+row_starts beside the ids form.
set -euo pipefail
out="${1:?usage: run.sh OUTDIR}"
bench/ab-env.sh "$out/no-masks" FAOPT_NVRTC_OPTIONS - -DFAOPT_DIAG_NO_MASKS \
  --no-tests --no-fwd
FAOPT_ROW_BOUND_MASKS=1 bench/ab-env.sh "$out/early-pv-wait" \
  FAOPT_NVRTC_OPTIONS - -DFAOPT_EARLY_PV_WAIT
