package dev.metaprune.latency;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.metaprune.nn.arch.Architecture;
import dev.metaprune.nn.arch.GeneSpace;
import dev.metaprune.nn.arch.Scales;
import dev.metaprune.nn.gene.Gene;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Checks a table's predictions against end-to-end measurements of whole networks on the same device, and fits the
 * per-network overhead the sum of layers misses (the executor's own work between layers, caches that a layer timed
 * alone keeps warm). Errors are absolute percentages of the measured time; ranking is Spearman's correlation.
 */
public final class Validator {
    private Validator() {
    }

    /**
     * One validated network.
     *
     * @param gene       scale indices
     * @param sumMs      the table's sum of layer entries (no overhead), milliseconds
     * @param measuredMs the whole network's median time, milliseconds
     * @param spreadMs   its interquartile range
     */
    public record Sample(int[] gene, double sumMs, double measuredMs, double spreadMs) {
    }

    /**
     * Prediction errors over a set of networks.
     *
     * @param meanAbsPct  mean absolute percentage error
     * @param worstAbsPct worst absolute percentage error
     * @param spearman    rank correlation between predicted and measured
     * @param meanPct     mean signed percentage error (predicted above measured: positive)
     */
    public record Errors(double meanAbsPct, double worstAbsPct, double spearman, double meanPct) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "mean |error| %.2f %%, worst %.2f %%, bias %+.2f %%, Spearman %.4f",
                    meanAbsPct, worstAbsPct, meanPct, spearman);
        }
    }

    /**
     * An overhead model: {@code predicted = scale * sum + offsetMs}, with its errors on the samples it was fitted on
     * and leave-one-out (each network predicted by the model fitted on the others: the honest figure).
     */
    public record Fit(String model, double offsetMs, double scale, Errors inSample, Errors leaveOneOut) {
    }

    /** How validation genes are drawn. */
    public enum GeneDistribution {
        /** Every tie group uniform over the 31 scales (the PruningNet's training distribution). */
        UNIFORM,
        /**
         * A random level per network (uniform over the 31 scales), each tie group within +-6 indices of it: networks
         * from thin to wide, as a search across latency budgets sees them.
         */
        MIXED
    }

    /** {@code n} genes drawn from {@code dist} with a seed. */
    public static List<int[]> drawGenes(GeneSpace space, int n, long seed, GeneDistribution dist) {
        SplittableRandom rnd = new SplittableRandom(seed);
        List<int[]> out = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            if (dist == GeneDistribution.UNIFORM) {
                out.add(Gene.random(space, rnd).indices());
                continue;
            }
            int level = rnd.nextInt(Scales.COUNT);
            int[] g = new int[space.length()];
            for (List<Integer> group : space.tieGroups()) {
                int v = Math.max(0, Math.min(Scales.MAX_INDEX, level + rnd.nextInt(13) - 6));
                for (int p : group) {
                    g[p] = v;
                }
            }
            space.validate(g);
            out.add(g);
        }
        return out;
    }

    /**
     * Measures every gene's network end to end with {@code timer} and pairs it with the table's sum of entries;
     * {@code progress} sees each sample. The genes are measured in {@code rounds} interleaved rounds (gene 1, 2, ...,
     * N, then again) and each keeps the median of its rounds' medians, so that a disturbance on a shared machine
     * spreads over all genes instead of biasing the few measured while it lasted.
     */
    public static List<Sample> measure(LatencyTable table, Architecture arch, NetworkTimer timer, List<int[]> genes,
                                       TimingSettings settings, int rounds, Consumer<Sample> progress) {
        if (rounds < 1) {
            throw new IllegalArgumentException("rounds must be positive, got " + rounds);
        }
        double[][] med = new double[genes.size()][rounds];
        double[][] spread = new double[genes.size()][rounds];
        List<dev.metaprune.nn.arch.Widths> widths = new ArrayList<>();
        for (int[] g : genes) {
            widths.add(arch.widthsForGene(g));
        }
        for (int r = 0; r < rounds; r++) {
            for (int i = 0; i < genes.size(); i++) {
                Measurement m = timer.time(widths.get(i), settings);
                med[i][r] = m.medianMs();
                spread[i][r] = m.spreadMs();
            }
        }
        List<Sample> out = new ArrayList<>();
        for (int i = 0; i < genes.size(); i++) {
            double[] m = med[i].clone(), sp = spread[i].clone();
            Arrays.sort(m);
            Arrays.sort(sp);
            Sample s = new Sample(genes.get(i).clone(), table.layerSumMs(genes.get(i)), Measurement.quantile(m, 0.5),
                    Measurement.quantile(sp, 0.5));
            out.add(s);
            progress.accept(s);
        }
        return out;
    }

    /** Errors of {@code predicted} against {@code measured}. */
    public static Errors errors(double[] predicted, double[] measured) {
        if (predicted.length != measured.length || predicted.length == 0) {
            throw new IllegalArgumentException("need as many predictions as measurements, and at least one");
        }
        double sum = 0, worst = 0, signed = 0;
        for (int i = 0; i < predicted.length; i++) {
            double e = 100 * (predicted[i] - measured[i]) / measured[i];
            sum += Math.abs(e);
            signed += e;
            worst = Math.max(worst, Math.abs(e));
        }
        return new Errors(sum / predicted.length, worst, spearman(predicted, measured), signed / predicted.length);
    }

    /** Spearman's rank correlation (ties get their average rank); NaN with fewer than two values or no variance. */
    public static double spearman(double[] a, double[] b) {
        if (a.length < 2) {
            return Double.NaN;
        }
        return pearson(ranks(a), ranks(b));
    }

    static double[] ranks(double[] v) {
        Integer[] idx = new Integer[v.length];
        for (int i = 0; i < v.length; i++) {
            idx[i] = i;
        }
        Arrays.sort(idx, (x, y) -> Double.compare(v[x], v[y]));
        double[] r = new double[v.length];
        int i = 0;
        while (i < v.length) {
            int j = i;
            while (j + 1 < v.length && v[idx[j + 1]] == v[idx[i]]) {
                j++;
            }
            double avg = (i + j) / 2.0 + 1;
            for (int k = i; k <= j; k++) {
                r[idx[k]] = avg;
            }
            i = j + 1;
        }
        return r;
    }

    static double pearson(double[] a, double[] b) {
        double ma = Arrays.stream(a).average().orElse(0), mb = Arrays.stream(b).average().orElse(0);
        double sab = 0, saa = 0, sbb = 0;
        for (int i = 0; i < a.length; i++) {
            sab += (a[i] - ma) * (b[i] - mb);
            saa += (a[i] - ma) * (a[i] - ma);
            sbb += (b[i] - mb) * (b[i] - mb);
        }
        return saa == 0 || sbb == 0 ? Double.NaN : sab / Math.sqrt(saa * sbb);
    }

    /** The raw sum of layers (no model). */
    public static Fit none(List<Sample> s) {
        double[] pred = sums(s);
        Errors e = errors(pred, measured(s));
        return new Fit("none", 0, 1, e, e);
    }

    /** A constant per-network overhead: the mean of measured minus sum. */
    public static Fit offset(List<Sample> s) {
        double[] sum = sums(s), meas = measured(s);
        double c = mean(meas) - mean(sum);
        double[] in = new double[s.size()], loo = new double[s.size()];
        for (int i = 0; i < s.size(); i++) {
            in[i] = sum[i] + c;
            double ci = s.size() == 1 ? c : (c * s.size() - (meas[i] - sum[i])) / (s.size() - 1);
            loo[i] = sum[i] + ci;
        }
        return new Fit("offset", c, 1, errors(in, meas), errors(loo, meas));
    }

    /**
     * {@code measured = scale * sum + offset} by least squares on relative errors (weights 1 / measured^2: what the
     * percentage errors judge); falls back to the offset model with fewer than three samples.
     */
    public static Fit affine(List<Sample> s) {
        if (s.size() < 3) {
            Fit f = offset(s);
            return new Fit("affine", f.offsetMs(), 1, f.inSample(), f.leaveOneOut());
        }
        double[] sum = sums(s), meas = measured(s);
        double[] ab = weightedLine(sum, meas, -1);
        double[] in = new double[s.size()], loo = new double[s.size()];
        for (int i = 0; i < s.size(); i++) {
            in[i] = ab[1] * sum[i] + ab[0];
            double[] li = weightedLine(sum, meas, i);
            loo[i] = li[1] * sum[i] + li[0];
        }
        return new Fit("affine", ab[0], ab[1], errors(in, meas), errors(loo, meas));
    }

    /** Weighted least squares line {offset, scale} through (x, y), weights 1/y^2, leaving out index {@code skip}. */
    private static double[] weightedLine(double[] x, double[] y, int skip) {
        double sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
        for (int i = 0; i < x.length; i++) {
            if (i == skip) {
                continue;
            }
            double w = 1 / (y[i] * y[i]);
            sw += w;
            sx += w * x[i];
            sy += w * y[i];
            sxx += w * x[i] * x[i];
            sxy += w * x[i] * y[i];
        }
        double det = sw * sxx - sx * sx;
        if (Math.abs(det) < 1e-300 * sw * sxx || det == 0) {
            return new double[] {(sy - sx) / sw, 1}; // no spread in x: offset only
        }
        double scale = (sw * sxy - sx * sy) / det;
        if (!(scale > 0)) {
            return new double[] {(sy - sx) / sw, 1};
        }
        return new double[] {(sy - scale * sx) / sw, scale};
    }

    /** The model with the lowest leave-one-out mean error among none, offset and affine. */
    public static Fit best(List<Sample> s) {
        Fit b = none(s);
        for (Fit f : List.of(offset(s), affine(s))) {
            if (f.leaveOneOut().meanAbsPct() < b.leaveOneOut().meanAbsPct()) {
                b = f;
            }
        }
        return b;
    }

    /** The calibration to store in a table, with the samples and all three models' errors as details. */
    public static LatencyTable.Calibration calibration(Fit chosen, List<Sample> s, GeneDistribution dist, long seed) {
        ObjectNode d = JsonNodeFactory.instance.objectNode();
        d.put("genes", s.size());
        d.put("gene_distribution", dist.name().toLowerCase(Locale.ROOT));
        d.put("seed", seed);
        d.put("date", java.time.OffsetDateTime.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString());
        ObjectNode models = d.putObject("models");
        for (Fit f : List.of(none(s), offset(s), affine(s))) {
            ObjectNode m = models.putObject(f.model());
            m.put("offset_ms", f.offsetMs());
            m.put("scale", f.scale());
            m.set("in_sample", errorsJson(f.inSample()));
            m.set("leave_one_out", errorsJson(f.leaveOneOut()));
        }
        ArrayNode samples = d.putArray("samples");
        for (Sample x : s) {
            ObjectNode o = samples.addObject();
            ArrayNode g = o.putArray("gene");
            for (int v : x.gene()) {
                g.add(v);
            }
            o.put("sum_ms", x.sumMs());
            o.put("measured_ms", x.measuredMs());
            o.put("measured_spread_ms", x.spreadMs());
        }
        return new LatencyTable.Calibration(chosen.model(), chosen.model().equals("none") ? 0 : chosen.offsetMs(),
                chosen.scale(), d);
    }

    private static ObjectNode errorsJson(Errors e) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("mean_abs_pct", e.meanAbsPct());
        o.put("worst_abs_pct", e.worstAbsPct());
        o.put("mean_signed_pct", e.meanPct());
        o.put("spearman", e.spearman());
        return o;
    }

    private static double[] sums(List<Sample> s) {
        return s.stream().mapToDouble(Sample::sumMs).toArray();
    }

    private static double[] measured(List<Sample> s) {
        return s.stream().mapToDouble(Sample::measuredMs).toArray();
    }

    private static double mean(double[] v) {
        return Arrays.stream(v).average().orElse(0);
    }
}
