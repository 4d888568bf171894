#!/usr/bin/env python3
"""Hand experiment (session 37, untimed): the copy thread stores O.

On a generated fixed-schedule sm90a kernel with three K/V stages (O staged
in the V stage of each program's last P V, attn-stage-output-in-v; e.g.
`faopt-compile var_dense.json --target sm90a --emit cuda`), the consumers
no longer issue the O tile's bulk store and wait for it to read shared
memory (thread 0, ~0.5-1k cycles of warp 0 a program, so of warpgroup 0's
next wgmma). Items 89 and 91 (docs/performance.md) moved that wait later
on the consumers' side: +1-2.6% on short dense and causal rows, but the
window and the run-time chunk lost 3% because the stage came back later.
Here the consumers write O into the stage, fence, and release the stage
like any other (each warp arrives on V's empty barrier; no second CTA
barrier). The copy thread, which is the one that needs the stage back,
issues the store when it comes to refill that stage: after its usual wait
for the stage to be empty, it stores O from it (the program's Q
coordinates are O's), waits for the read, then issues the fill. A program
whose stage the next program does not refill (fewer than three blocks)
has its O stored at the end of the next program's prefetches, and the last
one after the copy thread's loop. usage: GEN.cu OUT.cu

Every fill of a program is issued in that program's iteration of the copy
thread's loop (also where the window issues its first K / V before Q), so
"the program had a block" is known at the end of the iteration; the Q
coordinates (b, q head, row) are O's. The store reads the stage as a V
tile, so the edit assumes block_q = block_kv (the benchmark's kernels); the
compiler's form (FAOPT_OUTPUT_BY_COPY_THREAD, item 92) stores the O tile's
own rows.
"""
import re
import sys

src, out = sys.argv[1:3]
s = open(src).read()


def one(pattern, text, what, flags=0):
    found = list(re.finditer(pattern, text, flags))
    if len(found) != 1:
        sys.exit(f"producer_stores_o.py: {what}: {len(found)} matches, expected 1")
    return found[0]


pipe = one(r'faopt::tma::start<\d+, (\d+)>', s, 'start').group(1)
begin = one(r'faopt::tma::producer_begin<\d+, \d+>\(\);\n', s, 'producer_begin')
end = one(r'\n(\s*)int64_t v\d+ = v\d+;\n\s*faopt::tma::producer_end\(\);', s, 'producer_end')
producer = s[begin.end():end.start()]

# The producer's loop over programs: its first for loop.
loop = one(r'\n(\s*)for \(int64_t (i\d+) = [^\n]*\{\n', producer[:producer.index('issue_tile')],
           'program loop')
qissue = one(r'faopt::tma::issue_tile<' + pipe + r', 0>\((v\d+), (v\d+), (v\d+), (v\d+), (v\d+), [^;]*\);',
             producer, 'Q issue')
_, QB, QH, QROW, _ = qissue.groups()
vdecl = re.search(r'faopt::SmemTile<faopt::(\w+), (\d+), (\d+)> (v\d+) = faopt::smem<[^>]*>\((\d+) \+ v\d+ \* (\d+)\);\n'
                  r'\s*faopt::tma::issue_tile<' + pipe + r', 2>', producer)
T, R, C, _, VBASE, VSTRIDE = vdecl.groups()

state = (f'\n    bool po_pend = false, po_has = false;\n'
         f'    int64_t po_stage = 0, po_round = 0, po_b = 0, po_h = 0, po_row = 0, po_ls = 0, po_lr = 0;\n')
body = producer
# Each V fill: store a pending O from its stage first, then note the fill.
body = re.sub(r'(faopt::tma::issue_tile<' + pipe + r', 2>\((v\d+), [^;]*, (v\d+), (v\d+)\);)',
              lambda m: (f'po_store<{pipe}>(po_pend, po_pend && po_stage == {m.group(3)}, po_stage, po_round, '
                         f'po_b, po_h, po_row);\n        {m.group(1)}\n        po_has = true; po_ls = {m.group(3)}; '
                         f'po_lr = {m.group(4)};'), body)
# A program's end: its O is pending (an older one still pending is stored first).
lp = one(r'\n(\s*)for \(int64_t ' + loop.group(2) + r' = [^\n]*\{\n', body, 'program loop again')
body = body[:lp.end()] + lp.group(1) + '  po_has = false;\n' + body[lp.end():]
close = body.rindex('\n' + lp.group(1) + '}')
body = (body[:close] + f'\n{lp.group(1)}  if (po_has) {{\n'
        f'{lp.group(1)}    po_store<{pipe}>(po_pend, po_pend, po_stage, po_round, po_b, po_h, po_row);\n'
        f'{lp.group(1)}    po_pend = true; po_stage = po_ls; po_round = po_lr;\n'
        f'{lp.group(1)}    po_b = {QB}; po_h = {QH}; po_row = {QROW};\n'
        f'{lp.group(1)}  }}' + body[close:])
# After the loop over programs: the last O.
body = body + (f'\n    po_store<{pipe}>(po_pend, po_pend, po_stage, po_round, po_b, po_h, po_row);\n'
               f'    asm volatile("cp.async.bulk.wait_group 0;" ::: "memory");')
s = s[:begin.end()] + state + body + s[end.start():]

# Variables read at the program's end must be visible there: the Q
# coordinates are defined in the loop body before the Q issue, so they are.
n = 0


def consumer(m):
    global n
    n += 1
    return f'po_consumer_store<{m.group(1)}, {m.group(2)}, {m.group(3)}>({m.group(4)});'


s = re.sub(r'faopt::tma::store_tile_in_stage<(\d+), (\d+), (\d+)>\(([^;]*)\);', consumer, s)
if n != 1:
    sys.exit(f"producer_stores_o.py: {n} staged stores, expected 1")

helpers = f'''
// The copy thread's side: where `now`, stage `stage`'s V tile holds the O of
// the program at (b, h, row) (its fill `round`); wait until the consumers
// have released it (they wrote O, then arrived), store it, and wait until
// the store has read it; `pending` is cleared.
template <int PIPE>
static __device__ __forceinline__ void po_store(bool &pending, bool now, int64_t stage,
                                                int64_t round, int64_t b, int64_t h,
                                                int64_t row) {{
  if (!now)
    return;
  faopt::tma::mbar_wait(faopt::tma::empty_bar<PIPE>(2, stage), (faopt_u32)(round & 1));
  faopt::SmemTile<faopt::{T}, {R}, {C}> tile =
      faopt::smem<faopt::{T}, {R}, {C}>({VBASE} + stage * {VSTRIDE});
  faopt::tma::issue_output_store<PIPE>(tile, b, h, row);
  asm volatile("cp.async.bulk.wait_group.read 0;" ::: "memory");
  pending = false;
}}
// The consumers' side: O into the V stage they still hold, visible to the
// TMA unit, then the stage released by each warp (the copy thread stores it).
template <int PIPE, int THREADS, int SOURCE, typename T, int M, int N, int W>
static __device__ __forceinline__ void po_consumer_store(
    const faopt::OutTile<T, M, N, W> &o, const faopt::Tensor<T, 4> &dst, faopt_i64 b,
    faopt_i64 h, faopt_i64 row0, faopt_i64 bound, faopt::SmemTile<T, M, N> stage,
    faopt_i64 stage_index, bool held) {{
  if (!held) {{
    faopt::store_fragments(o, dst, b, h, row0, bound);
    return;
  }}
  faopt::body_barrier<THREADS>();
  faopt::stage_output(o, stage);
  asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
  __syncwarp();
  if (faopt::lane_id() == 0)
    faopt::tma::mbar_arrive(faopt::tma::empty_bar<PIPE>(SOURCE, stage_index));
}}
'''
k = s.index('extern "C" __global__')
s = s[:k] + helpers + s[k:]
open(out, 'w').write(s)
print(f"{src}: the copy thread stores O (pipe {pipe}, V at {VBASE} + stage * {VSTRIDE})")
