package dev.metaprune.latency;

import dev.metaprune.nn.Network;
import dev.metaprune.nn.arch.Architecture;
import dev.metaprune.nn.arch.Op;
import dev.metaprune.nn.arch.Value;
import dev.metaprune.tensor.Init;
import dev.metaprune.tensor.Tensor;

/** Parameter and activation buffers at the widest widths, shared by the layer and the whole-network timers. */
final class Buffers {
    private Buffers() {
    }

    /** A value's buffer at its widest width, filled with N(0, 1) (inputs) or zeros. */
    static float[] value(Architecture arch, int valueId, int batch, boolean random, long seed) {
        Value v = arch.value(valueId);
        long n = (long) batch * v.height() * v.width() * v.channels().base();
        if (n > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException(arch.name() + ": value " + valueId + " needs " + n + " floats at batch "
                    + batch + ", more than one array holds; use a smaller batch");
        }
        float[] a = new float[(int) n];
        if (random) {
            Init.normal(Tensor.wrap(a, a.length), 0f, 1f, seed);
        }
        return a;
    }

    /** A view of a value's buffer at {@code c} channels, NHWC (or {@code [n, c]} for 1x1 values), as the executor. */
    static Tensor view(Architecture arch, float[] buf, int valueId, int n, int c) {
        Value v = arch.value(valueId);
        if (Network.flatValues(arch)[valueId]) {
            return Tensor.view(buf, 0, c, n, c);
        }
        return Tensor.view(buf, 0, c, n, v.height(), v.width(), c);
    }

    /**
     * Parameters of op {@code i} at the widest widths: conv and linear weights N(0, 0.1), affine BatchNorm with gamma
     * 1, beta 0, running mean 0, variance 1 (what a retrained network runs), classifier bias 0.
     */
    static final class OpParams {
        Tensor weight;
        Tensor bias;
        Tensor gamma;
        Tensor beta;
        Tensor runMean;
        Tensor runVar;

        OpParams(Op op, int i, long seed) {
            switch (op) {
                case Op.Conv c -> {
                    weight = Tensor.zeros(c.maxWeightShape());
                    Init.normal(weight, 0f, 0.1f, Init.splitMix64(seed, i));
                }
                case Op.BatchNorm b -> {
                    int ch = b.channels().base();
                    gamma = Tensor.zeros(ch).fill(1f);
                    beta = Tensor.zeros(ch);
                    runMean = Tensor.zeros(ch);
                    runVar = Tensor.zeros(ch).fill(1f);
                }
                case Op.Linear l -> {
                    weight = Tensor.zeros(l.outFeatures(), l.in().base());
                    Init.normal(weight, 0f, 0.1f, Init.splitMix64(seed, i));
                    bias = Tensor.zeros(l.outFeatures());
                }
                default -> {
                }
            }
        }

        /** Puts these into an executor's slots. */
        void into(Network.Params p, int i) {
            p.weight[i] = weight;
            p.bias[i] = bias;
            p.gamma[i] = gamma;
            p.beta[i] = beta;
            p.runMean[i] = runMean;
            p.runVar[i] = runVar;
        }
    }

    /** The leading {@code ch} entries of a 1-D parameter (null stays null). */
    static Tensor lead(Tensor t, int ch) {
        return t == null ? null : t.cols() == ch ? t : Tensor.view(t.data(), t.offset(), ch, ch);
    }
}
