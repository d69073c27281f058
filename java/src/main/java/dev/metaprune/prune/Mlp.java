package dev.metaprune.prune;

import java.util.Random;

/**
 * A small fully-connected network in plain Java (doubles) for the AMC agent: ReLU hidden layers, a linear or sigmoid
 * output, gradients accumulated sample by sample, Adam. PyTorch's default initialisation (uniform in
 * {@code +-1/sqrt(fan_in)}), the last layer in {@code +-3e-3} as DDPG's paper does.
 */
final class Mlp implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    final int[] sizes;
    final boolean sigmoidOut;
    final double[][] w; // layer l: [sizes[l+1] x sizes[l]]
    final double[][] b;
    final double[][] gw;
    final double[][] gb;
    private final double[][] mw, vw, mb, vb;
    private long t;

    Mlp(Random rnd, boolean sigmoidOut, int... sizes) {
        this.sizes = sizes.clone();
        this.sigmoidOut = sigmoidOut;
        int L = sizes.length - 1;
        w = new double[L][];
        b = new double[L][];
        gw = new double[L][];
        gb = new double[L][];
        mw = new double[L][];
        vw = new double[L][];
        mb = new double[L][];
        vb = new double[L][];
        for (int l = 0; l < L; l++) {
            int in = sizes[l], out = sizes[l + 1];
            double bound = l == L - 1 ? 3e-3 : 1 / Math.sqrt(in);
            w[l] = new double[in * out];
            b[l] = new double[out];
            for (int i = 0; i < w[l].length; i++) {
                w[l][i] = (2 * rnd.nextDouble() - 1) * bound;
            }
            for (int i = 0; i < out; i++) {
                b[l][i] = (2 * rnd.nextDouble() - 1) * bound;
            }
            gw[l] = new double[in * out];
            gb[l] = new double[out];
            mw[l] = new double[in * out];
            vw[l] = new double[in * out];
            mb[l] = new double[out];
            vb[l] = new double[out];
        }
    }

    /** Activations of every layer, input first (post-ReLU for hidden layers, the output last). */
    double[][] forward(double[] x) {
        int L = sizes.length - 1;
        double[][] a = new double[L + 1][];
        a[0] = x;
        for (int l = 0; l < L; l++) {
            int in = sizes[l], out = sizes[l + 1];
            double[] y = new double[out];
            for (int o = 0; o < out; o++) {
                double s = b[l][o];
                int base = o * in;
                for (int i = 0; i < in; i++) {
                    s += w[l][base + i] * a[l][i];
                }
                if (l < L - 1) {
                    s = Math.max(0, s);
                } else if (sigmoidOut) {
                    s = 1 / (1 + Math.exp(-s));
                }
                y[o] = s;
            }
            a[l + 1] = y;
        }
        return a;
    }

    double[] output(double[] x) {
        double[][] a = forward(x);
        return a[a.length - 1];
    }

    /**
     * Backward from {@code dOut} (gradient of the loss at the output); accumulates parameter gradients when
     * {@code accumulate}; returns the gradient at the input.
     */
    double[] backward(double[][] a, double[] dOut, boolean accumulate) {
        int L = sizes.length - 1;
        double[] d = dOut.clone();
        if (sigmoidOut) {
            double[] y = a[L];
            for (int o = 0; o < d.length; o++) {
                d[o] *= y[o] * (1 - y[o]);
            }
        }
        for (int l = L - 1; l >= 0; l--) {
            int in = sizes[l], out = sizes[l + 1];
            double[] dx = new double[in];
            for (int o = 0; o < out; o++) {
                double g = d[o];
                if (g == 0) {
                    continue;
                }
                int base = o * in;
                if (accumulate) {
                    gb[l][o] += g;
                    for (int i = 0; i < in; i++) {
                        gw[l][base + i] += g * a[l][i];
                    }
                }
                for (int i = 0; i < in; i++) {
                    dx[i] += g * w[l][base + i];
                }
            }
            if (l > 0) {
                for (int i = 0; i < in; i++) {
                    if (a[l][i] <= 0) {
                        dx[i] = 0; // ReLU
                    }
                }
            }
            d = dx;
        }
        return d;
    }

    void zeroGrad() {
        for (int l = 0; l < gw.length; l++) {
            java.util.Arrays.fill(gw[l], 0);
            java.util.Arrays.fill(gb[l], 0);
        }
    }

    /** One Adam step (betas 0.9, 0.999, eps 1e-8) with the accumulated gradients; then zeroes them. */
    void adam(double lr) {
        t++;
        double c1 = 1 - Math.pow(0.9, t), c2 = 1 - Math.pow(0.999, t);
        for (int l = 0; l < w.length; l++) {
            adam(w[l], gw[l], mw[l], vw[l], lr, c1, c2);
            adam(b[l], gb[l], mb[l], vb[l], lr, c1, c2);
        }
        zeroGrad();
    }

    private static void adam(double[] p, double[] g, double[] m, double[] v, double lr, double c1, double c2) {
        for (int i = 0; i < p.length; i++) {
            m[i] = 0.9 * m[i] + 0.1 * g[i];
            v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i];
            p[i] -= lr * (m[i] / c1) / (Math.sqrt(v[i] / c2) + 1e-8);
        }
    }

    /** {@code this = tau * src + (1 - tau) * this} (the target networks' soft update; tau 1 copies). */
    void softUpdate(Mlp src, double tau) {
        for (int l = 0; l < w.length; l++) {
            for (int i = 0; i < w[l].length; i++) {
                w[l][i] = tau * src.w[l][i] + (1 - tau) * w[l][i];
            }
            for (int i = 0; i < b[l].length; i++) {
                b[l][i] = tau * src.b[l][i] + (1 - tau) * b[l][i];
            }
        }
    }
}
