package dev.metaprune.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.metaprune.tensor.SafeTensors;
import dev.metaprune.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Test helpers: reference files under {@code -Dmetaprune.testdata}, NaN-proof closeness checks,
 * strided copies with sentinel padding.
 */
public final class Refs {
    private Refs() {
    }

    /** 2^-24: half an ulp of 1, the unit round-off of float32. */
    public static final double U = 0x1.0p-24;

    /** Reads {@code test-data/ref/<relPath>.safetensors}. */
    public static SafeTensors.File load(String relPath) {
        String root = System.getProperty("metaprune.testdata");
        assertTrue(root != null, "system property metaprune.testdata is not set (surefire sets it)");
        Path p = Path.of(root, "ref", relPath + ".safetensors");
        assertTrue(Files.isRegularFile(p), "missing reference file " + p
                + ": run /usr/bin/python3 test-data/gen/gen_nnops.py");
        try {
            return SafeTensors.read(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Largest |v| over the tensor (NaN-proof: a NaN makes it NaN). */
    public static double maxAbs(Tensor t) {
        double m = 0;
        for (int r = 0; r < t.rows(); r++) {
            for (int c = 0; c < t.cols(); c++) {
                float v = t.data()[t.rowOffset(r) + c];
                if (Float.isNaN(v)) {
                    return Double.NaN;
                }
                m = Math.max(m, Math.abs(v));
            }
        }
        return m;
    }

    /**
     * Asserts {@code |got - want| <= atol + rtol * |want|} element by element (same shapes; views
     * allowed). Written so that a NaN anywhere fails. Returns the largest error over the tolerance
     * (for reporting).
     */
    public static double assertClose(String what, Tensor got, Tensor want, double atol, double rtol) {
        assertArrayEquals(want.shape(), got.shape(), what + ": shape");
        double worst = 0;
        for (int r = 0; r < want.rows(); r++) {
            for (int c = 0; c < want.cols(); c++) {
                double g = got.data()[got.rowOffset(r) + c];
                double w = want.data()[want.rowOffset(r) + c];
                double tol = atol + rtol * Math.abs(w);
                double err = Math.abs(g - w);
                if (!(err <= tol)) {
                    fail(what + ": element " + r + "," + c + " of " + Arrays.toString(want.shape()) + ": got " + g
                            + ", want " + w + " (error " + err + ", tolerance " + tol + ")");
                }
                worst = Math.max(worst, err / tol);
            }
        }
        return worst;
    }

    /** Same, against a double array in row-major order. */
    public static void assertClose(String what, Tensor got, double[] want, double atol, double rtol) {
        assertTrue(got.numel() == want.length, what + ": " + got.numel() + " elements, want " + want.length);
        int i = 0;
        for (int r = 0; r < got.rows(); r++) {
            for (int c = 0; c < got.cols(); c++, i++) {
                double g = got.data()[got.rowOffset(r) + c];
                double tol = atol + rtol * Math.abs(want[i]);
                if (!(Math.abs(g - want[i]) <= tol)) {
                    fail(what + ": element " + i + ": got " + g + ", want " + want[i] + " (error "
                            + Math.abs(g - want[i]) + ", tolerance " + tol + ")");
                }
            }
        }
    }

    /** Bit-for-bit equality (NaN equal to NaN), views allowed. */
    public static void assertSameBits(String what, Tensor got, Tensor want) {
        assertArrayEquals(want.shape(), got.shape(), what + ": shape");
        for (int r = 0; r < want.rows(); r++) {
            for (int c = 0; c < want.cols(); c++) {
                int g = Float.floatToIntBits(got.data()[got.rowOffset(r) + c]);
                int w = Float.floatToIntBits(want.data()[want.rowOffset(r) + c]);
                if (g != w) {
                    fail(what + ": element " + r + "," + c + ": got " + Float.intBitsToFloat(g) + ", want "
                            + Float.intBitsToFloat(w));
                }
            }
        }
    }

    /** A sentinel no kernel produces, to check that padding stays untouched. */
    public static final float SENTINEL = -12345.678f;

    /** {@code ||got - want|| / ||want||} over whole arrays, in double. */
    public static double relErr(float[] got, float[] want) {
        double num = 0, den = 0;
        for (int i = 0; i < want.length; i++) {
            double d = (double) got[i] - want[i];
            num += d * d;
            den += (double) want[i] * want[i];
        }
        return Math.sqrt(num / Math.max(den, 1e-30));
    }

    /**
     * A copy of {@code t} as a channel view of a wider buffer: row stride {@code cols + extra},
     * {@code lead} columns before, the gaps filled with {@link #SENTINEL}.
     */
    public static Tensor strided(Tensor t, int lead, int extra) {
        int cols = t.cols(), ld = cols + lead + extra;
        int[] wide = t.shape();
        wide[wide.length - 1] = ld;
        Tensor buf = Tensor.zeros(wide).fill(SENTINEL);
        Tensor v = buf.channels(lead, lead + cols);
        v.copyFrom(t);
        return v;
    }

    /** Asserts every element of the buffer behind a {@link #strided} view outside the view is the sentinel. */
    public static void assertPaddingUntouched(String what, Tensor view) {
        float[] d = view.data();
        boolean[] inside = new boolean[d.length];
        for (int r = 0; r < view.rows(); r++) {
            for (int c = 0; c < view.cols(); c++) {
                inside[view.rowOffset(r) + c] = true;
            }
        }
        for (int i = 0; i < d.length; i++) {
            if (!inside[i] && Float.floatToIntBits(d[i]) != Float.floatToIntBits(SENTINEL)) {
                fail(what + ": padding element " + i + " was overwritten with " + d[i]);
            }
        }
    }

    /** A tensor of uniform values in [lo, hi). */
    public static Tensor uniform(SplittableRandom r, double lo, double hi, int... shape) {
        Tensor t = Tensor.zeros(shape);
        float[] d = t.data();
        for (int i = 0; i < d.length; i++) {
            d[i] = (float) (lo + (hi - lo) * r.nextDouble());
        }
        return t;
    }

    /** A tensor of normal values. */
    public static Tensor gaussian(SplittableRandom r, double mean, double std, int... shape) {
        Tensor t = Tensor.zeros(shape);
        float[] d = t.data();
        for (int i = 0; i < d.length; i++) {
            double u1 = 1 - r.nextDouble(), u2 = r.nextDouble();
            d[i] = (float) (mean + std * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2));
        }
        return t;
    }

    /** Elements as doubles, row-major. */
    public static double[] toDouble(Tensor t) {
        double[] out = new double[(int) t.numel()];
        int i = 0;
        for (int r = 0; r < t.rows(); r++) {
            for (int c = 0; c < t.cols(); c++) {
                out[i++] = t.data()[t.rowOffset(r) + c];
            }
        }
        return out;
    }
}
