#!/usr/bin/env bash
# Writes the probe's inputs from the current compiler (git-ignored): the
# dense and sliding-window d128 kernels with and without
# attn-persistent-programs as CUDA (gen_*.cu, for nvcc) and as the NVRTC
# cubins the runtime would load (.device/proto/rt_*.cubin). Run from this
# directory after building (build/bin/faopt-compile).
set -euo pipefail
root=../../..
compile="$root/build/bin/faopt-compile"
out="$root/.device/proto"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"
window='"params": {"window": "int"}, "mask": ["causal", {"type": "sliding_window", "left": "window"}]'
for kind in dense window; do
  for m in p n; do
    fields='"dtype": "bf16", "head_dim": 128'
    [ "$kind" = window ] && fields="$fields, $window"
    echo "{\"name\": \"${kind}_$m\", $fields}" > "$tmp/${kind}_$m.spec.json"
    flag="--no-persistent"   # "n": one CTA per program (not the default since session 14)
    [ "$m" = p ] && flag="--persistent"
    "$compile" "$tmp/${kind}_$m.spec.json" --target sm90a $flag --emit cuda -o "$tmp/${kind}_$m.cu"
    grep -v '^#include' "$tmp/${kind}_$m.cu" > "gen_${kind}_$m.cu"
    "$compile" "$tmp/${kind}_$m.spec.json" --target sm90a $flag --emit cubin -o "$out/rt_${kind}_$m.cubin"
  done
done
cp "$out/rt_dense_p.cubin" "$out/rt_p.cubin"
cp "$out/rt_dense_n.cubin" "$out/rt_n.cubin"
