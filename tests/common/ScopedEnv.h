//===- ScopedEnv.h - an environment variable for one scope ------*- C++ -*-===//
#ifndef FAOPT_TESTS_COMMON_SCOPEDENV_H
#define FAOPT_TESTS_COMMON_SCOPEDENV_H

#include <cstdlib>
#include <optional>
#include <string>

namespace faopt::test {

/// Sets (or with nullptr unsets) an environment variable for one scope,
/// then restores what was there. The runtime reads its FAOPT_* compile
/// switches at each kernel request, so a test can ask for one kernel built
/// another way.
struct ScopedEnv {
  std::string name;
  std::optional<std::string> before;
  ScopedEnv(const char *n, const char *value) : name(n) {
    if (const char *old = std::getenv(n))
      before = old;
    if (value)
      setenv(n, value, 1);
    else
      unsetenv(n);
  }
  ~ScopedEnv() {
    if (before)
      setenv(name.c_str(), before->c_str(), 1);
    else
      unsetenv(name.c_str());
  }
};

} // namespace faopt::test

#endif // FAOPT_TESTS_COMMON_SCOPEDENV_H
