package dev.metaprune.optim;

import java.util.Arrays;

/**
 * A learning-rate schedule: the rate for optimiser step {@code step} (0-based: step 0 is the first
 * update). Schedules are pure functions of the step, so a resumed run continues exactly. Every
 * factory validates its arguments ({@link IllegalArgumentException} naming the bad one) and every
 * schedule rejects a negative step. Steps past {@code totalSteps} keep the final value.
 */
@FunctionalInterface
public interface LrSchedule {
    /** The learning rate for step {@code step >= 0}. */
    double lr(long step);

    /** {@code base} at every step. */
    static LrSchedule constant(double base) {
        requireRate("base", base);
        return step -> {
            requireStep(step);
            return base;
        };
    }

    /**
     * The official MetaPruning schedule: {@code base * (1 - step / totalSteps)} for
     * {@code step <= totalSteps}, 0 after (PyTorch {@code LambdaLR} as in the official code).
     */
    static LrSchedule linearDecay(double base, long totalSteps) {
        requireRate("base", base);
        requireTotal(totalSteps);
        return step -> {
            requireStep(step);
            return step >= totalSteps ? 0.0 : base * (1.0 - (double) step / totalSteps);
        };
    }

    /**
     * Cosine annealing from {@code base} at step 0 to {@code minLr} at {@code totalSteps}:
     * {@code minLr + (base - minLr) * (1 + cos(pi * step / totalSteps)) / 2}; {@code minLr} after.
     */
    static LrSchedule cosine(double base, long totalSteps, double minLr) {
        requireRate("base", base);
        requireRate("minLr", minLr);
        requireTotal(totalSteps);
        if (minLr > base) {
            throw new IllegalArgumentException("cosine: minLr " + minLr + " is above base " + base);
        }
        return step -> {
            requireStep(step);
            if (step >= totalSteps) {
                return minLr;
            }
            return minLr + (base - minLr) * 0.5 * (1.0 + Math.cos(Math.PI * step / totalSteps));
        };
    }

    /**
     * {@code base * gamma^m}, m = number of milestones {@code <= step} (PyTorch's {@code MultiStepLR}:
     * the decay applies from the milestone step on). Milestones strictly increasing and positive;
     * MetaPruning's ResNet uses milestones at 1/4, 1/2, 3/4 of the run and gamma 0.1.
     */
    static LrSchedule multiStep(double base, long[] milestones, double gamma) {
        requireRate("base", base);
        if (milestones == null) {
            throw new IllegalArgumentException("multiStep: milestones is null");
        }
        long[] ms = milestones.clone();
        for (int i = 0; i < ms.length; i++) {
            if (ms[i] <= 0 || (i > 0 && ms[i] <= ms[i - 1])) {
                throw new IllegalArgumentException("multiStep: milestones must be positive and strictly increasing, got "
                        + Arrays.toString(ms));
            }
        }
        if (!(gamma > 0) || !Double.isFinite(gamma)) {
            throw new IllegalArgumentException("multiStep: gamma must be finite and > 0, got " + gamma);
        }
        return step -> {
            requireStep(step);
            double lr = base;
            for (long m : ms) {
                if (step < m) {
                    break;
                }
                lr *= gamma;
            }
            return lr;
        };
    }

    /**
     * Linear warm-up in front of a schedule: for {@code step < warmupSteps} the rate is
     * {@code inner.lr(step) * (startFactor + (1 - startFactor) * step / warmupSteps)}, then
     * {@code inner.lr(step)} (the inner schedule keeps counting from step 0, like chaining
     * PyTorch's {@code LinearLR} with another scheduler). {@code 0 <= startFactor <= 1}.
     */
    static LrSchedule withWarmup(LrSchedule inner, long warmupSteps, double startFactor) {
        if (inner == null) {
            throw new IllegalArgumentException("withWarmup: inner schedule is null");
        }
        if (warmupSteps < 0) {
            throw new IllegalArgumentException("withWarmup: warmupSteps must be >= 0, got " + warmupSteps);
        }
        if (!(startFactor >= 0 && startFactor <= 1)) {
            throw new IllegalArgumentException("withWarmup: startFactor must be in [0, 1], got " + startFactor);
        }
        return step -> {
            requireStep(step);
            double lr = inner.lr(step);
            if (step < warmupSteps) {
                lr *= startFactor + (1.0 - startFactor) * step / warmupSteps;
            }
            return lr;
        };
    }

    private static void requireRate(String name, double v) {
        if (!(v >= 0) || !Double.isFinite(v)) {
            throw new IllegalArgumentException("learning rate " + name + " must be finite and >= 0, got " + v);
        }
    }

    private static void requireTotal(long total) {
        if (total <= 0) {
            throw new IllegalArgumentException("totalSteps must be positive, got " + total);
        }
    }

    private static void requireStep(long step) {
        if (step < 0) {
            throw new IllegalArgumentException("step must be >= 0, got " + step);
        }
    }
}
