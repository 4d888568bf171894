/*===- faopt.h - faopt's C ABI ----------------------------------*- C -*-===*
 *
 * Compile attention specs to CUDA kernels at run time and launch them.
 * Callable from C, C++, or through dlopen/ctypes (libfaopt.so).
 *
 *   faopt_context *ctx;
 *   faopt_context_create(NULL, &ctx);                 // target from the GPU
 *   faopt_kernel *k;
 *   faopt_kernel_get(ctx, "{\"dtype\":\"bf16\",\"head_dim\":128,"
 *                         "\"mask\":\"causal\"}", &k); // JIT, cached
 *   faopt_forward_args a;
 *   faopt_forward_args_init(&a);
 *   a.q = q; a.k = k; a.v = v; a.o = o; a.lse = lse;  // device pointers
 *   a.batch = 2; a.heads = 16; a.kv_heads = 16; a.seqlen_q = a.seqlen_k = 4096;
 *   faopt_forward(k, &a, stream);                      // strides default to
 *                                                      // the spec's layout
 * Every call returns a status; on failure faopt_last_error() says why (per
 * thread). Nothing here aborts the process or lets a kernel touch memory
 * outside the tensors it was given: launches are validated first.
 *===----------------------------------------------------------------------===*/
#ifndef FAOPT_FAOPT_H
#define FAOPT_FAOPT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FAOPT_API __attribute__((visibility("default")))

typedef enum faopt_status {
  FAOPT_SUCCESS = 0,
  FAOPT_ERROR_INVALID_ARGUMENT = 1, /* a launch argument or option is wrong */
  FAOPT_ERROR_INVALID_SPEC = 2,     /* the spec JSON is malformed */
  FAOPT_ERROR_COMPILE = 3,          /* the compiler or NVRTC failed */
  FAOPT_ERROR_NO_DEVICE = 4,        /* no CUDA driver or device */
  FAOPT_ERROR_CUDA = 5,             /* a driver call failed */
  FAOPT_ERROR_UNSUPPORTED = 6       /* valid, but not supported (yet) */
} faopt_status;

typedef struct faopt_context faopt_context;
typedef struct faopt_kernel faopt_kernel;
typedef struct faopt_block_lists faopt_block_lists;

typedef struct faopt_context_options {
  /* "auto" (default): from the current device's compute capability (9.0:
   * sm90a, 8.x: sm80); "sm80" or "sm90a" to force one. Without a driver,
   * "auto" means sm80 and kernels can be compiled but not launched. */
  const char *target;
  /* Kernel cache directory; NULL: $FAOPT_CACHE_DIR, else
   * $XDG_CACHE_HOME/faopt, else ~/.cache/faopt. */
  const char *cache_dir;
  int disk_cache; /* 1 (default): use the disk cache; 0: memory only */
  int device;     /* CUDA device ordinal, default 0 */
} faopt_context_options;

FAOPT_API void faopt_context_options_init(faopt_context_options *options);
/* options may be NULL for the defaults. */
FAOPT_API faopt_status faopt_context_create(const faopt_context_options *options,
                                            faopt_context **out);
FAOPT_API void faopt_context_destroy(faopt_context *context);
/* 1 if kernels of this context can be launched; 0 (compile-only) if there is
 * no usable driver or device, with the reason in faopt_last_error(). */
FAOPT_API int faopt_context_can_launch(const faopt_context *context);
/* The target kernels are compiled for ("sm80" / "sm90a"). */
FAOPT_API const char *faopt_context_target(const faopt_context *context);

/* Gets the kernel for a spec (JSON text, docs/spec.md), compiling it on
 * first use. Thread-safe; concurrent requests for one spec compile it once.
 * The kernel lives as long as the context. */
FAOPT_API faopt_status faopt_kernel_get(faopt_context *context,
                                        const char *spec_json,
                                        faopt_kernel **out);

/* The value of one run-time parameter of the spec ("params"). */
typedef struct faopt_param_value {
  const char *name; /* as declared in the spec */
  double value;     /* int parameters: an integer value */
} faopt_param_value;

/* One tensor input of the spec ("tensors"): document ids, lengths, a
 * bias... */
typedef struct faopt_tensor_value {
  const char *name; /* as declared in the spec */
  const void *data; /* device pointer: int32 or float32 as declared */
  int64_t sizes[4]; /* the declared dimensions' sizes for this launch */
  int64_t strides[4]; /* element strides; all zero: packed row-major */
} faopt_tensor_value;

typedef struct faopt_forward_args {
  const void *q, *k, *v; /* device pointers, spec dtype */
  void *o;
  float *lse; /* [batch, heads, seqlen_q]; required iff the spec has lse */
  int64_t batch, heads, kv_heads, seqlen_q, seqlen_k;
  /* Element strides of the batch, head and sequence dimensions; the head
   * dimension is contiguous. All zero: packed in the spec's layout. Row
   * strides must be multiples of 8 elements and pointers 16-byte aligned
   * (the kernels copy 16-byte chunks). */
  int64_t q_stride[3], k_stride[3], v_stride[3], o_stride[3];
  int64_t lse_stride[2]; /* batch, head; zero: packed */
  /* Run-time parameters by name, any order; those left out take the spec's
   * default (an error where there is none). Changing them needs no
   * recompile. */
  const faopt_param_value *params;
  int num_params;
  /* Tensor inputs by name, any order; every declared one must be given,
   * with the sizes its declaration implies (a "seqlen" dimension needs
   * seqlen_q == seqlen_k). */
  const faopt_tensor_value *tensors;
  int num_tensors;
  /* Kernels whose mask reads tensors (document ids, a block layout): the
   * kv-block lists from faopt_block_lists_build, for launches with the same
   * sizes, parameters and tensor contents. NULL: each launch builds its own
   * (a second, small kernel on the same stream). */
  const faopt_block_lists *block_lists;
} faopt_forward_args;

FAOPT_API void faopt_forward_args_init(faopt_forward_args *args);

/* Validates the arguments against the spec and each other, then launches
 * the forward pass on `stream` (a CUstream / cudaStream_t; NULL: default). */
FAOPT_API faopt_status faopt_forward(const faopt_kernel *kernel,
                                     const faopt_forward_args *args,
                                     void *stream);

/* For a kernel whose mask reads tensors (its manifest has
 * "block_list_builder"): builds, on `stream`, the lists of kv-blocks each
 * q-block visits for `args` (validated as by faopt_forward; only sizes,
 * parameters and tensor inputs are read), into device memory the handle
 * owns. Launches that pass it as args.block_lists skip the builder: build
 * once, launch every layer. The caller keeps the tensor contents unchanged
 * while the lists are in use and destroys them (after the last launch that
 * uses them has finished) before its context. */
FAOPT_API faopt_status faopt_block_lists_build(const faopt_kernel *kernel,
                                               const faopt_forward_args *args,
                                               void *stream,
                                               faopt_block_lists **lists);
FAOPT_API void faopt_block_lists_destroy(faopt_block_lists *lists);

typedef struct faopt_kernel_info {
  const char *name;     /* kernel symbol */
  const char *target;   /* "sm80" / "sm90a" */
  const char *manifest; /* JSON: parameters, grid, block, resources */
  int threads, block_q, block_kv;
  int64_t shared_memory_bytes;
  int registers;          /* -1 if unknown (loaded from PTX) */
  int spill_bytes;        /* spill stores + loads reported by ptxas */
  /* How the kernel was obtained when this context first asked for its spec:
   * 0 compiled, 2 loaded from the disk cache. Later gets of the same spec
   * return the same kernel from memory. */
  int source;
  double compile_seconds; /* time that first get took */
  /* Launches whose seqlen_k is at most this run the kernel's short-row form:
   * the same spec compiled with Q's shared memory released inside the kv
   * loop, compiled on the first such launch (docs/runtime.md). 0: the kernel
   * has none (FAOPT_SHORT_ROW_KERNEL=0, or not a fixed-schedule sm90a
   * kernel with three K/V stages). */
  int64_t short_rows_max_seqlen_k;
  /* That form's manifest once it is compiled, else NULL. */
  const char *short_rows_manifest;
} faopt_kernel_info;

FAOPT_API faopt_status faopt_kernel_info_get(const faopt_kernel *kernel,
                                             faopt_kernel_info *info);

/* Ahead-of-time compile without a context: `emit` is "cuda", "ptx" or
 * "cubin". *out (size *out_size) and *manifest are malloc'ed; release with
 * faopt_free. */
FAOPT_API faopt_status faopt_compile(const char *spec_json, const char *target,
                                     const char *emit, void **out,
                                     size_t *out_size, char **manifest);
FAOPT_API void faopt_free(void *p);

/* The message of the last failed call on this thread ("" if none). */
FAOPT_API const char *faopt_last_error(void);
FAOPT_API const char *faopt_version(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* FAOPT_FAOPT_H */
