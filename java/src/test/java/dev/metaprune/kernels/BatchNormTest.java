package dev.metaprune.kernels;

import static dev.metaprune.testing.Refs.U;
import static dev.metaprune.testing.Refs.assertClose;
import static dev.metaprune.testing.Refs.assertPaddingUntouched;
import static dev.metaprune.testing.Refs.assertSameBits;
import static dev.metaprune.testing.Refs.maxAbs;
import static dev.metaprune.testing.Refs.strided;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaprune.tensor.SafeTensors;
import dev.metaprune.tensor.Tensor;
import dev.metaprune.testing.Refs;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * BatchNorm against PyTorch (float64 references rounded to float32, {@code gen_nnops.py}), against a
 * double-precision implementation in this test, and against central finite differences.
 *
 * <h2>Tolerances ({@code U = 2^-24}, float32's unit round-off)</h2>
 * <ul>
 *   <li>Saved mean / inverse std, running statistics, dGamma, dBeta: sums are double, so each is
 *       the correctly rounded value of (nearly) the exact result: {@code 4U} relative (the reference
 *       is itself rounded once, and dGamma carries the saved float invStd), plus an absolute
 *       {@code U * max|ref|} for entries that cancel to near zero.</li>
 *   <li>{@code y} and {@code dx}: a handful of float operations per element on terms as large as
 *       the largest output ({@code (x - mean) * scale + beta}, and three terms for dx) plus the
 *       rounding of the per-channel coefficients to float: {@code 4U * max|ref|} absolute plus
 *       {@code 4U} relative (~1-2 ulp of the tensor's largest value; measured: under 1.5U * max).
 *       The large-offset cases (|mean| up to ~300 std) pass the same bound, which they would not
 *       without the hi/lo mean in the forward pass and the mean correction in the backward pass.</li>
 *   <li>Finite differences: central, step 1e-5 (x, spread >= 0.5) or 1e-4, in double (truncation
 *       ~1e-9 relative); the analytic float gradient is allowed {@code 2e-6 * max|grad|} (~30U:
 *       measured float error is under 2e-7 * max; a wrong term shows as O(1)).</li>
 * </ul>
 */
class BatchNormTest {
    static final float EPS = 1e-5f;

    static final String[] CASES = {"bn_n4_h7_w7_c24", "bn_n2_h5_w3_c37", "bn_n8_h1_w1_c160"};

    static void close(String what, Tensor got, Tensor want, double ulpsOfMax, double ulpsRel) {
        double m = maxAbs(want);
        assertClose(what, got, want, ulpsOfMax * U * m, ulpsRel * U);
    }

    @ParameterizedTest
    @ValueSource(strings = {"bn_n4_h7_w7_c24", "bn_n2_h5_w3_c37", "bn_n8_h1_w1_c160"})
    void trainForwardAndBackwardMatchPyTorch(String name) {
        SafeTensors.File f = Refs.load("nnops/" + name);
        Tensor x = f.get("x"), dy = f.get("dy"), gamma = f.get("gamma"), beta = f.get("beta");
        int c = x.cols();
        float fac = Float.parseFloat(f.meta("cumulative_factor"));
        for (boolean cumulative : new boolean[] {false, true}) {
            Tensor y = Tensor.zeros(x.shape()), mean = Tensor.zeros(c), inv = Tensor.zeros(c);
            Tensor rm = f.get("run_mean0").copy(), rv = f.get("run_var0").copy();
            BatchNorm.trainForward(x, gamma, beta, y, mean, inv, rm, rv, cumulative ? fac : 0.1f, EPS);
            String tag = cumulative ? "cum" : "m01";
            close(name + " y", y, f.get("y"), 4, 4);
            close(name + " saveMean", mean, f.get("save_mean"), 1, 4);
            close(name + " saveInvStd", inv, f.get("save_invstd"), 1, 4);
            close(name + " runMean " + tag, rm, f.get("run_mean_" + tag), 1, 4);
            close(name + " runVar " + tag, rv, f.get("run_var_" + tag), 1, 4);

            Tensor dx = Tensor.zeros(x.shape()), dg = Tensor.zeros(c), db = Tensor.zeros(c);
            BatchNorm.backward(x, dy, gamma, mean, inv, dx, dg, db, false);
            close(name + " dx", dx, f.get("dx"), 4, 4);
            close(name + " dGamma", dg, f.get("dgamma"), 1, 4);
            close(name + " dBeta", db, f.get("dbeta"), 1, 4);

            // accumulate adds to what is there; dx is still overwritten
            dg.fill(0.5f);
            db.fill(-0.25f);
            dx.fill(Float.NaN);
            BatchNorm.backward(x, dy, gamma, mean, inv, dx, dg, db, true);
            close(name + " dx (accumulate call)", dx, f.get("dx"), 4, 4);
            Tensor wantG = f.get("dgamma").copy(), wantB = f.get("dbeta").copy();
            for (int j = 0; j < c; j++) {
                wantG.data()[j] += 0.5f;
                wantB.data()[j] -= 0.25f;
            }
            assertClose(name + " dGamma accumulated", dg, wantG, 4 * U * maxAbs(wantG), 4 * U);
            assertClose(name + " dBeta accumulated", db, wantB, 4 * U * maxAbs(wantB), 4 * U);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"bn_n4_h7_w7_c24", "bn_n2_h5_w3_c37", "bn_n8_h1_w1_c160"})
    void affineFreeMatchesPyTorch(String name) {
        SafeTensors.File f = Refs.load("nnops/" + name);
        Tensor x = f.get("x"), dy = f.get("dy");
        int c = x.cols();
        Tensor y = Tensor.zeros(x.shape()), mean = Tensor.zeros(c), inv = Tensor.zeros(c);
        BatchNorm.trainForward(x, null, null, y, mean, inv, null, null, 0.1f, EPS);
        close(name + " y affine-free", y, f.get("y_noaffine"), 4, 4);
        Tensor dx = Tensor.zeros(x.shape());
        BatchNorm.backward(x, dy, null, mean, inv, dx, null, null, false);
        close(name + " dx affine-free", dx, f.get("dx_noaffine"), 4, 4);
    }

    @ParameterizedTest
    @ValueSource(strings = {"bn_n4_h7_w7_c24", "bn_n2_h5_w3_c37", "bn_n8_h1_w1_c160"})
    void inferenceMatchesPyTorch(String name) {
        SafeTensors.File f = Refs.load("nnops/" + name);
        Tensor x = f.get("x"), rm = f.get("run_mean0"), rv = f.get("run_var0");
        Tensor y = Tensor.zeros(x.shape());
        BatchNorm.inferenceForward(x, f.get("gamma"), f.get("beta"), rm, rv, EPS, y);
        close(name + " inference y", y, f.get("y_infer"), 4, 4);
        BatchNorm.inferenceForward(x, null, null, rm, rv, EPS, y);
        close(name + " inference y affine-free", y, f.get("y_infer_noaffine"), 4, 4);
    }

    /** Channel views with padding give bit-identical results and leave the padding alone; in-place works. */
    @Test
    void viewsAndAliasingGiveIdenticalBits() {
        SafeTensors.File f = Refs.load("nnops/bn_n2_h5_w3_c37");
        Tensor x = f.get("x"), dy = f.get("dy"), gamma = f.get("gamma"), beta = f.get("beta");
        int c = x.cols();
        Tensor y = Tensor.zeros(x.shape()), mean = Tensor.zeros(c), inv = Tensor.zeros(c);
        Tensor dx = Tensor.zeros(x.shape()), dg = Tensor.zeros(c), db = Tensor.zeros(c);
        BatchNorm.trainForward(x, gamma, beta, y, mean, inv, null, null, 0.1f, EPS);
        BatchNorm.backward(x, dy, gamma, mean, inv, dx, dg, db, false);

        Tensor xv = strided(x, 3, 5), yv = strided(Tensor.zeros(x.shape()), 1, 0);
        Tensor mean2 = Tensor.zeros(1, c + 4).channels(2, 2 + c), inv2 = Tensor.zeros(c);
        BatchNorm.trainForward(xv, strided(gamma.reshape(1, c), 2, 2), beta, yv, mean2, inv2, null, null, 0.1f, EPS);
        assertSameBits("y (views)", yv, y);
        assertSameBits("mean (view)", mean2.reshape(c), mean);
        assertPaddingUntouched("y view", yv);
        assertPaddingUntouched("x view", xv);
        Tensor dyv = strided(dy, 0, 7), dxv = strided(Tensor.zeros(x.shape()), 4, 1);
        Tensor dg2 = Tensor.zeros(c), db2 = Tensor.zeros(c);
        BatchNorm.backward(xv, dyv, gamma, mean, inv, dxv, dg2, db2, false);
        assertSameBits("dx (views)", dxv, dx);
        assertSameBits("dGamma (views)", dg2, dg);
        assertSameBits("dBeta (views)", db2, db);
        assertPaddingUntouched("dx view", dxv);

        // y = x in place, dx = dy in place
        Tensor xin = strided(x, 2, 3);
        BatchNorm.trainForward(xin, gamma, beta, xin, Tensor.zeros(c), Tensor.zeros(c), null, null, 0.1f, EPS);
        assertSameBits("y in place", xin, y);
        assertPaddingUntouched("in-place view", xin);
        Tensor g = dy.copy();
        BatchNorm.backward(x, g, gamma, mean, inv, g, dg2, db2, false);
        assertSameBits("dx in place over dy", g, dx);
    }

    // ---- double-precision reference ----------------------------------------------------------

    /** Forward in double over [n, c] row-major; returns y and fills mean / invStd. */
    static double[] forward64(double[] x, double[] g, double[] b, int n, int c, double eps, double[] mean,
                              double[] inv) {
        double[] y = new double[n * c];
        for (int j = 0; j < c; j++) {
            double s = 0;
            for (int r = 0; r < n; r++) {
                s += x[r * c + j];
            }
            double m = s / n, v = 0;
            for (int r = 0; r < n; r++) {
                v += (x[r * c + j] - m) * (x[r * c + j] - m);
            }
            double is = 1 / Math.sqrt(v / n + eps);
            mean[j] = m;
            inv[j] = is;
            for (int r = 0; r < n; r++) {
                y[r * c + j] = (x[r * c + j] - m) * is * (g == null ? 1 : g[j]) + (b == null ? 0 : b[j]);
            }
        }
        return y;
    }

    static double loss64(double[] x, double[] g, double[] b, double[] w, int n, int c, double eps) {
        double[] y = forward64(x, g, b, n, c, eps, new double[c], new double[c]);
        double l = 0;
        for (int i = 0; i < y.length; i++) {
            l += w[i] * y[i];
        }
        return l;
    }

    static double[] fdGrad(double[] v, java.util.function.DoubleSupplier loss, double h) {
        double[] gr = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            double keep = v[i];
            v[i] = keep + h;
            double lp = loss.getAsDouble();
            v[i] = keep - h;
            double lm = loss.getAsDouble();
            v[i] = keep;
            gr[i] = (lp - lm) / (2 * h);
        }
        return gr;
    }

    static void assertGradClose(String what, Tensor got, double[] want) {
        double m = 0;
        for (double w : want) {
            m = Math.max(m, Math.abs(w));
        }
        assertTrue(m > 0, what + ": reference gradient is all zero");
        Refs.assertClose(what, got, want, 2e-6 * m, 0);
    }

    /** Central finite differences of sum(dy * y) in double vs the kernel's analytic gradients. */
    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5, 6})
    void gradientsMatchFiniteDifferences(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int n = 3 + r.nextInt(4), h = 1 + r.nextInt(3), w = 1 + r.nextInt(4), c = 1 + r.nextInt(40);
        int rows = n * h * w;
        double off = seed % 2 == 0 ? 40.0 : 0.5;
        Tensor x = Refs.gaussian(r, 0, 1, n, h, w, c);
        for (int i = 0; i < x.data().length; i++) {
            x.data()[i] = (float) (x.data()[i] * (0.5 + (i % c) * 0.05) + off * ((i % c) % 3 - 1));
        }
        Tensor dy = Refs.gaussian(r, 0, 1, n, h, w, c);
        Tensor gamma = Refs.uniform(r, 0.5, 1.5, c), beta = Refs.uniform(r, -0.5, 0.5, c);
        double[] x64 = Refs.toDouble(x), w64 = Refs.toDouble(dy);
        double[] g64 = Refs.toDouble(gamma), b64 = Refs.toDouble(beta);
        double[] m64 = new double[c], inv64 = new double[c];
        double[] y64 = forward64(x64, g64, b64, rows, c, EPS, m64, inv64);

        for (boolean affine : new boolean[] {true, false}) {
            Tensor y = Tensor.zeros(x.shape()), mean = Tensor.zeros(c), inv = Tensor.zeros(c);
            BatchNorm.trainForward(x, affine ? gamma : null, affine ? beta : null, y, mean, inv, null, null, 0.1f, EPS);
            double[] yw = affine ? y64 : forward64(x64, null, null, rows, c, EPS, new double[c], new double[c]);
            double ym = 0;
            for (double v : yw) {
                ym = Math.max(ym, Math.abs(v));
            }
            Refs.assertClose("forward vs double (affine " + affine + ")", y, yw, 4 * U * ym, 4 * U);
            Refs.assertClose("mean vs double", mean, m64, 1e-12, 2 * U);
            Refs.assertClose("invStd vs double", inv, inv64, 0, 2 * U);

            Tensor dx = Tensor.zeros(x.shape()), dg = affine ? Tensor.zeros(c) : null, db = affine ? Tensor.zeros(c) : null;
            BatchNorm.backward(x, dy, affine ? gamma : null, mean, inv, dx, dg, db, false);
            double[] gg = affine ? g64 : null, bb = affine ? b64 : null;
            assertGradClose("dx vs FD (affine " + affine + ", rows " + rows + ", c " + c + ")", dx,
                    fdGrad(x64, () -> loss64(x64, gg, bb, w64, rows, c, EPS), 1e-5));
            if (affine) {
                assertGradClose("dGamma vs FD", dg, fdGrad(g64, () -> loss64(x64, g64, b64, w64, rows, c, EPS), 1e-4));
                assertGradClose("dBeta vs FD", db, fdGrad(b64, () -> loss64(x64, g64, b64, w64, rows, c, EPS), 1e-4));
            }
        }
    }

    /** A tensor big enough to be split over threads (and with |mean| >> std), against the double reference. */
    @Test
    void largeParallelCaseMatchesDoubleReference() {
        SplittableRandom r = new SplittableRandom(77);
        int n = 8, h = 28, w = 28, c = 41, rows = n * h * w;
        assertTrue((long) rows * c >= 2 * BatchNorm.MIN_PER_PART, "the case must be split into parts");
        Tensor x = Refs.gaussian(r, 0, 1, n, h, w, c);
        for (int i = 0; i < x.data().length; i++) {
            x.data()[i] = (float) (x.data()[i] * 0.1 + 30.0 * ((i % c) % 5 - 2));
        }
        Tensor dy = Refs.gaussian(r, 0, 1, n, h, w, c), gamma = Refs.uniform(r, 0.5, 1.5, c);
        Tensor beta = Refs.uniform(r, -1, 1, c);
        double[] x64 = Refs.toDouble(x), dy64 = Refs.toDouble(dy), g64 = Refs.toDouble(gamma);
        double[] m64 = new double[c], inv64 = new double[c];
        double[] y64 = forward64(x64, g64, Refs.toDouble(beta), rows, c, EPS, m64, inv64);

        Tensor y = Tensor.zeros(x.shape()), mean = Tensor.zeros(c), inv = Tensor.zeros(c);
        Tensor rm = Tensor.zeros(c), rv = Tensor.zeros(c).fill(1f);
        BatchNorm.trainForward(x, gamma, beta, y, mean, inv, rm, rv, 0.25f, EPS);
        double ym = 0;
        for (double v : y64) {
            ym = Math.max(ym, Math.abs(v));
        }
        Refs.assertClose("y", y, y64, 4 * U * ym, 4 * U);
        Refs.assertClose("mean", mean, m64, 1e-12, 2 * U);
        Refs.assertClose("invStd", inv, inv64, 0, 2 * U);
        double[] rmW = new double[c], rvW = new double[c];
        for (int j = 0; j < c; j++) {
            double var = 1 / (inv64[j] * inv64[j]) - EPS;
            rmW[j] = 0.25f * m64[j];
            rvW[j] = (1 - 0.25f) + 0.25f * var * rows / (rows - 1);
        }
        Refs.assertClose("runMean", rm, rmW, 1e-12, 2 * U);
        Refs.assertClose("runVar", rv, rvW, 0, 4 * U);

        // analytic gradient in double: dx = g s (dy - mean(dy) - xhat mean(dy xhat))
        double[] dx64 = new double[rows * c], dg64 = new double[c], db64 = new double[c];
        for (int j = 0; j < c; j++) {
            double sdy = 0, sdx = 0;
            for (int i = 0; i < rows; i++) {
                sdy += dy64[i * c + j];
                sdx += dy64[i * c + j] * (x64[i * c + j] - m64[j]) * inv64[j];
            }
            db64[j] = sdy;
            dg64[j] = sdx;
            for (int i = 0; i < rows; i++) {
                double xh = (x64[i * c + j] - m64[j]) * inv64[j];
                dx64[i * c + j] = g64[j] * inv64[j] * (dy64[i * c + j] - sdy / rows - xh * sdx / rows);
            }
        }
        Tensor dx = Tensor.zeros(x.shape()), dg = Tensor.zeros(c), db = Tensor.zeros(c);
        BatchNorm.backward(x, dy, gamma, mean, inv, dx, dg, db, false);
        double dm = 0;
        for (double v : dx64) {
            dm = Math.max(dm, Math.abs(v));
        }
        Refs.assertClose("dx", dx, dx64, 4 * U * dm, 4 * U);
        double gm = 0;
        for (double v : dg64) {
            gm = Math.max(gm, Math.abs(v));
        }
        Refs.assertClose("dGamma", dg, dg64, U * gm, 4 * U);
        Refs.assertClose("dBeta", db, db64, 1e-9, 4 * U);
    }

    @Test
    void nanInOneChannelStaysInThatChannel() {
        Tensor x = Refs.gaussian(new SplittableRandom(5), 0, 1, 4, 3, 3, 19);
        x.set(Float.NaN, 1, 2, 0, 7);
        Tensor y = Tensor.zeros(x.shape()), mean = Tensor.zeros(19), inv = Tensor.zeros(19);
        BatchNorm.trainForward(x, null, null, y, mean, inv, null, null, 0.1f, EPS);
        assertTrue(Float.isNaN(mean.get(7)) && Float.isNaN(y.get(0, 0, 0, 7)), "NaN must propagate in channel 7");
        assertTrue(Float.isFinite(mean.get(6)) && Float.isFinite(y.get(3, 2, 2, 8)), "other channels stay finite");
    }

    @Test
    void rejectsBadShapes() {
        Tensor x = Tensor.zeros(2, 3, 3, 8), y = Tensor.zeros(2, 3, 3, 8), c8 = Tensor.zeros(8);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BatchNorm.trainForward(x,
                null, null, Tensor.zeros(2, 3, 3, 9), c8, c8, null, null, 0.1f, EPS));
        assertTrue(e.getMessage().contains("[2, 3, 3, 9]") && e.getMessage().contains("[2, 3, 3, 8]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> BatchNorm.trainForward(x, Tensor.zeros(7),
                Tensor.zeros(8), y, c8, c8, null, null, 0.1f, EPS));
        assertTrue(e.getMessage().contains("gamma") && e.getMessage().contains("[7]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> BatchNorm.trainForward(Tensor.zeros(1, 1, 1, 8), null,
                null, Tensor.zeros(1, 1, 1, 8), c8, c8, null, null, 0.1f, EPS));
        assertTrue(e.getMessage().contains("more than 1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> BatchNorm.trainForward(x, null, null, y, c8, c8,
                Tensor.zeros(8), null, 0.1f, EPS));
        assertThrows(IllegalArgumentException.class, () -> BatchNorm.trainForward(x, null, null, y, c8, c8, null, null,
                1.5f, EPS));
        assertThrows(IllegalArgumentException.class, () -> BatchNorm.trainForward(x, null, null, y, c8, c8, null, null,
                0.1f, -1f));
        assertThrows(IllegalArgumentException.class, () -> BatchNorm.trainForward(Tensor.zeros(8), null, null,
                Tensor.zeros(8), c8, c8, null, null, 0.1f, EPS));
        e = assertThrows(IllegalArgumentException.class, () -> BatchNorm.backward(x, Tensor.zeros(2, 3, 4, 8), null,
                c8, c8, y, null, null, false));
        assertTrue(e.getMessage().contains("dy") && e.getMessage().contains("[2, 3, 4, 8]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> BatchNorm.backward(x, y, null, c8, c8,
                Tensor.zeros(2, 3, 3, 8), Tensor.zeros(8), null, false));
        assertTrue(e.getMessage().contains("affine-free"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> BatchNorm.backward(x, y, null, null, c8,
                Tensor.zeros(2, 3, 3, 8), null, null, false));
        e = assertThrows(IllegalArgumentException.class, () -> BatchNorm.inferenceForward(x, null, null,
                Tensor.zeros(9), c8, EPS, y));
        assertTrue(e.getMessage().contains("runMean") && e.getMessage().contains("[9]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(2, -3, 8));
    }
}
