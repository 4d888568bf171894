#!/usr/bin/env python3
"""Inserts timeline probes into a generated sm90a TMA kernel (faopt-compile
--emit cuda, #includes removed). A probe records clock64() of consumer
thread 0 (timeline.cu keeps the records):
  0 kernel entry       1 consumer start (after setmaxnreg)
  2 Q landed           3 first K landed (kv iteration 0)
  4 kv loop done       5 last P V done (before finalize)
  6 O stored           7 lse stored (before finish)
  11 after the start barrier (thread 0)
  12 producer's copy thread starts  13 Q issued  14 first V issued
With --persistent (attn-persistent-programs kernels) probes 2-6 and an
extra probe 7 at the end of each program are recorded per program,
FAOPT_PROBE_P(k, iteration of the worker's program loop); the copy thread
records per program 0 (it reaches the Q copy) and 1 (the Q copy issued,
after waiting for the consumers to release Q), FAOPT_PROBE_PC(k, its
program loop's iteration).
Usage: instrument.py [--persistent] in.cu out.cu"""
import re
import sys

args = sys.argv[1:]
persistent = args[0] == "--persistent"
if persistent:
    args = args[1:]
src = open(args[0]).read().splitlines()
out = []
state = "producer"
loops = []  # [var, lower bound, brace depth] of the consumer's open loops
kv = None   # the kv loop's var and lower bound
prog = None  # the program loop's var (persistent)
copy_prog = None  # the copy thread's program loop var (persistent)
done = set()


def probe(k):
    done.add(k)
    if persistent and 2 <= k <= 6:
        return f"  FAOPT_PROBE_P({k}, {prog});"
    return f"  FAOPT_PROBE({k});"


for line in src:
    if persistent and state == "producer" and copy_prog is None:
        m = re.search(r"for \(int64_t (i\d+) = ", line)
        if m:
            copy_prog = m.group(1)
    q_issue = (persistent and state == "producer" and copy_prog is not None
               and re.search(r"issue_tile<\d+, 0>", line))
    if q_issue:
        out.append(f"  FAOPT_PROBE_PC(0, {copy_prog});")
    if "faopt::tma::start<" in line:
        out.append(probe(0))
    if "faopt::tma::finish<" in line:
        out.append(probe(7))
    if state == "consumer" and "attn.online_finalize" in line and 5 not in done:
        out.append(probe(5))
    out.append(line)
    if q_issue:
        out.append(f"  FAOPT_PROBE_PC(1, {copy_prog});")
    if "faopt::tma::start<" in line:
        out.append("  FAOPT_PROBE(11);")
    if "producer_begin<" in line:
        out.append("  FAOPT_PROBE_ANY(12);")
    if state == "producer" and "issue_tile<" in line:
        issued = sum(1 for l in out if "issue_tile<" in l)
        if issued == 1:
            out.append("  FAOPT_PROBE_ANY(13);")
        elif issued == 3:
            out.append("  FAOPT_PROBE_ANY(14);")
    if "consumer_begin<" in line:
        state = "consumer"
        out.append(probe(1))
        continue
    if state != "consumer":
        continue
    if 2 not in done and re.search(r"wait_tile<\d+, 0>", line):
        out.append(probe(2))
    m = re.search(r"for \(int64_t ([ij]\d+) = ([^;]+);", line)
    if m:
        if persistent and prog is None:
            prog = m.group(1)
            loops.append(["prog", 0])
        elif kv is None:
            kv = (m.group(1), m.group(2))
            loops.append(["kv", 0])
    elif kv is not None and 3 not in done and re.search(r"wait_tile<\d+, 1>", line):
        out.append(f"  if ({kv[0]} == {kv[1]}) " + probe(3).strip())
    if loops:
        for l in loops:
            l[1] += line.count("{") - line.count("}")
        closed = [l for l in loops if l[1] == 0 and "}" in line]
        for l in closed:
            if l[0] == "kv":
                out.append(probe(4))
            else:
                # The end of the program loop's body: before its brace.
                out.insert(len(out) - 1, f"  FAOPT_PROBE_P(7, {prog});")
            loops.remove(l)
    if "faopt::store_tile<" in line or "faopt::tma::store_tile<" in line:
        out.append(probe(6))
missing = set(range(8)) - done
if missing:
    sys.exit(f"instrument.py: no place found for probes {sorted(missing)}")
open(args[1], "w").write("\n".join(out) + "\n")
