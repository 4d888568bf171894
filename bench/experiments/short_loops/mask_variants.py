#!/usr/bin/env python3
"""Session 15 probe: what a masked kv-block costs in the persistent window
kernel (gen_window_pu.cu, attn-persistent-programs). Writes
  gen_window_pu_m1.cu: the masked blocks' score function returns the score
    unmasked (an upper bound on what cheaper masking can gain; its O is
    wrong, and timeline.cu says so);
  gen_window_pu_m2.cu: the masked blocks use map_window (timeline.cu), the
    window as two per-row column bounds made relative to the thread's first
    column once per row, so each element costs two compares against a
    constant and a select (its O must equal the plain kernel's);
  gen_window_pu_m3.cu: map_window on every kv-block, no branch between
    full and masked blocks;
  gen_window_pu_m4.cu: the generated masked score function on every
    kv-block, no branch;
  gen_window_pu_m5.cu: the branch taken once per kv iteration around the
    whole iteration (two copies of it, one per kind of block) instead of
    around the score map in the middle of it;
  gen_window_pu_m6.cu: m5 with map_window in the masked copy.
Usage: mask_variants.py gen_window_pu.cu"""
import re
import sys

src = open(sys.argv[1]).read()
call = re.search(r"faopt::map_positions<window_pu_masked_logits>\((v\d+), v\d+, v\d+, (v\d+), (v\d+), (v\d+), (v\d+)\);", src)
if not call:
    sys.exit("mask_variants.py: the masked tile_map call was not found")
score, q0, kv0, window, sk = call.groups()
branch = re.search(r"\n( *)if \([^\n]*\) \{\n[^\n]*\n *(v\d+) = faopt::map_positions<window_pu_logits>[^\n]*\n"
                   r" *\} else \{\n[^\n]*\n *v\d+ = faopt::map_positions<window_pu_masked_logits>\(([^\n]*)\);\n *\}\n", src)
if not branch:
    sys.exit("mask_variants.py: the full / masked branch was not found")
indent, result, masked_args = branch.groups()
def unswitched(text, lean):
    """The kv iteration's `if (nonempty) {` block, copied once per kind."""
    lines = text.split("\n")
    at = next(i for i, l in enumerate(lines) if "map_positions<window_pu_masked_logits>" in l)
    head = max(i for i in range(at) if re.match(r" *if \(v\d+\) \{$", lines[i])
               and len(lines[i]) - len(lines[i].lstrip()) == len(lines[at]) - len(lines[at].lstrip()) - 4)
    ind = lines[head][:len(lines[head]) - len(lines[head].lstrip())]
    end = next(i for i in range(at, len(lines)) if lines[i] == ind + "} else {")
    cond = re.match(r" *if \((v\d+)\)", lines[head]).group(1)
    body = "\n".join(lines[head + 1:end])
    m = branch.group(0)
    full_cond = re.search(r"if \(([^\n]*)\) \{", m).group(1)
    full = body.replace(m, f"\n{indent}{result} = faopt::map_positions<window_pu_logits>("
                        + re.search(r"map_positions<window_pu_logits>\(([^\n]*)\);", m).group(1) + ");\n")
    masked = (f"mexp::map_window({score}, {q0}, {kv0}, {window}, {sk})" if lean
              else f"faopt::map_positions<window_pu_masked_logits>({masked_args})")
    part = body.replace(m, f"\n{indent}{result} = {masked};\n")
    assert full != body and part != body
    new = [f"{ind}if ({cond} && ({full_cond})) {{", full, f"{ind}}} else if ({cond}) {{", part]
    return "\n".join(lines[:head] + new + lines[end:])


for name in ("m1", "m2", "m3", "m4", "m5", "m6"):
    out = src
    if name == "m3":
        out = out.replace(branch.group(0), f"\n{indent}{result} = mexp::map_window({score}, {q0}, {kv0}, {window}, {sk});\n")
    elif name in ("m5", "m6"):
        out = unswitched(out, name == "m6")
    elif name == "m4":
        out = out.replace(branch.group(0), f"\n{indent}{result} = faopt::map_positions<window_pu_masked_logits>({masked_args});\n")
    out = out.replace("window_pu", f"window_pu_{name}")
    if name == "m1":
        out = re.sub(r"(window_pu_m1_masked_logits\([^)]*\) \{\n)(.*?)\n\}",
                     r"\1  return v1;\n}", out, count=1, flags=re.S)
    else:
        out = out.replace(call.group(0).replace("window_pu", "window_pu_m2"),
                          f"mexp::map_window({score}, {q0}, {kv0}, {window}, {sk});")
    open(f"gen_window_pu_{name}.cu", "w").write(out)
