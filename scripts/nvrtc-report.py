#!/usr/bin/env python3
"""Compiles a generated kernel source (faopt-compile --emit cuda) with NVRTC
the way the runtime does, against a device-header directory of your choice,
and prints ptxas's report: registers, spills, and the C75xx notes (wgmma
serialisation) per kernel. Two seconds a compile, so a header or source
change can be bisected by hand (session 21 found this way that the hand-out
kernels' spills follow whether any static shared memory exists;
docs/performance.md item 49).

  build/bin/faopt-compile samples/document_causal_bf16_d128.json \\
      --target sm90a --persistent --emit cuda -o /tmp/k.cu
  cp -r compiler/targets/gpu/device /tmp/hdr   # then edit /tmp/hdr/*.cuh
  scripts/nvrtc-report.py /tmp/k.cu /tmp/hdr [extra NVRTC options...]

The options are the runtime's (compiler/targets/gpu/Nvrtc.cpp
nvrtcOptions) for sm_90a; pass --arch=sm_80 first to change the target,
and --cubin=FILE (first, or after --arch) to keep the cubin, e.g. to see
where the spills sit:
  nvdisasm -c FILE | grep -n 'STL\|LDL\|HGMMA\|BRA'
"""
import ctypes
import os
import sys


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    source, headers, extra = argv[1], argv[2], argv[3:]
    arch = "sm_90a"
    if extra and extra[0].startswith("--arch="):
        arch, extra = extra[0].split("=", 1)[1], extra[1:]
    cubin = None
    if extra and extra[0].startswith("--cubin="):
        cubin, extra = extra[0].split("=", 1)[1], extra[1:]
    cuda = os.environ.get("CUDA_HOME", "/usr/local/cuda")
    lib = ctypes.CDLL(os.path.join(cuda, "lib64", "libnvrtc.so"))
    prog = ctypes.c_void_p()
    text = open(source, "rb").read()
    if lib.nvrtcCreateProgram(ctypes.byref(prog), text, b"kernel.cu", 0,
                              None, None) != 0:
        print("nvrtcCreateProgram failed", file=sys.stderr)
        return 1
    options = ["--gpu-architecture=" + arch, "--std=c++17", "--use_fast_math",
               "--ptxas-options=-v", "-default-device",
               "--include-path=" + headers] + extra
    array = (ctypes.c_char_p * len(options))(*[o.encode() for o in options])
    rc = lib.nvrtcCompileProgram(prog, len(options), array)
    size = ctypes.c_size_t()
    lib.nvrtcGetProgramLogSize(prog, ctypes.byref(size))
    log = ctypes.create_string_buffer(size.value)
    lib.nvrtcGetProgramLog(prog, log)
    for line in log.value.decode(errors="replace").splitlines():
        if rc != 0 or any(k in line for k in
                          ("entry function", "spill", "Used", "(C75")):
            print(line)
    if rc == 0 and cubin:
        lib.nvrtcGetCUBINSize(prog, ctypes.byref(size))
        data = ctypes.create_string_buffer(size.value)
        lib.nvrtcGetCUBIN(prog, data)
        with open(cubin, "wb") as f:
            f.write(data.raw[:size.value])
    return 0 if rc == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
