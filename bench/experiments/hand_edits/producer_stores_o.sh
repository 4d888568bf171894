#!/usr/bin/env bash
# The copy thread storing O (producer_stores_o.py) in one device call.
#   Here:       bench/experiments/hand_edits/producer_stores_o.sh prepare DIR
#     generates the benchmark's fixed-schedule kernels (specs/ beside this
#     script: the variants' names and faopt-bench's forward ones) and writes
#     the edited CUDA to DIR/<spec name>.cu (DIR: a git-ignored folder that
#     travels, e.g. .device/po).
#   On the GPU: bench/experiments/hand_edits/producer_stores_o.sh run DIR
#     checks each edited kernel with faopt-run-gpu (FAOPT_CUDA_OVERRIDE_DIR)
#     on shapes whose programs have 1, 2, 3 and more kv-blocks (none with 0:
#     faopt-run-gpu takes no sk=0; the GPU test OutputByCopyThreadMatchesTheReference
#     covers empty programs), with 1, 2,
#     3 and 5 persistent CTAs (every way a program can leave its O pending),
#     then times it against the generated kernels (bench/ab-env.sh, 2
#     rounds). Needs the unpacked bundle at $FAOPT_ROOT (default /tmp/f).
#     DIR "-": the same checks and timing for the compiler's form
#     (FAOPT_OUTPUT_BY_COPY_THREAD=1, docs/performance.md item 92).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
mode="${1:?usage: producer_stores_o.sh prepare DIR | run DIR|-}"
dir="${2:?usage: producer_stores_o.sh prepare DIR | run DIR|-}"
case "$mode" in
prepare)
  mkdir -p "$dir"
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  for spec in "$here"/specs/*.json; do
    name=$(basename "$spec" .json)
    "$repo/build/bin/faopt-compile" "$spec" --target sm90a --emit cuda -o "$tmp/$name.cu"
    python3 "$here/producer_stores_o.py" "$tmp/$name.cu" "$dir/$name.cu"
  done
  ;;
run)
  root="${FAOPT_ROOT:-/tmp/f}"
  export LD_LIBRARY_PATH="$root/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  if [ "$dir" = - ]; then
    switch=(FAOPT_OUTPUT_BY_COPY_THREAD=1); ab=(FAOPT_OUTPUT_BY_COPY_THREAD - 1)
  else
    dir=$(cd "$dir" && pwd)
    switch=(FAOPT_CUDA_OVERRIDE_DIR="$dir"); ab=(FAOPT_CUDA_OVERRIDE_DIR - "$dir")
  fi
  fails=0
  check() { # spec, then faopt-run-gpu options
    local spec="$1"; shift
    for ctas in 1 2 3 5; do
      line=$(env FAOPT_QUIET=1 FAOPT_PERSISTENT_CTAS=$ctas "${switch[@]}" \
             FAOPT_CACHE_DIR=/tmp/po-check "$root/bin/faopt-run-gpu" "$here/specs/$spec.json" \
             "$@" --iters 2 2>&1 | grep -E "relative L2|rror|no GPU" | tail -1 || true)
      case "$line" in *PASS*) ;; *) fails=$((fails + 1)); echo "FAIL $spec ctas=$ctas $*: $line";; esac
    done
  }
  for s in 100 200 300 640 1000; do
    check var_dense --shape b=1,h=3,s=$s
    check var_causal --shape b=1,h=3,s=$s
  done
  check var_causal --shape b=2,h=2,sq=1000,sk=300
  for p in 0 100 700; do check var_prefix --shape b=1,h=3,s=1000 --param prefix=$p; done
  for c in 128 256 384; do check var_chunked --shape b=1,h=3,s=1000 --param chunk=$c; done
  check var_chunked_const --shape b=1,h=2,s=3000
  for w in 0 64 300 1024; do check var_window --shape b=1,h=3,s=2000 --param window=$w; done
  echo "producer_stores_o checks: $fails failed"
  [ "$fails" -eq 0 ] || exit 1
  "$repo/bench/ab-env.sh" "${OUT:-/tmp}/ab-po" "${ab[@]}" --no-tests --rounds 2 2>&1 |
    grep -v "^faopt: warning" | tail -24
  ;;
*) echo "producer_stores_o.sh: prepare or run" >&2; exit 2 ;;
esac
