// The tiled SGEMM core: C[m, n] (+)= A(m, k) B(k, n), with A, B and the store given by policy objects
// (plain matrices with 16-byte loads, or implicit-GEMM gathers for convolutions). Block tile BM x BN,
// BK = 8 deep, each thread an 8 x 8 micro-tile in registers, shared tiles double-buffered with the next
// tile's loads in registers while the current one is multiplied.
#pragma once
#include "common.cuh"

namespace mp {
constexpr int BK = 8;

// A plain row-major matrix, optionally transposed: op(A)(i, k).
struct MatA {
    const float *p; int ld; bool trans; int m, k; bool vec;
    // loads 4 consecutive elements along the contiguous dimension; r0/c0 in op() coordinates
    __device__ __forceinline__ float get(int i, int kk) const {
        if (i >= m || kk >= k) return 0.f;
        return trans ? p[(long long) kk * ld + i] : p[(long long) i * ld + kk];
    }
};

template <int BM, int BN>
struct Tile { static constexpr int NT = (BM / 8) * (BN / 8); };

// Loads a BM x BK tile of op(A) into As[BK][BM] (k-major). vec: 16-byte loads where possible.
template <int BM, int NT>
__device__ __forceinline__ void load_a_plain(const MatA &a, int m0, int k0, float (&ra)[BM * BK / NT], int tid) {
    constexpr int PER = BM * BK / NT;
    if (!a.trans) {
        // element (i, kk): contiguous along kk; a thread takes quads along kk
#pragma unroll
        for (int q = 0; q < PER / 4; q++) {
            int e = (tid + q * NT) * 4;          // flat index into [BM][BK]
            int i = e / BK, kk = e % BK;
            int gi = m0 + i, gk = k0 + kk;
            if (a.vec && gi < a.m && gk + 3 < a.k) {
                float4 v = *reinterpret_cast<const float4 *>(a.p + (long long) gi * a.ld + gk);
                ra[q * 4 + 0] = v.x; ra[q * 4 + 1] = v.y; ra[q * 4 + 2] = v.z; ra[q * 4 + 3] = v.w;
            } else {
#pragma unroll
                for (int u = 0; u < 4; u++) ra[q * 4 + u] = a.get(gi, gk + u);
            }
        }
    } else {
        // contiguous along i
#pragma unroll
        for (int q = 0; q < PER / 4; q++) {
            int e = (tid + q * NT) * 4;          // flat index into [BK][BM]
            int kk = e / BM, i = e % BM;
            int gi = m0 + i, gk = k0 + kk;
            if (a.vec && gk < a.k && gi + 3 < a.m) {
                float4 v = *reinterpret_cast<const float4 *>(a.p + (long long) gk * a.ld + gi);
                ra[q * 4 + 0] = v.x; ra[q * 4 + 1] = v.y; ra[q * 4 + 2] = v.z; ra[q * 4 + 3] = v.w;
            } else {
#pragma unroll
                for (int u = 0; u < 4; u++) ra[q * 4 + u] = a.get(gi + u, gk);
            }
        }
    }
}
template <int BM, int NT>
__device__ __forceinline__ void store_a_plain(bool trans, float (*As)[BM + 4], const float (&ra)[BM * BK / NT], int tid) {
    constexpr int PER = BM * BK / NT;
#pragma unroll
    for (int q = 0; q < PER / 4; q++) {
        int e = (tid + q * NT) * 4;
        if (!trans) {
            int i = e / BK, kk = e % BK;
#pragma unroll
            for (int u = 0; u < 4; u++) As[kk + u][i] = ra[q * 4 + u];
        } else {
            int kk = e / BM, i = e % BM;
#pragma unroll
            for (int u = 0; u < 4; u++) As[kk][i + u] = ra[q * 4 + u];
        }
    }
}

// Generic scalar tile load through a policy with get(i, k) (implicit GEMM gathers).
template <int BM, int NT, class A>
__device__ __forceinline__ void load_a_gen(const A &a, int m0, int k0, float (&ra)[BM * BK / NT], int tid) {
    constexpr int PER = BM * BK / NT;
#pragma unroll
    for (int q = 0; q < PER; q++) {
        int e = tid + q * NT;            // [BK][BM], consecutive threads along i
        int kk = e / BM, i = e % BM;
        ra[q] = a.get(m0 + i, k0 + kk);
    }
}
template <int BM, int NT>
__device__ __forceinline__ void store_a_gen(float (*As)[BM + 4], const float (&ra)[BM * BK / NT], int tid) {
    constexpr int PER = BM * BK / NT;
#pragma unroll
    for (int q = 0; q < PER; q++) {
        int e = tid + q * NT;
        As[e / BM][e % BM] = ra[q];
    }
}

// The shared kernel body. AL/BL: loaders for op(A) (M x K) and op(B)^T viewed as (N x K), i.e. both
// operands are loaded as "rows x k" tiles; ST: the epilogue, given (i, j, value).
template <int BM, int BN, class AL, class BL, class ST>
__global__ void __launch_bounds__((BM / 8) * (BN / 8))
gemm_kernel(AL al, BL bl, ST st, int m, int n, int k, int k_per_split) {
    constexpr int NT = (BM / 8) * (BN / 8);
    constexpr int PA = BM * BK / NT, PB = BN * BK / NT;
    static_assert(PA >= 1 && PB >= 1, "tile too small");
    __shared__ __align__(16) float As[2][BK][BM + 4];
    __shared__ __align__(16) float Bs[2][BK][BN + 4];
    const int tid = threadIdx.x;
    const int tx = tid % (BN / 8), ty = tid / (BN / 8);
    const int m0 = blockIdx.y * BM, n0 = blockIdx.x * BN;
    const int kb = blockIdx.z * k_per_split;
    const int ke = min(k, kb + k_per_split);
    float acc[8][8];
#pragma unroll
    for (int i = 0; i < 8; i++)
#pragma unroll
        for (int j = 0; j < 8; j++) acc[i][j] = 0.f;
    float ra[PA], rb[PB];
    if (kb < ke) {
        al.template load<BM, NT>(m0, kb, ke, ra, tid);
        bl.template load<BN, NT>(n0, kb, ke, rb, tid);
        al.template store<BM, NT>(As[0], ra, tid);
        bl.template store<BN, NT>(Bs[0], rb, tid);
    }
    __syncthreads();
    int buf = 0;
    for (int k0 = kb; k0 < ke; k0 += BK) {
        bool more = k0 + BK < ke;
        if (more) {
            al.template load<BM, NT>(m0, k0 + BK, ke, ra, tid);
            bl.template load<BN, NT>(n0, k0 + BK, ke, rb, tid);
        }
#pragma unroll
        for (int kk = 0; kk < BK; kk++) {
            float a[8], b[8];
            float4 a0 = *reinterpret_cast<const float4 *>(&As[buf][kk][ty * 4]);
            float4 a1 = *reinterpret_cast<const float4 *>(&As[buf][kk][ty * 4 + BM / 2]);
            float4 b0 = *reinterpret_cast<const float4 *>(&Bs[buf][kk][tx * 4]);
            float4 b1 = *reinterpret_cast<const float4 *>(&Bs[buf][kk][tx * 4 + BN / 2]);
            a[0] = a0.x; a[1] = a0.y; a[2] = a0.z; a[3] = a0.w; a[4] = a1.x; a[5] = a1.y; a[6] = a1.z; a[7] = a1.w;
            b[0] = b0.x; b[1] = b0.y; b[2] = b0.z; b[3] = b0.w; b[4] = b1.x; b[5] = b1.y; b[6] = b1.z; b[7] = b1.w;
#pragma unroll
            for (int i = 0; i < 8; i++)
#pragma unroll
                for (int j = 0; j < 8; j++) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
        }
        if (more) {
            al.template store<BM, NT>(As[buf ^ 1], ra, tid);
            bl.template store<BN, NT>(Bs[buf ^ 1], rb, tid);
        }
        __syncthreads();
        buf ^= 1;
    }
#pragma unroll
    for (int i = 0; i < 8; i++) {
        int gi = m0 + ty * 4 + (i & 3) + (i >> 2) * (BM / 2);
        if (gi >= m) continue;
#pragma unroll
        for (int h = 0; h < 2; h++) {
            int gj = n0 + tx * 4 + h * (BN / 2);
            if (gj + 3 < n) {
                st.put4(gi, gj, acc[i][4 * h], acc[i][4 * h + 1], acc[i][4 * h + 2], acc[i][4 * h + 3]);
            } else {
#pragma unroll
                for (int u = 0; u < 4; u++) if (gj + u < n) st(gi, gj + u, acc[i][4 * h + u]);
            }
        }
    }
}

// Loaders: an operand is loaded as a "rows x k" tile (A as itself, B as B^T). ke bounds a split-K slice.
struct PlainLoader {
    MatA a;
    template <int BM, int NT>
    __device__ __forceinline__ void load(int r0, int k0, int ke, float (&r)[BM * BK / NT], int tid) const {
        MatA b = a;
        b.k = min(a.k, ke);
        load_a_plain<BM, NT>(b, r0, k0, r, tid);
    }
    template <int BM, int NT>
    __device__ __forceinline__ void store(float (*s)[BM + 4], const float (&r)[BM * BK / NT], int tid) const {
        store_a_plain<BM, NT>(a.trans, s, r, tid);
    }
};
template <class G>
struct GatherLoader {
    G g;
    template <int BM, int NT>
    __device__ __forceinline__ void load(int r0, int k0, int ke, float (&r)[BM * BK / NT], int tid) const {
        constexpr int PER = BM * BK / NT;
#pragma unroll
        for (int q = 0; q < PER; q++) {
            int e = tid + q * NT;
            int kk = e / BM, i = e % BM;
            r[q] = (k0 + kk < ke) ? g.get(r0 + i, k0 + kk) : 0.f;
        }
    }
    template <int BM, int NT>
    __device__ __forceinline__ void store(float (*s)[BM + 4], const float (&r)[BM * BK / NT], int tid) const {
        store_a_gen<BM, NT>(s, r, tid);
    }
};

// Epilogues.
struct StoreScaled {   // C = alpha * acc + beta * C (+ bias[j]); beta == 0 never reads C
    float *c; long long ldc; float alpha, beta; const float *bias; bool vec;
    __device__ __forceinline__ void operator()(int i, int j, float v) const {
        float *p = c + i * ldc + j;
        float r = alpha * v + (bias ? bias[j] : 0.f);
        *p = beta == 0.f ? r : r + beta * *p;
    }
    __device__ __forceinline__ void put4(int i, int j, float a, float b, float cc, float d) const {
        if (!vec) { (*this)(i, j, a); (*this)(i, j + 1, b); (*this)(i, j + 2, cc); (*this)(i, j + 3, d); return; }
        float4 *p = reinterpret_cast<float4 *>(c + i * ldc + j);
        float4 r = make_float4(alpha * a, alpha * b, alpha * cc, alpha * d);
        if (bias) { r.x += bias[j]; r.y += bias[j + 1]; r.z += bias[j + 2]; r.w += bias[j + 3]; }
        if (beta != 0.f) { float4 o = *p; r.x += beta * o.x; r.y += beta * o.y; r.z += beta * o.z; r.w += beta * o.w; }
        *p = r;
    }
};
struct StoreAtomic {   // split-K: C += alpha * acc (C pre-scaled by beta)
    float *c; long long ldc; float alpha;
    __device__ __forceinline__ void operator()(int i, int j, float v) const {
        atomicAdd(c + i * ldc + j, alpha * v);
    }
    __device__ __forceinline__ void put4(int i, int j, float a, float b, float cc, float d) const {
        float *p = c + i * ldc + j;
        atomicAdd(p, alpha * a); atomicAdd(p + 1, alpha * b); atomicAdd(p + 2, alpha * cc); atomicAdd(p + 3, alpha * d);
    }
};

__global__ void scale_matrix(float *c, long long ldc, int m, int n, float beta);
int sm_count();

template <int BM, int BN, class AL, class BL>
int run_tile(const char *fn, cudaStream_t s, int m, int n, int k, const AL &al, const BL &bl, float *c,
             long long ldc, float alpha, float beta, const float *bias, bool allow_split) {
    constexpr int NT = (BM / 8) * (BN / 8);
    dim3 grid((n + BN - 1) / BN, (m + BM - 1) / BM, 1);
    long long tiles = (long long) grid.x * grid.y;
    int sms = sm_count();
    int splits = 1;
    if (allow_split && bias == nullptr && tiles < 2LL * sms && k >= 256) {
        splits = (int) ((2LL * sms + tiles - 1) / tiles);
        splits = min(splits, k / 128);
        splits = max(splits, 1);
    }
    if (splits == 1) {
        bool vec = aligned16(c) && (ldc % 4) == 0;
        gemm_kernel<BM, BN><<<grid, NT, 0, s>>>(al, bl, StoreScaled{c, ldc, alpha, beta, bias, vec}, m, n, k, k);
        return check_launch(fn);
    }
    int kps = (k + splits - 1) / splits;
    kps = (kps + BK - 1) / BK * BK;
    grid.z = (k + kps - 1) / kps;
    scale_matrix<<<blocks_for((long long) m * n, 256), 256, 0, s>>>(c, ldc, m, n, beta);
    gemm_kernel<BM, BN><<<grid, NT, 0, s>>>(al, bl, StoreAtomic{c, ldc, alpha}, m, n, k, kps);
    return check_launch(fn);
}

// Chooses the tile by n (narrow outputs waste less), then launches (split-K for small m x n, large k).
template <class AL, class BL>
int run_gemm(const char *fn, cudaStream_t s, int m, int n, int k, const AL &al, const BL &bl, float *c,
             long long ldc, float alpha, float beta, const float *bias, bool allow_split) {
    if (m <= 0 || n <= 0) return MP_OK;
    if (k <= 0) {
        // C = beta * C (+ bias): a GEMM with k = 0
        if (bias) return set_invalid(fn, "k = 0 with a bias");
        scale_matrix<<<blocks_for((long long) m * n, 256), 256, 0, s>>>(c, ldc, m, n, beta);
        return check_launch(fn);
    }
    long long sms2 = 2LL * sm_count();
    long long mt128 = (m + 127) / 128, mt64 = (m + 63) / 64;
    if (n <= 32) {
        if (mt128 < sms2) return run_tile<64, 32>(fn, s, m, n, k, al, bl, c, ldc, alpha, beta, bias, allow_split);
        return run_tile<128, 32>(fn, s, m, n, k, al, bl, c, ldc, alpha, beta, bias, allow_split);
    }
    if (n <= 64) {
        if (mt128 < sms2) return run_tile<64, 64>(fn, s, m, n, k, al, bl, c, ldc, alpha, beta, bias, allow_split);
        return run_tile<128, 64>(fn, s, m, n, k, al, bl, c, ldc, alpha, beta, bias, allow_split);
    }
    if (mt128 * ((n + 127) / 128) < sms2 / 2) {
        if (mt64 * ((n + 63) / 64) >= sms2 || k < 2048) {
            return run_tile<64, 64>(fn, s, m, n, k, al, bl, c, ldc, alpha, beta, bias, allow_split);
        }
    }
    return run_tile<128, 128>(fn, s, m, n, k, al, bl, c, ldc, alpha, beta, bias, allow_split);
}
}  // namespace mp
