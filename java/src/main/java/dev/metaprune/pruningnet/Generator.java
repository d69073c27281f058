package dev.metaprune.pruningnet;

import static dev.metaprune.kernels.Vec.F;
import static dev.metaprune.kernels.Vec.L;

import dev.metaprune.kernels.Parallel;
import dev.metaprune.tensor.Tensor;
import java.util.Arrays;
import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;

/**
 * One PruningNet weight generator: {@code FC(enc -> hidden) -> ReLU -> FC(hidden -> outMax * inMax * kh * kw)},
 * whose output, viewed as a {@code [outMax, inMax, kh, kw]} convolution weight, is cropped to
 * {@code [:co, :ci]} (MetaPruning, Liu et al. 2019; the official code builds the full weight and
 * slices it).
 *
 * <p>What is hand-tuned here, and why it is exact:
 * <ul>
 *   <li><b>Only the crop is generated.</b> Row {@code r} of the second FC produces weight element
 *       {@code r}; the crop is {@code co} runs of {@code ci * kh * kw} contiguous rows, so a
 *       forward pass reads just those rows of {@code W2} ({@code co * ci / (outMax * inMax)} of the
 *       memory traffic of the full generation).</li>
 *   <li><b>The backward pass is fused with the SGD update.</b> For each crop row, one pass reads
 *       {@code W2[r]} and its momentum, accumulates {@code dh += dy[r] W2[r]} with the old weights,
 *       forms the gradient {@code dy[r] h + wd W2[r]} and applies momentum and the step — the
 *       {@code [rows, hidden]} gradient is never materialised.</li>
 *   <li><b>Untouched rows are updated lazily and exactly.</b> In PyTorch a row outside the crop
 *       has zero gradient but still moves (momentum, weight decay). {@link LazySgd} keeps the
 *       product of the per-step 2x2 update matrices; a block of rows catches up the steps it
 *       missed when it is next read, or at {@link #flush()} (checkpoints).</li>
 * </ul>
 * The SGD rule is PyTorch's (dampening 0): {@code g = grad + wd p; buf = m buf + g;
 * p -= lr (nesterov ? g + m buf : buf)}, applied to every parameter (the official code puts the
 * generators' weights and biases in the weight-decay group).
 *
 * <p>Not thread-safe; parallel inside each call. A training step is {@link #forward} then
 * {@link #backwardAndStep}; evaluation calls {@link #forward} only.
 */
public final class Generator {
    private final int encDim;
    private final int hidden;
    private final int outMax;
    private final int inMax;
    private final int kk;
    private final int rows;

    final float[] w1;
    final float[] b1;
    final float[] w2;
    final float[] b2;
    final float[] mw1;
    final float[] mb1;
    final float[] mw2;
    final float[] mb2;

    /** Per (o, i) block of kk rows: the step after which its rows were last written. */
    private final int[] last;
    private final LazySgd lazyW;
    private final LazySgd lazyB;
    private final float momentum;
    private final float weightDecay;
    private final boolean nesterov;

    // the step in flight
    private final float[] enc;
    private final float[] pre;
    private final float[] h;
    private int co;
    private int ci;
    private boolean forwardDone;
    private final float[][] dhParts;
    private final float[][] laneParts;

    /**
     * @param encDim      length of the encoding (the layer's scales)
     * @param hidden      hidden units (32 or 64 in the official code)
     * @param outMax      output channels of the widest conv
     * @param inMax       input channels per group of the widest conv (1 for depthwise)
     * @param kh          kernel height
     * @param kw          kernel width
     * @param momentum    SGD momentum (0.9)
     * @param weightDecay weight decay for all generator parameters
     * @param nesterov    Nesterov momentum
     */
    public Generator(int encDim, int hidden, int outMax, int inMax, int kh, int kw, float momentum,
                     float weightDecay, boolean nesterov) {
        if (encDim <= 0 || hidden <= 0 || outMax <= 0 || inMax <= 0 || kh <= 0 || kw <= 0) {
            throw new IllegalArgumentException("generator sizes must be positive: enc " + encDim + ", hidden "
                    + hidden + ", weight [" + outMax + ", " + inMax + ", " + kh + ", " + kw + "]");
        }
        long r = (long) outMax * inMax * kh * kw;
        if (r * hidden > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("generator too large for one array: " + r + " x " + hidden);
        }
        if (momentum < 0 || weightDecay < 0) {
            throw new IllegalArgumentException("momentum and weight decay must be >= 0");
        }
        this.encDim = encDim;
        this.hidden = hidden;
        this.outMax = outMax;
        this.inMax = inMax;
        this.kk = kh * kw;
        this.rows = (int) r;
        this.momentum = momentum;
        this.weightDecay = weightDecay;
        this.nesterov = nesterov;
        w1 = new float[hidden * encDim];
        b1 = new float[hidden];
        w2 = new float[rows * hidden];
        b2 = new float[rows];
        mw1 = new float[w1.length];
        mb1 = new float[hidden];
        mw2 = new float[w2.length];
        mb2 = new float[rows];
        last = new int[outMax * inMax];
        Arrays.fill(last, -1);
        lazyW = new LazySgd(momentum, weightDecay, nesterov, last.length);
        lazyB = new LazySgd(momentum, weightDecay, nesterov, last.length);
        enc = new float[encDim];
        pre = new float[hidden];
        h = new float[hidden];
        dhParts = new float[Math.max(1, Parallel.threadCount())][hidden];
        laneParts = new float[dhParts.length][dev.metaprune.kernels.Vec.L];
    }

    /** PyTorch's default {@code nn.Linear} initialisation (uniform +-1/sqrt(fan_in)), seeded. */
    public Generator initDefault(long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float bound1 = (float) (1 / Math.sqrt(encDim)), bound2 = (float) (1 / Math.sqrt(hidden));
        fill(w1, rnd, bound1);
        fill(b1, rnd, bound1);
        fill(w2, rnd, bound2);
        fill(b2, rnd, bound2);
        return this;
    }

    private static void fill(float[] a, SplittableRandom r, float bound) {
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) ((r.nextDouble() * 2 - 1) * bound);
        }
    }

    public int encDim() {
        return encDim;
    }

    public int hidden() {
        return hidden;
    }

    public int outMax() {
        return outMax;
    }

    public int inMax() {
        return inMax;
    }

    public int kernelArea() {
        return kk;
    }

    /** Parameter count (both FCs, weights and biases). */
    public long parameterCount() {
        return (long) w1.length + b1.length + w2.length + b2.length;
    }

    /** The training step in flight (number of completed {@link #backwardAndStep} calls). */
    public int step() {
        return lazyW.step();
    }

    /**
     * Generates the crop {@code out[:co, :ci, :, :]} of the {@code [outMax, inMax, kh, kw]} weight
     * for this encoding. Elements outside the crop are not written.
     */
    public void forward(float[] encoding, int co, int ci, Tensor out) {
        if (encoding.length != encDim) {
            throw new IllegalArgumentException("encoding has " + encoding.length + " values, the generator takes "
                    + encDim);
        }
        if (co <= 0 || co > outMax || ci <= 0 || ci > inMax) {
            throw new IllegalArgumentException("crop [" + co + ", " + ci + "] is outside the generator's weight ["
                    + outMax + ", " + inMax + "]");
        }
        checkOut(out);
        System.arraycopy(encoding, 0, enc, 0, encDim);
        for (int j = 0; j < hidden; j++) {
            float s = b1[j];
            for (int e = 0; e < encDim; e++) {
                s += w1[j * encDim + e] * enc[e];
            }
            pre[j] = s;
            h[j] = Math.max(s, 0f);
        }
        this.co = co;
        this.ci = ci;
        catchUp(co, ci);
        float[] o = out.data();
        int base = out.offset();
        int parts = parts(co, ci);
        Parallel.get().run(parts, (p, n) -> {
            float[] lanes = laneParts[p];
            int o0 = Parallel.split(co, n, p), o1 = Parallel.split(co, n, p + 1);
            for (int oc = o0; oc < o1; oc++) {
                int r0 = oc * inMax * kk, r1 = r0 + ci * kk;
                for (int r = r0; r < r1; r++) {
                    o[base + r] = dotH(r, lanes) + b2[r];
                }
            }
        });
        forwardDone = true;
    }

    private int parts(int co, int ci) {
        long work = (long) co * ci * kk * hidden;
        return work < 65_536 ? 1 : Math.min(Parallel.threadCount(), co);
    }

    private void checkOut(Tensor out) {
        if (out.rank() != 4 || out.dim(0) != outMax || out.dim(1) != inMax || out.dim(2) * out.dim(3) != kk
                || !out.isContiguous()) {
            throw new IllegalArgumentException("generator output must be a contiguous [" + outMax + ", " + inMax
                    + ", kh, kw] tensor with kh*kw = " + kk + ", got " + out);
        }
    }

    private float dotH(int r, float[] lanes) {
        int off = r * hidden;
        int j = 0;
        FloatVector acc = FloatVector.zero(F);
        for (; j <= hidden - L; j += L) {
            acc = FloatVector.fromArray(F, w2, off + j).fma(FloatVector.fromArray(F, h, j), acc);
        }
        float s = dev.metaprune.kernels.Vec.sumLanes(acc, lanes);
        for (; j < hidden; j++) {
            s += w2[off + j] * h[j];
        }
        return s;
    }

    /** Brings the blocks of the crop up to date (the steps they missed). */
    private void catchUp(int co, int ci) {
        int now = lazyW.step() - 1;
        boolean any = false;
        for (int oc = 0; oc < co && !any; oc++) {
            for (int ic = 0; ic < ci; ic++) {
                if (last[oc * inMax + ic] != now) {
                    any = true;
                    break;
                }
            }
        }
        if (!any) {
            return;
        }
        Parallel.get().run(parts(co, ci), (p, n) -> {
            int o0 = Parallel.split(co, n, p), o1 = Parallel.split(co, n, p + 1);
            for (int oc = o0; oc < o1; oc++) {
                for (int ic = 0; ic < ci; ic++) {
                    int s = last[oc * inMax + ic];
                    if (s != now) {
                        applyBlock(oc * inMax + ic, lazyW.catchUp(s), lazyB.catchUp(s));
                    }
                }
            }
        });
        for (int oc = 0; oc < co; oc++) {
            for (int ic = 0; ic < ci; ic++) {
                int b = oc * inMax + ic;
                if (last[b] != now) {
                    lazyW.moved(last[b], now, 1);
                    lazyB.moved(last[b], now, 1);
                    last[b] = now;
                }
            }
        }
    }

    private void applyBlock(int block, double[] pw, double[] pb) {
        int r0 = block * kk;
        if (pw != null) {
            float a = (float) pw[0], b = (float) pw[1], c = (float) pw[2], d = (float) pw[3];
            int from = r0 * hidden, to = (r0 + kk) * hidden;
            int i = from;
            for (; i <= to - L; i += L) {
                FloatVector w = FloatVector.fromArray(F, w2, i), m = FloatVector.fromArray(F, mw2, i);
                w.mul(a).add(m.mul(b)).intoArray(w2, i);
                w.mul(c).add(m.mul(d)).intoArray(mw2, i);
            }
            for (; i < to; i++) {
                float w = w2[i], m = mw2[i];
                w2[i] = a * w + b * m;
                mw2[i] = c * w + d * m;
            }
        }
        if (pb != null) {
            for (int r = r0; r < r0 + kk; r++) {
                double w = b2[r], m = mb2[r];
                b2[r] = (float) (pb[0] * w + pb[1] * m);
                mb2[r] = (float) (pb[2] * w + pb[3] * m);
            }
        }
    }

    /**
     * Backward of the last {@link #forward} given the gradient of the loss with respect to the
     * generated crop ({@code dOut[:co, :ci]}, same layout as the output), fused with one SGD step
     * of learning rate {@code lr} on every parameter of this generator.
     */
    public void backwardAndStep(Tensor dOut, float lr) {
        if (!forwardDone) {
            throw new IllegalStateException("backwardAndStep needs a forward pass first");
        }
        checkOut(dOut);
        forwardDone = false;
        int co = this.co, ci = this.ci;
        float[] g = dOut.data();
        int base = dOut.offset();
        int parts = parts(co, ci);
        for (int p = 0; p < parts; p++) {
            Arrays.fill(dhParts[p], 0f);
        }
        float m = momentum, wd = weightDecay;
        boolean nest = nesterov;
        Parallel.get().run(parts, (p, n) -> {
            float[] dh = dhParts[p];
            int o0 = Parallel.split(co, n, p), o1 = Parallel.split(co, n, p + 1);
            for (int oc = o0; oc < o1; oc++) {
                int r0 = oc * inMax * kk, r1 = r0 + ci * kk;
                for (int r = r0; r < r1; r++) {
                    float gr = g[base + r];
                    updateRow(r, gr, dh, lr, m, wd, nest);
                    float gb = gr + wd * b2[r];
                    float buf = m * mb2[r] + gb;
                    mb2[r] = buf;
                    b2[r] -= lr * (nest ? gb + m * buf : buf);
                }
            }
        });
        int now = lazyW.step();
        for (int oc = 0; oc < co; oc++) {
            for (int ic = 0; ic < ci; ic++) {
                int b = oc * inMax + ic;
                lazyW.moved(last[b], now, 1);
                lazyB.moved(last[b], now, 1);
                last[b] = now;
            }
        }
        // first FC: dense
        for (int j = 0; j < hidden; j++) {
            float dh = 0f;
            for (int p = 0; p < parts; p++) {
                dh += dhParts[p][j];
            }
            float dpre = pre[j] > 0f ? dh : 0f;
            for (int e = 0; e < encDim; e++) {
                int idx = j * encDim + e;
                float gw = dpre * enc[e] + wd * w1[idx];
                float buf = m * mw1[idx] + gw;
                mw1[idx] = buf;
                w1[idx] -= lr * (nest ? gw + m * buf : buf);
            }
            float gb = dpre + wd * b1[j];
            float buf = m * mb1[j] + gb;
            mb1[j] = buf;
            b1[j] -= lr * (nest ? gb + m * buf : buf);
        }
        lazyW.endStep(lr);
        lazyB.endStep(lr);
    }

    /** One row of W2: dh += g W2[r] (old weights), then the SGD update with gradient g h + wd W2[r]. */
    private void updateRow(int r, float gr, float[] dh, float lr, float m, float wd, boolean nest) {
        int off = r * hidden;
        FloatVector vg = FloatVector.broadcast(F, gr);
        int j = 0;
        for (; j <= hidden - L; j += L) {
            FloatVector w = FloatVector.fromArray(F, w2, off + j);
            FloatVector hv = FloatVector.fromArray(F, h, j);
            FloatVector.fromArray(F, dh, j).add(w.mul(vg)).intoArray(dh, j);
            FloatVector grad = hv.mul(vg).add(w.mul(wd));
            FloatVector buf = FloatVector.fromArray(F, mw2, off + j).mul(m).add(grad);
            buf.intoArray(mw2, off + j);
            FloatVector step = nest ? grad.add(buf.mul(m)) : buf;
            w.sub(step.mul(lr)).intoArray(w2, off + j);
        }
        for (; j < hidden; j++) {
            float w = w2[off + j];
            dh[j] += gr * w;
            float grad = gr * h[j] + wd * w;
            float buf = m * mw2[off + j] + grad;
            mw2[off + j] = buf;
            w2[off + j] = w - lr * (nest ? grad + m * buf : buf);
        }
    }

    /**
     * Generates the crop like {@link #forward} but without touching the generator's state, so that
     * several threads may generate at once (the search's workers). Every row must be up to date: call
     * {@link #flush()} after training (a restored checkpoint is up to date); otherwise
     * {@link IllegalStateException}.
     */
    public void generate(float[] encoding, int co, int ci, Tensor out) {
        if (encoding.length != encDim) {
            throw new IllegalArgumentException("encoding has " + encoding.length + " values, the generator takes "
                    + encDim);
        }
        if (co <= 0 || co > outMax || ci <= 0 || ci > inMax) {
            throw new IllegalArgumentException("crop [" + co + ", " + ci + "] is outside the generator's weight ["
                    + outMax + ", " + inMax + "]");
        }
        checkOut(out);
        int now = lazyW.step() - 1;
        for (int b : last) {
            if (b != now) {
                throw new IllegalStateException("generator rows are not up to date (lazy momentum pending): flush() "
                        + "before generating concurrently");
            }
        }
        float[] hv = new float[hidden];
        for (int j = 0; j < hidden; j++) {
            float s = b1[j];
            for (int e = 0; e < encDim; e++) {
                s += w1[j * encDim + e] * encoding[e];
            }
            hv[j] = Math.max(s, 0f);
        }
        float[] lanes = new float[dev.metaprune.kernels.Vec.L];
        float[] o = out.data();
        int base = out.offset();
        for (int oc = 0; oc < co; oc++) {
            int r0 = oc * inMax * kk, r1 = r0 + ci * kk;
            for (int r = r0; r < r1; r++) {
                int off = r * hidden;
                int j = 0;
                FloatVector acc = FloatVector.zero(F);
                for (; j <= hidden - L; j += L) {
                    acc = FloatVector.fromArray(F, w2, off + j).fma(FloatVector.fromArray(F, hv, j), acc);
                }
                float sum = dev.metaprune.kernels.Vec.sumLanes(acc, lanes);
                for (; j < hidden; j++) {
                    sum += w2[off + j] * hv[j];
                }
                o[base + r] = sum + b2[r];
            }
        }
    }

    /** Brings every row up to date (before a checkpoint is written or weights are exported). */
    public void flush() {
        int now = lazyW.step() - 1;
        for (int b = 0; b < last.length; b++) {
            if (last[b] != now) {
                applyBlock(b, lazyW.catchUp(last[b]), lazyB.catchUp(last[b]));
                lazyW.moved(last[b], now, 1);
                lazyB.moved(last[b], now, 1);
                last[b] = now;
            }
        }
    }

    /** Parameter and momentum arrays by name (after {@link #flush()}), for checkpoints. */
    public java.util.Map<String, float[]> state() {
        flush();
        java.util.Map<String, float[]> m = new java.util.LinkedHashMap<>();
        m.put("fc1.weight", w1);
        m.put("fc1.bias", b1);
        m.put("fc2.weight", w2);
        m.put("fc2.bias", b2);
        m.put("fc1.weight.momentum", mw1);
        m.put("fc1.bias.momentum", mb1);
        m.put("fc2.weight.momentum", mw2);
        m.put("fc2.bias.momentum", mb2);
        return m;
    }

    /** Restores the step counter after the arrays of {@link #state()} were overwritten from a checkpoint. */
    public void restoredAt(int step) {
        Arrays.fill(last, step - 1);
        lazyW.resetAt(step, last.length);
        lazyB.resetAt(step, last.length);
        forwardDone = false;
    }
}
