package dev.metaprune.latency;

import dev.metaprune.nn.arch.GeneSpace;
import dev.metaprune.nn.arch.Scales;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The sampled mode's other half: a table measured on a grid of scale indices (every {@code step}-th, and the last)
 * gets its other entries by interpolation, bilinear in (input width, output width) between the four surrounding grid
 * entries (linear for one-width positions). Exact wherever the cost is bilinear in the two widths.
 */
public final class Interpolation {
    private Interpolation() {
    }

    /**
     * Adds every entry a gene can need that {@code t} lacks, interpolated from its grid entries (step {@code step});
     * the added entries are marked as not measured. Grid entries must be present.
     */
    public static void fill(LatencyTable t, int step) {
        int[] grid = LayerPosition.gridIndices(step);
        List<GeneSpace.Position> gene = t.genePositions();
        for (LatencyTable.Layer l : t.layers()) {
            LayerPosition p = l.position();
            boolean one = p.oneWidth(gene);
            if (one) {
                for (int i = 0; i < Scales.COUNT; i++) {
                    if (l.entry(p.in().widthAt(i), p.out().widthAt(i)) == null) {
                        t.put(l.name(), along(l, grid, i));
                    }
                }
                continue;
            }
            int[] is = p.in().isGene() ? LayerPosition.allIndices() : new int[] {0};
            int[] js = p.out().isGene() ? LayerPosition.allIndices() : new int[] {0};
            for (int i : is) {
                for (int j : js) {
                    if (l.entry(p.in().widthAt(i), p.out().widthAt(j)) == null) {
                        t.put(l.name(), bilinear(l, grid, i, j));
                    }
                }
            }
        }
    }

    /**
     * A sampled table made from a full one: only the grid entries of {@code full} kept as measured, the others
     * interpolated. Comparing it with {@code full} isolates the interpolation error from run-to-run noise.
     */
    public static LatencyTable subsample(LatencyTable full, int step) {
        LatencyTable t = full.copy();
        int[] grid = LayerPosition.gridIndices(step);
        for (LatencyTable.Layer l : t.layers()) {
            Set<Long> keep = new HashSet<>();
            for (int[] pair : l.position().pairs(t.genePositions(), grid)) {
                keep.add(LayerPosition.key(pair[0], pair[1]));
            }
            for (LatencyTable.Entry e : List.copyOf(l.entries())) {
                if (!keep.contains(LayerPosition.key(e.cin(), e.cout()))) {
                    l.remove(e.cin(), e.cout());
                }
            }
        }
        fill(t, step);
        t.modeNode().put("sampled_step", step);
        t.modeNode().put("subsampled_from", full.source());
        return t;
    }

    /** Grid indices around {@code i}: {lo, hi} with lo <= i <= hi. */
    private static int[] bracket(int[] grid, int i) {
        for (int g = 0; g < grid.length; g++) {
            if (grid[g] == i) {
                return new int[] {i, i};
            }
            if (grid[g] > i) {
                return new int[] {grid[g - 1], grid[g]};
            }
        }
        throw new IllegalStateException("index " + i + " beyond the grid");
    }

    private static double weight(int w, int w0, int w1) {
        return w1 == w0 ? 0 : (double) (w - w0) / (w1 - w0);
    }

    private static LatencyTable.Entry grid(LatencyTable.Layer l, int cin, int cout) {
        LatencyTable.Entry e = l.entry(cin, cout);
        if (e == null) {
            throw new IllegalStateException("layer " + l.name() + ": grid entry cin=" + cin + " cout=" + cout
                    + " is missing; a sampled table needs every grid entry before interpolation");
        }
        return e;
    }

    private static LatencyTable.Entry along(LatencyTable.Layer l, int[] grid, int i) {
        LayerPosition p = l.position();
        int[] b = bracket(grid, i);
        LayerPosition.Dim d = p.in().isGene() ? p.in() : p.out();
        double t = weight(d.widthAt(i), d.widthAt(b[0]), d.widthAt(b[1]));
        LatencyTable.Entry e0 = grid(l, p.in().widthAt(b[0]), p.out().widthAt(b[0]));
        LatencyTable.Entry e1 = grid(l, p.in().widthAt(b[1]), p.out().widthAt(b[1]));
        return new LatencyTable.Entry(p.in().widthAt(i), p.out().widthAt(i), lerp(e0.medianMs(), e1.medianMs(), t),
                lerp(e0.spreadMs(), e1.spreadMs(), t), 0, false);
    }

    private static LatencyTable.Entry bilinear(LatencyTable.Layer l, int[] grid, int i, int j) {
        LayerPosition p = l.position();
        LayerPosition.Dim a = p.in(), b = p.out();
        int[] bi = a.isGene() ? bracket(grid, i) : new int[] {0, 0};
        int[] bj = b.isGene() ? bracket(grid, j) : new int[] {0, 0};
        double ta = weight(a.widthAt(i), a.widthAt(bi[0]), a.widthAt(bi[1]));
        double tb = weight(b.widthAt(j), b.widthAt(bj[0]), b.widthAt(bj[1]));
        LatencyTable.Entry e00 = grid(l, a.widthAt(bi[0]), b.widthAt(bj[0]));
        LatencyTable.Entry e01 = grid(l, a.widthAt(bi[0]), b.widthAt(bj[1]));
        LatencyTable.Entry e10 = grid(l, a.widthAt(bi[1]), b.widthAt(bj[0]));
        LatencyTable.Entry e11 = grid(l, a.widthAt(bi[1]), b.widthAt(bj[1]));
        double med = lerp(lerp(e00.medianMs(), e01.medianMs(), tb), lerp(e10.medianMs(), e11.medianMs(), tb), ta);
        double spr = lerp(lerp(e00.spreadMs(), e01.spreadMs(), tb), lerp(e10.spreadMs(), e11.spreadMs(), tb), ta);
        return new LatencyTable.Entry(a.widthAt(i), b.widthAt(j), med, Math.max(0, spr), 0, false);
    }

    private static double lerp(double x0, double x1, double t) {
        return x0 + (x1 - x0) * t;
    }
}
