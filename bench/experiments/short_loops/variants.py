#!/usr/bin/env python3
"""Hand-made variants of a generated (non-persistent) sm90a TMA kernel, for
timeline.cu, to measure two prologue changes before building them into the
compiler:
  e1  the copy thread prefetches into L2 the Q tile of the program
      %nsmid programs ahead (the one some SM starts about one program later);
  e2  the copy thread initialises the barriers and issues the first Q, K and
      V tiles before the CTA-wide barrier, instead of after it;
  e12 both;
  e3  the copy thread's first Q, K and V issues (and the index math before
      them) move ahead of the producer warpgroup's setmaxnreg, inside its
      branch.
  e4  unsigned 64-bit divisions (faopt::udiv, urem, ceil_div_u) take a
      32-bit path when both operands fit (fastdiv:: in timeline.cu);
  e34 e3 and e4;
  e5  the kernel body's index math in 32 bits (int32_t values and loop
      variables, i32:: helpers in timeline.cu; exact for the probe's sizes
      only, which timeline.cu checks bit for bit);
  e35 e3 and e5;
  e6  the softmax overlap's P carried between kv iterations as the bf16
      operand of P V (converted where it is produced) instead of f32
      (64 -> 32 registers at the loop edge); ptxas then spills less
      (chunked causal 16 -> 0 B, ALiBi causal 32 -> 0 B, nvcc builds);
  e36 e3 and e6.
Usage: variants.py in.cu name out_prefix (writes out_prefix_{e1,...,e36}.cu
with kernels name_e1, ...)."""
import re
import sys

src, name, prefix = sys.argv[1:]
lines = open(src).read().splitlines()

start_i = next(i for i, l in enumerate(lines) if "faopt::tma::start<" in l)
pipe = re.search(r"start<\d+, (\d+)>\((\w+), (\w+), (\w+)\)", lines[start_i])
PIPE, mq, mk, mv = pipe.groups()
block_i = next(i for i, l in enumerate(lines) if "faopt::block_index<0>()" in l)
prog = re.search(r"int64_t (v\d+) = faopt::block_index", lines[block_i]).group(1)
# The program index in 32 bits (attn-narrow-index-math), if the kernel has it.
narrow = re.search(r"int32_t (v\d+) = \(int32_t\) " + prog + ";", "\n".join(lines))
if narrow:
    prog = narrow.group(1)
# The last line before the roles split: the early block of e2 goes after it.
grid_i = next(i for i, l in enumerate(lines) if "attn.copy_producer:" in l) - 1
pb_i = next(i for i, l in enumerate(lines) if "producer_begin<" in l)
issue_is = [i for i, l in enumerate(lines) if "issue_tile<" in l][:3]
first_pf = next(i for i in range(pb_i, len(lines)) if "attn.tile_prefetch" in lines[i])
# The copy thread's index math before its first fill, and up to the third
# issue (the first V): all of it depends only on the program index.
prologue = [l for l in lines[pb_i + 1:issue_is[2] + 1]]
index_math = lines[pb_i + 1:first_pf]
q_issue = lines[issue_is[0]]
qm = re.search(r"issue_tile<\d+, 0>\((\w+), (\w+), (\w+), (\w+), (\w+), 0, 0\)", q_issue)
_, qb, qh, qrow, qbound = qm.groups()
total = re.search(r"udiv\(" + prog + r", (v\d+)\)", "\n".join(index_math))


def l2_prefetch():
    # Index math for program prog + %nsmid, renamed.
    defined = re.findall(r"int64_t (v\d+) =", "\n".join(index_math))
    body = []
    for l in index_math:
        for v in defined:
            l = re.sub(r"\b" + v + r"\b", v.replace("v", "n"), l)
        l = re.sub(r"\b" + prog + r"\b", "pn", l)
        body.append(l)
    b, h, row = (re.sub(r"\bv(\d+)\b", lambda m: "n" + m.group(1)
                        if "v" + m.group(1) in defined else m.group(0), x)
                 for x in (qb, qh, qrow))
    # The number of programs: the grid's extent (gridDim.x).
    return ["    {", "      unsigned nsm;",
            '      asm volatile("mov.u32 %0, %%nsmid;" : "=r"(nsm));',
            f"      int64_t pn = {prog} + nsm;",
            "      if (pn < (int64_t)gridDim.x) {"] + ["    " + l for l in body] + [
            f"        const faopt::TmaMap *m = &{mq};",
            "        for (int s = 0; s < 2; ++s)",
            '          asm volatile("cp.async.bulk.prefetch.tensor.4d.L2.global.tile [%0, {%1, %2, %3, %4}];"'
            f' :: "l"(m), "r"(64 * s), "r"((int)({row} < {qbound} ? {row} : 0)), "r"((int){h}), "r"((int){b}) : "memory");',
            "      }", "    }"]


def carry_p_in_bf16(text):
    """e6: the overlap's loop-carried P becomes the bf16 A operand of P V."""
    pt = "decltype(faopt::to_operand_a<faopt::bf16>(faopt::Acc<128, 128, 8>{}))"
    m = re.search(r"auto (v\d+) = faopt::to_operand_a<faopt::bf16>\((v\d+)\);", text)
    pin, pvar = m.group(1), m.group(2)
    carried = re.search(r"faopt::Acc<128, 128, 8> " + pvar + r" = (v\d+);", text).group(1)
    res = re.search(r"faopt::Acc<128, 128, 8> (v\d+) = (v\d+);\n(?:.*\n){0,8}?\s+"
                    + carried + r" = \1;", text)
    outer, branch = res.group(1), res.group(2)
    after = text[text.index(carried + " = " + outer):]
    final = re.search(r"faopt::Acc<128, 128, 8> (v\d+) = " + carried + r";", after).group(1)
    for v in (carried, pvar, branch, outer, final):
        text = re.sub(r"faopt::Acc<128, 128, 8> " + v + r"\b", pt + " " + v, text)
    text = re.sub(r"(\s)" + carried + r" = (v\d+);",
                  lambda m: m.group(1) + carried + " = faopt::to_operand_a<faopt::bf16>("
                  + m.group(2) + ");", text, count=1)
    newp = re.search(r"(\s+)" + branch + r" = (v\d+);", text)
    text = text.replace(newp.group(0), newp.group(1) + branch +
                        " = faopt::to_operand_a<faopt::bf16>(" + newp.group(2) + ");", 1)
    text = text.replace(f"auto {pin} = faopt::to_operand_a<faopt::bf16>({pvar});",
                        f"auto {pin} = {pvar};")
    fin = re.search(r"auto (v\d+) = faopt::to_operand_a<faopt::bf16>\(" + final + r"\);", text)
    return text.replace(fin.group(0), f"auto {fin.group(1)} = {final};")


def variant(e1, e2, e3=False, e4=False, e5=False, e6=False):
    out = []
    for i, l in enumerate(lines):
        if e3 and pb_i <= i <= issue_is[2]:
            if i == pb_i:
                for m in lines[pb_i + 1:issue_is[2] + 1]:
                    if "issue_tile<" in m:
                        out.append("    if (threadIdx.x == 256)")
                    out.append(m)
                out.append(l)
            continue
        if e2 and i == start_i:
            continue  # moved after the grid index
        if e2 and i in issue_is:
            continue  # issued before the barrier
        out.append(l)
        if e2 and i == grid_i:
            out += ["  if (threadIdx.x == 256) {",
                    f"    faopt::tma::Pipe &p = faopt::tma::pipe<{PIPE}>();",
                    "    for (int s = 0; s < faopt::tma::kSources; ++s)",
                    "      for (int t = 0; t < faopt::tma::kStages; ++t) {",
                    "        faopt::tma::mbar_init(faopt::tma::shared_addr(&p.full[s][t]), 1);",
                    "        faopt::tma::mbar_init(faopt::tma::shared_addr(&p.empty[s][t]), 8);",
                    "      }",
                    f"    p.maps[0] = &{mq};", f"    p.maps[1] = &{mk};", f"    p.maps[2] = &{mv};",
                    '    asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");']
            out += ["  " + l for l in prologue]
            out += ["  }", "  __syncthreads();"]
        if e1 and i == first_pf - 1:
            out += l2_prefetch()
    text = "\n".join(out) + "\n"
    if e4:
        text = re.sub(r"faopt::(udiv|urem|ceil_div_u)\(", r"fastdiv::\1(", text)
    if e5:
        head, sep, body = text.partition("__global__")
        sig, brace, body = body.partition("{")
        head, sep = head + sep + sig, brace
        body = re.sub(r"\bint64_t ([vij]\d+)", r"int32_t \1", body)
        body = re.sub(r"faopt::(udiv|urem|ceil_div_u|imin|imax|floor_div|ult)\(",
                      r"i32::\1(", body)
        body = body.replace("faopt::block_index<0>()", "(int32_t)blockIdx.x")
        body = re.sub(r"faopt::dim<(\d)>\((v\d+)\)", r"(int32_t)faopt::dim<\1>(\2)", body)
        text = head + sep + body
    if e6:
        text = carry_p_in_bf16(text)
    suffix = ("e36" if e3 and e6 else "e6" if e6 else
              "e35" if e3 and e5 else "e5" if e5 else
              "e34" if e3 and e4 else "e3" if e3 else "e4" if e4 else
              "e12" if e1 and e2 else "e1" if e1 else "e2")
    text = re.sub(r"\b" + name + r"(?=\b|_)", f"{name}_{suffix}", text)
    open(f"{prefix}_{suffix}.cu", "w").write(text)


variant(True, False)
variant(False, True)
variant(True, True)
variant(False, False, True)
variant(False, False, False, True)
variant(False, False, True, True)
variant(False, False, False, False, True)
variant(False, False, True, False, True)
variant(False, False, False, False, False, True)
variant(False, False, True, False, False, True)
