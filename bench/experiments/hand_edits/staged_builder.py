#!/usr/bin/env python3
"""Hand experiment (session 30): the document list builder with the row's
ids staged in shared memory first (docs/status.md Next 5).

Items 44-46, 62 and 69 found the builder to be a chain of dependent global
memory phases (the q-block's ids, the kv-blocks' ids, the span's keys for
the order check, the searches' probes) and that shortening one phase moved
another. This edit replaces the chain by one phase: each thread block
copies doc[b, 0 .. n), n = min(upper * 128, seqlen) -- every id its row's
classification and key ranges read -- into shared memory with cp.async
(all copies in flight, no registers held), waits once, and then classifies,
checks the order and searches from shared memory:
  * the q-block's min / max ids are folded once per thread block (warp 0),
    not once per kv-block;
  * each thread folds its kv-block's 128 ids from shared memory, 16 bytes a
    read, starting at its lane's own chunk so a quarter warp's reads fall
    in distinct banks;
  * key_ranges runs unchanged with a Key that reads the staged ids.
Rows whose ids do not fit (n > 8192), are not contiguous or not 16-byte
aligned take the generated path unchanged.

Variant (third argument): `whole` stages the whole row doc[b, 0 .. seqlen)
instead of the prefix the row reads (no bound analysis needed; twice the
copies on average under a causal mask).

`api` does the same with the device library's faopt::stage_row and
faopt::StagedTensor (the whole row), as the compiler would emit it.

usage: staged_builder.py gen.cu out.cu [whole|api]
(gen.cu: faopt-compile bench/experiments/hand_edits/var_document.json
--target sm90a --emit cuda; the names below are that kernel's.)"""
import re
import sys

src, out = sys.argv[1:3]
whole = sys.argv[3:] == ["whole"]
text = open(src).read()

if sys.argv[3:] == ["api"]:
    # The device library's form (faopt::stage_row, faopt::StagedTensor), as
    # the compiler would emit it: the whole row staged, the classifier and
    # the key function taking the staged view.
    for fn in ("var_document_kv_block_class", "var_document_keys"):
        head = re.search(r"static __device__ __forceinline__ \w+ " + fn + r"\([^)]*\)", text).group(0)
        text = text.replace(head, head.replace("faopt::Tensor<int32_t, 2>", "faopt::StagedTensor<int32_t, 2>"))
    build = re.search(r"  faopt::build_block_list<&var_document_kv_block_class>\((.*), (v\d+), (v\d+)\);\n", text)
    doc, b = build.group(2), build.group(3)
    stage = (f"  const faopt::StagedTensor<int32_t, 2> staged = faopt::stage_row<8192>({doc}, "
             f"faopt::imax32(faopt::imin32((int32_t) {b}, (int32_t) faopt::dim<0>({doc}) - 1), 0));\n")
    text = text.replace(build.group(0), stage + build.group(0).replace(f", {doc}, {b});", f", staged, {b});"))
    keys = re.search(r"  faopt::key_ranges<&var_document_keys, 128, 128>\((.*), (v\d+), (v\d+)\);\n", text)
    text = text.replace(keys.group(0), keys.group(0).replace(f", {doc}, {b});", f", staged, {b});"))
    open(out, "w").write(text)
    sys.exit(0)

STAGED = r'''
namespace staged {
constexpr int kCapacity = 8192; // ids (32 KB)
static __device__ __forceinline__ int32_t *ids() {
  __shared__ __align__(16) int32_t s[kCapacity];
  return s;
}
static __device__ __forceinline__ int *q_bounds() {
  __shared__ int q[2];
  return q;
}
// doc[b, 0 .. n) into shared memory, and the min / max of doc[b, q_lo ..
// q_hi]; false (nothing staged) where it cannot. The condition is the same
// for every thread of the block.
static __device__ __forceinline__ bool stage(const faopt::Tensor<int32_t, 2> &t,
                                             int64_t b, int n, int q_lo,
                                             int q_hi) {
  // As build_block_list does first: the attention kernel may start now.
  faopt::allow_dependent_launch();
  const int bb = faopt::imax32(faopt::imin32((int32_t)b, (int32_t)t.size[0] - 1), 0);
  const int32_t *src = t.data + (int64_t)bb * t.stride[0];
  if (n <= 0 || n > kCapacity || t.stride[1] != 1 ||
      (reinterpret_cast<unsigned long long>(src) & 15) || q_hi >= n)
    return false;
  int32_t *s = ids();
  const unsigned base = static_cast<unsigned>(__cvta_generic_to_shared(s));
  for (int i = threadIdx.x * 4; i < n; i += blockDim.x * 4) {
    if (i + 4 <= n)
      asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" ::"r"(base + 4 * i),
                   "l"(src + i));
    else
      for (int k = i; k < n; ++k)
        s[k] = __ldg(src + k);
  }
  asm volatile("cp.async.wait_all;" ::: "memory");
  __syncthreads();
  if (threadIdx.x < 32) {
    int lo = 0x7fffffff, hi = -lo - 1;
    for (int i = q_lo + threadIdx.x; i <= q_hi; i += 32) {
      lo = min(lo, s[i]);
      hi = max(hi, s[i]);
    }
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
      lo = min(lo, __shfl_xor_sync(0xffffffffu, lo, o));
      hi = max(hi, __shfl_xor_sync(0xffffffffu, hi, o));
    }
    if (threadIdx.x == 0) {
      q_bounds()[0] = lo;
      q_bounds()[1] = hi;
    }
  }
  __syncthreads();
  return true;
}
// var_document_kv_block_class on the staged ids (same arithmetic).
static __device__ __forceinline__ int32_t kv_block_class(int64_t v1, int64_t v2, int64_t v3, int64_t v4, int64_t v5, int32_t v18) {
  int32_t v8 = (int32_t) v5;
  int32_t v9 = (int32_t) v4;
  int32_t v10 = (int32_t) v1 * 128;
  int32_t v11 = v10 + 127;
  int32_t v12 = faopt::imin32(v11, (int32_t) v2);
  int64_t v24 = q_bounds()[0];
  int64_t v25 = q_bounds()[1];
  int32_t a = faopt::imax32(faopt::imin32(v10, v18), 0);
  int32_t e = faopt::imax32(faopt::imin32(v12, v18), 0);
  int lo[4] = {0x7fffffff, 0x7fffffff, 0x7fffffff, 0x7fffffff};
  int hi[4] = {-0x7fffffff - 1, -0x7fffffff - 1, -0x7fffffff - 1, -0x7fffffff - 1};
  const int32_t *s = ids();
  if (e - a == 127 && (a & 3) == 0) {
    const int4 *p = reinterpret_cast<const int4 *>(s + a);
    const int lane = threadIdx.x & 31;
#pragma unroll
    for (int k = 0; k < 32; ++k) {
      const int4 x = p[(k + lane) & 31];
      lo[0] = min(lo[0], x.x); hi[0] = max(hi[0], x.x);
      lo[1] = min(lo[1], x.y); hi[1] = max(hi[1], x.y);
      lo[2] = min(lo[2], x.z); hi[2] = max(hi[2], x.z);
      lo[3] = min(lo[3], x.w); hi[3] = max(hi[3], x.w);
    }
  } else {
    for (int i = a; i <= e; ++i) {
      lo[0] = min(lo[0], s[i]);
      hi[0] = max(hi[0], s[i]);
    }
  }
  int64_t v31, v32;
  if (e < a) {
    v31 = (int64_t)(~0ull >> 1);
    v32 = -v31 - 1;
  } else {
    v31 = min(min(lo[0], lo[1]), min(lo[2], lo[3]));
    v32 = max(max(hi[0], hi[1]), max(hi[2], hi[3]));
  }
  return v10 <= v12 && (v10 <= v9 && (v24 <= v32 && v31 <= v25)) ? (v11 < (int32_t) v3 && !(v12 > v8 || !((v24 == v25 && v31 == v32) && v24 == v31)) ? 2 : 1) : 0;
}
// var_document_keys on the staged ids: positions clamped to [0, n).
static __device__ __forceinline__ int64_t keys(int64_t v1, bool, int32_t n) {
  return ids()[faopt::imax32(faopt::imin32((int32_t)v1, n - 1), 0)];
}
} // namespace staged
'''

# The staged functions go right before the builder kernel.
kernel = 'extern "C" __global__ __launch_bounds__(128) void var_document_block_lists('
assert text.count(kernel) == 1, "builder kernel not found"
text = text.replace(kernel, STAGED + kernel)

build = re.search(r'  faopt::build_block_list<&var_document_kv_block_class>\((v\d+), (v\d+), (v\d+), (v\d+), 0, (v\d+), (v\d+), (v\d+), (v\d+), (v\d+), (v\d+), (v\d+)\);\n', text)
assert build, "build_block_list call not found"
lists, b, h, qb, upper, seqm1, seqlen, qlast, qfirst, doc, b2 = build.groups()
keys = re.search(r'  faopt::key_ranges<&var_document_keys, 128, 128>\((v\d+), (v\d+), (v\d+), (v\d+), (v\d+), (v\d+), (v\d+), (v\d+), (v\d+)\);\n', text)
assert keys, "key_ranges call not found"

new_build = f'''  const int32_t st_last = (int32_t) faopt::dim<1>({doc}) - 1;
  const int32_t st_n = {'st_last + 1' if whole else f'faopt::imin32((int32_t) {upper} * 128, st_last + 1)'};
  const int32_t st_qlo = faopt::imax32(faopt::imin32((int32_t) {qfirst}, st_last), 0);
  const int32_t st_qhi = faopt::imax32(faopt::imin32((int32_t) {qlast}, st_last), 0);
  const bool st_ok = staged::stage({doc}, {b2}, st_n, st_qlo, st_qhi);
  if (st_ok)
    faopt::build_block_list<&staged::kv_block_class>({lists}, {b}, {h}, {qb}, 0, {upper}, {seqm1}, {seqlen}, {qlast}, {qfirst}, st_last);
  else
''' + build.group(0)
text = text.replace(build.group(0), new_build)
k = keys.groups()
new_keys = (f'''  if (st_ok)
    faopt::key_ranges<&staged::keys, 128, 128>({k[0]}, {k[1]}, {k[2]}, {k[3]}, {k[4]}, {k[5]}, {k[6]}, st_n);
  else
''' + keys.group(0))
text = text.replace(keys.group(0), new_keys)
open(out, "w").write(text)
