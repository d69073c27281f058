package dev.metaprune.kernels;

import static dev.metaprune.kernels.Vec.F;
import static dev.metaprune.kernels.Vec.L;

import dev.metaprune.tensor.Tensor;
import java.util.Arrays;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Softmax cross-entropy with label smoothing, and top-k counting, over logits {@code [N, K]} (views
 * allowed). Rows are split over at most {@link Parallel#threads()} parts.
 */
public final class Loss {
    private Loss() {
    }

    private static final VectorSpecies<Float> FH = Widen.FH;
    private static final VectorSpecies<Double> D = Widen.D;
    private static final int DL = Widen.DL;

    /** Logits per parallel part. */
    static final long MIN_PER_PART = 1 << 14;

    private static void checkLabels(String op, Tensor logits, int[] labels) {
        if (logits == null) {
            throw new IllegalArgumentException(op + ": logits is null");
        }
        if (logits.rank() != 2) {
            throw new IllegalArgumentException(op + ": logits must be [N, K], got shape " + Arrays.toString(logits.shape()));
        }
        if (labels == null) {
            throw new IllegalArgumentException(op + ": labels is null");
        }
        int n = logits.dim(0), k = logits.dim(1);
        if (labels.length != n) {
            throw new IllegalArgumentException(op + ": " + labels.length + " labels for logits " + Arrays.toString(logits.shape())
                    + " (" + n + " rows)");
        }
        for (int i = 0; i < n; i++) {
            int y = labels[i];
            if (!(y >= 0 && y < k)) {
                throw new IllegalArgumentException(op + ": label " + y + " of row " + i + " is outside [0, " + k + ") for logits "
                        + Arrays.toString(logits.shape()));
            }
        }
    }

    /**
     * Mean over rows of {@code -sum_k t_k log softmax(z)_k} with {@code t = (1 - eps) onehot(label) +
     * eps / K} ({@code F.cross_entropy(z, labels, label_smoothing=eps)}, reduction mean). Per row
     * this is {@code lse(z) - (1 - eps) z_label - eps mean(z)} with {@code lse(z) = max + log sum
     * exp(z - max)} (stable for any logit range). When {@code dLogits} (shape of the logits, may
     * alias them) is not null it receives {@code (softmax(z) - t) / N}, the gradient of the mean.
     * Exponentials are float ({@link Widen#expNonPositive}, within 1 ulp), their row sums and the
     * loss are double, in a fixed order: the result is the same bits on every run for a given vector
     * width and thread count. A NaN logit makes its row's loss and gradient NaN, as in PyTorch.
     * Labels are validated before anything is written ({@code ignore_index} is not supported).
     */
    public static float softmaxCrossEntropy(Tensor logits, int[] labels, float smoothing, Tensor dLogits) {
        String op = "softmaxCrossEntropy";
        checkLabels(op, logits, labels);
        if (!(smoothing >= 0 && smoothing <= 1)) {
            throw new IllegalArgumentException(op + ": smoothing must be in [0, 1], got " + smoothing);
        }
        if (dLogits != null) {
            if (!(Arrays.equals(dLogits.shape(), logits.shape()))) {
                throw new IllegalArgumentException(op + ": dLogits " + Arrays.toString(dLogits.shape())
                        + " must have the shape of logits " + Arrays.toString(logits.shape()));
            }
        }
        int n = logits.dim(0), k = logits.dim(1);
        int parts = Scratch.parts((long) n * k, n, MIN_PER_PART);
        double[] partial = Scratch.doubles(parts * 8);
        float[] zd = logits.data();
        int zo = logits.offset(), zld = logits.ld();
        float[] gd = dLogits == null ? null : dLogits.data();
        int go = dLogits == null ? 0 : dLogits.offset(), gld = dLogits == null ? 0 : dLogits.ld();
        double eps = smoothing;
        Parallel.get().run(parts, (p, np) -> {
            double sum = 0;
            for (int r = Parallel.split(n, np, p), r1 = Parallel.split(n, np, p + 1); r < r1; r++) {
                sum += row(zd, zo + r * zld, k, labels[r], eps, n, gd, go + r * gld);
            }
            partial[p * 8] = sum;   // 8 apart: parts never share a cache line
        });
        double total = 0;
        for (int p = 0; p < parts; p++) {
            total += partial[p * 8];
        }
        return (float) (total / n);
    }

    /** Loss of one row; writes its gradient at {@code g[gi..]} when {@code g != null}. */
    private static double row(float[] z, int zi, int k, int label, double eps, int n, float[] g, int gi) {
        int full = k - k % DL;
        VectorMask<Float> tail = FH.indexInRange(full, k);
        // max (exact in any order) and the plain sum of the logits (double lanes)
        FloatVector vmax = FloatVector.broadcast(FH, Float.NEGATIVE_INFINITY);
        DoubleVector sz = DoubleVector.zero(D);
        int j = 0;
        for (; j < full; j += DL) {
            FloatVector v = FloatVector.fromArray(FH, z, zi + j);
            vmax = vmax.max(v);
            sz = sz.add(Widen.toDouble(v));
        }
        if (j < k) {
            FloatVector v = FloatVector.fromArray(FH, z, zi + j, tail);   // inactive lanes are 0
            vmax = vmax.lanewise(VectorOperators.MAX, v, tail);
            sz = sz.add(Widen.toDouble(v));
        }
        float max = vmax.reduceLanes(VectorOperators.MAX);
        double zy = z[zi + label]; // read before g (which may alias z) is written
        // sum of exp(z - max) in double lanes; the exponentials are kept in g when the gradient is wanted
        FloatVector vm = FloatVector.broadcast(FH, max);
        DoubleVector se = DoubleVector.zero(D);
        j = 0;
        for (; j < full; j += DL) {
            FloatVector e = Widen.expNonPositive(FloatVector.fromArray(FH, z, zi + j).sub(vm));
            se = se.add(Widen.toDouble(e));
            if (g != null) {
                e.intoArray(g, gi + j);
            }
        }
        if (j < k) {
            FloatVector e = Widen.expNonPositive(FloatVector.fromArray(FH, z, zi + j, tail).sub(vm));
            e = FloatVector.zero(FH).blend(e, tail);
            se = se.add(Widen.toDouble(e));
            if (g != null) {
                e.intoArray(g, gi + j, tail);
            }
        }
        double s = Widen.sumLanes(se);
        double lse = max + Math.log(s);
        double loss = lse - (1 - eps) * zy - eps * Widen.sumLanes(sz) / k;
        if (g != null) {
            // g = e / (s N) - eps / (K N); then the label's entry exactly, in double
            double ey = g[gi + label];
            FloatVector scale = FloatVector.broadcast(F, (float) (1.0 / (s * n)));
            FloatVector off = FloatVector.broadcast(F, (float) (-eps / ((double) k * n)));
            int fullF = k - k % L;
            VectorMask<Float> tailF = F.indexInRange(fullF, k);
            j = 0;
            for (; j < fullF; j += L) {
                FloatVector.fromArray(F, g, gi + j).fma(scale, off).intoArray(g, gi + j);
            }
            if (j < k) {
                FloatVector.fromArray(F, g, gi + j, tailF).fma(scale, off).intoArray(g, gi + j, tailF);
            }
            g[gi + label] = (float) ((ey / s - eps / k - (1 - eps)) / n);
        }
        return loss;
    }

    /**
     * Number of rows whose label is among the {@code k} largest logits. Ties count against: the
     * label is a hit when fewer than {@code k} other classes have a logit {@code >=} its own (so a
     * row of equal logits is a hit only when {@code k = K}). A NaN counts as larger than anything
     * (PyTorch's {@code topk} order): a NaN elsewhere in the row is ahead of the label, and a NaN
     * label logit has every other class ahead of it. Deterministic, independent of the class order.
     */
    public static int countTopK(Tensor logits, int[] labels, int k) {
        String op = "countTopK";
        checkLabels(op, logits, labels);
        int n = logits.dim(0), classes = logits.dim(1);
        if (!(k >= 1 && k <= classes)) {
            throw new IllegalArgumentException(op + ": k = " + k + " must be in [1, " + classes + "] for logits "
                    + Arrays.toString(logits.shape()));
        }
        int parts = Scratch.parts((long) n * classes, n, MIN_PER_PART);
        double[] partial = Scratch.doubles(parts * 8);
        float[] zd = logits.data();
        int zo = logits.offset(), zld = logits.ld();
        Parallel.get().run(parts, (p, np) -> {
            int hits = 0;
            for (int r = Parallel.split(n, np, p), r1 = Parallel.split(n, np, p + 1); r < r1; r++) {
                if (ahead(zd, zo + r * zld, classes, labels[r]) < k) {
                    hits++;
                }
            }
            partial[p * 8] = hits;
        });
        int total = 0;
        for (int p = 0; p < parts; p++) {
            total += (int) partial[p * 8];
        }
        return total;
    }

    /** Number of classes other than {@code label} with {@code !(z_j < z_label)}: {@code >=}, or a NaN involved. */
    private static int ahead(float[] z, int zi, int k, int label) {
        float zl = z[zi + label];
        int full = k - k % L;
        int count = 0, j = 0;
        for (; j < full; j += L) {
            count += FloatVector.fromArray(F, z, zi + j).compare(VectorOperators.LT, zl).not().trueCount();
        }
        for (; j < k; j++) {
            if (!(z[zi + j] < zl)) {
                count++;
            }
        }
        return count - 1; // the label itself was counted (z_l < z_l is false)
    }
}
