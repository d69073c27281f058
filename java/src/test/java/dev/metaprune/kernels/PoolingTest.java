package dev.metaprune.kernels;

import static dev.metaprune.kernels.ConvTestSupport.assertClose;
import static dev.metaprune.kernels.ConvTestSupport.assertOutsideUntouched;
import static dev.metaprune.kernels.ConvTestSupport.maxAbs;
import static dev.metaprune.kernels.ConvTestSupport.metaInt;
import static dev.metaprune.kernels.ConvTestSupport.random;
import static dev.metaprune.kernels.ConvTestSupport.widen;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaprune.tensor.SafeTensors;
import dev.metaprune.tensor.Tensor;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link Pooling} against PyTorch references ({@code test-data/ref/pool}), plus NaN, ties, views,
 * several threads and bad input.
 *
 * <p><b>Tolerance.</b> Max pooling forward selects an element: {@code y} and {@code argmax} must be
 * exact. Its backward sums at most {@code ceil(k/stride)^2} gradients per input element in fp32:
 * allowed {@code 1e-6 * max|dx|} (a few ulps). Global average pooling sums {@code K = H*W} values:
 * {@code |err| <= 1e-6 * sqrt(K) * max|y| + 1e-5 * |y|}, the rule of {@link Conv2dTest}.
 */
class PoolingTest {
    static Stream<String> maxCases() {
        return ConvTestSupport.cases("pool", "max").stream();
    }

    static Stream<String> avgCases() {
        return ConvTestSupport.cases("pool", "gap").stream();
    }

    @ParameterizedTest
    @MethodSource("maxCases")
    void maxPoolMatchesPyTorch(String name) {
        SafeTensors.File f = ConvTestSupport.load("pool", name);
        int k = metaInt(f, "k"), stride = metaInt(f, "stride"), pad = metaInt(f, "pad");
        Tensor x = f.get("x"), y = f.get("y"), dy = f.get("dy"), dx = f.get("dx");
        int[] want = f.ints("argmax");
        int[] argmax = new int[want.length];
        Arrays.fill(argmax, -7);
        Tensor yo = Tensor.zeros(y.shape()).fill(Float.NaN);
        Pooling.maxPoolForward(x, yo, argmax, k, stride, pad);
        assertClose(name + ": y", y, yo, 0, 0);
        assertTrue(Arrays.equals(want, argmax), name + ": argmax differs from PyTorch's at index "
                + Arrays.mismatch(want, argmax));
        Tensor dxo = Tensor.zeros(x.shape()).fill(Float.NaN);
        Pooling.maxPoolBackward(dy, argmax, dxo);
        assertClose(name + ": dx", dx, dxo, 1e-6 * maxAbs(dx), 0);

        // The same through channel views: indices then point into the wide buffer.
        Tensor xv = widen(x, 3, 2, Float.NaN);
        Tensor yv = widen(Tensor.zeros(y.shape()), 1, 2, 5f);
        Pooling.maxPoolForward(xv, yv, argmax, k, stride, pad);
        assertClose(name + " (views): y", y, yv, 0, 0);
        assertOutsideUntouched(name + " (views): y", yv, 1, 5f);
        int c = x.dim(3), ld = xv.ld();
        for (int i = 0; i < want.length; i++) {
            int pixel = want[i] / c, ch = want[i] % c;
            assertEquals(xv.offset() + pixel * ld + ch, argmax[i], name + " (views): argmax[" + i + "]");
        }
        Tensor dxv = widen(Tensor.zeros(x.shape()), 3, 2, Float.NaN);
        Pooling.maxPoolBackward(widen(dy, 2, 1, Float.NaN), argmax, dxv);
        assertClose(name + " (views): dx", dx, dxv, 1e-6 * maxAbs(dx), 0);
        assertOutsideUntouched(name + " (views): dx", dxv, 3, Float.NaN);
    }

    @ParameterizedTest
    @MethodSource("avgCases")
    void globalAvgPoolMatchesPyTorch(String name) {
        SafeTensors.File f = ConvTestSupport.load("pool", name);
        Tensor x = f.get("x"), y = f.get("y"), dy = f.get("dy"), dx = f.get("dx");
        long k = (long) x.dim(1) * x.dim(2);
        for (boolean views : new boolean[] {false, true}) {
            Tensor yo = views ? widen(Tensor.zeros(y.shape()), 2, 1, 5f) : Tensor.zeros(y.shape()).fill(Float.NaN);
            Pooling.globalAvgPoolForward(views ? widen(x, 1, 3, Float.NaN) : x, yo);
            assertClose(name + ": y", y, yo, 1e-6 * Math.sqrt(k) * maxAbs(y), 1e-5);
            Tensor dxo = views ? widen(Tensor.zeros(x.shape()), 2, 2, 5f) : Tensor.zeros(x.shape()).fill(Float.NaN);
            Pooling.globalAvgPoolBackward(views ? widen(dy, 3, 1, Float.NaN) : dy, dxo);
            assertClose(name + ": dx", dx, dxo, 1e-7 * maxAbs(dx), 1e-6);
            if (views) {
                assertOutsideUntouched(name + ": y", yo, 2, 5f);
                assertOutsideUntouched(name + ": dx", dxo, 2, 5f);
            }
        }
    }

    /** A direct scalar max pool with PyTorch's rule (strictly greater or NaN replaces). */
    static void scalarMaxPool(Tensor x, int k, int s, int p, float[] y, int[] arg) {
        int n = x.dim(0), h = x.dim(1), w = x.dim(2), c = x.dim(3);
        int ho = (h + 2 * p - k) / s + 1, wo = (w + 2 * p - k) / s + 1;
        float[] d = x.data();
        int i = 0;
        for (int b = 0; b < n; b++) {
            for (int oy = 0; oy < ho; oy++) {
                for (int ox = 0; ox < wo; ox++) {
                    for (int ch = 0; ch < c; ch++, i++) {
                        float best = Float.NEGATIVE_INFINITY;
                        int at = -1;
                        for (int ky = 0; ky < k; ky++) {
                            for (int kx = 0; kx < k; kx++) {
                                int iy = oy * s - p + ky, ix = ox * s - p + kx;
                                if (iy < 0 || iy >= h || ix < 0 || ix >= w) {
                                    continue;
                                }
                                int idx = x.rowOffset((b * h + iy) * w + ix) + ch;
                                if (at < 0) {
                                    at = idx;
                                }
                                if (d[idx] > best || Float.isNaN(d[idx])) {
                                    best = d[idx];
                                    at = idx;
                                }
                            }
                        }
                        y[i] = best;
                        arg[i] = at;
                    }
                }
            }
        }
    }

    @Test
    void maxPoolNaNTiesAndInfinities() {
        SplittableRandom r = new SplittableRandom(3);
        int n = 2, h = 9, w = 8, c = 23, k = 3, s = 2, p = 1;
        Tensor x = random(r, n, h, w, c);
        float[] d = x.data();
        for (int i = 0; i < d.length; i++) {
            int kind = r.nextInt(20);
            if (kind == 0) {
                d[i] = Float.NaN;
            } else if (kind == 1) {
                d[i] = Float.NEGATIVE_INFINITY;
            } else if (kind < 8) {
                d[i] = 0.5f; // ties
            }
        }
        // One channel entirely -inf: the index must be the first in-bounds element of each window.
        for (int q = 0; q < n * h * w; q++) {
            d[q * c + 4] = Float.NEGATIVE_INFINITY;
        }
        int ho = 5, wo = 4;
        float[] want = new float[n * ho * wo * c];
        int[] wantArg = new int[want.length];
        scalarMaxPool(x, k, s, p, want, wantArg);
        Tensor y = Tensor.zeros(n, ho, wo, c);
        int[] arg = new int[want.length];
        Pooling.maxPoolForward(x, y, arg, k, s, p);
        float[] got = y.data();
        for (int i = 0; i < want.length; i++) {
            assertEquals(Float.floatToIntBits(want[i]), Float.floatToIntBits(got[i]), "y[" + i + "]: " + got[i]
                    + " vs " + want[i]);
            assertEquals(wantArg[i], arg[i], "argmax[" + i + "]");
        }
    }

    @Test
    void largerPoolsOnSeveralThreads() {
        SplittableRandom r = new SplittableRandom(11);
        Tensor x = random(r, 4, 28, 27, 67);
        int ho = 14, wo = 14;
        float[] want = new float[4 * ho * wo * 67];
        int[] wantArg = new int[want.length];
        scalarMaxPool(x, 3, 2, 1, want, wantArg);
        Tensor y = Tensor.zeros(4, ho, wo, 67);
        int[] arg = new int[want.length];
        Pooling.maxPoolForward(x, y, arg, 3, 2, 1);
        assertTrue(Arrays.equals(wantArg, arg), "argmax differs at " + Arrays.mismatch(wantArg, arg));
        assertTrue(Arrays.equals(want, y.data()), "y differs at " + Arrays.mismatch(want, y.data()));

        Tensor dy = random(r, 4, ho, wo, 67);
        double[] dx = new double[(int) x.numel()];
        for (int i = 0; i < want.length; i++) {
            dx[wantArg[i]] += dy.data()[i];
        }
        Tensor dxo = Tensor.zeros(x.shape()).fill(Float.NaN);
        Pooling.maxPoolBackward(dy, arg, dxo);
        assertClose("dx", dx, dxo, 1e-6 * maxAbs(dx), 0);

        double[] mean = new double[4 * 67];
        for (int i = 0; i < x.numel(); i++) {
            mean[i / (28 * 27 * 67) * 67 + i % 67] += x.data()[i] / (28.0 * 27);
        }
        Tensor g = Tensor.zeros(4, 67);
        Pooling.globalAvgPoolForward(x, g);
        assertClose("avg", mean, g, 1e-6 * Math.sqrt(28 * 27) * maxAbs(mean), 1e-5);
    }

    static void assertRejects(Executable call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' lacks '" + f + "'");
        }
    }

    @Test
    void rejectsBadInput() {
        Tensor x = Tensor.zeros(2, 8, 8, 4), y = Tensor.zeros(2, 4, 4, 4);
        int[] arg = new int[(int) y.numel()];
        assertRejects(() -> Pooling.maxPoolForward(x, Tensor.zeros(2, 5, 4, 4), arg, 3, 2, 1), "[2, 5, 4, 4]",
                "[2, 4, 4, 4]");
        assertRejects(() -> Pooling.maxPoolForward(x, y, new int[5], 3, 2, 1), "argmax", "5");
        assertRejects(() -> Pooling.maxPoolForward(x, y, arg, 0, 2, 1), "k=0");
        assertRejects(() -> Pooling.maxPoolForward(x, y, arg, 3, 0, 1), "stride=0");
        assertRejects(() -> Pooling.maxPoolForward(x, y, arg, 3, 2, 2), "pad=2");
        assertRejects(() -> Pooling.maxPoolForward(Tensor.zeros(8, 8, 4), y, arg, 3, 2, 1), "rank 4");
        assertRejects(() -> Pooling.maxPoolForward(Tensor.zeros(1, 2, 2, 4), Tensor.zeros(1, 1, 1, 4), arg, 5, 1, 1),
                "smaller than the 5x5 window");
        // backward: an index that is not an element of dx (e.g. dx laid out unlike x)
        Pooling.maxPoolForward(x, y, arg, 3, 2, 1);
        arg[3] = (int) x.numel() + 10;
        assertRejects(() -> Pooling.maxPoolBackward(y, arg, Tensor.zeros(2, 8, 8, 4)), "argmax[3]", "laid out");
        assertRejects(() -> Pooling.maxPoolBackward(y, arg, Tensor.zeros(2, 8, 8, 5)), "channels");
        assertRejects(() -> Pooling.globalAvgPoolForward(x, Tensor.zeros(2, 5)), "[2, 5]", "[2, 4]");
        assertRejects(() -> Pooling.globalAvgPoolBackward(Tensor.zeros(3, 4), x), "[3, 4]");
    }
}
