// add_one: x[i] += 1.0f for i < n, one thread per element. The ROCm twin of add_one.ptx,
// compiled at run time with hipRTC (AMD code objects are per-architecture binaries, so
// none is shipped).
extern "C" __global__ void add_one(float* x, unsigned int n) {
  unsigned int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) x[i] += 1.0f;
}
