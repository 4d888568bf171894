#!/usr/bin/env bash
# The main job: compile the sample spec to PTX (with its manifest) and run it,
# checked against a double-precision reference: on the GPU when there is one,
# and on the CPU target always. Called by `make run` after the build.
set -euo pipefail
build="${1:-build}"
spec="samples/causal_bf16_d128.json"
out="$build/out"
mkdir -p "$out"

echo "== faopt-compile $spec --explain"
"$build/bin/faopt-compile" "$spec" --explain --shape b=1,h=16,s=4096

echo
echo "== faopt-compile $spec --target sm90a --emit ptx -o $out/causal_bf16_d128.ptx"
"$build/bin/faopt-compile" "$spec" --target sm90a --emit ptx -o "$out/causal_bf16_d128.ptx"
echo "   wrote $(wc -l < "$out/causal_bf16_d128.ptx") lines of PTX and $out/causal_bf16_d128.json:"
grep -E '"(kernel|registers|spill_stores_bytes|dynamic_shared_memory_bytes)"' "$out/causal_bf16_d128.json" | sed 's/^/   /'

echo
if [ -x "$build/bin/faopt-run-gpu" ]; then
  echo "== faopt-run-gpu $spec (JIT through libfaopt.so, random inputs, checked)"
  "$build/bin/faopt-run-gpu" "$spec" --shape b=1,h=8,s=2048
  echo
fi
echo "== faopt-run $spec --target cpu (MLIR ExecutionEngine, random inputs, checked)"
"$build/bin/faopt-run" "$spec" --target cpu --shape b=1,h=2,s=300
