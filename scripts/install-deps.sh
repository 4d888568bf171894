#!/usr/bin/env bash
# Installs what faopt needs on Debian 12, skipping whatever is present.
# Idempotent: a no-op (one dpkg query) when everything is installed.
set -euo pipefail

packages=(
  cmake ninja-build ccache g++ lld python3
  libmlir-22-dev mlir-22-tools llvm-22-dev llvm-22-tools
  libboost-json1.81-dev libgtest-dev
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  # Try with the current package lists first; refresh them only if needed.
  if ! $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"; then
    $sudo apt-get update -q
    $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
else
  echo "install-deps: all packages present"
fi

# CUDA is not a Debian package here: it is expected at /usr/local/cuda.
cuda="${CUDA_HOME:-/usr/local/cuda}"
if [ -f "$cuda/include/nvrtc.h" ]; then
  echo "install-deps: CUDA at $cuda ($("$cuda/bin/nvcc" --version 2>/dev/null | grep -o 'release [0-9.]*' || echo 'nvcc not found'))"
else
  echo "install-deps: warning: no CUDA toolkit at $cuda; GPU code generation (cuda/ptx/cubin) is disabled" >&2
fi
