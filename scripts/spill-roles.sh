#!/usr/bin/env bash
# Which warp role spills in a TMA kernel: the local-memory instructions
# (LDL/STL) of an attention kernel's SASS, counted per role (the copy
# producer after its `setmaxnreg` down to 24 registers, the consumers after
# theirs up to 240), with ptxas's totals. ptxas's one spill figure (the
# manifest's spill_stores_bytes) mixes both, and they cost differently: the
# producer's sit beside its TMA issues, the consumers' can sit in the kv
# loop (session 22: the handed-out block-sparse kernel spills in both, its
# consumers not at all without the layout term in the masked map;
# docs/performance.md item 52). Takes a cubin (faopt-compile --emit cubin)
# or a generated source (--emit cuda, compiled with NVRTC against
# HEADER_DIR, default the repository's device headers, via
# scripts/nvrtc-report.py). Needs nvdisasm:
#   python3 -m venv /tmp/nvd && /tmp/nvd/bin/pip install nvidia-cuda-nvdisasm
#   NVDISASM=$(find /tmp/nvd -name nvdisasm -type f) scripts/spill-roles.sh KERNEL.cu|KERNEL.cubin [HEADER_DIR]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
nvdisasm="${NVDISASM:-$(command -v nvdisasm || true)}"
if [ $# -lt 1 ] || [ -z "$nvdisasm" ] || [ ! -x "$nvdisasm" ]; then
  sed -n '2,15p' "$0" >&2
  exit 2
fi
input="$1"; headers="${2:-$repo/compiler/targets/gpu/device}"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cubin="$input"
if [[ "$input" == *.cu ]]; then
  cubin="$out/kernel.cubin"
  python3 "$repo/scripts/nvrtc-report.py" "$input" "$headers" --cubin="$cubin" |
    grep 'spill' || true
fi
# nvdisasm prints each kernel as a .text.<name> section; list builders
# (*_block_lists) have no roles and are left out.
"$nvdisasm" -c "$cubin" | awk '
  /^[[:space:]]*\.text\./ { skip = ($0 ~ /_block_lists/); role = "before setmaxnreg" }
  skip { next }
  /USETMAXREG\.DEALLOC/ { role = "producer" }
  /USETMAXREG\.(TRY_ALLOC|ALLOC)/ { role = "consumers" }
  /[[:space:]](STL|LDL)(\.|[[:space:]])/ { n[role]++ }
  END { for (r in n) printf "%s: %d local-memory instructions\n", r, n[r]
        if (length(n) == 0) print "no local-memory instructions" }'
