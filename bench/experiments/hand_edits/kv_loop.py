"""The consumers' kv loop of a generated sm90a TMA kernel, for the session-33
hand edits (carry_pv.py, peel_first.py, two_p_tiles.py)."""
import re
import sys

KV_LOOP = re.compile(r'\n(\s*)for \(int64_t (j\d+) = (v\d+|\d+); \2 < '
                     r'\(\(int64_t\) (v\d+)\); \2 \+= 1\) \{\n')


def consumers(source):
    """(head, body): the kernel up to its consumers' branch, and the rest."""
    at = source.index('consumer_begin')
    return source[:at], source[at:]


def kv_loop(body, tool):
    """The one kv loop in `body`: (match, inner, end), where match's groups
    are (indent, counter, start, bound), inner is the loop body without its
    braces and body[end:] follows the loop's closing brace. Exits with
    `tool`'s name unless there is exactly one."""
    loops = list(KV_LOOP.finditer(body))
    if len(loops) != 1:
        sys.exit(f'{tool}: {len(loops)} kv loops in the consumers, expected 1')
    loop = loops[0]
    depth, k = 1, loop.end()
    while depth:
        depth += {'{': 1, '}': -1}.get(body[k], 0)
        k += 1
    return loop, body[loop.end():k - 1], k
