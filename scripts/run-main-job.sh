#!/usr/bin/env bash
# The main job: compile the sample spec and run it, checked against a
# reference. Called by `make run` after the build.
set -euo pipefail
build="${1:-build}"
spec="samples/causal_bf16_d128.json"
out="$build/out"
mkdir -p "$out"

echo "== faopt-compile $spec --explain"
"$build/bin/faopt-compile" "$spec" --explain --shape b=1,h=16,s=4096

echo
echo "== faopt-compile $spec --emit mlir-decomposed -o $out/causal_bf16_d128.mlir"
"$build/bin/faopt-compile" "$spec" --emit mlir-decomposed -o "$out/causal_bf16_d128.mlir"
echo "   wrote $(wc -l < "$out/causal_bf16_d128.mlir") lines of tile-level IR"

echo
echo "== faopt-run $spec --target cpu (JIT, random inputs, checked)"
"$build/bin/faopt-run" "$spec" --target cpu --shape b=1,h=2,s=300
