package dev.metaprune.prune;

import dev.metaprune.data.HeldBatch;
import dev.metaprune.nn.Network;
import dev.metaprune.nn.arch.Architecture;
import dev.metaprune.nn.arch.Op;
import dev.metaprune.nn.arch.Widths;
import dev.metaprune.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * AMC's weight reconstruction: after a layer loses input channels, its kept weights are refitted by least squares so
 * that its output on sampled feature maps stays as close as possible to the unpruned network's
 * ({@code min_W ||X[:, kept] W^T - Y||^2}, the official {@code least_square_sklearn}). Done for every 1x1
 * (non-depthwise) convolution reading a prunable group; the inputs and outputs are sampled at random positions of the
 * unpruned network's feature maps and kept as sufficient statistics ({@code X^T X}, {@code X^T Y}, {@code |Y|^2}), so
 * a refit costs one small Cholesky solve.
 */
public final class Reconstruction {
    /** The sampled statistics of one 1x1 conv (source widths). */
    public record Stats(Op.Conv conv, int cin, int cout, double[] gram, double[] cross, double[] yy, long samples) {
    }

    private Reconstruction() {
    }

    /** The convs that get refitted: 1x1, not depthwise, not reading the image, input group prunable. */
    public static List<Op.Conv> consumers(ChannelGroups groups) {
        List<Op.Conv> out = new ArrayList<>();
        for (Op.Conv c : groups.architecture().convs()) {
            if (c.kernel() == 1 && c.padding() == 0 && c.kind() != Op.ConvKind.DEPTHWISE && c.input() != 0
                    && groups.prunable(groups.groupOf(c.in()))) {
                out.add(c);
            }
        }
        return out;
    }

    /**
     * Runs the dense network on {@code batches} and samples {@code points} positions per image of every consumer's
     * input and output.
     */
    public static List<Stats> sample(ChannelGroups groups, Widths src, Map<String, Tensor> weights,
                                     List<HeldBatch> batches, int points, long seed) {
        Architecture arch = src.architecture();
        int maxBatch = 1;
        for (HeldBatch b : batches) {
            maxBatch = Math.max(maxBatch, b.size());
        }
        Network net = new Network(arch, maxBatch, Network.Mode.TRAINING); // keeps every conv's input and output
        NetworkSlots.fill(net, weights);
        List<Op.Conv> convs = consumers(groups);
        List<double[]> grams = new ArrayList<>(), crosses = new ArrayList<>(), yys = new ArrayList<>();
        for (Op.Conv c : convs) {
            int ci = src.of(c.in()), co = src.of(c.out());
            grams.add(new double[ci * ci]);
            crosses.add(new double[ci * co]);
            yys.add(new double[co]);
        }
        Random rnd = new Random(seed);
        long samples = 0;
        for (HeldBatch b : batches) {
            net.forward(b.images(), src, Network.BnMode.EVAL);
            int n = b.size();
            int[][] pos = new int[n * points][];
            for (int k = 0; k < convs.size(); k++) {
                Op.Conv c = convs.get(k);
                Tensor x = net.activation(c.input(), n), y = net.activation(c.output(), n);
                int ci = x.dim(3), co = y.dim(3), ho = y.dim(1), wo = y.dim(2);
                double[] g = grams.get(k), cr = crosses.get(k), yy = yys.get(k);
                double[] xv = new double[ci], yv = new double[co];
                for (int img = 0; img < n; img++) {
                    for (int p = 0; p < points; p++) {
                        int oh = rnd.nextInt(ho), ow = rnd.nextInt(wo);
                        for (int i = 0; i < ci; i++) {
                            xv[i] = x.get(img, oh * c.stride(), ow * c.stride(), i);
                        }
                        for (int o = 0; o < co; o++) {
                            yv[o] = y.get(img, oh, ow, o);
                            yy[o] += yv[o] * yv[o];
                        }
                        for (int i = 0; i < ci; i++) {
                            double xi = xv[i];
                            if (xi == 0) {
                                continue;
                            }
                            int gi = i * ci;
                            for (int j = 0; j < ci; j++) {
                                g[gi + j] += xi * xv[j];
                            }
                            int ri = i * co;
                            for (int o = 0; o < co; o++) {
                                cr[ri + o] += xi * yv[o];
                            }
                        }
                    }
                }
            }
            samples += (long) n * points;
        }
        List<Stats> out = new ArrayList<>();
        for (int k = 0; k < convs.size(); k++) {
            Op.Conv c = convs.get(k);
            out.add(new Stats(c, src.of(c.in()), src.of(c.out()), grams.get(k), crosses.get(k), yys.get(k), samples));
        }
        return out;
    }

    /**
     * The least-squares weights {@code [cout, kept.length]} for the kept input channels (ridge {@code 1e-6} of the
     * mean diagonal, for rank-deficient samples such as always-zero ReLU outputs).
     */
    public static double[] solve(Stats s, int[] kept) {
        int k = kept.length, co = s.cout();
        double[] a = new double[k * k];
        double diag = 0;
        for (int i = 0; i < k; i++) {
            for (int j = 0; j < k; j++) {
                a[i * k + j] = s.gram()[kept[i] * s.cin() + kept[j]];
            }
            diag += a[i * k + i];
        }
        double ridge = 1e-6 * Math.max(diag / k, 1e-12);
        for (int i = 0; i < k; i++) {
            a[i * k + i] += ridge;
        }
        // Cholesky a = L L^T
        for (int j = 0; j < k; j++) {
            double d = a[j * k + j];
            for (int q = 0; q < j; q++) {
                d -= a[j * k + q] * a[j * k + q];
            }
            d = Math.sqrt(Math.max(d, 1e-300));
            a[j * k + j] = d;
            for (int i = j + 1; i < k; i++) {
                double v = a[i * k + j];
                for (int q = 0; q < j; q++) {
                    v -= a[i * k + q] * a[j * k + q];
                }
                a[i * k + j] = v / d;
            }
        }
        double[] w = new double[co * k];
        double[] rhs = new double[k];
        for (int o = 0; o < co; o++) {
            for (int i = 0; i < k; i++) {
                rhs[i] = s.cross()[kept[i] * co + o];
            }
            for (int i = 0; i < k; i++) { // L z = rhs
                double v = rhs[i];
                for (int q = 0; q < i; q++) {
                    v -= a[i * k + q] * rhs[q];
                }
                rhs[i] = v / a[i * k + i];
            }
            for (int i = k - 1; i >= 0; i--) { // L^T w = z
                double v = rhs[i];
                for (int q = i + 1; q < k; q++) {
                    v -= a[q * k + i] * rhs[q];
                }
                rhs[i] = v / a[i * k + i];
            }
            System.arraycopy(rhs, 0, w, o * k, k);
        }
        return w;
    }

    /** The sampled squared output error {@code sum ||X[:, kept] W^T - Y||^2} of weights {@code w [cout, k]}. */
    public static double error(Stats s, int[] kept, double[] w) {
        int k = kept.length, co = s.cout();
        double err = 0;
        for (int o = 0; o < co; o++) {
            double quad = 0, lin = 0;
            for (int i = 0; i < k; i++) {
                double wi = w[o * k + i];
                if (wi == 0) {
                    continue;
                }
                lin += wi * s.cross()[kept[i] * co + o];
                int gi = kept[i] * s.cin();
                double row = 0;
                for (int j = 0; j < k; j++) {
                    row += s.gram()[gi + kept[j]] * w[o * k + j];
                }
                quad += wi * row;
            }
            err += quad - 2 * lin + s.yy()[o];
        }
        return err;
    }

    /** The source weights of a conv restricted to the kept inputs, {@code [cout, k]} (1x1: one tap). */
    public static double[] keptWeights(Tensor w, int[] kept) {
        int co = w.dim(0), ci = w.dim(1), k = kept.length;
        double[] r = new double[co * k];
        for (int o = 0; o < co; o++) {
            for (int i = 0; i < k; i++) {
                r[o * k + i] = w.data()[w.offset() + o * ci + kept[i]];
            }
        }
        return r;
    }

    /**
     * A copy of {@code weights} where every consumer whose input group lost channels has its kept input columns
     * refitted (dropped columns zeroed; the surgery then cuts them). {@code keptByDim} as {@link Surgery#keptByDim}.
     */
    public static Map<String, Tensor> apply(List<Stats> stats, Map<String, Tensor> weights, int[][] keptByDim) {
        Map<String, Tensor> out = new java.util.LinkedHashMap<>(weights);
        for (Stats s : stats) {
            int[] kept = keptByDim[s.conv().in().id()];
            if (kept.length == s.cin()) {
                continue;
            }
            double[] w = solve(s, kept);
            Tensor t = Tensor.zeros(s.cout(), s.cin(), 1, 1);
            for (int o = 0; o < s.cout(); o++) {
                for (int i = 0; i < kept.length; i++) {
                    t.data()[o * s.cin() + kept[i]] = (float) w[o * kept.length + i];
                }
            }
            out.put(s.conv().name() + ".weight", t);
        }
        return out;
    }
}
