#!/usr/bin/env bash
# Writes the two-CTA probe's kernels from the current compiler (git-ignored
# gen_*.cu): d128 sm90a dense and sliding-window kernels with the default
# tiles (128 x 128, two consumer warpgroups, one CTA per SM) and with
# --block-q 64 --block-kv 64 (one consumer warpgroup, 80 KiB of shared
# memory, __launch_bounds__(256, 2): two CTAs per SM; setmaxnreg 24 / 232).
# Run from this directory after building (build/bin/faopt-compile).
set -euo pipefail
compile=../../../build/bin/faopt-compile
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
window='"params": {"window": "int"}, "mask": ["causal", {"type": "sliding_window", "left": "window"}]'
for kind in dense window; do
  for t in 128 64; do
    fields='"dtype": "bf16", "head_dim": 128'
    [ "$kind" = window ] && fields="$fields, $window"
    echo "{\"name\": \"${kind}_$t\", $fields}" > "$tmp/s.json"
    flags="--no-persistent"   # one CTA per program (not the default since session 14)
    [ "$t" = 64 ] && flags="$flags --block-q 64 --block-kv 64"
    "$compile" "$tmp/s.json" --target sm90a $flags --emit cuda -o "$tmp/k.cu"
    grep -v '^#include' "$tmp/k.cu" > "gen_${kind}_$t.cu"
  done
done
# "64n": the 64-row kernels without the register hand-off, as the compiler
# emitted them before session 13 (every thread capped at 128 registers).
for kind in dense window; do
  sed -E -e "s/producer_begin<4, [0-9]+>/producer_begin<4, 0>/" \
      -e "s/consumer_begin<4, false, [0-9]+>/consumer_begin<4, false, 0>/" \
      -e "s/\b${kind}_64_/${kind}_64n_/g; s/\b${kind}_64\(/${kind}_64n(/" \
      "gen_${kind}_64.cu" > "gen_${kind}_64n.cu"
  grep -q "consumer_begin<4, false, 0>" "gen_${kind}_64n.cu"
done
