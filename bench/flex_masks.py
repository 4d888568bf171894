#!/usr/bin/env python3
"""Writes the masks FlexAttention's variant script times, for faopt-bench.

  flex_masks.py PEERS_DIR OUT [--n 8192]

PEERS_DIR holds ../shared/bench/peers_variants.py. Its masks are Python
functions over (b, h, q, kv) that close over random draws (document
boundaries, a block layout); this evaluates those functions on the CPU,
reads the draws back from them, checks that the draws reproduce each
function on every (q, kv) pair, and writes them in the format of
`faopt-bench --masks-from` (loadPeerMasks in bench/BenchVariants.cpp):

  n 8192
  document_cuts C1 C2 ...      first position of each later document
  block_layout 128 NB          then NB rows of NB characters 0 / 1

so that faopt and FlexAttention time the same documents and layout.
"""
import argparse
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("peers_dir")
    ap.add_argument("out")
    ap.add_argument("--n", type=int, default=8192)
    args = ap.parse_args()
    sys.path.insert(0, args.peers_dir)
    import torch
    import peers_variants

    n, blk = args.n, 128
    masks = peers_variants.masks(n, "cpu")
    i = torch.arange(n)
    q, kv = i[:, None], i[None, :]

    # Documents: position s starts a document exactly when (s, s - 1), a
    # causal pair, is not attended.
    document = masks["document_causal_8docs"]
    s = torch.arange(1, n)
    cuts = s[~document(0, 0, s, s - 1)].tolist()
    ids = torch.zeros(n, dtype=torch.int32)
    for c in cuts:
        ids[c:] += 1
    ours = (ids[:, None] == ids[None, :]) & (q >= kv)
    if not torch.equal(ours, document(0, 0, q, kv)):
        sys.exit("flex_masks.py: the document cuts read back do not "
                 "reproduce peers_variants.py's document mask")

    # Block sparsity: the mask is constant on 128 x 128 blocks; read it at
    # each block's first pair.
    sparse = masks["block_sparse_25pct"]
    corner = torch.arange(0, n, blk)
    layout = sparse(0, 0, corner[:, None], corner[None, :]).to(torch.bool)
    full = layout.repeat_interleave(blk, 0).repeat_interleave(blk, 1)
    if not torch.equal(full, sparse(0, 0, q, kv).to(torch.bool)):
        sys.exit("flex_masks.py: the block layout read back does not "
                 "reproduce peers_variants.py's block-sparse mask")

    with open(args.out, "w") as fh:
        fh.write(f"# from {args.peers_dir}/peers_variants.py (flex_masks.py)\n")
        fh.write(f"n {n}\n")
        fh.write("document_cuts " + " ".join(str(c) for c in cuts) + "\n")
        fh.write(f"block_layout {blk} {n // blk}\n")
        for row in layout.tolist():
            fh.write("".join("1" if x else "0" for x in row) + "\n")
    print(f"flex_masks.py: {len(cuts) + 1} documents (density "
          f"{ours.float().mean().item():.4f}), block layout density "
          f"{layout.float().mean().item():.4f}, written to {args.out}")


if __name__ == "__main__":
    main()
