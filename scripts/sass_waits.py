#!/usr/bin/env python3
"""Where ptxas put each wgmma wait of a kernel, from nvdisasm's SASS.

    scripts/sass_waits.py KERNEL.sass [...]

For every `WARPGROUP.DEPBAR` (a wgmma wait) it prints how many of the
softmax's exponentials (`MUFU.EX2` from the first row-maximum instruction,
`FMNMX`, after the last HGMMA) come before the wait and how many after it,
up to the next HGMMA, and how many products the wait lets run:
"0/66(<=0)" is a wait for everything before the softmax of a kv-block,
"51/15(<=0)" one after most of it. Exponentials before the row maximum (a
score modifier's, ALiBi's exp2) are not counted. In the overlapped kv
iteration (attn-overlap-softmax) the wait after S's is the one for the
previous block's P V; docs/performance.md item 40 reads these.

Each line ends with how much of the kernel's integer work ptxas kept on
the uniform datapath (instructions whose opcode starts with U, against
all of them), the register-to-uniform moves (R2UR) and the convergence
barriers (BSSY): 32-bit loop counters moved the causal kernel from 281 to
221 UIADD3, 74 to 121 R2UR and 6 to 16 BSSY and cost it 7% (item 54), so
compare these before timing a change to loop or index code.
"""
import re
import sys


def waits(path):
    ops = []
    for line in open(path):
        m = re.search(r"/\*[0-9a-f]{4,}\*/\s+(.*?);", line)
        if not m:
            continue
        words = m.group(1).split()
        if not words:
            continue
        if words[0].startswith("@") and len(words) > 1:
            words = words[1:]
        # A wait keeps its pending count: "WARPGROUP.DEPBAR.LE gsb0, 0x1" -> "...:1".
        pending = re.search(r"gsb0,\s*0x([0-9a-f]+)", m.group(1))
        ops.append(words[0] + (f":{int(pending.group(1), 16)}" if pending else ""))
    hgmma = [i for i, op in enumerate(ops) if op.startswith("HGMMA")]
    out = []
    for i, op in enumerate(ops):
        if not op.startswith("WARPGROUP.DEPBAR"):
            continue
        before = max([h for h in hgmma if h < i], default=-1)
        after = min([h for h in hgmma if h > i], default=len(ops))
        # The softmax starts at the first row-maximum instruction after the
        # products (before the wait or after it).
        start = next((k for k in range(before + 1, after)
                      if ops[k].startswith("FMNMX")), after)
        ex2 = lambda a, b: sum(1 for o in ops[max(a, start):b] if o.startswith("MUFU.EX2"))
        pending = op.split(":")[1] if ":" in op else "?"
        out.append(f"{ex2(before + 1, i)}/{ex2(i, after)}(<={pending})")
    uniform = sum(1 for op in ops if op.startswith("U"))
    census = (f"uniform {100 * uniform / max(len(ops), 1):.0f}% of {len(ops)}, "
              f"R2UR {sum(1 for op in ops if op.startswith('R2UR'))}, "
              f"BSSY {sum(1 for op in ops if op.startswith('BSSY'))}")
    return len(hgmma), out, census


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for path in sys.argv[1:]:
        n, w, census = waits(path)
        print(f"{path}: {n} HGMMA; waits (MUFU.EX2 before/after): {' '.join(w)}; {census}")
