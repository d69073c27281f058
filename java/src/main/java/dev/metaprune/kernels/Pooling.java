package dev.metaprune.kernels;

import static dev.metaprune.kernels.Vec.F;
import static dev.metaprune.kernels.Vec.L;
import static dev.metaprune.tensor.Shapes.requireRank;

import dev.metaprune.tensor.Tensor;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Pooling on NHWC activations ({@code [N, H, W, C]}, channel views allowed), vectorised over
 * channels, threads over images.
 *
 * <ul>
 *   <li>Max pooling {@code k x k}, stride, zero padding that never wins. It records, for output
 *       element {@code i} (row-major over {@code y}'s logical shape {@code [N, Ho, Wo, C]}), the index
 *       into {@code x.data()} of the maximum: PyTorch's rule, scan order {@code (ky, kx)}, a later
 *       value replaces the current maximum only when strictly greater or NaN (so the first of equal
 *       maxima wins, and NaN propagates).</li>
 *   <li>Global average pooling {@code [N, H, W, C] -> [N, C]}.</li>
 * </ul>
 */
public final class Pooling {
    private Pooling() {
    }

    private static final VectorSpecies<Integer> I = F.withLanes(int.class);

    /** Elements touched below which a call stays on the calling thread. */
    private static final long PARALLEL_MIN = 1L << 15;

    private static int parts(long work, int n) {
        return Math.min(work >= PARALLEL_MIN ? Parallel.threadCount() : 1, n);
    }

    private static String shape(Tensor t) {
        return Arrays.toString(t.shape());
    }

    /**
     * Max pooling forward.
     *
     * @param x      input {@code [N, H, W, C]}
     * @param y      output {@code [N, Ho, Wo, C]} with {@code Ho = (H + 2*pad - k) / stride + 1} (same for W)
     * @param argmax at least {@code N*Ho*Wo*C} entries: for each output element, in row-major order,
     *               the index into {@code x.data()} of its maximum
     * @param k      window size, {@code > 0}
     * @param stride {@code > 0}
     * @param pad    {@code 0 <= pad <= k/2} (PyTorch's limit: every window then has a real element)
     * @throws IllegalArgumentException on bad sizes or shapes
     */
    public static void maxPoolForward(Tensor x, Tensor y, int[] argmax, int k, int stride, int pad) {
        String op = "maxPoolForward";
        requireRank(op, "x", x, 4);
        requireRank(op, "y", y, 4);
        if (!(k > 0 && stride > 0 && pad >= 0 && 2 * pad <= k)) {
            throw new IllegalArgumentException(op + ": invalid window k=" + k + " stride=" + stride
                    + " pad=" + pad + " (need k > 0, stride > 0, 0 <= pad <= k/2)");
        }
        int n = x.dim(0), h = x.dim(1), w = x.dim(2), c = x.dim(3);
        if (!(h + 2 * pad >= k && w + 2 * pad >= k)) {
            throw new IllegalArgumentException(op + ": x " + shape(x) + " with padding " + pad
                    + " is smaller than the " + k + "x" + k + " window");
        }
        int ho = (h + 2 * pad - k) / stride + 1, wo = (w + 2 * pad - k) / stride + 1;
        if (!(y.dim(0) == n && y.dim(1) == ho && y.dim(2) == wo && y.dim(3) == c)) {
            throw new IllegalArgumentException(op + ": y " + shape(y)
                    + " must be [" + n + ", " + ho + ", " + wo + ", " + c + "] for x " + shape(x) + " with k=" + k
                    + " stride=" + stride + " pad=" + pad);
        }
        if (!(argmax != null && argmax.length >= y.numel())) {
            throw new IllegalArgumentException(op + ": argmax holds "
                    + (argmax == null ? "nothing" : argmax.length + " entries") + ", y " + shape(y) + " needs "
                    + y.numel());
        }
        float[] xd = x.data(), yd = y.data();
        int xOff = x.offset(), xLd = x.ld(), yOff = y.offset(), yLd = y.ld();
        int rows = n * ho;
        Parallel.get().run(parts(y.numel() * k * k, rows), (p, np) -> {
            FloatVector negInf = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
            IntVector lanes = IntVector.zero(I).addIndex(1);
            for (int r = Parallel.split(rows, np, p), r1 = Parallel.split(rows, np, p + 1); r < r1; r++) {
                int img = r / ho, oy = r - img * ho;
                int iy0 = oy * stride - pad;
                int ky0 = Math.max(0, -iy0), ky1 = Math.min(k, h - iy0);
                int xImg = xOff + img * h * w * xLd;
                for (int ox = 0; ox < wo; ox++) {
                    int ix0 = ox * stride - pad;
                    int kx0 = Math.max(0, -ix0), kx1 = Math.min(k, w - ix0);
                    int yp = yOff + (r * wo + ox) * yLd;
                    int ai = (r * wo + ox) * c;
                    int first = xImg + ((iy0 + ky0) * w + ix0 + kx0) * xLd;
                    if (c < L) {
                        maxScalar(xd, xImg, xLd, w, iy0, ky0, ky1, ix0, kx0, kx1, c, yd, yp, argmax, ai, first);
                        continue;
                    }
                    // Whole vectors; a channel tail is one more vector ending at c (overlapping: same values).
                    for (int j0 = 0; j0 < c; j0 += L) {
                        int j = Math.min(j0, c - L);
                        FloatVector best = negInf;
                        IntVector where = lanes.add(first + j);
                        for (int ky = ky0; ky < ky1; ky++) {
                            int rowBase = xImg + ((iy0 + ky) * w + ix0) * xLd + j;
                            for (int kx = kx0; kx < kx1; kx++) {
                                int at = rowBase + kx * xLd;
                                FloatVector v = FloatVector.fromArray(F, xd, at);
                                VectorMask<Float> take = v.compare(VectorOperators.GT, best)
                                        .or(v.test(VectorOperators.IS_NAN));
                                best = best.blend(v, take);
                                where = where.blend(lanes.add(at), take.cast(I));
                            }
                        }
                        best.intoArray(yd, yp + j);
                        where.intoArray(argmax, ai + j);
                    }
                }
            }
        });
    }

    /** One output pixel of max pooling, channel by channel (fewer channels than a vector has lanes). */
    private static void maxScalar(float[] xd, int xImg, int xLd, int w, int iy0, int ky0, int ky1, int ix0, int kx0,
                                  int kx1, int c, float[] yd, int yp, int[] argmax, int ai, int first) {
        for (int ch = 0; ch < c; ch++) {
            float best = Float.NEGATIVE_INFINITY;
            int where = first + ch;
            for (int ky = ky0; ky < ky1; ky++) {
                for (int kx = kx0; kx < kx1; kx++) {
                    int at = xImg + ((iy0 + ky) * w + ix0 + kx) * xLd + ch;
                    float v = xd[at];
                    if (v > best || Float.isNaN(v)) {
                        best = v;
                        where = at;
                    }
                }
            }
            yd[yp + ch] = best;
            argmax[ai + ch] = where;
        }
    }

    /**
     * Max pooling backward: {@code dx = 0}, then {@code dx[argmax[i]] += dy[i]} for every output
     * element {@code i} (row-major over {@code dy}'s logical shape). The indices point into the forward
     * input's array, so {@code dx} must be laid out like that input (same offset and row stride; e.g.
     * both dense); an index outside {@code dx} is an {@link IllegalArgumentException}.
     *
     * @param dy     gradient of the output {@code [N, Ho, Wo, C]}
     * @param argmax the forward pass's indices
     * @param dx     gradient of the input {@code [N, H, W, C]}, overwritten
     */
    public static void maxPoolBackward(Tensor dy, int[] argmax, Tensor dx) {
        String op = "maxPoolBackward";
        requireRank(op, "dy", dy, 4);
        requireRank(op, "dx", dx, 4);
        int n = dy.dim(0), c = dy.dim(3);
        if (!(dx.dim(0) == n && dx.dim(3) == c)) {
            throw new IllegalArgumentException(op + ": dy " + shape(dy) + " and dx " + shape(dx)
                    + " differ in batch size or channels");
        }
        if (!(argmax != null && argmax.length >= dy.numel())) {
            throw new IllegalArgumentException(op + ": argmax holds "
                    + (argmax == null ? "nothing" : argmax.length + " entries") + ", dy " + shape(dy) + " needs "
                    + dy.numel());
        }
        float[] dyd = dy.data(), dxd = dx.data();
        int perImgOut = dy.dim(1) * dy.dim(2), perImgIn = dx.dim(1) * dx.dim(2);
        int dxOff = dx.offset(), dxLd = dx.ld();
        Parallel.get().run(parts(dy.numel(), n), (p, np) -> {
            int n0 = Parallel.split(n, np, p), n1 = Parallel.split(n, np, p + 1);
            if (n1 == n0) {
                return;
            }
            dx.slice0(n0, n1).fill(0f);
            // Indices of image img must fall in its own pixels: that also keeps parts disjoint.
            for (int img = n0; img < n1; img++) {
                long lo = dxOff + (long) img * perImgIn * dxLd;
                long hi = dxOff + ((long) (img + 1) * perImgIn - 1) * dxLd + c;
                for (int q = img * perImgOut, q1 = q + perImgOut; q < q1; q++) {
                    int src = dy.rowOffset(q), ai = q * c;
                    for (int ch = 0; ch < c; ch++) {
                        int idx = argmax[ai + ch];
                        int col = Math.floorMod(idx - dxOff, dxLd);
                        if (idx < lo || idx >= hi || col >= c) {
                            throw new IllegalArgumentException(op + ": argmax[" + (ai + ch) + "] = " + idx
                                    + " is not an element of image " + img + " of dx " + shape(dx) + " (offset "
                                    + dxOff + ", row stride " + dxLd + "): dx must be laid out like the forward input");
                        }
                        dxd[idx] += dyd[src + ch];
                    }
                }
            }
        });
    }

    /**
     * Global average pooling: {@code y[n, c] = mean_{h, w} x[n, h, w, c]}.
     *
     * @param x input {@code [N, H, W, C]}
     * @param y output {@code [N, C]}
     */
    public static void globalAvgPoolForward(Tensor x, Tensor y) {
        String op = "globalAvgPoolForward";
        requireRank(op, "x", x, 4);
        requireRank(op, "y", y, 2);
        int n = x.dim(0), c = x.dim(3), hw = x.dim(1) * x.dim(2);
        if (!(y.dim(0) == n && y.dim(1) == c)) {
            throw new IllegalArgumentException(op + ": y " + shape(y) + " must be [" + n + ", " + c + "] for x "
                    + shape(x));
        }
        float[] xd = x.data(), yd = y.data();
        float inv = 1f / hw;
        Parallel.get().run(parts(x.numel(), n), (p, np) -> {
            for (int img = Parallel.split(n, np, p), n1 = Parallel.split(n, np, p + 1); img < n1; img++) {
                int base = x.rowOffset(img * hw), yr = y.rowOffset(img);
                if (c < L) {
                    for (int ch = 0; ch < c; ch++) {
                        float sum = 0f;
                        for (int q = 0, at = base + ch; q < hw; q++, at += x.ld()) {
                            sum += xd[at];
                        }
                        yd[yr + ch] = sum * inv;
                    }
                    continue;
                }
                for (int j0 = 0; j0 < c; j0 += L) {
                    int j = Math.min(j0, c - L); // a tail overlaps the previous vector
                    FloatVector s0 = FloatVector.zero(F), s1 = s0;
                    int q = 0, at = base + j;
                    for (; q + 1 < hw; q += 2, at += 2 * x.ld()) {
                        s0 = s0.add(FloatVector.fromArray(F, xd, at));
                        s1 = s1.add(FloatVector.fromArray(F, xd, at + x.ld()));
                    }
                    if (q < hw) {
                        s0 = s0.add(FloatVector.fromArray(F, xd, at));
                    }
                    s0.add(s1).mul(inv).intoArray(yd, yr + j);
                }
            }
        });
    }

    /**
     * Global average pooling backward: {@code dx[n, h, w, c] = dy[n, c] / (H*W)} (overwrites dx).
     *
     * @param dy gradient of the output {@code [N, C]}
     * @param dx gradient of the input {@code [N, H, W, C]}
     */
    public static void globalAvgPoolBackward(Tensor dy, Tensor dx) {
        String op = "globalAvgPoolBackward";
        requireRank(op, "dy", dy, 2);
        requireRank(op, "dx", dx, 4);
        int n = dx.dim(0), c = dx.dim(3), hw = dx.dim(1) * dx.dim(2);
        if (!(dy.dim(0) == n && dy.dim(1) == c)) {
            throw new IllegalArgumentException(op + ": dy " + shape(dy) + " must be [" + n + ", " + c
                    + "] for dx " + shape(dx));
        }
        float[] dyd = dy.data(), dxd = dx.data();
        float inv = 1f / hw;
        Parallel.get().run(parts(dx.numel(), n), (p, np) -> {
            for (int img = Parallel.split(n, np, p), n1 = Parallel.split(n, np, p + 1); img < n1; img++) {
                int src = dy.rowOffset(img);
                if (c < L) {
                    for (int q = 0, at = dx.rowOffset(img * hw); q < hw; q++, at += dx.ld()) {
                        for (int ch = 0; ch < c; ch++) {
                            dxd[at + ch] = dyd[src + ch] * inv;
                        }
                    }
                    continue;
                }
                for (int j0 = 0; j0 < c; j0 += L) {
                    int j = Math.min(j0, c - L); // a tail overlaps the previous vector
                    FloatVector v = FloatVector.fromArray(F, dyd, src + j).mul(inv);
                    for (int q = 0, at = dx.rowOffset(img * hw) + j; q < hw; q++, at += dx.ld()) {
                        v.intoArray(dxd, at);
                    }
                }
            }
        });
    }
}
