package dev.metaprune.search;

import dev.metaprune.nn.arch.Architecture;
import dev.metaprune.nn.arch.Widths;
import dev.metaprune.nn.cost.CostCounter;

/** The uniform width multiplier that matches a cost: the rival a searched network must beat. */
public final class UniformMatch {
    private UniformMatch() {
    }

    /**
     * The largest multiplier {@code m} (to 4 decimals) whose uniform network has at most
     * {@code maxFlops} multiply-adds (FLOPs grow with {@code m}, in steps since widths are truncated).
     *
     * @throws IllegalArgumentException when even {@code m = 0.01} costs more
     */
    public static double multiplierForFlops(Architecture arch, long maxFlops) {
        double lo = 0.01, hi = 1.0;
        while (lo < hi && !valid(arch, lo)) {
            lo *= 1.25; // the narrowest multiplier that leaves every layer a channel
        }
        if (lo >= hi || flops(arch, lo) > maxFlops) {
            throw new IllegalArgumentException("no uniform " + arch.name() + " has at most " + maxFlops + " FLOPs");
        }
        if (flops(arch, hi) <= maxFlops) {
            return hi;
        }
        for (int i = 0; i < 50; i++) {
            double mid = (lo + hi) / 2;
            if (flops(arch, mid) <= maxFlops) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        double m = Math.floor(lo * 1e4) / 1e4;
        return valid(arch, m) && flops(arch, m) <= maxFlops ? m : lo;
    }

    private static boolean valid(Architecture arch, double m) {
        try {
            Widths.uniform(arch, m);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** Multiply-adds of the uniform network at {@code m}. */
    public static long flops(Architecture arch, double m) {
        return CostCounter.count(Widths.uniform(arch, m)).flops();
    }
}
