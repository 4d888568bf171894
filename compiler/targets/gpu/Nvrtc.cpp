//===- Nvrtc.cpp - CUDA C++ to PTX and cubin with NVRTC -------------------===//
#include "compiler/targets/gpu/Nvrtc.h"

#include <algorithm>
#include <cstdlib>
#include <dlfcn.h>
#include <mutex>
#include <regex>
#include <sstream>

namespace faopt::gpu {
namespace {

// The subset of nvrtc.h used here; NVRTC's C ABI is stable across 12.x/13.x.
using nvrtcProgram = struct _nvrtcProgram *;
using nvrtcResult = int;

struct NvrtcApi {
  nvrtcResult (*version)(int *, int *) = nullptr;
  nvrtcResult (*createProgram)(nvrtcProgram *, const char *, const char *, int,
                               const char *const *, const char *const *) =
      nullptr;
  nvrtcResult (*compileProgram)(nvrtcProgram, int, const char *const *) =
      nullptr;
  nvrtcResult (*destroyProgram)(nvrtcProgram *) = nullptr;
  nvrtcResult (*getProgramLogSize)(nvrtcProgram, size_t *) = nullptr;
  nvrtcResult (*getProgramLog)(nvrtcProgram, char *) = nullptr;
  nvrtcResult (*getPTXSize)(nvrtcProgram, size_t *) = nullptr;
  nvrtcResult (*getPTX)(nvrtcProgram, char *) = nullptr;
  nvrtcResult (*getCUBINSize)(nvrtcProgram, size_t *) = nullptr;
  nvrtcResult (*getCUBIN)(nvrtcProgram, char *) = nullptr;
  const char *(*getErrorString)(nvrtcResult) = nullptr;
  std::string loadError;
  bool loaded() const { return loadError.empty(); }
};

const NvrtcApi &api() {
  static NvrtcApi a;
  static std::once_flag once;
  std::call_once(once, [] {
    std::vector<std::string> candidates = {"libnvrtc.so.13", "libnvrtc.so.12",
                                           "libnvrtc.so"};
    for (const char *env : {"CUDA_HOME", "CUDA_PATH"})
      if (const char *home = std::getenv(env))
        candidates.push_back(std::string(home) + "/lib64/libnvrtc.so.13");
    candidates.push_back("/usr/local/cuda/lib64/libnvrtc.so.13");
    candidates.push_back("/usr/local/cuda/lib64/libnvrtc.so.12");
    void *lib = nullptr;
    for (const std::string &c : candidates)
      if ((lib = dlopen(c.c_str(), RTLD_NOW | RTLD_LOCAL)))
        break;
    if (!lib) {
      a.loadError = "cannot load NVRTC (libnvrtc.so.13; set CUDA_HOME or "
                    "LD_LIBRARY_PATH): " +
                    std::string(dlerror() ? dlerror() : "not found");
      return;
    }
    auto sym = [&](auto &fn, const char *name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(
          dlsym(lib, name));
      if (!fn && a.loadError.empty())
        a.loadError = std::string("NVRTC lacks ") + name;
    };
    sym(a.version, "nvrtcVersion");
    sym(a.createProgram, "nvrtcCreateProgram");
    sym(a.compileProgram, "nvrtcCompileProgram");
    sym(a.destroyProgram, "nvrtcDestroyProgram");
    sym(a.getProgramLogSize, "nvrtcGetProgramLogSize");
    sym(a.getProgramLog, "nvrtcGetProgramLog");
    sym(a.getPTXSize, "nvrtcGetPTXSize");
    sym(a.getPTX, "nvrtcGetPTX");
    sym(a.getCUBINSize, "nvrtcGetCUBINSize");
    sym(a.getCUBIN, "nvrtcGetCUBIN");
    sym(a.getErrorString, "nvrtcGetErrorString");
  });
  return a;
}

int reportValue(const std::string &log, const std::string &pattern) {
  std::smatch m;
  if (std::regex_search(log, m, std::regex(pattern)))
    return std::atoi(m[1].str().c_str());
  return -1;
}

/// ptxas's report for one entry function (the whole log if not found).
std::string entryReport(const std::string &log, const std::string &entry) {
  if (entry.empty())
    return log;
  const std::string marker = "entry function '";
  size_t at = log.find(marker + entry + "'");
  if (at == std::string::npos)
    return log;
  size_t end = log.find(marker, at + marker.size());
  return log.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

} // namespace

bool reportsWgmmaSerialized(const std::string &log, const std::string &entry) {
  // ptxas names the function on the line itself ("... in the function
  // 'NAME'"), before its per-entry report. Several codes say it, each with
  // its cause (C7513: non-wgmma instructions define wgmma input registers;
  // C7520: a compiler-inserted warpgroup.arrive in a divergent path, from
  // a branch around a wgmma), all with the same phrase.
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);)
    if (line.find("wgmma.mma_async instructions are serialized") !=
            std::string::npos &&
        (entry.empty() || line.find("'" + entry + "'") != std::string::npos))
      return true;
  return false;
}

std::string nvrtcVersion(std::string *error) {
  const NvrtcApi &a = api();
  if (!a.loaded()) {
    if (error)
      *error = a.loadError;
    return "";
  }
  int major = 0, minor = 0;
  a.version(&major, &minor);
  return std::to_string(major) + "." + std::to_string(minor);
}

std::vector<std::string> nvrtcOptions(const std::string &arch) {
  // Real-architecture targets give both PTX and a cubin. Fast math: exp2 and
  // the reciprocal of the row sum go to the special-function unit; the
  // tolerance tests cover the difference.
  std::vector<std::string> options = {"--gpu-architecture=" + arch,
                                      "--std=c++17", "--use_fast_math",
                                      "--ptxas-options=-v", "-default-device"};
  // $FAOPT_NVRTC_OPTIONS adds options (say -lineinfo for profiling); they
  // are part of every cache key through this list.
  if (const char *extra = std::getenv("FAOPT_NVRTC_OPTIONS")) {
    std::string word;
    for (const char *c = extra;; ++c) {
      if (*c == ' ' || *c == '\0') {
        if (!word.empty())
          options.push_back(word);
        word.clear();
        if (*c == '\0')
          break;
      } else {
        word += *c;
      }
    }
  }
  return options;
}

NvrtcResult compileCuda(
    const std::string &source, const std::string &name, const std::string &arch,
    bool wantCubin,
    const std::vector<std::pair<std::string, std::string>> &headers,
    const std::string &entry, int kernels) {
  NvrtcResult r;
  const NvrtcApi &a = api();
  if (!a.loaded()) {
    r.error = a.loadError;
    return r;
  }
  std::vector<const char *> headerSources, headerNames;
  for (const auto &[n, text] : headers) {
    headerNames.push_back(n.c_str());
    headerSources.push_back(text.c_str());
  }
  nvrtcProgram prog = nullptr;
  std::vector<std::string> opts = nvrtcOptions(arch);
  // Not in nvrtcOptions (the cache keys): it does not change the code. One
  // thread per kernel, unless the user chose (FAOPT_NVRTC_OPTIONS).
  const std::string split = "--split-compile=" + std::to_string(kernels);
  if (kernels > 1 && std::none_of(opts.begin(), opts.end(), [](const std::string &o) {
        return o.rfind("--split-compile", 0) == 0 || o.rfind("-split-compile", 0) == 0;
      }))
    opts.push_back(split);
  nvrtcResult rc = 0;
  for (;;) {
    rc = a.createProgram(&prog, source.c_str(), name.c_str(),
                         static_cast<int>(headers.size()),
                         headerSources.data(), headerNames.data());
    if (rc != 0) {
      r.error = std::string("nvrtcCreateProgram: ") + a.getErrorString(rc);
      return r;
    }
    std::vector<const char *> optPtrs;
    for (const std::string &o : opts)
      optPtrs.push_back(o.c_str());
    rc = a.compileProgram(prog, static_cast<int>(optPtrs.size()),
                          optPtrs.data());
    // An NVRTC that does not know --split-compile: compile in turn.
    constexpr nvrtcResult kInvalidOption = 5; // NVRTC_ERROR_INVALID_OPTION
    if (rc != kInvalidOption || opts.back() != split)
      break;
    a.destroyProgram(&prog);
    opts.pop_back();
  }
  size_t logSize = 0;
  a.getProgramLogSize(prog, &logSize);
  r.output.log.resize(logSize);
  if (logSize)
    a.getProgramLog(prog, r.output.log.data());
  while (!r.output.log.empty() && r.output.log.back() == '\0')
    r.output.log.pop_back();
  if (rc != 0) {
    r.error = std::string("NVRTC failed to compile ") + name + " for " + arch +
              " (" + a.getErrorString(rc) + "):\n" + r.output.log;
    a.destroyProgram(&prog);
    return r;
  }
  size_t size = 0;
  a.getPTXSize(prog, &size);
  r.output.ptx.resize(size);
  a.getPTX(prog, r.output.ptx.data());
  while (!r.output.ptx.empty() && r.output.ptx.back() == '\0')
    r.output.ptx.pop_back();
  if (wantCubin) {
    size = 0;
    if (a.getCUBINSize(prog, &size) == 0 && size) {
      r.output.cubin.resize(size);
      a.getCUBIN(prog, r.output.cubin.data());
    }
  }
  a.destroyProgram(&prog);
  const std::string log = entryReport(r.output.log, entry);
  r.output.registers = reportValue(log, "Used ([0-9]+) registers");
  r.output.stackBytes = reportValue(log, "([0-9]+) bytes stack frame");
  r.output.spillStores = reportValue(log, "([0-9]+) bytes spill stores");
  r.output.spillLoads = reportValue(log, "([0-9]+) bytes spill loads");
  r.output.wgmmaSerialized = reportsWgmmaSerialized(r.output.log, entry);
  r.ok = true;
  return r;
}

} // namespace faopt::gpu
