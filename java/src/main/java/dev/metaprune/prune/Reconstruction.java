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
 * ({@code min_W ||X[:, kept] W^T - Y||^2}, the official {@code least_square_sklearn}). Done for every convolution that
 * mixes channels (not depthwise, not reading the image) whose input group is prunable: a 1x1 conv as the official code
 * does (one feature per input channel), and a k x k conv (a ResNet's 3x3, MobileNetV1's stem excepted) on its
 * receptive fields: the features are the {@code cin x k x k} input values under the kernel at a sampled output
 * position (zero padding included), the unknowns the matching weight taps, and an input channel kept or dropped keeps
 * or drops its k x k taps together. The official code refits only 1x1 layers (its ResNet reconstruction is left
 * unimplemented); the k x k case is the same least squares on im2col rows, as ThiNet and channel pruning (He et al.
 * 2017) do for 3x3 layers.
 *
 * <p>The samples are kept as sufficient statistics ({@code X^T X}, {@code X^T Y}, {@code |Y|^2}), so a refit costs one
 * Cholesky solve of the kept features. A layer sampled fewer than {@link #MIN_SAMPLES_PER_FEATURE} times per kept
 * feature, or a layer with more than {@link #MAX_FEATURES} features (ResNet-50's widest 3x3:
 * 512 x 9) keeps its inherited weights: its Gram matrix would take hundreds of megabytes.
 */
public final class Reconstruction {
    /**
     * Fewest samples per kept feature for a refit: below it the least squares fits the samples' noise (a k x k layer
     * with 16 samples per image on a 2x2 map fitted its samples exactly and made the network's logits worse); such a
     * layer keeps its inherited weights. AMC's defaults (256 images x 10 points) refit up to 1,280 kept features.
     */
    public static final int MIN_SAMPLES_PER_FEATURE = 2;

    /** Largest {@code cin x k x k} refitted (ResNet-50's stage-3 3x3: 256 x 9; the Gram matrix is 42 MB). */
    public static final int MAX_FEATURES = 2304;

    /**
     * The sampled statistics of one conv (source widths): features {@code cin x taps} ordered as the weight's
     * {@code [cout, cin, k, k]} rows (feature {@code i * taps + t}).
     */
    public record Stats(Op.Conv conv, int cin, int cout, int taps, double[] gram, double[] cross, double[] yy,
                        long samples) {
        // samples: sampled positions, counted at most the map's size per image (repeats add no information)
        /** Number of features: {@code cin x taps}. */
        public int features() {
            return cin * taps;
        }

        /** The feature indices of kept input channels (each channel's taps in order). */
        int[] features(int[] kept) {
            int[] f = new int[kept.length * taps];
            for (int q = 0; q < kept.length; q++) {
                for (int t = 0; t < taps; t++) {
                    f[q * taps + t] = kept[q] * taps + t;
                }
            }
            return f;
        }
    }

    private Reconstruction() {
    }

    /**
     * The convs that get refitted: not depthwise, not reading the image, input group prunable, at most
     * {@link #MAX_FEATURES} features at the base width.
     */
    public static List<Op.Conv> consumers(ChannelGroups groups) {
        List<Op.Conv> out = new ArrayList<>();
        for (Op.Conv c : groups.architecture().convs()) {
            if (c.kind() != Op.ConvKind.DEPTHWISE && c.input() != 0 && groups.prunable(groups.groupOf(c.in()))
                    && (long) c.in().base() * c.kernel() * c.kernel() <= MAX_FEATURES) {
                out.add(c);
            }
        }
        return out;
    }

    /**
     * Runs the dense network on {@code batches} and samples {@code points} output positions per image of every
     * consumer: the input values under the kernel there and the output.
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
            int nf = src.of(c.in()) * c.kernel() * c.kernel(), co = src.of(c.out());
            grams.add(new double[nf * nf]);
            crosses.add(new double[nf * co]);
            yys.add(new double[co]);
        }
        Random rnd = new Random(seed);
        long[] samples = new long[convs.size()]; // distinct positions at most: a 2x2 map gives 4 per image, not 16
        for (HeldBatch b : batches) {
            net.forward(b.images(), src, Network.BnMode.EVAL);
            int n = b.size();
            for (int k = 0; k < convs.size(); k++) {
                Op.Conv c = convs.get(k);
                Tensor x = net.activation(c.input(), n), y = net.activation(c.output(), n);
                net.kernels().toHost(x, y);   // read on the host (a device-resident backend keeps them on the device)
                int ci = x.dim(3), co = y.dim(3), ho = y.dim(1), wo = y.dim(2), hi = x.dim(1), wi = x.dim(2);
                int ks = c.kernel(), taps = ks * ks, nf = ci * taps;
                double[] g = grams.get(k), cr = crosses.get(k), yy = yys.get(k);
                double[] xv = new double[nf], yv = new double[co];
                samples[k] += (long) n * Math.min(points, ho * wo);
                for (int img = 0; img < n; img++) {
                    for (int p = 0; p < points; p++) {
                        int oh = rnd.nextInt(ho), ow = rnd.nextInt(wo);
                        for (int kh = 0; kh < ks; kh++) {
                            int ih = oh * c.stride() - c.padding() + kh;
                            for (int kw = 0; kw < ks; kw++) {
                                int iw = ow * c.stride() - c.padding() + kw, t = kh * ks + kw;
                                boolean inside = ih >= 0 && ih < hi && iw >= 0 && iw < wi;
                                for (int i = 0; i < ci; i++) {
                                    xv[i * taps + t] = inside ? x.get(img, ih, iw, i) : 0;
                                }
                            }
                        }
                        for (int o = 0; o < co; o++) {
                            yv[o] = y.get(img, oh, ow, o);
                            yy[o] += yv[o] * yv[o];
                        }
                        for (int i = 0; i < nf; i++) {
                            double xi = xv[i];
                            if (xi == 0) {
                                continue;
                            }
                            int gi = i * nf;
                            for (int j = i; j < nf; j++) { // upper triangle; mirrored below
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
        }
        List<Stats> out = new ArrayList<>();
        for (int k = 0; k < convs.size(); k++) {
            Op.Conv c = convs.get(k);
            int ci = src.of(c.in()), taps = c.kernel() * c.kernel(), nf = ci * taps;
            double[] g = grams.get(k);
            for (int i = 0; i < nf; i++) {
                for (int j = 0; j < i; j++) {
                    g[i * nf + j] = g[j * nf + i];
                }
            }
            out.add(new Stats(c, ci, src.of(c.out()), taps, g, crosses.get(k), yys.get(k), samples[k]));
        }
        return out;
    }

    /** {@link #solve(Stats, int[], double[])} with the ridge pulling towards zero. */
    public static double[] solve(Stats s, int[] keptChannels) {
        return solve(s, keptChannels, null);
    }

    /**
     * The least-squares weights {@code [cout, kept.length x taps]} for the kept input channels, with a ridge of
     * {@code 1e-6} of the mean diagonal pulling towards {@code prior} ({@code [cout, kept.length x taps]}, the inherited
     * weights; null: zero): {@code min ||X W^T - Y||^2 + r ||W - prior||^2}. The ridge keeps the solve well posed when
     * the samples do not determine every weight (always-zero ReLU outputs, padding-only taps, a k x k layer with fewer
     * distinct sampled positions than features); in those directions the refit keeps the inherited weight instead of
     * an arbitrary one.
     */
    public static double[] solve(Stats s, int[] keptChannels, double[] prior) {
        int[] kept = s.features(keptChannels);
        int k = kept.length, co = s.cout(), nf = s.features();
        double[] a = new double[k * k];
        double diag = 0;
        for (int i = 0; i < k; i++) {
            for (int j = 0; j < k; j++) {
                a[i * k + j] = s.gram()[kept[i] * nf + kept[j]];
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
                rhs[i] = s.cross()[kept[i] * co + o] + (prior == null ? 0 : ridge * prior[o * k + i]);
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

    /**
     * The sampled squared output error {@code sum ||X[:, kept] W^T - Y||^2} of weights {@code w [cout, kept.length x
     * taps]}.
     */
    public static double error(Stats s, int[] keptChannels, double[] w) {
        int[] kept = s.features(keptChannels);
        int k = kept.length, co = s.cout(), nf = s.features();
        double err = 0;
        for (int o = 0; o < co; o++) {
            double quad = 0, lin = 0;
            for (int i = 0; i < k; i++) {
                double wi = w[o * k + i];
                if (wi == 0) {
                    continue;
                }
                lin += wi * s.cross()[kept[i] * co + o];
                int gi = kept[i] * nf;
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

    /**
     * The source weights {@code [cout, cin, k, k]} of a conv restricted to the kept inputs,
     * {@code [cout, kept.length x k x k]}.
     */
    public static double[] keptWeights(Tensor w, int[] kept) {
        int co = w.dim(0), ci = w.dim(1), taps = w.dim(2) * w.dim(3), k = kept.length * taps;
        double[] r = new double[co * k];
        for (int o = 0; o < co; o++) {
            for (int q = 0; q < kept.length; q++) {
                for (int t = 0; t < taps; t++) {
                    r[o * k + q * taps + t] = w.data()[w.offset() + (o * ci + kept[q]) * taps + t];
                }
            }
        }
        return r;
    }

    /** Whether {@link #apply} refits a conv: it lost input channels and was sampled often enough. */
    public static boolean refits(Stats s, int[] keptInputs) {
        return keptInputs.length < s.cin() && s.samples() >= (long) MIN_SAMPLES_PER_FEATURE * keptInputs.length * s.taps();
    }

    /** The convs {@link #apply} refits for {@code keptByDim}, by name. */
    public static List<String> refitted(List<Stats> stats, int[][] keptByDim) {
        List<String> out = new ArrayList<>();
        for (Stats s : stats) {
            if (refits(s, keptByDim[s.conv().in().id()])) {
                out.add(s.conv().name());
            }
        }
        return out;
    }

    /**
     * A copy of {@code weights} where every consumer whose input group lost channels has its kept input columns
     * refitted (dropped columns zeroed; the surgery then cuts them). {@code keptByDim} as {@link Surgery#keptByDim}.
     */
    public static Map<String, Tensor> apply(List<Stats> stats, Map<String, Tensor> weights, int[][] keptByDim) {
        Map<String, Tensor> out = new java.util.LinkedHashMap<>(weights);
        for (Stats s : stats) {
            int[] kept = keptByDim[s.conv().in().id()];
            if (!refits(s, kept)) {
                continue;
            }
            double[] w = solve(s, kept, keptWeights(weights.get(s.conv().name() + ".weight"), kept));
            int ks = s.conv().kernel(), taps = s.taps(), k = kept.length * taps;
            Tensor t = Tensor.zeros(s.cout(), s.cin(), ks, ks);
            for (int o = 0; o < s.cout(); o++) {
                for (int q = 0; q < kept.length; q++) {
                    for (int tp = 0; tp < taps; tp++) {
                        t.data()[(o * s.cin() + kept[q]) * taps + tp] = (float) w[o * k + q * taps + tp];
                    }
                }
            }
            out.put(s.conv().name() + ".weight", t);
        }
        return out;
    }
}
