#!/usr/bin/env python3
"""Puts faopt-bench's forward numbers beside the peers' from the same run.

  compare.py faopt.csv peers.csv [--markdown]

faopt.csv comes from `faopt-bench --csv`, peers.csv from the peers script
(`peers.py --csv`, columns impl,mode,d,causal,n,...,tflops). Prints TFLOP/s
per (d, causal, seqlen) and faopt's ratio to each peer.
"""
import argparse
import csv
import math

from table import print_table


def load(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("faopt")
    ap.add_argument("peers")
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()

    ours = {}
    for r in load(args.faopt):
        if r["what"] == "fwd":
            ours[(int(r["d"]), int(r["causal"]), int(r["seqlen"]))] = float(r["tflops"])
    peers = {}
    names = []
    for r in load(args.peers):
        if r.get("mode", "fwd") != "fwd":
            continue
        try:
            tf = float(r["tflops"])
        except ValueError:
            continue
        if math.isnan(tf):
            continue
        key = (int(r["d"]), int(r["causal"]), int(r["n"]))
        peers.setdefault(key, {})[r["impl"]] = tf
        if r["impl"] not in names:
            names.append(r["impl"])

    header = ["d", "causal", "seqlen", "faopt"] + names + ["faopt/" + n for n in names]
    rows = []
    for key in sorted(set(ours) | set(peers)):
        if key not in ours:
            continue
        p = peers.get(key, {})
        row = [str(key[0]), "yes" if key[1] else "no", str(key[2]), f"{ours[key]:.1f}"]
        row += [f"{p[n]:.1f}" if n in p else "-" for n in names]
        row += [f"{ours[key] / p[n]:.2f}" if n in p and p[n] > 0 else "-" for n in names]
        rows.append(row)
    print_table(header, rows, args.markdown)

if __name__ == "__main__":
    main()
