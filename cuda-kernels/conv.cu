// General convolution as implicit GEMM (the stem, ResNet's 3x3, grouped convolutions) and the
// depthwise k x k convolution (MobileNets), forward and both backward passes. NHWC activations,
// OIHW weights, sliced to the leading [c_out, c_in / groups] block.
#include "gemm.cuh"

namespace mp {
int column_sums_launch(const char *fn, cudaStream_t s, int p, int c, const float *dy, int lddy, float *db,
                       int accumulate);

struct ConvGeom {
    int n, h, w, ho, wo, kh, kw, sh, sw, ph, pw;
};

// forward A(m, kidx): input patch element; m = (n, oy, ox), kidx = (ci, ky, kx)
struct XPatch {
    const float *x; long long ldx; ConvGeom g; int m, k;
    __device__ __forceinline__ float get(int i, int kk) const {
        if (i >= m || kk >= k) return 0.f;
        int khw = g.kh * g.kw;
        int ci = kk / khw, r = kk - ci * khw, ky = r / g.kw, kx = r - ky * g.kw;
        int ox = i % g.wo, t = i / g.wo, oy = t % g.ho, nn = t / g.ho;
        int iy = oy * g.sh - g.ph + ky, ix = ox * g.sw - g.pw + kx;
        if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) return 0.f;
        return x[((long long) (nn * g.h + iy) * g.w + ix) * ldx + ci];
    }
};
// backward-input A(m, kidx): m = (n, iy, ix), kidx = (o, ky, kx) -> dy at the output it feeds
struct DyPatch {
    const float *dy; long long lddy; ConvGeom g; int m, k;
    __device__ __forceinline__ float get(int i, int kk) const {
        if (i >= m || kk >= k) return 0.f;
        int khw = g.kh * g.kw;
        int o = kk / khw, r = kk - o * khw, ky = r / g.kw, kx = r - ky * g.kw;
        int ix = i % g.w, t = i / g.w, iy = t % g.h, nn = t / g.h;
        int ty = iy + g.ph - ky, tx = ix + g.pw - kx;
        if (ty < 0 || tx < 0 || ty % g.sh != 0 || tx % g.sw != 0) return 0.f;
        int oy = ty / g.sh, ox = tx / g.sw;
        if (oy >= g.ho || ox >= g.wo) return 0.f;
        return dy[((long long) (nn * g.ho + oy) * g.wo + ox) * lddy + o];
    }
};
// backward-input B^T(ci, kidx): W[o, ci, ky, kx] with kidx = (o, ky, kx)
struct WTransposed {
    const float *w; int w_ci_max, khw, cig, k;
    __device__ __forceinline__ float get(int ci, int kk) const {
        if (ci >= cig || kk >= k) return 0.f;
        int o = kk / khw, r = kk - o * khw;
        return w[((long long) o * w_ci_max + ci) * khw + r];
    }
};
// backward-weight B^T(kidx, m) = XPatch(m, kidx)
struct XPatchT {
    XPatch p;
    __device__ __forceinline__ float get(int kk, int i) const {
        if (kk >= p.k) return 0.f;
        return p.get(i, kk);
    }
};

static MatA mat(const float *p, int ld, bool trans, int rows, int k) {
    MatA a;
    a.p = p; a.ld = ld; a.trans = trans; a.m = rows; a.k = k;
    a.vec = aligned16(p) && (ld % 4) == 0;
    return a;
}

// ---- depthwise -----------------------------------------------------------------------------
// Each thread computes 4 consecutive channels of one output pixel (16-byte loads and stores when the
// rows allow). 32-bit index arithmetic (Java arrays hold < 2^31 elements; the C entry points check).
// The 3x3 kernels keep the block's weights in shared memory transposed to [tap][channel], so a tap's
// weights for 4 channels are one 16-byte shared load.
__device__ __forceinline__ float4 load4(const float *p, bool vec, int valid) {
    if (vec && valid >= 4) return *reinterpret_cast<const float4 *>(p);
    float4 v = make_float4(0.f, 0.f, 0.f, 0.f);
    if (valid > 0) v.x = p[0];
    if (valid > 1) v.y = p[1];
    if (valid > 2) v.z = p[2];
    if (valid > 3) v.w = p[3];
    return v;
}
__device__ __forceinline__ void store4(float *p, bool vec, int valid, float4 v) {
    if (vec && valid >= 4) { *reinterpret_cast<float4 *>(p) = v; return; }
    if (valid > 0) p[0] = v.x;
    if (valid > 1) p[1] = v.y;
    if (valid > 2) p[2] = v.z;
    if (valid > 3) p[3] = v.w;
}
__device__ __forceinline__ void fma4(float4 &a, float4 x, float4 w) {
    a.x = fmaf(x.x, w.x, a.x); a.y = fmaf(x.y, w.y, a.y); a.z = fmaf(x.z, w.z, a.z); a.w = fmaf(x.w, w.w, a.w);
}

// weights [c, k*k] -> shared [k*k][cp] (cp = c rounded up to 4; zero beyond c), then bias [cp]
__device__ __forceinline__ void stage_weights(float *ws, const float *wt, const float *bias, int c, int cp, int kk2) {
    for (int i = threadIdx.x; i < kk2 * cp; i += blockDim.x) {
        int r = i / cp, ch = i - r * cp;
        ws[i] = ch < c ? wt[ch * kk2 + r] : 0.f;
    }
    for (int i = threadIdx.x; i < cp; i += blockDim.x) ws[kk2 * cp + i] = (bias && i < c) ? bias[i] : 0.f;
    __syncthreads();
}

// 3x3 forward: one thread computes OX consecutive output pixels along x for 4 channels, so each input
// pixel it loads feeds up to 3 outputs (stride 1, OX 4: 18 loads for 4 outputs instead of 36).
template <int S, int OX>
__global__ void __launch_bounds__(256) dw3_forward(int n, int h, int w, int c, const float *__restrict__ x, int ldx,
                                                   const float *__restrict__ wt, int pad,
                                                   const float *__restrict__ bias, float *__restrict__ y, int ho,
                                                   int wo, int ldy, bool vec, int per_block) {
    extern __shared__ __align__(16) float ws[];
    constexpr int COLS = (OX - 1) * S + 3;
    const int c4 = (c + 3) >> 2, cp = c4 * 4;
    stage_weights(ws, wt, bias, c, cp, 9);
    const int wq = (wo + OX - 1) / OX;
    const int total = n * ho * wq * c4;
    const int start = blockIdx.x * per_block, end = min(total, start + per_block);
    for (int t = start + threadIdx.x; t < end; t += blockDim.x) {
        int cq = t % c4, pos = t / c4;
        int oxq = pos % wq, t2 = pos / wq, oy = t2 % ho, nn = t2 / ho;
        int ch = cq * 4, valid = min(4, c - ch);
        float4 b = *reinterpret_cast<const float4 *>(&ws[9 * cp + ch]);
        float4 acc[OX];
#pragma unroll
        for (int o = 0; o < OX; o++) acc[o] = b;
        int ox0 = oxq * OX;
        int iy0 = oy * S - pad, ix0 = ox0 * S - pad;
#pragma unroll
        for (int ky = 0; ky < 3; ky++) {
            int iy = iy0 + ky;
            if (iy < 0 || iy >= h) continue;
            float4 w0 = *reinterpret_cast<const float4 *>(&ws[(ky * 3 + 0) * cp + ch]);
            float4 w1 = *reinterpret_cast<const float4 *>(&ws[(ky * 3 + 1) * cp + ch]);
            float4 w2 = *reinterpret_cast<const float4 *>(&ws[(ky * 3 + 2) * cp + ch]);
            const float *xrow = x + ((nn * h + iy) * w) * ldx + ch;
#pragma unroll
            for (int col = 0; col < COLS; col++) {
                int ix = ix0 + col;
                if (ix < 0 || ix >= w) continue;
                float4 xv = load4(xrow + ix * ldx, vec, valid);
#pragma unroll
                for (int o = 0; o < OX; o++) {
                    int kx = col - o * S;
                    if (kx == 0) fma4(acc[o], xv, w0);
                    else if (kx == 1) fma4(acc[o], xv, w1);
                    else if (kx == 2) fma4(acc[o], xv, w2);
                }
            }
        }
        float *yp = y + ((nn * ho + oy) * wo + ox0) * ldy + ch;
#pragma unroll
        for (int o = 0; o < OX; o++) {
            if (ox0 + o < wo) store4(yp + o * ldy, vec, valid, acc[o]);
        }
    }
}

__global__ void __launch_bounds__(256) dw3_backward_input(int n, int h, int w, int c, const float *__restrict__ dy,
                                                          int lddy, const float *__restrict__ wt, int stride, int pad,
                                                          float *__restrict__ dx, int ho, int wo, int lddx, bool vec,
                                                          int per_block) {
    extern __shared__ __align__(16) float ws[];
    const int c4 = (c + 3) >> 2, cp = c4 * 4;
    stage_weights(ws, wt, nullptr, c, cp, 9);
    const int total = n * h * w * c4;
    const int start = blockIdx.x * per_block, end = min(total, start + per_block);
    for (int t = start + threadIdx.x; t < end; t += blockDim.x) {
        int cq = t % c4, pos = t / c4;
        int ix = pos % w, t2 = pos / w, iy = t2 % h, nn = t2 / h;
        int ch = cq * 4, valid = min(4, c - ch);
        float4 acc = make_float4(0.f, 0.f, 0.f, 0.f);
#pragma unroll
        for (int ky = 0; ky < 3; ky++) {
            int ty = iy + pad - ky;
            if (ty < 0 || ty % stride) continue;
            int oy = ty / stride;
            if (oy >= ho) continue;
#pragma unroll
            for (int kx = 0; kx < 3; kx++) {
                int tx = ix + pad - kx;
                if (tx < 0 || tx % stride) continue;
                int ox = tx / stride;
                if (ox >= wo) continue;
                float4 gv = load4(dy + ((nn * ho + oy) * wo + ox) * lddy + ch, vec, valid);
                fma4(acc, gv, *reinterpret_cast<const float4 *>(&ws[(ky * 3 + kx) * cp + ch]));
            }
        }
        store4(dx + pos * lddx + ch, vec, valid, acc);
    }
}

// any k: weights read through the cache
__global__ void __launch_bounds__(256) dw_forward_any(int n, int h, int w, int c, const float *__restrict__ x, int ldx,
                                                      const float *__restrict__ wt, int k, int stride, int pad,
                                                      const float *__restrict__ bias, float *__restrict__ y, int ho,
                                                      int wo, int ldy, bool vec) {
    int c4 = (c + 3) >> 2;
    int total = n * ho * wo * c4;
    for (int t = blockIdx.x * blockDim.x + threadIdx.x; t < total; t += gridDim.x * blockDim.x) {
        int cq = t % c4, pos = t / c4;
        int ox = pos % wo, t2 = pos / wo, oy = t2 % ho, nn = t2 / ho;
        int ch = cq * 4, valid = min(4, c - ch);
        float4 acc = bias ? make_float4(bias[ch], valid > 1 ? bias[ch + 1] : 0.f, valid > 2 ? bias[ch + 2] : 0.f,
                                        valid > 3 ? bias[ch + 3] : 0.f)
                          : make_float4(0.f, 0.f, 0.f, 0.f);
        int iy0 = oy * stride - pad, ix0 = ox * stride - pad;
        const float *w0 = wt + ch * k * k;
        int kk2 = k * k;
        for (int ky = 0; ky < k; ky++) {
            int iy = iy0 + ky;
            if (iy < 0 || iy >= h) continue;
            for (int kx = 0; kx < k; kx++) {
                int ix = ix0 + kx;
                if (ix < 0 || ix >= w) continue;
                float4 xv = load4(x + ((nn * h + iy) * w + ix) * ldx + ch, vec, valid);
                int r = ky * k + kx;
                float4 wv = make_float4(__ldg(w0 + r), valid > 1 ? __ldg(w0 + kk2 + r) : 0.f,
                                        valid > 2 ? __ldg(w0 + 2 * kk2 + r) : 0.f,
                                        valid > 3 ? __ldg(w0 + 3 * kk2 + r) : 0.f);
                fma4(acc, xv, wv);
            }
        }
        store4(y + pos * ldy + ch, vec, valid, acc);
    }
}

__global__ void __launch_bounds__(256) dw_backward_input_any(int n, int h, int w, int c, const float *__restrict__ dy,
                                                             int lddy, const float *__restrict__ wt, int k, int stride,
                                                             int pad, float *__restrict__ dx, int ho, int wo, int lddx,
                                                             bool vec) {
    int c4 = (c + 3) >> 2;
    int total = n * h * w * c4;
    for (int t = blockIdx.x * blockDim.x + threadIdx.x; t < total; t += gridDim.x * blockDim.x) {
        int cq = t % c4, pos = t / c4;
        int ix = pos % w, t2 = pos / w, iy = t2 % h, nn = t2 / h;
        int ch = cq * 4, valid = min(4, c - ch);
        float4 acc = make_float4(0.f, 0.f, 0.f, 0.f);
        const float *w0 = wt + ch * k * k;
        int kk2 = k * k;
        for (int ky = 0; ky < k; ky++) {
            int ty = iy + pad - ky;
            if (ty < 0 || ty % stride) continue;
            int oy = ty / stride;
            if (oy >= ho) continue;
            for (int kx = 0; kx < k; kx++) {
                int tx = ix + pad - kx;
                if (tx < 0 || tx % stride) continue;
                int ox = tx / stride;
                if (ox >= wo) continue;
                float4 gv = load4(dy + ((nn * ho + oy) * wo + ox) * lddy + ch, vec, valid);
                int r = ky * k + kx;
                float4 wv = make_float4(__ldg(w0 + r), valid > 1 ? __ldg(w0 + kk2 + r) : 0.f,
                                        valid > 2 ? __ldg(w0 + 2 * kk2 + r) : 0.f,
                                        valid > 3 ? __ldg(w0 + 3 * kk2 + r) : 0.f);
                fma4(acc, gv, wv);
            }
        }
        store4(dx + pos * lddx + ch, vec, valid, acc);
    }
}

// dW[ch, ky, kx] += sum over positions; block (32 channel quads) x (8 position lanes), grid.y splits positions
template <int KS>
__global__ void __launch_bounds__(256) dw_backward_weight(int n, int h, int w, int c, const float *__restrict__ x,
                                                          int ldx, const float *__restrict__ dy, int lddy,
                                                          float *dw, float *db, int stride, int pad, int ho, int wo,
                                                          bool vec) {
    constexpr int K2 = KS * KS;
    int cq = blockIdx.x * 32 + threadIdx.x;
    int ch = cq * 4, valid = min(4, c - ch);
    float4 acc[K2];
    float4 bacc = make_float4(0.f, 0.f, 0.f, 0.f);
#pragma unroll
    for (int r = 0; r < K2; r++) acc[r] = make_float4(0.f, 0.f, 0.f, 0.f);
    const int positions = n * ho * wo;
    if (valid > 0) {
        for (int pos = blockIdx.y * 8 + threadIdx.y; pos < positions; pos += gridDim.y * 8) {
            int ox = pos % wo, t2 = pos / wo, oy = t2 % ho, nn = t2 / ho;
            float4 g = load4(dy + (size_t) pos * lddy + ch, vec, valid);
            bacc.x += g.x; bacc.y += g.y; bacc.z += g.z; bacc.w += g.w;
            int iy0 = oy * stride - pad, ix0 = ox * stride - pad;
#pragma unroll
            for (int ky = 0; ky < KS; ky++) {
                int iy = iy0 + ky;
                if (iy < 0 || iy >= h) continue;
#pragma unroll
                for (int kx = 0; kx < KS; kx++) {
                    int ix = ix0 + kx;
                    if (ix < 0 || ix >= w) continue;
                    float4 xv = load4(x + ((nn * h + iy) * w + ix) * ldx + ch, vec, valid);
                    fma4(acc[ky * KS + kx], xv, g);
                }
            }
        }
    }
    __shared__ float red[8][32 * 4 + 1];
    for (int r = 0; r <= K2; r++) {
        float4 v = r < K2 ? acc[r] : bacc;
        if (r == K2 && db == nullptr) break;
        red[threadIdx.y][threadIdx.x * 4 + 0] = v.x;
        red[threadIdx.y][threadIdx.x * 4 + 1] = v.y;
        red[threadIdx.y][threadIdx.x * 4 + 2] = v.z;
        red[threadIdx.y][threadIdx.x * 4 + 3] = v.w;
        __syncthreads();
        // 256 threads reduce 128 sums over 8 lanes
        int tid = threadIdx.y * 32 + threadIdx.x;
        if (tid < 128) {
            float s = 0.f;
            for (int yy = 0; yy < 8; yy++) s += red[yy][tid];
            int cc = blockIdx.x * 128 + tid;
            if (cc < c) {
                if (r < K2) atomicAdd(dw + (long long) cc * K2 + r, s);
                else atomicAdd(db + cc, s);
            }
        }
        __syncthreads();
    }
}

// general-k fallback for the depthwise weight gradient: one thread per (channel, tap)
__global__ void dw_backward_weight_any(int n, int h, int w, int c, const float *x, int ldx, const float *dy,
                                       int lddy, float *dw, float *db, int k, int stride, int pad, int ho, int wo) {
    int t = blockIdx.x * blockDim.x + threadIdx.x;
    int taps = k * k + 1;
    if (t >= c * taps) return;
    int ch = t / taps, r = t % taps;
    float s = 0.f;
    for (long long pos = 0; pos < (long long) n * ho * wo; pos++) {
        float g = dy[pos * lddy + ch];
        if (r == k * k) { s += g; continue; }
        int ox = (int) (pos % wo), oy = (int) ((pos / wo) % ho), nn = (int) (pos / ((long long) wo * ho));
        int iy = oy * stride - pad + r / k, ix = ox * stride - pad + r % k;
        if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
        s += g * x[((long long) (nn * h + iy) * w + ix) * ldx + ch];
    }
    if (r == k * k) { if (db) atomicAdd(db + ch, s); }
    else atomicAdd(dw + (long long) ch * k * k + r, s);
}

static unsigned grid_for(long long total) {
    long long b = (total + 255) / 256;
    long long cap = (long long) sm_count() * 32;
    return (unsigned) (b < 1 ? 1 : (b > cap ? cap : b));
}
}  // namespace mp

using namespace mp;

extern "C" {
static int per_block_for(long long total) {
    // enough blocks to fill the chip several times, 8..32 items per thread
    long long want = (total + (long long) sm_count() * 4 - 1) / ((long long) sm_count() * 4);
    long long pb = (want + 255) / 256 * 256;
    if (pb < 512) pb = 512;
    if (pb > 4096) pb = 4096;
    return (int) pb;
}

int mp_depthwise_forward(mp_stream stream, int n, int h, int w, int c, const float *x, int ldx, const float *wt, int k,
                         int stride, int pad, const float *bias, float *y, int ho, int wo, int ldy) {
    const char *fn = "mp_depthwise_forward";
    MP_REQUIRE(n > 0 && h > 0 && w > 0 && c > 0 && k > 0 && k <= 16 && stride > 0 && pad >= 0, fn, "bad geometry");
    MP_REQUIRE(ldx >= c && ldy >= c, fn, "leading dimension too small");
    MP_REQUIRE((long long) n * h * w * ldx < (1LL << 31) && (long long) n * ho * wo * ldy < (1LL << 31), fn,
               "tensors of 2^31 elements or more");
    bool vec = aligned16(x) && aligned16(y) && ldx % 4 == 0 && ldy % 4 == 0;
    long long total = (long long) n * ho * wo * ((c + 3) / 4);
    cudaStream_t s = MP_STREAM(stream);
    int cp = (c + 3) / 4 * 4;
    size_t smem = sizeof(float) * 10 * cp;
    if (k == 3 && (stride == 1 || stride == 2) && smem <= 48 * 1024) {
        // stride 1: 4 outputs along x per thread (input reuse); stride 2: one (measured faster on H100)
        int ox = stride == 1 ? 4 : 1;
        long long items = (long long) n * ho * ((wo + ox - 1) / ox) * ((c + 3) / 4);
        int pb = per_block_for(items);
        unsigned blocks = (unsigned) ((items + pb - 1) / pb);
        if (stride == 1) dw3_forward<1, 4><<<blocks, 256, smem, s>>>(n, h, w, c, x, ldx, wt, pad, bias, y, ho, wo, ldy, vec, pb);
        else dw3_forward<2, 1><<<blocks, 256, smem, s>>>(n, h, w, c, x, ldx, wt, pad, bias, y, ho, wo, ldy, vec, pb);
    } else {
        dw_forward_any<<<grid_for(total), 256, 0, s>>>(n, h, w, c, x, ldx, wt, k, stride, pad, bias, y, ho, wo, ldy, vec);
    }
    return check_launch(fn);
}

int mp_depthwise_backward_input(mp_stream stream, int n, int h, int w, int c, const float *dy, int lddy,
                                const float *wt, int k, int stride, int pad, float *dx, int ho, int wo, int lddx) {
    const char *fn = "mp_depthwise_backward_input";
    MP_REQUIRE(n > 0 && h > 0 && w > 0 && c > 0 && k > 0 && stride > 0 && pad >= 0, fn, "bad geometry");
    MP_REQUIRE(lddx >= c && lddy >= c, fn, "leading dimension too small");
    MP_REQUIRE((long long) n * h * w * lddx < (1LL << 31) && (long long) n * ho * wo * lddy < (1LL << 31), fn,
               "tensors of 2^31 elements or more");
    bool vec = aligned16(dy) && aligned16(dx) && lddx % 4 == 0 && lddy % 4 == 0;
    long long total = (long long) n * h * w * ((c + 3) / 4);
    cudaStream_t s = MP_STREAM(stream);
    int cp = (c + 3) / 4 * 4;
    size_t smem = sizeof(float) * 10 * cp;
    if (k == 3 && smem <= 48 * 1024) {
        int pb = per_block_for(total);
        unsigned blocks = (unsigned) ((total + pb - 1) / pb);
        dw3_backward_input<<<blocks, 256, smem, s>>>(n, h, w, c, dy, lddy, wt, stride, pad, dx, ho, wo, lddx, vec, pb);
    } else {
        dw_backward_input_any<<<grid_for(total), 256, 0, s>>>(n, h, w, c, dy, lddy, wt, k, stride, pad, dx, ho, wo,
                                                              lddx, vec);
    }
    return check_launch(fn);
}

int mp_depthwise_backward_weight(mp_stream stream, int n, int h, int w, int c, const float *x, int ldx,
                                 const float *dy, int lddy, float *dw, float *db, int k, int stride, int pad, int ho,
                                 int wo, int accumulate) {
    const char *fn = "mp_depthwise_backward_weight";
    MP_REQUIRE(n > 0 && h > 0 && w > 0 && c > 0 && k > 0 && stride > 0 && pad >= 0, fn, "bad geometry");
    MP_REQUIRE(ldx >= c && lddy >= c, fn, "leading dimension too small");
    MP_REQUIRE((long long) n * h * w * ldx < (1LL << 31) && (long long) n * ho * wo * lddy < (1LL << 31), fn,
               "tensors of 2^31 elements or more");
    cudaStream_t s = MP_STREAM(stream);
    if (!accumulate) {
        MP_CUDA(fn, cudaMemsetAsync(dw, 0, sizeof(float) * (size_t) c * k * k, s));
        if (db) MP_CUDA(fn, cudaMemsetAsync(db, 0, sizeof(float) * (size_t) c, s));
    }
    if (k == 3) {
        bool vec = aligned16(x) && aligned16(dy) && ldx % 4 == 0 && lddy % 4 == 0;
        int cblocks = (c + 127) / 128;
        long long positions = (long long) n * ho * wo;
        long long want = (positions + 63) / 64, cap = (long long) (sm_count() * 8 + cblocks - 1) / cblocks;
        int ysplit = (int) (want < cap ? want : cap);
        ysplit = max(ysplit, 1);
        dw_backward_weight<3><<<dim3(cblocks, ysplit), dim3(32, 8), 0, s>>>(n, h, w, c, x, ldx, dy, lddy, dw, db,
                                                                           stride, pad, ho, wo, vec);
    } else {
        int taps = c * (k * k + 1);
        dw_backward_weight_any<<<(taps + 127) / 128, 128, 0, s>>>(n, h, w, c, x, ldx, dy, lddy, dw, db, k, stride,
                                                                 pad, ho, wo);
    }
    return check_launch(fn);
}

int mp_conv2d_forward(mp_stream stream, int n, int h, int w, int c_in, const float *x, int ldx, const float *wt,
                      int w_ci_max, int c_out, int kh, int kw, int sh, int sw, int ph, int pw, int groups,
                      const float *bias, float *y, int ho, int wo, int ldy) {
    const char *fn = "mp_conv2d_forward";
    MP_REQUIRE(groups > 0 && c_in % groups == 0 && c_out % groups == 0, fn, "channels not divisible by groups");
    MP_REQUIRE(w_ci_max >= c_in / groups && ldx >= c_in && ldy >= c_out, fn, "leading dimension too small");
    int cig = c_in / groups, cog = c_out / groups, khw = kh * kw;
    int m = n * ho * wo, k = cig * khw, ldw = w_ci_max * khw;
    ConvGeom g{n, h, w, ho, wo, kh, kw, sh, sw, ph, pw};
    for (int gr = 0; gr < groups; gr++) {
        GatherLoader<XPatch> al{XPatch{x + (long long) gr * cig, ldx, g, m, k}};
        PlainLoader bl{mat(wt + (long long) gr * cog * ldw, ldw, false, cog, k)};
        int st = run_gemm(fn, MP_STREAM(stream), m, cog, k, al, bl, y + (long long) gr * cog, ldy, 1.f, 0.f,
                          bias ? bias + (long long) gr * cog : nullptr, false);
        if (st != MP_OK) return st;
    }
    return MP_OK;
}

int mp_conv2d_backward_input(mp_stream stream, int n, int h, int w, int c_in, float *dx, int lddx, const float *wt,
                             int w_ci_max, int c_out, int kh, int kw, int sh, int sw, int ph, int pw, int groups,
                             const float *dy, int ho, int wo, int lddy) {
    const char *fn = "mp_conv2d_backward_input";
    MP_REQUIRE(groups > 0 && c_in % groups == 0 && c_out % groups == 0, fn, "channels not divisible by groups");
    MP_REQUIRE(w_ci_max >= c_in / groups && lddx >= c_in && lddy >= c_out, fn, "leading dimension too small");
    int cig = c_in / groups, cog = c_out / groups, khw = kh * kw;
    int m = n * h * w, k = cog * khw;
    ConvGeom g{n, h, w, ho, wo, kh, kw, sh, sw, ph, pw};
    for (int gr = 0; gr < groups; gr++) {
        GatherLoader<DyPatch> al{DyPatch{dy + (long long) gr * cog, lddy, g, m, k}};
        GatherLoader<WTransposed> bl{WTransposed{wt + (long long) gr * cog * w_ci_max * khw, w_ci_max, khw, cig, k}};
        int st = run_gemm(fn, MP_STREAM(stream), m, cig, k, al, bl, dx + (long long) gr * cig, lddx, 1.f, 0.f,
                          nullptr, false);
        if (st != MP_OK) return st;
    }
    return MP_OK;
}

int mp_conv2d_backward_weight(mp_stream stream, int n, int h, int w, int c_in, const float *x, int ldx, float *dw,
                              int w_ci_max, int c_out, int kh, int kw, int sh, int sw, int ph, int pw, int groups,
                              const float *dy, int ho, int wo, int lddy, float *dbias, int accumulate) {
    const char *fn = "mp_conv2d_backward_weight";
    MP_REQUIRE(groups > 0 && c_in % groups == 0 && c_out % groups == 0, fn, "channels not divisible by groups");
    MP_REQUIRE(w_ci_max >= c_in / groups && ldx >= c_in && lddy >= c_out, fn, "leading dimension too small");
    int cig = c_in / groups, cog = c_out / groups, khw = kh * kw;
    int m = n * ho * wo, kcols = cig * khw, ldw = w_ci_max * khw;
    ConvGeom g{n, h, w, ho, wo, kh, kw, sh, sw, ph, pw};
    for (int gr = 0; gr < groups; gr++) {
        PlainLoader al{mat(dy + (long long) gr * cog, lddy, true, cog, m)};
        GatherLoader<XPatchT> bl{XPatchT{XPatch{x + (long long) gr * cig, ldx, g, m, kcols}}};
        int st = run_gemm(fn, MP_STREAM(stream), cog, kcols, m, al, bl, dw + (long long) gr * cog * ldw, ldw, 1.f,
                          accumulate ? 1.f : 0.f, nullptr, true);
        if (st != MP_OK) return st;
    }
    if (dbias == nullptr) return MP_OK;
    return column_sums_launch(fn, MP_STREAM(stream), m, c_out, dy, lddy, dbias, accumulate);
}
}  // extern "C"
