package dev.metaprune.latency;

/**
 * How an entry is timed: warm-up calls until {@code warmupMs} have passed (at least two calls), then repetitions in
 * rounds of {@code minReps} until the median moves by less than {@code tolerance} (relative) from one round to the
 * next, or {@code maxReps} repetitions, or {@code maxSecondsPerEntry}, whichever comes first. The median is kept.
 * Repetitions are read from {@code clock}: wall time, or the calling thread's CPU time.
 *
 * @param warmupMs           minimum warm-up time per entry, milliseconds
 * @param minReps            repetitions per round (and the minimum)
 * @param maxReps            repetitions at most
 * @param tolerance          relative change of the median below which the spread is taken as settled
 * @param maxSecondsPerEntry time budget per entry (warm-up included); at least {@code minReps} are timed anyway
 * @param clock              what a repetition's time is read from
 */
public record TimingSettings(double warmupMs, int minReps, int maxReps, double tolerance, double maxSecondsPerEntry,
                             Clock clock) {
    /** What a repetition's time is read from. */
    public enum Clock {
        /** Elapsed (wall-clock) time: latency as a user sees it. */
        WALL,
        /**
         * CPU time of the calling thread: the latency the call would have on a core of its own. Only meaningful with
         * one kernel thread (the calling thread does all the work); on a shared machine it leaves out the time other
         * processes take the core away.
         */
        THREAD_CPU;

        /** The name tables record: {@code "wall"} or {@code "thread-cpu"}. */
        public String label() {
            return this == WALL ? "wall" : "thread-cpu";
        }

        /** The clock of a recorded label. */
        public static Clock of(String label) {
            return switch (label) {
                case "wall" -> WALL;
                case "thread-cpu", "cpu" -> THREAD_CPU;
                default -> throw new IllegalArgumentException("clock must be wall or cpu, got '" + label + "'");
            };
        }

        /** The clock's reading, nanoseconds (differences only). */
        public long now() {
            return this == WALL ? System.nanoTime() : THREADS.getCurrentThreadCpuTime();
        }
    }

    private static final java.lang.management.ThreadMXBean THREADS =
            java.lang.management.ManagementFactory.getThreadMXBean();

    /** Wall-clock settings. */
    public TimingSettings(double warmupMs, int minReps, int maxReps, double tolerance, double maxSecondsPerEntry) {
        this(warmupMs, minReps, maxReps, tolerance, maxSecondsPerEntry, Clock.WALL);
    }

    /** These settings read from another clock. */
    public TimingSettings withClock(Clock c) {
        return new TimingSettings(warmupMs, minReps, maxReps, tolerance, maxSecondsPerEntry, c);
    }

    public TimingSettings {
        java.util.Objects.requireNonNull(clock, "clock");
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

    /**
     * Runs {@code call} until the JIT has compiled what it runs: rounds of at least 2 ms of calls, until the fastest
     * call of a round has not improved by 3 % over three rounds, or {@code maxSeconds}; but never fewer than
     * {@code minCalls} calls or 0.5 s, whichever comes first (interpreted code is slow but steady: it would look
     * settled). Returns the calls made.
     */
    public static int warmUntilSettled(Runnable call, double maxSeconds, int minCalls) {
        long start = System.nanoTime(), limit = (long) (maxSeconds * 1e9);
        double best = Double.POSITIVE_INFINITY;
        int stale = 0, calls = 0;
        while ((stale < 3 || (calls < minCalls && System.nanoTime() - start < 500_000_000L))
                && System.nanoTime() - start < limit) {
            long roundStart = System.nanoTime();
            double roundBest = Double.POSITIVE_INFINITY;
            do {
                long t0 = System.nanoTime();
                call.run();
                calls++;
                roundBest = Math.min(roundBest, System.nanoTime() - t0);
            } while (System.nanoTime() - roundStart < 2_000_000);
            if (roundBest < 0.97 * best) {
                stale = 0;
            } else {
                stale++;
            }
            best = Math.min(best, roundBest);
        }
        return calls;
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
                long t0 = clock.now();
                call.run();
                samples[n++] = (clock.now() - t0) * 1e-6;
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
