// Shared helpers of the MetaPrune CUDA kernels: error recording and launch checks.
#pragma once
#include <cuda_runtime.h>
#include <cstdint>
#include "metaprune.h"

namespace mp {
int set_error(const char *fn, cudaError_t e);
int set_invalid(const char *fn, const char *what);
int check_launch(const char *fn);
inline unsigned blocks_for(long long n, int threads) {
    long long b = (n + threads - 1) / threads;
    return (unsigned) (b > 2147483647LL ? 2147483647LL : (b < 1 ? 1 : b));
}
inline bool aligned16(const void *p) { return (reinterpret_cast<uintptr_t>(p) & 15u) == 0; }
}  // namespace mp

#define MP_REQUIRE(cond, fn, what) do { if (!(cond)) return mp::set_invalid(fn, what); } while (0)
#define MP_CUDA(fn, call) do { cudaError_t e_ = (call); if (e_ != cudaSuccess) return mp::set_error(fn, e_); } while (0)
#define MP_STREAM(s) reinterpret_cast<cudaStream_t>(s)
