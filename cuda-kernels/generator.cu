// PruningNet weight generator: FC(enc -> hidden) -> ReLU -> FC(hidden -> out_max * in_max * kk), of which
// only the rows of the crop [:co, :ci] are computed (forward) and updated (backward fused with SGD).
// A warp group of L = hidden / 4 lanes owns one row of W2 (one float4 each, 16-byte coalesced across
// the warp), reduced with shuffles; 32 / L rows per warp step.
#include "common.cuh"

namespace {
__device__ __forceinline__ long long crop_row(long long q, int ci, int in_max, int kk) {
    long long run = (long long) ci * kk;
    long long o = q / run, rem = q - o * run;
    return o * (long long) in_max * kk + rem;
}

template <int L>   // lanes per row: hidden / 4 (1..32, power of two); hidden == 4 * L * V with V float4 per lane
__global__ void __launch_bounds__(256) gen_forward_vec(int hidden, int in_max, int kk, int co, int ci,
                                                       const float *__restrict__ w2, const float *__restrict__ b2,
                                                       const float *__restrict__ h, float *__restrict__ out) {
    extern __shared__ float hs[];
    for (int j = threadIdx.x; j < hidden; j += blockDim.x) hs[j] = h[j];
    __syncthreads();
    const int V = hidden / (4 * L);
    long long rows = (long long) co * ci * kk;
    int lane = threadIdx.x % L;
    // warp-uniform trip count: every lane of a warp runs the same iterations (full-mask shuffles)
    long long warp = (blockIdx.x * (long long) blockDim.x + threadIdx.x) / 32;
    long long warps = (long long) gridDim.x * blockDim.x / 32;
    int sub = (threadIdx.x % 32) / L;
    constexpr int PER = 32 / L;
    for (long long base = warp * PER; base < rows; base += warps * PER) {
        long long q = base + sub;
        bool valid = q < rows;
        long long r = valid ? crop_row(q, ci, in_max, kk) : 0;
        float s = 0.f;
        if (valid) {
            const float4 *wr = reinterpret_cast<const float4 *>(w2 + r * hidden);
            for (int v = 0; v < V; v++) {
                int j4 = v * L + lane;
                float4 wv = __ldg(wr + j4);
                s = fmaf(wv.x, hs[4 * j4], s);
                s = fmaf(wv.y, hs[4 * j4 + 1], s);
                s = fmaf(wv.z, hs[4 * j4 + 2], s);
                s = fmaf(wv.w, hs[4 * j4 + 3], s);
            }
        }
#pragma unroll
        for (int o = L / 2; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o, L);
        if (valid && lane == 0) out[r] = s + b2[r];
    }
}

__global__ void gen_forward_scalar(int hidden, int in_max, int kk, int co, int ci, const float *w2, const float *b2,
                                   const float *h, float *out) {
    long long rows = (long long) co * ci * kk;
    for (long long q = blockIdx.x * (long long) blockDim.x + threadIdx.x; q < rows;
         q += (long long) gridDim.x * blockDim.x) {
        long long r = crop_row(q, ci, in_max, kk);
        float s = 0.f;
        for (int j = 0; j < hidden; j++) s = fmaf(w2[r * hidden + j], h[j], s);
        out[r] = s + b2[r];
    }
}

// Backward + SGD over the crop rows. dh (hidden) accumulated per block in shared memory, then atomics.
__global__ void __launch_bounds__(256) gen_backward_sgd(int hidden, int in_max, int kk, int co, int ci, float *w2,
                                                        float *b2, float *mw2, float *mb2, const float *h,
                                                        const float *dout, float *dh, float lr, float m, float wd,
                                                        int nest) {
    extern __shared__ float sh[];   // h[hidden], dh[hidden]
    float *hs = sh, *dhs = sh + hidden;
    for (int j = threadIdx.x; j < hidden; j += blockDim.x) { hs[j] = h[j]; dhs[j] = 0.f; }
    __syncthreads();
    long long rows = (long long) co * ci * kk;
    // thread t of the block handles column j = t % hidden of rows spaced blockDim / hidden apart
    int j = threadIdx.x % hidden;
    int rlanes = blockDim.x / hidden;
    int rl = threadIdx.x / hidden;
    float acc = 0.f;
    if (rl < rlanes) {
        float hj = hs[j];
        for (long long q = blockIdx.x * (long long) rlanes + rl; q < rows; q += (long long) gridDim.x * rlanes) {
            long long r = crop_row(q, ci, in_max, kk);
            float g = dout[r];
            long long idx = r * hidden + j;
            float w = w2[idx];
            acc = fmaf(g, w, acc);
            float grad = fmaf(g, hj, wd * w);
            float buf = fmaf(m, mw2[idx], grad);
            mw2[idx] = buf;
            w2[idx] = w - lr * (nest ? grad + m * buf : buf);
            if (j == 0) {
                float bb = b2[r];
                float gb = g + wd * bb;
                float bbuf = fmaf(m, mb2[r], gb);
                mb2[r] = bbuf;
                b2[r] = bb - lr * (nest ? gb + m * bbuf : bbuf);
            }
        }
        atomicAdd(dhs + j, acc);
    }
    __syncthreads();
    for (int t = threadIdx.x; t < hidden; t += blockDim.x) atomicAdd(dh + t, dhs[t]);
}

__global__ void gen_hidden(int enc_dim, int hidden, const float *w1, const float *b1, const float *enc, float *pre,
                           float *h) {
    int j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= hidden) return;
    float s = b1[j];
    for (int e = 0; e < enc_dim; e++) s += w1[j * enc_dim + e] * enc[e];
    if (pre) pre[j] = s;
    h[j] = fmaxf(s, 0.f);
}

__global__ void gen_hidden_backward(int enc_dim, int hidden, float *w1, float *b1, float *mw1, float *mb1,
                                    const float *enc, const float *pre, const float *dh, float lr, float m, float wd,
                                    int nest) {
    int t = blockIdx.x * blockDim.x + threadIdx.x;
    int total = hidden * (enc_dim + 1);
    if (t >= total) return;
    int j = t / (enc_dim + 1), e = t % (enc_dim + 1);
    float dpre = pre[j] > 0.f ? dh[j] : 0.f;
    if (e < enc_dim) {
        int idx = j * enc_dim + e;
        float gw = dpre * enc[e] + wd * w1[idx];
        float buf = m * mw1[idx] + gw;
        mw1[idx] = buf;
        w1[idx] -= lr * (nest ? gw + m * buf : buf);
    } else {
        float gb = dpre + wd * b1[j];
        float buf = m * mb1[j] + gb;
        mb1[j] = buf;
        b1[j] -= lr * (nest ? gb + m * buf : buf);
    }
}

// Rows outside the crop: PyTorch's SGD step with a zero gradient (momentum and weight decay still move them), so that
// with mp_generator_backward_sgd on the crop rows the whole generator takes PyTorch's step. Bandwidth-bound: one
// pass over W2, b2 and their momentum. T: float, or float4 for 16-byte loads (per_row then counts float4s).
// I: the index type, 32-bit unsigned when the element count allows (its division is far cheaper than 64-bit's).
template <typename I>
__device__ __forceinline__ bool in_crop(I r, I co, I ci, I in_max, I kk) {
    I block = in_max * kk;
    I o = r / block;
    return o < co && r - o * block < ci * kk;
}

__device__ __forceinline__ void decay_step(float &w, float &buf, float lr, float m, float wd, int nest) {
    float g = wd * w;
    buf = m * buf + g;
    w -= lr * (nest ? g + m * buf : buf);
}

__device__ __forceinline__ void decay_step(float4 &w, float4 &buf, float lr, float m, float wd, int nest) {
    decay_step(w.x, buf.x, lr, m, wd, nest);
    decay_step(w.y, buf.y, lr, m, wd, nest);
    decay_step(w.z, buf.z, lr, m, wd, nest);
    decay_step(w.w, buf.w, lr, m, wd, nest);
}

template <typename I, typename T>
__global__ void gen_decay_outside(I rows, I per_row, I co, I ci, I in_max, I kk, T *p, T *buf, float lr, float m,
                                  float wd, int nest) {
    I total = rows * per_row;
    for (I i = blockIdx.x * (I) blockDim.x + threadIdx.x; i < total; i += (I) gridDim.x * blockDim.x) {
        if (in_crop<I>(i / per_row, co, ci, in_max, kk)) continue;
        T w = p[i], b = buf[i];
        decay_step(w, b, lr, m, wd, nest);
        p[i] = w;
        buf[i] = b;
    }
}

int sms() {
    int dev = 0, v = 0;
    if (cudaGetDevice(&dev) != cudaSuccess || cudaDeviceGetAttribute(&v, cudaDevAttrMultiProcessorCount, dev)
            != cudaSuccess) return 80;
    return v;
}

// W2 (as float4 when vec) and b2 outside the crop, with index type I
template <typename I>
void decay_outside(cudaStream_t s, long long cap, bool vec, long long rows, int hidden, int co, int ci, int in_max,
                   int kk, float *w2, float *b2, float *mw2, float *mb2, float lr, float m, float wd, int nest) {
    auto grid = [cap](long long n) {
        long long want = (n + 255) / 256;
        return (unsigned) (want < 1 ? 1 : (want > cap ? cap : want));
    };
    I r = (I) rows;
    if (vec) {
        gen_decay_outside<I, float4><<<grid(rows * (hidden / 4)), 256, 0, s>>>(
                r, (I) (hidden / 4), (I) co, (I) ci, (I) in_max, (I) kk, (float4 *) w2, (float4 *) mw2, lr, m, wd, nest);
    } else {
        gen_decay_outside<I, float><<<grid(rows * hidden), 256, 0, s>>>(r, (I) hidden, (I) co, (I) ci, (I) in_max,
                                                                        (I) kk, w2, mw2, lr, m, wd, nest);
    }
    gen_decay_outside<I, float><<<grid(rows), 256, 0, s>>>(r, (I) 1, (I) co, (I) ci, (I) in_max, (I) kk, b2, mb2, lr,
                                                           m, wd, nest);
}
}  // namespace

extern "C" {
int mp_generator_hidden(mp_stream stream, int enc_dim, int hidden, const float *w1, const float *b1, const float *enc,
                        float *pre, float *h) {
    const char *fn = "mp_generator_hidden";
    MP_REQUIRE(enc_dim > 0 && hidden > 0, fn, "sizes must be positive");
    gen_hidden<<<(hidden + 127) / 128, 128, 0, MP_STREAM(stream)>>>(enc_dim, hidden, w1, b1, enc, pre, h);
    return mp::check_launch(fn);
}

int mp_generator_forward(mp_stream stream, int hidden, int in_max, int kk, int co, int ci, const float *w2,
                         const float *b2, const float *h, float *out) {
    const char *fn = "mp_generator_forward";
    MP_REQUIRE(hidden > 0 && in_max > 0 && kk > 0 && co > 0 && ci > 0 && ci <= in_max, fn, "bad crop");
    cudaStream_t s = MP_STREAM(stream);
    long long rows = (long long) co * ci * kk;
    int L = 0;
    if (hidden % 4 == 0 && mp::aligned16(w2)) {
        int q = hidden / 4;
        // lanes per row: the largest power of two <= 32 dividing hidden / 4
        for (int l = 32; l >= 1; l >>= 1) if (q % l == 0) { L = l; break; }
    }
    long long want = (rows * (L ? L : 1) + 255) / 256, cap = (long long) sms() * 16;
    unsigned blocks = (unsigned) (want < 1 ? 1 : (want > cap ? cap : want));
    size_t smem = sizeof(float) * hidden;
    switch (L) {
        case 32: gen_forward_vec<32><<<blocks, 256, smem, s>>>(hidden, in_max, kk, co, ci, w2, b2, h, out); break;
        case 16: gen_forward_vec<16><<<blocks, 256, smem, s>>>(hidden, in_max, kk, co, ci, w2, b2, h, out); break;
        case 8: gen_forward_vec<8><<<blocks, 256, smem, s>>>(hidden, in_max, kk, co, ci, w2, b2, h, out); break;
        case 4: gen_forward_vec<4><<<blocks, 256, smem, s>>>(hidden, in_max, kk, co, ci, w2, b2, h, out); break;
        case 2: gen_forward_vec<2><<<blocks, 256, smem, s>>>(hidden, in_max, kk, co, ci, w2, b2, h, out); break;
        case 1: gen_forward_vec<1><<<blocks, 256, smem, s>>>(hidden, in_max, kk, co, ci, w2, b2, h, out); break;
        default: gen_forward_scalar<<<blocks, 256, 0, s>>>(hidden, in_max, kk, co, ci, w2, b2, h, out);
    }
    return mp::check_launch(fn);
}

int mp_generator_backward_sgd(mp_stream stream, int hidden, int in_max, int kk, int co, int ci, float *w2, float *b2,
                              float *mw2, float *mb2, const float *h, const float *dout, float *dh, float lr,
                              float momentum, float wd, int nesterov) {
    const char *fn = "mp_generator_backward_sgd";
    MP_REQUIRE(hidden > 0 && hidden <= 1024 && in_max > 0 && kk > 0 && co > 0 && ci > 0 && ci <= in_max, fn,
               "bad crop");
    cudaStream_t s = MP_STREAM(stream);
    MP_CUDA(fn, cudaMemsetAsync(dh, 0, sizeof(float) * hidden, s));
    int threads = hidden >= 256 ? hidden : (256 / hidden) * hidden;
    long long rows = (long long) co * ci * kk;
    int rlanes = threads / hidden;
    long long want = (rows + rlanes * 8 - 1) / (rlanes * 8), cap = (long long) sms() * 8;
    unsigned blocks = (unsigned) (want < 1 ? 1 : (want > cap ? cap : want));
    gen_backward_sgd<<<blocks, threads, 2 * sizeof(float) * hidden, s>>>(hidden, in_max, kk, co, ci, w2, b2, mw2, mb2,
                                                                         h, dout, dh, lr, momentum, wd, nesterov);
    return mp::check_launch(fn);
}

int mp_generator_hidden_backward_sgd(mp_stream stream, int enc_dim, int hidden, float *w1, float *b1, float *mw1,
                                     float *mb1, const float *enc, const float *pre, const float *dh, float lr,
                                     float momentum, float wd, int nesterov) {
    const char *fn = "mp_generator_hidden_backward_sgd";
    MP_REQUIRE(enc_dim > 0 && hidden > 0, fn, "sizes must be positive");
    int total = hidden * (enc_dim + 1);
    gen_hidden_backward<<<(total + 127) / 128, 128, 0, MP_STREAM(stream)>>>(enc_dim, hidden, w1, b1, mw1, mb1, enc,
                                                                            pre, dh, lr, momentum, wd, nesterov);
    return mp::check_launch(fn);
}
int mp_generator_decay_outside(mp_stream stream, int hidden, int out_max, int in_max, int kk, int co, int ci,
                               float *w2, float *b2, float *mw2, float *mb2, float lr, float momentum, float wd,
                               int nesterov) {
    const char *fn = "mp_generator_decay_outside";
    MP_REQUIRE(hidden > 0 && out_max > 0 && in_max > 0 && kk > 0 && co > 0 && co <= out_max && ci > 0
               && ci <= in_max, fn, "bad crop");
    MP_REQUIRE(w2 && b2 && mw2 && mb2, fn, "a parameter or momentum pointer is NULL");
    cudaStream_t s = MP_STREAM(stream);
    long long rows = (long long) out_max * in_max * kk;
    if (rows == (long long) co * ci * kk) return MP_OK;   // the crop is the whole weight: nothing outside it
    long long cap = (long long) sms() * 16;
    bool vec = hidden % 4 == 0 && mp::aligned16(w2) && mp::aligned16(mw2);
    // 32-bit indices while the largest index (plus a grid stride) stays below 2^32
    if (rows * hidden + cap * 256 < (1LL << 32)) {
        decay_outside<unsigned>(s, cap, vec, rows, hidden, co, ci, in_max, kk, w2, b2, mw2, mb2, lr, momentum, wd,
                                nesterov);
    } else {
        decay_outside<long long>(s, cap, vec, rows, hidden, co, ci, in_max, kk, w2, b2, mw2, mb2, lr, momentum, wd,
                                 nesterov);
    }
    return mp::check_launch(fn);
}
}  // extern "C"
