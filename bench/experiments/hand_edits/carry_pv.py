#!/usr/bin/env python3
"""Hand experiment (session 33): a program's last P V carried into the next.

On a persistent fixed-schedule sm90a kernel with two Q tiles
(`faopt-compile SPEC --target sm90a --q-stages 2 --emit cuda`), the
consumers no longer run the last product O += P V of a program by itself
(`mma_ab`, waited at once) before the epilogue. They carry O, P, the row
maxima and sums, and the V stage into the next program, whose first
iteration issues S = Q' K'_0 and the carried P V together (the steady
iteration's shape), runs its softmax while P V runs, and only then writes
the carried program's O and lse (finalize, TMA store) and starts its own O
at zero. The fill of one program and the drain of the other overlap.

A program with no active tile flushes a carry it was handed; the last
program's carry is flushed after the program loop. Exact (no reordering
of any sum). usage: carry_pv.py GEN.cu OUT.cu  (README.md beside this file)
"""
import re
import sys

from kv_loop import consumers, kv_loop

src, out = sys.argv[1:3]
s = open(src).read()


def one(pattern, text, what):
    found = list(re.finditer(pattern, text))
    if len(found) != 1:
        sys.exit(f"carry_pv.py: {what}: {len(found)} matches, expected 1")
    return found[0]


head, body = consumers(s)

# The kv loop's state: m, l, O, P, kv, V stage, V fill, next, pending.
KV_INIT = (r'\n(\s*)(v\d+) = v\d+;\n\s*(v\d+) = v\d+;\n\s*(v\d+) = v\d+;\n'
           r'\s*(v\d+) = faopt::OperandA<[^\n]*\{\};\n\s*(v\d+) = 0;\n'
           r'\s*(v\d+) = 0;\n\s*(v\d+) = 0;\n\s*(v\d+) = false;\n'
           r'\s*(v\d+) = false;\n')
init = one(KV_INIT, body, 'kv loop init')
i2 = init.group(1)
O, P, VS, VF, PEND = (init.group(k) for k in (4, 5, 7, 8, 10))
# O, P, the V stage and fill and the pending flag live across programs (one
# variable each, so ptxas keeps them in the registers they are in): their
# declarations move before the program loop, and a program resets them only
# when nothing is carried into it.
carried_decls = []
for name in (O, P, VS, VF, PEND):
    d = one(r'\n\s*([^\n=]*) ' + name + r';\n', body, 'declaration of ' + name)
    carried_decls.append(f"{d.group(1)} {name};")
    body = body[:d.start()] + '\n' + body[d.end():]
init = one(KV_INIT, body, 'kv loop init')
lines = body[init.start():init.end()].split('\n')
# lines[0] is empty; 1 m, 2 l, 3 O, 4 P, 5 kv, 6 stage, 7 fill, 8 next, 9 pending
reset = [lines[k].strip() for k in (3, 4, 6, 7, 9)]
kept = [lines[k] for k in (1, 2, 5, 8)]
take = (f"{i2}// carry_pv: a carried P V is run by the first active iteration\n"
        f"{i2}bool cyNow = cy;\n"
        f"{i2}if (!cy) {{ " + ' '.join(reset) + " }\n"
        f"{i2}cy = false;\n")
body = (body[:init.start()] + '\n' + '\n'.join(kept) + '\n' + take +
        body[init.end():])

# The program loop's counter and its first line.
prog = one(r'\n(\s*)int64_t (v\d+);\n\s*\2 = 0;\n(\s*)for \(int64_t (i\d+) = 0;',
           body, 'program loop')
ind = prog.group(1)
decl = (
    f"\n{ind}// carry_pv: the previous program's last P V, not yet run\n"
    f"{ind}bool cy = false;\n"
    + ''.join(f"{ind}{d}\n" for d in carried_decls) +
    f"{ind}faopt::Rows<128, 8> cyM, cyL;\n"
    f"{ind}int64_t cyB = 0, cyH = 0, cyQ0 = 0;")
body = body[:prog.start()] + decl + body[prog.start():]

# The epilogue: the last P V, finalize, O store, lse store.
epi = one(r'\n(\s*)faopt::Acc<128, 128, 8> (v\d+);\n\s*if \((v\d+)\) \{\n'
          r'(?:[^\n]*\n){2}\s*auto (v\d+) = faopt::tma::wait_tile<(\d+), 2>'
          r'\(v\d+, (v\d+), (v\d+)\);\n[^\n]*\n'
          r'\s*faopt::Acc<128, 128, 8> v\d+ = faopt::mma_ab<8, false>\((v\d+), '
          r'v\d+, (v\d+)\);\n(?:[^\n]*\n){6}'
          r'\s*faopt::Acc<128, 128, 8> v\d+ = v\d+;\n(?:[^\n]*\n){2}'
          r'\s*faopt::Rows<128, 8> v\d+ = faopt::rows_quad_sum\((v\d+)\);\n'
          r'\s*auto v\d+ = faopt::finalize_output<faopt::bf16>\((v\d+), v\d+, '
          r'v\d+\);\n(?:[^\n]*\n){2}'
          r'\s*faopt::SmemTile<faopt::bf16, 128, 128> v\d+ = '
          r'faopt::smem<faopt::bf16, 128, 128>\((\d+)\);\n'
          r'\s*faopt::tma::store_tile<\d+, 256>\(v\d+, (v\d+), (v\d+), (v\d+), '
          r'v\d+\);\n[^\n]*\n'
          r'\s*faopt::store_rows\(v\d+, (v\d+), v\d+, v\d+, v\d+, (v\d+)\);\n',
          body, 'epilogue')
e = epi.group(1)
(pend, pipe, vstage, vfill, pv_p, pv_o, lsum, mrow, stage_off, b, h, q0,
 lse_t, seqlen) = (epi.group(k) for k in (3, 5, 6, 7, 8, 9, 10, 11, 12, 13,
                                          14, 15, 16, 17))
helper = f'''
namespace carry_pv {{
// The carried (or a finished) program's output: o = acc / sum, lse.
static __device__ __forceinline__ void write_program(
    const faopt::Rows<128, 8> &m, const faopt::Rows<128, 8> &lanes,
    const faopt::Acc<128, 128, 8> &acc, const faopt::Tensor<float, 3> &lse,
    int64_t b, int64_t h, int64_t q0, int64_t seqlen) {{
  faopt::Rows<128, 8> l = faopt::rows_quad_sum(lanes);
  auto o = faopt::finalize_output<faopt::bf16>(m, l, acc);
  faopt::Rows<128, 8> r = faopt::finalize_lse(m, l, 0.127517432f);
  faopt::tma::store_tile<{pipe}, 256>(o, b, h, q0,
      faopt::smem<faopt::bf16, 128, 128>({stage_off}));
  faopt::store_rows(r, lse, b, h, q0, seqlen);
}}
// The carried P V run by itself (no active tile took it), then written.
static __device__ __forceinline__ void flush(
    const faopt::OperandA<faopt::bf16, 128, 128, 8> &p,
    const faopt::Acc<128, 128, 8> &acc, int64_t stage, int64_t fill,
    const faopt::Rows<128, 8> &m, const faopt::Rows<128, 8> &lanes,
    const faopt::Tensor<float, 3> &lse, int64_t b, int64_t h, int64_t q0,
    int64_t seqlen) {{
  const int64_t s = faopt::warp_uniform(stage);
  auto v = faopt::tma::wait_tile<{pipe}, 2>(
      faopt::smem<faopt::bf16, 128, 128>(131072 + s * 32768), s, fill);
  faopt::Acc<128, 128, 8> o = faopt::mma_ab<8, false>(p, v, acc);
  faopt::tma::release<{pipe}, 2>(s, fill);
  write_program(m, lanes, o, lse, b, h, q0, seqlen);
}}
}} // namespace carry_pv
'''
if '131072 + ' + vstage not in body[epi.start():epi.end()]:
    sys.exit('carry_pv.py: V stages are not at 131072 (two Q tiles expected: '
             '--q-stages 2)')
tail = (
    f"\n{e}// carry_pv: carry a pending P V into the next program\n"
    f"{e}if (cyNow) {{\n"
    f"{e}  carry_pv::flush({pv_p}, {pv_o}, {vstage}, {vfill}, cyM, cyL, "
    f"{lse_t}, cyB, cyH, cyQ0, {seqlen});\n"
    f"{e}  carry_pv::write_program({mrow}, {lsum}, "
    f"faopt::acc_fill<128, 128, 8>(0.0f), {lse_t}, {b}, {h}, {q0}, {seqlen});\n"
    f"{e}}} else if ({pend}) {{\n"
    f"{e}  cy = true;\n"
    f"{e}  cyM = {mrow}; cyL = {lsum}; cyB = {b}; cyH = {h}; cyQ0 = {q0};\n"
    f"{e}}} else {{\n"
    f"{e}  carry_pv::write_program({mrow}, {lsum}, {pv_o}, {lse_t}, {b}, {h}, "
    f"{q0}, {seqlen});\n"
    f"{e}}}\n")
body = body[:epi.start()] + tail + body[epi.end():]

# After the program loop: the last carry.
fin = one(r'\n(\s*)int64_t v\d+ = v\d+;\n\s*\}\n\s*faopt::tma::finish<',
          body, 'program loop end')
f_ind = fin.group(1)
at = body.index('\n', fin.start() + 1)
body = (body[:at] + f"\n{f_ind}if (cy)\n"
        f"{f_ind}  carry_pv::flush({P}, {O}, {VS}, {VF}, cyM, cyL, "
        f"{lse_t}, cyB, cyH, cyQ0, {seqlen});" + body[at:])

# Each active iteration's O rescale: in the carried iteration, the carried
# program's O is complete here; write it and start this program's at zero.
scale = re.compile(r'\n(\s*)faopt::Acc<128, 128, 8> (v\d+) = '
                   r'faopt::scale_rows\((v\d+), (v\d+)\);\n')
count = 0


def carried(m):
    # The rescale itself stays on every path (a factor of zero gives the
    # new program's O = 0): two paths producing O would cost the hot one a
    # register move per accumulator element at the merge (measured: -12%).
    global count
    count += 1
    i, res, acc, alpha = m.groups()
    return (f"\n{i}faopt::Rows<128, 8> {res}_alpha = {alpha};\n"
            f"{i}if (cyNow) {{\n"
            f"{i}  carry_pv::write_program(cyM, cyL, {acc}, {lse_t}, cyB, cyH, "
            f"cyQ0, {seqlen});\n"
            f"{i}  {res}_alpha = faopt::rows_fill<128, 8>(0.0f);\n"
            f"{i}  cyNow = false;\n"
            f"{i}}}\n"
            f"{i}faopt::Acc<128, 128, 8> {res} = faopt::scale_rows({acc}, "
            f"{res}_alpha);\n")


body = scale.sub(carried, body)
if count not in (1, 2):
    sys.exit(f'carry_pv.py: {count} O rescales, expected 1 or 2 (full and masked)')
# The carried iteration peeled off the kv loop: the O store (a branch on
# thread 0, two barriers) inside the loop made ptxas move the wgmma
# descriptors out of the uniform registers for the whole loop (an R2UR per
# wgmma), and an out-of-line store made it spill O every iteration. The loop
# keeps only a trap for a carry its first tile did not take (the kernels
# here start each kv loop at an active tile).
loop, inner, k = kv_loop(body, 'carry_pv.py')
lind, jv, lo, hi = loop.groups()
cold = inner
hot = re.sub(r'\n(\s*)if \(cyNow\) \{\n\s*carry_pv::write_program[^\n]*\n'
             r'\s*(v\d+_alpha) = faopt::rows_fill<128, 8>\(0\.0f\);\n'
             r'\s*cyNow = false;\n\s*\}\n',
             lambda m: f"\n{m.group(1)}if (cyNow) __trap();\n", inner)
peeled = (f"\n{lind}int64_t {jv}_first = {lo};\n"
          f"{lind}if (cyNow && {lo} < {hi}) {{\n"
          f"{lind}  int64_t {jv} = {lo};\n{cold}"
          f"{lind}  {jv}_first = {lo} + 1;\n"
          f"{lind}}}\n"
          f"{lind}for (int64_t {jv} = {jv}_first; {jv} < ((int64_t) {hi}); "
          f"{jv} += 1) {{\n{hot}}}")
body = body[:loop.start()] + peeled + body[k:]

# K and V stage indices broadcast from lane 0 (as the generated code does for
# two Q tiles' stage, performance.md item 59): with the carry, ptxas no
# longer kept the tiles' descriptors in uniform registers by itself (an
# R2UR per wgmma, and -10% to -15% in the first measurement).
kv_wait = re.compile(r'\n(\s*)faopt::SmemTile<faopt::bf16, 128, 128> (v\d+) = '
                     r'faopt::smem<faopt::bf16, 128, 128>\((\d+) \+ (v\d+) \* '
                     r'32768\);\n\s*auto v\d+ = faopt::tma::wait_tile<\d+, '
                     r'[12]>\(\2, \4, v\d+\);')
uniform = 0


def broadcast(m):
    global uniform
    uniform += 1
    ind, tile, off, stage = m.groups()
    u = f"{stage}_u{uniform}"
    return (f"\n{ind}int64_t {u} = faopt::warp_uniform({stage});" +
            m.group(0).replace(f"({off} + {stage} * 32768)",
                               f"({off} + {u} * 32768)")
                      .replace(f"({tile}, {stage}, ", f"({tile}, {u}, "))


body = kv_wait.sub(broadcast, body)
s = head + body
kernel = s.index('extern "C" __global__')
s = s[:kernel] + helper.lstrip('\n') + s[kernel:]
open(out, 'w').write(s)
