# lit configuration for faopt: one test per pass, plus the tools and specs.
import os

import lit.formats
import lit.util

config.name = "faopt"
config.test_format = lit.formats.ShTest(not lit.util.which("bash") is None)
config.suffixes = [".mlir", ".test"]
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.faopt_obj_root, "tests", "lit")

# faopt's tools first, then LLVM's FileCheck / not / count / split-file.
path = os.pathsep.join(
    [config.faopt_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", "")]
)
config.environment["PATH"] = path
config.substitutions.append(("%samples", os.path.join(config.faopt_src_root, "samples")))
config.substitutions.append(("%fake_nvrtc", config.faopt_fake_nvrtc_dir))

# GPU code generation needs NVRTC (a CUDA toolkit); running kernels is not
# tested here.
cuda_home = os.environ.get("CUDA_HOME", "/usr/local/cuda")
if any(os.path.exists(os.path.join(d, "libnvrtc.so.13")) or
       os.path.exists(os.path.join(d, "libnvrtc.so.12"))
       for d in [os.path.join(cuda_home, "lib64"), "/usr/local/cuda/lib64"]):
    config.available_features.add("nvrtc")

# faopt-bench is built only with a CUDA toolkit (its option errors are
# tested without a GPU).
if os.path.exists(os.path.join(config.faopt_tools_dir, "faopt-bench")):
    config.available_features.add("faopt-bench")
