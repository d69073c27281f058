package dev.metaprune.tensor;

import dev.metaprune.kernels.Parallel;
import java.util.Arrays;

/**
 * Deterministic, seeded parameter initialisation, bit-identical on every JVM version, platform,
 * vector width and thread count.
 *
 * <h2>The generator, fully specified</h2>
 * SplitMix64 (Steele, Lea, Flood 2014; the finaliser of {@code java.util.SplittableRandom}) used
 * counter-style: the {@code i}-th 64-bit value (0-based) of the stream for {@code seed} is
 * <pre>
 *   z = seed + (i + 1) * 0x9E3779B97F4A7C15          (mod 2^64)
 *   z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9
 *   z = (z ^ (z >>> 27)) * 0x94D049BB133111EB
 *   value(i) = z ^ (z >>> 31)
 * </pre>
 * which is exactly the sequence of the classic sequential SplitMix64 started at {@code seed}
 * (seed 1234567 gives 6457827717110365317, 3203168211198807973, ...). Element {@code e} of a tensor
 * (row-major order over the viewed elements, whatever its {@code ld}) consumes:
 * <ul>
 *   <li>uniform: {@code u = (value(e) >>> 40) * 2^-24} in {@code [0, 1)}, then
 *       {@code lo + (hi - lo) * u} in double, rounded to float (and kept below {@code hi});</li>
 *   <li>normal: Box-Muller on pairs: elements {@code 2k} and {@code 2k + 1} share
 *       {@code u1 = ((value(2k) >>> 11) + 1) * 2^-53} in {@code (0, 1]},
 *       {@code u2 = (value(2k + 1) >>> 11) * 2^-53}, {@code r = sqrt(-2 ln u1)},
 *       {@code t = 2 pi u2}; element {@code 2k} is {@code mean + std * r cos t}, element
 *       {@code 2k + 1} is {@code mean + std * r sin t} (double, with {@link StrictMath}, whose
 *       results are specified bit for bit, then rounded to float).</li>
 * </ul>
 * Since every element depends only on (seed, index), large tensors are filled in parallel with
 * the same result. Different tensors should get different seeds (e.g. a base seed mixed with the
 * parameter's index).
 */
public final class Init {
    private Init() {
    }

    /** Which fan {@link #kaimingNormal(Tensor, Fan, long)} divides by. */
    public enum Fan {
        /** {@code shape[1] * prod(shape[2:])}: preserves forward activations (PyTorch's default). */
        FAN_IN,
        /** {@code shape[0] * prod(shape[2:])}: preserves backward gradients. */
        FAN_OUT
    }

    private static final long GOLDEN = 0x9E3779B97F4A7C15L;
    private static final long MIN_PER_PART = 1 << 16;

    /** The {@code i}-th value of the SplitMix64 stream started at {@code seed}. */
    public static long splitMix64(long seed, long i) {
        long z = seed + (i + 1) * GOLDEN;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /**
     * He / Kaiming normal for ReLU networks: {@code N(0, 2 / fan)}, the fan taken from the weight's
     * shape (OIHW or {@code [out, in]}, rank >= 2) as PyTorch's
     * {@code kaiming_normal_(w, mode=..., nonlinearity='relu')} does.
     */
    public static void kaimingNormal(Tensor w, Fan mode, long seed) {
        if (w == null || mode == null) {
            throw new IllegalArgumentException("kaimingNormal: weight and fan mode must not be null");
        }
        if (w.rank() < 2) {
            throw new IllegalArgumentException("kaimingNormal: fan in / fan out need a weight of rank >= 2, got shape "
                    + Arrays.toString(w.shape()));
        }
        long receptive = 1;
        for (int i = 2; i < w.rank(); i++) {
            receptive *= w.dim(i);
        }
        long fan = (mode == Fan.FAN_IN ? w.dim(1) : w.dim(0)) * receptive;
        fill(w, 0.0, Math.sqrt(2.0 / fan), seed, true, "kaimingNormal");
    }

    /**
     * Kaiming normal with an explicit fan: {@code N(0, 2 / fan)}, {@code fan > 0} (e.g. the fan-in
     * of a sliced convolution, or {@code fanIn} of a weight stored in another layout).
     */
    public static void kaimingNormal(Tensor w, int fan, long seed) {
        if (fan <= 0) {
            throw new IllegalArgumentException("kaimingNormal: fan must be positive, got " + fan + " for weight "
                    + (w == null ? "null" : Arrays.toString(w.shape())));
        }
        fill(w, 0.0, Math.sqrt(2.0 / fan), seed, true, "kaimingNormal");
    }

    /** Uniform in {@code [lo, hi)} ({@code lo == hi} fills {@code lo}); both finite, {@code lo <= hi}. */
    public static void uniform(Tensor t, float lo, float hi, long seed) {
        if (!Float.isFinite(lo) || !Float.isFinite(hi) || !(lo <= hi)) {
            throw new IllegalArgumentException("uniform: need finite lo <= hi, got [" + lo + ", " + hi + ")");
        }
        fill(t, lo, hi, seed, false, "uniform");
    }

    /** Normal {@code N(mean, std^2)}; {@code mean} finite, {@code std} finite and {@code >= 0}. */
    public static void normal(Tensor t, float mean, float std, long seed) {
        if (!Float.isFinite(mean) || !Float.isFinite(std) || !(std >= 0)) {
            throw new IllegalArgumentException("normal: need a finite mean and a finite std >= 0, got mean " + mean
                    + ", std " + std);
        }
        fill(t, mean, std, seed, true, "normal");
    }

    /** Fills {@code t}: normal(a = mean, b = std) or uniform(a = lo, b = hi). */
    private static void fill(Tensor t, double a, double b, long seed, boolean normal, String op) {
        if (t == null) {
            throw new IllegalArgumentException(op + ": tensor is null");
        }
        long n = t.numel();
        long pairs = (n + 1) / 2;
        int parts = (int) Math.min(Parallel.threadCount(), Math.max(1, n / MIN_PER_PART));
        Parallel.get().run(parts, (p, np) -> {
            // parts own whole pairs: [2 * pairs * p / np, ...)
            long from = 2 * (pairs * p / np), to = Math.min(n, 2 * (pairs * (p + 1) / np));
            if (normal) {
                fillNormal(t, from, to, a, b, seed);
            } else {
                fillUniform(t, from, to, (float) a, (float) b, seed);
            }
        });
    }

    private static void fillUniform(Tensor t, long from, long to, float lo, float hi, long seed) {
        float[] d = t.data();
        int cols = t.cols();
        int r = (int) (from / cols), c = (int) (from % cols);
        int off = t.rowOffset(r) + c;
        for (long e = from; e < to; e++) {
            double u = (splitMix64(seed, e) >>> 40) * 0x1.0p-24;
            float v = (float) (lo + ((double) hi - lo) * u);
            d[off] = v >= hi && lo < hi ? Math.nextDown(hi) : v;
            if (++c == cols) {
                c = 0;
                r++;
                if (r == t.rows()) {
                    break;
                }
                off = t.rowOffset(r);
            } else {
                off++;
            }
        }
    }

    private static void fillNormal(Tensor t, long from, long to, double mean, double std, long seed) {
        float[] d = t.data();
        int cols = t.cols();
        int r = (int) (from / cols), c = (int) (from % cols);
        int off = t.rowOffset(r) + c;
        double second = 0;
        for (long e = from; e < to; e++) {
            double z;
            if ((e & 1) == 0) {
                double u1 = ((splitMix64(seed, e) >>> 11) + 1) * 0x1.0p-53;
                double u2 = (splitMix64(seed, e + 1) >>> 11) * 0x1.0p-53;
                double rad = StrictMath.sqrt(-2.0 * StrictMath.log(u1));
                double th = 2.0 * StrictMath.PI * u2;
                z = rad * StrictMath.cos(th);
                second = rad * StrictMath.sin(th);
            } else {
                z = second;
            }
            d[off] = (float) (mean + std * z);
            if (++c == cols) {
                c = 0;
                r++;
                if (r == t.rows()) {
                    break;
                }
                off = t.rowOffset(r);
            } else {
                off++;
            }
        }
    }
}
