#!/usr/bin/env python3
"""Hand experiment (session 37): half-block P V products at a band's edges.

On the generated sliding-window kernel (`faopt-compile var_window.json
--target sm90a --emit cuda`), every O += P V of the kv loop runs only the
k steps of the half of the V block that the warpgroup's 64 rows attend,
where they all fall in one half: rows 0-63 attend only columns 0-63 of the
diagonal block, rows 64-127 only columns 64-127 of the left edge; P is 0
in the other half, so the sums are the same. The window's bounds grow with
the row, so a warpgroup's columns run from its first row's first kv to its
last row's last one. The same halves of S = Q K^T (m64n64 products) could
not be built without ptxas serializing every wgmma (docs/performance.md
item 88). Each branch of mma_ab_part is a whole wgmma group writing the
same accumulators: no spill, no C75xx note. usage: GEN.cu OUT.cu

Measured (H200, session 37): exact, and the window 0.9% slower.
"""
import re
import sys

src, out = sys.argv[1:3]
s = open(src).read()
name = re.search(r'void (\w+)\(faopt::Tensor', s).group(1)
first = name + "_masked_logits_kv_first"
last = name + "_masked_logits_kv_last"
helper = f'''
template <int W, typename T, int M, int N, int K>
static __device__ __forceinline__ faopt::Acc<M, N, W> mma_ab_part(
    faopt::OperandA<T, M, K, W> a, faopt::SmemTile<T, K, N> b,
    faopt::Acc<M, N, W> c, int part) {{
  static_assert(N == 128 && K == 128, "128 x 128 tiles");
  using TB = faopt::SmemTile<T, K, N>;
  const faopt_u32 sb = b.shared_base();
  faopt::pin(c);
  faopt::wgmma::pin(reinterpret_cast<faopt_u32(&)[K / 16 * 4]>(a.v));
  const int first = part == 2 ? 4 : 0, last = part == 1 ? 4 : 8;
  if (first == 0 && last == 8) {{
    faopt::wgmma::fence();
#pragma unroll
    for (int kk = 0; kk < 8; ++kk)
      faopt::wgmma::Mma<T, 128>::rs(&c.v[0][0][0], a.v[0][kk],
          faopt::wgmma::descriptor(sb + kk * 16 * 128, TB::kSlabBytes, 1024));
    faopt::wgmma::commit();
  }} else if (first == 0) {{
    faopt::wgmma::fence();
#pragma unroll
    for (int kk = 0; kk < 4; ++kk)
      faopt::wgmma::Mma<T, 128>::rs(&c.v[0][0][0], a.v[0][kk],
          faopt::wgmma::descriptor(sb + kk * 16 * 128, TB::kSlabBytes, 1024));
    faopt::wgmma::commit();
  }} else {{
    faopt::wgmma::fence();
#pragma unroll
    for (int kk = 4; kk < 8; ++kk)
      faopt::wgmma::Mma<T, 128>::rs(&c.v[0][0][0], a.v[0][kk],
          faopt::wgmma::descriptor(sb + kk * 16 * 128, TB::kSlabBytes, 1024));
    faopt::wgmma::commit();
  }}
  return c;
}}

static __device__ __forceinline__ int wg_part(int64_t b, int64_t h, int64_t q0, int64_t kv0, int64_t p, int64_t sk) {{
  const int64_t qa = q0 + 64 * (faopt::warp_id() >> 2);
  const int lo = {first}(0.0f, b, h, qa, kv0, p, sk) - (int)kv0;
  const int hi = {last}(0.0f, b, h, qa + 63, kv0, p, sk) - (int)kv0;
  return hi < 64 ? 1 : lo >= 64 ? 2 : 0;
}}
'''
k = s.index('extern "C" __global__')
s = s[:k] + helper + s[k:]

m = re.search(r'map_positions_in_rows<[^>]*>\((v\d+), (v\d+), (v\d+), (v\d+), (v\d+), (v\d+), (v\d+)\)', s)
_, B, H, Q0, KV0, P, SK = m.groups()
args = f'{B}, {H}, {Q0}, %s, {P}, {SK}'

# The kv loop's carried previous block start: the first int64 copy in the body.
loop = re.search(r'for \(int64_t (j\d+) = [^\n]*\{\n(?:\s*faopt::[^\n]*\n)*?\s*int64_t (v\d+) = (v\d+);', s)
prev, prev_init = loop.group(2), loop.group(3)

# (b) every P V in the loop: the previous block's part.
s, n = re.subn(r'faopt::mma_ab_async<8, false>\((v\d+), (v\d+), (v\d+)\)',
               lambda m: f'mma_ab_part<8>({m.group(1)}, {m.group(2)}, {m.group(3)}, wg_part({args % prev}))', s)
assert n == 2, n

# (c) the drain: after the loop, the carried start is copied again.
drain = re.search(r'\n\s*int64_t (v\d+) = ' + prev_init + r';\n', s[loop.end():])
dprev = drain.group(1)
s, n = re.subn(r'faopt::mma_ab<8, false>\((v\d+), (v\d+), (v\d+)\)',
               lambda m: f'faopt::mma_wait<0>(mma_ab_part<8>({m.group(1)}, {m.group(2)}, {m.group(3)}, wg_part({args % dprev})))', s)
assert n == 1, n
open(out, 'w').write(s)
print(f"{name}: P V halves on {prev} / {dprev}")
