package dev.metaprune.kernels;

import static dev.metaprune.kernels.Vec.F;
import static dev.metaprune.kernels.Vec.L;

import dev.metaprune.tensor.Tensor;
import java.util.Arrays;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Batch normalisation over NHWC activations: statistics per channel (the last dimension) over every
 * row ({@code N * H * W}), vectorised across channels, parallel over rows.
 *
 * <h2>Tensors</h2>
 * {@code x}, {@code y}, {@code dy}, {@code dx} have any rank {@code >= 2} whose last dimension is
 * the channel count {@code C}; they may be channel views (rows {@code ld} apart). Per-channel
 * tensors ({@code gamma}, {@code beta}, the saved and running statistics, the parameter gradients)
 * are one row of {@code C} elements: shape {@code [C]}, {@code [1, C]} or a channel view of one
 * row. {@code gamma == null} means affine-free (then {@code beta}, {@code dGamma} and {@code dBeta}
 * must be null too); with {@code gamma} given, {@code beta} may still be null (no shift).
 *
 * <h2>Numerics</h2>
 * Per-channel sums are accumulated in <b>double</b> in one pass over the data, after subtracting a
 * per-channel shift (the channel's value in the first row): {@code var = E[(x-k)^2] - E[x-k]^2}.
 * The shift makes the shifted mean of the order of the standard deviation, so the subtraction
 * loses nothing that matters, and the double accumulators keep the rounding of long sums
 * ({@code N*H*W} up to ~10^5 terms) at ~1e-12 relative, far below float32 resolution. This reads
 * {@code x} once for the statistics (a centered two-pass scheme would read it twice) and gives
 * results correctly rounded to float32 up to a few ulp. The normalisation itself is
 * {@code y = (x - mean) * (gamma * invStd) + beta} in float, with the double mean carried as a
 * float pair {@code hi + lo} and subtracted before scaling, which keeps the error relative to
 * {@code |y|}, not to {@code |mean|} (the backward pass recovers the same exact mean; see
 * {@link #backward}).
 *
 * <h2>Parallelism, determinism and aliasing</h2>
 * Rows are split into at most {@link Parallel#threads()} contiguous parts; each part sums into its
 * own slice of a per-thread scratch buffer (blocks of rows, channel groups held in registers) and
 * the partial sums are reduced in part order. Every channel's sum is taken in the same order
 * whatever the vector width, and only IEEE add / fma / conversions are used (no lane reductions),
 * so results are bit-identical from run to run and across vector widths for a given thread
 * count. {@code y} may be exactly {@code x} (same array,
 * offset and row stride) and {@code dx} may be exactly {@code x} or {@code dy}; partially
 * overlapping tensors are not supported.
 */
public final class BatchNorm {
    private BatchNorm() {
    }

    private static final VectorSpecies<Float> FH = Widen.FH;
    private static final VectorSpecies<Double> D = Widen.D;
    private static final int DL = Widen.DL;

    /** Elements per parallel part: below this, a hand-off costs more than it saves. */
    static final long MIN_PER_PART = 1 << 15;

    // ---- validation ---------------------------------------------------------------------------

    private static void requireActivation(String op, String name, Tensor t) {
        if (t == null) {
            throw new IllegalArgumentException(op + ": " + name + " is null");
        }
        if (!(t.rank() >= 2)) {
            throw new IllegalArgumentException(op + ": " + name + " must have rank >= 2 ([N, ..., C]), got shape "
                    + Arrays.toString(t.shape()));
        }
    }

    private static void requireSame(String op, String an, Tensor a, String bn, Tensor b) {
        if (!(Arrays.equals(a.shape(), b.shape()))) {
            throw new IllegalArgumentException(op + ": " + bn + " " + Arrays.toString(b.shape())
                    + " must have the shape of " + an + " " + Arrays.toString(a.shape()));
        }
    }

    /** A per-channel tensor: one row of exactly c elements (null allowed when optional). */
    private static void requireChannels(String op, String name, Tensor t, int c, boolean optional) {
        if (t == null) {
            if (!optional) {
                throw new IllegalArgumentException(op + ": " + name + " is null");
            }
            return;
        }
        if (!(t.rows() == 1 && t.cols() == c)) {
            throw new IllegalArgumentException(op + ": " + name + " must hold one value per channel ([" + c
                    + "]), got shape " + Arrays.toString(t.shape()));
        }
    }

    private static void requireEps(String op, float eps) {
        if (!(eps >= 0 && Float.isFinite(eps))) {
            throw new IllegalArgumentException(op + ": eps must be finite and >= 0, got " + eps);
        }
    }

    // ---- training forward ---------------------------------------------------------------------

    /** See {@link Kernels#batchNormTrainForward}. Needs at least two rows (the unbiased variance). */
    public static void trainForward(Tensor x, Tensor gamma, Tensor beta, Tensor y, Tensor saveMean,
                                    Tensor saveInvStd, Tensor runMean, Tensor runVar, float averageFactor,
                                    float eps) {
        String op = "batchNormTrainForward";
        requireActivation(op, "x", x);
        requireActivation(op, "y", y);
        requireSame(op, "x", x, "y", y);
        int n = x.rows(), c = x.cols();
        if (!(n >= 2)) {
            throw new IllegalArgumentException(op + ": x " + Arrays.toString(x.shape()) + " has " + n
                    + " value(s) per channel; training needs more than 1");
        }
        requireChannels(op, "gamma", gamma, c, true);
        requireChannels(op, "beta", beta, c, true);
        if (!(gamma != null || beta == null)) {
            throw new IllegalArgumentException(op + ": beta is given without gamma (affine-free takes neither)");
        }
        requireChannels(op, "saveMean", saveMean, c, true);
        requireChannels(op, "saveInvStd", saveInvStd, c, true);
        requireChannels(op, "runMean", runMean, c, true);
        requireChannels(op, "runVar", runVar, c, true);
        if (!((runMean == null) == (runVar == null))) {
            throw new IllegalArgumentException(op + ": runMean and runVar must both be given or both null");
        }
        if (!(averageFactor >= 0 && averageFactor <= 1)) {
            throw new IllegalArgumentException(op + ": averageFactor must be in [0, 1], got "
                    + averageFactor);
        }
        requireEps(op, eps);

        int cd = Scratch.roundUp(c, DL);          // double accumulator length
        int stride = cd * 2 + 8;                  // per part: sum, sum of squares, padding against false sharing
        int parts = Scratch.parts((long) n * c, n, MIN_PER_PART);
        int cf = Scratch.roundUp(c, L);
        double[] acc = Scratch.doubles(parts * stride + cd);
        int shiftOff = parts * stride;
        float[] xd = x.data();
        int x0 = x.offset();
        for (int j = 0; j < cd; j++) {
            acc[shiftOff + j] = j < c ? xd[x0 + j] : 0.0;
        }
        int xo = x0, xld = x.ld();
        Parallel.get().run(parts, (p, np) -> {
            int base = p * stride;
            Arrays.fill(acc, base, base + 2 * cd, 0.0);
            sumShifted(xd, xo, xld, Parallel.split(n, np, p), Parallel.split(n, np, p + 1), c, acc, base,
                    base + cd, shiftOff);
        });

        // reduce, then per-channel coefficients for the normalisation (float scratch: mean hi, mean lo,
        // scale, shift)
        float[] co = Scratch.floats(4 * cf);
        double inv = 1.0 / n;
        for (int j = 0; j < c; j++) {
            double s1 = 0, s2 = 0;
            for (int p = 0; p < parts; p++) {
                s1 += acc[p * stride + j];
                s2 += acc[p * stride + cd + j];
            }
            double m1 = s1 * inv;
            double var = Math.max(0.0, s2 * inv - m1 * m1);
            double mean = acc[shiftOff + j] + m1;
            double invStd = 1.0 / Math.sqrt(var + eps);
            float meanF = (float) mean;
            float invStdF = (float) invStd;
            if (saveMean != null) {
                saveMean.data()[saveMean.offset() + j] = meanF;
            }
            if (saveInvStd != null) {
                saveInvStd.data()[saveInvStd.offset() + j] = invStdF;
            }
            if (runMean != null) {
                int rm = runMean.offset() + j, rv = runVar.offset() + j;
                float[] rmd = runMean.data(), rvd = runVar.data();
                double f = averageFactor;
                rmd[rm] = (float) ((1 - f) * rmd[rm] + f * mean);
                rvd[rv] = (float) ((1 - f) * rvd[rv] + f * var * n / (n - 1));
            }
            co[j] = meanF;
            co[cf + j] = (float) (mean - meanF);   // the mean to ~2^-48 relative, as hi + lo
            co[2 * cf + j] = (float) (gamma == null ? invStd : invStd * gamma.data()[gamma.offset() + j]);
            co[3 * cf + j] = beta == null ? 0f : beta.data()[beta.offset() + j];
        }
        normalize(x, y, co, cf, parts);
    }

    /** Rows per block of the statistics passes: a block's channel groups are re-read from cache. */
    private static final int ROW_BLOCK = 64;

    /**
     * Per channel over rows [r0, r1): {@code acc[s1 + j] += x - k_j}, {@code acc[s2 + j] += (x - k_j)^2}
     * with {@code k_j = acc[sh + j]}. Tiled: for a block of rows, groups of four double vectors of
     * channels keep their sums in registers while the rows stream by (no store-to-load chain through
     * the accumulators), then add them into {@code acc} once per block.
     */
    private static void sumShifted(float[] xd, int xo, int ld, int r0, int r1, int c, double[] acc, int s1, int s2,
                                   int sh) {
        int full = c - c % DL;              // channels covered by whole vectors
        int grouped = full - full % (4 * DL);
        for (int b0 = r0; b0 < r1; b0 += ROW_BLOCK) {
            int b1 = Math.min(r1, b0 + ROW_BLOCK);
            for (int j = 0; j < grouped; j += 4 * DL) {
                DoubleVector k0 = DoubleVector.fromArray(D, acc, sh + j), k1 = DoubleVector.fromArray(D, acc, sh + j + DL);
                DoubleVector k2 = DoubleVector.fromArray(D, acc, sh + j + 2 * DL);
                DoubleVector k3 = DoubleVector.fromArray(D, acc, sh + j + 3 * DL);
                DoubleVector a0 = DoubleVector.zero(D), a1 = a0, a2 = a0, a3 = a0, q0 = a0, q1 = a0, q2 = a0, q3 = a0;
                for (int r = b0; r < b1; r++) {
                    int o = xo + r * ld + j;
                    DoubleVector v0 = toDouble(FloatVector.fromArray(FH, xd, o)).sub(k0);
                    DoubleVector v1 = toDouble(FloatVector.fromArray(FH, xd, o + DL)).sub(k1);
                    DoubleVector v2 = toDouble(FloatVector.fromArray(FH, xd, o + 2 * DL)).sub(k2);
                    DoubleVector v3 = toDouble(FloatVector.fromArray(FH, xd, o + 3 * DL)).sub(k3);
                    a0 = a0.add(v0);
                    a1 = a1.add(v1);
                    a2 = a2.add(v2);
                    a3 = a3.add(v3);
                    q0 = v0.fma(v0, q0);
                    q1 = v1.fma(v1, q1);
                    q2 = v2.fma(v2, q2);
                    q3 = v3.fma(v3, q3);
                }
                addInto(acc, s1 + j, a0, a1, a2, a3);
                addInto(acc, s2 + j, q0, q1, q2, q3);
            }
            for (int j = grouped; j < full; j += DL) {
                DoubleVector k = DoubleVector.fromArray(D, acc, sh + j);
                DoubleVector a = DoubleVector.zero(D), q = a;
                for (int r = b0; r < b1; r++) {
                    DoubleVector v = toDouble(FloatVector.fromArray(FH, xd, xo + r * ld + j)).sub(k);
                    a = a.add(v);
                    q = v.fma(v, q);
                }
                DoubleVector.fromArray(D, acc, s1 + j).add(a).intoArray(acc, s1 + j);
                DoubleVector.fromArray(D, acc, s2 + j).add(q).intoArray(acc, s2 + j);
            }
            // the last channels one at a time, with the same per-channel operations as a vector lane
            for (int j = full; j < c; j++) {
                double k = acc[sh + j], a = 0, q = 0;
                for (int r = b0; r < b1; r++) {
                    double v = xd[xo + r * ld + j] - k;
                    a += v;
                    q = Math.fma(v, v, q);
                }
                acc[s1 + j] += a;
                acc[s2 + j] += q;
            }
        }
    }

    private static void addInto(double[] acc, int at, DoubleVector v0, DoubleVector v1, DoubleVector v2,
                                DoubleVector v3) {
        DoubleVector.fromArray(D, acc, at).add(v0).intoArray(acc, at);
        DoubleVector.fromArray(D, acc, at + DL).add(v1).intoArray(acc, at + DL);
        DoubleVector.fromArray(D, acc, at + 2 * DL).add(v2).intoArray(acc, at + 2 * DL);
        DoubleVector.fromArray(D, acc, at + 3 * DL).add(v3).intoArray(acc, at + 3 * DL);
    }

    private static DoubleVector toDouble(FloatVector h) {
        return Widen.toDouble(h);
    }

    /**
     * {@code y = ((x - mHi) - mLo) * scale + shift} for every row, in parallel, with per-channel
     * {@code mHi = co[j]}, {@code mLo = co[cf + j]}, {@code scale = co[2cf + j]}, {@code shift =
     * co[3cf + j]}. {@code x - mHi} is exact for x near the mean (Sterbenz), so y is within a few
     * ulp of {@code (x - mean) * scale + shift} even when |mean| is much larger than the spread.
     */
    private static void normalize(Tensor x, Tensor y, float[] co, int cf, int parts) {
        int n = x.rows(), c = x.cols();
        float[] xd = x.data(), yd = y.data();
        int xo = x.offset(), xld = x.ld(), yo = y.offset(), yld = y.ld();
        Parallel.get().run(parts, (p, np) -> {
            int r0 = Parallel.split(n, np, p), r1 = Parallel.split(n, np, p + 1);
            int full = c - c % L;
            for (int r = r0; r < r1; r++) {
                int xr = xo + r * xld, yr = yo + r * yld;
                int j = 0;
                for (; j < full; j += L) {
                    FloatVector.fromArray(F, xd, xr + j).sub(FloatVector.fromArray(F, co, j))
                            .sub(FloatVector.fromArray(F, co, cf + j))
                            .fma(FloatVector.fromArray(F, co, 2 * cf + j), FloatVector.fromArray(F, co, 3 * cf + j))
                            .intoArray(yd, yr + j);
                }
                for (; j < c; j++) { // scalar tail: the vector lane's operations
                    yd[yr + j] = Math.fma(xd[xr + j] - co[j] - co[cf + j], co[2 * cf + j], co[3 * cf + j]);
                }
            }
        });
    }

    // ---- inference forward --------------------------------------------------------------------

    /** See {@link Kernels#batchNormInferenceForward}: {@code y = (x - runMean) / sqrt(runVar + eps) * gamma + beta}. */
    public static void inferenceForward(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, float eps,
                                        Tensor y) {
        String op = "batchNormInferenceForward";
        requireActivation(op, "x", x);
        requireActivation(op, "y", y);
        requireSame(op, "x", x, "y", y);
        int n = x.rows(), c = x.cols();
        requireChannels(op, "gamma", gamma, c, true);
        requireChannels(op, "beta", beta, c, true);
        if (!(gamma != null || beta == null)) {
            throw new IllegalArgumentException(op + ": beta is given without gamma (affine-free takes neither)");
        }
        requireChannels(op, "runMean", runMean, c, false);
        requireChannels(op, "runVar", runVar, c, false);
        requireEps(op, eps);
        int cf = Scratch.roundUp(c, L);
        float[] co = Scratch.floats(4 * cf);
        float[] rm = runMean.data(), rv = runVar.data();
        for (int j = 0; j < c; j++) {
            double invStd = 1.0 / Math.sqrt((double) rv[runVar.offset() + j] + eps);
            co[j] = rm[runMean.offset() + j];
            co[cf + j] = 0f;
            co[2 * cf + j] = (float) (gamma == null ? invStd : invStd * gamma.data()[gamma.offset() + j]);
            co[3 * cf + j] = beta == null ? 0f : beta.data()[beta.offset() + j];
        }
        normalize(x, y, co, cf, Scratch.parts((long) n * c, n, MIN_PER_PART));
    }

    // ---- backward -----------------------------------------------------------------------------

    /**
     * See {@link Kernels#batchNormBackward}. With {@code xc = x - mean}, {@code s = saveInvStd}:
     * {@code dBeta = sum dy}, {@code dGamma = s * sum(dy * xc)} (added to when {@code accumulate}),
     * and {@code dx = gamma * s * (dy - sum(dy)/n - xc * s^2 * sum(dy * xc)/n)} (always overwritten;
     * {@code gamma = 1} when affine-free).
     *
     * <p>One pass accumulates, in double, {@code sum dy}, {@code sum dy (x - m)} and
     * {@code sum (x - m)} with {@code m = saveMean}; the last gives the batch mean's offset from the
     * float-rounded saved mean, {@code delta = mean - m}, and the sums are corrected to the exact
     * batch mean ({@code sum dy xc = sum dy (x - m) - delta sum dy}). So the rounding of the saved
     * mean costs nothing even when |mean| is hundreds of standard deviations (it would otherwise
     * cost ~|mean|/std ulps); the result is the gradient at the batch's exact mean and the saved
     * inverse standard deviation. A second pass writes {@code dx}.
     */
    public static void backward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd, Tensor dx,
                                Tensor dGamma, Tensor dBeta, boolean accumulate) {
        String op = "batchNormBackward";
        requireActivation(op, "x", x);
        requireActivation(op, "dy", dy);
        requireActivation(op, "dx", dx);
        requireSame(op, "x", x, "dy", dy);
        requireSame(op, "x", x, "dx", dx);
        int n = x.rows(), c = x.cols();
        requireChannels(op, "gamma", gamma, c, true);
        requireChannels(op, "saveMean", saveMean, c, false);
        requireChannels(op, "saveInvStd", saveInvStd, c, false);
        requireChannels(op, "dGamma", dGamma, c, true);
        requireChannels(op, "dBeta", dBeta, c, true);
        if (!(gamma != null || (dGamma == null && dBeta == null))) {
            throw new IllegalArgumentException(op + ": dGamma and dBeta must be null when affine-free (gamma null)");
        }

        int cd = Scratch.roundUp(c, DL);
        int cf = Scratch.roundUp(c, L);
        int stride = cd * 3 + 8;                  // per part: sum dy, sum dy*(x-m), sum (x-m), padding
        int parts = Scratch.parts((long) n * c, n, MIN_PER_PART);
        double[] acc = Scratch.doubles(parts * stride + cd);
        int meanOff = parts * stride;
        float[] md = saveMean.data();
        for (int j = 0; j < cd; j++) {
            acc[meanOff + j] = j < c ? md[saveMean.offset() + j] : 0.0;
        }
        float[] xd = x.data(), dyd = dy.data();
        int xo = x.offset(), xld = x.ld(), dyo = dy.offset(), dyld = dy.ld();
        Parallel.get().run(parts, (p, np) -> {
            int base = p * stride;
            Arrays.fill(acc, base, base + 3 * cd, 0.0);
            sumGrad(xd, xo, xld, dyd, dyo, dyld, Parallel.split(n, np, p), Parallel.split(n, np, p + 1), c, acc,
                    base, base + cd, base + 2 * cd, meanOff);
        });

        // dx = dy * a + (((x - mHi) - mLo) * b + k), per channel: a = g s, b = -g s^3 Sxc / n, k = -g s Sdy / n
        float[] co = Scratch.floats(5 * cf);
        float[] sd = saveInvStd.data();
        for (int j = 0; j < c; j++) {
            double sdy = 0, sxm = 0, sx = 0;
            for (int p = 0; p < parts; p++) {
                sdy += acc[p * stride + j];
                sxm += acc[p * stride + cd + j];
                sx += acc[p * stride + 2 * cd + j];
            }
            double delta = sx / n;                // exact batch mean - saved mean
            double sxc = sxm - delta * sdy;        // sum dy * (x - exact mean)
            double s = sd[saveInvStd.offset() + j];
            double g = gamma == null ? 1.0 : gamma.data()[gamma.offset() + j];
            if (dBeta != null) {
                int o = dBeta.offset() + j;
                dBeta.data()[o] = (float) (accumulate ? dBeta.data()[o] + sdy : sdy);
            }
            if (dGamma != null) {
                int o = dGamma.offset() + j;
                dGamma.data()[o] = (float) (accumulate ? dGamma.data()[o] + sxc * s : sxc * s);
            }
            co[j] = md[saveMean.offset() + j];
            co[cf + j] = (float) delta;
            co[2 * cf + j] = (float) (-g * s * s * s * sxc / n);
            co[3 * cf + j] = (float) (-g * s * sdy / n);
            co[4 * cf + j] = (float) (g * s);
        }
        float[] dxd = dx.data();
        int dxo = dx.offset(), dxld = dx.ld();
        Parallel.get().run(parts, (p, np) -> {
            int r0 = Parallel.split(n, np, p), r1 = Parallel.split(n, np, p + 1);
            int full = c - c % L;
            for (int r = r0; r < r1; r++) {
                int xr = xo + r * xld, dr = dyo + r * dyld, or = dxo + r * dxld;
                int j = 0;
                for (; j < full; j += L) {
                    FloatVector xc = FloatVector.fromArray(F, xd, xr + j).sub(FloatVector.fromArray(F, co, j))
                            .sub(FloatVector.fromArray(F, co, cf + j));
                    FloatVector lin = xc.fma(FloatVector.fromArray(F, co, 2 * cf + j),
                            FloatVector.fromArray(F, co, 3 * cf + j));
                    FloatVector.fromArray(F, dyd, dr + j).fma(FloatVector.fromArray(F, co, 4 * cf + j), lin)
                            .intoArray(dxd, or + j);
                }
                for (; j < c; j++) { // scalar tail: the vector lane's operations
                    float lin = Math.fma(xd[xr + j] - co[j] - co[cf + j], co[2 * cf + j], co[3 * cf + j]);
                    dxd[or + j] = Math.fma(dyd[dr + j], co[4 * cf + j], lin);
                }
            }
        });
    }

    /**
     * Per channel over rows [r0, r1), with {@code m = acc[mo + j]}: {@code acc[s1+j] += dy},
     * {@code acc[s2+j] += dy * (x - m)}, {@code acc[s3+j] += x - m}. Tiled like {@link #sumShifted},
     * two double vectors of channels (six sums) at a time.
     */
    private static void sumGrad(float[] xd, int xo, int xld, float[] dyd, int dyo, int dyld, int r0, int r1, int c,
                                double[] acc, int s1, int s2, int s3, int mo) {
        int full = c - c % DL;
        int grouped = full - full % (2 * DL);
        for (int b0 = r0; b0 < r1; b0 += ROW_BLOCK) {
            int b1 = Math.min(r1, b0 + ROW_BLOCK);
            for (int j = 0; j < grouped; j += 2 * DL) {
                DoubleVector m0 = DoubleVector.fromArray(D, acc, mo + j), m1 = DoubleVector.fromArray(D, acc, mo + j + DL);
                DoubleVector g0 = DoubleVector.zero(D), g1 = g0, p0 = g0, p1 = g0, x0 = g0, x1 = g0;
                for (int r = b0; r < b1; r++) {
                    int xr = xo + r * xld + j, dr = dyo + r * dyld + j;
                    DoubleVector d0 = toDouble(FloatVector.fromArray(FH, dyd, dr));
                    DoubleVector d1 = toDouble(FloatVector.fromArray(FH, dyd, dr + DL));
                    DoubleVector c0 = toDouble(FloatVector.fromArray(FH, xd, xr)).sub(m0);
                    DoubleVector c1 = toDouble(FloatVector.fromArray(FH, xd, xr + DL)).sub(m1);
                    g0 = g0.add(d0);
                    g1 = g1.add(d1);
                    p0 = d0.fma(c0, p0);
                    p1 = d1.fma(c1, p1);
                    x0 = x0.add(c0);
                    x1 = x1.add(c1);
                }
                DoubleVector.fromArray(D, acc, s1 + j).add(g0).intoArray(acc, s1 + j);
                DoubleVector.fromArray(D, acc, s1 + j + DL).add(g1).intoArray(acc, s1 + j + DL);
                DoubleVector.fromArray(D, acc, s2 + j).add(p0).intoArray(acc, s2 + j);
                DoubleVector.fromArray(D, acc, s2 + j + DL).add(p1).intoArray(acc, s2 + j + DL);
                DoubleVector.fromArray(D, acc, s3 + j).add(x0).intoArray(acc, s3 + j);
                DoubleVector.fromArray(D, acc, s3 + j + DL).add(x1).intoArray(acc, s3 + j + DL);
            }
            for (int j = grouped; j < full; j += DL) {
                sumGradChunk(xd, xo + j, xld, dyd, dyo + j, dyld, b0, b1, acc, j, s1, s2, s3, mo);
            }
            // the last channels one at a time, with the same per-channel operations as a vector lane
            for (int j = full; j < c; j++) {
                double m = acc[mo + j], g = 0, pr = 0, sx = 0;
                for (int r = b0; r < b1; r++) {
                    double d = dyd[dyo + r * dyld + j];
                    double xc = xd[xo + r * xld + j] - m;
                    g += d;
                    pr = Math.fma(d, xc, pr);
                    sx += xc;
                }
                acc[s1 + j] += g;
                acc[s2 + j] += pr;
                acc[s3 + j] += sx;
            }
        }
    }

    /** One double vector of channels at {@code j} over rows [b0, b1) for {@link #sumGrad}. */
    private static void sumGradChunk(float[] xd, int xo, int xld, float[] dyd, int dyo, int dyld, int b0, int b1,
                                     double[] acc, int j, int s1, int s2, int s3, int mo) {
        DoubleVector m = DoubleVector.fromArray(D, acc, mo + j);
        DoubleVector g = DoubleVector.zero(D), pr = g, sx = g;
        for (int r = b0; r < b1; r++) {
            DoubleVector d = toDouble(FloatVector.fromArray(FH, dyd, dyo + r * dyld));
            DoubleVector xc = toDouble(FloatVector.fromArray(FH, xd, xo + r * xld)).sub(m);
            g = g.add(d);
            pr = d.fma(xc, pr);
            sx = sx.add(xc);
        }
        DoubleVector.fromArray(D, acc, s1 + j).add(g).intoArray(acc, s1 + j);
        DoubleVector.fromArray(D, acc, s2 + j).add(pr).intoArray(acc, s2 + j);
        DoubleVector.fromArray(D, acc, s3 + j).add(sx).intoArray(acc, s3 + j);
    }
}
