#!/usr/bin/env python3
"""Puts faopt-bench's mask variants beside FlexAttention's from the same run.

  compare_variants.py faopt.csv peers_variants.txt [--markdown]

faopt.csv comes from `faopt-bench --only variants --csv`, peers_variants.txt
is the output of ../shared/bench/peers_variants.py (lines
variant,mode,impl,density,ms,tflops_effective). Both count TFLOP/s on the
attended pairs only. Prints, per variant, our effective rate, each peer's,
our ratio to each peer, and our rate relative to our own dense rate two
ways (the issue's "mask machinery costs nothing" check: >= 0.9 at equal
work): against the dense variant (8k x 8k, 64 kv-blocks a program), and,
where faopt-bench timed it (rows "equal_work_dense:X", since session 40),
against dense at equal work: the same 8k queries with as many keys as X
attends per query on average, rounded to 128 (their seqlen column), so the
two do the same matmul work in programs of about the same length.
A variant named "X+suffix" (ours only: X timed another way, e.g. with its
kv-block lists built once) is compared with the peers' X.
Where faopt.csv has a density column (faopt-bench since session 28), a
variant whose density differs from the peers' is named below the table:
the two then timed different masks (faopt-bench without --masks-from).
"""
import argparse
import csv
import math

from table import print_table


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("faopt")
    ap.add_argument("peers")
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()

    ours, our_density, equal_work = {}, {}, {}
    with open(args.faopt, newline="") as fh:
        for r in csv.DictReader(fh):
            if r["what"].startswith("equal_work_dense:"):
                name = r["what"][len("equal_work_dense:"):]
                equal_work[name] = (float(r["tflops"]), int(r["seqlen"]))
            if r["what"].startswith("variant:"):
                name = r["what"][len("variant:"):]
                ours[name] = float(r["tflops"])
                if r.get("density"):
                    our_density[name] = float(r["density"])
    peers, names, density = {}, [], {}
    with open(args.peers) as fh:
        for line in fh:
            parts = line.split("#")[0].strip().split(",")
            if len(parts) != 6 or parts[1] != "fwd":
                continue
            variant, _, impl, dens, _, tf = parts
            try:
                tf = float(tf)
                density[variant] = float(dens)
            except ValueError:
                continue
            if math.isnan(tf):
                continue
            peers.setdefault(variant, {})[impl] = tf
            if impl not in names:
                names.append(impl)

    dense = ours.get("dense")
    header = ["variant", "density", "faopt"] + names + \
        ["faopt/" + n for n in names] + ["faopt/own dense"]
    if equal_work:
        header += ["dense at equal work (keys)", "faopt/it"]
    rows = []
    for v in ours:
        base = v.split("+")[0]
        p = peers.get(base, {})
        dens = density.get(base, our_density.get(v, 1.0))
        row = [v, f"{dens:.3f}",
               f"{ours[v]:.1f}"]
        row += [f"{p[n]:.1f}" if n in p else "-" for n in names]
        row += [f"{ours[v] / p[n]:.2f}" if n in p and p[n] > 0 else "-" for n in names]
        row += [f"{ours[v] / dense:.2f}" if dense else "-"]
        if equal_work:
            eq = equal_work.get(v) or equal_work.get(base)
            row += [f"{eq[0]:.1f} ({eq[1]})", f"{ours[v] / eq[0]:.2f}"] \
                if eq and v != "dense" else ["-", "-"]
        rows.append(row)
    print_table(header, rows, args.markdown)
    # The peers print densities to 3 decimals.
    for v, dens in our_density.items():
        base = v.split("+")[0]
        if base in density and abs(dens - density[base]) > 0.0006:
            print(f"note: {v}: faopt's mask has density {dens:.4f}, the "
                  f"peers' {density[base]:.3f}: different masks")

if __name__ == "__main__":
    main()
