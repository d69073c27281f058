package dev.metaprune.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaprune.tensor.SafeTensors;
import dev.metaprune.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Linear layers (GEMM-backed, sliced weights) against PyTorch ({@code test-data/gen/gen_linear.py}).
 *
 * <p>Tolerance: {@code |got - want| <= 4 eps32 sqrt(K) max|want|} per tensor, where {@code K} is the
 * length of the dot products behind each element and {@code eps32 = 2^-23}. The references are
 * computed in float64, so the only error is our fp32 accumulation, whose rounding error grows like
 * {@code sqrt(K)} for independent roundings; the factor 4 leaves room for the blocked summation
 * order. NaN or infinity never passes. Elements outside the used weight block must stay exactly 0.
 */
class LinearTest {
    static Path dir() {
        return Path.of(System.getProperty("metaprune.testdata", "../test-data"), "ref", "linear");
    }

    static Stream<Path> cases() throws IOException {
        List<Path> l;
        try (Stream<Path> s = Files.list(dir())) {
            l = s.filter(p -> p.toString().endsWith(".safetensors")).sorted().toList();
        }
        assertTrue(l.size() >= 4, "reference files missing in " + dir());
        return l.stream();
    }

    static void assertClose(String what, Tensor want, Tensor got, int k) {
        assertArrayEquals(want.shape(), got.shape(), what + " shape");
        float[] w = want.toArray(), g = got.toArray();
        double max = 0;
        for (float v : w) {
            max = Math.max(max, Math.abs(v));
        }
        double tol = 4 * Math.ulp(1f) * Math.sqrt(k) * max + 1e-30;
        for (int i = 0; i < w.length; i++) {
            double d = Math.abs((double) g[i] - w[i]);
            if (!(d <= tol)) { // fails on NaN
                throw new AssertionError(what + ": element " + i + " got " + g[i] + " want " + w[i] + " (|diff| "
                        + d + " > tol " + tol + ")");
            }
        }
    }

    @ParameterizedTest
    @MethodSource("cases")
    void matchesPyTorch(Path file) throws IOException {
        SafeTensors.File f = SafeTensors.read(file);
        Tensor x = f.get("x"), w = f.get("w"), dy = f.get("dy");
        boolean bias = f.meta("bias").equals("1");
        int n = x.dim(0), in = x.dim(1), out = dy.dim(1);
        Kernels k = Kernels.get();
        Tensor y = Tensor.zeros(n, out);
        k.linearForward(x, w, bias ? f.get("b") : null, y);
        assertClose(file.getFileName() + " y", f.get("y"), y, in);
        Tensor dx = Tensor.zeros(n, in);
        k.linearBackwardInput(dy, w, dx);
        assertClose(file.getFileName() + " dx", f.get("dx"), dx, out);
        Tensor dw = Tensor.zeros(w.shape()); // outside the used block it must stay 0, as in the reference
        Tensor db = bias ? Tensor.zeros(f.get("b").shape()) : null;
        k.linearBackwardParams(x, dy, dw, db, false);
        assertClose(file.getFileName() + " dw", f.get("dw"), dw, n);
        if (bias) {
            assertClose(file.getFileName() + " db", f.get("db"), db, n);
        }
        // accumulate adds on top
        k.linearBackwardParams(x, dy, dw, db, true);
        Tensor twice = f.get("dw").copy();
        for (int i = 0; i < twice.data().length; i++) {
            twice.data()[i] *= 2;
        }
        assertClose(file.getFileName() + " dw accumulated", twice, dw, 2 * n);
    }

    @Test
    void rejectsASliceWiderThanItsWeight() {
        Tensor x = Tensor.zeros(2, 8), w = Tensor.zeros(4, 6), y = Tensor.zeros(2, 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Kernels.get().linearForward(x, w, null, y));
        assertTrue(e.getMessage().contains("[4, 8]") && e.getMessage().contains("[4, 6]"), e.getMessage());
        IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class,
                () -> Kernels.get().linearForward(x, Tensor.zeros(4, 8), null, Tensor.zeros(3, 4)));
        assertTrue(e2.getMessage().contains("batch"), e2.getMessage());
    }
}
