// General convolution as implicit GEMM (the stem, ResNet's 3x3, grouped convolutions) and the
// depthwise k x k convolution (MobileNets), forward and both backward passes. NHWC activations,
// OIHW weights, sliced to the leading [c_out, c_in / groups] block.
#include <cstdlib>

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

// Channel-chunked 3x3 kernels (the ones dispatched). blockIdx.y picks a chunk of cb <= 32 channel quads; the
// block stages only that chunk's weights (+ bias) in shared memory as [tap][channel] (at most 5 KB, so the
// staging cost no longer grows with c: the old kernels staged all c channels per block, 38 KB at c = 960).
// threadIdx.x = slot * cb + quad; slot indexes (n, row, x-group) positions with one division chain per thread
// and no per-item loop. FLIP stages the weights rotated by 180 degrees: with stride 1 the input gradient is
// this forward on dy with pad 2 - pad.
__device__ __forceinline__ void stage_chunk(float *ws, const float *__restrict__ wt, const float *__restrict__ bias,
                                            int c, int ch0, int nch, int cw, bool flip) {
    // contiguous source reads: wt[(ch0 + j) * 9 + r] for j < nch
    for (int i = threadIdx.x; i < 9 * nch; i += blockDim.x) {
        int j = i / 9, r = i - j * 9, ch = ch0 + j;
        ws[(flip ? 8 - r : r) * cw + j] = ch < c ? wt[(long long) ch0 * 9 + i] : 0.f;
    }
    for (int j = threadIdx.x; j < nch; j += blockDim.x) ws[9 * cw + j] = (bias && ch0 + j < c) ? bias[ch0 + j] : 0.f;
    __syncthreads();
}

template <int S, int OX, int OY, bool FLIP>
__global__ void __launch_bounds__(256) dw3_fwd_chunk(int n, int h, int w, int c, const float *__restrict__ x, int ldx,
                                                     const float *__restrict__ wt, int pad,
                                                     const float *__restrict__ bias, float *__restrict__ y, int ho,
                                                     int wo, int ldy, bool vec, int cb) {
    __shared__ __align__(16) float ws[10 * 128];
    constexpr int COLS = (OX - 1) * S + 3, ROWS = (OY - 1) * S + 3;
    const int c4 = (c + 3) >> 2, q0 = blockIdx.y * cb, nq = min(cb, c4 - q0), cw = cb * 4;
    stage_chunk(ws, wt, bias, c, q0 * 4, nq * 4, cw, FLIP);
    const int slots = blockDim.x / cb, slot = threadIdx.x / cb, cq = threadIdx.x - slot * cb;
    const int wq = (wo + OX - 1) / OX, hq = (ho + OY - 1) / OY;
    const int pos = blockIdx.x * slots + slot;
    if (slot >= slots || cq >= nq || pos >= n * hq * wq) return;
    const int oxq = pos % wq, t2 = pos / wq, oyq = t2 % hq, nn = t2 / hq;
    const int ch = (q0 + cq) * 4, valid = min(4, c - ch), sc = cq * 4;
    float4 acc[OY][OX];
    {
        float4 b = *reinterpret_cast<const float4 *>(&ws[9 * cw + sc]);
#pragma unroll
        for (int r = 0; r < OY; r++)
#pragma unroll
            for (int o = 0; o < OX; o++) acc[r][o] = b;
    }
    const int ox0 = oxq * OX, oy0 = oyq * OY, iy0 = oy0 * S - pad, ix0 = ox0 * S - pad;
#pragma unroll
    for (int row = 0; row < ROWS; row++) {
        int iy = iy0 + row;
        if (iy < 0 || iy >= h) continue;
        const float *xrow = x + ((nn * h + iy) * w) * ldx + ch;
#pragma unroll
        for (int r = 0; r < OY; r++) {
            const int ky = row - r * S;
            if (ky < 0 || ky > 2) continue;
            float4 w0 = *reinterpret_cast<const float4 *>(&ws[(ky * 3 + 0) * cw + sc]);
            float4 w1 = *reinterpret_cast<const float4 *>(&ws[(ky * 3 + 1) * cw + sc]);
            float4 w2 = *reinterpret_cast<const float4 *>(&ws[(ky * 3 + 2) * cw + sc]);
#pragma unroll
            for (int col = 0; col < COLS; col++) {
                int ix = ix0 + col;
                if (ix < 0 || ix >= w) continue;
                float4 xv = load4(xrow + ix * ldx, vec, valid);   // repeated loads of a row hit L1
#pragma unroll
                for (int o = 0; o < OX; o++) {
                    int kx = col - o * S;
                    if (kx == 0) fma4(acc[r][o], xv, w0);
                    else if (kx == 1) fma4(acc[r][o], xv, w1);
                    else if (kx == 2) fma4(acc[r][o], xv, w2);
                }
            }
        }
    }
#pragma unroll
    for (int r = 0; r < OY; r++) {
        if (oy0 + r >= ho) break;
        float *yp = y + ((nn * ho + oy0 + r) * wo + ox0) * ldy + ch;
#pragma unroll
        for (int o = 0; o < OX; o++)
            if (ox0 + o < wo) store4(yp + o * ldy, vec, valid, acc[r][o]);
    }
}

// input gradient, any stride S (1 or 2 compiled): one input pixel, 4 channels per thread
template <int S>
__global__ void __launch_bounds__(256) dw3_bi_chunk(int n, int h, int w, int c, const float *__restrict__ dy, int lddy,
                                                    const float *__restrict__ wt, int pad, float *__restrict__ dx,
                                                    int ho, int wo, int lddx, bool vec, int cb) {
    __shared__ __align__(16) float ws[10 * 128];
    const int c4 = (c + 3) >> 2, q0 = blockIdx.y * cb, nq = min(cb, c4 - q0), cw = cb * 4;
    stage_chunk(ws, wt, nullptr, c, q0 * 4, nq * 4, cw, false);
    const int slots = blockDim.x / cb, slot = threadIdx.x / cb, cq = threadIdx.x - slot * cb;
    const int pos = blockIdx.x * slots + slot;
    if (slot >= slots || cq >= nq || pos >= n * h * w) return;
    const int ix = pos % w, t2 = pos / w, iy = t2 % h, nn = t2 / h;
    const int ch = (q0 + cq) * 4, valid = min(4, c - ch), sc = cq * 4;
    float4 acc = make_float4(0.f, 0.f, 0.f, 0.f);
#pragma unroll
    for (int ky = 0; ky < 3; ky++) {
        int ty = iy + pad - ky;
        if (ty < 0 || ty % S) continue;
        int oy = ty / S;
        if (oy >= ho) continue;
#pragma unroll
        for (int kx = 0; kx < 3; kx++) {
            int tx = ix + pad - kx;
            if (tx < 0 || tx % S) continue;
            int ox = tx / S;
            if (ox >= wo) continue;
            float4 gv = load4(dy + ((nn * ho + oy) * wo + ox) * lddy + ch, vec, valid);
            fma4(acc, gv, *reinterpret_cast<const float4 *>(&ws[(ky * 3 + kx) * cw + sc]));
        }
    }
    store4(dx + pos * lddx + ch, vec, valid, acc);
}

// channel quads per block: c4 split into equal chunks of at most 32
static int dw_chunk(int c, int *chunks) {
    int c4 = (c + 3) / 4, k = (c4 + 31) / 32;
    int cb = (c4 + k - 1) / k;
    *chunks = (c4 + cb - 1) / cb;
    return cb;
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

// dW[ch, ky, kx] += sum over positions. A block of 256 threads = cb channel quads (the chunk of blockIdx.x, as
// in the forward: all threads busy when c < 128) x 256 / cb position lanes; grid.y splits the positions.
template <int KS>
__global__ void __launch_bounds__(256) dw_backward_weight(int n, int h, int w, int c, const float *__restrict__ x,
                                                          int ldx, const float *__restrict__ dy, int lddy,
                                                          float *dw, float *db, int stride, int pad, int ho, int wo,
                                                          bool vec, int cb) {
    constexpr int K2 = KS * KS;
    const int lanes = blockDim.x / cb, lane = threadIdx.x / cb, cql = threadIdx.x - lane * cb;
    const int c4 = (c + 3) >> 2, q0 = blockIdx.x * cb, nq = min(cb, c4 - q0);
    const int ch = (q0 + cql) * 4, valid = min(4, c - ch);
    const bool active = lane < lanes && cql < nq;
    float4 acc[K2];
    float4 bacc = make_float4(0.f, 0.f, 0.f, 0.f);
#pragma unroll
    for (int r = 0; r < K2; r++) acc[r] = make_float4(0.f, 0.f, 0.f, 0.f);
    const int positions = n * ho * wo;
    if (active) {
        for (int pos = blockIdx.y * lanes + lane; pos < positions; pos += gridDim.y * lanes) {
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
    // per tap: 256 threads' float4 -> shared [lane][cb * 4], then cb * 4 threads sum over the lanes
    __shared__ float red[256 * 4];
    const int width = cb * 4;
    for (int r = 0; r <= K2; r++) {
        float4 v = r < K2 ? acc[r] : bacc;
        if (r == K2 && db == nullptr) break;
        if (lane < lanes) {
            float *q = red + lane * width + cql * 4;
            q[0] = v.x; q[1] = v.y; q[2] = v.z; q[3] = v.w;
        }
        __syncthreads();
        for (int j = threadIdx.x; j < width; j += blockDim.x) {
            float sum = 0.f;
            for (int l = 0; l < lanes; l++) sum += red[l * width + j];
            int cc = q0 * 4 + j;
            if (j < nq * 4 && cc < c) {
                if (r < K2) atomicAdd(dw + (long long) cc * K2 + r, sum);
                else atomicAdd(db + cc, sum);
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
    if (k == 3 && (stride == 1 || stride == 2)) {
        int chunks, cb = dw_chunk(c, &chunks), slots = 256 / cb;
        // outputs along x per thread (measured on H100, bench/RESULTS.md): stride 1: 4; stride 2: 2 at maps of
        // 14 or less, else 1. Rows per thread: 1 (2 with METAPRUNE_DW3_OY=2, stride 1, for tuning).
        // METAPRUNE_DW3_OX (1, 2, 4; 1 or 2 at stride 2) overrides the x choice for tuning.
        int ox = stride == 1 ? 4 : (wo <= 14 ? 2 : 1), oy = 1;
        if (const char *e = getenv("METAPRUNE_DW3_OX")) { int v = atoi(e); if (v == 1 || v == 2 || v == 4) ox = v; }
        if (const char *e = getenv("METAPRUNE_DW3_OY")) { if (atoi(e) == 2 && stride == 1) oy = 2; }
        if (stride == 2 && ox > 2) ox = 2;
        long long pos = (long long) n * ((ho + oy - 1) / oy) * ((wo + ox - 1) / ox);
        dim3 grid((unsigned) ((pos + slots - 1) / slots), (unsigned) chunks);
#define MP_DW3(S_, OX_, OY_) dw3_fwd_chunk<S_, OX_, OY_, false><<<grid, 256, 0, s>>>(n, h, w, c, x, ldx, wt, pad, bias, y, ho, wo, ldy, vec, cb)
        if (stride == 1) {
            if (oy == 2) { if (ox == 4) MP_DW3(1, 4, 2); else if (ox == 2) MP_DW3(1, 2, 2); else MP_DW3(1, 1, 2); }
            else if (ox == 4) MP_DW3(1, 4, 1);
            else if (ox == 2) MP_DW3(1, 2, 1);
            else MP_DW3(1, 1, 1);
        } else {
            if (ox == 1) MP_DW3(2, 1, 1);
            else MP_DW3(2, 2, 1);
        }
#undef MP_DW3
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
    if (k == 3 && stride == 1 && pad <= 2 && ho == h + 2 * pad - 2 && wo == w + 2 * pad - 2) {
        // stride 1: the input gradient is the forward convolution of dy with the weights rotated by 180 degrees
        int chunks, cb = dw_chunk(c, &chunks), slots = 256 / cb;
        int ox = 4;
        if (const char *e = getenv("METAPRUNE_DW3_OX")) { int v = atoi(e); if (v == 1 || v == 2 || v == 4) ox = v; }
        long long pos = (long long) n * h * ((w + ox - 1) / ox);
        dim3 grid((unsigned) ((pos + slots - 1) / slots), (unsigned) chunks);
        if (ox == 4) dw3_fwd_chunk<1, 4, 1, true><<<grid, 256, 0, s>>>(n, ho, wo, c, dy, lddy, wt, 2 - pad, nullptr, dx, h, w, lddx, vec, cb);
        else if (ox == 2) dw3_fwd_chunk<1, 2, 1, true><<<grid, 256, 0, s>>>(n, ho, wo, c, dy, lddy, wt, 2 - pad, nullptr, dx, h, w, lddx, vec, cb);
        else dw3_fwd_chunk<1, 1, 1, true><<<grid, 256, 0, s>>>(n, ho, wo, c, dy, lddy, wt, 2 - pad, nullptr, dx, h, w, lddx, vec, cb);
    } else if (k == 3 && (stride == 1 || stride == 2)) {
        int chunks, cb = dw_chunk(c, &chunks), slots = 256 / cb;
        long long pos = (long long) n * h * w;
        dim3 grid((unsigned) ((pos + slots - 1) / slots), (unsigned) chunks);
        if (stride == 1) dw3_bi_chunk<1><<<grid, 256, 0, s>>>(n, h, w, c, dy, lddy, wt, pad, dx, ho, wo, lddx, vec, cb);
        else dw3_bi_chunk<2><<<grid, 256, 0, s>>>(n, h, w, c, dy, lddy, wt, pad, dx, ho, wo, lddx, vec, cb);
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
        int chunks, cb = dw_chunk(c, &chunks), lanes = 256 / cb;
        long long positions = (long long) n * ho * wo;
        // about ppl positions per lane, at most 8 blocks per SM in all (bounds the atomics per weight): 32 on
        // large layers, 4 on small ones (H100 sweep over 2..32, bench/RESULTS.md); METAPRUNE_DWW_PPL overrides it
        long long ppl = positions >= 65536 ? 32 : 4;
        if (const char *e = getenv("METAPRUNE_DWW_PPL")) { int v = atoi(e); if (v > 0) ppl = v; }
        long long want = (positions + ppl * lanes - 1) / (ppl * lanes), cap = ((long long) sm_count() * 8 + chunks - 1) / chunks;
        int ysplit = (int) (want < cap ? want : cap);
        ysplit = max(ysplit, 1);
        dw_backward_weight<3><<<dim3(chunks, ysplit), 256, 0, s>>>(n, h, w, c, x, ldx, dy, lddy, dw, db, stride, pad,
                                                                  ho, wo, vec, cb);
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
