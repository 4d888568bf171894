// RUN: faopt-opt %s --attn-builder-resets-counter --split-input-file --verify-diagnostics | FileCheck %s

// A handed-out kernel's program counter (attn.program_counter, right after
// its lists) is zeroed by its list builder: the builder takes the counter
// after the lists and resets it first thing; the kernel's counter is marked
// so attn-await-list-builder waits before the first claim too.

// CHECK-LABEL: func.func @k(
// CHECK-SAME:      %{{[a-z0-9]+}}: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = false}},
// CHECK-SAME:      %{{[a-z0-9]+}}: memref<1xi32> {attn.program_counter, attn.reset_by_builder}
// CHECK-LABEL: func.func @k_block_lists(
// CHECK-SAME:      %{{[a-z0-9]+}}: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = false}},
// CHECK-SAME:      %[[CTR:[a-z0-9]+]]: memref<1xi32> {attn.program_counter})
// CHECK-NEXT:    attn.reset_program_counter %[[CTR]] : memref<1xi32>
// CHECK-NEXT:    arith.constant
func.func @k(%n: index, %lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = false}}, %ctr: memref<1xi32> {attn.program_counter}) attributes {attn.kernel} {
  return
}
func.func @k_block_lists(%n: index, %lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = false}}) attributes {attn.block_list_builder} {
  %c0 = arith.constant 0 : index
  return
}

// -----

// Without a program counter (one CTA per program, or a fixed schedule)
// nothing changes.

// CHECK-LABEL: func.func @fixed(
// CHECK-NOT:     attn.reset_by_builder
// CHECK-LABEL: func.func @fixed_block_lists(
// CHECK-SAME:      %{{[a-z0-9]+}}: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = false}})
// CHECK-NOT:     attn.reset_program_counter
func.func @fixed(%n: index, %lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = false}}) attributes {attn.kernel} {
  return
}
func.func @fixed_block_lists(%n: index, %lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = false}}) attributes {attn.block_list_builder} {
  return
}

// -----

// The shared argument list is the contract with the runtime: a counter
// that does not follow the lists is a pipeline bug, reported.

// expected-error @+1 {{attn-builder-resets-counter: expected the kernel's program counter right after its block lists}}
func.func @apart(%lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = false}}, %n: index, %ctr: memref<1xi32> {attn.program_counter}) attributes {attn.kernel} {
  return
}
func.func @apart_block_lists(%lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = false}}) attributes {attn.block_list_builder} {
  return
}

// -----

// Run twice, the pass changes nothing the second time (the kernel's counter
// is marked already).

// CHECK-LABEL: func.func @again(
// CHECK-SAME:      memref<1xi32> {attn.program_counter, attn.reset_by_builder}
// CHECK-LABEL: func.func @again_block_lists(
// CHECK-NEXT:    attn.reset_program_counter
// CHECK-NOT:     attn.reset_program_counter
func.func @again(%lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = false}}, %ctr: memref<1xi32> {attn.program_counter, attn.reset_by_builder}) attributes {attn.kernel} {
  return
}
func.func @again_block_lists(%lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = false}}, %c: memref<1xi32> {attn.program_counter}) attributes {attn.block_list_builder} {
  attn.reset_program_counter %c : memref<1xi32>
  return
}

// -----

// A builder with a counter of its own while the kernel's is unmarked is a
// pipeline bug too.

func.func @twice(%lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = false}}, %ctr: memref<1xi32> {attn.program_counter}) attributes {attn.kernel} {
  return
}
// expected-error @+1 {{attn-builder-resets-counter: the list builder already takes a program counter}}
func.func @twice_block_lists(%lists: memref<?x?x?x?xi32> {attn.block_lists = {per_batch = true, per_head = false}}, %c: memref<1xi32> {attn.program_counter}) attributes {attn.block_list_builder} {
  return
}
