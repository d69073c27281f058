package dev.metaprune.kernels;

/**
 * Per-thread scratch arrays for the small per-call buffers of the element-wise, normalisation and
 * loss kernels (per-part partial sums, per-channel coefficients), so that a kernel call allocates
 * nothing once its thread has seen the largest size. A buffer belongs to the calling thread for the
 * duration of one kernel call: the kernels in this package that use it never call each other while
 * holding it. Contents are not zeroed: callers initialise what they read.
 */
final class Scratch {
    private Scratch() {
    }

    private static final ThreadLocal<double[]> DOUBLES = ThreadLocal.withInitial(() -> new double[256]);
    private static final ThreadLocal<float[]> FLOATS = ThreadLocal.withInitial(() -> new float[256]);

    /** A double buffer of at least {@code n} elements, owned by the calling thread. */
    static double[] doubles(int n) {
        double[] d = DOUBLES.get();
        if (d.length < n) {
            d = new double[Math.max(n, d.length * 2)];
            DOUBLES.set(d);
        }
        return d;
    }

    /** A float buffer of at least {@code n} elements, owned by the calling thread. */
    static float[] floats(int n) {
        float[] f = FLOATS.get();
        if (f.length < n) {
            f = new float[Math.max(n, f.length * 2)];
            FLOATS.set(f);
        }
        return f;
    }

    /** {@code n} rounded up to a multiple of {@code m} (m > 0). */
    static int roundUp(int n, int m) {
        return (n + m - 1) / m * m;
    }

    /**
     * How many coarse parts a kernel touching {@code elements} elements (over {@code rows} rows it
     * may split) should use: one per {@code minPerPart} elements, at most one per thread and one
     * per row.
     */
    static int parts(long elements, int rows, long minPerPart) {
        long p = Math.max(1, elements / minPerPart);
        p = Math.min(p, Parallel.threadCount());
        p = Math.min(p, Math.max(1, rows));
        return (int) p;
    }
}
