// Element-wise kernels (ReLU, ReLU6, residual add), pooling, softmax cross-entropy with label
// smoothing, and the SGD step. Outputs may alias inputs element for element (each thread reads its
// element before writing it).
#include "common.cuh"
#include <cmath>

namespace {
int sms() {
    int dev = 0, v = 0;
    if (cudaGetDevice(&dev) != cudaSuccess || cudaDeviceGetAttribute(&v, cudaDevAttrMultiProcessorCount, dev)
            != cudaSuccess) return 80;
    return v;
}
unsigned grid(long long total) {
    long long b = (total + 255) / 256, cap = (long long) sms() * 16;
    return (unsigned) (b < 1 ? 1 : (b > cap ? cap : b));
}
#define GRID_LOOP(t, total) \
    for (long long t = blockIdx.x * (long long) blockDim.x + threadIdx.x; t < (total); \
         t += (long long) gridDim.x * blockDim.x)

__global__ void act_fwd(int kind, int rows, int c, const float *x, int ldx, float *y, int ldy) {
    GRID_LOOP(t, (long long) rows * c) {
        long long r = t / c; int j = (int) (t % c);
        float v = x[r * ldx + j];
        // max/min propagate NaN like PyTorch when written as comparisons
        float o = v > 0.f ? v : (v != v ? v : 0.f);
        if (kind == 1 && o > 6.f) o = 6.f;
        y[r * ldy + j] = o;
    }
}
__global__ void act_bwd(int kind, int rows, int c, const float *x, int ldx, const float *dy, int lddy, float *dx,
                        int lddx) {
    GRID_LOOP(t, (long long) rows * c) {
        long long r = t / c; int j = (int) (t % c);
        float v = x[r * ldx + j], g = dy[r * lddy + j];
        bool zero = kind == 0 ? (v <= 0.f) : (v <= 0.f || v >= 6.f);
        dx[r * lddx + j] = zero ? 0.f : g;
    }
}
__global__ void add_kernel(int rows, int c, const float *a, int lda, const float *b, int ldb, float *y, int ldy) {
    GRID_LOOP(t, (long long) rows * c) {
        long long r = t / c; int j = (int) (t % c);
        y[r * ldy + j] = a[r * lda + j] + b[r * ldb + j];
    }
}

__global__ void maxpool_fwd(int n, int h, int w, int c, const float *x, int ldx, float *y, int ldy, int *argmax,
                            int ho, int wo, int k, int stride, int pad) {
    GRID_LOOP(t, (long long) n * ho * wo * c) {
        int ch = (int) (t % c);
        long long pos = t / c;
        int ox = (int) (pos % wo), oy = (int) ((pos / wo) % ho), nn = (int) (pos / ((long long) wo * ho));
        float best = -INFINITY;
        long long where = -1;
        for (int ky = 0; ky < k; ky++) {
            int iy = oy * stride - pad + ky;
            if (iy < 0 || iy >= h) continue;
            for (int kx = 0; kx < k; kx++) {
                int ix = ox * stride - pad + kx;
                if (ix < 0 || ix >= w) continue;
                long long at = ((long long) (nn * h + iy) * w + ix) * ldx + ch;
                float v = x[at];
                if (where < 0 || v > best || v != v) { best = v; where = at; }
            }
        }
        y[pos * ldy + ch] = best;
        argmax[pos * c + ch] = (int) where;
    }
}
__global__ void maxpool_bwd(long long total, int c, const float *dy, int lddy, const int *argmax, float *dx) {
    GRID_LOOP(t, total) {
        int ch = (int) (t % c);
        long long pos = t / c;
        int at = argmax[t];
        if (at >= 0) atomicAdd(dx + at, dy[pos * lddy + ch]);
    }
}
__global__ void zero_rows(long long rows, int c, float *p, int ld) {
    GRID_LOOP(t, rows * c) { p[(t / c) * ld + t % c] = 0.f; }
}
__global__ void gap_fwd(int n, int hw, int c, const float *x, int ldx, float *y, int ldy) {
    GRID_LOOP(t, (long long) n * c) {
        int ch = (int) (t % c), nn = (int) (t / c);
        float s = 0.f;
        const float *p = x + (long long) nn * hw * ldx + ch;
        for (int i = 0; i < hw; i++) s += p[(long long) i * ldx];
        y[(long long) nn * ldy + ch] = s / hw;
    }
}
__global__ void gap_bwd(int n, int hw, int c, const float *dy, int lddy, float *dx, int lddx) {
    GRID_LOOP(t, (long long) n * hw * c) {
        int ch = (int) (t % c);
        long long r = t / c;
        int nn = (int) (r / hw);
        dx[r * lddx + ch] = dy[(long long) nn * lddy + ch] / hw;
    }
}

// one block per row: loss_row into partial[row]; gradient (p - t) / n into g (may alias z)
__global__ void softmax_ce_rows(int n, int k, const float *z, int ldz, const int *labels, float eps, double *partial,
                                float *g, int ldg) {
    int row = blockIdx.x;
    const float *zr = z + (long long) row * ldz;
    __shared__ float sm[32];
    __shared__ double sd[32];
    __shared__ float bmax;
    __shared__ double bsum, bse;
    float mx = -INFINITY;
    double sz = 0;
    for (int j = threadIdx.x; j < k; j += blockDim.x) { float v = zr[j]; mx = fmaxf(mx, v); sz += v; }
    for (int o = 16; o > 0; o >>= 1) {
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, o));
        sz += __shfl_xor_sync(0xffffffffu, sz, o);
    }
    int lane = threadIdx.x & 31, wid = threadIdx.x >> 5, nw = blockDim.x >> 5;
    if (lane == 0) { sm[wid] = mx; sd[wid] = sz; }
    __syncthreads();
    if (threadIdx.x == 0) {
        float m = sm[0]; double s = sd[0];
        for (int i = 1; i < nw; i++) { m = fmaxf(m, sm[i]); s += sd[i]; }
        bmax = m; bsum = s;
    }
    __syncthreads();
    float m = bmax;
    double se = 0;
    for (int j = threadIdx.x; j < k; j += blockDim.x) se += (double) expf(zr[j] - m);
    for (int o = 16; o > 0; o >>= 1) se += __shfl_xor_sync(0xffffffffu, se, o);
    __syncthreads();
    if (lane == 0) sd[wid] = se;
    __syncthreads();
    if (threadIdx.x == 0) {
        double s = 0;
        for (int i = 0; i < nw; i++) s += sd[i];
        bse = s;
        int y = labels[row];
        double lse = (double) m + log(s);
        double zy = zr[y];
        partial[row] = lse - (1.0 - eps) * zy - (double) eps / k * bsum;
    }
    __syncthreads();
    if (g) {
        int y = labels[row];
        double inv = 1.0 / bse;
        float* gr = g + (long long) row * ldg;
        for (int j = threadIdx.x; j < k; j += blockDim.x) {
            double p = (double) expf(zr[j] - m) * inv;
            double t = (j == y ? 1.0 - eps : 0.0) + (double) eps / k;
            gr[j] = (float) ((p - t) / n);
        }
    }
}
__global__ void mean_of(int n, const double *partial, float *out) {
    double s = 0;
    for (int i = threadIdx.x; i < n; i += blockDim.x) s += partial[i];
    for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
    __shared__ double w[32];
    if ((threadIdx.x & 31) == 0) w[threadIdx.x >> 5] = s;
    __syncthreads();
    if (threadIdx.x == 0) {
        double t = 0;
        for (int i = 0; i < (int) (blockDim.x >> 5); i++) t += w[i];
        *out = (float) (t / n);
    }
}

__global__ void sgd(long long count, float *p, const float *g, float *buf, float lr, float m, float wd, int nest) {
    GRID_LOOP(t, count) {
        float pv = p[t];
        float d = g[t] + wd * pv;
        float b = m * buf[t] + d;
        buf[t] = b;
        p[t] = pv - lr * (nest ? d + m * b : b);
    }
}
}  // namespace

extern "C" {
int mp_activation_forward(mp_stream stream, int kind, int rows, int c, const float *x, int ldx, float *y, int ldy) {
    const char *fn = "mp_activation_forward";
    MP_REQUIRE((kind == 0 || kind == 1) && rows > 0 && c > 0 && ldx >= c && ldy >= c, fn, "bad arguments");
    act_fwd<<<grid((long long) rows * c), 256, 0, MP_STREAM(stream)>>>(kind, rows, c, x, ldx, y, ldy);
    return mp::check_launch(fn);
}
int mp_activation_backward(mp_stream stream, int kind, int rows, int c, const float *x, int ldx, const float *dy,
                           int lddy, float *dx, int lddx) {
    const char *fn = "mp_activation_backward";
    MP_REQUIRE((kind == 0 || kind == 1) && rows > 0 && c > 0 && ldx >= c && lddy >= c && lddx >= c, fn,
               "bad arguments");
    act_bwd<<<grid((long long) rows * c), 256, 0, MP_STREAM(stream)>>>(kind, rows, c, x, ldx, dy, lddy, dx, lddx);
    return mp::check_launch(fn);
}
int mp_add(mp_stream stream, int rows, int c, const float *a, int lda, const float *b, int ldb, float *y, int ldy) {
    const char *fn = "mp_add";
    MP_REQUIRE(rows > 0 && c > 0 && lda >= c && ldb >= c && ldy >= c, fn, "bad arguments");
    add_kernel<<<grid((long long) rows * c), 256, 0, MP_STREAM(stream)>>>(rows, c, a, lda, b, ldb, y, ldy);
    return mp::check_launch(fn);
}
int mp_maxpool_forward(mp_stream stream, int n, int h, int w, int c, const float *x, int ldx, float *y, int ldy,
                       int *argmax, int ho, int wo, int k, int stride, int pad) {
    const char *fn = "mp_maxpool_forward";
    MP_REQUIRE(n > 0 && h > 0 && w > 0 && c > 0 && k > 0 && stride > 0 && pad >= 0 && ldx >= c && ldy >= c, fn,
               "bad arguments");
    maxpool_fwd<<<grid((long long) n * ho * wo * c), 256, 0, MP_STREAM(stream)>>>(n, h, w, c, x, ldx, y, ldy, argmax,
                                                                                ho, wo, k, stride, pad);
    return mp::check_launch(fn);
}
int mp_maxpool_backward(mp_stream stream, int n, int h, int w, int c, const float *dy, int lddy, const int *argmax,
                        int ho, int wo, float *dx, int lddx) {
    const char *fn = "mp_maxpool_backward";
    MP_REQUIRE(n > 0 && h > 0 && w > 0 && c > 0 && lddy >= c && lddx >= c, fn, "bad arguments");
    cudaStream_t s = MP_STREAM(stream);
    long long rows = (long long) n * h * w;
    zero_rows<<<grid(rows * c), 256, 0, s>>>(rows, c, dx, lddx);
    long long total = (long long) n * ho * wo * c;
    maxpool_bwd<<<grid(total), 256, 0, s>>>(total, c, dy, lddy, argmax, dx);
    return mp::check_launch(fn);
}
int mp_global_avgpool_forward(mp_stream stream, int n, int hw, int c, const float *x, int ldx, float *y, int ldy) {
    const char *fn = "mp_global_avgpool_forward";
    MP_REQUIRE(n > 0 && hw > 0 && c > 0 && ldx >= c && ldy >= c, fn, "bad arguments");
    gap_fwd<<<grid((long long) n * c), 256, 0, MP_STREAM(stream)>>>(n, hw, c, x, ldx, y, ldy);
    return mp::check_launch(fn);
}
int mp_global_avgpool_backward(mp_stream stream, int n, int hw, int c, const float *dy, int lddy, float *dx,
                               int lddx) {
    const char *fn = "mp_global_avgpool_backward";
    MP_REQUIRE(n > 0 && hw > 0 && c > 0 && lddx >= c && lddy >= c, fn, "bad arguments");
    gap_bwd<<<grid((long long) n * hw * c), 256, 0, MP_STREAM(stream)>>>(n, hw, c, dy, lddy, dx, lddx);
    return mp::check_launch(fn);
}
int mp_softmax_cross_entropy(mp_stream stream, int n, int k, const float *z, int ldz, const int *labels,
                             float smoothing, float *loss, float *g, int ldg) {
    const char *fn = "mp_softmax_cross_entropy";
    MP_REQUIRE(n > 0 && k > 0 && ldz >= k && (g == nullptr || ldg >= k), fn, "bad arguments");
    MP_REQUIRE(smoothing >= 0.f && smoothing <= 1.f, fn, "smoothing outside [0, 1]");
    cudaStream_t s = MP_STREAM(stream);
    double *partial = nullptr;
    MP_CUDA(fn, cudaMallocAsync(reinterpret_cast<void **>(&partial), sizeof(double) * n, s));
    softmax_ce_rows<<<n, 256, 0, s>>>(n, k, z, ldz, labels, smoothing, partial, g, ldg);
    mean_of<<<1, 256, 0, s>>>(n, partial, loss);
    cudaFreeAsync(partial, s);
    return mp::check_launch(fn);
}
int mp_sgd_step(mp_stream stream, int64_t count, float *p, const float *g, float *buf, float lr, float momentum,
                float wd, int nesterov) {
    const char *fn = "mp_sgd_step";
    MP_REQUIRE(count >= 0, fn, "negative count");
    if (count == 0) return MP_OK;
    sgd<<<grid(count), 256, 0, MP_STREAM(stream)>>>(count, p, g, buf, lr, momentum, wd, nesterov);
    return mp::check_launch(fn);
}
}  // extern "C"
