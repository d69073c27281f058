package dev.metaprune.latency;

/**
 * How an entry is timed: warm-up calls until {@code warmupMs} have passed (at least two calls), then repetitions in
 * rounds of {@code minReps} until the median moves by less than {@code tolerance} (relative) from one round to the
 * next, or {@code maxReps} repetitions, or {@code maxSecondsPerEntry}, whichever comes first. The median is kept.
 *
 * @param warmupMs           minimum warm-up time per entry, milliseconds
 * @param minReps            repetitions per round (and the minimum)
 * @param maxReps            repetitions at most
 * @param tolerance          relative change of the median below which the spread is taken as settled
 * @param maxSecondsPerEntry time budget per entry (warm-up included); at least {@code minReps} are timed anyway
 */
public record TimingSettings(double warmupMs, int minReps, int maxReps, double tolerance, double maxSecondsPerEntry) {
    public TimingSettings {
        if (!(warmupMs >= 0) || minReps < 1 || maxReps < minReps || !(tolerance > 0) || !(maxSecondsPerEntry > 0)) {
            throw new IllegalArgumentException("timing settings need warm-up >= 0 ms, 1 <= min reps <= max reps,"
                    + " tolerance > 0 and a positive time per entry; got warm-up " + warmupMs + " ms, reps " + minReps
                    + ".." + maxReps + ", tolerance " + tolerance + ", " + maxSecondsPerEntry + " s per entry");
        }
    }

    /** The defaults: 1 ms warm-up, 5..30 repetitions, 2 % tolerance, 3 s per entry. */
    public static TimingSettings defaults() {
        return new TimingSettings(1, 5, 30, 0.02, 3);
    }

    /** Times {@code call} under these settings. */
    public Measurement measure(Runnable call) {
        long start = System.nanoTime();
        long budget = (long) (maxSecondsPerEntry * 1e9);
        int warm = 0;
        while (warm < 2 || (System.nanoTime() - start) < warmupMs * 1e6) {
            call.run();
            warm++;
            if (System.nanoTime() - start > budget / 2) {
                break;
            }
        }
        double[] samples = new double[maxReps];
        int n = 0;
        double lastMedian = Double.NaN;
        while (n < maxReps) {
            int round = Math.min(minReps, maxReps - n);
            for (int r = 0; r < round; r++) {
                long t0 = System.nanoTime();
                call.run();
                samples[n++] = (System.nanoTime() - t0) * 1e-6;
            }
            double median = Measurement.of(samples, n).medianMs();
            if (!Double.isNaN(lastMedian) && Math.abs(median - lastMedian) <= tolerance * median) {
                break;
            }
            lastMedian = median;
            if (System.nanoTime() - start > budget) {
                break;
            }
        }
        return Measurement.of(samples, n);
    }
}
