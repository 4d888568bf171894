//===- runtime.hpp - faopt's C++ API ----------------------------*- C++ -*-===//
//
// RAII wrappers over the C ABI (faopt.h): one implementation, two
// interfaces. Errors come back as faopt::Status / faopt::Result, never as
// exceptions or aborts.
//
//   auto ctx = faopt::Context::create();
//   if (!ctx) { std::cerr << ctx.status().message(); return 1; }
//   auto kernel = ctx->kernel(R"({"dtype": "bf16", "head_dim": 128,
//                                 "mask": "causal"})");
//   faopt::ForwardArgs args;          // device pointers, sizes, strides
//   ...
//   faopt::Status s = kernel->forward(args, stream);
//
//===----------------------------------------------------------------------===//
#ifndef FAOPT_RUNTIME_HPP
#define FAOPT_RUNTIME_HPP

#include "faopt/faopt.h"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace faopt {

class Status {
public:
  Status() = default;
  Status(faopt_status code, std::string message)
      : code_(code), message_(std::move(message)) {}
  static Status fromLast(faopt_status code) {
    return code == FAOPT_SUCCESS ? Status() : Status(code, faopt_last_error());
  }
  bool ok() const { return code_ == FAOPT_SUCCESS; }
  explicit operator bool() const { return ok(); }
  faopt_status code() const { return code_; }
  const std::string &message() const { return message_; }

private:
  faopt_status code_ = FAOPT_SUCCESS;
  std::string message_;
};

/// A value or the Status saying why there is none.
template <typename T> class Result {
public:
  Result(T value) : value_(std::move(value)) {}
  Result(Status status) : status_(std::move(status)) {}
  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Status &status() const { return status_; }
  T &operator*() { return *value_; }
  const T &operator*() const { return *value_; }
  T *operator->() { return &*value_; }
  const T *operator->() const { return &*value_; }

private:
  std::optional<T> value_;
  Status status_;
};

using ForwardArgs = faopt_forward_args;
using KernelInfo = faopt_kernel_info;

inline ForwardArgs defaultForwardArgs() {
  ForwardArgs a;
  faopt_forward_args_init(&a);
  return a;
}

/// Kv-block lists built once (Kernel::buildBlockLists); pass handle() as
/// ForwardArgs::block_lists. Destroyed with the object.
class BlockLists {
public:
  explicit BlockLists(faopt_block_lists *l) : lists_(l, &faopt_block_lists_destroy) {}
  const faopt_block_lists *handle() const { return lists_.get(); }

private:
  std::unique_ptr<faopt_block_lists, void (*)(faopt_block_lists *)> lists_;
};

/// A compiled kernel; owned by its Context (copying this handle is cheap).
class Kernel {
public:
  explicit Kernel(const faopt_kernel *k) : kernel_(k) {}
  Status forward(const ForwardArgs &args, void *stream = nullptr) const {
    return Status::fromLast(faopt_forward(kernel_, &args, stream));
  }
  /// For masks that read tensors: the kv-block lists of `args`, built once
  /// for several launches (faopt_block_lists_build).
  Result<BlockLists> buildBlockLists(const ForwardArgs &args,
                                     void *stream = nullptr) const {
    faopt_block_lists *l = nullptr;
    faopt_status s = faopt_block_lists_build(kernel_, &args, stream, &l);
    if (s != FAOPT_SUCCESS)
      return Status::fromLast(s);
    return BlockLists(l);
  }
  KernelInfo info() const {
    KernelInfo i{};
    faopt_kernel_info_get(kernel_, &i);
    return i;
  }
  const faopt_kernel *handle() const { return kernel_; }

private:
  const faopt_kernel *kernel_;
};

struct ContextOptions {
  std::string target = "auto";
  std::string cacheDir; // empty: the default
  bool diskCache = true;
  int device = 0;
};

class Context {
public:
  static Result<Context> create(const ContextOptions &o = {}) {
    faopt_context_options c;
    faopt_context_options_init(&c);
    c.target = o.target.c_str();
    c.cache_dir = o.cacheDir.empty() ? nullptr : o.cacheDir.c_str();
    c.disk_cache = o.diskCache ? 1 : 0;
    c.device = o.device;
    faopt_context *ctx = nullptr;
    faopt_status s = faopt_context_create(&c, &ctx);
    if (s != FAOPT_SUCCESS)
      return Status::fromLast(s);
    return Context(ctx);
  }

  /// Gets (compiling on first use) the kernel for a spec.
  Result<Kernel> kernel(std::string_view specJson) {
    std::string text(specJson);
    faopt_kernel *k = nullptr;
    faopt_status s = faopt_kernel_get(context_.get(), text.c_str(), &k);
    if (s != FAOPT_SUCCESS)
      return Status::fromLast(s);
    return Kernel(k);
  }

  /// False without a usable driver/device (kernels compile but cannot run).
  bool canLaunch() const { return faopt_context_can_launch(context_.get()); }
  std::string target() const { return faopt_context_target(context_.get()); }

  faopt_context *handle() const { return context_.get(); }

private:
  explicit Context(faopt_context *c) : context_(c, &faopt_context_destroy) {}
  std::shared_ptr<faopt_context> context_;
};

} // namespace faopt

#endif // FAOPT_RUNTIME_HPP
