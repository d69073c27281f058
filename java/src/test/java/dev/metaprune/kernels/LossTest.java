package dev.metaprune.kernels;

import static dev.metaprune.testing.Refs.U;
import static dev.metaprune.testing.Refs.assertPaddingUntouched;
import static dev.metaprune.testing.Refs.assertSameBits;
import static dev.metaprune.testing.Refs.strided;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
 * Softmax cross-entropy (with label smoothing) and top-k counts, against PyTorch 1.13 (float64
 * references), a double implementation in this test and central finite differences.
 *
 * <h2>Tolerances ({@code U = 2^-24})</h2>
 * <ul>
 *   <li>Loss: the exponentials are float (within 1 ulp) and everything after them double, so
 *       the log-sum-exp is off by ~2U in absolute terms per row whatever the logit range:
 *       {@code |loss - ref| <= 8U + 4U |ref|} (measured: under 0.11 of that).</li>
 *   <li>Gradient {@code (softmax - target) / N}: exp (1 ulp), the scale {@code 1/(sN)} rounded to
 *       float and one fma: {@code 4U} relative plus {@code 2U / N} absolute (entries are at most
 *       {@code 1/N} in size; the absolute part covers the cancellation {@code p - t}; measured:
 *       under 0.2 of that).</li>
 *   <li>Finite differences in double, step 1e-5: truncation ~1e-10; the float gradient is allowed
 *       {@code 1e-6 / N} (~16U of the largest possible entry).</li>
 *   <li>Top-k counts: exact.</li>
 * </ul>
 */
class LossTest {
    static void lossClose(String what, float got, double want) {
        assertTrue(Math.abs(got - want) <= 8 * U + 4 * U * Math.abs(want), what + ": got " + got + ", want " + want);
    }

    @ParameterizedTest
    @ValueSource(strings = {"ce_n7_k10", "ce_n3_k1000"})
    void matchesPyTorch(String name) {
        SafeTensors.File f = Refs.load("nnops/" + name);
        Tensor z = f.get("logits");
        int[] labels = f.ints("labels");
        int n = z.dim(0);
        for (String tag : new String[] {"s0", "s01"}) {
            float eps = tag.equals("s0") ? 0f : 0.1f;
            Tensor g = Tensor.zeros(z.shape());
            float loss = Loss.softmaxCrossEntropy(z, labels, eps, g);
            lossClose(name + " loss " + tag, loss, f.get("loss_" + tag).get(0));
            Refs.assertClose(name + " grad " + tag, g, f.get("grad_" + tag), 2 * U / n, 4 * U);
            assertEquals(loss, Loss.softmaxCrossEntropy(z, labels, eps, null), "loss without the gradient");
        }
        assertEquals(f.ints("top1")[0], Loss.countTopK(z, labels, 1), name + " top-1");
        assertEquals(f.ints("top5")[0], Loss.countTopK(z, labels, 5), name + " top-5");
    }

    /** Mean smoothed cross-entropy in double (straightforward, with the max shift). */
    static double ce64(double[] z, int[] labels, int n, int k, double eps) {
        double total = 0;
        for (int r = 0; r < n; r++) {
            double m = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < k; j++) {
                m = Math.max(m, z[r * k + j]);
            }
            double s = 0;
            for (int j = 0; j < k; j++) {
                s += Math.exp(z[r * k + j] - m);
            }
            double lse = m + Math.log(s);
            for (int j = 0; j < k; j++) {
                double t = eps / k + (j == labels[r] ? 1 - eps : 0);
                total += t * (lse - z[r * k + j]);
            }
        }
        return total / n;
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8})
    void gradientMatchesFiniteDifferences(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int n = 1 + r.nextInt(9), k = 1 + r.nextInt(60);
        double eps = new double[] {0, 0.1, 0.37}[(int) (seed % 3)];
        Tensor z = Refs.gaussian(r, seed % 2 == 0 ? 50 : 0, 2.5, n, k);
        int[] labels = r.ints(n, 0, k).toArray();
        Tensor g = Tensor.zeros(n, k);
        float loss = Loss.softmaxCrossEntropy(z, labels, (float) eps, g);
        double[] z64 = Refs.toDouble(z);
        // the kernel takes eps as a float: use the same value in the reference
        double e32 = (float) eps;
        lossClose("loss vs double (n " + n + ", k " + k + ")", loss, ce64(z64, labels, n, k, e32));
        double h = 1e-5;
        double[] fd = new double[n * k];
        for (int i = 0; i < fd.length; i++) {
            double keep = z64[i];
            z64[i] = keep + h;
            double lp = ce64(z64, labels, n, k, e32);
            z64[i] = keep - h;
            double lm = ce64(z64, labels, n, k, e32);
            z64[i] = keep;
            fd[i] = (lp - lm) / (2 * h);
        }
        Refs.assertClose("dLogits vs FD (n " + n + ", k " + k + ", eps " + eps + ")", g, fd, 1e-6 / n, 0);
    }

    /** No overflow for huge logits, no underflow trouble for tiny ones; a batch big enough to be split. */
    @Test
    void stableAndParallel() {
        SplittableRandom r = new SplittableRandom(3);
        int n = 512, k = 1000;
        Tensor z = Refs.gaussian(r, 0, 4, n, k);
        for (int i = 0; i < n; i++) {
            float shift = i % 3 == 0 ? 1000f : (i % 3 == 1 ? -1000f : 0f);
            for (int j = 0; j < k; j++) {
                z.data()[i * k + j] += shift;
            }
        }
        int[] labels = r.ints(n, 0, k).toArray();
        Tensor g = Tensor.zeros(n, k);
        float loss = Loss.softmaxCrossEntropy(z, labels, 0.1f, g);
        double[] z64 = Refs.toDouble(z);
        lossClose("loss", loss, ce64(z64, labels, n, k, 0.1f));
        double[] want = new double[n * k];
        for (int i = 0; i < n; i++) {
            double m = Double.NEGATIVE_INFINITY, s = 0;
            for (int j = 0; j < k; j++) {
                m = Math.max(m, z64[i * k + j]);
            }
            for (int j = 0; j < k; j++) {
                s += Math.exp(z64[i * k + j] - m);
            }
            for (int j = 0; j < k; j++) {
                double t = 0.1f / k + (j == labels[i] ? 1 - 0.1f : 0);
                want[i * k + j] = (Math.exp(z64[i * k + j] - m) / s - t) / n;
            }
        }
        Refs.assertClose("dLogits", g, want, 2 * U / n, 4 * U);

        // views (padding untouched) and the gradient written over the logits give the same bits
        Tensor zv = strided(z, 3, 2), gv = strided(Tensor.zeros(n, k), 0, 5);
        assertEquals(loss, Loss.softmaxCrossEntropy(zv, labels, 0.1f, gv));
        assertSameBits("dLogits (views)", gv, g);
        assertPaddingUntouched("dLogits view", gv);
        Tensor zin = z.copy();
        assertEquals(loss, Loss.softmaxCrossEntropy(zin, labels, 0.1f, zin));
        assertSameBits("dLogits in place", zin, g);
    }

    @Test
    void nanLogitGivesNanLoss() {
        Tensor z = Tensor.zeros(2, 5);
        z.set(Float.NaN, 1, 3);
        Tensor g = Tensor.zeros(2, 5);
        float loss = Loss.softmaxCrossEntropy(z, new int[] {0, 1}, 0f, g);
        assertTrue(Float.isNaN(loss), "NaN logits must give a NaN loss, got " + loss);
        assertTrue(Float.isNaN(g.get(1, 0)) && Float.isFinite(g.get(0, 0)), "NaN stays in its row");
    }

    /** Brute force: rank = number of other classes with a logit >= the label's (NaN ahead). */
    static int bruteTopK(Tensor z, int[] labels, int k) {
        int hits = 0;
        for (int i = 0; i < z.dim(0); i++) {
            float zl = z.get(i, labels[i]);
            int ahead = 0;
            for (int j = 0; j < z.dim(1); j++) {
                float v = z.get(i, j);
                if (j != labels[i] && (v >= zl || Float.isNaN(v) || Float.isNaN(zl))) {
                    ahead++;
                }
            }
            hits += ahead < k ? 1 : 0;
        }
        return hits;
    }

    @Test
    void topKTiesAndNaN() {
        // row 0: all equal; row 1: label tied with one other for first; row 2: clear winner;
        // row 3: NaN elsewhere; row 4: NaN at the label
        float nan = Float.NaN;
        float[] d = {
            1, 1, 1, 1, 1, 1,
            5, 2, 5, 0, 1, 1,
            0, 0, 9, 0, 0, 0,
            nan, 0, 3, 1, 2, 0,
            0, nan, 0, 0, 0, 0};
        Tensor z = Tensor.wrap(d, 5, 6);
        int[] labels = {2, 0, 2, 2, 1};
        assertEquals(1, Loss.countTopK(z, labels, 1), "top-1: only the clear winner");
        assertEquals(3, Loss.countTopK(z, labels, 2), "top-2: + tied pair, + label behind one NaN");
        assertEquals(3, Loss.countTopK(z, labels, 5), "top-5: an all-tied row of 6 still misses");
        assertEquals(5, Loss.countTopK(z, labels, 6), "top-K: everything");
        SplittableRandom r = new SplittableRandom(11);
        for (int t = 0; t < 20; t++) {
            int n = 1 + r.nextInt(40), k = 1 + r.nextInt(70);
            Tensor q = Tensor.zeros(n, k);
            for (int i = 0; i < q.data().length; i++) {
                q.data()[i] = r.nextInt(6); // many ties
            }
            int[] lab = r.ints(n, 0, k).toArray();
            for (int kk = 1; kk <= Math.min(k, 6); kk++) {
                assertEquals(bruteTopK(q, lab, kk), Loss.countTopK(q, lab, kk), "random ties n " + n + " k " + k);
            }
        }
        Tensor big = Refs.gaussian(r, 0, 1, 512, 1000);
        int[] lab = r.ints(512, 0, 1000).toArray();
        assertEquals(bruteTopK(big, lab, 5), Loss.countTopK(strided(big, 1, 3), lab, 5), "big, view");
    }

    @Test
    void rejectsBadInput() {
        Tensor z = Tensor.zeros(4, 10);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Loss.softmaxCrossEntropy(z, new int[] {0, 1, 2, 10}, 0f, null));
        assertTrue(e.getMessage().contains("row 3") && e.getMessage().contains("[4, 10]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Loss.softmaxCrossEntropy(z, new int[] {0, -1, 2, 3}, 0f, null));
        assertTrue(e.getMessage().contains("row 1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Loss.softmaxCrossEntropy(z, new int[3], 0f, null));
        assertTrue(e.getMessage().contains("3 labels") && e.getMessage().contains("[4, 10]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Loss.softmaxCrossEntropy(z, new int[4], 0f, Tensor.zeros(4, 11)));
        assertTrue(e.getMessage().contains("[4, 11]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Loss.softmaxCrossEntropy(z, new int[4], -0.1f, null));
        assertThrows(IllegalArgumentException.class, () -> Loss.softmaxCrossEntropy(z, new int[4], Float.NaN, null));
        assertThrows(IllegalArgumentException.class, () -> Loss.softmaxCrossEntropy(Tensor.zeros(4, 2, 5),
                new int[4], 0f, null));
        // nothing written when a label is bad
        Tensor g = Tensor.zeros(4, 10).fill(7f);
        assertThrows(IllegalArgumentException.class, () -> Loss.softmaxCrossEntropy(z, new int[] {0, 0, 0, 99}, 0f, g));
        assertEquals(7f, g.get(0, 0));
        e = assertThrows(IllegalArgumentException.class, () -> Loss.countTopK(z, new int[4], 11));
        assertTrue(e.getMessage().contains("k = 11"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Loss.countTopK(z, new int[4], 0));
        e = assertThrows(IllegalArgumentException.class, () -> Loss.countTopK(z, new int[] {0, 0, 12, 0}, 1));
        assertTrue(e.getMessage().contains("row 2"), e.getMessage());
    }
}
