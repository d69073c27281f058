package dev.metaprune.prune;

import dev.metaprune.nn.arch.Widths;
import dev.metaprune.nn.cost.CostCounter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Which channels to keep, from scores ({@link Ranking}): per group at given keep fractions (L1-norm pruning, uniform or
 * per-layer ratios), or one global threshold over all groups (Network Slimming); and the keep fraction or threshold
 * that meets a FLOPs budget (the largest network within it, found by bisection: FLOPs only grow with what is kept).
 */
public final class Pruner {
    private Pruner() {
    }

    /** Channels kept when a fraction {@code f} of {@code width} is kept: {@code round(f * width)}, at least 1. */
    public static int keepCount(double f, int width) {
        return Math.max(1, Math.min(width, (int) Math.round(f * width)));
    }

    /**
     * Per group: the {@code keepCount(fraction[g], width)} highest-scored channels; groups without scores (not
     * prunable) keep everything ({@code null}).
     */
    public static int[][] perGroup(ChannelGroups groups, Widths src, double[][] scores, double[] fraction) {
        int[][] kept = new int[groups.size()][];
        for (int g = 0; g < groups.size(); g++) {
            if (scores[g] == null) {
                continue;
            }
            if (!(fraction[g] > 0) || fraction[g] > 1) {
                throw new IllegalArgumentException(groups.label(g) + ": keep fraction must be in (0, 1], got "
                        + fraction[g]);
            }
            kept[g] = Ranking.top(scores[g], keepCount(fraction[g], scores[g].length));
        }
        return kept;
    }

    /**
     * One global ranking over every prunable channel: the {@code total} highest-scored channels, where each group
     * keeps at least its best one (a network with an empty layer does not run).
     */
    public static int[][] global(ChannelGroups groups, double[][] scores, int total) {
        List<double[]> all = new ArrayList<>(); // {score, group, channel}
        int groupsWithScores = 0;
        for (int g = 0; g < scores.length; g++) {
            if (scores[g] != null) {
                groupsWithScores++;
                for (int c = 0; c < scores[g].length; c++) {
                    all.add(new double[] {scores[g][c], g, c});
                }
            }
        }
        if (total < groupsWithScores || total > all.size()) {
            throw new IllegalArgumentException("a global ranking keeps between " + groupsWithScores + " and "
                    + all.size() + " channels, " + total + " asked");
        }
        all.sort((a, b) -> a[0] != b[0] ? Double.compare(b[0], a[0])
                : a[1] != b[1] ? Double.compare(a[1], b[1]) : Double.compare(a[2], b[2]));
        boolean[][] keep = new boolean[scores.length][];
        int n = 0;
        for (int g = 0; g < scores.length; g++) {
            if (scores[g] != null) {
                keep[g] = new boolean[scores[g].length];
                keep[g][Ranking.top(scores[g], 1)[0]] = true; // every group keeps its best
                n++;
            }
        }
        for (double[] e : all) {
            if (n >= total) {
                break;
            }
            int g = (int) e[1], c = (int) e[2];
            if (!keep[g][c]) {
                keep[g][c] = true;
                n++;
            }
        }
        int[][] kept = new int[scores.length][];
        for (int g = 0; g < scores.length; g++) {
            if (keep[g] != null) {
                kept[g] = indices(keep[g]);
            }
        }
        return kept;
    }

    /** Number of channels a global ranking can rank. */
    public static int prunableChannels(double[][] scores) {
        int n = 0;
        for (double[] s : scores) {
            n += s == null ? 0 : s.length;
        }
        return n;
    }

    /** FLOPs (multiply-adds) of the network that keeps {@code keptByGroup} of {@code src}. */
    public static long flops(ChannelGroups groups, Widths src, int[][] keptByGroup) {
        int[] w = new int[src.architecture().channels().size()];
        int[][] byDim = Surgery.keptByDim(groups, src, keptByGroup);
        for (int d = 0; d < w.length; d++) {
            w[d] = byDim[d].length;
        }
        return CostCounter.count(Widths.explicit(src.architecture(), w)).flops();
    }

    /**
     * The largest uniform keep fraction (applied to every prunable group) whose network has at most
     * {@code maxFlops}; {@link IllegalArgumentException} when even one channel per group exceeds it.
     */
    public static double uniformFractionFor(ChannelGroups groups, Widths src, double[][] scores, long maxFlops) {
        double[] f = new double[groups.size()];
        Arrays.fill(f, 1e-9);
        long min = flops(groups, src, perGroup(groups, src, scores, f));
        if (min > maxFlops) {
            throw new IllegalArgumentException(String.format(java.util.Locale.ROOT,
                    "a FLOPs budget of %.2f M cannot be met: one channel per layer already needs %.2f M", maxFlops / 1e6,
                    min / 1e6));
        }
        double lo = 1e-9, hi = 1.0;
        Arrays.fill(f, hi);
        if (flops(groups, src, perGroup(groups, src, scores, f)) <= maxFlops) {
            return hi;
        }
        for (int it = 0; it < 50; it++) {
            double mid = (lo + hi) / 2;
            Arrays.fill(f, mid);
            if (flops(groups, src, perGroup(groups, src, scores, f)) <= maxFlops) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /** The most channels a global ranking may keep within {@code maxFlops} (bisection on the count). */
    public static int globalCountFor(ChannelGroups groups, Widths src, double[][] scores, long maxFlops) {
        int lo = 0;
        for (double[] s : scores) {
            lo += s == null ? 0 : 1;
        }
        long min = flops(groups, src, global(groups, scores, lo));
        if (min > maxFlops) {
            throw new IllegalArgumentException(String.format(java.util.Locale.ROOT,
                    "a FLOPs budget of %.2f M cannot be met: one channel per layer already needs %.2f M", maxFlops / 1e6,
                    min / 1e6));
        }
        int hi = prunableChannels(scores);
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (flops(groups, src, global(groups, scores, mid)) <= maxFlops) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return lo;
    }

    /** Labels and kept fractions, for run records. */
    public static Map<String, Integer> widthsByLabel(ChannelGroups groups, Widths w) {
        Map<String, Integer> m = new java.util.LinkedHashMap<>();
        for (int g = 0; g < groups.size(); g++) {
            if (groups.prunable(g)) {
                m.put(groups.label(g), w.of(w.architecture().channels().get(groups.members(g)[0])));
            }
        }
        return m;
    }

    private static int[] indices(boolean[] b) {
        int n = 0;
        for (boolean x : b) {
            n += x ? 1 : 0;
        }
        int[] r = new int[n];
        for (int i = 0, j = 0; i < b.length; i++) {
            if (b[i]) {
                r[j++] = i;
            }
        }
        return r;
    }
}
