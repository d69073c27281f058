package dev.metaprune.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaprune.testing.Refs;
import org.junit.jupiter.api.Test;

/**
 * Seeded initialisation: pinned values (the generator is specified bit for bit; the float values
 * were computed independently from the specification in Python), order and view semantics,
 * independence from the parallel split, and the moments of large samples (5 standard errors).
 */
class InitTest {
    @Test
    void splitMix64MatchesThePublishedSequence() {
        // SplitMix64 from seed 1234567 (the reference C implementation's classic test vector)
        String[] want = {"6457827717110365317", "3203168211198807973", "9817491932198370423",
                "4593380528125082431", "16408922859458223821"};
        for (int i = 0; i < want.length; i++) {
            assertEquals(Long.parseUnsignedLong(want[i]), Init.splitMix64(1234567L, i), "value " + i);
        }
    }

    @Test
    void pinnedValues() {
        Tensor u = Tensor.zeros(5);
        Init.uniform(u, -1f, 1f, 42);
        assertArrayEquals(new float[] {0.48312973976135254f, -0.680179238319397f, -0.44279778003692627f,
                -0.3116186857223511f, -0.9239397048950195f}, u.data());
        Tensor n = Tensor.zeros(5);
        Init.normal(n, 0f, 1f, 42);
        assertArrayEquals(new float[] {0.41471976041793823f, 0.6526812314987183f, -0.8918862342834473f,
                1.3268336057662964f, 1.72959303855896f}, n.data());
        Tensor m = Tensor.zeros(2, 2);
        Init.normal(m, 0.5f, 2f, 7);
        assertArrayEquals(new float[] {3.2299845218658447f, 0.7890424132347107f, -0.2930479645729065f,
                0.04480737820267677f}, m.data());
    }

    /** A view is filled in row-major order of its own elements; the padding is untouched. */
    @Test
    void viewsAreFilledInRowMajorOrder() {
        Tensor dense = Tensor.zeros(6, 7, 5);
        Init.normal(dense, 0f, 1f, 99);
        Tensor view = Refs.strided(Tensor.zeros(6, 7, 5), 3, 2);
        Init.normal(view, 0f, 1f, 99);
        Refs.assertSameBits("view", view, dense);
        Refs.assertPaddingUntouched("view", view);
        Init.uniform(dense, 2f, 3f, 5);
        Init.uniform(view, 2f, 3f, 5);
        Refs.assertSameBits("uniform view", view, dense);
    }

    /** Big enough to be split over threads: equals the specification evaluated element by element. */
    @Test
    void parallelFillEqualsTheSpecification() {
        int n = 300_001; // odd: the last element uses only the cosine of its pair
        Tensor t = Tensor.zeros(n);
        Init.normal(t, 1f, 3f, -17);
        Tensor u = Tensor.zeros(n);
        Init.uniform(u, -2f, 5f, 123456789L);
        for (int e = 0; e < n; e++) {
            int k = e & ~1;
            double u1 = ((Init.splitMix64(-17, k) >>> 11) + 1) * 0x1.0p-53;
            double u2 = (Init.splitMix64(-17, k + 1) >>> 11) * 0x1.0p-53;
            double r = StrictMath.sqrt(-2 * StrictMath.log(u1)), th = 2 * StrictMath.PI * u2;
            float want = (float) (1.0 + 3.0 * (e == k ? r * StrictMath.cos(th) : r * StrictMath.sin(th)));
            if (Float.floatToIntBits(want) != Float.floatToIntBits(t.get(e))) {
                throw new AssertionError("normal element " + e + ": " + t.get(e) + " vs " + want);
            }
            float wu = (float) (-2.0 + 7.0 * ((Init.splitMix64(123456789L, e) >>> 40) * 0x1.0p-24));
            if (Float.floatToIntBits(wu) != Float.floatToIntBits(u.get(e))) {
                throw new AssertionError("uniform element " + e + ": " + u.get(e) + " vs " + wu);
            }
        }
    }

    static double[] moments(Tensor t) {
        double s = 0, s2 = 0;
        float lo = Float.POSITIVE_INFINITY, hi = Float.NEGATIVE_INFINITY;
        for (float v : t.toArray()) {
            s += v;
            s2 += (double) v * v;
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
        }
        long n = t.numel();
        double mean = s / n;
        return new double[] {mean, Math.sqrt(s2 / n - mean * mean), lo, hi};
    }

    @Test
    void moments() {
        int n = 200_000;
        Tensor t = Tensor.zeros(n);
        Init.normal(t, 0.5f, 2f, 1);
        double[] m = moments(t);
        double se = 2 / Math.sqrt(n);
        assertTrue(Math.abs(m[0] - 0.5) < 5 * se, "normal mean " + m[0]);
        assertTrue(Math.abs(m[1] - 2) < 5 * 2 / Math.sqrt(2.0 * n), "normal std " + m[1]);
        Init.uniform(t, -3f, 1f, 2);
        m = moments(t);
        assertTrue(m[2] >= -3f && m[3] < 1f, "uniform range [" + m[2] + ", " + m[3] + "]");
        double sd = 4 / Math.sqrt(12);
        assertTrue(Math.abs(m[0] + 1) < 5 * sd / Math.sqrt(n), "uniform mean " + m[0]);
        assertTrue(Math.abs(m[1] - sd) < 5 * sd / Math.sqrt(n), "uniform std " + m[1]);
        // Kaiming: std sqrt(2 / fan) from the OIHW shape
        Tensor w = Tensor.zeros(64, 32, 3, 3);
        Init.kaimingNormal(w, Init.Fan.FAN_IN, 3);
        m = moments(w);
        double want = Math.sqrt(2.0 / (32 * 9));
        assertTrue(Math.abs(m[1] - want) < 5 * want / Math.sqrt(2.0 * w.numel()), "kaiming fan-in std " + m[1]);
        assertTrue(Math.abs(m[0]) < 5 * want / Math.sqrt(w.numel()), "kaiming mean " + m[0]);
        Init.kaimingNormal(w, Init.Fan.FAN_OUT, 3);
        want = Math.sqrt(2.0 / (64 * 9));
        assertTrue(Math.abs(moments(w)[1] - want) < 5 * want / Math.sqrt(2.0 * w.numel()), "kaiming fan-out std");
        Tensor w2 = Tensor.zeros(64, 32, 3, 3);
        Init.kaimingNormal(w2, 32 * 9, 3);
        Init.kaimingNormal(w, Init.Fan.FAN_IN, 3);
        Refs.assertSameBits("explicit fan = shape fan", w2, w);
        Tensor other = Tensor.zeros(64, 32, 3, 3);
        Init.kaimingNormal(other, Init.Fan.FAN_IN, 4);
        assertTrue(other.get(0, 0, 0, 0) != w.get(0, 0, 0, 0), "another seed, other values");
    }

    @Test
    void rejectsBadArguments() {
        Tensor t = Tensor.zeros(4);
        assertThrows(IllegalArgumentException.class, () -> Init.uniform(t, 1f, 0f, 1));
        assertThrows(IllegalArgumentException.class, () -> Init.uniform(t, Float.NaN, 1f, 1));
        assertThrows(IllegalArgumentException.class, () -> Init.normal(t, 0f, -1f, 1));
        assertThrows(IllegalArgumentException.class, () -> Init.normal(t, 0f, Float.POSITIVE_INFINITY, 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Init.kaimingNormal(t, Init.Fan.FAN_IN, 1));
        assertTrue(e.getMessage().contains("[4]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Init.kaimingNormal(t, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> Init.normal(null, 0f, 1f, 1));
        Init.uniform(t, 2f, 2f, 1);
        assertEquals(2f, t.get(3));
    }
}
