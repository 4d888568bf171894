#!/usr/bin/env bash
# Writes the timeline probe's kernels from the current compiler (git-ignored
# gen_*.cu): the d128 sm90a dense and sliding-window kernels, plain (_u) and
# with timeline probes (_t, instrument.py), and the same with
# attn-persistent-programs (_pu, _pt), and persistent with two Q tiles
# (--q-stages 2: _pqu, _pqt). Run from this directory after
# building (build/bin/faopt-compile).
set -euo pipefail
root=../../..
compile="$root/build/bin/faopt-compile"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
window='"params": {"window": "int"}, "mask": ["causal", {"type": "sliding_window", "left": "window"}]'
for kind in dense window; do
  for m in u t pu pt pqu pqt; do
    fields='"dtype": "bf16", "head_dim": 128'
    [ "$kind" = window ] && fields="$fields, $window"
    echo "{\"name\": \"${kind}_$m\", $fields}" > "$tmp/${kind}_$m.spec.json"
    flag="--no-persistent"   # plain: one CTA per program (not the default since session 14)
    case "$m" in pq*) flag="--persistent --q-stages 2" ;; p*) flag="--persistent" ;; esac
    "$compile" "$tmp/${kind}_$m.spec.json" --target sm90a $flag --emit cuda -o "$tmp/${kind}_$m.cu"
    grep -v '^#include' "$tmp/${kind}_$m.cu" > "$tmp/${kind}_$m.plain.cu"
    if [ "$m" = t ]; then
      ./instrument.py "$tmp/${kind}_$m.plain.cu" "gen_${kind}_$m.cu"
    elif [ "$m" = pt ] || [ "$m" = pqt ]; then
      ./instrument.py --persistent "$tmp/${kind}_$m.plain.cu" "gen_${kind}_$m.cu"
    else
      cp "$tmp/${kind}_$m.plain.cu" "gen_${kind}_$m.cu"
    fi
  done
done
# Hand-made prologue variants of the plain kernels (variants.py).
for kind in dense window; do
  ./variants.py "gen_${kind}_u.cu" "${kind}_u" "gen_${kind}"
done
# O by TMA store (tma_store.py) in the plain kernels (the compiler's
# persistent kernels store O by TMA themselves since session 13).
for kind in dense window; do
  ./tma_store.py "gen_${kind}_u.cu" "${kind}_u" "gen_${kind}_u_e7.cu"
done
# Session 15's mask-cost variants of the persistent window kernel
# (mask_variants.py: m1-m6), and the compiler's own version of m6
# (--row-bound-masks: gen_window_pr.cu).
./mask_variants.py gen_window_pu.cu
echo "{\"name\": \"window_pr\", \"dtype\": \"bf16\", \"head_dim\": 128, $window}" > "$tmp/window_pr.spec.json"
"$compile" "$tmp/window_pr.spec.json" --target sm90a --persistent --row-bound-masks --emit cuda -o "$tmp/window_pr.cu"
grep -v '^#include' "$tmp/window_pr.cu" > gen_window_pr.cu
