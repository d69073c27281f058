package dev.metaprune.pruningnet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaprune.tensor.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * The fused, crop-only, lazily-updated generator against a dense reference that does what PyTorch
 * does: generate the whole weight, slice, take the full gradient (zero outside the crop) and apply
 * SGD to every parameter every step. And its gradients against central finite differences of a
 * double-precision forward.
 */
class GeneratorTest {
    /** Dense PyTorch-semantics reference in double precision. */
    static final class Dense {
        final int enc, hid, rows;
        final double[] w1, b1, w2, b2, mw1, mb1, mw2, mb2;

        Dense(Generator g) {
            enc = g.encDim();
            hid = g.hidden();
            rows = g.b2.length;
            w1 = toD(g.w1);
            b1 = toD(g.b1);
            w2 = toD(g.w2);
            b2 = toD(g.b2);
            mw1 = new double[w1.length];
            mb1 = new double[b1.length];
            mw2 = new double[w2.length];
            mb2 = new double[b2.length];
        }

        static double[] toD(float[] a) {
            double[] d = new double[a.length];
            for (int i = 0; i < a.length; i++) {
                d[i] = a[i];
            }
            return d;
        }

        double[] hidden(double[] e, double[] pre) {
            double[] h = new double[hid];
            for (int j = 0; j < hid; j++) {
                double s = b1[j];
                for (int k = 0; k < enc; k++) {
                    s += w1[j * enc + k] * e[k];
                }
                pre[j] = s;
                h[j] = Math.max(0, s);
            }
            return h;
        }

        double out(double[] h, int r) {
            double s = b2[r];
            for (int j = 0; j < hid; j++) {
                s += w2[r * hid + j] * h[j];
            }
            return s;
        }

        /** loss = sum over crop of out[r] * g[r]; full-gradient SGD step. */
        void step(double[] e, boolean[] inCrop, float[] g, double lr, double m, double wd, boolean nest) {
            double[] pre = new double[hid];
            double[] h = hidden(e, pre);
            double[] dh = new double[hid];
            double[] gw2 = new double[w2.length], gb2 = new double[rows];
            for (int r = 0; r < rows; r++) {
                if (inCrop[r]) {
                    for (int j = 0; j < hid; j++) {
                        dh[j] += g[r] * w2[r * hid + j];
                        gw2[r * hid + j] = g[r] * h[j];
                    }
                    gb2[r] = g[r];
                }
            }
            double[] gw1 = new double[w1.length], gb1 = new double[hid];
            for (int j = 0; j < hid; j++) {
                double dp = pre[j] > 0 ? dh[j] : 0;
                for (int k = 0; k < enc; k++) {
                    gw1[j * enc + k] = dp * e[k];
                }
                gb1[j] = dp;
            }
            sgd(w1, mw1, gw1, lr, m, wd, nest);
            sgd(b1, mb1, gb1, lr, m, wd, nest);
            sgd(w2, mw2, gw2, lr, m, wd, nest);
            sgd(b2, mb2, gb2, lr, m, wd, nest);
        }

        static void sgd(double[] p, double[] buf, double[] g, double lr, double m, double wd, boolean nest) {
            for (int i = 0; i < p.length; i++) {
                double d = g[i] + wd * p[i];
                buf[i] = m * buf[i] + d;
                p[i] -= lr * (nest ? d + m * buf[i] : buf[i]);
            }
        }
    }

    static void assertClose(String what, double[] want, float[] got, double rtol) {
        double max = 0;
        for (double v : want) {
            max = Math.max(max, Math.abs(v));
        }
        for (int i = 0; i < want.length; i++) {
            double d = Math.abs(got[i] - want[i]);
            if (!(d <= rtol * max + 1e-7)) {
                throw new AssertionError(what + "[" + i + "]: got " + got[i] + " want " + want[i]);
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"3,32,12,9,1,false,0.01", "3,64,10,7,9,true,0.001", "1,32,8,1,9,false,0.0", "2,5,6,5,1,false,0.05",
            "2,32,40,70,1,true,0.001", "3,64,24,20,9,false,0.01", "1,32,150,1,9,false,0.02", "2,20,30,90,1,false,0.01"})
    void lazyFusedStepsEqualDenseSgd(int enc, int hid, int outMax, int inMax, int kk, boolean nest, float wd) {
        int kh = kk == 9 ? 3 : 1;
        Generator gen = new Generator(enc, hid, outMax, inMax, kh, kh, 0.9f, wd, nest).initDefault(7);
        Dense ref = new Dense(gen);
        SplittableRandom r = new SplittableRandom(11);
        Tensor out = Tensor.zeros(outMax, inMax, kh, kh), dOut = Tensor.zeros(outMax, inMax, kh, kh);
        int rows = outMax * inMax * kk;
        int steps = 40;
        for (int step = 0; step < steps; step++) {
            int co = 1 + r.nextInt(outMax), ci = 1 + r.nextInt(inMax);
            if (step % 9 == 4) {
                co = 1; // leaves most blocks stale for many steps
                ci = 1;
            }
            if (step % 7 == 6) {
                co = outMax;
                ci = inMax;
            }
            float[] e = new float[enc];
            double[] ed = new double[enc];
            for (int k = 0; k < enc; k++) {
                e[k] = (float) r.nextDouble();
                ed[k] = e[k];
            }
            float lr = (float) (0.05 * (1 - step / 30.0));
            gen.forward(e, co, ci, out);
            // the generated crop equals the dense forward
            double[] pre = new double[hid];
            double[] hd = ref.hidden(ed, pre);
            boolean[] in = new boolean[rows];
            float[] g = new float[rows];
            for (int o = 0; o < co; o++) {
                for (int i = 0; i < ci; i++) {
                    for (int t = 0; t < kk; t++) {
                        int row = (o * inMax + i) * kk + t;
                        in[row] = true;
                        double want = ref.out(hd, row);
                        assertEquals(want, out.data()[row], 2e-5 * (1 + Math.abs(want)), "step " + step + " row " + row);
                        g[row] = (float) (r.nextDouble() * 2 - 1);
                        dOut.data()[row] = g[row];
                    }
                }
            }
            gen.backwardAndStep(dOut, lr);
            ref.step(ed, in, g, lr, 0.9, wd, nest);
            // an evaluation-only forward in between must not disturb anything
            if (step % 5 == 2) {
                gen.forward(e, 1 + r.nextInt(outMax), 1 + r.nextInt(inMax), out);
            }
            // nor a checkpoint (every block flushed) in the middle of the run
            if (step == 17) {
                gen.flush();
            }
        }
        var st = gen.state(); // flushes every row
        assertClose("fc1.weight", ref.w1, st.get("fc1.weight"), 1e-4);
        assertClose("fc1.bias", ref.b1, st.get("fc1.bias"), 1e-4);
        assertClose("fc2.weight", ref.w2, st.get("fc2.weight"), 1e-4);
        assertClose("fc2.bias", ref.b2, st.get("fc2.bias"), 1e-4);
        assertClose("fc2.weight.momentum", ref.mw2, st.get("fc2.weight.momentum"), 1e-4);
        assertClose("fc2.bias.momentum", ref.mb2, st.get("fc2.bias.momentum"), 1e-4);
        assertEquals(steps, gen.step());
    }

    /**
     * A generator rebuilt from another's flushed state (a checkpoint) continues bit for bit, and a
     * row's generated value does not depend on the crop around it (which decides whether it is
     * summed in a vector group or alone) nor on the thread count.
     */
    @Test
    void resumesBitExactlyAndRowsDoNotDependOnCropOrThreads() {
        int enc = 2, hid = 32, outMax = 60, inMax = 50, kk = 1;
        int threads = dev.metaprune.kernels.Parallel.threadCount();
        try {
            Generator a = new Generator(enc, hid, outMax, inMax, 1, 1, 0.9f, 1e-3f, false).initDefault(3);
            SplittableRandom r = new SplittableRandom(4);
            Tensor out = Tensor.zeros(outMax, inMax, 1, 1), dOut = Tensor.zeros(outMax, inMax, 1, 1);
            float[] e = {0.5f, 0.25f};
            for (int step = 0; step < 6; step++) {
                trainStep(a, e, 1 + r.nextInt(outMax), 1 + r.nextInt(inMax), out, dOut, r);
            }
            Generator b = new Generator(enc, hid, outMax, inMax, 1, 1, 0.9f, 1e-3f, false);
            var sa = a.state();
            var sb = b.state();
            for (var en : sa.entrySet()) {
                System.arraycopy(en.getValue(), 0, sb.get(en.getKey()), 0, en.getValue().length);
            }
            b.restoredAt(a.step());
            SplittableRandom ra = new SplittableRandom(9), rb = new SplittableRandom(9);
            for (int step = 0; step < 6; step++) {
                int co = 1 + ra.nextInt(outMax), ci = 1 + ra.nextInt(inMax);
                rb.nextInt(outMax);
                rb.nextInt(inMax);
                trainStep(a, e, co, ci, out, dOut, ra);
                trainStep(b, e, co, ci, out, dOut, rb);
            }
            var fa = a.state();
            var fb = b.state();
            for (var en : fa.entrySet()) {
                org.junit.jupiter.api.Assertions.assertArrayEquals(en.getValue(), fb.get(en.getKey()), en.getKey());
            }
            // the same weights generated under different crops and thread counts: identical bits
            float[] full = new float[outMax * inMax * kk];
            a.forward(e, outMax, inMax, out);
            System.arraycopy(out.data(), 0, full, 0, full.length);
            for (int t : new int[] {1, 3}) {
                dev.metaprune.kernels.Parallel.setThreads(t);
                for (int ci : new int[] {inMax, inMax - 1, 17, 5}) {
                    Tensor o2 = Tensor.zeros(outMax, inMax, 1, 1);
                    a.forward(e, outMax, ci, o2);
                    for (int oc = 0; oc < outMax; oc++) {
                        for (int i = 0; i < ci * kk; i++) {
                            int row = oc * inMax * kk + i;
                            assertEquals(full[row], o2.data()[row], 0f, "threads " + t + " crop ci " + ci + " row " + row);
                        }
                    }
                }
            }
        } finally {
            dev.metaprune.kernels.Parallel.setThreads(threads);
        }
    }

    private static void trainStep(Generator g, float[] e, int co, int ci, Tensor out, Tensor dOut, SplittableRandom r) {
        g.forward(e, co, ci, out);
        java.util.Arrays.fill(dOut.data(), 0f);
        int kk = g.kernelArea();
        for (int o = 0; o < co; o++) {
            for (int i = 0; i < ci * kk; i++) {
                dOut.data()[(o * g.inMax()) * kk + i] = (float) (r.nextDouble() * 2 - 1);
            }
        }
        g.backwardAndStep(dOut, 0.05f);
    }

    /** With momentum 0, no decay and lr 1, a step subtracts exactly the gradient: check it by finite differences. */
    @Test
    void gradientsMatchFiniteDifferences() {
        int enc = 3, hid = 8, outMax = 5, inMax = 4, kk = 9, co = 3, ci = 2;
        Generator gen = new Generator(enc, hid, outMax, inMax, 3, 3, 0f, 0f, false).initDefault(3);
        SplittableRandom r = new SplittableRandom(5);
        float[] e = {0.4f, 0.7f, 1.0f};
        double[] ed = {e[0], e[1], e[2]};
        Tensor out = Tensor.zeros(outMax, inMax, 3, 3), dOut = Tensor.zeros(outMax, inMax, 3, 3);
        int rows = outMax * inMax * kk;
        float[] g = new float[rows];
        for (int o = 0; o < co; o++) {
            for (int i = 0; i < ci * kk; i++) {
                int row = o * inMax * kk + i;
                g[row] = (float) (r.nextDouble() * 2 - 1);
                dOut.data()[row] = g[row];
            }
        }
        Dense before = new Dense(gen);
        gen.forward(e, co, ci, out);
        gen.backwardAndStep(dOut, 1f);
        var st = gen.state();
        String[] names = {"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"};
        double[][] params = {before.w1, before.b1, before.w2, before.b2};
        for (int p = 0; p < 4; p++) {
            double[] x = params[p];
            float[] after = st.get(names[p]);
            for (int idx = 0; idx < x.length; idx += Math.max(1, x.length / 40)) {
                double keep = x[idx], eps = 1e-6;
                x[idx] = keep + eps;
                double lp = loss(before, ed, g, co, ci, inMax, kk);
                x[idx] = keep - eps;
                double lm = loss(before, ed, g, co, ci, inMax, kk);
                x[idx] = keep;
                double fd = (lp - lm) / (2 * eps);
                double analytic = keep - after[idx]; // lr 1, no momentum, no decay
                assertEquals(fd, analytic, 1e-4 * (1 + Math.abs(fd)), names[p] + "[" + idx + "]");
            }
        }
    }

    private static double loss(Dense d, double[] e, float[] g, int co, int ci, int inMax, int kk) {
        double[] pre = new double[d.hid];
        double[] h = d.hidden(e, pre);
        double s = 0;
        for (int o = 0; o < co; o++) {
            for (int i = 0; i < ci * kk; i++) {
                int row = o * inMax * kk + i;
                s += d.out(h, row) * g[row];
            }
        }
        return s;
    }

    @Test
    void badInput() {
        Generator gen = new Generator(3, 8, 4, 4, 1, 1, 0.9f, 0f, false);
        Tensor out = Tensor.zeros(4, 4, 1, 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> gen.forward(new float[3], 5, 2, out));
        assertTrue(e.getMessage().contains("[5, 2]") && e.getMessage().contains("[4, 4]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> gen.forward(new float[2], 2, 2, out));
        assertTrue(e.getMessage().contains("takes 3"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> gen.forward(new float[3], 2, 2, Tensor.zeros(4, 3, 1, 1)));
        assertTrue(e.getMessage().contains("[4, 4, kh, kw]"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> gen.backwardAndStep(out, 0.1f));
        assertThrows(IllegalArgumentException.class, () -> new Generator(0, 8, 4, 4, 1, 1, 0.9f, 0f, false));
    }
}
