package dev.metaprune.prune;

import dev.metaprune.nn.arch.Architecture;
import dev.metaprune.nn.arch.Op;
import dev.metaprune.nn.arch.Widths;
import dev.metaprune.tensor.Tensor;
import java.util.Arrays;
import java.util.Map;

/**
 * Channel importance per {@link ChannelGroups group} (one score per channel of the source network; {@code null} for a
 * group that is not prunable), and picking the highest-ranked channels.
 */
public final class Ranking {
    private Ranking() {
    }

    /**
     * L1-norm filter ranking (Li et al. 2017): a channel's score is the sum of the absolute weights of the filter that
     * produces it. Where several convolutions produce one group (a residual stage: every block's projection and the
     * downsample), each conv's norms are divided by their mean before summing, so no conv dominates by scale. A
     * depthwise conv only maps a dimension onto itself: it counts only where a group has no other producer.
     */
    public static double[][] l1(ChannelGroups groups, Widths src, Map<String, Tensor> weights) {
        Architecture arch = groups.architecture();
        double[][] scores = new double[groups.size()][];
        boolean[] dense = new boolean[groups.size()];
        for (Op.Conv c : arch.convs()) {
            if (c.kind() != Op.ConvKind.DEPTHWISE) {
                dense[groups.groupOf(c.out())] = true;
            }
        }
        for (Op.Conv c : arch.convs()) {
            int g = groups.groupOf(c.out());
            if (!groups.prunable(g) || (c.kind() == Op.ConvKind.DEPTHWISE && dense[g])) {
                continue;
            }
            Tensor w = weights.get(c.name() + ".weight");
            if (w == null) {
                throw new IllegalArgumentException("the dense network has no tensor '" + c.name() + ".weight'");
            }
            int co = w.dim(0);
            int per = (int) (w.numel() / co);
            double[] norms = new double[co];
            double sum = 0;
            for (int o = 0; o < co; o++) {
                double s = 0;
                for (int i = 0; i < per; i++) {
                    s += Math.abs(w.data()[w.offset() + o * per + i]);
                }
                norms[o] = s;
                sum += s;
            }
            double mean = sum / co;
            if (scores[g] == null) {
                scores[g] = new double[co];
            }
            for (int o = 0; o < co; o++) {
                scores[g][o] += mean > 0 ? norms[o] / mean : 0;
            }
        }
        return scores;
    }

    /**
     * AMC's channel selection ("by weight magnitude", as the official code does for the layer it prunes): a channel's
     * score is the sum of the absolute weights that read it in every non-depthwise convolution consuming its group
     * (each conv's column norms divided by their mean before summing). A group consumed only by depthwise convs or
     * by the classifier falls back to the producers' filter norms ({@link #l1}).
     */
    public static double[][] consumerL1(ChannelGroups groups, Widths src, Map<String, Tensor> weights) {
        Architecture arch = groups.architecture();
        double[][] scores = new double[groups.size()][];
        for (Op.Conv c : arch.convs()) {
            if (c.kind() == Op.ConvKind.DEPTHWISE || c.input() == 0) {
                continue;
            }
            int g = groups.groupOf(c.in());
            if (!groups.prunable(g)) {
                continue;
            }
            Tensor w = weights.get(c.name() + ".weight");
            if (w == null) {
                throw new IllegalArgumentException("the dense network has no tensor '" + c.name() + ".weight'");
            }
            int co = w.dim(0), ci = w.dim(1), kk = w.dim(2) * w.dim(3);
            double[] norms = new double[ci];
            double sum = 0;
            for (int o = 0; o < co; o++) {
                for (int i = 0; i < ci; i++) {
                    for (int q = 0; q < kk; q++) {
                        norms[i] += Math.abs(w.data()[w.offset() + (o * ci + i) * kk + q]);
                    }
                }
            }
            for (double v : norms) {
                sum += v;
            }
            if (scores[g] == null) {
                scores[g] = new double[ci];
            }
            for (int i = 0; i < ci; i++) {
                scores[g][i] += sum > 0 ? norms[i] / (sum / ci) : 0;
            }
        }
        double[][] fallback = l1(groups, src, weights);
        for (int g = 0; g < scores.length; g++) {
            if (scores[g] == null && groups.prunable(g)) {
                scores[g] = fallback[g];
            }
        }
        return scores;
    }

    /**
     * Network Slimming's ranking: a channel's score is the absolute BatchNorm scale; where a group has several
     * BatchNorms (a MobileNetV2 mid dimension after the expand and after the depthwise conv, a residual stage), the
     * mean of their absolute scales.
     */
    public static double[][] bnScale(ChannelGroups groups, Widths src, Map<String, Tensor> weights) {
        Architecture arch = groups.architecture();
        double[][] scores = new double[groups.size()][];
        int[] count = new int[groups.size()];
        for (Op op : arch.ops()) {
            if (op instanceof Op.BatchNorm b) {
                int g = groups.groupOf(b.channels());
                if (!groups.prunable(g)) {
                    continue;
                }
                Tensor gamma = weights.get(b.name() + ".weight");
                if (gamma == null) {
                    throw new IllegalArgumentException("the dense network has no tensor '" + b.name() + ".weight'");
                }
                if (scores[g] == null) {
                    scores[g] = new double[(int) gamma.numel()];
                }
                for (int c = 0; c < scores[g].length; c++) {
                    scores[g][c] += Math.abs(gamma.data()[gamma.offset() + c]);
                }
                count[g]++;
            }
        }
        for (int g = 0; g < scores.length; g++) {
            if (scores[g] != null) {
                for (int c = 0; c < scores[g].length; c++) {
                    scores[g][c] /= count[g];
                }
            }
        }
        return scores;
    }

    /** The indices of the {@code k} highest scores, ascending (ties: the lower index ranks higher). */
    public static int[] top(double[] scores, int k) {
        if (k < 1 || k > scores.length) {
            throw new IllegalArgumentException("cannot keep " + k + " of " + scores.length + " channels");
        }
        Integer[] idx = new Integer[scores.length];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i;
        }
        Arrays.sort(idx, (a, b) -> scores[a] != scores[b] ? Double.compare(scores[b], scores[a]) : Integer.compare(a, b));
        int[] out = new int[k];
        for (int i = 0; i < k; i++) {
            out[i] = idx[i];
        }
        Arrays.sort(out);
        return out;
    }
}
