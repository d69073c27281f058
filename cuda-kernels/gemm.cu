// Plain SGEMM and the sliced 1x1 convolution (a GEMM over the leading c_out x c_in block of the weight).
#include "gemm.cuh"

namespace mp {
__global__ void scale_matrix(float *c, long long ldc, int m, int n, float beta) {
    long long t = blockIdx.x * (long long) blockDim.x + threadIdx.x;
    long long total = (long long) m * n;
    for (; t < total; t += (long long) gridDim.x * blockDim.x) {
        long long i = t / n, j = t % n;
        float *p = c + i * ldc + j;
        *p = beta == 0.f ? 0.f : beta * *p;
    }
}

int sm_count() {
    static int cached = 0;
    if (cached == 0) {
        int dev = 0, v = 0;
        if (cudaGetDevice(&dev) == cudaSuccess && cudaDeviceGetAttribute(&v, cudaDevAttrMultiProcessorCount, dev)
                == cudaSuccess && v > 0) {
            cached = v;
        } else {
            return 80;
        }
    }
    return cached;
}

static MatA mat(const float *p, int ld, bool trans, int rows, int k) {
    MatA a;
    a.p = p; a.ld = ld; a.trans = trans; a.m = rows; a.k = k;
    a.vec = aligned16(p) && (ld % 4) == 0;
    return a;
}

// column sums of dy[p, c] into db (accumulate or overwrite)
__global__ void column_sums(int p, int c, const float *dy, int lddy, float *db, int accumulate) {
    int j = blockIdx.x * 32 + threadIdx.x;
    __shared__ float part[8][33];
    float s = 0.f;
    if (j < c) {
        for (int i = threadIdx.y; i < p; i += 8) s += dy[(long long) i * lddy + j];
    }
    part[threadIdx.y][threadIdx.x] = s;
    __syncthreads();
    if (threadIdx.y == 0 && j < c) {
        float t = 0.f;
        for (int y = 0; y < 8; y++) t += part[y][threadIdx.x];
        db[j] = accumulate ? db[j] + t : t;
    }
}
int column_sums_launch(const char *fn, cudaStream_t s, int p, int c, const float *dy, int lddy, float *db,
                       int accumulate) {
    column_sums<<<(c + 31) / 32, dim3(32, 8), 0, s>>>(p, c, dy, lddy, db, accumulate);
    return check_launch(fn);
}
}  // namespace mp

using namespace mp;

extern "C" {
int mp_gemm(mp_stream stream, int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
            const float *b, int ldb, float beta, float *c, int ldc) {
    const char *fn = "mp_gemm";
    MP_REQUIRE(m >= 0 && n >= 0 && k >= 0, fn, "negative size");
    MP_REQUIRE(ldc >= n, fn, "ldc < n");
    MP_REQUIRE(lda >= (ta ? m : k) && ldb >= (tb ? k : n), fn, "leading dimension too small");
    PlainLoader al{mat(a, lda, ta != 0, m, k)};
    PlainLoader bl{mat(b, ldb, tb == 0, n, k)};   // op(B)^T as rows x k
    return run_gemm(fn, MP_STREAM(stream), m, n, k, al, bl, c, ldc, alpha, beta, nullptr, true);
}

int mp_conv1x1_forward(mp_stream stream, int p, int c_in, int c_out, const float *x, int ldx, const float *w,
                       int w_ci_max, const float *bias, float *y, int ldy) {
    const char *fn = "mp_conv1x1_forward";
    MP_REQUIRE(p > 0 && c_in > 0 && c_out > 0, fn, "sizes must be positive");
    MP_REQUIRE(ldx >= c_in && ldy >= c_out && w_ci_max >= c_in, fn, "leading dimension too small");
    PlainLoader al{mat(x, ldx, false, p, c_in)};
    PlainLoader bl{mat(w, w_ci_max, false, c_out, c_in)};
    return run_gemm(fn, MP_STREAM(stream), p, c_out, c_in, al, bl, y, ldy, 1.f, 0.f, bias, bias == nullptr);
}

int mp_conv1x1_backward_input(mp_stream stream, int p, int c_in, int c_out, const float *dy, int lddy,
                              const float *w, int w_ci_max, float *dx, int lddx) {
    const char *fn = "mp_conv1x1_backward_input";
    MP_REQUIRE(p > 0 && c_in > 0 && c_out > 0, fn, "sizes must be positive");
    MP_REQUIRE(lddx >= c_in && lddy >= c_out && w_ci_max >= c_in, fn, "leading dimension too small");
    // dx[p, ci] = sum_o dy[p, o] W[o, ci]: B = W (c_out x c_in) not transposed -> rows ci, contiguous along ci
    PlainLoader al{mat(dy, lddy, false, p, c_out)};
    PlainLoader bl{mat(w, w_ci_max, true, c_in, c_out)};
    return run_gemm(fn, MP_STREAM(stream), p, c_in, c_out, al, bl, dx, lddx, 1.f, 0.f, nullptr, true);
}

int mp_conv1x1_backward_weight(mp_stream stream, int p, int c_in, int c_out, const float *x, int ldx,
                               const float *dy, int lddy, float *dw, int w_ci_max, float *dbias, int accumulate) {
    const char *fn = "mp_conv1x1_backward_weight";
    MP_REQUIRE(p > 0 && c_in > 0 && c_out > 0, fn, "sizes must be positive");
    MP_REQUIRE(ldx >= c_in && lddy >= c_out && w_ci_max >= c_in, fn, "leading dimension too small");
    // dW[o, ci] = sum_p dy[p, o] x[p, ci]: A = dy^T (rows o, contiguous along o), B^T rows ci along ci
    PlainLoader al{mat(dy, lddy, true, c_out, p)};
    PlainLoader bl{mat(x, ldx, true, c_in, p)};
    int st = run_gemm(fn, MP_STREAM(stream), c_out, c_in, p, al, bl, dw, w_ci_max, 1.f, accumulate ? 1.f : 0.f,
                      nullptr, true);
    if (st != MP_OK || dbias == nullptr) return st;
    return column_sums_launch(fn, MP_STREAM(stream), p, c_out, dy, lddy, dbias, accumulate);
}
}  // extern "C"
