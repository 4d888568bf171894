// RUN: faopt-opt %s --attn-tile --split-input-file --verify-diagnostics

// attn-tile makes parameters kernel arguments and sequence lengths memref
// dims; anything else in `params` has no place in the kernel's signature.
func.func @constant_param(%q: tensor<?x?x?x64xbf16>, %k: tensor<?x?x?x64xbf16>, %v: tensor<?x?x?x64xbf16>) -> tensor<?x?x?x64xbf16> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c7 = arith.constant 7 : index
  %b = tensor.dim %q, %c0 : tensor<?x?x?x64xbf16>
  %h = tensor.dim %q, %c1 : tensor<?x?x?x64xbf16>
  %s = tensor.dim %q, %c2 : tensor<?x?x?x64xbf16>
  %max, %sum, %acc = attn.online_init %b, %h, %s : tensor<?x?x?xf32>, tensor<?x?x?xf32>, tensor<?x?x?x64xf32>
  // expected-error @+1 {{params must be function arguments or the sequence lengths of q and k}}
  %m, %l, %a = attn.online_update %q, %k, %v, %max, %sum, %acc params(%c7 : index) logits {
  ^bb0(%x: f32, %bb: index, %hh: index, %qi: index, %kv: index, %p: index):
    attn.yield %x : f32
  } : tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>, tensor<?x?x?xf32>, tensor<?x?x?xf32>, tensor<?x?x?x64xf32>
  %o = attn.online_finalize %m, %l, %a : tensor<?x?x?xf32>, tensor<?x?x?xf32>, tensor<?x?x?x64xf32> -> tensor<?x?x?x64xbf16>
  return %o : tensor<?x?x?x64xbf16>
}

// -----

func.func @vector_argument(%q: tensor<?x?x?x64xbf16>, %k: tensor<?x?x?x64xbf16>, %v: tensor<?x?x?x64xbf16>, %x: vector<4xf32>) -> tensor<?x?x?x64xbf16> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %b = tensor.dim %q, %c0 : tensor<?x?x?x64xbf16>
  %h = tensor.dim %q, %c1 : tensor<?x?x?x64xbf16>
  %s = tensor.dim %q, %c2 : tensor<?x?x?x64xbf16>
  %max, %sum, %acc = attn.online_init %b, %h, %s : tensor<?x?x?xf32>, tensor<?x?x?xf32>, tensor<?x?x?x64xf32>
  // expected-error @+1 {{arguments after q, k, v must be parameters or tensor inputs}}
  %m, %l, %a = attn.online_update %q, %k, %v, %max, %sum, %acc logits {
  ^bb0(%xx: f32, %bb: index, %hh: index, %qi: index, %kv: index):
    attn.yield %xx : f32
  } : tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>, tensor<?x?x?xf32>, tensor<?x?x?xf32>, tensor<?x?x?x64xf32>
  %o = attn.online_finalize %m, %l, %a : tensor<?x?x?xf32>, tensor<?x?x?xf32>, tensor<?x?x?x64xf32> -> tensor<?x?x?x64xbf16>
  return %o : tensor<?x?x?x64xbf16>
}
