#!/usr/bin/env python3
"""How evenly 132 persistent workers share the benchmark's list-driven
programs (session 15). Program lengths come from faopt-bench's own inputs
(bench/faopt_bench.cpp: 8 documents from 7 LCG cuts, causal inside each;
a 25% random + diagonal block layout), n = 8k, b = 2, h = 16, 128 x 128
tiles, each program costing c0 + c1 * (its kv-blocks). Orders compared:
  snake:   attn-persistent-programs' static assignment over attn-schedule-
           grid's order (q-block descending, then batch and head);
  dynamic: the next free worker takes the next program in that order (a
           run-time counter; also what one CTA per program gets from the
           hardware);
  lpt:     dynamic over programs sorted longest first.
Prints the makespan of each against the ideal (total / workers).
Usage: balance_sim.py [c0_us ...]   (default 1.0 2.5 4.9; c1 = 1.45 us)"""
import bisect
import heapq
import sys

N, NB, B, H, W, C1 = 8192, 64, 2, 16, 132, 1.45


def lcg(x):
    return (x * 1664525 + 1013904223) & 0xFFFFFFFF


def document_lengths():
    x, cuts = 12345, []
    for _ in range(7):
        x = lcg(x)
        cuts.append(1 + x % (N - 1))
    cuts.sort()
    doc = [bisect.bisect_right(cuts, s) for s in range(N)]

    def length(qb):  # kv-blocks from the start of the first row's document
        first = doc[qb * 128]
        start = cuts[first - 1] if first > 0 else 0
        return (qb * 128 + 127) // 128 - start // 128 + 1
    return [length(qb) for qb in range(NB)]


def block_sparse_lengths():
    x, rows = 777, []
    for i in range(NB):
        row = 0
        for j in range(NB):
            x = lcg(x)
            row += 1 if i == j or (x >> 8) % 4 == 0 else 0
        rows.append(row)
    return rows


def makespan_dynamic(costs):
    free = [(0.0, w) for w in range(W)]
    for c in costs:
        t, w = heapq.heappop(free)
        heapq.heappush(free, (t + c, w))
    return max(t for t, _ in free)


def simulate(name, lengths, c0):
    costs = [c0 + C1 * lengths[qb] for qb in reversed(range(NB)) for _ in range(B * H)]
    ideal = sum(costs) / W
    load = [0.0] * W
    for t in range((len(costs) + W - 1) // W):
        for i in range(W):
            p = t * W + i
            if p < len(costs):
                load[i if t % 2 == 0 else W - 1 - i] += costs[p]
    rows = [("snake", max(load)), ("dynamic", makespan_dynamic(costs)),
            ("lpt", makespan_dynamic(sorted(costs, reverse=True)))]
    print(f"{name:13s} c0 {c0:3.1f} us: ideal {ideal:6.1f} us; " +
          ", ".join(f"{k} {v:6.1f} ({v / ideal:.3f})" for k, v in rows))


if __name__ == "__main__":
    for c0 in [float(a) for a in sys.argv[1:]] or [1.0, 2.5, 4.9]:
        simulate("documents", document_lengths(), c0)
        simulate("block-sparse", block_sparse_lengths(), c0)
