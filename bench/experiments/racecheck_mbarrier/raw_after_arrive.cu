// Does racecheck order a plain st.shared before an mbarrier arrive with the
// reads after another thread's wait (argv[1] = 1), and flag it without (0)?
#include <cstdio>
#include <cstdlib>
__device__ __forceinline__ unsigned sa(const void *p) { return (unsigned)__cvta_generic_to_shared(p); }
__global__ void k(int *out, int sync) {
  __shared__ unsigned long long bar;
  __shared__ int slot;
  if (threadIdx.x == 0) asm volatile("mbarrier.init.shared::cta.b64 [%0], 1;" ::"r"(sa(&bar)) : "memory");
  __syncthreads();
  if (threadIdx.x == 0) {
    for (int i = 0; i < 100000; ++i) __nanosleep(100);  // make the readers early
    asm volatile("st.shared.u32 [%0], %1;" ::"r"(sa(&slot)), "r"(42) : "memory");
    if (sync) asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];" ::"r"(sa(&bar)) : "memory");
  } else if (sync) {
    asm volatile("{\n.reg .pred p;\nW: mbarrier.try_wait.parity.shared::cta.b64 p, [%0], 0;\n@!p bra W;\n}" ::"r"(sa(&bar)) : "memory");
    int v; asm volatile("ld.shared.u32 %0, [%1];" : "=r"(v) : "r"(sa(&slot)) : "memory");
    out[threadIdx.x] = v;
  } else {
    int v; asm volatile("ld.shared.u32 %0, [%1];" : "=r"(v) : "r"(sa(&slot)) : "memory");
    out[threadIdx.x] = v;
  }
}
int main(int argc, char **argv) {
  int sync = atoi(argv[1]);
  int *o; cudaMalloc(&o, 1024);
  k<<<1, 128>>>(o, sync);
  printf("sync=%d: %s\n", sync, cudaGetErrorString(cudaDeviceSynchronize()));
}
