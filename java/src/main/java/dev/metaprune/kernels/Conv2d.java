package dev.metaprune.kernels;

import static dev.metaprune.kernels.Vec.F;
import static dev.metaprune.kernels.Vec.L;
import static dev.metaprune.tensor.Shapes.requireRank;

import dev.metaprune.tensor.Tensor;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

/**
 * 2-D convolution on NHWC activations with (sliced) OIHW weights: forward, input gradient and
 * weight gradient, for any kernel size, stride, padding and group count.
 *
 * <h2>Layouts</h2>
 * <ul>
 *   <li>{@code x [N, H, W, cIn]}, {@code y [N, Ho, Wo, cOut]}: NHWC, possibly channel views (pixel
 *       {@code r} of the flattened {@code N*H*W} starts at {@code x.rowOffset(r)}, pixels
 *       {@code x.ld()} apart).</li>
 *   <li>{@code w [cOutMax, W1, kh, kw]} with {@code cOutMax >= cOut} and {@code W1 >= cIn / groups}:
 *       PyTorch's OIHW. The convolution uses the leading block {@code w[:cOut, :cIn/groups]} in place:
 *       element {@code (o, i, ky, kx)} is {@code w.data()[w.offset() + ((o*W1 + i)*kh + ky)*kw + kx]}.
 *       Group {@code g} maps input channels {@code [g*cIn/groups, (g+1)*cIn/groups)} to output channels
 *       (and weight rows) {@code [g*cOut/groups, (g+1)*cOut/groups)}.</li>
 *   <li>Weight gradients {@code dw} have the weight's shape; only their leading block is written
 *       (overwritten, or added to when {@code accumulate}).</li>
 * </ul>
 *
 * <h2>Algorithms (chosen per call)</h2>
 * <ul>
 *   <li><b>Pointwise</b> ({@code 1x1}, stride 1, no padding, one group): one GEMM over the whole batch,
 *       on the tensors in place: {@code y[NHW, cOut] = x[NHW, cIn] * W^T}, {@code dx = dy * W},
 *       {@code dW = dy^T * x}.</li>
 *   <li><b>Depthwise</b> ({@code groups == cIn == cOut}): a direct stencil vectorised over channels,
 *       no im2col. The weights are repacked to {@code [kh*kw][c]} (one contiguous vector per tap);
 *       threads take ranges of output rows. In the interior of a 3x3 kernel with stride 1 or 2 each
 *       channel vector sweeps along the row with its nine taps in registers and a sliding window of
 *       source columns (3 new loads per output vector at stride 1, 6 at stride 2); the rows it will
 *       read and write are first touched sequentially (one load per cache line) so that they
 *       stream in rather than miss one strided line at a time. A channel tail is one more whole
 *       vector ending at channel {@code c} (overlapping the previous one), so the hot loops have no
 *       masks (masked lanes only below one vector of channels). Borders and other kernels run a
 *       bounds-clipped tap loop per pixel. The input gradient of a
 *       stride-1 convolution is the same stencil with the flipped kernel and padding {@code k-1-p};
 *       other strides gather, per input pixel, the list of taps that reach it. The weight gradient
 *       keeps per-thread {@code [kh*kw + 1][c]} partial sums (taps, bias), summed at the end; its
 *       3x3 interior keeps the ten sums in registers along a row.</li>
 *   <li><b>General</b> (everything else: the stem, ResNet 3x3, grouped, strided 1x1, 7x7): implicit
 *       GEMM. Blocks of output pixels are unfolded (im2col, order {@code (ky, kx, i)}, zeros for
 *       padding) into per-thread scratch and multiplied with the weights repacked per group;
 *       the input gradient multiplies {@code dy} with the packed weights and scatters the columns
 *       back (col2im; threads own whole images), the weight gradient accumulates
 *       {@code dy^T * col} into per-thread partial sums.</li>
 * </ul>
 * Scratch lives in thread-local buffers that grow on demand; nothing is allocated per pixel or block
 * (a few small arrays per call and part at most).
 * Every shape is validated first; a mismatch is an {@link IllegalArgumentException} naming the
 * shapes.
 */
public final class Conv2d {
    private Conv2d() {
    }

    /** Multiply-adds below which a call stays on the calling thread. */
    private static final long PARALLEL_MIN_MACS = 1L << 16;

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /** Per-thread buffers: {@code pack} and {@code partials} belong to a calling thread, {@code col} to a worker. */
    private static final class Scratch {
        float[] pack = new float[0];
        float[] col = new float[0];
        float[][] partials = new float[0][];

        float[] pack(int n) {
            if (pack.length < n) {
                pack = new float[n];
            }
            return pack;
        }

        float[] col(int n) {
            if (col.length < n) {
                col = new float[n];
            }
            return col;
        }

        /** {@code parts} buffers of at least {@code n} floats each (contents undefined). */
        float[][] partials(int parts, int n) {
            if (partials.length < parts) {
                partials = Arrays.copyOf(partials, parts);
            }
            for (int p = 0; p < parts; p++) {
                if (partials[p] == null || partials[p].length < n) {
                    partials[p] = new float[n];
                }
            }
            return partials;
        }
    }

    /** The validated geometry of one call. */
    private record Geom(int n, int h, int w, int ho, int wo, int cin, int cout, int cinG, int coutG, int groups,
                        int kh, int kw, int sh, int sw, int ph, int pw, int w1) {
        long macs() {
            return (long) n * ho * wo * cout * cinG * kh * kw;
        }

        int taps() {
            return kh * kw;
        }

        /** Offset of weight element (o, i, ky, kx) relative to the weight's offset. */
        int wIndex(int o, int i, int t) {
            return (o * w1 + i) * kh * kw + t;
        }
    }

    // =============================================================================================
    // Public entry points
    // =============================================================================================

    /**
     * Forward convolution: {@code y[n, oy, ox, o] = bias[o] + sum_{i, ky, kx} x[n, oy*sh - ph + ky,
     * ox*sw - pw + kx, g*cIn_g + i] * w[o, i, ky, kx]} with {@code g = o / cOut_g} and zero padding.
     *
     * @param x    input {@code [N, H, W, cIn]} (NHWC, may be a channel view)
     * @param w    weight {@code [cOutMax, >= cIn/groups, kh, kw]}; its leading block is used
     * @param bias {@code [>= cOut]} or null
     * @param y    output {@code [N, Ho, Wo, cOut]}, overwritten
     * @param s    geometry (used channel counts, kernel, stride, padding, groups)
     * @throws IllegalArgumentException on any shape that does not fit {@code s}
     */
    public static void forward(Tensor x, Tensor w, Tensor bias, Tensor y, Conv2dSpec s) {
        String op = "conv2dForward";
        Geom g = check(op, "x", x, "y", y, "w", w, s);
        checkBias(op, "bias", bias, g.cout);
        if (isPointwise(g)) {
            pointwiseForward(x, w, bias, y, g);
        } else if (s.isDepthwise()) {
            depthwiseForward(x, w, bias, y, g);
        } else {
            generalForward(x, w, bias, y, g);
        }
    }

    /**
     * Input gradient: {@code dx[n, iy, ix, i] = sum dy[n, oy, ox, o] * w[o, i, ky, kx]} over every
     * output and tap that read {@code x[n, iy, ix, i]} in the forward pass. {@code dx} is overwritten
     * (pixels no tap reaches get zero).
     *
     * @param dy gradient of the output {@code [N, Ho, Wo, cOut]}
     * @param w  weight {@code [cOutMax, >= cIn/groups, kh, kw]}; its leading block is used
     * @param dx gradient of the input {@code [N, H, W, cIn]}, overwritten
     * @throws IllegalArgumentException on any shape that does not fit {@code s}
     */
    public static void backwardInput(Tensor dy, Tensor w, Tensor dx, Conv2dSpec s) {
        String op = "conv2dBackwardInput";
        Geom g = check(op, "dx", dx, "dy", dy, "w", w, s);
        if (isPointwise(g)) {
            Gemm.sgemm(false, false, g.n * g.h * g.w, g.cin, g.cout, 1f, dy.data(), dy.offset(), dy.ld(),
                    w.data(), w.offset(), g.w1, 0f, dx.data(), dx.offset(), dx.ld());
        } else if (s.isDepthwise()) {
            depthwiseBackwardInput(dy, w, dx, g);
        } else {
            generalBackwardInput(dy, w, dx, g);
        }
    }

    /**
     * Weight and bias gradients: {@code dw[o, i, ky, kx] (+)= sum_{n, oy, ox} dy[n, oy, ox, o] *
     * x[n, oy*sh - ph + ky, ox*sw - pw + kx, g*cIn_g + i]}, {@code dbias[o] (+)= sum dy[.., o]}.
     * Only the leading {@code [cOut, cIn/groups, kh, kw]} block of {@code dw} (and the first
     * {@code cOut} entries of {@code dbias}) are touched.
     *
     * @param x          forward input {@code [N, H, W, cIn]}
     * @param dy         gradient of the output {@code [N, Ho, Wo, cOut]}
     * @param dw         weight gradient shaped like the weight ({@code [cOutMax, >= cIn/groups, kh, kw]})
     * @param dbias      bias gradient {@code [>= cOut]} or null
     * @param accumulate add into {@code dw}/{@code dbias} instead of overwriting them
     * @throws IllegalArgumentException on any shape that does not fit {@code s}
     */
    public static void backwardWeight(Tensor x, Tensor dy, Tensor dw, Tensor dbias, Conv2dSpec s,
                                      boolean accumulate) {
        String op = "conv2dBackwardWeight";
        Geom g = check(op, "x", x, "dy", dy, "dw", dw, s);
        checkBias(op, "dbias", dbias, g.cout);
        if (isPointwise(g)) {
            Gemm.sgemm(true, false, g.cout, g.cin, g.n * g.h * g.w, 1f, dy.data(), dy.offset(), dy.ld(),
                    x.data(), x.offset(), x.ld(), accumulate ? 1f : 0f, dw.data(), dw.offset(), g.w1);
            if (dbias != null) {
                Linear.columnSums(dy, dbias.data(), dbias.offset(), accumulate);
            }
        } else if (s.isDepthwise()) {
            depthwiseBackwardWeight(x, dy, dw, dbias, g, accumulate);
        } else {
            generalBackwardWeight(x, dy, dw, g, accumulate);
            if (dbias != null) {
                Linear.columnSums(dy, dbias.data(), dbias.offset(), accumulate);
            }
        }
    }

    // =============================================================================================
    // Validation
    // =============================================================================================

    private static String shape(Tensor t) {
        return Arrays.toString(t.shape());
    }

    private static Geom check(String op, String xn, Tensor x, String yn, Tensor y, String wn, Tensor w,
                              Conv2dSpec s) {
        if (s == null) {
            throw new IllegalArgumentException(op + ": the convolution spec is null");
        }
        requireRank(op, xn, x, 4);
        requireRank(op, yn, y, 4);
        requireRank(op, wn, w, 4);
        int n = x.dim(0), h = x.dim(1), wd = x.dim(2);
        if (x.dim(3) != s.cIn()) {
            throw new IllegalArgumentException(op + ": " + xn + " " + shape(x) + " has " + x.dim(3)
                    + " channels but the convolution " + s + " takes " + s.cIn());
        }
        if (y.dim(3) != s.cOut()) {
            throw new IllegalArgumentException(op + ": " + yn + " " + shape(y) + " has " + y.dim(3)
                    + " channels but the convolution " + s + " makes " + s.cOut());
        }
        if (y.dim(0) != n) {
            throw new IllegalArgumentException(op + ": " + xn + " " + shape(x) + " and " + yn + " " + shape(y)
                    + " differ in batch size");
        }
        int ho, wo;
        try {
            ho = s.outH(h);
            wo = s.outW(wd);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(op + ": " + xn + " " + shape(x) + " does not fit the convolution " + s
                    + ": " + e.getMessage(), e);
        }
        if (!(y.dim(1) == ho && y.dim(2) == wo)) {
            throw new IllegalArgumentException(op + ": " + yn + " " + shape(y)
                    + " does not match the output size [" + n + ", " + ho + ", " + wo + ", " + s.cOut()
                    + "] of the convolution " + s + " on " + xn + " " + shape(x));
        }
        int cinG = s.cIn() / s.groups(), coutG = s.cOut() / s.groups();
        if (!(w.dim(2) == s.kh() && w.dim(3) == s.kw())) {
            throw new IllegalArgumentException(op + ": " + wn + " " + shape(w) + " has a "
                    + w.dim(2) + "x" + w.dim(3) + " kernel but the convolution " + s + " is " + s.kh() + "x" + s.kw());
        }
        if (!(w.dim(0) >= s.cOut() && w.dim(1) >= cinG)) {
            throw new IllegalArgumentException(op + ": the convolution " + s + " needs a [" + s.cOut()
                    + ", " + cinG + ", " + s.kh() + ", " + s.kw() + "] weight block but " + wn + " is " + shape(w)
                    + ": a slice wider than its weight tensor");
        }
        if (!w.isContiguous()) {
            throw new IllegalArgumentException(op + ": " + wn + " " + w + " must be contiguous (OIHW)");
        }
        return new Geom(n, h, wd, ho, wo, s.cIn(), s.cOut(), cinG, coutG, s.groups(), s.kh(), s.kw(), s.strideH(),
                s.strideW(), s.padH(), s.padW(), w.dim(1));
    }

    private static void checkBias(String op, String name, Tensor b, int cout) {
        if (b != null) {
            if (!(b.rank() == 1 && b.dim(0) >= cout)) {
                throw new IllegalArgumentException(op + ": " + name + " " + shape(b)
                        + " must be a vector of at least " + cout + " entries");
            }
        }
    }

    private static boolean isPointwise(Geom g) {
        return g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.ph == 0 && g.pw == 0 && g.groups == 1;
    }

    private static int parts(long macs) {
        return macs >= PARALLEL_MIN_MACS ? Parallel.threadCount() : 1;
    }

    private static int ceilDiv(int a, int b) {
        return -Math.floorDiv(-a, b);
    }

    // =============================================================================================
    // Pointwise: GEMM over the batch
    // =============================================================================================

    private static void pointwiseForward(Tensor x, Tensor w, Tensor bias, Tensor y, Geom g) {
        int rows = g.n * g.h * g.w;
        if (bias != null) {
            fillRows(y.data(), y.offset(), y.ld(), 0, rows, bias.data(), bias.offset(), g.cout);
        }
        Gemm.sgemm(false, true, rows, g.cout, g.cin, 1f, x.data(), x.offset(), x.ld(), w.data(), w.offset(), g.w1,
                bias == null ? 0f : 1f, y.data(), y.offset(), y.ld());
    }

    /** Copies {@code v[vOff : vOff+len]} into rows {@code [r0, r1)} of a strided matrix. */
    private static void fillRows(float[] d, int off, int ld, int r0, int r1, float[] v, int vOff, int len) {
        for (int r = r0; r < r1; r++) {
            System.arraycopy(v, vOff, d, off + r * ld, len);
        }
    }

    // =============================================================================================
    // Depthwise: direct NHWC stencil
    // =============================================================================================

    /** Channel count rounded up to whole vectors: the row stride of packed per-tap weights. */
    private static int padded(int c) {
        return (c + L - 1) / L * L;
    }

    /**
     * Repacks the depthwise weights {@code w[:c, 0, ky, kx]} to {@code dst[t*cp + ch]}, zero-padded to
     * {@code cp} per tap; with {@code flip} tap {@code (ky, kx)} takes {@code w[.., kh-1-ky, kw-1-kx]}.
     */
    private static void packDepthwise(Tensor w, Geom g, int cp, boolean flip, float[] dst) {
        int taps = g.taps(), c = g.cout;
        float[] wd = w.data();
        int off = w.offset();
        for (int t = 0; t < taps; t++) {
            int src = flip ? taps - 1 - t : t;
            int row = t * cp;
            for (int ch = 0; ch < c; ch++) {
                dst[row + ch] = wd[off + g.wIndex(ch, 0, src)];
            }
            Arrays.fill(dst, row + c, row + cp, 0f);
        }
    }

    /**
     * The geometry of one stencil sweep {@code dst = src (*) taps + bias}: a correlation of a
     * {@code [N, sH, sW, c]} source with {@code kh x kw} per-channel taps, stride and zero padding,
     * into a {@code [N, dH, dW, c]} destination. Serves the depthwise forward pass and, with flipped
     * taps, the stride-1 input gradient.
     */
    private record Stencil(float[] src, int sOff, int sLd, int sH, int sW,
                           float[] dst, int dOff, int dLd, int dH, int dW,
                           float[] wp, int cp, float[] bias, int bOff, int c,
                           int kh, int kw, int sh, int sw, int ph, int pw) {
    }

    private static void depthwiseForward(Tensor x, Tensor w, Tensor bias, Tensor y, Geom g) {
        int cp = padded(g.cout);
        float[] wp = SCRATCH.get().pack(g.taps() * cp);
        packDepthwise(w, g, cp, false, wp);
        Stencil st = new Stencil(x.data(), x.offset(), x.ld(), g.h, g.w, y.data(), y.offset(), y.ld(), g.ho, g.wo,
                wp, cp, bias == null ? null : bias.data(), bias == null ? 0 : bias.offset(), g.cout,
                g.kh, g.kw, g.sh, g.sw, g.ph, g.pw);
        runStencil(st, g.n, g.macs());
    }

    private static void runStencil(Stencil st, int n, long macs) {
        int rows = n * st.dH;
        int parts = Math.min(parts(macs), rows);
        Parallel.get().run(parts, (p, np) -> stencilRows(st, Parallel.split(rows, np, p),
                Parallel.split(rows, np, p + 1)));
    }

    /**
     * Destination rows {@code [r0, r1)} of the flattened {@code N*dH}.
     *
     * <p>Interior rows of a 3x3 stencil run channel vector by channel vector along the row (taps
     * in registers). That order reads memory with a stride of one pixel; before it, the source rows
     * the previous row did not use and the destination row are touched sequentially, one load per
     * cache line, so that they stream in at full bandwidth instead of one strided miss at a time
     * (worth about 2x at batch 32, 144 channels, 56x56).
     */
    private static void stencilRows(Stencil st, int r0, int r1) {
        final int c = st.c, kh = st.kh, kw = st.kw, sh = st.sh, sw = st.sw, ph = st.ph, pw = st.pw;
        final int sH = st.sH, sW = st.sW, sLd = st.sLd, dH = st.dH, dW = st.dW, dLd = st.dLd;
        // Interior columns: every kx tap inside the source row.
        int oxA = Math.min(dW, ceilDiv(pw, sw));
        int oxB = Math.max(oxA, Math.min(dW, Math.floorDiv(sW + pw - kw, sw) + 1));
        // The unrolled 3x3 interior (strides 1 and 2, at least one vector of channels); borders and
        // other kernels use the clipped tap loop.
        boolean fast = kh == 3 && kw == 3 && sw <= 2 && oxB > oxA && c >= L;
        int touched = 0;
        for (int r = r0; r < r1; r++) {
            int img = r / dH, oy = r - img * dH;
            int iy0 = oy * sh - ph;
            int ky0 = Math.max(0, -iy0), ky1 = Math.min(kh, sH - iy0);
            int srcImg = st.sOff + img * sH * sW * sLd;
            int dRow = st.dOff + r * dW * dLd;
            if (fast && ky0 == 0 && ky1 == 3) {
                int fresh = r == r0 || oy == 0 ? 0 : Math.max(0, 3 - sh);
                for (int ky = fresh; ky < 3; ky++) {
                    touched += touchLines(st.src, srcImg + (iy0 + ky) * sW * sLd, sW * sLd);
                }
                touched += touchLines(st.dst, dRow, dW * dLd);
                int s0 = srcImg + (iy0 * sW + oxA * sw - pw) * sLd, d0 = dRow + oxA * dLd, count = oxB - oxA;
                // A channel tail is done as one more full vector ending at c (it overlaps the
                // previous one and rewrites the same values): no masks in the loop.
                for (int j0 = 0; j0 < c; j0 += L) {
                    int j = Math.min(j0, c - L);
                    if (sw == 1) {
                        stencil3x3s1(st.src, s0 + j, sW * sLd, sLd, st.wp, j, st.cp, st.bias, st.bOff + j,
                                st.dst, d0 + j, dLd, count);
                    } else {
                        stencil3x3s2(st.src, s0 + j, sW * sLd, sLd, st.wp, j, st.cp, st.bias, st.bOff + j,
                                st.dst, d0 + j, dLd, count);
                    }
                }
                for (int ox = 0; ox < oxA; ox++) {
                    stencilPixel(st, srcImg, iy0, ky0, ky1, ox, dRow);
                }
                for (int ox = oxB; ox < dW; ox++) {
                    stencilPixel(st, srcImg, iy0, ky0, ky1, ox, dRow);
                }
            } else {
                for (int ox = 0; ox < dW; ox++) {
                    stencilPixel(st, srcImg, iy0, ky0, ky1, ox, dRow);
                }
            }
        }
        touchSink = touched;
    }

    /** Keeps the touch loads alive (their values are otherwise unused). */
    @SuppressWarnings("unused")
    private static int touchSink;

    /** One load per 64-byte line of {@code a[from : from+len]}: brings a row into cache sequentially. */
    private static int touchLines(float[] a, int from, int len) {
        int h = 0;
        for (int i = Math.max(0, from), end = Math.min(a.length, from + len); i < end; i += 16) {
            h ^= Float.floatToRawIntBits(a[i]);
        }
        return h;
    }

    /** The nine taps of channel vector {@code w0} of packed weights {@code [9][cp]}. */
    private static FloatVector tap(float[] wp, int w0, int cp, int t) {
        return FloatVector.fromArray(F, wp, w0 + t * cp);
    }

    /**
     * Interior run of a stride-1 3x3 stencil for one full channel vector: {@code count} destination
     * pixels, the nine taps in registers and a sliding window of three source columns (three new
     * loads per output vector), one partial sum per kernel row for latency.
     *
     * @param s0      source index of tap (0, 0) of the first pixel
     * @param rowStep distance between source rows; {@code colStep} between source pixels
     */
    private static void stencil3x3s1(float[] src, int s0, int rowStep, int colStep, float[] wp, int w0, int cp,
                                     float[] bias, int bOff, float[] dst, int d0, int dLd, int count) {
        FloatVector k00 = tap(wp, w0, cp, 0), k01 = tap(wp, w0, cp, 1), k02 = tap(wp, w0, cp, 2),
                k10 = tap(wp, w0, cp, 3), k11 = tap(wp, w0, cp, 4), k12 = tap(wp, w0, cp, 5),
                k20 = tap(wp, w0, cp, 6), k21 = tap(wp, w0, cp, 7), k22 = tap(wp, w0, cp, 8);
        FloatVector b = bias == null ? FloatVector.zero(F) : FloatVector.fromArray(F, bias, bOff);
        int r1 = rowStep, r2 = 2 * rowStep;
        // columns x - 2 (a), x - 1 (b) and x (c) of the window, rows 0..2
        FloatVector a0 = FloatVector.fromArray(F, src, s0), a1 = FloatVector.fromArray(F, src, s0 + r1),
                a2 = FloatVector.fromArray(F, src, s0 + r2);
        int q = s0 + colStep;
        FloatVector b0 = FloatVector.fromArray(F, src, q), b1 = FloatVector.fromArray(F, src, q + r1),
                b2 = FloatVector.fromArray(F, src, q + r2);
        q += colStep;
        for (int i = 0, dp = d0; i < count; i++, q += colStep, dp += dLd) {
            FloatVector c0 = FloatVector.fromArray(F, src, q), c1 = FloatVector.fromArray(F, src, q + r1),
                    c2 = FloatVector.fromArray(F, src, q + r2);
            FloatVector s = a0.fma(k00, b), t = a1.mul(k10), u = a2.mul(k20);
            s = b0.fma(k01, s);
            t = b1.fma(k11, t);
            u = b2.fma(k21, u);
            s = c0.fma(k02, s);
            t = c1.fma(k12, t);
            u = c2.fma(k22, u);
            s.add(t).add(u).intoArray(dst, dp);
            a0 = b0;
            a1 = b1;
            a2 = b2;
            b0 = c0;
            b1 = c1;
            b2 = c2;
        }
    }

    /** As {@link #stencil3x3s1} for stride 2: the window moves two columns; the last one is reused. */
    private static void stencil3x3s2(float[] src, int s0, int rowStep, int colStep, float[] wp, int w0, int cp,
                                     float[] bias, int bOff, float[] dst, int d0, int dLd, int count) {
        FloatVector k00 = tap(wp, w0, cp, 0), k01 = tap(wp, w0, cp, 1), k02 = tap(wp, w0, cp, 2),
                k10 = tap(wp, w0, cp, 3), k11 = tap(wp, w0, cp, 4), k12 = tap(wp, w0, cp, 5),
                k20 = tap(wp, w0, cp, 6), k21 = tap(wp, w0, cp, 7), k22 = tap(wp, w0, cp, 8);
        FloatVector b = bias == null ? FloatVector.zero(F) : FloatVector.fromArray(F, bias, bOff);
        int r1 = rowStep, r2 = 2 * rowStep;
        FloatVector a0 = FloatVector.fromArray(F, src, s0), a1 = FloatVector.fromArray(F, src, s0 + r1),
                a2 = FloatVector.fromArray(F, src, s0 + r2);
        int q = s0 + colStep;
        for (int i = 0, dp = d0; i < count; i++, q += 2 * colStep, dp += dLd) {
            int q2 = q + colStep;
            FloatVector b0 = FloatVector.fromArray(F, src, q), b1 = FloatVector.fromArray(F, src, q + r1),
                    b2 = FloatVector.fromArray(F, src, q + r2);
            FloatVector c0 = FloatVector.fromArray(F, src, q2), c1 = FloatVector.fromArray(F, src, q2 + r1),
                    c2 = FloatVector.fromArray(F, src, q2 + r2);
            FloatVector s = a0.fma(k00, b), t = a1.mul(k10), u = a2.mul(k20);
            s = b0.fma(k01, s);
            t = b1.fma(k11, t);
            u = b2.fma(k21, u);
            s = c0.fma(k02, s);
            t = c1.fma(k12, t);
            u = c2.fma(k22, u);
            s.add(t).add(u).intoArray(dst, dp);
            a0 = c0;
            a1 = c1;
            a2 = c2;
        }
    }

    /**
     * One destination pixel, all channels: the taps clipped to the source. Used at borders and for
     * kernels other than 3x3. Whole vectors; a channel tail is one more vector ending at {@code c}
     * (overlapping the previous one, same values); masked loads only below one vector of channels.
     */
    private static void stencilPixel(Stencil st, int srcImg, int iy0, int ky0, int ky1, int ox, int dRow) {
        final int c = st.c, kw = st.kw, sLd = st.sLd, sW = st.sW, cp = st.cp;
        final float[] src = st.src, wp = st.wp, dst = st.dst, bias = st.bias;
        int ix0 = ox * st.sw - st.pw;
        int kx0 = Math.max(0, -ix0), kx1 = Math.min(kw, sW - ix0);
        int dp = dRow + ox * st.dLd;
        if (c < L) {
            VectorMask<Float> m = F.indexInRange(0, c);
            FloatVector acc = bias == null ? FloatVector.zero(F) : FloatVector.fromArray(F, bias, st.bOff, m);
            for (int ky = ky0; ky < ky1; ky++) {
                int sp = srcImg + ((iy0 + ky) * sW + ix0) * sLd, wt = ky * kw * cp;
                for (int kx = kx0; kx < kx1; kx++) {
                    acc = FloatVector.fromArray(F, src, sp + kx * sLd, m).fma(FloatVector.fromArray(F, wp, wt + kx * cp),
                            acc);
                }
            }
            acc.intoArray(dst, dp, m);
            return;
        }
        for (int j0 = 0; j0 < c; j0 += L) {
            int j = Math.min(j0, c - L);
            FloatVector acc = bias == null ? FloatVector.zero(F) : FloatVector.fromArray(F, bias, st.bOff + j);
            for (int ky = ky0; ky < ky1; ky++) {
                int sp = srcImg + ((iy0 + ky) * sW + ix0) * sLd + j, wt = ky * kw * cp + j;
                for (int kx = kx0; kx < kx1; kx++) {
                    acc = FloatVector.fromArray(F, src, sp + kx * sLd).fma(FloatVector.fromArray(F, wp, wt + kx * cp), acc);
                }
            }
            acc.intoArray(dst, dp + j);
        }
    }

    private static void depthwiseBackwardInput(Tensor dy, Tensor w, Tensor dx, Geom g) {
        int cp = padded(g.cin);
        float[] wp = SCRATCH.get().pack(g.taps() * cp);
        if (g.sh == 1 && g.sw == 1 && g.ph < g.kh && g.pw < g.kw) {
            // dx = dy (*) flip(w) with padding k-1-p: the forward stencil.
            packDepthwise(w, g, cp, true, wp);
            Stencil st = new Stencil(dy.data(), dy.offset(), dy.ld(), g.ho, g.wo, dx.data(), dx.offset(), dx.ld(),
                    g.h, g.w, wp, cp, null, 0, g.cin, g.kh, g.kw, 1, 1, g.kh - 1 - g.ph, g.kw - 1 - g.pw);
            runStencil(st, g.n, g.macs());
            return;
        }
        packDepthwise(w, g, cp, false, wp);
        int rows = g.n * g.h;
        int parts = Math.min(parts(g.macs()), rows);
        float[] dyd = dy.data(), dxd = dx.data();
        int dyOff = dy.offset(), dyLd = dy.ld(), dxOff = dx.offset(), dxLd = dx.ld();
        VectorMask<Float> few = F.indexInRange(0, g.cin); // fewer channels than lanes
        Parallel.get().run(parts, (p, np) -> {
            int c = g.cin;
            // The taps reaching one dx pixel: dy pixel offsets and packed weight offsets.
            int[] dyAt = new int[g.taps()], wAt = new int[g.taps()];
            int[] rowAt = new int[g.kh], rowTap = new int[g.kh];
            for (int r = Parallel.split(rows, np, p), r1 = Parallel.split(rows, np, p + 1); r < r1; r++) {
                int img = r / g.h, iy = r - img * g.h;
                int ty = iy + g.ph;
                int kyLo = Math.max(0, ty - g.sh * (g.ho - 1)), kyHi = Math.min(g.kh - 1, ty);
                int dyImg = dyOff + img * g.ho * g.wo * dyLd;
                int nky = 0;
                for (int ky = kyLo + Math.floorMod(ty - kyLo, g.sh); ky <= kyHi; ky += g.sh, nky++) {
                    rowAt[nky] = dyImg + (ty - ky) / g.sh * g.wo * dyLd;
                    rowTap[nky] = ky * g.kw;
                }
                int dxRow = dxOff + r * g.w * dxLd;
                for (int ix = 0; ix < g.w; ix++) {
                    int tx = ix + g.pw;
                    int kxLo = Math.max(0, tx - g.sw * (g.wo - 1)), kxHi = Math.min(g.kw - 1, tx);
                    int nt = 0;
                    for (int kx = kxLo + Math.floorMod(tx - kxLo, g.sw); kx <= kxHi; kx += g.sw) {
                        int col = (tx - kx) / g.sw * dyLd;
                        for (int t = 0; t < nky; t++, nt++) {
                            dyAt[nt] = rowAt[t] + col;
                            wAt[nt] = (rowTap[t] + kx) * cp;
                        }
                    }
                    int dp = dxRow + ix * dxLd;
                    if (c >= L) {
                        // whole vectors; a tail is one more vector ending at c (overlapping, same values)
                        for (int j0 = 0; j0 < c; j0 += L) {
                            int j = Math.min(j0, c - L);
                            FloatVector acc = FloatVector.zero(F);
                            for (int t = 0; t < nt; t++) {
                                acc = FloatVector.fromArray(F, dyd, dyAt[t] + j)
                                        .fma(FloatVector.fromArray(F, wp, wAt[t] + j), acc);
                            }
                            acc.intoArray(dxd, dp + j);
                        }
                    } else {
                        FloatVector acc = FloatVector.zero(F);
                        for (int t = 0; t < nt; t++) {
                            acc = FloatVector.fromArray(F, dyd, dyAt[t], few)
                                    .fma(FloatVector.fromArray(F, wp, wAt[t]), acc);
                        }
                        acc.intoArray(dxd, dp, few);
                    }
                }
            }
        });
    }

    private static void depthwiseBackwardWeight(Tensor x, Tensor dy, Tensor dw, Tensor dbias, Geom g,
                                                boolean accumulate) {
        final int c = g.cin, cp = padded(c), taps = g.taps(), size = (taps + 1) * cp;
        int rows = g.n * g.ho;
        int parts = Math.min(parts(g.macs()), rows);
        float[][] partials = SCRATCH.get().partials(parts, size);
        float[] xd = x.data(), dyd = dy.data();
        int xOff = x.offset(), xLd = x.ld(), dyOff = dy.offset(), dyLd = dy.ld();
        int oxA = Math.min(g.wo, ceilDiv(g.pw, g.sw));
        int oxB = Math.max(oxA, Math.min(g.wo, Math.floorDiv(g.w + g.pw - g.kw, g.sw) + 1));
        int cFull = c / L * L;
        boolean fast3 = g.kh == 3 && g.kw == 3 && g.sw <= 2 && oxB > oxA && c >= L;
        Parallel.get().run(parts, (p, np) -> {
            float[] acc = partials[p];
            Arrays.fill(acc, 0, size, 0f);
            float[] tailAcc = new float[(taps + 1) * L];
            int touched = 0;
            int r0 = Parallel.split(rows, np, p);
            for (int r = r0, r1 = Parallel.split(rows, np, p + 1); r < r1; r++) {
                int img = r / g.ho, oy = r - img * g.ho;
                int iy0 = oy * g.sh - g.ph;
                int ky0 = Math.max(0, -iy0), ky1 = Math.min(g.kh, g.h - iy0);
                int xImg = xOff + img * g.h * g.w * xLd;
                int dyRow = dyOff + r * g.wo * dyLd;
                boolean fast = fast3 && ky0 == 0 && ky1 == 3;
                if (fast) {
                    int fresh = r == r0 || oy == 0 ? 0 : Math.max(0, 3 - g.sh);
                    for (int ky = fresh; ky < 3; ky++) {
                        touched += touchLines(xd, xImg + (iy0 + ky) * g.w * xLd, g.w * xLd);
                    }
                    touched += touchLines(dyd, dyRow, g.wo * dyLd);
                    int s0 = xImg + (iy0 * g.w + oxA * g.sw - g.pw) * xLd, d0 = dyRow + oxA * dyLd;
                    for (int j = 0; j < cFull; j += L) {
                        weight3x3(xd, s0 + j, g.w * xLd, xLd, g.sw, dyd, d0 + j, dyLd, oxB - oxA, acc, j, cp);
                    }
                    if (cFull < c) {
                        // The tail as a full vector ending at c, summed apart; only its last lanes are kept.
                        int j = c - L;
                        Arrays.fill(tailAcc, 0f);
                        weight3x3(xd, s0 + j, g.w * xLd, xLd, g.sw, dyd, d0 + j, dyLd, oxB - oxA, tailAcc, 0, L);
                        for (int t = 0; t <= taps; t++) {
                            for (int ch = cFull; ch < c; ch++) {
                                acc[t * cp + ch] += tailAcc[t * L + ch - j];
                            }
                        }
                    }
                }
                for (int ox = 0; ox < g.wo; ox++) {
                    if (!fast || ox < oxA || ox >= oxB) {
                        weightPixel(xd, xImg, xLd, g, iy0, ky0, ky1, ox, dyd, dyRow + ox * dyLd, acc, cp);
                    }
                }
            }
            touchSink = touched;
        });
        // Reduce the partial sums into the leading block of dw (and dbias).
        float[] dwd = dw.data();
        int dwOff = dw.offset();
        for (int ch = 0; ch < c; ch++) {
            for (int t = 0; t < taps; t++) {
                float s = 0f;
                for (int p = 0; p < parts; p++) {
                    s += partials[p][t * cp + ch];
                }
                int idx = dwOff + g.wIndex(ch, 0, t);
                dwd[idx] = accumulate ? dwd[idx] + s : s;
            }
        }
        if (dbias != null) {
            float[] bd = dbias.data();
            for (int ch = 0; ch < c; ch++) {
                float s = 0f;
                for (int p = 0; p < parts; p++) {
                    s += partials[p][taps * cp + ch];
                }
                int idx = dbias.offset() + ch;
                bd[idx] = accumulate ? bd[idx] + s : s;
            }
        }
    }

    /**
     * Weight gradient of an interior run of a 3x3 stencil (stride 1 or 2) for one full channel
     * vector: nine tap sums and the bias sum in registers over {@code count} pixels, a sliding window
     * of source columns (stride 1: three new loads per pixel, stride 2: six), then added to
     * {@code acc} ({@code [10][cp]}: nine taps, then the bias).
     */
    private static void weight3x3(float[] x, int s0, int rowStep, int colStep, int stride, float[] dy, int d0,
                                  int dLd, int count, float[] acc, int j, int cp) {
        FloatVector z = FloatVector.zero(F);
        FloatVector g00 = z, g01 = z, g02 = z, g10 = z, g11 = z, g12 = z, g20 = z, g21 = z, g22 = z, gb = z;
        int r1 = rowStep, r2 = 2 * rowStep;
        FloatVector a0 = FloatVector.fromArray(F, x, s0), a1 = FloatVector.fromArray(F, x, s0 + r1),
                a2 = FloatVector.fromArray(F, x, s0 + r2);
        int q = s0 + colStep;
        FloatVector b0 = z, b1 = z, b2 = z;
        if (stride == 1) {
            b0 = FloatVector.fromArray(F, x, q);
            b1 = FloatVector.fromArray(F, x, q + r1);
            b2 = FloatVector.fromArray(F, x, q + r2);
            q += colStep;
        }
        for (int i = 0, dp = d0; i < count; i++, dp += dLd) {
            if (stride != 1) {
                b0 = FloatVector.fromArray(F, x, q);
                b1 = FloatVector.fromArray(F, x, q + r1);
                b2 = FloatVector.fromArray(F, x, q + r2);
                q += colStep;
            }
            FloatVector c0 = FloatVector.fromArray(F, x, q), c1 = FloatVector.fromArray(F, x, q + r1),
                    c2 = FloatVector.fromArray(F, x, q + r2);
            q += colStep;
            FloatVector d = FloatVector.fromArray(F, dy, dp);
            g00 = a0.fma(d, g00);
            g01 = b0.fma(d, g01);
            g02 = c0.fma(d, g02);
            g10 = a1.fma(d, g10);
            g11 = b1.fma(d, g11);
            g12 = c1.fma(d, g12);
            g20 = a2.fma(d, g20);
            g21 = b2.fma(d, g21);
            g22 = c2.fma(d, g22);
            gb = gb.add(d);
            if (stride == 1) {
                a0 = b0;
                a1 = b1;
                a2 = b2;
                b0 = c0;
                b1 = c1;
                b2 = c2;
            } else {
                a0 = c0;
                a1 = c1;
                a2 = c2;
            }
        }
        addInto(acc, j, g00);
        addInto(acc, j + cp, g01);
        addInto(acc, j + 2 * cp, g02);
        addInto(acc, j + 3 * cp, g10);
        addInto(acc, j + 4 * cp, g11);
        addInto(acc, j + 5 * cp, g12);
        addInto(acc, j + 6 * cp, g20);
        addInto(acc, j + 7 * cp, g21);
        addInto(acc, j + 8 * cp, g22);
        addInto(acc, j + 9 * cp, gb);
    }

    private static void addInto(float[] a, int i, FloatVector v) {
        FloatVector.fromArray(F, a, i).add(v).intoArray(a, i);
    }

    /** Weight gradient contribution of one output pixel, all channels, taps clipped. */
    private static void weightPixel(float[] x, int xImg, int xLd, Geom g, int iy0, int ky0, int ky1, int ox,
                                    float[] dy, int dp, float[] acc, int cp) {
        int c = g.cin, kw = g.kw;
        int ix0 = ox * g.sw - g.pw;
        int kx0 = Math.max(0, -ix0), kx1 = Math.min(kw, g.w - ix0);
        int biasRow = g.taps() * cp;
        for (int j = 0; j < c; j += L) {
            VectorMask<Float> m = F.indexInRange(j, c);
            FloatVector d = FloatVector.fromArray(F, dy, dp + j, m);
            for (int ky = ky0; ky < ky1; ky++) {
                int sp = xImg + ((iy0 + ky) * g.w + ix0) * xLd + j;
                int wt = ky * kw * cp + j;
                for (int kx = kx0; kx < kx1; kx++) {
                    int a = wt + kx * cp;
                    FloatVector.fromArray(F, x, sp + kx * xLd, m).fma(d, FloatVector.fromArray(F, acc, a))
                            .intoArray(acc, a);
                }
            }
            addInto(acc, biasRow + j, d);
        }
    }

    // =============================================================================================
    // General: implicit GEMM (im2col on pixel blocks)
    // =============================================================================================

    /** Output pixels per im2col block for a column length {@code k}: about 256 KiB of columns. */
    private static int blockPixels(int k) {
        return Math.max(48, Math.min(1024, (64 * 1024) / k));
    }

    /** For the weight gradient the pixels are the GEMM's reduction: longer blocks (about 2 MiB). */
    private static int blockPixelsWeight(int k) {
        return Math.max(256, Math.min(4096, (512 * 1024) / k));
    }

    /**
     * Packs the weight block per group as {@code dst[g][t*cinG + i][o]} ({@code [K, coutG]},
     * {@code transposed == true}: the forward GEMM's B) or {@code dst[g][o][t*cinG + i]}
     * ({@code [coutG, K]}: the input-gradient GEMM's B).
     */
    private static void packGeneral(Tensor w, Geom g, boolean kMajor, float[] dst) {
        int taps = g.taps(), k = taps * g.cinG, coutG = g.coutG;
        float[] wd = w.data();
        int off = w.offset();
        for (int gr = 0; gr < g.groups; gr++) {
            int base = gr * k * coutG;
            for (int o = 0; o < coutG; o++) {
                for (int i = 0; i < g.cinG; i++) {
                    int src = off + g.wIndex(gr * coutG + o, i, 0);
                    for (int t = 0; t < taps; t++) {
                        int kk = t * g.cinG + i;
                        dst[base + (kMajor ? kk * coutG + o : o * k + kk)] = wd[src + t];
                    }
                }
            }
        }
    }

    /**
     * Unfolds output pixels {@code [q0, q1)} (flattened {@code N*Ho*Wo}) of group {@code gr} into
     * {@code col[q - q0][(ky*kw + kx)*cinG + i]}, zeros where a tap falls in the padding.
     */
    private static void im2col(Tensor x, Geom g, int gr, int q0, int q1, float[] col) {
        final float[] xd = x.data();
        final int ld = x.ld(), cinG = g.cinG, kw = g.kw, k = g.taps() * cinG, rowLen = kw * cinG;
        final boolean runs = ld == cinG; // the taps of one kernel row are contiguous in x
        int hw = g.ho * g.wo;
        int img = q0 / hw, rem = q0 - img * hw, oy = rem / g.wo, ox = rem - oy * g.wo;
        for (int q = q0, cb = 0; q < q1; q++, cb += k) {
            int iy0 = oy * g.sh - g.ph, ix0 = ox * g.sw - g.pw;
            int xImg = x.offset() + img * g.h * g.w * ld + gr * cinG;
            boolean colsIn = ix0 >= 0 && ix0 + kw <= g.w;
            for (int ky = 0; ky < g.kh; ky++) {
                int iy = iy0 + ky, dst = cb + ky * rowLen;
                if (iy < 0 || iy >= g.h) {
                    Arrays.fill(col, dst, dst + rowLen, 0f);
                    continue;
                }
                int src = xImg + (iy * g.w + ix0) * ld;
                if (runs && colsIn) {
                    System.arraycopy(xd, src, col, dst, rowLen);
                    continue;
                }
                for (int kx = 0; kx < kw; kx++, dst += cinG, src += ld) {
                    int ix = ix0 + kx;
                    if (ix < 0 || ix >= g.w) {
                        Arrays.fill(col, dst, dst + cinG, 0f);
                    } else {
                        System.arraycopy(xd, src, col, dst, cinG);
                    }
                }
            }
            if (++ox == g.wo) {
                ox = 0;
                if (++oy == g.ho) {
                    oy = 0;
                    img++;
                }
            }
        }
    }

    /** Adds the columns of pixels {@code [q0, q1)} of group {@code gr} back into {@code dx} (col2im). */
    private static void col2im(float[] col, Geom g, int gr, int q0, int q1, Tensor dx) {
        final float[] xd = dx.data();
        final int ld = dx.ld(), cinG = g.cinG, kw = g.kw, k = g.taps() * cinG;
        int hw = g.ho * g.wo;
        int img = q0 / hw, rem = q0 - img * hw, oy = rem / g.wo, ox = rem - oy * g.wo;
        for (int q = q0, cb = 0; q < q1; q++, cb += k) {
            int iy0 = oy * g.sh - g.ph, ix0 = ox * g.sw - g.pw;
            int xImg = dx.offset() + img * g.h * g.w * ld + gr * cinG;
            int kx0 = Math.max(0, -ix0), kx1 = Math.min(kw, g.w - ix0);
            for (int ky = Math.max(0, -iy0), ky1 = Math.min(g.kh, g.h - iy0); ky < ky1; ky++) {
                int src = cb + (ky * kw + kx0) * cinG;
                int dst = xImg + ((iy0 + ky) * g.w + ix0 + kx0) * ld;
                for (int kx = kx0; kx < kx1; kx++, src += cinG, dst += ld) {
                    addTo(col, src, xd, dst, cinG);
                }
            }
            if (++ox == g.wo) {
                ox = 0;
                if (++oy == g.ho) {
                    oy = 0;
                    img++;
                }
            }
        }
    }

    /** {@code d[dOff : dOff+n] += s[sOff : sOff+n]}. */
    private static void addTo(float[] s, int sOff, float[] d, int dOff, int n) {
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromArray(F, s, sOff + i).add(FloatVector.fromArray(F, d, dOff + i)).intoArray(d, dOff + i);
        }
        for (; i < n; i++) {
            d[dOff + i] += s[sOff + i];
        }
    }

    private static void generalForward(Tensor x, Tensor w, Tensor bias, Tensor y, Geom g) {
        int k = g.taps() * g.cinG, coutG = g.coutG;
        float[] wp = SCRATCH.get().pack(g.groups * k * coutG);
        packGeneral(w, g, true, wp);
        int total = g.n * g.ho * g.wo, block = blockPixels(k);
        int blocks = (total + block - 1) / block;
        int parts = Math.min(parts(g.macs()), blocks);
        float[] yd = y.data();
        Parallel.get().run(parts, (p, np) -> {
            int b0 = Parallel.split(blocks, np, p), b1 = Parallel.split(blocks, np, p + 1);
            float[] col = SCRATCH.get().col(block * k);
            for (int b = b0; b < b1; b++) {
                int q0 = b * block, q1 = Math.min(total, q0 + block), m = q1 - q0;
                if (bias != null) {
                    fillRows(yd, y.offset(), y.ld(), q0, q1, bias.data(), bias.offset(), g.cout);
                }
                for (int gr = 0; gr < g.groups; gr++) {
                    im2col(x, g, gr, q0, q1, col);
                    Gemm.sgemm(false, false, m, coutG, k, 1f, col, 0, k, wp, gr * k * coutG, coutG,
                            bias == null ? 0f : 1f, yd, y.rowOffset(q0) + gr * coutG, y.ld());
                }
            }
        });
    }

    private static void generalBackwardInput(Tensor dy, Tensor w, Tensor dx, Geom g) {
        int k = g.taps() * g.cinG, coutG = g.coutG;
        float[] wp = SCRATCH.get().pack(g.groups * k * coutG);
        packGeneral(w, g, false, wp);
        int hw = g.ho * g.wo, block = blockPixels(k);
        // col2im scatters into overlapping input pixels: each part owns whole images.
        int parts = Math.min(parts(g.macs()), g.n);
        float[] dyd = dy.data();
        Parallel.get().run(parts, (p, np) -> {
            int n0 = Parallel.split(g.n, np, p), n1 = Parallel.split(g.n, np, p + 1);
            if (n1 == n0) {
                return;
            }
            dx.slice0(n0, n1).fill(0f);
            float[] col = SCRATCH.get().col(block * k);
            for (int q0 = n0 * hw, end = n1 * hw; q0 < end; q0 += block) {
                int q1 = Math.min(end, q0 + block), m = q1 - q0;
                for (int gr = 0; gr < g.groups; gr++) {
                    Gemm.sgemm(false, false, m, k, coutG, 1f, dyd, dy.rowOffset(q0) + gr * coutG, dy.ld(),
                            wp, gr * coutG * k, k, 0f, col, 0, k);
                    col2im(col, g, gr, q0, q1, dx);
                }
            }
        });
    }

    private static void generalBackwardWeight(Tensor x, Tensor dy, Tensor dw, Geom g, boolean accumulate) {
        int k = g.taps() * g.cinG, coutG = g.coutG, size = g.cout * k;
        int total = g.n * g.ho * g.wo, block = blockPixelsWeight(k);
        int blocks = (total + block - 1) / block;
        int parts = Math.min(parts(g.macs()), blocks);
        float[][] partials = SCRATCH.get().partials(parts, size);
        float[] dyd = dy.data();
        Parallel.get().run(parts, (p, np) -> {
            float[] acc = partials[p];
            Arrays.fill(acc, 0, size, 0f);
            float[] col = SCRATCH.get().col(block * k);
            for (int b = Parallel.split(blocks, np, p), b1 = Parallel.split(blocks, np, p + 1); b < b1; b++) {
                int q0 = b * block, q1 = Math.min(total, q0 + block), m = q1 - q0;
                for (int gr = 0; gr < g.groups; gr++) {
                    im2col(x, g, gr, q0, q1, col);
                    Gemm.sgemm(true, false, coutG, k, m, 1f, dyd, dy.rowOffset(q0) + gr * coutG, dy.ld(),
                            col, 0, k, 1f, acc, gr * coutG * k, k);
                }
            }
        });
        // Sum the parts and scatter [o][t*cinG + i] into the OIHW block, in parallel over output rows.
        float[] dwd = dw.data();
        int dwOff = dw.offset(), taps = g.taps();
        int rparts = Math.min(size >= 65_536 ? Parallel.threadCount() : 1, g.cout);
        Parallel.get().run(rparts, (p, np) -> {
            for (int o = Parallel.split(g.cout, np, p), o1 = Parallel.split(g.cout, np, p + 1); o < o1; o++) {
                for (int i = 0; i < g.cinG; i++) {
                    int dst = dwOff + g.wIndex(o, i, 0);
                    for (int t = 0; t < taps; t++) {
                        int src = o * k + t * g.cinG + i;
                        float s = 0f;
                        for (int q = 0; q < parts; q++) {
                            s += partials[q][src];
                        }
                        dwd[dst + t] = accumulate ? dwd[dst + t] + s : s;
                    }
                }
            }
        });
    }
}
