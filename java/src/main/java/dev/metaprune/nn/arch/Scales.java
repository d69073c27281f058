package dev.metaprune.nn.arch;

/**
 * The 31 width choices of MetaPruning: scale {@code i} is {@code (10 + 3 i) / 100}, i = 0..30, i.e. 0.10, 0.13, ...,
 * 0.97, 1.00. A layer whose maximum ("base") width is {@code base} runs {@code int(base * scale)} channels: truncated,
 * never rounded to a multiple of 8.
 *
 * <p><b>Floating point, exactly as the official Python code.</b> The official code builds
 * {@code channel_scale = [(10 + i * 3) / 100 ...]} (Python true division: the correctly rounded double) and computes
 * {@code int(base * channel_scale[i])}: an IEEE double product, truncated. That is <em>not</em> always the exact
 * rational {@code floor(base * (10 + 3i) / 100)}: e.g. {@code 100 * 0.58} is {@code 57.99999999999999} in double, so
 * Python gives 57 where exact arithmetic gives 58 (other cases: base 50 at 0.58 gives 28, base 90 at 0.70 gives 62).
 * None of the official base widths hits such a case (the tests check every one), but a custom base can. Java's double
 * arithmetic is the same IEEE arithmetic, so {@link #width(int, int)} computes {@code (int) (base * scale(i))} and
 * reproduces Python bit for bit; {@link #exactWidth(int, int)} gives the rational value for comparison.
 */
public final class Scales {
    /** Number of width choices per gene position. */
    public static final int COUNT = 31;
    /** Index of scale 1.00 (the full width); the official code's {@code -1} index means this one. */
    public static final int MAX_INDEX = COUNT - 1;

    private static final double[] VALUES = new double[COUNT];

    static {
        for (int i = 0; i < COUNT; i++) {
            VALUES[i] = (10 + 3 * i) / 100.0; // same double as Python's (10 + i * 3) / 100
        }
    }

    private Scales() {
    }

    /** Scale {@code i}: {@code (10 + 3 i) / 100} as the correctly rounded double (what Python computes). */
    public static double value(int index) {
        checkIndex(index);
        return VALUES[index];
    }

    /** Channels a layer of maximum width {@code base} runs at scale index {@code index}: Python's {@code int(base * scale)}. */
    public static int width(int base, int index) {
        checkIndex(index);
        if (base <= 0) {
            throw new IllegalArgumentException("base width must be positive, got " + base);
        }
        return (int) (base * VALUES[index]);
    }

    /** The exact rational {@code floor(base * (10 + 3 i) / 100)}, for comparison with {@link #width}; not what the official code does. */
    public static int exactWidth(int base, int index) {
        checkIndex(index);
        return (int) ((long) base * (10 + 3 * index) / 100);
    }

    /**
     * Index of the scale equal to {@code scale} (within 1e-9), or -1 if {@code scale} is not one of the 31 choices.
     */
    public static int indexOf(double scale) {
        long i = Math.round((scale * 100 - 10) / 3);
        if (i < 0 || i >= COUNT || Math.abs(VALUES[(int) i] - scale) > 1e-9) {
            return -1;
        }
        return (int) i;
    }

    /** Like {@link #indexOf} but fails with the neighbouring choices named when {@code scale} is not a choice. */
    public static int requireIndexOf(double scale) {
        int i = indexOf(scale);
        if (i >= 0) {
            return i;
        }
        StringBuilder msg = new StringBuilder("width scale " + scale + " is not one of the " + COUNT
                + " choices (10 + 3i) / 100 = 0.10, 0.13, ..., 1.00");
        if (scale > VALUES[0] && scale < VALUES[MAX_INDEX]) {
            int lo = (int) Math.floor((scale * 100 - 10) / 3);
            lo = Math.max(0, Math.min(MAX_INDEX - 1, lo));
            msg.append(String.format("; nearest: %.2f (index %d) or %.2f (index %d)", VALUES[lo], lo, VALUES[lo + 1],
                    lo + 1));
        }
        throw new IllegalArgumentException(msg.toString());
    }

    /** Whether {@code index} is a valid scale index (0..30). */
    public static boolean isValidIndex(int index) {
        return index >= 0 && index < COUNT;
    }

    private static void checkIndex(int index) {
        if (!isValidIndex(index)) {
            throw new IllegalArgumentException("scale index " + index + " outside 0.." + MAX_INDEX);
        }
    }
}
