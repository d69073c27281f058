package dev.metaprune.kernels;

import static dev.metaprune.kernels.Vec.F;
import static dev.metaprune.kernels.Vec.L;
import static dev.metaprune.tensor.Shapes.requireRank;

import dev.metaprune.tensor.Tensor;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;

/**
 * Fully connected layers on {@link Gemm}, with sliced weights: {@code w} is {@code [outMax, inMax]}
 * and the leading {@code [out, in]} block (out = y's columns, in = x's columns) is used in place.
 */
public final class Linear {
    private Linear() {
    }

    private static void checkW(String op, Tensor w, int out, int in) {
        requireRank(op, "w", w, 2);
        if (!(w.dim(0) >= out && w.dim(1) >= in)) {
            throw new IllegalArgumentException(op + ": the layer needs a [" + out + ", " + in
                    + "] weight block but w is " + Arrays.toString(w.shape()));
        }
    }

    /** {@code y[N, out] = x[N, in] * w[:out, :in]^T + bias[:out]}. */
    public static void forward(Tensor x, Tensor w, Tensor bias, Tensor y) {
        String op = "linearForward";
        requireRank(op, "x", x, 2);
        requireRank(op, "y", y, 2);
        int n = x.dim(0), in = x.dim(1), out = y.dim(1);
        if (y.dim(0) != n) {
            throw new IllegalArgumentException(op + ": x " + x + " and y " + y + " differ in batch size");
        }
        checkW(op, w, out, in);
        if (bias != null) {
            if (!(bias.numel() >= out)) {
                throw new IllegalArgumentException(op + ": bias " + bias + " is shorter than " + out);
            }
            float[] yd = y.data(), bd = bias.data();
            for (int r = 0; r < n; r++) {
                System.arraycopy(bd, bias.offset(), yd, y.rowOffset(r), out);
            }
        }
        Gemm.sgemm(false, true, n, out, in, 1f, x.data(), x.offset(), x.ld(), w.data(), w.offset(), w.ld(),
                bias == null ? 0f : 1f, y.data(), y.offset(), y.ld());
    }

    /** {@code dx[N, in] = dy[N, out] * w[:out, :in]}. */
    public static void backwardInput(Tensor dy, Tensor w, Tensor dx) {
        String op = "linearBackwardInput";
        requireRank(op, "dy", dy, 2);
        requireRank(op, "dx", dx, 2);
        int n = dy.dim(0), out = dy.dim(1), in = dx.dim(1);
        if (dx.dim(0) != n) {
            throw new IllegalArgumentException(op + ": dy " + dy + " and dx " + dx + " differ in batch size");
        }
        checkW(op, w, out, in);
        Gemm.sgemm(false, false, n, in, out, 1f, dy.data(), dy.offset(), dy.ld(), w.data(), w.offset(), w.ld(), 0f,
                dx.data(), dx.offset(), dx.ld());
    }

    /** {@code dw[:out, :in] (+)= dy^T * x}; {@code dbias[:out] (+)= column sums of dy}. */
    public static void backwardParams(Tensor x, Tensor dy, Tensor dw, Tensor dbias, boolean accumulate) {
        String op = "linearBackwardParams";
        requireRank(op, "x", x, 2);
        requireRank(op, "dy", dy, 2);
        int n = x.dim(0), in = x.dim(1), out = dy.dim(1);
        if (dy.dim(0) != n) {
            throw new IllegalArgumentException(op + ": x " + x + " and dy " + dy + " differ in batch size");
        }
        checkW(op, dw, out, in);
        Gemm.sgemm(true, false, out, in, n, 1f, dy.data(), dy.offset(), dy.ld(), x.data(), x.offset(), x.ld(),
                accumulate ? 1f : 0f, dw.data(), dw.offset(), dw.ld());
        if (dbias != null) {
            if (!(dbias.numel() >= out)) {
                throw new IllegalArgumentException(op + ": dbias " + dbias + " is shorter than " + out);
            }
            columnSums(dy, dbias.data(), dbias.offset(), accumulate);
        }
    }

    /** {@code s[j] (+)= sum_r t[r, j]}. */
    static void columnSums(Tensor t, float[] s, int sOff, boolean accumulate) {
        int rows = t.rows(), cols = t.cols();
        float[] d = t.data();
        if (!accumulate) {
            Arrays.fill(s, sOff, sOff + cols, 0f);
        }
        for (int r = 0; r < rows; r++) {
            int base = t.rowOffset(r);
            int j = 0;
            for (; j <= cols - L; j += L) {
                FloatVector.fromArray(F, s, sOff + j).add(FloatVector.fromArray(F, d, base + j)).intoArray(s, sOff + j);
            }
            for (; j < cols; j++) {
                s[sOff + j] += d[base + j];
            }
        }
    }
}
