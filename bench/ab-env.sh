#!/usr/bin/env bash
# On the GPU machine: an A/B comparison of one compiler switch that the
# runtime reads from the environment (FAOPT_Q_STAGES, FAOPT_PERSISTENT,
# FAOPT_SOFTMAX_OVERLAP, ...), the way sessions 13-14 compared kernels:
# the B setting's GPU tests first (a wrong kernel must not be timed), then
# `faopt-bench --only variants` and `--only fwd --d 128` alternating A and B
# in one process tree (same card state), with the table of B / A printed
# after every round. Odd rounds run A then B, even rounds B then A: a card
# warmed by the first setting's long rows must not bias the second (session
# 16 saw identical dense 16k kernels 5-9% slower when always run second);
# use an even --rounds so each goes first equally often. The rounds' raw
# outputs end up in OUTDIR/rounds.tar.gz, the table in OUTDIR/ab.txt.
#   bench/ab-env.sh OUTDIR VAR A B [--rounds N] [--no-tests] [--no-fwd]
#                   [--bench-args "ARGS"]
#   e.g. bench/ab-env.sh $OUT FAOPT_Q_STAGES 1 2
# --bench-args: more faopt-bench options for every timed run (e.g.
# "--back-to-back").
# A value of "-" means unset. VAR = FAOPT_ROOT compares two builds instead:
# A and B are bundle roots, each run takes faopt-bench / faopt-gpu-tests and
# libfaopt from its own root (libraries it lacks, such as libLLVM, from
# $FAOPT_ROOT's). Expects the unpacked device bundle
# (scripts/pack-device.sh) at $FAOPT_ROOT (default /tmp/f). Each setting
# gets its own kernel cache directory in /tmp. About 4 minutes on an
# H200 with the tests (in six shards: ~2 minutes for 155 cases, session
# 39) and two rounds; a device call's limit is capped by the session's remaining
# device time, so start it early.
set -euo pipefail
if [ $# -lt 4 ]; then
  sed -n '2,26p' "$0" >&2
  exit 2
fi
out="$1" var="$2" a="$3" b="$4"; shift 4
rounds=2 tests=1 fwd=1 bench_args=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="${2:?--rounds needs a count}"; shift ;;
    --no-tests) tests="" ;;
    --no-fwd) fwd="" ;;
    --bench-args) bench_args="${2?--bench-args needs options}"; shift ;;
    *) echo "ab-env.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
root="${FAOPT_ROOT:-/tmp/f}"
export LD_LIBRARY_PATH="$root/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
mkdir -p "$out"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$out/gpu.txt"

# A value as it appears in file names (the device tool returns only plain
# names: "-DX=1" becomes "-DX_1").
tag() { printf '%s' "$1" | tr -c 'A-Za-z0-9_.-' '_'; }

# Runs the rest of the line with VAR set to $1 ("-": unset) and its own cache.
# The bundle whose binaries a setting runs.
bin() { if [ "$var" = FAOPT_ROOT ]; then echo "$1/bin"; else echo "$root/bin"; fi; }
if [ "$var" = FAOPT_ROOT ] && { [ "$a" = - ] || [ "$b" = - ]; }; then
  echo "ab-env.sh: FAOPT_ROOT compares two bundle roots; '-' is not one" >&2
  exit 2
fi

with() {
  local value="$1"; shift
  local cache="/tmp/faopt-ab-cache-${var}-$(tag "$value")"
  if [ "$var" = FAOPT_ROOT ]; then
    env LD_LIBRARY_PATH="$value/lib:$LD_LIBRARY_PATH" FAOPT_CACHE_DIR="$cache" "$@"
  elif [ "$value" = "-" ]; then
    env -u "$var" FAOPT_CACHE_DIR="$cache" "$@"
  else
    env "$var=$value" FAOPT_CACHE_DIR="$cache" "$@"
  fi
}

# The tests in shards side by side (scripts/gpu-tests-sharded.sh), their
# logs then joined into one file (the device tool returns few files).
if [ -n "$tests" ]; then
  shards="$out/gpu_tests_$(tag "$b")"
  rc=0
  with "$b" env FAOPT_ROOT="$(dirname "$(bin "$b")")" GPU_TESTS_TIMEOUT=420 \
    "$(dirname "$0")/../scripts/gpu-tests-sharded.sh" "$shards" \
    > "$shards.txt" 2>&1 || rc=$?
  cat "$shards"/shard-*.txt >> "$shards.txt" && rm -r "$shards"
  if [ "$rc" -ne 0 ]; then
    echo "ab-env.sh: GPU tests fail with $var=$b (not timing it):" >&2
    grep -E "^shard|^all shards|FAILED|Failure" "$shards.txt" | head -20 >&2
    exit 1
  fi
  grep "^all shards" "$shards.txt"
fi

# One row per case: the A and B rates of every round so far, and B / A of
# the medians; printed after each round, so a call that runs out of time
# still shows the rounds it finished. faopt-bench prints "variant NAME ...
# R TFLOP/s effective" and "fwd d=128 KIND seq= N ...: T ms R TFLOP/s".
table() {
python3 - "$out" "$(tag "$a")" "$(tag "$b")" "$1" "$a" "$b" "$fwd" <<'EOF' | tee "$out/ab.txt"
import re, statistics, sys
out, a, b, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
kinds = ("variants", "fwd") if sys.argv[7] else ("variants",)
shown = {a: sys.argv[5], b: sys.argv[6]}
def rates(path):
    r = {}
    for line in open(path):
        m = re.match(r"variant (\S+) .*?([0-9.]+) TFLOP/s effective", line)
        if m:
            r[m.group(1)] = float(m.group(2))
        m = re.match(r"fwd d=(\d+) (\w+)\s+seq=\s*(\d+).*?([0-9.]+) TFLOP/s", line)
        if m:
            r[f"fwd d{m.group(1)} {m.group(2)} {m.group(3)}"] = float(m.group(4))
    return r
runs = {v: [] for v in (a, b)}
for v in (a, b):
    for i in range(1, rounds + 1):
        merged = {}
        for kind in kinds:
            try:
                merged.update(rates(f"{out}/{kind}_{v}_{i}.txt"))
            except FileNotFoundError:
                pass
        runs[v].append(merged)
cases = [c for c in runs[a][0] if all(c in r for r in runs[a] + runs[b])]
print(f"{'case':50} {'A=' + shown[a]:>22} {'B=' + shown[b]:>22} {'B/A':>6}  (rounds: {rounds})")
for c in cases:
    ra = [r[c] for r in runs[a]]
    rb = [r[c] for r in runs[b]]
    ratio = statistics.median(rb) / statistics.median(ra)
    print(f"{c:50} {' / '.join(f'{x:.1f}' for x in ra):>22} "
          f"{' / '.join(f'{x:.1f}' for x in rb):>22} {ratio:6.3f}")
EOF
}

for r in $(seq 1 "$rounds"); do
  order=("$a" "$b")
  if [ $((r % 2)) -eq 0 ]; then order=("$b" "$a"); fi
  for v in "${order[@]}"; do
    t=$(tag "$v")
    with "$v" timeout 120 "$(bin "$v")/faopt-bench" --only variants $bench_args > "$out/variants_${t}_$r.txt" 2>&1
    if [ -n "$fwd" ]; then
      with "$v" timeout 120 "$(bin "$v")/faopt-bench" --only fwd --d 128 $bench_args > "$out/fwd_${t}_$r.txt" 2>&1
    fi
  done
  table "$r"
done

# The device tool hands back only a few files a call, so the rounds' raw
# faopt-bench outputs go back as one archive (tar xzf rounds.tar.gz);
# ab.txt, gpu.txt and the tests' log stay as they are.
raw=$(cd "$out" && ls variants_*.txt fwd_*.txt 2>/dev/null || true)
if [ -n "$raw" ]; then
  (cd "$out" && tar czf rounds.tar.gz $raw && rm -f $raw)
fi
