// RUN: faopt-opt %s --split-input-file --attn-schedule-grid --verify-diagnostics
// Diagnostics of attn-schedule-grid.

// expected-error @+1 {{attn-schedule-grid: expected a kernel taking q, k, v as [batch, heads, seq, dim] memrefs}}
func.func @not_qkv(%a: index, %b: index, %c: index, %d: index) attributes {attn.kernel} {
  scf.forall (%i, %j) in (%a, %b) {
  } {attn.grid}
  return
}

// -----

func.func @offset_grid(%q: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %k: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %v: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %o: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %n: index) attributes {attn.kernel} {
  %c1 = arith.constant 1 : index
  // expected-error @+1 {{attn-schedule-grid: grid must start at 0 with step 1}}
  scf.forall (%i, %j) = (%c1, %c1) to (%n, %n) step (%c1, %c1) {
  } {attn.grid}
  return
}
