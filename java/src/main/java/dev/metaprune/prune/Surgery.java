package dev.metaprune.prune;

import dev.metaprune.nn.arch.Architecture;
import dev.metaprune.nn.arch.Channels;
import dev.metaprune.nn.arch.Op;
import dev.metaprune.nn.arch.Widths;
import dev.metaprune.tensor.Tensor;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Builds a pruned dense network from a dense one and the channels kept in each {@link ChannelGroups group}: every
 * convolution keeps the filters of its output's kept channels and, of those, the input slices of its input's kept
 * channels (a depthwise convolution keeps its kept channels' filters); every BatchNorm keeps its channels' scale,
 * shift and running statistics; the classifier keeps the columns of its input's kept channels. Names and layouts are
 * those of {@link dev.metaprune.nn.DenseModel#weights()} (PyTorch's OIHW weights, {@code [out, in]} classifier).
 */
public final class Surgery {
    private Surgery() {
    }

    /**
     * The result: the pruned widths, its weights, and per dimension (by id) the source channel indices kept.
     */
    public record Pruned(Widths widths, Map<String, Tensor> weights, int[][] keptByDim) {
    }

    /**
     * Kept channels per dimension from kept channels per group: every dimension of a group keeps the same indices;
     * a group given as {@code null} keeps all its channels.
     */
    public static int[][] keptByDim(ChannelGroups groups, Widths src, int[][] keptByGroup) {
        Architecture arch = groups.architecture();
        if (keptByGroup.length != groups.size()) {
            throw new IllegalArgumentException(keptByGroup.length + " kept sets for " + groups.size() + " groups");
        }
        int[][] out = new int[arch.channels().size()][];
        for (Channels c : arch.channels()) {
            int g = groups.groupOf(c);
            int w = src.of(c);
            int[] k = keptByGroup[g];
            if (k == null) {
                out[c.id()] = range(w);
                continue;
            }
            if (!groups.prunable(g) && k.length != w) {
                throw new IllegalArgumentException(groups.label(g) + " is not prunable (fixed width " + w + ")");
            }
            if (k.length == 0) {
                throw new IllegalArgumentException(groups.label(g) + ": at least one channel must be kept");
            }
            int[] s = k.clone();
            Arrays.sort(s);
            for (int i = 0; i < s.length; i++) {
                if (s[i] < 0 || s[i] >= w || (i > 0 && s[i] == s[i - 1])) {
                    throw new IllegalArgumentException(groups.label(g) + ": kept channel " + s[i]
                            + " is repeated or outside 0.." + (w - 1));
                }
            }
            out[c.id()] = s;
        }
        return out;
    }

    /** Prunes {@code weights} (of a dense network at {@code src}) to the kept channels. */
    public static Pruned apply(Widths src, Map<String, Tensor> weights, int[][] keptByDim) {
        Architecture arch = src.architecture();
        int[] w = new int[arch.channels().size()];
        for (Channels c : arch.channels()) {
            w[c.id()] = keptByDim[c.id()].length;
        }
        Widths target = Widths.explicit(arch, w);
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Op op : arch.ops()) {
            switch (op) {
                case Op.Conv c -> {
                    Tensor wt = need(weights, c.name() + ".weight");
                    int[] ko = keptByDim[c.out().id()];
                    int[] ki = c.kind() == Op.ConvKind.DEPTHWISE ? new int[] {0} : keptByDim[c.in().id()];
                    int co = wt.dim(0), ci = wt.dim(1), kk = wt.dim(2) * wt.dim(3);
                    int srcOut = src.of(c.out()), srcIn = c.kind() == Op.ConvKind.DEPTHWISE ? 1 : src.of(c.in());
                    if (co != srcOut || ci != srcIn) {
                        throw new IllegalArgumentException(c.name() + ".weight is " + Arrays.toString(wt.shape())
                                + ", the source widths say [" + srcOut + ", " + srcIn + ", ...]");
                    }
                    Tensor nt = Tensor.zeros(ko.length, ki.length, wt.dim(2), wt.dim(3));
                    float[] s = wt.data(), d = nt.data();
                    int so = wt.offset();
                    for (int o = 0; o < ko.length; o++) {
                        for (int i = 0; i < ki.length; i++) {
                            System.arraycopy(s, so + (ko[o] * ci + ki[i]) * kk, d, (o * ki.length + i) * kk, kk);
                        }
                    }
                    out.put(c.name() + ".weight", nt);
                }
                case Op.BatchNorm b -> {
                    int[] k = keptByDim[b.channels().id()];
                    for (String suffix : new String[] {".weight", ".bias", ".running_mean", ".running_var"}) {
                        out.put(b.name() + suffix, gather(need(weights, b.name() + suffix), k));
                    }
                }
                case Op.Linear l -> {
                    Tensor wt = need(weights, l.name() + ".weight");
                    int[] k = keptByDim[l.in().id()];
                    Tensor nt = Tensor.zeros(wt.dim(0), k.length);
                    for (int o = 0; o < wt.dim(0); o++) {
                        for (int i = 0; i < k.length; i++) {
                            nt.data()[o * k.length + i] = wt.data()[wt.offset() + o * wt.dim(1) + k[i]];
                        }
                    }
                    out.put(l.name() + ".weight", nt);
                    out.put(l.name() + ".bias", need(weights, l.name() + ".bias").copy());
                }
                default -> {
                }
            }
        }
        return new Pruned(target, out, keptByDim);
    }

    private static Tensor gather(Tensor t, int[] k) {
        Tensor r = Tensor.zeros(k.length);
        for (int i = 0; i < k.length; i++) {
            r.data()[i] = t.data()[t.offset() + k[i]];
        }
        return r;
    }

    private static Tensor need(Map<String, Tensor> m, String name) {
        Tensor t = m.get(name);
        if (t == null) {
            throw new IllegalArgumentException("the dense network has no tensor '" + name + "'");
        }
        return t;
    }

    static int[] range(int n) {
        int[] r = new int[n];
        for (int i = 0; i < n; i++) {
            r[i] = i;
        }
        return r;
    }
}
