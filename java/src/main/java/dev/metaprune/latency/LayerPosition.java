package dev.metaprune.latency;

import dev.metaprune.nn.arch.Channels;
import dev.metaprune.nn.arch.GeneSpace;
import dev.metaprune.nn.arch.Scales;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One layer position of a network, as a latency table keys it: a head operation (convolution, residual add, pooling,
 * classifier) and the batch norms and activations applied to its output, whose cost depends on two widths only.
 *
 * @param name the head operation's name, e.g. {@code "block3.expand"}
 * @param kind {@code "conv pointwise"}, {@code "conv depthwise"}, {@code "conv general"}, {@code "add"},
 *             {@code "maxpool"}, {@code "avgpool"} or {@code "linear"}
 * @param ops  the operations timed together, head first
 * @param in   the input width's dimension
 * @param out  the output width's dimension (for depthwise convolutions, adds and pools the same width as {@code in})
 */
public record LayerPosition(String name, String kind, List<String> ops, Dim in, Dim out) {
    public LayerPosition {
        ops = List.copyOf(ops);
    }

    /**
     * A channel dimension as a table records it: its label, its base (maximum) width and the gene position choosing
     * it ({@code -1}: fixed at {@code base}).
     */
    public record Dim(String label, int base, int position) {
        static Dim of(Channels c) {
            return new Dim(c.label(), c.base(), c.genePosition());
        }

        /** Whether a gene position chooses this width. */
        public boolean isGene() {
            return position >= 0;
        }

        /** The width a gene gives this dimension. */
        public int width(int[] gene) {
            return isGene() ? Scales.width(base, gene[position]) : base;
        }

        /** The width at scale index {@code index} (fixed dimensions ignore it). */
        public int widthAt(int index) {
            return isGene() ? Scales.width(base, index) : base;
        }
    }

    /** Whether the input and output widths are one choice (depthwise, add, pooling; or tied gene positions). */
    public boolean oneWidth(List<GeneSpace.Position> positions) {
        if (in.equals(out)) {
            return true;
        }
        return in.isGene() && out.isGene() && positions.get(in.position()).tieLeader()
                == positions.get(out.position()).tieLeader();
    }

    /**
     * Every distinct (input width, output width) pair this position takes under genes whose scale indices are drawn
     * from {@code indices} (all 31 for a full table, a grid for a sampled one), in increasing order of indices. Tied
     * gene positions move together; fixed dimensions take their one width.
     */
    public List<int[]> pairs(List<GeneSpace.Position> positions, int[] indices) {
        Map<Long, int[]> out = new LinkedHashMap<>();
        if (oneWidth(positions)) {
            for (int i : indices) {
                int a = in.widthAt(i), b = this.out.widthAt(i);
                out.putIfAbsent(key(a, b), new int[] {a, b});
            }
        } else {
            int[] ia = in.isGene() ? indices : new int[] {0};
            int[] ib = this.out.isGene() ? indices : new int[] {0};
            for (int i : ia) {
                for (int j : ib) {
                    int a = in.widthAt(i), b = this.out.widthAt(j);
                    out.putIfAbsent(key(a, b), new int[] {a, b});
                }
            }
        }
        return new ArrayList<>(out.values());
    }

    /** Every distinct width pair of a full table. */
    public List<int[]> allPairs(List<GeneSpace.Position> positions) {
        return pairs(positions, allIndices());
    }

    /** The width pair a gene selects here. */
    public int[] widths(int[] gene) {
        return new int[] {in.width(gene), out.width(gene)};
    }

    static long key(int cin, int cout) {
        return ((long) cin << 32) | (cout & 0xffffffffL);
    }

    /** 0, 1, ..., 30. */
    static int[] allIndices() {
        int[] a = new int[Scales.COUNT];
        for (int i = 0; i < a.length; i++) {
            a[i] = i;
        }
        return a;
    }

    /** The grid of a sampled table: every {@code step}-th scale index from 0, and the last (30) always. */
    static int[] gridIndices(int step) {
        if (step < 1) {
            throw new IllegalArgumentException("sampling step must be at least 1, got " + step);
        }
        List<Integer> g = new ArrayList<>();
        for (int i = 0; i < Scales.COUNT; i += step) {
            g.add(i);
        }
        if (g.get(g.size() - 1) != Scales.MAX_INDEX) {
            g.add(Scales.MAX_INDEX);
        }
        return g.stream().mapToInt(Integer::intValue).toArray();
    }
}
