package dev.metaprune.search;

import dev.metaprune.nn.arch.Architecture;
import dev.metaprune.nn.arch.Scales;
import java.util.Arrays;
import java.util.Locale;

/**
 * A resource budget a gene must meet: FLOPs, parameters or predicted latency at most a limit. The
 * search only asks {@link #accepts}; it does not care which resource it is. Constraints combine with
 * {@link Constraints#all}. Every implementation here is monotone in the widths (a wider gene never
 * costs less), so the feasible range is spanned by the narrowest and the widest gene.
 */
public interface Constraint {
    /** Short name of the resource ("flops", "params", "latency"). */
    String name();

    /** Unit of {@link #value} and {@link #limit} ("M multiply-adds", "M parameters", "ms"). */
    String unit();

    /** The budget, in {@link #unit()}. */
    double limit();

    /** What the gene costs, in {@link #unit()}. */
    double value(int[] gene);

    /** Whether the gene meets the budget. */
    default boolean accepts(int[] gene) {
        return value(gene) <= limit();
    }

    /** One line, e.g. {@code flops <= 45.00 M multiply-adds}. */
    default String describe() {
        return String.format(Locale.ROOT, "%s <= %.4g %s", name(), limit(), unit());
    }

    /**
     * Refuses a budget no gene of {@code arch} can meet (below the narrowest network) or one every
     * gene meets (at or above the widest network: nothing to search), naming the feasible range.
     *
     * @throws IllegalArgumentException with the range
     */
    default void checkFeasible(Architecture arch) {
        int n = arch.geneSpace().length();
        int[] lo = new int[n];
        int[] hi = new int[n];
        Arrays.fill(hi, Scales.MAX_INDEX);
        double min = value(lo), max = value(hi);
        String range = String.format(Locale.ROOT, "%s ranges from %.4g %s (every width at %.2f) to %.4g %s (every width "
                + "at %.2f)", arch.name(), min, unit(), Scales.value(0), max, unit(), Scales.value(Scales.MAX_INDEX));
        if (limit() < min) {
            throw new IllegalArgumentException("no gene meets " + describe() + ": " + range);
        }
        if (limit() >= max) {
            throw new IllegalArgumentException(describe() + " does not constrain anything (the widest network meets it): "
                    + range);
        }
    }
}
