package dev.metaprune.latency;

import java.util.Arrays;

/**
 * One timed entry: the median of the repetitions, their spread (interquartile range) and how many there were.
 *
 * @param medianMs median time of one call, milliseconds
 * @param spreadMs interquartile range (75th minus 25th percentile) of the calls, milliseconds
 * @param reps     timed repetitions (0 for an interpolated entry)
 */
public record Measurement(double medianMs, double spreadMs, int reps) {
    public Measurement {
        if (!(medianMs >= 0) || Double.isInfinite(medianMs) || !(spreadMs >= 0) || Double.isInfinite(spreadMs)
                || reps < 0) {
            throw new IllegalArgumentException("invalid measurement: median " + medianMs + " ms, spread " + spreadMs
                    + " ms, " + reps + " repetitions");
        }
    }

    /** Median and interquartile range of the first {@code n} samples (milliseconds); sorts a copy. */
    public static Measurement of(double[] samplesMs, int n) {
        double[] s = Arrays.copyOf(samplesMs, n);
        Arrays.sort(s);
        return new Measurement(quantile(s, 0.5), Math.max(0, quantile(s, 0.75) - quantile(s, 0.25)), n);
    }

    /** Linear-interpolated quantile of sorted values (the "type 7" rule of R and NumPy). */
    static double quantile(double[] sorted, double q) {
        if (sorted.length == 1) {
            return sorted[0];
        }
        double h = (sorted.length - 1) * q;
        int lo = (int) Math.floor(h);
        int hi = Math.min(sorted.length - 1, lo + 1);
        return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
    }
}
