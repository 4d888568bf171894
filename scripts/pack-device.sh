#!/usr/bin/env bash
# Packs what the GPU machine needs into .device/faopt-device.tar.xz (git-
# ignored; name `.device` in the device tool's `carry`): the GPU binaries,
# libfaopt.so, and the shared libraries they load that a bare CUDA image may
# lack (libLLVM and its dependencies). On the device:
#   mkdir -p /tmp/f && tar xJf .device/faopt-device.tar.xz -C /tmp/f
#   export LD_LIBRARY_PATH=/tmp/f/lib; /tmp/f/bin/faopt-gpu-tests
#
# scripts/pack-device.sh BUILD --overlay NAME packs only BUILD's binaries and
# libfaopt into .device/NAME.tar.xz (~10 MB), to unpack over a copy of the
# full bundle: two builds in one call within the carry cap (bench/ab-env.sh
# FAOPT_ROOT compares them):
#   cp -r /tmp/f /tmp/b && tar xJf .device/NAME.tar.xz -C /tmp/b
set -euo pipefail
build="${1:-build}"
overlay=""
if [ "${2:-}" = --overlay ]; then
  overlay="${3:?--overlay needs a name}"
fi
out=.device
stage="$out/stage"
rm -rf "$stage"
mkdir -p "$stage/bin" "$stage/lib"

bins=(faopt-gpu-tests faopt-runtime-tests faopt-bench faopt-run-gpu)
for b in "${bins[@]}"; do
  if [ -x "$build/bin/$b" ]; then cp "$build/bin/$b" "$stage/bin/"; fi
done
cp -P "$build"/lib/libfaopt.so* "$stage/lib/"
if [ -n "$overlay" ]; then
  tar -C "$stage" -cf - bin lib | xz -9 -T2 > "$out/$overlay.tar.xz"
  rm -rf "$stage"
  ls -la "$out/$overlay.tar.xz"
  exit 0
fi

# Every library the binaries load, except the C/C++ runtime the device has.
skip='^(linux-vdso|ld-linux|libc\.so|libm\.so|libdl\.so|libpthread\.so|librt\.so|libstdc\+\+\.so|libgcc_s\.so|libfaopt\.so)'
for f in "$stage"/bin/* "$stage"/lib/libfaopt.so.*; do
  [ -L "$f" ] && continue
  LD_LIBRARY_PATH="$stage/lib" ldd "$f" | awk '/=>/ {print $1, $3}'
done | sort -u | while read -r name path; do
  if ! [[ "$name" =~ $skip ]] && [ -f "$path" ] && [ ! -e "$stage/lib/$name" ]; then
    cp -L "$path" "$stage/lib/$name"
  fi
done

# The peers' scripts (../shared/bench) travel beside the bundle, uncommitted.
if [ -d ../shared/bench ]; then
  mkdir -p "$out/peers"
  cp ../shared/bench/*.py "$out/peers/"
fi

tar -C "$stage" -cf - bin lib | xz -9 -T2 > "$out/faopt-device.tar.xz"
rm -rf "$stage"
ls -la "$out/faopt-device.tar.xz"
