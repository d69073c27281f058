package dev.metaprune.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** GEMM against a double-precision triple loop, over transposes, edges, offsets and padded leading dims. */
class GemmTest {
    static float[] rand(SplittableRandom r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return x;
    }

    @ParameterizedTest
    @CsvSource({
            "1,1,1", "1,37,5", "3,200,64", "5,17,3", "6,32,1", "7,33,9", "13,1,20", "64,64,64", "97,131,203",
            "150,24,700", "24,150,300", "257,129,67", "300,300,300", "2,1000,64", "1,513,64"
    })
    void matchesReference(int m, int n, int k) {
        SplittableRandom r = new SplittableRandom(m * 31L + n * 7L + k);
        for (int t = 0; t < 4; t++) {
            boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
            int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 5, ldc = n + 2;
            int aOff = 7, bOff = 3, cOff = 11;
            float[] a = rand(r, aOff + (ta ? k : m) * lda);
            float[] b = rand(r, bOff + (tb ? n : k) * ldb);
            float[] c = rand(r, cOff + m * ldc);
            float[] c0 = c.clone();
            float alpha = 0.75f, beta = t == 3 ? 0f : -0.5f;
            Gemm.sgemm(ta, tb, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int p = 0; p < k; p++) {
                        double av = ta ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
                        double bv = tb ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
                        s += av * bv;
                    }
                    double want = alpha * s + (beta == 0f ? 0 : beta * c0[cOff + i * ldc + j]);
                    float got = c[cOff + i * ldc + j];
                    assertTrue(Math.abs(got - want) <= 1e-5 * Math.sqrt(k) * 4 + 1e-6,
                            "m=" + m + " n=" + n + " k=" + k + " ta=" + ta + " tb=" + tb + " at (" + i + "," + j
                                    + "): " + got + " vs " + want);
                }
                // padding between rows untouched
                for (int j = n; j < ldc && i < m - 1; j++) {
                    assertEquals(c0[cOff + i * ldc + j], c[cOff + i * ldc + j], "padding written at row " + i);
                }
            }
        }
    }

    @Test
    void rejectsBadShapes() {
        float[] a = new float[6], b = new float[6], c = new float[4];
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Gemm.sgemm(false, false, 2, 2, 3, 1, a, 0, 2, b, 0, 2, 0, c, 0, 2));
        assertTrue(e.getMessage().contains("leading dimension"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Gemm.sgemm(false, false, 2, 2, 4, 1, a, 0, 4, b, 0, 2, 0, c, 0, 2));
        assertTrue(e.getMessage().contains("needs"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> Gemm.sgemm(false, false, -1, 2, 3, 1, a, 0, 3, b, 0, 2, 0, c, 0, 2));
    }
}
