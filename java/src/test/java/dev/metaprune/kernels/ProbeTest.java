package dev.metaprune.kernels;

import dev.metaprune.tensor.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ProbeTest {
    static Tensor rnd(SplittableRandom r, int... s) {
        Tensor t = Tensor.zeros(s);
        for (int i = 0; i < t.data().length; i++) t.data()[i] = (float) r.nextGaussian();
        return t;
    }

    @Test
    void probe() {
        SplittableRandom r = new SplittableRandom(3);
        int[][] cases = {{2, 4, 81, 2048}, {2, 4, 2048, 81}, {2, 4, 66, 2048}, {4, 7, 40, 144}};
        for (int[] cs : cases) {
            int n = cs[0], h = cs[1], ci = cs[2], co = cs[3];
            Conv2dSpec spec = Conv2dSpec.of(ci, co, 1, 1, 0, 1);
            Tensor x = rnd(r, n, h, h, ci), w = rnd(r, co, ci, 1, 1), dy = rnd(r, n, h, h, co);
            Tensor y = Tensor.zeros(n, h, h, co), dx = Tensor.zeros(x.shape()), dw = Tensor.zeros(w.shape());
            Conv2d.forward(x, w, null, y, spec);
            Conv2d.backwardInput(dy, w, dx, spec);
            Conv2d.backwardWeight(x, dy, dw, null, spec, false);
            int P = n * h * h;
            double[] ry = new double[P * co], rdx = new double[P * ci], rdw = new double[co * ci];
            for (int p = 0; p < P; p++) for (int o = 0; o < co; o++) for (int i = 0; i < ci; i++) {
                ry[p * co + o] += (double) x.data()[p * ci + i] * w.data()[o * ci + i];
                rdx[p * ci + i] += (double) dy.data()[p * co + o] * w.data()[o * ci + i];
                rdw[o * ci + i] += (double) dy.data()[p * co + o] * x.data()[p * ci + i];
            }
            System.out.printf("pw n%d h%d %d->%d: y %.2e dx %.2e dw %.2e%n", n, h, ci, co, err(ry, y), err(rdx, dx), err(rdw, dw));
            // BN on y
            Tensor g = rnd(r, co), b = rnd(r, co), bo = Tensor.zeros(y.shape()), sm = Tensor.zeros(co), si = Tensor.zeros(co);
            BatchNorm.trainForward(y, g, b, bo, sm, si, null, null, 0.1f, 1e-5f);
            Tensor dbx = Tensor.zeros(y.shape()), dg = Tensor.zeros(co), db = Tensor.zeros(co);
            BatchNorm.backward(y, dy, g, sm, si, dbx, dg, db, false);
            double[] rbx = new double[P * co];
            for (int c = 0; c < co; c++) {
                double m = 0, v = 0, sdy = 0, sdyx = 0;
                for (int p = 0; p < P; p++) m += y.data()[p * co + c];
                m /= P;
                for (int p = 0; p < P; p++) { double d = y.data()[p * co + c] - m; v += d * d; }
                v /= P;
                double inv = 1 / Math.sqrt(v + 1e-5);
                for (int p = 0; p < P; p++) { double xh = (y.data()[p * co + c] - m) * inv; sdy += dy.data()[p * co + c]; sdyx += dy.data()[p * co + c] * xh; }
                for (int p = 0; p < P; p++) { double xh = (y.data()[p * co + c] - m) * inv;
                    rbx[p * co + c] = g.data()[c] * inv * (dy.data()[p * co + c] - sdy / P - xh * sdyx / P); }
            }
            System.out.printf("   bn backward dx %.2e%n", err(rbx, dbx));
        }
    }

    static double err(double[] r, Tensor t) {
        double m = 0, mx = 0;
        for (int i = 0; i < r.length; i++) { m = Math.max(m, Math.abs(r[i] - t.data()[i])); mx = Math.max(mx, Math.abs(r[i])); }
        return m / mx;
    }
}
