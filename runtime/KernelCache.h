//===- KernelCache.h - compiled kernels on disk -----------------*- C++ -*-===//
//
// One file per kernel, named by a SHA-256 key over everything that changes
// the code (canonical spec, target, faopt build, NVRTC version and options).
// Writes go to a temporary file that is renamed into place, so readers in
// other processes see a whole entry or none; each entry carries a checksum,
// and a truncated or corrupted one is reported once, removed and rebuilt.
// A directory that cannot be written turns the cache off with one warning.
//
//===----------------------------------------------------------------------===//
#ifndef FAOPT_RUNTIME_KERNELCACHE_H
#define FAOPT_RUNTIME_KERNELCACHE_H

#include <cstdint>
#include <mutex>
#include <optional>
#include <set>
#include <string>

namespace faopt::rt {

struct CacheEntry {
  std::string manifest; // JSON
  std::string cubin;
  std::string ptx;
};

class DiskCache {
public:
  /// Creates `dir` if needed; if it cannot be written, warns once and
  /// behaves as an empty, read-never cache.
  explicit DiskCache(std::string dir);

  const std::string &dir() const { return dir_; }
  bool enabled() const { return enabled_; }

  std::optional<CacheEntry> load(const std::string &key);
  /// Atomically writes the entry; false (with one warning) on failure.
  bool store(const std::string &key, const CacheEntry &entry);

  /// $FAOPT_CACHE_DIR, else $XDG_CACHE_HOME/faopt, else ~/.cache/faopt.
  static std::string defaultDir();

  struct Stats {
    std::string dir;
    size_t entries = 0;
    uint64_t bytes = 0;
  };
  static Stats stats(const std::string &dir);
  /// Removes every entry; returns how many.
  static size_t clear(const std::string &dir);

  /// Hex SHA-256 of the parts, separated so that ("ab","c") != ("a","bc").
  static std::string key(std::initializer_list<std::string> parts);

private:
  std::string pathFor(const std::string &key) const;
  void warnOnce(const std::string &what, const std::string &message);

  std::string dir_;
  bool enabled_ = false;
  std::mutex mu_;
  std::set<std::string> warned_;
};

} // namespace faopt::rt

#endif // FAOPT_RUNTIME_KERNELCACHE_H
