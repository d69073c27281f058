package dev.metaprune.nn;

import dev.metaprune.kernels.Conv2dSpec;
import dev.metaprune.kernels.Kernels;
import dev.metaprune.nn.arch.Architecture;
import dev.metaprune.nn.arch.Op;
import dev.metaprune.nn.arch.Value;
import dev.metaprune.nn.arch.Widths;
import dev.metaprune.tensor.Tensor;
import java.util.Arrays;
import java.util.List;

/**
 * The network executor: one {@link Architecture} run at a {@link Widths} configuration, forward and
 * backward, on the kernel interface. It owns no weights: before each pass its {@link Params} slots
 * are filled by whoever owns them — a {@link DenseModel} (a network with its own weights: retraining,
 * baselines) or the PruningNet (weights generated per step, BatchNorm statistics per width
 * choice). There is no second copy of the model code.
 *
 * <p>Buffers (activations, gradients, BatchNorm statistics, pooling indices) are allocated once per
 * batch size at the widest widths and reused; a narrower configuration uses a contiguous prefix of
 * each buffer. Nothing is allocated per pass. They are planned by liveness over the op order
 * ({@link Architecture#ops()} is a topological order of the DAG; {@code Add} ops fan in, residual
 * values fan out):
 * <ul>
 *   <li><b>Gradients</b> ({@link Mode#TRAINING}): a value's gradient lives from the backward of its
 *       last consumer (the first to write it) to the backward of its producer (which reads it);
 *       buffers come from a pool, best fit by size, in backward order. An element-wise op, a
 *       BatchNorm or an {@code Add} hands its output gradient's buffer over to an input's
 *       gradient (the kernels accept {@code dx} aliasing {@code dy} exactly), so it is never
 *       copied.</li>
 *   <li><b>Activations</b>: in training every activation the backward pass reads is kept; a ReLU or
 *       ReLU6 whose input has no other consumer (and is not another activation's output, which
 *       that activation's backward still reads) overwrites its input, and its backward takes the
 *       mask from its output ({@code y > 0}; {@code 0 < y < 6} is exactly the mask of
 *       {@code 0 < x < 6}). An {@link Mode#INFERENCE} executor keeps no gradients and reuses
 *       activation buffers by forward liveness (BatchNorm, activations and {@code Add} in place
 *       over an input that dies there): what the evolutionary search needs to evaluate many
 *       candidates side by side.</li>
 * </ul>
 * {@link #bufferBytes()} reports what a plan holds.
 */
public final class Network {
    /** Weight slots, indexed by op position in {@link Architecture#ops()}; filled by the owner. */
    public static final class Params {
        /** Conv weights: the leading {@code [cout, cin/g, k, k]} block is used. */
        public final Tensor[] weight;
        /** Conv / linear weight gradients, same shapes as {@link #weight}: written by backward. */
        public final Tensor[] weightGrad;
        /** Linear bias and its gradient (null: no bias). */
        public final Tensor[] bias;
        public final Tensor[] biasGrad;
        /** BatchNorm affine parameters (null: affine-free) and gradients; the leading channels are used. */
        public final Tensor[] gamma;
        public final Tensor[] beta;
        public final Tensor[] gammaGrad;
        public final Tensor[] betaGrad;
        /** BatchNorm running statistics in use (leading channels). */
        public final Tensor[] runMean;
        public final Tensor[] runVar;

        Params(int n) {
            weight = new Tensor[n];
            weightGrad = new Tensor[n];
            bias = new Tensor[n];
            biasGrad = new Tensor[n];
            gamma = new Tensor[n];
            beta = new Tensor[n];
            gammaGrad = new Tensor[n];
            betaGrad = new Tensor[n];
            runMean = new Tensor[n];
            runVar = new Tensor[n];
        }
    }

    /** What an executor is built for. */
    public enum Mode {
        /** Forward and backward: keeps the activations the backward pass reads, and gradient buffers. */
        TRAINING,
        /** Forward only (any {@link BnMode}): no gradients, activation buffers reused by liveness; backward throws. */
        INFERENCE
    }

    /** BatchNorm behaviour in a forward pass. */
    public enum BnMode {
        /** Batch statistics; running statistics updated with momentum (0.1, PyTorch's default). */
        TRAIN,
        /** Batch statistics; running statistics set to the exact average over the batches seen (recalibration). */
        RECALIBRATE,
        /** Running statistics. */
        EVAL
    }

    public static final float BN_EPS = 1e-5f;
    public static final float BN_MOMENTUM = 0.1f;

    private final Architecture arch;
    private final Kernels k;
    private final List<Op> ops;
    private final Params params;
    private final int batch;
    private final Mode mode;
    /** Activation buffer of each value (shared where the plan reuses or overwrites one); null for value 0. */
    private final float[][] act;
    /** Gradient buffer of each value (shared by liveness); null for value 0 and in inference. */
    private final float[][] grad;
    /** Per Add op: which input (0: a, 1: b, -1: none) takes over the output gradient's buffer. */
    private final int[] addHandOver;
    /** Per activation op: true when it overwrote its input (its backward reads the output for the mask). */
    private final boolean[] inPlace;
    private final float[] scratch;
    private final float[][] saveMean;
    private final float[][] saveInvStd;
    private final int[][] argmax;
    private final boolean[] flat; // values shaped [n, c]: outputs of global pooling and of the classifier
    private final boolean[] gradWritten;
    private final long bufferBytes;

    private Widths widths;
    private boolean forwardTrained;
    private int recalBatches;

    /** A training executor for batches of up to {@code batch} images ({@link Mode#TRAINING}). */
    public Network(Architecture arch, int batch) {
        this(arch, batch, Mode.TRAINING);
    }

    /** An executor for batches of up to {@code batch} images, built for {@code mode}, on {@link Kernels#get()}. */
    public Network(Architecture arch, int batch, Mode mode) {
        this(arch, batch, mode, Kernels.get());
    }

    /** An executor for batches of up to {@code batch} images, built for {@code mode}, on the backend {@code k}. */
    public Network(Architecture arch, int batch, Mode mode, Kernels k) {
        if (batch <= 0) {
            throw new IllegalArgumentException("batch size must be positive, got " + batch);
        }
        this.arch = arch;
        this.k = java.util.Objects.requireNonNull(k, "kernels");
        this.ops = arch.ops();
        this.params = new Params(ops.size());
        this.batch = batch;
        this.mode = java.util.Objects.requireNonNull(mode, "mode");
        List<Value> values = arch.values();
        int nv = values.size();
        long[] size = new long[nv];
        for (Value v : values) {
            long n = (long) batch * v.height() * v.width() * v.channels().base();
            if (n > Integer.MAX_VALUE - 16) {
                throw new IllegalArgumentException(arch.name() + ": value " + v.id() + " needs " + n
                        + " floats at batch " + batch + ", more than one array holds; use a smaller batch");
            }
            size[v.id()] = n;
        }
        // consumers of each value, and the producer
        int[] consumers = new int[nv];
        int[] lastUse = new int[nv];
        int[] producer = new int[nv];
        Arrays.fill(producer, -1);
        Arrays.fill(lastUse, -1);
        for (int i = 0; i < ops.size(); i++) {
            Op op = ops.get(i);
            for (int v : op.inputs()) {
                consumers[v]++;
                lastUse[v] = i;
                if (v == 0 && !(op instanceof Op.Conv)) {
                    throw new IllegalArgumentException(arch.name() + ": " + op.name()
                            + " reads the input image; the executor expects a convolution there");
                }
            }
            producer[op.output()] = i;
        }
        lastUse[arch.output().id()] = Integer.MAX_VALUE;
        inPlace = new boolean[ops.size()];
        addHandOver = new int[ops.size()];
        Arrays.fill(addHandOver, -1);
        long bytes = 0;
        if (mode == Mode.TRAINING) {
            act = new float[nv][];
            for (int i = 0; i < ops.size(); i++) {
                Op op = ops.get(i);
                int y = op.output();
                if (op instanceof Op.Activation a && a.input() != 0 && consumers[a.input()] == 1
                        && !(ops.get(producer[a.input()]) instanceof Op.Activation)) {
                    inPlace[i] = true;
                    act[y] = act[a.input()];
                } else {
                    act[y] = new float[(int) size[y]];
                    bytes += 4 * size[y];
                }
            }
            grad = planGradients(size, producer);
            bytes += distinctBytes(grad);
            long shared = 0;               // a second consumer's gradient is written here, then added
            for (Value v : values) {
                if (v.id() != 0 && consumers[v.id()] > 1) {
                    shared = Math.max(shared, size[v.id()]);
                }
            }
            scratch = new float[(int) shared];
            bytes += 4 * shared;
        } else {
            act = planInference(size, lastUse);
            bytes += distinctBytes(act);
            grad = null;
            scratch = new float[0];
        }
        saveMean = new float[ops.size()][];
        saveInvStd = new float[ops.size()][];
        argmax = new int[ops.size()][];
        for (int i = 0; i < ops.size(); i++) {
            Op op = ops.get(i);
            if (op instanceof Op.BatchNorm bn && mode == Mode.TRAINING) {
                saveMean[i] = new float[bn.channels().base()];
                saveInvStd[i] = new float[bn.channels().base()];
                bytes += 8L * bn.channels().base();
            } else if (op instanceof Op.MaxPool) {
                argmax[i] = new int[(int) size[op.output()]];
                bytes += 4 * size[op.output()];
            }
        }
        gradWritten = new boolean[nv];
        flat = flatValues(arch);
        bufferBytes = bytes;
    }

    /** Sum of the sizes of the distinct arrays in {@code store}, in bytes. */
    private static long distinctBytes(float[][] store) {
        java.util.Set<float[]> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        long b = 0;
        for (float[] a : store) {
            if (a != null && seen.add(a)) {
                b += 4L * a.length;
            }
        }
        return b;
    }

    /** A pool of buffer slots, planned first (sizes only), then allocated. */
    private static final class Pool {
        final java.util.ArrayList<Long> sizes = new java.util.ArrayList<>();
        final java.util.ArrayList<Integer> free = new java.util.ArrayList<>();

        /** The free slot of the smallest size >= n, else the largest free slot grown to n, else a new slot. */
        int take(long n) {
            int best = -1, largest = -1;
            for (int idx = 0; idx < free.size(); idx++) {
                int s = free.get(idx);
                long sz = sizes.get(s);
                if (sz >= n && (best < 0 || sz < sizes.get(free.get(best)))) {
                    best = idx;
                }
                if (largest < 0 || sz > sizes.get(free.get(largest))) {
                    largest = idx;
                }
            }
            int pick = best >= 0 ? best : largest;
            if (pick >= 0) {
                int s = free.remove(pick);
                sizes.set(s, Math.max(sizes.get(s), n));
                return s;
            }
            sizes.add(n);
            return sizes.size() - 1;
        }

        void release(int slot) {
            free.add(slot);
        }

        float[][] allocate() {
            float[][] b = new float[sizes.size()][];
            for (int s = 0; s < b.length; s++) {
                b[s] = new float[(int) (long) sizes.get(s)];
            }
            return b;
        }
    }

    /**
     * Gradient buffers by backward liveness: walking the ops backwards, an input's gradient gets a
     * buffer where it is first written (the output gradient's own buffer when the op is
     * element-wise, a BatchNorm or an Add, else one from the pool) and the output's gradient buffer
     * goes back to the pool after its producer's backward (unless handed over).
     */
    private float[][] planGradients(long[] size, int[] producer) {
        int nv = size.length;
        int[] slot = new int[nv];
        Arrays.fill(slot, -1);
        Pool pool = new Pool();
        int out = arch.output().id();
        slot[out] = pool.take(size[out]);
        for (int i = ops.size() - 1; i >= 0; i--) {
            Op op = ops.get(i);
            int y = op.output();
            if (slot[y] < 0) {
                continue; // a value nobody reads: no gradient reaches this op (not in these families)
            }
            boolean handedOver = false;
            List<Integer> ins = op.inputs();
            for (int idx = 0; idx < ins.size(); idx++) {
                int v = ins.get(idx);
                if (v == 0 || slot[v] >= 0) {
                    continue;
                }
                boolean canHand = !handedOver && size[v] == size[y] && (op instanceof Op.Activation
                        || op instanceof Op.BatchNorm || (op instanceof Op.Add a && a.a() != a.b()));
                if (canHand) {
                    slot[v] = slot[y];
                    handedOver = true;
                    if (op instanceof Op.Add) {
                        addHandOver[i] = idx;
                    }
                } else {
                    slot[v] = pool.take(size[v]);
                }
            }
            if (!handedOver) {
                pool.release(slot[y]);
            }
        }
        float[][] bufs = pool.allocate();
        float[][] g = new float[nv][];
        for (int v = 1; v < nv; v++) {
            if (slot[v] >= 0) {
                g[v] = bufs[slot[v]];
            }
        }
        return g;
    }

    /**
     * Activation buffers by forward liveness: a value's buffer returns to the pool after its last
     * consumer; BatchNorm, activations and Add write over an input that dies at them.
     */
    private float[][] planInference(long[] size, int[] lastUse) {
        int nv = size.length;
        int[] slot = new int[nv];
        Arrays.fill(slot, -1);
        Pool pool = new Pool();
        for (int i = 0; i < ops.size(); i++) {
            Op op = ops.get(i);
            int y = op.output();
            boolean elementwise = op instanceof Op.BatchNorm || op instanceof Op.Activation || op instanceof Op.Add;
            int reuse = -1;
            for (int v : op.inputs()) {
                if (elementwise && reuse < 0 && v != 0 && lastUse[v] == i && size[v] == size[y]) {
                    reuse = v;
                }
            }
            slot[y] = reuse >= 0 ? slot[reuse] : pool.take(size[y]);
            java.util.Set<Integer> done = new java.util.HashSet<>();
            for (int v : op.inputs()) {
                if (v != 0 && v != reuse && lastUse[v] == i && done.add(v)) {
                    pool.release(slot[v]);
                }
            }
        }
        float[][] bufs = pool.allocate();
        float[][] a = new float[nv][];
        for (int v = 1; v < nv; v++) {
            if (slot[v] >= 0) {
                a[v] = bufs[slot[v]];
            }
        }
        return a;
    }

    /**
     * An executor for forward passes only (evaluation, recalibration, latency): what the search's
     * workers use; {@code new Network(arch, batch, Mode.INFERENCE)}.
     */
    public static Network forInference(Architecture arch, int batch) {
        return new Network(arch, batch, Mode.INFERENCE);
    }

    /** As {@link #forInference(Architecture, int)} on the backend {@code k} (the latency profiler's devices). */
    public static Network forInference(Architecture arch, int batch, Kernels k) {
        return new Network(arch, batch, Mode.INFERENCE, k);
    }

    /** The backend this executor calls. */
    public Kernels kernels() {
        return k;
    }

    /** What this executor was built for. */
    public Mode mode() {
        return mode;
    }

    /**
     * Bytes of the buffers this executor holds (activations, gradients, scratch, saved BatchNorm
     * statistics, pooling indices), each shared buffer counted once; the weights belong to the
     * owner and are not included.
     */
    public long bufferBytes() {
        return bufferBytes;
    }

    public Architecture architecture() {
        return arch;
    }

    /** The weight slots the owner fills. */
    public Params params() {
        return params;
    }

    public int maxBatch() {
        return batch;
    }

    /**
     * Which values are {@code [n, c]} rather than NHWC: the outputs of global pooling and of the
     * classifier (a convolution whose output happens to be 1 x 1, at a tiny input size, stays NHWC).
     */
    public static boolean[] flatValues(Architecture arch) {
        boolean[] f = new boolean[arch.values().size()];
        for (Op op : arch.ops()) {
            if (op instanceof Op.GlobalAvgPool || op instanceof Op.Linear) {
                f[op.output()] = true;
            }
        }
        return f;
    }

    /** Restarts the exact running average of {@link BnMode#RECALIBRATE}. */
    public void resetRecalibration() {
        recalBatches = 0;
    }

    private Tensor valueTensor(float[][] store, int id, int n, Tensor input) {
        if (id == 0) {
            return input;
        }
        Value v = arch.value(id);
        int c = widths.ofValue(id);
        if (flat[id]) {
            return Tensor.view(store[id], 0, c, n, c);
        }
        return Tensor.view(store[id], 0, c, n, v.height(), v.width(), c);
    }

    /**
     * Forward pass of {@code x [n, H, W, C]} (NHWC) at {@code widths}; returns the logits
     * {@code [n, classes]} (a view of an internal buffer, valid until the next pass). {@code x} is read from the host
     * ({@link Kernels#hostChanged} is declared for it); the logits stay where the backend computed them, so on a
     * device-resident backend call {@code kernels().toHost(logits)} before reading them on the host
     * ({@link Kernels#countTopK} does it itself).
     */
    public Tensor forward(Tensor x, Widths widths, BnMode mode) {
        Value in = arch.value(0);
        if (x.rank() != 4 || x.dim(1) != in.height() || x.dim(2) != in.width() || x.dim(3) != in.channels().base()
                || x.dim(0) > batch) {
            throw new IllegalArgumentException(arch.name() + " takes [n <= " + batch + ", " + in.height() + ", "
                    + in.width() + ", " + in.channels().base() + "] inputs, got " + x);
        }
        if (widths.architecture() != arch) {
            throw new IllegalArgumentException("widths of " + widths.architecture().name() + " given to " + arch.name());
        }
        this.widths = widths;
        int n = x.dim(0);
        k.hostChanged(x);   // the input comes from the host (a device-resident backend copies it again)
        float factor = BN_MOMENTUM;
        if (mode == BnMode.RECALIBRATE) {
            factor = 1f / (recalBatches + 1);
            recalBatches++;
        }
        for (int i = 0; i < ops.size(); i++) {
            Op op = ops.get(i);
            Tensor y = valueTensor(act, op.output(), n, x);
            switch (op) {
                case Op.Conv c -> {
                    Tensor xi = valueTensor(act, c.input(), n, x);
                    k.conv2dForward(xi, need(params.weight[i], op), null, y, widths.conv(c));
                }
                case Op.BatchNorm b -> {
                    Tensor xi = valueTensor(act, b.input(), n, x);
                    int ch = xi.cols();
                    Tensor g = slice(params.gamma[i], ch), be = slice(params.beta[i], ch);
                    Tensor rm = slice(need(params.runMean[i], op), ch), rv = slice(need(params.runVar[i], op), ch);
                    if (mode == BnMode.EVAL) {
                        k.batchNormInferenceForward(xi, g, be, rm, rv, BN_EPS, y);
                    } else {
                        k.batchNormTrainForward(xi, g, be, y, view(saveMean[i], ch), view(saveInvStd[i], ch), rm, rv,
                                factor, BN_EPS);
                    }
                }
                case Op.Activation a -> {
                    Tensor xi = valueTensor(act, a.input(), n, x);
                    if (a.function() == Op.Activation.Function.RELU) {
                        k.relu(xi, y);
                    } else {
                        k.relu6(xi, y);
                    }
                }
                case Op.Add a -> k.add(valueTensor(act, a.a(), n, x), valueTensor(act, a.b(), n, x), y);
                case Op.MaxPool p -> k.maxPoolForward(valueTensor(act, p.input(), n, x), y, argmax[i], p.kernel(),
                        p.stride(), p.padding());
                case Op.GlobalAvgPool p -> k.globalAvgPoolForward(valueTensor(act, p.input(), n, x), y);
                case Op.Linear l -> k.linearForward(valueTensor(act, l.input(), n, x), need(params.weight[i], op),
                        params.bias[i], y);
            }
        }
        forwardTrained = mode != BnMode.EVAL;
        return valueTensor(act, arch.output().id(), n, x);
    }

    private static Tensor need(Tensor t, Op op) {
        if (t == null) {
            throw new IllegalStateException(op.name() + ": parameter slot not filled by the network's owner");
        }
        return t;
    }

    private static Tensor view(float[] a, int ch) {
        return a == null ? null : Tensor.view(a, 0, ch, ch);
    }

    private static Tensor slice(Tensor t, int ch) {
        if (t == null) {
            return null;
        }
        return t.cols() == ch ? t : Tensor.view(t.data(), t.offset(), ch, ch);
    }

    /**
     * Mean softmax cross-entropy (label smoothing {@code smoothing}) of the last forward pass's
     * logits, and the backward pass: every slot of {@link Params#weightGrad} and friends is
     * overwritten with its gradient. Returns the loss.
     */
    public float backward(Tensor x, int[] labels, float smoothing) {
        if (mode == Mode.INFERENCE) {
            throw new IllegalStateException(arch.name() + ": this executor was built for inference (Mode.INFERENCE) and"
                    + " keeps no gradients; build a Mode.TRAINING executor to train");
        }
        if (!forwardTrained) {
            throw new IllegalStateException("backward needs a forward pass in TRAIN or RECALIBRATE mode first");
        }
        int n = x.dim(0);
        if (labels.length != n) {
            throw new IllegalArgumentException(labels.length + " labels for a batch of " + n);
        }
        Arrays.fill(gradWritten, false);
        int out = arch.output().id();
        float loss = k.softmaxCrossEntropy(valueTensor(act, out, n, x), labels, smoothing,
                valueTensor(grad, out, n, x));
        gradWritten[out] = true;
        for (int i = ops.size() - 1; i >= 0; i--) {
            Op op = ops.get(i);
            Tensor dy = valueTensor(grad, op.output(), n, x);
            switch (op) {
                case Op.Conv c -> {
                    Tensor xi = valueTensor(act, c.input(), n, x);
                    Conv2dSpec spec = widths.conv(c);
                    k.conv2dBackwardWeight(xi, dy, need(params.weightGrad[i], op), null, spec, false);
                    if (c.input() != 0) {
                        Tensor dx = gradTarget(c.input(), n, x);
                        k.conv2dBackwardInput(dy, params.weight[i], dx, spec);
                        gradDone(c.input(), n, x, dx);
                    }
                }
                case Op.BatchNorm b -> {
                    Tensor xi = valueTensor(act, b.input(), n, x);
                    int ch = xi.cols();
                    Tensor dx = gradTarget(b.input(), n, x);
                    k.batchNormBackward(xi, dy, slice(params.gamma[i], ch), view(saveMean[i], ch),
                            view(saveInvStd[i], ch), dx, slice(params.gammaGrad[i], ch),
                            slice(params.betaGrad[i], ch), false);
                    gradDone(b.input(), n, x, dx);
                }
                case Op.Activation a -> {
                    // the mask from the input, or from the output where it overwrote the input: the same
                    Tensor mask = valueTensor(act, inPlace[i] ? a.output() : a.input(), n, x);
                    Tensor dx = gradTarget(a.input(), n, x);
                    if (a.function() == Op.Activation.Function.RELU) {
                        k.reluBackward(mask, dy, dx);
                    } else {
                        k.relu6Backward(mask, dy, dx);
                    }
                    gradDone(a.input(), n, x, dx);
                }
                case Op.Add a -> {
                    int[] in = {a.a(), a.b()};
                    for (int idx = 0; idx < 2; idx++) {
                        int v = in[idx];
                        if (gradWritten[v]) {
                            Tensor g = valueTensor(grad, v, n, x);
                            k.add(g, dy, g);
                        } else {
                            if (addHandOver[i] != idx) { // else the buffer already holds dy
                                k.copy(dy, valueTensor(grad, v, n, x));
                            }
                            gradWritten[v] = true;
                        }
                    }
                }
                case Op.MaxPool p -> {
                    Tensor dx = gradTarget(p.input(), n, x);
                    k.maxPoolBackward(dy, argmax[i], dx);
                    gradDone(p.input(), n, x, dx);
                }
                case Op.GlobalAvgPool p -> {
                    Tensor dx = gradTarget(p.input(), n, x);
                    k.globalAvgPoolBackward(dy, dx);
                    gradDone(p.input(), n, x, dx);
                }
                case Op.Linear l -> {
                    Tensor xi = valueTensor(act, l.input(), n, x);
                    k.linearBackwardParams(xi, dy, need(params.weightGrad[i], op), params.biasGrad[i], false);
                    Tensor dx = gradTarget(l.input(), n, x);
                    k.linearBackwardInput(dy, params.weight[i], dx);
                    gradDone(l.input(), n, x, dx);
                }
            }
        }
        return loss;
    }

    /** Where an op writes the gradient of value v: its buffer, or scratch when another op already wrote it. */
    private Tensor gradTarget(int v, int n, Tensor x) {
        Tensor g = valueTensor(grad, v, n, x);
        if (!gradWritten[v]) {
            return g;
        }
        return Tensor.view(scratch, 0, g.cols(), g.shape());
    }

    private void gradDone(int v, int n, Tensor x, Tensor written) {
        if (gradWritten[v]) {
            Tensor g = valueTensor(grad, v, n, x);
            k.add(g, written, g);
        }
        gradWritten[v] = true;
    }

    /**
     * The activation of a value after the last forward pass (for tests and tools). Always valid for
     * the network's output. In a training executor, a value that a ReLU overwrote in place (a
     * BatchNorm output read only by that ReLU) shows the ReLU's output; in an inference executor, an
     * intermediate value's buffer may have been reused by a later value.
     */
    public Tensor activation(int valueId, int n) {
        return valueTensor(act, valueId, n, null);
    }
}
