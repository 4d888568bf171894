#!/usr/bin/env bash
# Static facts of the sm90a kernels the samples compile to, one line per
# sample: 64-bit adds and 64-bit moves in the PTX (NVRTC keeps generic
# shared pointers in 64 bits; see docs/performance.md item 34), registers
# and spill bytes from ptxas (the manifest), and whether ptxas serialised
# the wgmmas (C7513, the manifest's wgmma_serialized: "SERIAL"). Compare
# two checkouts' builds:
#   scripts/ptx-stats.sh build [--no-persistent | --persistent | --q-stages 2] > a.txt
set -euo pipefail
build="${1:-build}"; shift || true
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
printf '%-36s %8s %8s %5s %7s %s\n' sample add.s64 mov.u64 regs spill_B wgmma
for s in samples/*.json; do
  n=$(basename "$s" .json)
  if ! "$build/bin/faopt-compile" "$s" --target sm90a --emit ptx "$@" \
       -o "$out/$n.ptx" > /dev/null 2>&1; then
    printf '%-36s (does not compile with %s)\n' "$n" "$*"; continue
  fi
  adds=$(grep -c 'add\.s64' "$out/$n.ptx" || true)
  movs=$(grep -c 'mov\.u64' "$out/$n.ptx" || true)
  regs=$(grep -o '"registers": *[0-9]*' "$out/$n.json" | grep -o '[0-9]*$' | head -1)
  spill=$(grep -o '"spill_stores_bytes": *[0-9]*' "$out/$n.json" | grep -o '[0-9]*$' | head -1)
  serial=ok
  if grep -q '"wgmma_serialized": *true' "$out/$n.json"; then serial=SERIAL; fi
  printf '%-36s %8s %8s %5s %7s %s\n' "$n" "$adds" "$movs" "$regs" "$spill" "$serial"
done
