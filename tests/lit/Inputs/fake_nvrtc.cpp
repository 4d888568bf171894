//===- fake_nvrtc.cpp - an NVRTC without --split-compile, for lit ---------===//
//
// Built as libnvrtc.so.13 in its own directory; a lit test puts that
// directory first on LD_LIBRARY_PATH so that faopt's dlopen finds it. It
// accepts every option but --split-compile (as an NVRTC that predates it
// would), returns a placeholder PTX, and appends what it was asked to
// $FAKE_NVRTC_LOG, so the test sees the fallback in compileCuda.
//
//===----------------------------------------------------------------------===//
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

struct _nvrtcProgram {
  std::string log;
};

namespace {
void note(const std::string &line) {
  if (const char *path = std::getenv("FAKE_NVRTC_LOG"))
    if (FILE *f = std::fopen(path, "a")) {
      std::fprintf(f, "%s\n", line.c_str());
      std::fclose(f);
    }
}
const char kPtx[] = "// placeholder PTX from the fake NVRTC\n";
} // namespace

extern "C" {
int nvrtcVersion(int *major, int *minor) {
  *major = 12;
  *minor = 0;
  return 0;
}
int nvrtcCreateProgram(_nvrtcProgram **prog, const char *, const char *, int,
                       const char *const *, const char *const *) {
  *prog = new _nvrtcProgram;
  return 0;
}
int nvrtcCompileProgram(_nvrtcProgram *prog, int n, const char *const *options) {
  for (int i = 0; i < n; ++i)
    if (std::strncmp(options[i], "--split-compile", 15) == 0) {
      note(std::string("rejected ") + options[i]);
      prog->log = std::string("nvrtc: error: unrecognized option ") + options[i];
      return 5; // NVRTC_ERROR_INVALID_OPTION
    }
  note("compiled with " + std::to_string(n) + " options");
  return 0;
}
int nvrtcDestroyProgram(_nvrtcProgram **prog) {
  delete *prog;
  *prog = nullptr;
  return 0;
}
int nvrtcGetProgramLogSize(_nvrtcProgram *prog, size_t *size) {
  *size = prog->log.size() + 1;
  return 0;
}
int nvrtcGetProgramLog(_nvrtcProgram *prog, char *log) {
  std::memcpy(log, prog->log.c_str(), prog->log.size() + 1);
  return 0;
}
int nvrtcGetPTXSize(_nvrtcProgram *, size_t *size) {
  *size = sizeof kPtx;
  return 0;
}
int nvrtcGetPTX(_nvrtcProgram *, char *ptx) {
  std::memcpy(ptx, kPtx, sizeof kPtx);
  return 0;
}
int nvrtcGetCUBINSize(_nvrtcProgram *, size_t *size) {
  *size = 0;
  return 0;
}
int nvrtcGetCUBIN(_nvrtcProgram *, char *) { return 0; }
const char *nvrtcGetErrorString(int result) {
  return result == 0   ? "NVRTC_SUCCESS"
         : result == 5 ? "NVRTC_ERROR_INVALID_OPTION"
                       : "NVRTC_ERROR";
}
}
