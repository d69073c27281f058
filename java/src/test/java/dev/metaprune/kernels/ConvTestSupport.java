package dev.metaprune.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.metaprune.tensor.SafeTensors;
import dev.metaprune.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/** Shared helpers of the convolution and pooling tests: reference files, views, comparisons. */
final class ConvTestSupport {
    private ConvTestSupport() {
    }

    /** {@code test-data/ref/<sub>}: the folder comes from {@code -Dmetaprune.testdata} (set by the pom). */
    static Path refDir(String sub) {
        String root = System.getProperty("metaprune.testdata");
        if (root == null) {
            fail("system property metaprune.testdata is not set (run the tests through Maven)");
        }
        return Path.of(root, "ref", sub);
    }

    /** The case names (file names without extension) under {@code ref/<sub>} that start with {@code prefix}. */
    static List<String> cases(String sub, String prefix) {
        Path dir = refDir(sub);
        try (Stream<Path> s = Files.list(dir)) {
            List<String> names = s.map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".safetensors") && n.startsWith(prefix))
                    .map(n -> n.substring(0, n.length() - ".safetensors".length()))
                    .sorted().toList();
            assertFalse(names.isEmpty(), "no reference files " + prefix + "* in " + dir
                    + " (run test-data/gen/gen_conv.py)");
            return names;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
    }

    static SafeTensors.File load(String sub, String name) {
        Path p = refDir(sub).resolve(name + ".safetensors");
        try {
            return SafeTensors.read(p);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + p, e);
        }
    }

    static int metaInt(SafeTensors.File f, String key) {
        return Integer.parseInt(f.meta(key).trim());
    }

    /**
     * A copy of {@code t} as a channel view {@code [.., lead, lead + C)} of a wider buffer whose
     * other channels hold {@code fill} (NaN: a kernel that reads outside its view poisons its result).
     */
    static Tensor widen(Tensor t, int lead, int trail, float fill) {
        int[] s = t.shape();
        int c = s[s.length - 1];
        s[s.length - 1] = lead + c + trail;
        Tensor wide = Tensor.zeros(s).fill(fill);
        Tensor v = wide.channels(lead, lead + c);
        v.copyFrom(t);
        return v;
    }

    /** A random tensor with entries uniform in [-1, 1). */
    static Tensor random(SplittableRandom r, int... shape) {
        Tensor t = Tensor.zeros(shape);
        float[] d = t.data();
        for (int i = 0; i < d.length; i++) {
            d[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return t;
    }

    /** Largest |value| of a tensor's elements (views: only the viewed elements). */
    static double maxAbs(Tensor t) {
        double m = 0;
        float[] d = t.data();
        for (int r = 0; r < t.rows(); r++) {
            for (int c = 0, o = t.rowOffset(r); c < t.cols(); c++) {
                m = Math.max(m, Math.abs(d[o + c]));
            }
        }
        return m;
    }

    static double maxAbs(double[] a) {
        double m = 0;
        for (double v : a) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }

    /**
     * Asserts {@code |got - want| <= atol + rtol * |want|} element-wise, written so that NaN in
     * either fails. {@code want} is a dense array in row-major order of {@code got}'s logical shape.
     */
    static void assertClose(String what, double[] want, Tensor got, double atol, double rtol) {
        assertTrue(want.length == got.numel(), what + ": " + want.length + " reference values for " + got);
        float[] d = got.data();
        int cols = got.cols();
        for (int r = 0; r < got.rows(); r++) {
            for (int c = 0, o = got.rowOffset(r); c < cols; c++) {
                int i = r * cols + c;
                double err = Math.abs(d[o + c] - want[i]);
                double tol = atol + rtol * Math.abs(want[i]);
                if (!(err <= tol)) {
                    fail(what + ": element " + i + " of " + Arrays.toString(got.shape()) + " (row " + r + ", column "
                            + c + ") is " + d[o + c] + ", want " + want[i] + " (|err| " + err + " > tol " + tol + ")");
                }
            }
        }
    }

    static void assertClose(String what, Tensor want, Tensor got, double atol, double rtol) {
        assertArrayEquals(want.shape(), got.shape(), what + ": shapes differ");
        assertClose(what, toDouble(want), got, atol, rtol);
    }

    static double[] toDouble(Tensor t) {
        float[] f = t.toArray();
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    /** Asserts that the elements of a wide buffer outside the view {@code v} all still equal {@code fill}. */
    static void assertOutsideUntouched(String what, Tensor v, int lead, float fill) {
        float[] d = v.data();
        int ld = v.ld(), cols = v.cols();
        int base = v.offset() - lead;
        for (int r = 0; r < v.rows(); r++) {
            for (int c = 0; c < ld; c++) {
                if (c >= lead && c < lead + cols) {
                    continue;
                }
                float x = d[base + r * ld + c];
                if (Float.floatToIntBits(x) != Float.floatToIntBits(fill)) {
                    fail(what + ": element outside the view written at row " + r + ", column " + c + ": " + x);
                }
            }
        }
    }
}
