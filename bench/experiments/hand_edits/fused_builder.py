#!/usr/bin/env python3
"""Hand experiment (session 29): the kv-block lists built inside the
attention kernel (docs/status.md Next 5, "the structural step"), on the
generated handed-out var_document kernel, to measure the gain before the
compiler does it.

What the edit does:
  * the list builder kernel keeps only its programmatic-dependent-launch
    handshake (wait for the previous grid, let the next start): the runtime
    still launches it, so what it costs is the launch alone;
  * the attention kernel's producer warpgroup (warps 8-11, 128 threads, at
    the launch's registers, before setmaxnreg) builds the rows blockIdx.x,
    blockIdx.x + gridDim.x, ... with the builder's own code (its
    __syncthreads on named barrier 5 of 128 threads, its thread index
    relative to the warpgroup), then publishes each row with a
    st.release.gpu of the launch's epoch into a per-row flag;
  * the copy thread acquires (ld.acquire.gpu) its program's row flag before
    it reads the list head; the consumers, ordered after it by Q's full
    barrier, read lists and key ranges with plain (coherent) loads, not
    ld.global.nc: the lists are written during this launch;
  * neither branch waits for the builder grid (griddepcontrol.wait) any more.
  * Since session 29 the builder also zeroes the kernel's program counter;
    the edit drops that (the runtime keeps its memset under an override).
  * The epoch: a module global, read at the start; the last CTA whose copy
    thread ends adds one, so the next launch (stream order: this grid has
    completed) waits for new flags. Module globals are good enough for a
    measurement (one kernel, one stream); the compiler's version takes the
    epoch (or zeroed flags) from the runtime.

Rows are assigned statically (row r by CTA r mod gridDim.x): with every CTA
resident, as in the benchmark, no copy thread waits for a row nobody builds.
Variants for the decomposition (third argument):
  plain_loads: only the lists' loads made plain (ld.global, not .nc); the
    builder kernel and everything else as generated;
  noinline: the row builder called, not inlined (its own registers).
usage: fused_builder.py gen.cu out.cu [plain_loads|noinline]"""
import re
import sys

src, out = sys.argv[1:3]
mode = sys.argv[3] if len(sys.argv) > 3 else ''
s = open(src).read()

helper = r'''
namespace fz {
__device__ unsigned epoch_counter, done_ctas;
__device__ unsigned row_flags[8192];
constexpr int kFirst = 256; // the producer warpgroup's first thread
FAOPT_DEVICE int tid() { return static_cast<int>(threadIdx.x) - kFirst; }
FAOPT_DEVICE void bar() { asm volatile("bar.sync 5, 128;" ::: "memory"); }
FAOPT_DEVICE bool bar_and(bool p) {
  int r;
  asm volatile("{\n .reg .pred a, b;\n setp.ne.u32 a, %1, 0;\n"
               " bar.red.and.pred b, 5, 128, a;\n selp.u32 %0, 1, 0, b;\n}"
               : "=r"(r) : "r"(static_cast<int>(p)) : "memory");
  return r != 0;
}
FAOPT_DEVICE unsigned ld_acquire(const unsigned *p) {
  unsigned v;
  asm volatile("ld.acquire.gpu.global.u32 %0, [%1];" : "=r"(v) : "l"(p) : "memory");
  return v;
}
FAOPT_DEVICE void st_release(unsigned *p, unsigned v) {
  asm volatile("st.release.gpu.global.u32 [%0], %1;" :: "l"(p), "r"(v) : "memory");
}
/// faopt::load without .nc: data written during this launch.
template <typename T, int Rank, typename... I>
FAOPT_DEVICE T load(const faopt::Tensor<T, Rank> &t, I... index) {
  const faopt_i64 at[] = {static_cast<faopt_i64>(index)...};
  faopt_i64 offset = 0;
#pragma unroll
  for (int d = 0; d < Rank; ++d)
    offset += at[d] * t.stride[d];
  return t.data[offset];
}
FAOPT_DEVICE int *list_span() {
  __shared__ int span[3];
  return span;
}
/// faopt::build_block_list on the producer warpgroup.
template <auto Classify, typename... Args>
FAOPT_DEVICE void build_block_list(const faopt::Tensor<int32_t, 4> &lists,
                                   faopt_i64 b, faopt_i64 h, faopt_i64 qb,
                                   faopt_i64 lower, faopt_i64 upper,
                                   Args... args) {
  __shared__ int warp_counts[4];
  int32_t *row = lists.data + b * lists.stride[0] + h * lists.stride[1] +
                 qb * lists.stride[2];
  const int t = tid(), lane = t & 31, warp = t >> 5;
  constexpr int warps = 4, threads = 128;
  const int first = static_cast<int>(lower), last = static_cast<int>(upper);
  int count = 0;
  for (int base = first; base < last; base += threads) {
    const int kb = base + t;
    int cls = kb < last ? Classify(kb, args...) : 0;
    unsigned listed = __ballot_sync(0xffffffffu, cls != 0);
    if (lane == 0)
      warp_counts[warp] = __popc(listed);
    bar();
    int before = 0, total = 0;
    for (int w = 0; w < warps; ++w) {
      before += w < warp ? warp_counts[w] : 0;
      total += warp_counts[w];
    }
    if (cls != 0) {
      const int slot = count + before + __popc(listed & ((1u << lane) - 1u));
      row[1 + slot] = static_cast<int32_t>(2 * kb + (cls == 1));
      if (slot == 0)
        list_span()[0] = kb;
      if (slot == count + total - 1)
        list_span()[1] = kb;
    }
    count += total;
    bar();
  }
  if (t == 0) {
    row[0] = static_cast<int32_t>(count);
    list_span()[2] = static_cast<int>(count);
    if (count == 0)
      row[1] = 0;
  }
}
/// faopt::key_ranges on the producer warpgroup.
template <auto Key, int ROWS, int BLOCK_KV, typename... Args>
FAOPT_DEVICE void key_ranges(const faopt::Tensor<int32_t, 4> &lists,
                             faopt_i64 b, faopt_i64 h, faopt_i64 qb,
                             faopt_i64 q_first, faopt_i64 kv_begin,
                             faopt_i64 kv_end, Args... args) {
  int32_t *list = lists.data + b * lists.stride[0] + h * lists.stride[1] +
                  qb * lists.stride[2];
  int32_t *row = list + (lists.size[3] - (1 + 2 * ROWS));
  const int t = tid();
  constexpr int threads = 128;
  faopt_i64 key = t < ROWS ? Key(static_cast<int>(q_first) + t, true, args...) : 0;
  bar();
  const int count = list_span()[2];
  if (count <= 0) {
    if (t == 0)
      row[0] = 0;
    return;
  }
  const int first_kv = list_span()[0] * BLOCK_KV;
  const int end_kv = (list_span()[1] + 1) * BLOCK_KV;
  const int begin = static_cast<int>(kv_begin), stop = static_cast<int>(kv_end);
  const int lo_pos = first_kv > begin ? first_kv : begin;
  const int hi_pos = end_kv < stop ? (end_kv > lo_pos ? end_kv : lo_pos)
                                   : (stop > lo_pos ? stop : lo_pos);
  bool sorted = true;
  for (int base = lo_pos + t; base + 1 < hi_pos; base += 8 * threads) {
    faopt_i64 k0[8], k1[8];
#pragma unroll
    for (int j = 0; j < 8; ++j) {
      k0[j] = Key(base + j * threads, false, args...);
      k1[j] = Key(base + j * threads + 1, false, args...);
    }
#pragma unroll
    for (int j = 0; j < 8; ++j)
      sorted &= base + j * threads + 1 >= hi_pos || k0[j] <= k1[j];
  }
  sorted = bar_and(sorted);
  if (t == 0)
    row[0] = sorted ? 1 : 0;
  if (!sorted)
    return;
  for (int r = t; r < ROWS; r += threads) {
    if (r != t)
      key = Key(static_cast<int>(q_first) + r, true, args...);
    const int first = faopt::partition_point(lo_pos, hi_pos, [&](int p) {
      return Key(p, false, args...) < key;
    });
    const int end = faopt::partition_point(first, hi_pos, [&](int p) {
      return Key(p, false, args...) <= key;
    });
    row[1 + 2 * r] = first;
    row[2 + 2 * r] = end - 1;
  }
}
} // namespace fz
'''

# 1. The helpers after the includes.
anchor = '#include "faopt_block_lists.cuh"\n'
assert anchor in s
s = s.replace(anchor, anchor + helper, 1)

k0 = s.index('__launch_bounds__(384, 1) void ')
sig = s[k0:s.index('{', k0)]
lists = re.search(r'faopt::Tensor<int32_t, 4> (v\d+)', sig).group(1)
if mode != 'plain_loads':
    # 2. The builder kernel: its body becomes a device function of one row;
    #    the kernel keeps the handshake only.
    m = re.search(r'extern "C" __global__ __launch_bounds__\(128\) void (\w+_block_lists)\(([^)]*)\) \{\n(.*?)\n\}\n', s, re.S)
    assert m, 'builder kernel'
    name, params, body = m.group(1), m.group(2), m.group(3)
    bnames = re.findall(r'(v\d+)(?=,|$)', params)
    body = body.replace('  faopt::await_previous_grid();\n', '')
    # Since session 29 the builder zeroes the kernel's program counter
    # (attn-builder-resets-counter); on the producer's threads that would
    # never run (it is thread 0's) and, with no wait left in the kernel,
    # would race with the claims. Under an override the runtime keeps its
    # memset of the counter, so the edit needs no reset at all.
    body = re.sub(r'  // attn.reset_program_counter:[^\n]*\n  faopt::reset_program_counter\(v\d+\);\n', '', body)
    assert 'reset_program_counter' not in body, 'the builder reset survived'

    body, n = re.subn(r'faopt::block_index<0>\(\)', 'row', body)
    assert n == 1, 'block_index'
    body = body.replace('faopt::build_block_list<', 'fz::build_block_list<')
    body = body.replace('faopt::key_ranges<', 'fz::key_ranges<')
    inl = '__noinline__' if mode == 'noinline' else '__forceinline__'
    fn = (f'static __device__ {inl} void fz_build_row({params}, int64_t row) {{\n'
          f'{body}\n}}\n')
    kernel = (f'extern "C" __global__ __launch_bounds__(128) void {name}({params}) {{\n'
              '  faopt::await_previous_grid();\n  faopt::allow_dependent_launch();\n}\n')
    s = s[:m.start()] + fn + kernel + s[m.end():]
    decl = fn[:fn.index(' {')] + ';\n'
    k0 = s.index('extern "C" __global__ __launch_bounds__(384, 1)')
    s = s[:k0] + decl + s[k0:]

    # 3. The attention kernel.
    k0 = s.index('__launch_bounds__(384, 1) void ')
    sig = s[k0:s.index('{', k0)]
    lists = re.search(r'faopt::Tensor<int32_t, 4> (v\d+)', sig).group(1)
    # The builder's arguments are the attention kernel's first seven (q, k, v,
    # o, lse, the ids, the lists), in the same order.
    knames = re.findall(r'(v\d+)(?=,|\))', sig + ')')
    assert knames[:len(bnames)] == bnames, 'builder arguments'
    bargs = ', '.join(bnames)
    build = f'''
        const unsigned fz_epoch = fz::ld_acquire(&fz::epoch_counter) + 1;
        {{
          const int64_t fz_rows = faopt::dim<0>({lists}) * faopt::dim<1>({lists}) * faopt::dim<2>({lists});
          for (int64_t r = blockIdx.x; r < fz_rows; r += gridDim.x) {{
            fz_build_row({bargs}, r);
            __threadfence();
            fz::bar();
            if (fz::tid() == 0)
              fz::st_release(&fz::row_flags[r], fz_epoch);
          }}
        }}
    '''
    pb = re.search(r'\n(\s*)faopt::tma::producer_begin<', s)
    s = s[:pb.start()] + build + s[pb.start():]
    # No wait for the builder grid in either branch.
    s, n = re.subn(r'\s*// attn.await_list_builder:[^\n]*\n\s*faopt::await_list_builder\(\);', '', s)
    assert n == 2, 'await_list_builder'
    # The copy thread: acquire the row's flag before the list head.
    m = re.search(r'\n(\s*)int32_t (v\d+) = faopt::load\(' + lists + r', (v\d+), 0, (v\d+), 0\);', s)
    assert m, 'list head'
    ind, b, qb = m.group(1), m.group(3), m.group(4)
    wait = (f'\n{ind}{{ const int64_t fz_row = {b} * faopt::dim<1>({lists}) * faopt::dim<2>({lists}) + {qb};\n'
            f'{ind}  while (fz::ld_acquire(&fz::row_flags[fz_row]) != fz_epoch) {{ }} }}')
    s = s[:m.start()] + wait + s[m.start():]
# Plain loads of the lists everywhere in the kernel.
k0 = s.index('__launch_bounds__(384, 1) void ')
k1 = (s.index('extern "C" __global__ __launch_bounds__(128)') if mode == 'plain_loads'
      else s.index(decl[:-2] + ' {'))  # the builder, after the kernel
s = s[:k0] + s[k0:k1].replace(f'faopt::load({lists}, ', f'fz::load({lists}, ') + s[k1:]
# ... and in the key-range helpers the consumers call (their list argument).
for fnm in ('_masked_logits_kv_first', '_masked_logits_kv_last'):
    i = s.index(fnm + '(')
    j = s.index('\n}\n', i)
    head = s[i:s.index('{', i)]
    lv = re.search(r'faopt::Tensor<int32_t, 4> (v\d+)', head).group(1)
    s = s[:i] + s[i:j].replace(f'faopt::load({lv}, ', f'fz::load({lv}, ') + s[j:]
# The epoch: the last CTA's copy thread to end adds one.
pe = s.index('    faopt::tma::producer_end();')
if mode != 'plain_loads':
  s = s[:pe] + ('    __threadfence();\n'
              '    if (atomicAdd(&fz::done_ctas, 1u) == gridDim.x - 1) {\n'
              '      fz::done_ctas = 0;\n'
              '      __threadfence();\n'
              '      atomicAdd(&fz::epoch_counter, 1u);\n'
              '    }\n') + s[pe:]
open(out, 'w').write(s)
