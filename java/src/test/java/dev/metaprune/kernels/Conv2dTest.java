package dev.metaprune.kernels;

import static dev.metaprune.kernels.ConvTestSupport.assertClose;
import static dev.metaprune.kernels.ConvTestSupport.assertOutsideUntouched;
import static dev.metaprune.kernels.ConvTestSupport.maxAbs;
import static dev.metaprune.kernels.ConvTestSupport.metaInt;
import static dev.metaprune.kernels.ConvTestSupport.random;
import static dev.metaprune.kernels.ConvTestSupport.toDouble;
import static dev.metaprune.kernels.ConvTestSupport.widen;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaprune.tensor.SafeTensors;
import dev.metaprune.tensor.Tensor;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link Conv2d}: against PyTorch references ({@code test-data/ref/conv}, made by
 * {@code test-data/gen/gen_conv.py}), against finite differences of a double-precision convolution,
 * against that double convolution on larger shapes (several threads, channel views), and on bad input.
 *
 * <p><b>Tolerance.</b> Each checked value is a sum of {@code K} products ({@code K = cIn/groups*kh*kw}
 * for {@code y}, {@code cOut/groups*kh*kw} for {@code dx}, {@code N*Ho*Wo} for {@code dw} and
 * {@code db}); the reference is exact but for one final fp32 rounding. A float32 sum of {@code K} terms
 * in any order has a rounding error of about {@code u * sqrt(K) * s} ({@code u = 6e-8}, {@code s} the
 * size of the partial sums, at most the largest |value| of the result here), and at worst
 * {@code u * K * s}. The test allows {@code |got - want| <= 1e-6 * sqrt(K) * max|want| + 1e-5 * |want|}:
 * about 16 times the typical error (the tap and block orders differ from PyTorch's) and 1e-5 relative
 * for the reference's own rounding, yet far below the effect of one wrong, missing or extra
 * product (about {@code max|want| / sqrt(K)}). The comparison is written {@code !(err <= tol)}, so NaN
 * fails.
 */
class Conv2dTest {
    static final double RTOL = 1e-5;
    static final double ATOL_PER_SQRT_K = 1e-6;
    static final float SENTINEL = 3.25f;

    static double atol(double scale, long k) {
        return ATOL_PER_SQRT_K * Math.sqrt(k) * scale + 1e-30;
    }

    // =============================================================================================
    // PyTorch references
    // =============================================================================================

    static Stream<String> convCases() {
        return ConvTestSupport.cases("conv", "").stream();
    }

    @ParameterizedTest
    @MethodSource("convCases")
    void matchesPyTorch(String name) {
        SafeTensors.File f = ConvTestSupport.load("conv", name);
        int cin = metaInt(f, "cin"), cout = metaInt(f, "cout"), kh = metaInt(f, "kh"), kw = metaInt(f, "kw");
        int stride = metaInt(f, "stride"), pad = metaInt(f, "pad"), groups = metaInt(f, "groups");
        boolean bias = metaInt(f, "bias") != 0;
        Conv2dSpec s = new Conv2dSpec(cin, cout, kh, kw, stride, stride, pad, pad, groups);
        Tensor x = f.get("x"), w = f.get("w"), y = f.get("y"), dy = f.get("dy"), dx = f.get("dx"), dw = f.get("dw");
        Tensor b = bias ? f.get("b") : null, db = bias ? f.get("db") : null;
        long pixels = (long) y.dim(0) * y.dim(1) * y.dim(2);
        long kFwd = (long) cin / groups * kh * kw, kBwd = (long) cout / groups * kh * kw;
        for (boolean views : new boolean[] {false, true}) {
            String tag = name + (views ? " (channel views)" : "") + ": ";
            Tensor xi = views ? widen(x, 3, 2, Float.NaN) : x;
            Tensor dyi = views ? widen(dy, 1, 4, Float.NaN) : dy;

            Tensor yo = views ? widen(Tensor.zeros(y.shape()), 2, 3, SENTINEL) : Tensor.zeros(y.shape()).fill(Float.NaN);
            Conv2d.forward(xi, w, b, yo, s);
            assertClose(tag + "y", y, yo, atol(maxAbs(y), kFwd), RTOL);
            if (views) {
                assertOutsideUntouched(tag + "y", yo, 2, SENTINEL);
            }

            Tensor dxo = views ? widen(Tensor.zeros(x.shape()).fill(Float.NaN), 1, 1, SENTINEL)
                    : Tensor.zeros(x.shape()).fill(Float.NaN);
            Conv2d.backwardInput(dyi, w, dxo, s);
            assertClose(tag + "dx", dx, dxo, atol(maxAbs(dx), kBwd), RTOL);
            if (views) {
                assertOutsideUntouched(tag + "dx", dxo, 1, SENTINEL);
            }

            // dw: only the leading block is written; accumulate adds to it.
            Tensor dwo = Tensor.zeros(w.shape()).fill(SENTINEL);
            Tensor dbo = bias ? Tensor.zeros(b.shape()).fill(SENTINEL) : null;
            double dwTol = atol(maxAbs(dw), pixels);
            Conv2d.backwardWeight(xi, dyi, dwo, dbo, s, false);
            assertClose(tag + "dw", blockExpect(dw, cout, cin / groups, 1, 0), dwo, dwTol, RTOL);
            if (bias) {
                assertClose(tag + "db", blockExpect(db, cout, 1, 1, 0), dbo, atol(maxAbs(db), pixels), RTOL);
            }
            Conv2d.backwardWeight(xi, dyi, dwo, dbo, s, true);
            assertClose(tag + "dw accumulated", blockExpect(dw, cout, cin / groups, 2, 0), dwo, 2 * dwTol, RTOL);
            if (bias) {
                assertClose(tag + "db accumulated", blockExpect(db, cout, 1, 2, 0), dbo, 2 * atol(maxAbs(db), pixels),
                        RTOL);
            }
        }
    }

    /**
     * The expected gradient buffer: {@code factor * ref} inside the leading {@code [rows, cols]} block
     * (dims 0 and 1 of the weight; a vector has no dim 1), {@link #SENTINEL} + {@code add} outside.
     */
    static double[] blockExpect(Tensor ref, int rows, int cols, double factor, double add) {
        double[] r = toDouble(ref);
        int d0 = ref.dim(0);
        int inner = (int) (ref.numel() / d0);
        int d1 = ref.rank() > 1 ? ref.dim(1) : 1;
        int per1 = inner / d1;
        for (int e = 0; e < r.length; e++) {
            int o = e / inner, i = (e % inner) / per1;
            boolean inside = o < rows && i < cols;
            r[e] = inside ? factor * r[e] : SENTINEL + add;
        }
        return r;
    }

    // =============================================================================================
    // A double-precision convolution (the reference of the remaining tests)
    // =============================================================================================

    /** Geometry: dense NHWC activations, OIHW weight {@code [wOut, w1, kh, kw]} of which the leading block is used. */
    record Geo(int n, int h, int w, int cin, int cout, int kh, int kw, int sh, int sw, int ph, int pw, int groups,
               int wOut, int w1) {
        int ho() {
            return (h + 2 * ph - kh) / sh + 1;
        }

        int wo() {
            return (w + 2 * pw - kw) / sw + 1;
        }

        Conv2dSpec spec() {
            return new Conv2dSpec(cin, cout, kh, kw, sh, sw, ph, pw, groups);
        }

        int wIdx(int o, int i, int ky, int kx) {
            return ((o * w1 + i) * kh + ky) * kw + kx;
        }

        int xIdx(int b, int y, int x, int c) {
            return ((b * h + y) * w + x) * cin + c;
        }

        int yIdx(int b, int y, int x, int c) {
            return ((b * ho() + y) * wo() + x) * cout + c;
        }
    }

    /** Visits every (output element, weight tap) pair: {@code yi, xi, wi} (xi is -1 in the padding). */
    interface Visit {
        void at(int yi, int xi, int wi);
    }

    static void forEachProduct(Geo g, Visit v) {
        int cinG = g.cin / g.groups, coutG = g.cout / g.groups;
        for (int b = 0; b < g.n; b++) {
            for (int oy = 0; oy < g.ho(); oy++) {
                for (int ox = 0; ox < g.wo(); ox++) {
                    for (int o = 0; o < g.cout; o++) {
                        int gr = o / coutG;
                        for (int i = 0; i < cinG; i++) {
                            for (int ky = 0; ky < g.kh; ky++) {
                                int iy = oy * g.sh - g.ph + ky;
                                for (int kx = 0; kx < g.kw; kx++) {
                                    int ix = ox * g.sw - g.pw + kx;
                                    boolean in = iy >= 0 && iy < g.h && ix >= 0 && ix < g.w;
                                    v.at(g.yIdx(b, oy, ox, o), in ? g.xIdx(b, iy, ix, gr * cinG + i) : -1,
                                            g.wIdx(o, i, ky, kx));
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    static double[] refForward(Geo g, double[] x, double[] w, double[] b) {
        double[] y = new double[g.n * g.ho() * g.wo() * g.cout];
        if (b != null) {
            for (int i = 0; i < y.length; i++) {
                y[i] = b[i % g.cout];
            }
        }
        forEachProduct(g, (yi, xi, wi) -> {
            if (xi >= 0) {
                y[yi] += x[xi] * w[wi];
            }
        });
        return y;
    }

    /** Analytic gradients of {@code sum(dy * y)}: returns {dx, dw, db}. */
    static double[][] refBackward(Geo g, double[] x, double[] w, double[] dy) {
        double[] dx = new double[x.length], dw = new double[w.length], db = new double[g.wOut];
        forEachProduct(g, (yi, xi, wi) -> {
            if (xi >= 0) {
                dx[xi] += dy[yi] * w[wi];
                dw[wi] += dy[yi] * x[xi];
            }
        });
        for (int i = 0; i < dy.length; i++) {
            db[i % g.cout] += dy[i];
        }
        return new double[][] {dx, dw, db};
    }

    static double loss(Geo g, double[] x, double[] w, double[] b, double[] dy) {
        double[] y = refForward(g, x, w, b);
        double s = 0;
        for (int i = 0; i < y.length; i++) {
            s += y[i] * dy[i];
        }
        return s;
    }

    /** Central differences of {@code loss} with respect to every element of {@code v} (one of x, w, b). */
    static double[] finiteDifferences(Geo g, double[] x, double[] w, double[] b, double[] dy, double[] v) {
        double h = 1e-2; // the loss is linear in each argument: the difference is exact up to rounding
        double[] grad = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            double keep = v[i];
            v[i] = keep + h;
            double up = loss(g, x, w, b, dy);
            v[i] = keep - h;
            double down = loss(g, x, w, b, dy);
            v[i] = keep;
            grad[i] = (up - down) / (2 * h);
        }
        return grad;
    }

    static Geo geo(int n, int h, int w, int cin, int cout, int kh, int kw, int sh, int sw, int ph, int pw, int groups,
                   int wOut, int w1) {
        return new Geo(n, h, w, cin, cout, kh, kw, sh, sw, ph, pw, groups, wOut, w1);
    }

    // =============================================================================================
    // Finite differences (small shapes, every element)
    // =============================================================================================

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource({
            // what, n, h, w, cin, cout, kh, kw, sh, sw, ph, pw, groups, wOut, w1, bias
            "depthwise 3x3 s1 tail, 2, 6, 7, 19, 19, 3, 3, 1, 1, 1, 1, 19, 19, 1, true",
            "depthwise 3x3 s2 sliced, 2, 7, 6, 21, 21, 3, 3, 2, 2, 1, 1, 21, 24, 2, false",
            "depthwise 3x3 s2 p0, 1, 7, 8, 5, 5, 3, 3, 2, 2, 0, 0, 5, 5, 1, false",
            "depthwise 5x5 s1 p2, 1, 6, 6, 18, 18, 5, 5, 1, 1, 2, 2, 18, 18, 1, true",
            "depthwise 3x3 s1 p2, 1, 4, 5, 17, 17, 3, 3, 1, 1, 2, 2, 17, 17, 1, false",
            "depthwise 3x3 s1 p3 (gather), 1, 4, 4, 6, 6, 3, 3, 1, 1, 3, 3, 6, 6, 1, false",
            "depthwise 3x5 s(1 2) p(1 2), 2, 5, 9, 20, 20, 3, 5, 1, 2, 1, 2, 20, 20, 1, false",
            "depthwise 4x4 s3 p1, 1, 9, 10, 7, 7, 4, 4, 3, 3, 1, 1, 7, 7, 1, false",
            "depthwise 1x1, 2, 3, 4, 18, 18, 1, 1, 1, 1, 0, 0, 18, 18, 1, true",
            "pointwise sliced, 2, 4, 5, 13, 17, 1, 1, 1, 1, 0, 0, 1, 20, 15, true",
            "pointwise, 1, 3, 3, 9, 33, 1, 1, 1, 1, 0, 0, 1, 33, 9, false",
            "grouped g4 3x3, 2, 5, 6, 8, 12, 3, 3, 1, 1, 1, 1, 4, 12, 2, true",
            "grouped g2 3x3 s2 sliced, 2, 7, 7, 6, 10, 3, 3, 2, 2, 1, 1, 2, 14, 5, false",
            "depthwise multiplier 2 (general), 1, 5, 5, 4, 8, 3, 3, 1, 1, 1, 1, 4, 8, 1, false",
            "stem 3x3 s2, 2, 8, 8, 3, 8, 3, 3, 2, 2, 1, 1, 1, 8, 3, false",
            "1x1 s2, 2, 6, 5, 10, 12, 1, 1, 2, 2, 0, 0, 1, 12, 10, true",
            "7x7 s2 p3, 1, 9, 9, 2, 4, 7, 7, 2, 2, 3, 3, 1, 4, 2, false",
            "2x3 s(2 1) p(0 1) sliced, 2, 6, 5, 5, 7, 2, 3, 2, 1, 0, 1, 1, 9, 6, true",
            "3x3 p2 (padding > k/2), 1, 4, 4, 4, 5, 3, 3, 1, 1, 2, 2, 1, 5, 4, false",
    })
    void gradientsMatchFiniteDifferences(String what, int n, int h, int w, int cin, int cout, int kh, int kw, int sh,
                                         int sw, int ph, int pw, int groups, int wOut, int w1, boolean bias) {
        Geo g = geo(n, h, w, cin, cout, kh, kw, sh, sw, ph, pw, groups, wOut, w1);
        SplittableRandom r = new SplittableRandom(what.hashCode());
        Tensor xt = random(r, n, h, w, cin), wt = random(r, wOut, w1, kh, kw), dyt = random(r, n, g.ho(), g.wo(), cout);
        Tensor bt = bias ? random(r, wOut) : null;
        double[] x = toDouble(xt), wd = toDouble(wt), dy = toDouble(dyt), b = bias ? toDouble(bt) : null;
        // Only the leading block of the bias is used: the others stay zero in the double model.
        if (b != null) {
            for (int i = cout; i < wOut; i++) {
                b[i] = 0;
            }
        }

        double[] fdX = finiteDifferences(g, x, wd, b, dy, x);
        double[] fdW = finiteDifferences(g, x, wd, b, dy, wd);
        double[] fdB = bias ? finiteDifferences(g, x, wd, b, dy, b) : null;

        // 1. The analytic double backward (used by the larger tests) agrees with the differences.
        double[][] ref = refBackward(g, x, wd, dy);
        assertArraysClose(what + " reference dx", fdX, ref[0], 1e-9);
        assertArraysClose(what + " reference dw", fdW, ref[1], 1e-9);

        // 2. The float kernels agree with the double model.
        Conv2dSpec s = g.spec();
        long pixels = (long) n * g.ho() * g.wo();
        double[] yRef = refForward(g, x, wd, b);
        Tensor y = Tensor.zeros(n, g.ho(), g.wo(), cout).fill(Float.NaN);
        Conv2d.forward(xt, wt, bt, y, s);
        assertClose(what + ": y", yRef, y, atol(maxAbs(yRef), (long) cin / groups * kh * kw), RTOL);

        Tensor dx = Tensor.zeros(n, h, w, cin).fill(Float.NaN);
        Conv2d.backwardInput(dyt, wt, dx, s);
        assertClose(what + ": dx", fdX, dx, atol(maxAbs(fdX), (long) cout / groups * kh * kw), RTOL);

        Tensor dw = Tensor.zeros(wOut, w1, kh, kw).fill(SENTINEL);
        Tensor db = bias ? Tensor.zeros(wOut).fill(SENTINEL) : null;
        Conv2d.backwardWeight(xt, dyt, dw, db, s, false);
        // Outside the block the differences are 0 and the kernel must leave the sentinel.
        double[] wantW = fdW.clone();
        for (int o = 0; o < wOut; o++) {
            for (int i = 0; i < w1; i++) {
                for (int t = 0; t < kh * kw; t++) {
                    int e = (o * w1 + i) * kh * kw + t;
                    if (o >= cout || i >= cin / groups) {
                        assertEquals(0.0, fdW[e], what + ": weight element " + e + " outside the block has a gradient");
                        wantW[e] = SENTINEL;
                    }
                }
            }
        }
        assertClose(what + ": dw", wantW, dw, atol(maxAbs(fdW), pixels), RTOL);
        if (bias) {
            double[] wantB = fdB.clone();
            for (int i = cout; i < wOut; i++) {
                wantB[i] = SENTINEL;
            }
            assertClose(what + ": db", wantB, db, atol(maxAbs(fdB), pixels), RTOL);
        }
    }

    static void assertArraysClose(String what, double[] want, double[] got, double tol) {
        assertEquals(want.length, got.length, what + ": lengths");
        double scale = Math.max(1, maxAbs(want));
        for (int i = 0; i < want.length; i++) {
            assertTrue(Math.abs(want[i] - got[i]) <= tol * scale, what + " at " + i + ": " + got[i] + " vs " + want[i]);
        }
    }

    // =============================================================================================
    // Larger shapes: several threads, channel views, against the double model
    // =============================================================================================

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource({
            // what, n, h, w, cin, cout, kh, kw, sh, sw, ph, pw, groups, wOut, w1, bias
            "depthwise 3x3 s1 61ch, 3, 14, 13, 61, 61, 3, 3, 1, 1, 1, 1, 61, 61, 1, true",
            "depthwise 3x3 s2 61ch sliced, 3, 15, 15, 61, 61, 3, 3, 2, 2, 1, 1, 61, 96, 1, false",
            "depthwise 3x3 s1 48ch batch 1, 1, 20, 20, 48, 48, 3, 3, 1, 1, 1, 1, 48, 48, 1, false",
            "depthwise 5x5 s1 40ch, 2, 12, 12, 40, 40, 5, 5, 1, 1, 2, 2, 40, 40, 1, false",
            "pointwise 29->61 sliced, 2, 12, 12, 29, 61, 1, 1, 1, 1, 0, 0, 1, 70, 33, true",
            "3x3 40->36, 2, 10, 10, 40, 36, 3, 3, 1, 1, 1, 1, 1, 36, 40, false",
            "3x3 40->36 batch 1, 1, 10, 11, 40, 36, 3, 3, 1, 1, 1, 1, 1, 36, 40, true",
            "grouped g3 s2, 2, 13, 11, 24, 30, 3, 3, 2, 2, 1, 1, 3, 33, 9, true",
            "7x7 s2 p3 stem, 2, 23, 23, 3, 16, 7, 7, 2, 2, 3, 3, 1, 16, 3, false",
            "1x1 s2 downsample, 2, 14, 14, 32, 64, 1, 1, 2, 2, 0, 0, 1, 64, 32, false",
    })
    void matchesDoubleModelOnLargerShapes(String what, int n, int h, int w, int cin, int cout, int kh, int kw, int sh,
                                          int sw, int ph, int pw, int groups, int wOut, int w1, boolean bias) {
        Geo g = geo(n, h, w, cin, cout, kh, kw, sh, sw, ph, pw, groups, wOut, w1);
        SplittableRandom r = new SplittableRandom(what.hashCode());
        Tensor xt = random(r, n, h, w, cin), wt = random(r, wOut, w1, kh, kw), dyt = random(r, n, g.ho(), g.wo(), cout);
        Tensor bt = bias ? random(r, wOut) : null;
        double[] x = toDouble(xt), wd = toDouble(wt), dy = toDouble(dyt);
        double[] b = bias ? toDouble(bt) : null;
        double[] yRef = refForward(g, x, wd, b);
        double[][] ref = refBackward(g, x, wd, dy);
        long pixels = (long) n * g.ho() * g.wo();
        Conv2dSpec s = g.spec();

        Tensor xv = widen(xt, 5, 3, Float.NaN), dyv = widen(dyt, 2, 7, Float.NaN);
        Tensor y = widen(Tensor.zeros(n, g.ho(), g.wo(), cout), 4, 1, SENTINEL);
        Conv2d.forward(xv, wt, bt, y, s);
        assertClose(what + ": y", yRef, y, atol(maxAbs(yRef), (long) cin / groups * kh * kw), RTOL);
        assertOutsideUntouched(what + ": y", y, 4, SENTINEL);

        Tensor dx = widen(Tensor.zeros(n, h, w, cin).fill(Float.NaN), 3, 3, SENTINEL);
        Conv2d.backwardInput(dyv, wt, dx, s);
        assertClose(what + ": dx", ref[0], dx, atol(maxAbs(ref[0]), (long) cout / groups * kh * kw), RTOL);
        assertOutsideUntouched(what + ": dx", dx, 3, SENTINEL);

        Tensor dw = Tensor.zeros(wOut, w1, kh, kw).fill(SENTINEL);
        Tensor db = bias ? Tensor.zeros(wOut).fill(SENTINEL) : null;
        Conv2d.backwardWeight(xv, dyv, dw, db, s, false);
        double[] wantW = ref[1].clone();
        for (int e = 0; e < wantW.length; e++) {
            int o = e / (w1 * kh * kw), i = e / (kh * kw) % w1;
            if (o >= cout || i >= cin / groups) {
                wantW[e] = SENTINEL;
            }
        }
        assertClose(what + ": dw", wantW, dw, atol(maxAbs(ref[1]), pixels), RTOL);
        if (bias) {
            double[] wantB = ref[2].clone();
            for (int i = cout; i < wOut; i++) {
                wantB[i] = SENTINEL;
            }
            assertClose(what + ": db", wantB, db, atol(maxAbs(ref[2]), pixels), RTOL);
        }
    }

    /** Repeated calls reuse scratch: a large call followed by a small one must not see stale data. */
    @Test
    void scratchReuseAcrossShapes() {
        SplittableRandom r = new SplittableRandom(7);
        Geo big = geo(2, 12, 12, 32, 48, 3, 3, 1, 1, 1, 1, 1, 48, 32);
        Geo small = geo(1, 5, 4, 6, 4, 3, 3, 2, 2, 1, 1, 2, 4, 3);
        for (Geo g : new Geo[] {big, small, big}) {
            Tensor xt = random(r, g.n, g.h, g.w, g.cin), wt = random(r, g.wOut, g.w1, g.kh, g.kw);
            Tensor dyt = random(r, g.n, g.ho(), g.wo(), g.cout);
            double[] x = toDouble(xt), wd = toDouble(wt), dy = toDouble(dyt);
            double[][] ref = refBackward(g, x, wd, dy);
            Tensor dw = Tensor.zeros(g.wOut, g.w1, g.kh, g.kw);
            Conv2d.backwardWeight(xt, dyt, dw, null, g.spec(), false);
            assertClose("dw " + g, ref[1], dw, atol(maxAbs(ref[1]), (long) g.n * g.ho() * g.wo()), RTOL);
            Tensor dx = Tensor.zeros(g.n, g.h, g.w, g.cin).fill(Float.NaN);
            Conv2d.backwardInput(dyt, wt, dx, g.spec());
            assertClose("dx " + g, ref[0], dx, atol(maxAbs(ref[0]), (long) g.cout / g.groups * 9), RTOL);
        }
    }

    // =============================================================================================
    // Bad input
    // =============================================================================================

    static void assertRejects(Executable call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' lacks '" + f + "'");
        }
    }

    @Test
    void rejectsBadShapes() {
        Conv2dSpec s = Conv2dSpec.of(4, 8, 3, 1, 1, 1);
        Tensor x = Tensor.zeros(2, 6, 6, 4), w = Tensor.zeros(8, 4, 3, 3), y = Tensor.zeros(2, 6, 6, 8);
        // wrong rank
        assertRejects(() -> Conv2d.forward(Tensor.zeros(6, 6, 4), w, null, y, s), "x", "rank 4", "[6, 6, 4]");
        assertRejects(() -> Conv2d.forward(x, Tensor.zeros(8, 36), null, y, s), "w", "rank 4");
        // channel counts
        assertRejects(() -> Conv2d.forward(Tensor.zeros(2, 6, 6, 5), w, null, y, s), "[2, 6, 6, 5]", "channels");
        assertRejects(() -> Conv2d.forward(x, w, null, Tensor.zeros(2, 6, 6, 7), s), "[2, 6, 6, 7]", "channels");
        // batch
        assertRejects(() -> Conv2d.forward(x, w, null, Tensor.zeros(3, 6, 6, 8), s), "batch");
        // output size
        assertRejects(() -> Conv2d.forward(x, w, null, Tensor.zeros(2, 3, 3, 8), s), "[2, 3, 3, 8]",
                "output size [2, 6, 6, 8]");
        assertRejects(() -> Conv2d.backwardInput(Tensor.zeros(2, 6, 5, 8), w, x, s), "dy", "output size");
        // weight: slice wider than the tensor, kernel size, contiguity
        assertRejects(() -> Conv2d.forward(x, Tensor.zeros(8, 3, 3, 3), null, y, s), "wider than its weight",
                "[8, 3, 3, 3]");
        assertRejects(() -> Conv2d.forward(x, Tensor.zeros(6, 4, 3, 3), null, y, s), "wider than its weight");
        assertRejects(() -> Conv2d.backwardWeight(x, y, Tensor.zeros(8, 2, 3, 3), null, s, false), "dw",
                "wider than its weight");
        assertRejects(() -> Conv2d.forward(x, Tensor.zeros(8, 4, 5, 5), null, y, s), "5x5 kernel");
        assertRejects(() -> Conv2d.forward(x, Tensor.zeros(8, 4, 3, 5).channels(0, 3), null, y, s), "contiguous");
        // bias
        assertRejects(() -> Conv2d.forward(x, w, Tensor.zeros(7), y, s), "bias", "[7]", "8");
        assertRejects(() -> Conv2d.backwardWeight(x, y, w, Tensor.zeros(2, 8), s, false), "dbias");
        // input smaller than the kernel
        assertRejects(() -> Conv2d.forward(Tensor.zeros(2, 2, 6, 4), w, null, y,
                Conv2dSpec.of(4, 8, 3, 1, 0, 1)), "[2, 2, 6, 4]", "smaller than the kernel");
        // depthwise slice wider than its weight
        Conv2dSpec dws = Conv2dSpec.depthwise(16, 3, 1, 1);
        assertRejects(() -> Conv2d.forward(Tensor.zeros(1, 4, 4, 16), Tensor.zeros(12, 1, 3, 3), null,
                Tensor.zeros(1, 4, 4, 16), dws), "wider than its weight", "[12, 1, 3, 3]");
        // null arguments
        assertRejects(() -> Conv2d.forward(x, w, null, y, null), "spec");
        assertRejects(() -> Conv2d.forward(null, w, null, y, s), "x", "null");
    }

    @Test
    void rejectsInvalidSpecs() {
        assertRejects(() -> Conv2dSpec.of(0, 8, 3, 1, 1, 1), "positive");
        assertRejects(() -> Conv2dSpec.of(4, -1, 3, 1, 1, 1), "positive");
        assertRejects(() -> Conv2dSpec.of(4, 8, 0, 1, 1, 1), "positive");
        assertRejects(() -> Conv2dSpec.of(4, 8, 3, 0, 1, 1), "positive");
        assertRejects(() -> Conv2dSpec.of(4, 8, 3, 1, -1, 1), "non-negative");
        assertRejects(() -> Conv2dSpec.of(6, 8, 3, 1, 1, 4), "divisible");
        assertRejects(() -> Tensor.zeros(2, 0, 6, 4), "positive");
    }
}
