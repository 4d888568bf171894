// RUN: faopt-opt %s --split-input-file --attn-await-list-builder --verify-diagnostics
// Diagnostics of attn-await-list-builder.

// expected-error @+1 {{attn-await-list-builder: the kernel reads block lists but has no attn.grid scf.forall}}
func.func @no_grid(%lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = true}}) attributes {attn.kernel} {
  return
}

// -----

func.func @read_outside_grid(%lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = true}}, %n: index) attributes {attn.kernel} {
  %c0 = arith.constant 0 : index
  // expected-error @+1 {{attn-await-list-builder: reads what the list builder writes outside the attn.grid loop}}
  %a = memref.load %lists[%c0, %c0, %c0, %c0] : memref<?x?x?x?xi32>
  scf.forall (%p) in (%n) {
  } {attn.grid}
  return
}
