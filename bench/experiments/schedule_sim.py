#!/usr/bin/env python3
"""How evenly a persistent kernel's workers are loaded, per head-group size.

  bench/experiments/schedule_sim.py [--workers 132] [--overhead 2.5]

attn-schedule-grid orders the (q-block, head) programs in head groups of g
heads, q-blocks last (longest under a causal mask) to first within a group,
the group's heads fastest. A persistent kernel then either gives worker w
programs w, 2W-1-w, 2W+w, ... (the static snake of attn-persistent-programs)
or hands each program to the first free worker (hand-out, list kernels).
This model gives a causal program of q-block qb a cost of qb + 1 kv-blocks
plus `overhead` blocks for its transition (docs/performance.md item 63:
~7k cycles a program against ~2.8k a block) and prints the busiest worker's
load over the average (1.000 = perfectly even) for:
  one group of every head (the floor of item 6 below 2k),
  groups that fit half the L2 (d = 128, bf16),
  groups of 2W / gcd(2W, nq) heads: whole row pairs of the snake (item 83).
Shapes: batch * seqlen = 16k, 16 heads (faopt-bench's forward grid).

--lengths chunk:C gives q-block qb a cost of qb mod C + 1 blocks instead
(a chunked mask of C q-blocks, docs/performance.md items 99-100: lengths
that cycle every chunk), window:B one of min(qb, B) + 1 (a band of B
blocks), and adds a column for groups of one head (g = 1, what
attn-schedule-grid gives chunked masks since session 40).
"""
import argparse
import heapq
import math


def order(nq, nbh, g):
    """attn-schedule-grid's program order: (q-block, head) pairs."""
    programs = []
    for first in range(0, nbh, g):
        size = min(g, nbh - first)
        for qi in range(nq):
            for hi in range(size):
                programs.append((nq - 1 - qi, first + hi))
    return programs


LENGTHS = "causal"


def blocks(qb):
    """kv-blocks of q-block qb under --lengths."""
    kind, _, arg = LENGTHS.partition(":")
    if kind == "chunk":
        return qb % int(arg) + 1
    if kind == "window":
        return min(qb, int(arg)) + 1
    return qb + 1


def cost(qb, overhead):
    return blocks(qb) + overhead


def snake(programs, workers, overhead):
    loads = [0.0] * workers
    for t in range(math.ceil(len(programs) / workers)):
        for w in range(workers):
            p = t * workers + (workers - 1 - w if t % 2 else w)
            if p < len(programs):
                loads[w] += cost(programs[p][0], overhead)
    return max(loads)


def hand_out(programs, workers, overhead):
    heap = [(0.0, w) for w in range(workers)]
    for qb, _ in programs:
        t, w = heapq.heappop(heap)
        heapq.heappush(heap, (t + cost(qb, overhead), w))
    return max(t for t, _ in heap)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workers", type=int, default=132)
    ap.add_argument("--overhead", type=float, default=2.5)
    ap.add_argument("--lengths", default="causal",
                    help="causal, chunk:C or window:B (q-blocks)")
    args = ap.parse_args()
    global LENGTHS
    LENGTHS = args.lengths
    if LENGTHS.partition(":")[0] not in ("causal", "chunk", "window") or (
            LENGTHS != "causal" and not LENGTHS.partition(":")[2].isdigit()):
        ap.error("--lengths: causal, chunk:C or window:B")
    W = args.workers
    print(f"{'seqlen':>6} {'nq':>4} {'heads':>5}  group: snake / hand-out "
          "(busiest worker over the average)")
    for seq in (512, 1024, 2048, 4096, 8192, 16384):
        nq, nbh = seq // 128, (16384 // seq) * 16
        fit = max(1, (25 * 2**20) // (seq * 512))  # half the L2, K + V rows
        aligned = 2 * W // math.gcd(2 * W, nq)
        cells = []
        groups = [("one", nbh), ("L2 fit", fit), ("aligned", aligned)]
        if LENGTHS != "causal":
            groups.append(("one head", 1))
        for name, g in groups:
            g = min(g, nbh)
            ps = order(nq, nbh, g)
            avg = sum(cost(qb, args.overhead) for qb, _ in ps) / W
            cells.append(f"{name} g={g}: {snake(ps, W, args.overhead) / avg:.3f}"
                         f" / {hand_out(ps, W, args.overhead) / avg:.3f}")
        print(f"{seq:>6} {nq:>4} {nbh:>5}  " + "; ".join(cells))


if __name__ == "__main__":
    main()
