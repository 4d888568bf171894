#!/usr/bin/env bash
# Where ptxas puts the wgmma waits in the sm90a kernels the samples compile
# to (NVRTC's cubin, as the runtime builds it), one line per sample; see
# scripts/sass_waits.py. Needs nvdisasm, which CUDA 13's image here lacks:
#   python3 -m venv /tmp/nvd && /tmp/nvd/bin/pip install nvidia-cuda-nvdisasm
#   NVDISASM=$(find /tmp/nvd -name nvdisasm -type f) scripts/sass-waits.sh build [faopt-compile flags]
# FAOPT_NVRTC_OPTIONS reaches NVRTC here too (e.g. -DFAOPT_EARLY_PV_WAIT).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$repo/build}" && pwd); shift || true
nvdisasm="${NVDISASM:-$(command -v nvdisasm || true)}"
if [ -z "$nvdisasm" ] || [ ! -x "$nvdisasm" ]; then
  sed -n '2,7p' "$0" >&2
  exit 2
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
shopt -s nullglob
for s in "$repo"/samples/*.json; do
  n=$(basename "$s" .json)
  if ! "$build/bin/faopt-compile" "$s" --target sm90a --emit cubin "$@" \
       -o "$out/$n.cubin" > /dev/null 2>&1; then
    echo "$n: does not compile with $*"; continue
  fi
  "$nvdisasm" -c "$out/$n.cubin" > "$out/$n.sass"
  (cd "$out" && python3 "$repo/scripts/sass_waits.py" "$n.sass")
done
