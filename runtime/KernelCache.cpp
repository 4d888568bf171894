//===- KernelCache.cpp - compiled kernels on disk -------------------------===//
#include "runtime/KernelCache.h"

#include "llvm/Support/SHA256.h"
#include "llvm/Support/xxhash.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;

namespace faopt::rt {
namespace {

constexpr char kMagic[8] = {'F', 'A', 'O', 'P', 'T', 'K', 'C', '1'};
constexpr const char *kSuffix = ".fkc";
constexpr size_t kHeader = 8 + 8 + 8; // magic, checksum, payload length

void putU64(std::string &out, uint64_t v) {
  char b[8];
  std::memcpy(b, &v, 8);
  out.append(b, 8);
}

bool getU64(const std::string &in, size_t &pos, uint64_t &v) {
  if (pos + 8 > in.size())
    return false;
  std::memcpy(&v, in.data() + pos, 8);
  pos += 8;
  return true;
}

bool getBlob(const std::string &in, size_t &pos, std::string &out) {
  uint64_t n;
  if (!getU64(in, pos, n) || n > in.size() - pos)
    return false;
  out.assign(in.data() + pos, n);
  pos += n;
  return true;
}

uint64_t checksum(const std::string &payload) {
  return llvm::xxh3_64bits(llvm::ArrayRef<uint8_t>(
      reinterpret_cast<const uint8_t *>(payload.data()), payload.size()));
}

} // namespace

std::string DiskCache::defaultDir() {
  if (const char *d = std::getenv("FAOPT_CACHE_DIR"); d && *d)
    return d;
  if (const char *x = std::getenv("XDG_CACHE_HOME"); x && *x)
    return std::string(x) + "/faopt";
  if (const char *h = std::getenv("HOME"); h && *h)
    return std::string(h) + "/.cache/faopt";
  return (fs::temp_directory_path() / "faopt-cache").string();
}

std::string DiskCache::key(std::initializer_list<std::string> parts) {
  llvm::SHA256 sha;
  for (const std::string &p : parts) {
    std::string len = std::to_string(p.size()) + ":";
    sha.update(llvm::StringRef(len));
    sha.update(llvm::StringRef(p));
  }
  std::array<uint8_t, 32> digest = sha.final();
  static const char *hex = "0123456789abcdef";
  std::string out;
  for (uint8_t b : digest) {
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out;
}

DiskCache::DiskCache(std::string dir) : dir_(std::move(dir)) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  // Probe: can we create (and rename) files here?
  std::string probe = dir_ + "/.probe-" + std::to_string(getpid());
  {
    std::ofstream f(probe, std::ios::binary);
    f << "probe";
    if (!ec && f.good()) {
      f.close();
      enabled_ = f.good();
    }
  }
  fs::remove(probe, ec);
  if (!enabled_)
    warnOnce(dir_, "faopt: warning: cannot write the kernel cache at " + dir_ +
                       (ec ? " (" + ec.message() + ")" : "") +
                       "; kernels are cached in memory only");
}

std::string DiskCache::pathFor(const std::string &key) const {
  return dir_ + "/" + key + kSuffix;
}

void DiskCache::warnOnce(const std::string &what, const std::string &message) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!warned_.insert(what).second)
    return;
  if (!std::getenv("FAOPT_QUIET"))
    std::fprintf(stderr, "%s\n", message.c_str());
}

std::optional<CacheEntry> DiskCache::load(const std::string &key) {
  if (!enabled_)
    return std::nullopt;
  std::string path = pathFor(key);
  std::ifstream f(path, std::ios::binary);
  if (!f)
    return std::nullopt; // a miss
  std::stringstream buf;
  buf << f.rdbuf();
  std::string data = buf.str();
  auto corrupted = [&](const char *why) -> std::optional<CacheEntry> {
    warnOnce(key, std::string("faopt: warning: kernel cache entry ") + path +
                      " is corrupted (" + why + "); recompiling");
    std::error_code ec;
    fs::remove(path, ec);
    return std::nullopt;
  };
  if (data.size() < kHeader || std::memcmp(data.data(), kMagic, 8) != 0)
    return corrupted("bad header");
  size_t pos = 8;
  uint64_t sum = 0, length = 0;
  getU64(data, pos, sum);
  getU64(data, pos, length);
  if (length != data.size() - kHeader)
    return corrupted("truncated");
  std::string payload = data.substr(kHeader);
  if (checksum(payload) != sum)
    return corrupted("checksum mismatch");
  CacheEntry e;
  pos = 0;
  if (!getBlob(payload, pos, e.manifest) || !getBlob(payload, pos, e.cubin) ||
      !getBlob(payload, pos, e.ptx) || pos != payload.size())
    return corrupted("malformed payload");
  return e;
}

bool DiskCache::store(const std::string &key, const CacheEntry &entry) {
  if (!enabled_)
    return false;
  std::string payload;
  for (const std::string *s : {&entry.manifest, &entry.cubin, &entry.ptx}) {
    putU64(payload, s->size());
    payload += *s;
  }
  std::string data(kMagic, 8);
  putU64(data, checksum(payload));
  putU64(data, payload.size());
  data += payload;

  static std::atomic<uint64_t> counter{0};
  std::string final = pathFor(key);
  std::string tmp = final + ".tmp-" + std::to_string(getpid()) + "-" +
                    std::to_string(counter++);
  bool ok = false;
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f.write(data.data(), static_cast<std::streamsize>(data.size()));
    f.flush();
    ok = f.good();
  }
  std::error_code ec;
  if (ok) {
    fs::rename(tmp, final, ec); // atomic within one file system
    ok = !ec;
  }
  if (!ok) {
    fs::remove(tmp, ec);
    warnOnce(dir_ + "#write", "faopt: warning: cannot write the kernel cache "
                              "entry " + final + "; it stays in memory only");
  }
  return ok;
}

DiskCache::Stats DiskCache::stats(const std::string &dir) {
  Stats s;
  s.dir = dir;
  // Non-throwing iteration throughout: faopt-compile calls this from code
  // built without exceptions.
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (it->path().extension() != kSuffix)
      continue;
    std::error_code sizeError;
    uint64_t size = it->file_size(sizeError);
    ++s.entries;
    s.bytes += sizeError ? 0 : size;
  }
  return s;
}

size_t DiskCache::clear(const std::string &dir) {
  // Collect first: removing while iterating leaves the order unspecified.
  std::vector<fs::path> doomed;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    std::string name = it->path().filename().string();
    bool entry = it->path().extension() == kSuffix;
    bool temp = name.find(std::string(kSuffix) + ".tmp-") != std::string::npos;
    if (entry || temp)
      doomed.push_back(it->path());
  }
  size_t n = 0;
  for (const fs::path &p : doomed) {
    std::error_code removeError;
    if (fs::remove(p, removeError) && p.extension() == kSuffix)
      ++n;
  }
  return n;
}

} // namespace faopt::rt
