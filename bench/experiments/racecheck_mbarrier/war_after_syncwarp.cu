// racecheck and a WAR ordered by "__syncwarp, then lane 0 arrives" (mode 0)
// or "every reader arrives" (mode 1); mode 2: no order at all.
#include <cstdio>
#include <cstdlib>
__device__ __forceinline__ unsigned sa(const void *p) { return (unsigned)__cvta_generic_to_shared(p); }
__device__ __forceinline__ void wait(unsigned bar, unsigned parity) {
  asm volatile("{\n.reg .pred p;\nW: mbarrier.try_wait.parity.shared::cta.b64 p, [%0], %1;\n@!p bra W;\n}" ::"r"(bar), "r"(parity) : "memory");
}
__device__ __forceinline__ void arrive(unsigned bar) {
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];" ::"r"(bar) : "memory");
}
__global__ void k(int *out, int mode) {
  __shared__ unsigned long long empty;
  __shared__ int slot;
  if (threadIdx.x == 0) {
    asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" ::"r"(sa(&empty)), "r"(mode == 0 ? 3 : 96) : "memory");
    slot = 7;
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    if (mode != 2) wait(sa(&empty), 0);
    asm volatile("st.shared.u32 [%0], %1;" ::"r"(sa(&slot)), "r"(42) : "memory");
  } else if (threadIdx.x >= 32) {
    int v; asm volatile("ld.shared.u32 %0, [%1];" : "=r"(v) : "r"(sa(&slot)) : "memory");
    out[threadIdx.x] = v;
    if (mode == 0) { __syncwarp(); if ((threadIdx.x & 31) == 0) arrive(sa(&empty)); }
    if (mode == 1) arrive(sa(&empty));
  }
}
int main(int argc, char **argv) {
  int mode = atoi(argv[1]);
  int *o; cudaMalloc(&o, 1024);
  k<<<1, 128>>>(o, mode);
  printf("mode=%d: %s\n", mode, cudaGetErrorString(cudaDeviceSynchronize()));
}
