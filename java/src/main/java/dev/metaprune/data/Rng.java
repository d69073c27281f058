package dev.metaprune.data;

/**
 * A small, fully specified pseudo-random generator (SplitMix64, Steele, Lea and Flood, OOPSLA 2014)
 * with a resettable state, so that the data pipeline draws the same numbers on every JVM and can
 * re-seed one instance per sample without allocating.
 *
 * <p>Specification (everything the pipeline's reproducibility rests on):
 * <ul>
 *   <li>state {@code s}; {@link #nextLong()}: {@code s += 0x9E3779B97F4A7C15L}, return {@link #mix64(long)
 *       mix64(s)};</li>
 *   <li>{@link #nextDouble()}: {@code (nextLong() >>> 11) * 2^-53}, uniform in {@code [0, 1)};</li>
 *   <li>{@link #nextInt(int) nextInt(n)}: {@code r = nextLong() >>> 33} (31 bits); reject while
 *       {@code r >= 2^31 - (2^31 mod n)}; return {@code r mod n} (unbiased);</li>
 *   <li>{@link #derive(long, long...) derive}: {@code h = mix64(seed)}, then for each part
 *       {@code h = mix64(h ^ mix64(part + 0x9E3779B97F4A7C15L))}.</li>
 * </ul>
 * Not thread-safe; not for cryptography.
 */
public final class Rng {
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;
    private long state;

    public Rng(long seed) {
        this.state = seed;
    }

    /** Restarts the sequence as if newly constructed with {@code seed}. */
    public Rng reseed(long seed) {
        this.state = seed;
        return this;
    }

    /** SplitMix64's finaliser (Stafford's variant 13): a bijective 64-bit mix. */
    public static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /**
     * A seed derived from a base seed and a path of integers (e.g. {@code (seed, epoch)} or
     * {@code (seed, epoch, position)}): distinct paths give unrelated streams.
     */
    public static long derive(long seed, long... parts) {
        long h = mix64(seed);
        for (long p : parts) {
            h = mix64(h ^ mix64(p + GOLDEN));
        }
        return h;
    }

    /** {@link #derive(long, long...)} for three parts, without allocating. */
    public static long derive(long seed, long a, long b, long c) {
        long h = mix64(seed);
        h = mix64(h ^ mix64(a + GOLDEN));
        h = mix64(h ^ mix64(b + GOLDEN));
        return mix64(h ^ mix64(c + GOLDEN));
    }

    public long nextLong() {
        state += GOLDEN;
        return mix64(state);
    }

    /** Uniform in {@code [0, 1)} with 53 random bits. */
    public double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    /** Uniform in {@code [lo, hi)}. */
    public double uniform(double lo, double hi) {
        return lo + (hi - lo) * nextDouble();
    }

    /** Uniform in {@code [0, n)}, unbiased; {@code n} must be positive. */
    public int nextInt(int n) {
        if (n <= 0) {
            throw new IllegalArgumentException("bound " + n + " must be positive");
        }
        long limit = (1L << 31) - ((1L << 31) % n);
        long r;
        do {
            r = nextLong() >>> 33;
        } while (r >= limit);
        return (int) (r % n);
    }

    /** Shuffles {@code a} in place (Fisher-Yates from the end: swap {@code a[i]} with {@code a[nextInt(i + 1)]}). */
    public void shuffle(int[] a) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }
}
