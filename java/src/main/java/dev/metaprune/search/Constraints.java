package dev.metaprune.search;

import dev.metaprune.nn.arch.Architecture;
import dev.metaprune.nn.arch.Widths;
import dev.metaprune.nn.cost.CostCounter;
import dev.metaprune.nn.cost.CostReport;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The constraints the search offers, and budget parsing ({@code 150M}, {@code 2.5ms}, {@code 50%}). */
public final class Constraints {
    private Constraints() {
    }

    /** A constraint computed by a function of the gene. */
    record Simple(String name, String unit, double limit, ToDoubleFunction<int[]> f) implements Constraint {
        @Override
        public double value(int[] gene) {
            return f.applyAsDouble(gene);
        }
    }

    /** Multiply-adds (the papers' FLOPs), in millions, at most {@code maxMFlops}. */
    public static Constraint flops(Architecture arch, double maxMFlops) {
        positive("FLOPs budget", maxMFlops);
        return new Simple("flops", "M multiply-adds", maxMFlops, g -> cost(arch, g).flops() / 1e6);
    }

    /** Parameters (of the stand-alone network, as {@link CostCounter} counts them), in millions. */
    public static Constraint params(Architecture arch, double maxMParams) {
        positive("parameter budget", maxMParams);
        return new Simple("params", "M parameters", maxMParams, g -> cost(arch, g).params() / 1e6);
    }

    /** Latency predicted by a per-layer table, in milliseconds. */
    public static Constraint latency(ToDoubleFunction<int[]> predictMs, String device, double maxMs) {
        positive("latency budget", maxMs);
        return new Simple("latency(" + device + ")", "ms", maxMs, predictMs);
    }

    /** All of the constraints at once (a gene must meet each). */
    public static Constraint all(List<Constraint> cs) {
        if (cs.isEmpty()) {
            throw new IllegalArgumentException("at least one constraint is needed (--max-flops, --max-params or "
                    + "--max-latency)");
        }
        if (cs.size() == 1) {
            return cs.get(0);
        }
        return new All(List.copyOf(cs));
    }

    /** The conjunction; {@link #value} is the largest budget fraction used (1 = at the limit). */
    public record All(List<Constraint> parts) implements Constraint {
        @Override
        public String name() {
            return "all";
        }

        @Override
        public String unit() {
            return "x budget";
        }

        @Override
        public double limit() {
            return 1;
        }

        @Override
        public double value(int[] gene) {
            double m = 0;
            for (Constraint c : parts) {
                m = Math.max(m, c.value(gene) / c.limit());
            }
            return m;
        }

        @Override
        public boolean accepts(int[] gene) {
            for (Constraint c : parts) {
                if (!c.accepts(gene)) {
                    return false;
                }
            }
            return true;
        }

        @Override
        public String describe() {
            StringBuilder b = new StringBuilder();
            for (Constraint c : parts) {
                b.append(b.isEmpty() ? "" : " and ").append(c.describe());
            }
            return b.toString();
        }

        @Override
        public void checkFeasible(Architecture arch) {
            for (Constraint c : parts) {
                c.checkFeasible(arch);
            }
        }
    }

    static CostReport cost(Architecture arch, int[] gene) {
        return CostCounter.count(Widths.forGene(arch, gene));
    }

    private static void positive(String what, double v) {
        if (!(v > 0) || Double.isInfinite(v)) {
            throw new IllegalArgumentException(what + " must be a positive number, got " + v);
        }
    }

    private static final Pattern AMOUNT = Pattern.compile("\\s*([0-9]*\\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\\s*([a-zA-Z%]*)\\s*");

    /**
     * A FLOPs or parameter budget in millions: {@code 150M}, {@code 1.5G}, {@code 150000000}, {@code 150}
     * (a bare number below 100,000 is read as millions), or {@code 50%} of {@code full} (millions).
     */
    public static double parseMillions(String text, double full, String what) {
        Matcher m = AMOUNT.matcher(text);
        if (!m.matches()) {
            throw new IllegalArgumentException("cannot read " + what + " '" + text + "': use e.g. 150M, 1.5G, 50%");
        }
        double v = Double.parseDouble(m.group(1));
        String suffix = m.group(2).toLowerCase(Locale.ROOT);
        return switch (suffix) {
            case "%" -> full * v / 100;
            case "k" -> v / 1e3;
            case "m" -> v;
            case "g" -> v * 1e3;
            case "" -> v < 1e5 ? v : v / 1e6;
            default -> throw new IllegalArgumentException("cannot read " + what + " '" + text + "': unknown unit '"
                    + m.group(2) + "' (use K, M, G or %)");
        };
    }

    /** A latency in milliseconds: {@code 2.5ms}, {@code 2.5} (ms), {@code 800us}, {@code 0.1s}. */
    public static double parseMillis(String text) {
        Matcher m = AMOUNT.matcher(text);
        if (!m.matches()) {
            throw new IllegalArgumentException("cannot read latency '" + text + "': use e.g. 2.5ms, 800us");
        }
        double v = Double.parseDouble(m.group(1));
        return switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "", "ms" -> v;
            case "us" -> v / 1e3;
            case "s" -> v * 1e3;
            default -> throw new IllegalArgumentException("cannot read latency '" + text + "': unknown unit '"
                    + m.group(2) + "' (use ms, us or s)");
        };
    }
}
