#!/usr/bin/env python3
"""Hand experiments on the generated var_document kernel (session 27):
  warp_store: each consumer warp stores its own 16 rows of O (staged in its
  rows of the staging tile, __syncwarp, 16-byte global stores): no
  consumer-wide barrier, no bulk-store wait at the program's end.
  pair_claim: the copy thread claims two programs with one atomic (odd t),
  the second needing no round trip.
  early_q: the copy thread issues the program's Q right after its claim
  (mbarrier.expect_tx without an arrive), loads the list head while Q is
  in flight, writes the program slots, then arrives (release).
  turns: the consumer warpgroups take turns on the tensor cores (ping-pong).
  no_mask: timing only, WRONG results: the listed blocks' masks removed
  (what the partial blocks' mask work costs).
  kv_prefetch (session 28): the list builder's classifier prefetches its
  kv-block's ids into L1 (prefetch.global.L1, one per 128-byte line)
  before it reads the q-block's ids, so the second box's reads hit L1.
usage: make_exp.py gen.cu KIND out.cu  (README.md beside this file)"""
import sys
src, kind, out = sys.argv[1:4]
s = open(src).read()
if kind == 'warp_store':
    helper = r'''
namespace exp27 {
template <typename T, int M, int N, int W>
static __device__ __forceinline__ void warp_store(
    const faopt::OutTile<T, M, N, W> &o, const faopt::Tensor<T, 4> &dst,
    faopt_i64 b, faopt_i64 h, faopt_i64 row0, faopt_i64 bound,
    faopt::SmemTile<T, M, N> staging) {
  __syncwarp();
  faopt::stage_output(o, staging);
  __syncwarp();
  constexpr int kChunks = faopt::SmemTile<T, M, N>::kChunks;
  constexpr int R = M / W;
  static_assert(kChunks == 16 && R == 16, "two rows per warp instruction");
  const int l = faopt::lane_id(), w = faopt::warp_id();
  const int first = w * R + (l >> 4), chunk = l & 15;
  const faopt_i64 rowBytes = dst.stride[2] * (faopt_i64)sizeof(T);
  char *p = (char *)(dst.data + b * dst.stride[0] + h * dst.stride[1]) +
            (row0 + first) * rowBytes + chunk * 16;
  const int left = (int)(bound - row0) - first; // rows of this lane's below bound
#pragma unroll
  for (int i = 0; i < R / 2; ++i)
    if (2 * i < left)
      *(uint4 *)(p + 2 * i * rowBytes) =
          faopt::ld_shared_v4(staging.chunk_addr(first + 2 * i, chunk));
}
} // namespace exp27
'''
    anchor = '#include "faopt_block_lists.cuh"\n'
    assert anchor in s
    s = s.replace(anchor, anchor + helper, 1)
    import re
    m = re.search(r'faopt::tma::store_tile<\d+, 256>\((v\d+), (v\d+), (v\d+), (v\d+), (v\d+)\);\n(\s*)// attn.tile_store: one float per row \(lse\)\n\s*faopt::store_rows\((v\d+), (v\d+), (v\d+), (v\d+), (v\d+), (v\d+)\);', s)
    assert m, 'store'
    o, b, h, row0, stg = m.group(1, 2, 3, 4, 5)
    bound = m.group(12)
    # The kernel's o tensor is its fourth argument.
    sig = s[s.index('__launch_bounds__(384, 1) void '):]
    otensor = re.findall(r'faopt::Tensor<faopt::bf16, 4> (v\d+)', sig[:sig.index('{')])[3]
    new = f'exp27::warp_store({o}, {otensor}, {b}, {h}, {row0}, {bound}, {stg});\n{m.group(6)}// attn.tile_store: one float per row (lse)\n{m.group(6)}faopt::store_rows({m.group(7)}, {m.group(8)}, {m.group(9)}, {m.group(10)}, {m.group(11)}, {m.group(12)});'
    s = s[:m.start()] + new + s[m.end():]
elif kind == 'pair_claim':
    import re
    m = re.search(r'int64_t (v\d+) = faopt::tma::claim_program_index\((i\d+), (v\d+), (v\d+), (v\d+)\);', s)
    assert m
    p, t, w, ws, ctr = m.groups()
    s = s[:m.start()] + (f'int64_t {p};\n      if ({t} == 0) {p} = {w};\n'
        f'      else if ({t} & 1) {{ exp27_held = atomicAdd({ctr}.data, 2); {p} = {ws} + exp27_held; }}\n'
        f'      else {p} = {ws} + exp27_held + 1;') + s[m.end():]
    anchor = 'faopt::await_list_builder();\n'
    i = s.index(anchor)  # the producer's (first) one
    s = s[:i + len(anchor)] + '    int32_t exp27_held = 0;\n' + s[i + len(anchor):]
elif kind == 'early_q':
    # The copy thread issues program t's Q right after its claim (an
    # expect_tx that does not arrive), loads the list head while Q flies,
    # writes the slots, and only then arrives on Q's full barrier (release):
    # the phase completes when both the bytes and that arrival are in.
    import re
    helper = r"""
namespace exp27 {
template <int PIPE, typename T, int R, int C>
static __device__ __forceinline__ void issue_q_early(
    faopt::SmemTile<T, R, C> dst, faopt_i64 b, faopt_i64 h, faopt_i64 row,
    faopt_i64 bound, faopt_i64 stage, faopt_i64 round) {
  using namespace faopt::tma;
  const faopt_u32 full = full_bar<PIPE>(0, stage);
  timed_wait<diag::kQEmpty>(empty_bar<PIPE>(0, stage), (faopt_u32)(round & 1) ^ 1u);
  constexpr int kSlabs = C / 64, kSlabBytes = faopt::SmemTile<T, R, C>::kSlabBytes;
  asm volatile("mbarrier.expect_tx.relaxed.cta.shared::cta.b64 [%0], %1;" ::"r"(full),
               "r"((faopt_u32)(kSlabs * kSlabBytes)) : "memory");
  const int r = (int)(row < bound ? row : faopt::imax(bound, 1));
  const faopt::TmaMap *map = pipe<PIPE>().maps[0];
#pragma unroll
  for (int s = 0; s < kSlabs; ++s)
    load_box(dst.sbase + s * kSlabBytes, map, full, 64 * s, r, (int)h, (int)b);
}
template <int PIPE, int QS, typename... V>
static __device__ __forceinline__ void publish_then_arrive(
    faopt_i64 t, faopt_i64 p, faopt_i64 total, V... values) {
  using namespace faopt::tma;
  const int stage = q_stage<QS>(t);
  if (p >= total) // otherwise issue_q_early waited for the stage
    timed_wait<diag::kQEmpty>(empty_bar<PIPE>(0, stage),
                              (faopt_u32)(q_round<QS>(t) & 1) ^ 1u);
  volatile int *slots = program_slots(stage);
  slots[0] = (int)(p < total ? p : total);
  int i = 1;
  ((slots[i++] = (int)values), ...);
  (void)i;
  mbar_arrive(full_bar<PIPE>(0, stage));
}
} // namespace exp27
"""
    anchor = '#include "faopt_block_lists.cuh"\n'
    s = s.replace(anchor, anchor + helper, 1)
    m = re.search(r'int64_t (v\d+) = faopt::tma::claim_program_index\((i\d+), [^;]*;\n', s)
    p = m.group(1)
    claim_end = m.end()
    pub = re.search(r'faopt::tma::publish_program<(\d+), (\d)>\(', s)
    s = s[:pub.start()] + f'exp27::publish_then_arrive<{pub.group(1)}, {pub.group(2)}>(' + s[pub.end():]
    # The guarded body after publish: copy its lines up to the Q issue.
    g = re.search(r'bool (v\d+) = faopt::ult\(' + p + r', (v\d+)\);\n\s*int64_t v\d+;\n\s*if \(\1\) \{\n', s[claim_end:])
    body_start = claim_end + g.end()
    q = re.search(r'(\s*)faopt::tma::issue_tile<(\d+), 0>\(([^;]*)\);\n', s[body_start:])
    copied = s[body_start:body_start + q.start()]
    issue = f'{q.group(1)}exp27::issue_q_early<{q.group(2)}>({q.group(3)});\n'
    # Drop the original Q issue.
    s = s[:body_start + q.start()] + '\n' + s[body_start + q.end():]
    early = f'      if (faopt::ult({p}, {g.group(2)})) {{\n' + copied + issue + '      }\n'
    s = s[:claim_end] + early + s[claim_end:]
elif kind == 'turns':
    # The two consumer warpgroups take turns on the tensor cores (the
    # ping-pong the compiler asks for only without TMA copies, item 20):
    # staggered, one group's program transition can run under the other's
    # products.
    n = s.count('<8, false')
    assert n >= 7, n
    s = s.replace('<8, false', '<8, true')
    import re
    s, k = re.subn(r'faopt::tma::finish<8, (\d+), false>', r'faopt::tma::finish<8, \1, true>', s)
    assert k == 1
elif kind == 'no_mask':
    # Timing only (the output is WRONG: no mask at all inside the listed
    # blocks): every masked map of the scores becomes the scores
    # themselves, so the same lists run without any mask work; what that
    # gains is what the partial blocks' mask work costs (item 41's method).
    import re
    s, a = re.subn(r'= faopt::map_positions_in_rows<[^>]*>\((v\d+), [^;]*\);', r'= \1;', s)
    s, b = re.subn(r'= faopt::map_positions<\w*masked_logits\w*>\((v\d+), [^;]*\);', r'= \1;', s)
    assert a + b >= 2, (a, b)
elif kind == 'kv_prefetch':
    # The classifier reads two boxes of the document ids one after the
    # other: the q-block's (v21..v22 at batch v16), then its kv-block's
    # (v10..v12 clamped to the sequence, v18 = its last index).
    old = '  faopt::MinMax v23 = faopt::tensor_bounds(v6, v16, (int64_t) v21, v16, (int64_t) v22);'
    assert s.count(old) == 1, 'the classifier changed: update the edit'
    s = s.replace(old, '''  {
    const int32_t pa = faopt::imax32(faopt::imin32(v10, v18), 0);
    const int32_t pb = faopt::imax32(faopt::imin32(v12, v18), 0);
    const int32_t *pbase = v6.data + v16 * v6.stride[0];
    for (int32_t p = pa & ~31; p <= pb; p += 32)
      asm volatile("prefetch.global.L1 [%0];" ::"l"(pbase + (faopt_i64)p * v6.stride[1]));
  }
''' + old)
else:
    sys.exit('unknown kind')
s = s.replace('// Generated by faopt', '// Hand experiment ' + kind + ' (sessions 27-28) on a kernel generated by faopt', 1)
open(out, 'w').write(s)
