// BatchNorm over rows x c (per channel): training forward with per-call batch statistics (each width
// choice of a PruningNet layer gets its own statistics: the caller passes that choice's buffers),
// inference forward, backward; affine-free when gamma/beta are NULL. Channel sums are accumulated in
// float per thread over a shifted value (x - x[0, j]) and combined in double, like the CPU kernel.
#include "common.cuh"

namespace {
constexpr int CB = 32, RB = 8;   // block: 32 channels x 8 row lanes

__global__ void bn_sums(int rows, int c, const float *__restrict__ x, int ldx, double *acc) {
    int j = blockIdx.x * CB + threadIdx.x;
    float s1 = 0.f, s2 = 0.f;
    if (j < c) {
        float k = x[j];
        for (int r = blockIdx.y * RB + threadIdx.y; r < rows; r += gridDim.y * RB) {
            float v = x[(long long) r * ldx + j] - k;
            s1 += v;
            s2 = fmaf(v, v, s2);
        }
    }
    __shared__ float a[RB][CB + 1], b[RB][CB + 1];
    a[threadIdx.y][threadIdx.x] = s1;
    b[threadIdx.y][threadIdx.x] = s2;
    __syncthreads();
    if (threadIdx.y == 0 && j < c) {
        double t1 = 0, t2 = 0;
        for (int y = 0; y < RB; y++) { t1 += a[y][threadIdx.x]; t2 += b[y][threadIdx.x]; }
        atomicAdd(acc + j, t1);
        atomicAdd(acc + c + j, t2);
    }
}

// coef: [mean_hi, mean_lo, scale, shift] x c
__global__ void bn_finalize(int rows, int c, const float *x, const double *acc, const float *gamma,
                            const float *beta, float *save_mean, float *save_invstd, float *run_mean, float *run_var,
                            float f, float eps, float *coef) {
    int j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= c) return;
    double n = rows, m1 = acc[j] / n;
    double var = fmax(0.0, acc[c + j] / n - m1 * m1);
    double mean = (double) x[j] + m1;
    double inv = 1.0 / sqrt(var + (double) eps);
    float meanF = (float) mean;
    if (save_mean) save_mean[j] = meanF;
    if (save_invstd) save_invstd[j] = (float) inv;
    if (run_mean) {
        run_mean[j] = (float) ((1 - (double) f) * run_mean[j] + (double) f * mean);
        run_var[j] = (float) ((1 - (double) f) * run_var[j] + (double) f * var * n / (n - 1));
    }
    coef[j] = meanF;
    coef[c + j] = (float) (mean - meanF);
    coef[2 * c + j] = (float) (gamma ? inv * gamma[j] : inv);
    coef[3 * c + j] = beta ? beta[j] : 0.f;
}

__global__ void bn_apply(int rows, int c, const float *x, int ldx, const float *__restrict__ coef,   // y may alias x
                         float *y, int ldy) {
    long long total = (long long) rows * c;
    for (long long t = blockIdx.x * (long long) blockDim.x + threadIdx.x; t < total;
         t += (long long) gridDim.x * blockDim.x) {
        int j = (int) (t % c);
        long long r = t / c;
        float v = x[r * ldx + j] - coef[j] - coef[c + j];
        y[r * ldy + j] = fmaf(v, coef[2 * c + j], coef[3 * c + j]);
    }
}

__global__ void bn_inference_coef(int c, const float *gamma, const float *beta, const float *rm, const float *rv,
                                  float eps, float *coef) {
    int j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= c) return;
    double inv = 1.0 / sqrt((double) rv[j] + eps);
    coef[j] = rm[j];
    coef[c + j] = 0.f;
    coef[2 * c + j] = (float) (gamma ? inv * gamma[j] : inv);
    coef[3 * c + j] = beta ? beta[j] : 0.f;
}

// backward sums: sum dy, sum dy (x - m), sum (x - m) with m the saved mean
__global__ void bn_grad_sums(int rows, int c, const float *__restrict__ x, int ldx, const float *__restrict__ dy,
                             int lddy, const float *__restrict__ mean, double *acc) {
    int j = blockIdx.x * CB + threadIdx.x;
    float s1 = 0.f, s2 = 0.f, s3 = 0.f;
    if (j < c) {
        float m = mean[j];
        for (int r = blockIdx.y * RB + threadIdx.y; r < rows; r += gridDim.y * RB) {
            float d = dy[(long long) r * lddy + j], xc = x[(long long) r * ldx + j] - m;
            s1 += d;
            s2 = fmaf(d, xc, s2);
            s3 += xc;
        }
    }
    __shared__ float a[RB][CB + 1], b[RB][CB + 1], e[RB][CB + 1];
    a[threadIdx.y][threadIdx.x] = s1;
    b[threadIdx.y][threadIdx.x] = s2;
    e[threadIdx.y][threadIdx.x] = s3;
    __syncthreads();
    if (threadIdx.y == 0 && j < c) {
        double t1 = 0, t2 = 0, t3 = 0;
        for (int y = 0; y < RB; y++) { t1 += a[y][threadIdx.x]; t2 += b[y][threadIdx.x]; t3 += e[y][threadIdx.x]; }
        atomicAdd(acc + j, t1);
        atomicAdd(acc + c + j, t2);
        atomicAdd(acc + 2 * c + j, t3);
    }
}

// coef: [mean, delta, a, b, g*s]: dx = dy * gs + (x - mean - delta) * a + b
__global__ void bn_grad_finalize(int rows, int c, const double *acc, const float *gamma, const float *mean,
                                 const float *invstd, float *dgamma, float *dbeta, int accumulate, float *coef) {
    int j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= c) return;
    double n = rows, sdy = acc[j], sxm = acc[c + j], sx = acc[2 * c + j];
    double delta = sx / n, sxc = sxm - delta * sdy, s = invstd[j], g = gamma ? gamma[j] : 1.0;
    if (dbeta) dbeta[j] = (float) (accumulate ? dbeta[j] + sdy : sdy);
    if (dgamma) dgamma[j] = (float) (accumulate ? dgamma[j] + sxc * s : sxc * s);
    coef[j] = mean[j];
    coef[c + j] = (float) delta;
    coef[2 * c + j] = (float) (-g * s * s * s * sxc / n);
    coef[3 * c + j] = (float) (-g * s * sdy / n);
    coef[4 * c + j] = (float) (g * s);
}

__global__ void bn_grad_apply(int rows, int c, const float *x, int ldx, const float *dy,   // dx may alias dy
                              int lddy, const float *__restrict__ coef, float *dx, int lddx) {
    long long total = (long long) rows * c;
    for (long long t = blockIdx.x * (long long) blockDim.x + threadIdx.x; t < total;
         t += (long long) gridDim.x * blockDim.x) {
        int j = (int) (t % c);
        long long r = t / c;
        float lin = fmaf(x[r * ldx + j] - coef[j] - coef[c + j], coef[2 * c + j], coef[3 * c + j]);
        dx[r * lddx + j] = fmaf(dy[r * lddy + j], coef[4 * c + j], lin);
    }
}

int sm_count_local() {
    int dev = 0, v = 0;
    if (cudaGetDevice(&dev) != cudaSuccess || cudaDeviceGetAttribute(&v, cudaDevAttrMultiProcessorCount, dev)
            != cudaSuccess) return 80;
    return v;
}
unsigned ew_grid(long long total) {
    long long b = (total + 255) / 256, cap = (long long) sm_count_local() * 16;
    return (unsigned) (b < 1 ? 1 : (b > cap ? cap : b));
}
unsigned row_split(int rows, int cblocks) {
    long long want = (rows + 255) / 256, cap = ((long long) sm_count_local() * 8 + cblocks - 1) / cblocks;
    long long v = want < cap ? want : cap;
    return (unsigned) (v < 1 ? 1 : v);
}
}  // namespace

extern "C" {
int mp_batchnorm_train_forward(mp_stream stream, int rows, int c, const float *x, int ldx, const float *gamma,
                               const float *beta, float *y, int ldy, float *save_mean, float *save_invstd,
                               float *run_mean, float *run_var, float f, float eps) {
    const char *fn = "mp_batchnorm_train_forward";
    MP_REQUIRE(rows > 1 && c > 0, fn, "needs at least two rows and one channel");
    MP_REQUIRE(ldx >= c && ldy >= c, fn, "leading dimension too small");
    MP_REQUIRE((run_mean == nullptr) == (run_var == nullptr), fn, "running mean and variance go together");
    cudaStream_t s = MP_STREAM(stream);
    void *scratch = nullptr;
    size_t bytes = sizeof(double) * 2 * c + sizeof(float) * 4 * c;
    MP_CUDA(fn, cudaMallocAsync(&scratch, bytes, s));
    double *acc = static_cast<double *>(scratch);
    float *coef = reinterpret_cast<float *>(acc + 2 * c);
    cudaMemsetAsync(acc, 0, sizeof(double) * 2 * c, s);
    unsigned cb = (c + CB - 1) / CB;
    bn_sums<<<dim3(cb, row_split(rows, cb)), dim3(CB, RB), 0, s>>>(rows, c, x, ldx, acc);
    bn_finalize<<<(c + 127) / 128, 128, 0, s>>>(rows, c, x, acc, gamma, beta, save_mean, save_invstd, run_mean,
                                                run_var, f, eps, coef);
    bn_apply<<<ew_grid((long long) rows * c), 256, 0, s>>>(rows, c, x, ldx, coef, y, ldy);
    cudaFreeAsync(scratch, s);
    return mp::check_launch(fn);
}

int mp_batchnorm_inference_forward(mp_stream stream, int rows, int c, const float *x, int ldx, const float *gamma,
                                   const float *beta, const float *rm, const float *rv, float eps, float *y,
                                   int ldy) {
    const char *fn = "mp_batchnorm_inference_forward";
    MP_REQUIRE(rows > 0 && c > 0 && ldx >= c && ldy >= c, fn, "bad sizes");
    cudaStream_t s = MP_STREAM(stream);
    float *coef = nullptr;
    MP_CUDA(fn, cudaMallocAsync(reinterpret_cast<void **>(&coef), sizeof(float) * 4 * c, s));
    bn_inference_coef<<<(c + 127) / 128, 128, 0, s>>>(c, gamma, beta, rm, rv, eps, coef);
    bn_apply<<<ew_grid((long long) rows * c), 256, 0, s>>>(rows, c, x, ldx, coef, y, ldy);
    cudaFreeAsync(coef, s);
    return mp::check_launch(fn);
}

int mp_batchnorm_backward(mp_stream stream, int rows, int c, const float *x, int ldx, const float *dy, int lddy,
                          const float *gamma, const float *save_mean, const float *save_invstd, float *dx, int lddx,
                          float *dgamma, float *dbeta, int accumulate) {
    const char *fn = "mp_batchnorm_backward";
    MP_REQUIRE(rows > 0 && c > 0 && ldx >= c && lddy >= c && lddx >= c, fn, "bad sizes");
    cudaStream_t s = MP_STREAM(stream);
    void *scratch = nullptr;
    MP_CUDA(fn, cudaMallocAsync(&scratch, sizeof(double) * 3 * c + sizeof(float) * 5 * c, s));
    double *acc = static_cast<double *>(scratch);
    float *coef = reinterpret_cast<float *>(acc + 3 * c);
    cudaMemsetAsync(acc, 0, sizeof(double) * 3 * c, s);
    unsigned cb = (c + CB - 1) / CB;
    bn_grad_sums<<<dim3(cb, row_split(rows, cb)), dim3(CB, RB), 0, s>>>(rows, c, x, ldx, dy, lddy, save_mean, acc);
    bn_grad_finalize<<<(c + 127) / 128, 128, 0, s>>>(rows, c, acc, gamma, save_mean, save_invstd, dgamma, dbeta,
                                                     accumulate, coef);
    bn_grad_apply<<<ew_grid((long long) rows * c), 256, 0, s>>>(rows, c, x, ldx, dy, lddy, coef, dx, lddx);
    cudaFreeAsync(scratch, s);
    return mp::check_launch(fn);
}
}  // extern "C"
