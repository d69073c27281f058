package dev.metaprune.kernels;

import static dev.metaprune.kernels.Vec.F;
import static dev.metaprune.kernels.Vec.L;

import dev.metaprune.tensor.Tensor;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * Element-wise activations and the residual add, on tensors of any shape (views allowed: rows are
 * walked with their own {@code ld}); all operands of one call have the same shape. When every
 * operand is contiguous the tensor is processed as one flat run (no per-row tails). Large tensors
 * are split into at most {@link Parallel#threads()} contiguous parts.
 *
 * <h2>NaN and the boundaries (PyTorch 1.13's behaviour, checked)</h2>
 * <ul>
 *   <li>{@code relu(x) = x < 0 ? 0 : x}: NaN stays NaN ({@code torch.relu(nan) = nan}) and
 *       {@code -0.0} stays {@code -0.0}, so the output is bit for bit PyTorch's.</li>
 *   <li>{@code relu6(x) = x < 0 ? 0 : (x > 6 ? 6 : x)}: NaN stays NaN, {@code -0.0} stays
 *       (like {@code F.relu6} and {@code hardtanh(0, 6)}).</li>
 *   <li>{@code reluBackward: dx = x <= 0 ? 0 : dy} (PyTorch's {@code threshold_backward}): the
 *       gradient is 0 at {@code x == 0}, passes at NaN, and a selected-out {@code dy} is dropped,
 *       never multiplied by 0 (so {@code dy = inf} at {@code x < 0} gives 0, not NaN).</li>
 *   <li>{@code relu6Backward: dx = (x <= 0 || x >= 6) ? 0 : dy} ({@code hardtanh_backward}): 0 at
 *       exactly 0 and 6, passes at NaN.</li>
 * </ul>
 * Outputs may be exactly (same array, offset and row stride) one of the inputs; partially
 * overlapping operands are not supported.
 */
public final class Elementwise {
    private Elementwise() {
    }

    /** Elements per parallel part. */
    static final long MIN_PER_PART = 1 << 16;

    private static final int RELU = 0, RELU_BWD = 1, RELU6 = 2, RELU6_BWD = 3, ADD = 4;
    private static final String[] NAMES = {"relu", "reluBackward", "relu6", "relu6Backward", "add"};

    /** {@code y = x < 0 ? 0 : x} (NaN and -0.0 pass). */
    public static void relu(Tensor x, Tensor y) {
        run(RELU, "x", x, null, null, "y", y);
    }

    /** {@code dx = x <= 0 ? 0 : dy}. */
    public static void reluBackward(Tensor x, Tensor dy, Tensor dx) {
        run(RELU_BWD, "x", x, "dy", dy, "dx", dx);
    }

    /** {@code y = x < 0 ? 0 : (x > 6 ? 6 : x)} (NaN and -0.0 pass). */
    public static void relu6(Tensor x, Tensor y) {
        run(RELU6, "x", x, null, null, "y", y);
    }

    /** {@code dx = (0 < x < 6) ? dy : 0}, NaN passing {@code dy}. */
    public static void relu6Backward(Tensor x, Tensor dy, Tensor dx) {
        run(RELU6_BWD, "x", x, "dy", dy, "dx", dx);
    }

    /** {@code y = a + b}. */
    public static void add(Tensor a, Tensor b, Tensor y) {
        run(ADD, "a", a, "b", b, "y", y);
    }

    private static void run(int op, String an, Tensor a, String bn, Tensor b, String on, Tensor out) {
        String name = NAMES[op];
        if (a == null) {
            throw new IllegalArgumentException(name + ": " + an + " is null");
        }
        if (out == null) {
            throw new IllegalArgumentException(name + ": " + on + " is null");
        }
        if (!(Arrays.equals(a.shape(), out.shape()))) {
            throw new IllegalArgumentException(name + ": " + on + " " + Arrays.toString(out.shape())
                    + " must have the shape of " + an + " " + Arrays.toString(a.shape()));
        }
        if (bn != null) {
            if (b == null) {
                throw new IllegalArgumentException(name + ": " + bn + " is null");
            }
            if (!(Arrays.equals(a.shape(), b.shape()))) {
                throw new IllegalArgumentException(name + ": " + bn + " " + Arrays.toString(b.shape())
                        + " must have the shape of " + an + " " + Arrays.toString(a.shape()));
            }
        }
        boolean flat = a.isContiguous() && out.isContiguous() && (b == null || b.isContiguous());
        int rows = flat ? 1 : a.rows();
        int cols = flat ? (int) a.numel() : a.cols();
        int ald = a.ld(), bld = b == null ? 0 : b.ld(), old = out.ld();
        float[] ad = a.data(), bd = b == null ? null : b.data(), od = out.data();
        int ao = a.offset(), bo = b == null ? 0 : b.offset(), oo = out.offset();
        long numel = a.numel();
        int parts = (int) Math.min(Parallel.threadCount(), Math.max(1, numel / MIN_PER_PART));
        if (!flat) {
            parts = Math.min(parts, rows);
        }
        Parallel.get().run(parts, (p, np) -> {
            if (flat) {
                // split the flat run at multiples of L (only the last part has a tail)
                int blocks = (cols + L - 1) / L;
                int from = Math.min(cols, Parallel.split(blocks, np, p) * L);
                int to = Math.min(cols, Parallel.split(blocks, np, p + 1) * L);
                if (from < to) {
                    span(op, ad, ao + from, bd, bo + from, od, oo + from, to - from);
                }
            } else {
                for (int r = Parallel.split(rows, np, p), r1 = Parallel.split(rows, np, p + 1); r < r1; r++) {
                    span(op, ad, ao + r * ald, bd, bo + r * bld, od, oo + r * old, cols);
                }
            }
        });
    }

    /** One contiguous run of {@code len} elements. */
    private static void span(int op, float[] a, int ai, float[] b, int bi, float[] o, int oi, int len) {
        switch (op) {
            case RELU -> relu(a, ai, o, oi, len);
            case RELU_BWD -> reluBwd(a, ai, b, bi, o, oi, len);
            case RELU6 -> relu6(a, ai, o, oi, len);
            case RELU6_BWD -> relu6Bwd(a, ai, b, bi, o, oi, len);
            default -> add(a, ai, b, bi, o, oi, len);
        }
    }

    private static FloatVector relu(FloatVector v, FloatVector zero) {
        return v.blend(zero, v.compare(VectorOperators.LT, 0f));
    }

    private static FloatVector relu6(FloatVector v, FloatVector zero, FloatVector six) {
        return v.blend(zero, v.compare(VectorOperators.LT, 0f)).blend(six, v.compare(VectorOperators.GT, 6f));
    }

    private static void relu(float[] x, int xi, float[] y, int yi, int len) {
        FloatVector zero = FloatVector.zero(F);
        int full = len - len % L, j = 0;
        for (; j < full; j += L) {
            relu(FloatVector.fromArray(F, x, xi + j), zero).intoArray(y, yi + j);
        }
        if (j < len) {
            VectorMask<Float> m = F.indexInRange(j, len);
            relu(FloatVector.fromArray(F, x, xi + j, m), zero).intoArray(y, yi + j, m);
        }
    }

    private static void relu6(float[] x, int xi, float[] y, int yi, int len) {
        FloatVector zero = FloatVector.zero(F), six = FloatVector.broadcast(F, 6f);
        int full = len - len % L, j = 0;
        for (; j < full; j += L) {
            relu6(FloatVector.fromArray(F, x, xi + j), zero, six).intoArray(y, yi + j);
        }
        if (j < len) {
            VectorMask<Float> m = F.indexInRange(j, len);
            relu6(FloatVector.fromArray(F, x, xi + j, m), zero, six).intoArray(y, yi + j, m);
        }
    }

    private static void reluBwd(float[] x, int xi, float[] dy, int di, float[] dx, int oi, int len) {
        FloatVector zero = FloatVector.zero(F);
        int full = len - len % L, j = 0;
        for (; j < full; j += L) {
            FloatVector xv = FloatVector.fromArray(F, x, xi + j);
            FloatVector.fromArray(F, dy, di + j).blend(zero, xv.compare(VectorOperators.LE, 0f)).intoArray(dx, oi + j);
        }
        if (j < len) {
            VectorMask<Float> m = F.indexInRange(j, len);
            FloatVector xv = FloatVector.fromArray(F, x, xi + j, m);
            FloatVector.fromArray(F, dy, di + j, m).blend(zero, xv.compare(VectorOperators.LE, 0f))
                    .intoArray(dx, oi + j, m);
        }
    }

    private static void relu6Bwd(float[] x, int xi, float[] dy, int di, float[] dx, int oi, int len) {
        FloatVector zero = FloatVector.zero(F);
        int full = len - len % L, j = 0;
        for (; j < full; j += L) {
            FloatVector xv = FloatVector.fromArray(F, x, xi + j);
            VectorMask<Float> out = xv.compare(VectorOperators.LE, 0f).or(xv.compare(VectorOperators.GE, 6f));
            FloatVector.fromArray(F, dy, di + j).blend(zero, out).intoArray(dx, oi + j);
        }
        if (j < len) {
            VectorMask<Float> m = F.indexInRange(j, len);
            FloatVector xv = FloatVector.fromArray(F, x, xi + j, m);
            VectorMask<Float> out = xv.compare(VectorOperators.LE, 0f).or(xv.compare(VectorOperators.GE, 6f));
            FloatVector.fromArray(F, dy, di + j, m).blend(zero, out).intoArray(dx, oi + j, m);
        }
    }

    private static void add(float[] a, int ai, float[] b, int bi, float[] y, int yi, int len) {
        int full = len - len % L, j = 0;
        for (; j < full; j += L) {
            FloatVector.fromArray(F, a, ai + j).add(FloatVector.fromArray(F, b, bi + j)).intoArray(y, yi + j);
        }
        if (j < len) {
            VectorMask<Float> m = F.indexInRange(j, len);
            FloatVector.fromArray(F, a, ai + j, m).add(FloatVector.fromArray(F, b, bi + j, m)).intoArray(y, yi + j, m);
        }
    }
}
