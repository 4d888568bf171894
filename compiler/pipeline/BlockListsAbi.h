//===- BlockListsAbi.h - the shape of a kernel's kv-block lists -*- C++ -*-===//
//
// A kernel whose mask reads tensors takes, as its last argument, the int32
// lists that `<kernel>_block_lists` writes (attn-block-lists): one row per
// (batch, head, q-block) -- a single batch or head where the mask reads
// neither -- holding a count and then up to one entry per kv-block, and for
// kernels with key ranges (attn.key_ranges: `key_range_rows` R in the
// manifest) a flag and two kv positions per q row of the block after that
// (1 + 2R more). Whoever launches the pair (the runtime, the CPU runner)
// allocates this shape.
//
//===----------------------------------------------------------------------===//
#ifndef FAOPT_COMPILER_PIPELINE_BLOCKLISTSABI_H
#define FAOPT_COMPILER_PIPELINE_BLOCKLISTSABI_H

#include <algorithm>
#include <cstdint>

namespace faopt {

struct BlockListsShape {
  // [batches, heads, q-blocks, 1 + kv-blocks (+ 1 + 2 * key range rows)]
  int64_t sizes[4] = {0, 0, 0, 0};

  int64_t elements() const { return sizes[0] * sizes[1] * sizes[2] * sizes[3]; }
};

inline BlockListsShape blockListsShape(bool perBatch, bool perHead,
                                       int64_t blockQ, int64_t blockKv,
                                       int64_t batch, int64_t heads,
                                       int64_t seqlenQ, int64_t seqlenK,
                                       int64_t keyRangeRows = 0) {
  BlockListsShape s;
  s.sizes[0] = perBatch ? batch : 1;
  s.sizes[1] = perHead ? heads : 1;
  s.sizes[2] = (seqlenQ + blockQ - 1) / blockQ;
  // Slot 0 is the count; slot 1 must exist even with no kv-block (the
  // attention loop reads one entry ahead).
  s.sizes[3] = 1 + std::max<int64_t>((seqlenK + blockKv - 1) / blockKv, 1);
  if (keyRangeRows > 0)
    s.sizes[3] += 1 + 2 * keyRangeRows;
  return s;
}

} // namespace faopt

#endif // FAOPT_COMPILER_PIPELINE_BLOCKLISTSABI_H
