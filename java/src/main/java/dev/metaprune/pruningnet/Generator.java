package dev.metaprune.pruningnet;

import static dev.metaprune.kernels.Vec.F;
import static dev.metaprune.kernels.Vec.L;

import dev.metaprune.kernels.Kernels;
import dev.metaprune.kernels.Parallel;
import dev.metaprune.tensor.Tensor;
import java.util.Arrays;
import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;

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
 *       missed when it is next read, or at {@link #flush()} (checkpoints). The catch-up is fused
 *       into the forward pass, a cache-sized chunk of blocks at a time (caught up, then read from
 *       cache for the generation), and its bookkeeping is O(1) per run of blocks (array counters
 *       per live step, no per-block map updates).</li>
 *   <li><b>No horizontal sum per row.</b> The forward pass computes {@code L} rows at a time (one
 *       vector of partial products per row), then reduces the {@code L} vectors to one vector of
 *       {@code L} row sums with a transposing butterfly (blend + lane swap + add per pair, log2 L
 *       stages). Rows outside whole groups use the same pairwise order in scalar code, so a
 *       row's value does not depend on its group, the crop or the thread count.</li>
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
    /** The pending products of the lazy update (weights and biases share them: same rule, same steps). */
    private final LazySgd lazy;
    private final float momentum;
    private final float weightDecay;
    private final boolean nesterov;
    /** No momentum buffers, no training: weights are only generated (a search, an evaluation). */
    private final boolean frozen;

    // the step in flight
    private final float[] enc;
    private final float[] pre;
    private final float[] h;
    private int co;
    private int ci;
    private boolean forwardDone;
    /** Host steps left rows behind (lazy momentum pending): a device step flushes them first. */
    private boolean lazyPending;
    /** Device steps ran since {@link #last} was last written: every block is current as of {@code step() - 1}. */
    private boolean lastStale;
    /** The device path's tensors over this generator's arrays (made on first use). */
    private DeviceSide device;
    /** The encoding of the last {@link #forwardOn}, where the backend keeps it. */
    private Tensor encOn;
    /** The backend whose copies of this generator's arrays a {@link #backwardAndStepOn} made newer (else null). */
    private Kernels trainedOn;
    /** Per-part scratch of the parallel loops, grown with the thread count. */
    private Part[] partScratch = new Part[0];

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
        this(encDim, hidden, outMax, inMax, kh, kw, momentum, weightDecay, nesterov, true);
    }

    /**
     * As above; with {@code trainable} false the generator keeps no momentum buffers (half the
     * memory), {@link #state()} holds the parameters only, and it can generate but not train.
     */
    public Generator(int encDim, int hidden, int outMax, int inMax, int kh, int kw, float momentum,
                     float weightDecay, boolean nesterov, boolean trainable) {
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
        this.frozen = !trainable;
        mw1 = new float[frozen ? 0 : w1.length];
        mb1 = new float[frozen ? 0 : hidden];
        mw2 = new float[frozen ? 0 : w2.length];
        mb2 = new float[frozen ? 0 : rows];
        last = new int[outMax * inMax];
        Arrays.fill(last, -1);
        lazy = new LazySgd(momentum, weightDecay, nesterov, last.length);
        enc = new float[encDim];
        pre = new float[hidden];
        h = new float[hidden];
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
        return lazy.step();
    }


    /** Blocks caught up and generated per chunk in the forward pass (their rows stay in cache between the two). */
    private static final int CHUNK_BLOCKS = 64;
    /** Butterfly stages: stage s pairs lanes {@code i} and {@code i ^ (L >> (s + 1))}. */
    private static final int STAGES = Integer.numberOfTrailingZeros(L);
    /** Per stage: the lanes {@code i} with bit {@code L >> (s + 1)} set. */
    private static final VectorMask<Float>[] HIGH;
    /** Per stage: the permutation {@code i -> i ^ (L >> (s + 1))}. */
    private static final VectorShuffle<Float>[] SWAP;
    /** Bit reversal of a lane index: the row whose sum the butterfly leaves in lane {@code i}. */
    private static final int[] REV = new int[L];

    static {
        if (Integer.bitCount(L) != 1) {
            throw new AssertionError("vector lane count " + L + " is not a power of two");
        }
        @SuppressWarnings("unchecked")
        VectorMask<Float>[] high = new VectorMask[STAGES];
        @SuppressWarnings("unchecked")
        VectorShuffle<Float>[] swap = new VectorShuffle[STAGES];
        for (int s = 0; s < STAGES; s++) {
            int w = L >> (s + 1);
            boolean[] bits = new boolean[L];
            int[] idx = new int[L];
            for (int i = 0; i < L; i++) {
                bits[i] = (i & w) != 0;
                idx[i] = i ^ w;
            }
            high[s] = VectorMask.fromArray(F, bits, 0);
            swap[s] = VectorShuffle.fromArray(F, idx, 0);
        }
        HIGH = high;
        SWAP = swap;
        for (int i = 0; i < L; i++) {
            REV[i] = Integer.reverse(i) >>> (32 - STAGES) & (L - 1);
        }
    }

    /** Scratch of one part of a parallel loop. */
    private static final class Part {
        final float[] acc;
        final float[] lanes = new float[L];
        final float[] dh;
        int[] tally = new int[16];

        Part(int hidden) {
            acc = new float[L * L];
            dh = new float[hidden];
        }

        /** Zeroed per-slot counters for {@code slots} live steps. */
        int[] tally(int slots) {
            if (tally.length < slots) {
                tally = new int[Math.max(slots, tally.length * 2)];
            } else {
                Arrays.fill(tally, 0, slots, 0);
            }
            return tally;
        }
    }

    private Part[] scratch(int parts) {
        if (partScratch.length < parts) {
            Part[] p = Arrays.copyOf(partScratch, parts);
            for (int i = partScratch.length; i < parts; i++) {
                p[i] = new Part(hidden);
            }
            partScratch = p;
        }
        return partScratch;
    }

    /**
     * Generates the crop {@code out[:co, :ci, :, :]} of the {@code [outMax, inMax, kh, kw]} weight
     * for this encoding. Elements outside the crop are not written. Rows of the crop that missed
     * steps are brought up to date first (exactly; see {@link LazySgd}).
     */
    public void forward(float[] encoding, int co, int ci, Tensor out) {
        if (frozen) {
            generate(encoding, co, ci, out); // every row is current: nothing to catch up
            return;
        }
        if (encoding.length != encDim) {
            throw new IllegalArgumentException("encoding has " + encoding.length + " values, the generator takes "
                    + encDim);
        }
        if (co <= 0 || co > outMax || ci <= 0 || ci > inMax) {
            throw new IllegalArgumentException("crop [" + co + ", " + ci + "] is outside the generator's weight ["
                    + outMax + ", " + inMax + "]");
        }
        checkOut(out);
        pullFromDevice();
        syncLast();
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
        int current = lazy.step() - 1;
        int currentSlot = lazy.ensure(current);
        int slots = lazy.slots();
        float[] o = out.data();
        int base = out.offset();
        int parts = parts(co, ci);
        Part[] ps = scratch(parts);
        for (int p = 0; p < parts; p++) {
            ps[p].tally(slots);
        }
        Parallel.get().run(parts, (p, n) -> {
            Part s = ps[p];
            int o0 = Parallel.split(co, n, p), o1 = Parallel.split(co, n, p + 1);
            if (ci == inMax) {
                generate(o0 * inMax, o1 * inMax, current, o, base, s);
            } else {
                for (int oc = o0; oc < o1; oc++) {
                    generate(oc * inMax, oc * inMax + ci, current, o, base, s);
                }
            }
        });
        mergeTallies(ps, parts, slots, currentSlot);
        forwardDone = true;
    }

    /** Blocks that the parts caught up leave their slots for the current one. */
    private void mergeTallies(Part[] ps, int parts, int slots, int currentSlot) {
        long total = 0;
        for (int slot = 0; slot < slots; slot++) {
            long t = 0;
            for (int p = 0; p < parts; p++) {
                t += ps[p].tally[slot];
            }
            if (t > 0) {
                lazy.release(slot, t);
                total += t;
            }
        }
        lazy.acquire(currentSlot, total);
    }

    /** Catches up and generates the contiguous blocks {@code [b0, b1)}, a chunk at a time. */
    private void generate(int b0, int b1, int current, float[] o, int base, Part s) {
        for (int c0 = b0; c0 < b1; c0 += CHUNK_BLOCKS) {
            int c1 = Math.min(b1, c0 + CHUNK_BLOCKS);
            catchUp(c0, c1, current, s.tally);
            dotRows(c0 * kk, c1 * kk, o, base, s, h);
        }
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

    /** {@code o[base + r] = W2[r] . h + b2[r]} for rows {@code [r0, r1)}: butterfly groups of L rows, then single rows. */
    private void dotRows(int r0, int r1, float[] o, int base, Part s, float[] h) {
        int r = r0;
        int hd = hidden;
        if (hd % L == 0) {
            float[] acc = s.acc;
            for (; r <= r1 - L; r += L) {
                for (int i = 0; i < L; i++) {
                    int off = (r + i) * hd;
                    FloatVector a = FloatVector.fromArray(F, w2, off).mul(FloatVector.fromArray(F, h, 0));
                    for (int j = L; j < hd; j += L) {
                        a = FloatVector.fromArray(F, w2, off + j).fma(FloatVector.fromArray(F, h, j), a);
                    }
                    a.intoArray(acc, REV[i] * L);
                }
                for (int st = 0, pairs = L >> 1; st < STAGES; st++, pairs >>= 1) {
                    VectorMask<Float> high = HIGH[st];
                    VectorShuffle<Float> swap = SWAP[st];
                    for (int q = 0; q < pairs; q++) {
                        FloatVector a = FloatVector.fromArray(F, acc, 2 * q * L);
                        FloatVector b = FloatVector.fromArray(F, acc, (2 * q + 1) * L);
                        a.blend(b, high).add(b.blend(a, high).rearrange(swap)).intoArray(acc, q * L);
                    }
                }
                FloatVector.fromArray(F, acc, 0).add(FloatVector.fromArray(F, b2, r)).intoArray(o, base + r);
            }
        }
        for (; r < r1; r++) {
            o[base + r] = dotRow(r, s.lanes, h) + b2[r];
        }
    }

    /**
     * One row's dot product: the whole vectors of h reduced in the butterfly's pairwise order
     * (bit-identical to the row's lane in a group), then the columns past them in order.
     */
    private float dotRow(int r, float[] t, float[] h) {
        int off = r * hidden;
        int hv = hidden - hidden % L;
        float s = 0f;
        if (hv > 0) {
            FloatVector a = FloatVector.fromArray(F, w2, off).mul(FloatVector.fromArray(F, h, 0));
            for (int j = L; j < hv; j += L) {
                a = FloatVector.fromArray(F, w2, off + j).fma(FloatVector.fromArray(F, h, j), a);
            }
            a.intoArray(t, 0);
            for (int w = L >> 1; w >= 1; w >>= 1) {
                for (int l = 0; l < w; l++) {
                    t[l] = t[l] + t[l + w];
                }
            }
            s = t[0];
        }
        for (int j = hv; j < hidden; j++) {
            s += w2[off + j] * h[j];
        }
        return s;
    }

    /**
     * Brings the blocks {@code [b0, b1)} up to date (to just after step {@code current}), a run of
     * blocks with the same last-written step at a time; counts the blocks moved per slot.
     */
    private void catchUp(int b0, int b1, int current, int[] tally) {
        int b = b0;
        while (b < b1) {
            int s = last[b];
            if (s == current) {
                b++;
                continue;
            }
            int e = b + 1;
            while (e < b1 && last[e] == s) {
                e++;
            }
            int slot = lazy.slotOf(s);
            applyProduct(slot, b * kk, e * kk);
            tally[slot] += e - b;
            Arrays.fill(last, b, e, current);
            b = e;
        }
    }

    /** {@code (w, buf) <- P (w, buf)} for rows {@code [r0, r1)} of W2 and b2, P the slot's product. */
    private void applyProduct(int slot, int r0, int r1) {
        double pa = lazy.product(slot, 0), pb = lazy.product(slot, 1);
        double pc = lazy.product(slot, 2), pd = lazy.product(slot, 3);
        float a = (float) pa, b = (float) pb, c = (float) pc, d = (float) pd;
        int from = r0 * hidden, to = r1 * hidden;
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
        for (int r = r0; r < r1; r++) {
            double w = b2[r], m = mb2[r];
            b2[r] = (float) (pa * w + pb * m);
            mb2[r] = (float) (pc * w + pd * m);
        }
    }

    /**
     * Backward of the last {@link #forward} given the gradient of the loss with respect to the
     * generated crop ({@code dOut[:co, :ci]}, same layout as the output), fused with one SGD step
     * of learning rate {@code lr} on every parameter of this generator.
     */
    public void backwardAndStep(Tensor dOut, float lr) {
        if (frozen) {
            throw new IllegalStateException("this generator was built without momentum buffers (trainable = false)");
        }
        if (!forwardDone) {
            throw new IllegalStateException("backwardAndStep needs a forward pass first");
        }
        checkOut(dOut);
        forwardDone = false;
        int co = this.co, ci = this.ci;
        float[] g = dOut.data();
        int base = dOut.offset();
        int parts = parts(co, ci);
        Part[] ps = scratch(parts);
        for (int p = 0; p < parts; p++) {
            Arrays.fill(ps[p].dh, 0f);
        }
        float m = momentum, wd = weightDecay;
        boolean nest = nesterov;
        int now = lazy.step();
        Parallel.get().run(parts, (p, n) -> {
            float[] dh = ps[p].dh;
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
                // the forward pass caught every block of the crop up to step now - 1
                Arrays.fill(last, oc * inMax, oc * inMax + ci, now);
            }
        });
        lazy.moved(now - 1, now, (long) co * ci);
        // first FC: dense
        for (int j = 0; j < hidden; j++) {
            float dh = 0f;
            for (int p = 0; p < parts; p++) {
                dh += ps[p].dh[j];
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
        lazy.endStep(lr);
        lazyPending = true;
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
        pullFromDevice();
        requireCurrent();
        float[] hv = new float[hidden];
        for (int j = 0; j < hidden; j++) {
            float s = b1[j];
            for (int e = 0; e < encDim; e++) {
                s += w1[j * encDim + e] * encoding[e];
            }
            hv[j] = Math.max(s, 0f);
        }
        Part part = new Part(hidden);
        float[] o = out.data();
        int base = out.offset();
        for (int oc = 0; oc < co; oc++) {
            int r0 = oc * inMax * kk;
            dotRows(r0, r0 + ci * kk, o, base, part, hv);
        }
    }

    /**
     * Brings every row up to date (before a checkpoint is written or weights are exported, or before generating
     * concurrently): the lazy rows caught up. After device steps there are none, and the arrays are not copied back
     * here: {@link #generate} and {@link #state} do that when the host reads them.
     */
    public void flush() {
        if (frozen) {
            return;
        }
        syncLast();
        int current = lazy.step() - 1;
        int currentSlot = lazy.ensure(current);
        int slots = lazy.slots();
        int blocks = last.length;
        long work = (long) rows * hidden;
        int parts = work < 65_536 ? 1 : Math.min(Parallel.threadCount(), blocks);
        Part[] ps = scratch(parts);
        for (int p = 0; p < parts; p++) {
            ps[p].tally(slots);
        }
        Parallel.get().run(parts, (p, n) ->
                catchUp(Parallel.split(blocks, n, p), Parallel.split(blocks, n, p + 1), current, ps[p].tally));
        mergeTallies(ps, parts, slots, currentSlot);
        lazyPending = false;
    }

    /** Parameter and momentum arrays by name (after {@link #flush()}), for checkpoints. */
    public java.util.Map<String, float[]> state() {
        pullFromDevice();
        flush();
        java.util.Map<String, float[]> m = new java.util.LinkedHashMap<>();
        m.put("fc1.weight", w1);
        m.put("fc1.bias", b1);
        m.put("fc2.weight", w2);
        m.put("fc2.bias", b2);
        if (frozen) {
            return m;
        }
        m.put("fc1.weight.momentum", mw1);
        m.put("fc1.bias.momentum", mb1);
        m.put("fc2.weight.momentum", mw2);
        m.put("fc2.bias.momentum", mb2);
        return m;
    }

    /** Restores the step counter after the arrays of {@link #state()} were overwritten from a checkpoint. */
    public void restoredAt(int step) {
        Arrays.fill(last, step - 1);
        lazy.resetAt(step, last.length);
        forwardDone = false;
        lazyPending = false;
        lastStale = false;
    }

    /** Every row must be up to date before generating concurrently ({@link #generate}, {@link #generateOn}). */
    private synchronized void requireCurrent() {
        syncLast();
        int now = lazy.step() - 1;
        for (int b : last) {
            if (b != now) {
                throw new IllegalStateException("generator rows are not up to date (lazy momentum pending): flush() "
                        + "before generating concurrently");
            }
        }
    }

    /**
     * {@link #generate} on a device-resident backend: the hidden layer and the crop computed by {@code k}, where the
     * generator's weights are copied once and stay; {@code out} is written there. {@code pre} and {@code h}
     * ({@link #hidden()} values each) are the caller's scratch, so that several evaluation networks generate at once
     * (a search's workers). Every row must be up to date, as for {@link #generate}.
     */
    public void generateOn(Kernels k, Tensor encoding, int co, int ci, Tensor out, Tensor pre, Tensor h) {
        if (encoding.numel() != encDim || !encoding.isContiguous()) {
            throw new IllegalArgumentException("encoding has " + encoding.numel() + " values, the generator takes "
                    + encDim);
        }
        checkOut(out);
        requireCurrent();
        DeviceSide d = device();
        k.generatorHidden(d.w1T, d.b1T, encoding, pre, h);
        k.generatorForward(d.w2T, d.b2T, h, co, ci, out);   // checks the crop
    }

    /** After device steps: every block is current as of the last completed step. */
    private void syncLast() {
        if (lastStale) {
            Arrays.fill(last, lazy.step() - 1);
            lastStale = false;
        }
    }

    // ---- on a device-resident backend ---------------------------------------------------------------------------

    /** Tensors over the generator's arrays, so that a device-resident backend keeps one device copy of each. */
    private final class DeviceSide {
        final Tensor w1T = Tensor.wrap(w1, hidden, encDim);
        final Tensor b1T = Tensor.wrap(b1, hidden);
        final Tensor w2T = Tensor.wrap(w2, rows, hidden);
        final Tensor b2T = Tensor.wrap(b2, rows);
        final Tensor mw1T = frozen ? null : Tensor.wrap(mw1, hidden, encDim);
        final Tensor mb1T = frozen ? null : Tensor.wrap(mb1, hidden);
        final Tensor mw2T = frozen ? null : Tensor.wrap(mw2, rows, hidden);
        final Tensor mb2T = frozen ? null : Tensor.wrap(mb2, rows);
        final Tensor preT = Tensor.wrap(pre, hidden);
        final Tensor hT = Tensor.wrap(h, hidden);
        final Tensor dhT = Tensor.zeros(hidden);
    }

    private synchronized DeviceSide device() {
        if (device == null) {
            device = new DeviceSide();
        }
        return device;
    }

    /**
     * {@link #forward} on a device-resident backend ({@link Kernels#deviceResident()}): the hidden layer and the crop
     * are computed by {@code k}, where the generator's parameters stay; {@code out} is written there (bring it to the
     * host with {@link Kernels#toHost} to read it). {@code encoding} ({@link #encDim()} values) is where {@code k}
     * computes, unchanged until {@link #backwardAndStepOn} (the PruningNet writes every generator's encoding into one
     * array and declares it once per step). Rows outside the crop need no catching up: the device path takes PyTorch's
     * step on every row.
     */
    public void forwardOn(Kernels k, Tensor encoding, int co, int ci, Tensor out) {
        if (frozen) {
            throw new IllegalStateException("forwardOn trains: this generator was built without momentum buffers");
        }
        if (encoding.numel() != encDim || !encoding.isContiguous()) {
            throw new IllegalArgumentException("encoding has " + encoding.numel() + " values, the generator takes "
                    + encDim);
        }
        checkOut(out);
        if (lazyPending) {
            flush();   // host steps ran before: bring their lazy rows up to date before the device takes over
        }
        DeviceSide d = device();
        k.generatorHidden(d.w1T, d.b1T, encoding, d.preT, d.hT);
        k.generatorForward(d.w2T, d.b2T, d.hT, co, ci, out);   // checks the crop
        this.co = co;
        this.ci = ci;
        this.encOn = encoding;
        forwardDone = true;
    }

    /**
     * {@link #backwardAndStep} on a device-resident backend, after {@link #forwardOn}: {@code dOut} is read where
     * {@code k} keeps it, and the step (PyTorch's SGD on every row, eagerly) stays there. The host's arrays are brought
     * up to date by {@link Kernels#toHost} on {@link #deviceTensors()} (a checkpoint does it).
     */
    public void backwardAndStepOn(Kernels k, Tensor dOut, float lr) {
        if (!forwardDone || device == null) {
            throw new IllegalStateException("backwardAndStepOn needs a forwardOn pass first");
        }
        checkOut(dOut);
        forwardDone = false;
        DeviceSide d = device;
        k.generatorBackwardStep(d.w2T, d.b2T, d.mw2T, d.mb2T, d.hT, dOut, co, ci, d.dhT, lr, momentum, weightDecay,
                nesterov);
        k.generatorHiddenBackwardStep(d.w1T, d.b1T, d.mw1T, d.mb1T, encOn, d.preT, d.dhT, lr, momentum, weightDecay,
                nesterov);
        lazy.resetAt(lazy.step() + 1, last.length);   // every row is current as of this step
        lastStale = true;
        trainedOn = k;
    }

    /** After device steps: the host's arrays are brought up to date before the host reads them (once per change). */
    private void pullFromDevice() {
        if (trainedOn != null) {
            trainedOn.toHost(deviceTensors());
        }
    }

    /**
     * The tensors over the parameter and momentum arrays that the device path works on: a device-resident backend's
     * copies of them are what {@link Kernels#toHost} brings back and {@link Kernels#hostChanged} refreshes.
     */
    private Tensor[] deviceTensors() {
        DeviceSide d = device();
        return frozen ? new Tensor[] {d.w1T, d.b1T, d.w2T, d.b2T}
                : new Tensor[] {d.w1T, d.b1T, d.w2T, d.b2T, d.mw1T, d.mb1T, d.mw2T, d.mb2T};
    }
}
