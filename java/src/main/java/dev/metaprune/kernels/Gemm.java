package dev.metaprune.kernels;

import static dev.metaprune.kernels.Vec.F;
import static dev.metaprune.kernels.Vec.L;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;

/**
 * Single-precision GEMM on the Vector API: {@code C = alpha * op(A) * op(B) + beta * C}, row-major,
 * with leading dimensions, so that any 2-D view (a channel slice of an NHWC activation, the leading
 * {@code c_out x c_in} block of a max-width weight) is used in place.
 *
 * <p>Blocking follows Goto / BLIS: {@code op(B)} is packed into panels of {@link #NR} columns
 * ({@code KC x NR}, kept in L1), {@code op(A)} into panels of {@link #MR} rows ({@code MC x KC},
 * kept in L2), and a register-blocked {@code MR x NR} micro-kernel ({@code 6 x 2} vectors: 12
 * accumulators) runs FMAs over a packed {@code kc} slice. {@code alpha} is folded into the A
 * packing; edges are zero-padded in the packs and masked on store. Threads take coarse ranges of
 * the larger of M and N, each with its own pack buffers (no allocation after the first call of a
 * given size). Rows of {@code op(A)} fewer than {@link #SMALL_M} (a generator FC at batch 1, a
 * GEMV) go to a direct path with no packing, which is memory-bound and streams {@code B} once.
 */
public final class Gemm {
    private Gemm() {
    }

    /** Rows of the micro-kernel. */
    public static final int MR = 6;
    /** Columns of the micro-kernel: two vectors. */
    public static final int NR = 2 * L;
    static final int KC = Integer.getInteger("metaprune.gemm.kc", 256);
    static final int MC = Integer.getInteger("metaprune.gemm.mc", 96);
    static final int NC = Integer.getInteger("metaprune.gemm.nc", 2048);
    static final int SMALL_M = 4;

    private static final ThreadLocal<float[][]> PACKS = ThreadLocal.withInitial(() -> new float[][] {new float[0], new float[0], new float[MR * NR]});

    /**
     * {@code C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C}. {@code op(A)[m,k]} is
     * {@code a[aOff + m*lda + k]}, or {@code a[aOff + k*lda + m]} when {@code transA}; likewise B.
     * All sizes must be positive except {@code K}, which may be 0 (then {@code C = beta * C}).
     *
     * @throws IllegalArgumentException on a negative size, a leading dimension too small for its
     *                                  matrix, or an array too short for the addressed region
     */
    public static void sgemm(boolean transA, boolean transB, int M, int N, int K, float alpha,
                             float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                             float beta, float[] c, int cOff, int ldc) {
        check(transA, transB, M, N, K, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        if (M == 0 || N == 0) {
            return;
        }
        Parallel pool = Parallel.get();
        int threads = pool.threads();
        if (K == 0 || alpha == 0f) {
            scaleC(M, N, beta, c, cOff, ldc);
            return;
        }
        if (M < SMALL_M) {
            int parts = threads > 1 && (long) N * K >= 32_768 ? threads : 1;
            pool.run(parts, (p, n) -> {
                int j0 = align(Parallel.split(N, n, p)), j1 = p == n - 1 ? N : align(Parallel.split(N, n, p + 1));
                if (j1 > j0) {
                    smallM(transA, transB, M, j0, j1, K, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
                }
            });
            return;
        }
        long work = (long) M * N * K;
        if (threads == 1 || work < 200_000) {
            serial(transA, transB, 0, M, 0, N, K, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
            return;
        }
        boolean splitM = M >= N || N < 2 * NR * threads;
        if (splitM) {
            int blocks = (M + MR - 1) / MR;
            pool.run(threads, (p, n) -> {
                int i0 = Parallel.split(blocks, n, p) * MR, i1 = Math.min(M, Parallel.split(blocks, n, p + 1) * MR);
                if (i1 > i0) {
                    serial(transA, transB, i0, i1, 0, N, K, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
                }
            });
        } else {
            int blocks = (N + NR - 1) / NR;
            pool.run(threads, (p, n) -> {
                int j0 = Parallel.split(blocks, n, p) * NR, j1 = Math.min(N, Parallel.split(blocks, n, p + 1) * NR);
                if (j1 > j0) {
                    serial(transA, transB, 0, M, j0, j1, K, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
                }
            });
        }
    }

    private static int align(int j) {
        return j / L * L;
    }

    static void check(boolean transA, boolean transB, int M, int N, int K, float[] a, int aOff, int lda,
                      float[] b, int bOff, int ldb, float[] c, int cOff, int ldc) {
        if (M < 0 || N < 0 || K < 0) {
            throw new IllegalArgumentException("sgemm: negative size M=" + M + " N=" + N + " K=" + K);
        }
        checkMatrix("A", transA ? K : M, transA ? M : K, a, aOff, lda);
        checkMatrix("B", transB ? N : K, transB ? K : N, b, bOff, ldb);
        checkMatrix("C", M, N, c, cOff, ldc);
    }

    private static void checkMatrix(String name, int rows, int cols, float[] x, int off, int ld) {
        if (rows == 0 || cols == 0) {
            return;
        }
        if (x == null) {
            throw new IllegalArgumentException("sgemm: " + name + " is null");
        }
        if (ld < cols) {
            throw new IllegalArgumentException("sgemm: " + name + " is stored " + rows + "x" + cols
                    + " but its leading dimension is " + ld + " (< " + cols + ")");
        }
        long end = off + (long) (rows - 1) * ld + cols;
        if (off < 0 || end > x.length) {
            throw new IllegalArgumentException("sgemm: " + name + " (" + rows + "x" + cols + ", ld " + ld
                    + ", offset " + off + ") needs " + end + " elements, its array has " + x.length);
        }
    }

    static void scaleC(int M, int N, float beta, float[] c, int cOff, int ldc) {
        scaleC(0, M, 0, N, beta, c, cOff, ldc);
    }

    private static void scaleC(int i0, int i1, int j0, int j1, float beta, float[] c, int cOff, int ldc) {
        if (beta == 1f) {
            return;
        }
        for (int i = i0; i < i1; i++) {
            int row = cOff + i * ldc;
            if (beta == 0f) {
                Arrays.fill(c, row + j0, row + j1, 0f);
            } else {
                int j = j0;
                for (; j <= j1 - L; j += L) {
                    FloatVector.fromArray(F, c, row + j).mul(beta).intoArray(c, row + j);
                }
                for (; j < j1; j++) {
                    c[row + j] *= beta;
                }
            }
        }
    }

    /** The blocked algorithm on {@code C[i0:i1, j0:j1]}, on the calling thread. */
    static void serial(boolean transA, boolean transB, int i0, int i1, int j0, int j1, int K, float alpha,
                       float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                       float beta, float[] c, int cOff, int ldc) {
        // beta == 0: the first k-block stores instead of accumulating (C is never read)
        boolean overwrite = beta == 0f;
        if (!overwrite) {
            scaleC(i0, i1, j0, j1, beta, c, cOff, ldc);
        }
        float[][] packs = PACKS.get();
        int kcMax = Math.min(KC, K);
        int ncMax = Math.min(NC, roundUp(j1 - j0, NR));
        int mcMax = Math.min(MC, roundUp(i1 - i0, MR));
        if (packs[0].length < kcMax * ncMax) {
            packs[0] = new float[kcMax * ncMax];
        }
        if (packs[1].length < kcMax * mcMax) {
            packs[1] = new float[kcMax * mcMax];
        }
        float[] bp = packs[0], ap = packs[1], tile = packs[2];
        for (int jc = j0; jc < j1; jc += NC) {
            int nc = Math.min(NC, j1 - jc);
            for (int pc = 0; pc < K; pc += KC) {
                int kc = Math.min(KC, K - pc);
                packB(transB, b, bOff, ldb, pc, kc, jc, nc, bp);
                for (int ic = i0; ic < i1; ic += MC) {
                    int mc = Math.min(MC, i1 - ic);
                    packA(transA, a, aOff, lda, ic, mc, pc, kc, alpha, ap);
                    macro(mc, nc, kc, ap, bp, c, cOff + ic * ldc + jc, ldc, overwrite && pc == 0, tile);
                }
            }
        }
    }

    private static int roundUp(int x, int m) {
        return (x + m - 1) / m * m;
    }

    private static void macro(int mc, int nc, int kc, float[] ap, float[] bp, float[] c, int cOff, int ldc,
                              boolean store, float[] tile) {
        for (int jr = 0; jr < nc; jr += NR) {
            int nr = Math.min(NR, nc - jr);
            int bOff = jr * kc;
            for (int ir = 0; ir < mc; ir += MR) {
                int mr = Math.min(MR, mc - ir);
                int cTile = cOff + ir * ldc + jr;
                if (nr == NR && mr == MR) {
                    if (store) {
                        kernelStore(kc, ap, ir * kc, bp, bOff, c, cTile, ldc);
                    } else {
                        kernelAdd(kc, ap, ir * kc, bp, bOff, c, cTile, ldc);
                    }
                } else {
                    // an edge tile: the full tile goes to scratch (the packs are zero-padded), then the
                    // valid part is copied; no masked vector operations (a run-time mask made C2's code
                    // 10-500x slower here)
                    kernelStore(kc, ap, ir * kc, bp, bOff, tile, 0, NR);
                    for (int r = 0; r < mr; r++) {
                        int dst = cTile + r * ldc, src = r * NR;
                        if (store) {
                            System.arraycopy(tile, src, c, dst, nr);
                        } else {
                            int j = 0;
                            if (nr >= L) {
                                FloatVector.fromArray(F, c, dst).add(FloatVector.fromArray(F, tile, src)).intoArray(c, dst);
                                j = L;
                            }
                            for (; j < nr; j++) {
                                c[dst + j] += tile[src + j];
                            }
                        }
                    }
                }
            }
        }
    }

    /** Packs {@code op(A)[i0:i0+mc, p0:p0+kc] * alpha} as panels of MR rows: {@code ap[panel][k][MR]}. */
    private static void packA(boolean transA, float[] a, int aOff, int lda, int i0, int mc, int p0, int kc,
                              float alpha, float[] ap) {
        int idx = 0;
        for (int i = 0; i < mc; i += MR) {
            int mr = Math.min(MR, mc - i);
            if (!transA) {
                int base = aOff + (i0 + i) * lda + p0;
                if (mr == MR) {
                    int r0 = base, r1 = r0 + lda, r2 = r1 + lda, r3 = r2 + lda, r4 = r3 + lda, r5 = r4 + lda;
                    for (int k = 0; k < kc; k++) {
                        ap[idx] = alpha * a[r0 + k];
                        ap[idx + 1] = alpha * a[r1 + k];
                        ap[idx + 2] = alpha * a[r2 + k];
                        ap[idx + 3] = alpha * a[r3 + k];
                        ap[idx + 4] = alpha * a[r4 + k];
                        ap[idx + 5] = alpha * a[r5 + k];
                        idx += MR;
                    }
                } else {
                    for (int k = 0; k < kc; k++) {
                        for (int r = 0; r < MR; r++) {
                            ap[idx++] = r < mr ? alpha * a[base + r * lda + k] : 0f;
                        }
                    }
                }
            } else {
                for (int k = 0; k < kc; k++) {
                    int base = aOff + (p0 + k) * lda + i0 + i;
                    for (int r = 0; r < MR; r++) {
                        ap[idx++] = r < mr ? alpha * a[base + r] : 0f;
                    }
                }
            }
        }
    }

    /** Packs {@code op(B)[p0:p0+kc, j0:j0+nc]} as panels of NR columns: {@code bp[panel][k][NR]}. */
    private static void packB(boolean transB, float[] b, int bOff, int ldb, int p0, int kc, int j0, int nc,
                              float[] bp) {
        int idx = 0;
        for (int j = 0; j < nc; j += NR) {
            int nr = Math.min(NR, nc - j);
            if (!transB) {
                int base = bOff + p0 * ldb + j0 + j;
                if (nr == NR) {
                    for (int k = 0; k < kc; k++) {
                        int src = base + k * ldb;
                        FloatVector.fromArray(F, b, src).intoArray(bp, idx);
                        FloatVector.fromArray(F, b, src + L).intoArray(bp, idx + L);
                        idx += NR;
                    }
                } else {
                    for (int k = 0; k < kc; k++) {
                        int src = base + k * ldb;
                        System.arraycopy(b, src, bp, idx, nr);
                        java.util.Arrays.fill(bp, idx + nr, idx + NR, 0f);
                        idx += NR;
                    }
                }
            } else {
                for (int jj = 0; jj < NR; jj++) {
                    int dst = idx + jj;
                    if (jj < nr) {
                        int src = bOff + (j0 + j + jj) * ldb + p0;
                        for (int k = 0; k < kc; k++) {
                            bp[dst + k * NR] = b[src + k];
                        }
                    } else {
                        for (int k = 0; k < kc; k++) {
                            bp[dst + k * NR] = 0f;
                        }
                    }
                }
                idx += kc * NR;
            }
        }
    }

    /**
     * The micro-kernel: {@code C[0:MR, 0:NR] = Ap(kc x MR)^T * Bp(kc x NR)}, 6 x 2 vectors of
     * accumulators. Measured on Zen 5 this shape runs as fast as 12x2, 7x3 or 4x4 in isolation
     * (~205 GFLOP/s, the same as the equivalent C with memory-operand broadcasts) and needs only 15
     * vector registers, so it also suits 16-register ISAs. Two copies, storing and accumulating,
     * so that neither has a branch C2 could speculate on.
     */
    private static void kernelStore(int kc, float[] ap, int aOff, float[] bp, int bOff, float[] c, int cOff,
                                    int ldc) {
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00,
                c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
        int ai = aOff, bi = bOff;
        for (int k = 0; k < kc; k++, ai += MR, bi += NR) {
            FloatVector b0 = FloatVector.fromArray(F, bp, bi);
            FloatVector b1 = FloatVector.fromArray(F, bp, bi + L);
            FloatVector x = FloatVector.broadcast(F, ap[ai]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(F, ap[ai + 1]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(F, ap[ai + 2]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(F, ap[ai + 3]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(F, ap[ai + 4]);
            c40 = x.fma(b0, c40);
            c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(F, ap[ai + 5]);
            c50 = x.fma(b0, c50);
            c51 = x.fma(b1, c51);
        }
        put(c, cOff, c00, c01);
        put(c, cOff + ldc, c10, c11);
        put(c, cOff + 2 * ldc, c20, c21);
        put(c, cOff + 3 * ldc, c30, c31);
        put(c, cOff + 4 * ldc, c40, c41);
        put(c, cOff + 5 * ldc, c50, c51);
    }

    /** {@code C[0:MR, 0:NR] += Ap^T Bp}; see {@link #kernelStore}. */
    private static void kernelAdd(int kc, float[] ap, int aOff, float[] bp, int bOff, float[] c, int cOff,
                                  int ldc) {
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00,
                c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
        int ai = aOff, bi = bOff;
        for (int k = 0; k < kc; k++, ai += MR, bi += NR) {
            FloatVector b0 = FloatVector.fromArray(F, bp, bi);
            FloatVector b1 = FloatVector.fromArray(F, bp, bi + L);
            FloatVector x = FloatVector.broadcast(F, ap[ai]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(F, ap[ai + 1]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(F, ap[ai + 2]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(F, ap[ai + 3]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(F, ap[ai + 4]);
            c40 = x.fma(b0, c40);
            c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(F, ap[ai + 5]);
            c50 = x.fma(b0, c50);
            c51 = x.fma(b1, c51);
        }
        add(c, cOff, c00, c01);
        add(c, cOff + ldc, c10, c11);
        add(c, cOff + 2 * ldc, c20, c21);
        add(c, cOff + 3 * ldc, c30, c31);
        add(c, cOff + 4 * ldc, c40, c41);
        add(c, cOff + 5 * ldc, c50, c51);
    }

    private static void put(float[] c, int off, FloatVector v0, FloatVector v1) {
        v0.intoArray(c, off);
        v1.intoArray(c, off + L);
    }

    private static void add(float[] c, int off, FloatVector v0, FloatVector v1) {
        FloatVector.fromArray(F, c, off).add(v0).intoArray(c, off);
        FloatVector.fromArray(F, c, off + L).add(v1).intoArray(c, off + L);
    }

    /**
     * Few rows of {@code op(A)}: {@code C[:, j0:j1]}, no packing. With {@code transB} each output is a
     * dot product of an A row with a contiguous B row (the generator FC's shape); without it, each
     * row of C is a sum of scaled B rows (AXPYs). B is read once.
     */
    private static void smallM(boolean transA, boolean transB, int M, int j0, int j1, int K, float alpha,
                               float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                               float beta, float[] c, int cOff, int ldc) {
        scaleC(0, M, j0, j1, beta, c, cOff, ldc);
        int sa = transA ? lda : 1; // stride along k in A's row m
        int ma = transA ? 1 : lda; // stride between rows m
        if (transB) {
            boolean aContig = sa == 1;
            float[] lanes = new float[L]; // once per call, not per output
            for (int m = 0; m < M; m++) {
                int arow = aOff + m * ma;
                int crow = cOff + m * ldc;
                for (int j = j0; j < j1; j++) {
                    int brow = bOff + j * ldb;
                    float s;
                    if (aContig) {
                        s = dot(a, arow, b, brow, K, lanes);
                    } else {
                        s = 0f;
                        for (int k = 0; k < K; k++) {
                            s += a[arow + k * sa] * b[brow + k];
                        }
                    }
                    c[crow + j] += alpha * s;
                }
            }
        } else {
            for (int m = 0; m < M; m++) {
                int arow = aOff + m * ma;
                int crow = cOff + m * ldc;
                for (int k = 0; k < K; k++) {
                    float av = alpha * a[arow + k * sa];
                    if (av == 0f) {
                        continue;
                    }
                    FloatVector x = FloatVector.broadcast(F, av);
                    int brow = bOff + k * ldb;
                    int j = j0;
                    for (; j <= j1 - L; j += L) {
                        x.fma(FloatVector.fromArray(F, b, brow + j), FloatVector.fromArray(F, c, crow + j))
                                .intoArray(c, crow + j);
                    }
                    for (; j < j1; j++) {
                        c[crow + j] += av * b[brow + j];
                    }
                }
            }
        }
    }

    /**
     * Dot product of {@code x[xo:xo+n]} and {@code y[yo:yo+n]}, vectorised with four accumulators,
     * lanes summed in a fixed order ({@code lanes}: scratch of {@link Vec#L} floats).
     */
    public static float dot(float[] x, int xo, float[] y, int yo, int n, float[] lanes) {
        FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0;
        int i = 0;
        for (; i <= n - 4 * L; i += 4 * L) {
            s0 = FloatVector.fromArray(F, x, xo + i).fma(FloatVector.fromArray(F, y, yo + i), s0);
            s1 = FloatVector.fromArray(F, x, xo + i + L).fma(FloatVector.fromArray(F, y, yo + i + L), s1);
            s2 = FloatVector.fromArray(F, x, xo + i + 2 * L).fma(FloatVector.fromArray(F, y, yo + i + 2 * L), s2);
            s3 = FloatVector.fromArray(F, x, xo + i + 3 * L).fma(FloatVector.fromArray(F, y, yo + i + 3 * L), s3);
        }
        for (; i <= n - L; i += L) {
            s0 = FloatVector.fromArray(F, x, xo + i).fma(FloatVector.fromArray(F, y, yo + i), s0);
        }
        float s = Vec.sumLanes(s0.add(s1).add(s2.add(s3)), lanes);
        for (; i < n; i++) {
            s += x[xo + i] * y[yo + i];
        }
        return s;
    }
}
