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
 * <p>Buffers (activations and gradients of every value, BatchNorm statistics, pooling indices) are
 * allocated once per batch size at the widest widths and reused; a narrower configuration uses a
 * contiguous prefix of each buffer. Nothing is allocated per pass.
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
    private final float[][] act;
    private final float[][] grad;
    private final float[] scratch;
    private final float[][] saveMean;
    private final float[][] saveInvStd;
    private final int[][] argmax;
    private final boolean[] gradWritten;
    private final boolean withGradients;
    private final boolean[] flat; // values shaped [n, c]: outputs of global pooling and of the classifier

    private Widths widths;
    private boolean forwardTrained;
    private int recalBatches;

    /** An executor for batches of up to {@code batch} images, forward and backward. */
    public Network(Architecture arch, int batch) {
        this(arch, batch, true);
    }

    /**
     * An executor for batches of up to {@code batch} images; {@code withGradients == false} gives an inference-only
     * executor (no gradient buffers: half the memory; {@link #backward} then fails), as latency measurement uses.
     */
    public Network(Architecture arch, int batch, boolean withGradients) {
        if (batch <= 0) {
            throw new IllegalArgumentException("batch size must be positive, got " + batch);
        }
        this.arch = arch;
        this.k = Kernels.get();
        this.ops = arch.ops();
        this.params = new Params(ops.size());
        this.batch = batch;
        List<Value> values = arch.values();
        act = new float[values.size()][];
        grad = new float[values.size()][];
        long maxValue = 0;
        for (Value v : values) {
            long n = (long) batch * v.height() * v.width() * v.channels().base();
            if (n > Integer.MAX_VALUE - 16) {
                throw new IllegalArgumentException(arch.name() + ": value " + v.id() + " needs " + n
                        + " floats at batch " + batch + ", more than one array holds; use a smaller batch");
            }
            maxValue = Math.max(maxValue, n);
            if (v.id() != 0) {
                act[v.id()] = new float[(int) n];
                if (withGradients) {
                    grad[v.id()] = new float[(int) n];
                }
            }
        }
        this.withGradients = withGradients;
        scratch = withGradients ? new float[(int) maxValue] : new float[0];
        saveMean = new float[ops.size()][];
        saveInvStd = new float[ops.size()][];
        argmax = new int[ops.size()][];
        for (int i = 0; i < ops.size(); i++) {
            Op op = ops.get(i);
            if (op instanceof Op.BatchNorm bn) {
                saveMean[i] = new float[bn.channels().base()];
                saveInvStd[i] = new float[bn.channels().base()];
            } else if (op instanceof Op.MaxPool) {
                Value y = arch.value(op.output());
                argmax[i] = new int[batch * y.height() * y.width() * y.channels().base()];
            }
        }
        gradWritten = new boolean[values.size()];
        flat = flatValues(arch);
    }

    public Architecture architecture() {
        return arch;
    }

    /**
     * Which values are {@code [n, c]} rather than NHWC: the outputs of global pooling and of the classifier (a
     * convolution whose output happens to be 1 x 1, at a tiny input size, stays NHWC).
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

    /** The weight slots the owner fills. */
    public Params params() {
        return params;
    }

    public int maxBatch() {
        return batch;
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
     * {@code [n, classes]} (a view of an internal buffer, valid until the next pass).
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
                        k.batchNormTrainForward(xi, g, be, y, Tensor.view(saveMean[i], 0, ch, ch),
                                Tensor.view(saveInvStd[i], 0, ch, ch), rm, rv, factor, BN_EPS);
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
        if (!withGradients) {
            throw new IllegalStateException("this executor was built for inference only (no gradient buffers)");
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
                    k.batchNormBackward(xi, dy, slice(params.gamma[i], ch), Tensor.view(saveMean[i], 0, ch, ch),
                            Tensor.view(saveInvStd[i], 0, ch, ch), dx, slice(params.gammaGrad[i], ch),
                            slice(params.betaGrad[i], ch), false);
                    gradDone(b.input(), n, x, dx);
                }
                case Op.Activation a -> {
                    Tensor xi = valueTensor(act, a.input(), n, x);
                    Tensor dx = gradTarget(a.input(), n, x);
                    if (a.function() == Op.Activation.Function.RELU) {
                        k.reluBackward(xi, dy, dx);
                    } else {
                        k.relu6Backward(xi, dy, dx);
                    }
                    gradDone(a.input(), n, x, dx);
                }
                case Op.Add a -> {
                    for (int v : new int[] {a.a(), a.b()}) {
                        if (gradWritten[v]) {
                            Tensor g = valueTensor(grad, v, n, x);
                            k.add(g, dy, g);
                        } else {
                            valueTensor(grad, v, n, x).copyFrom(dy);
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

    /** The activation of a value after the last forward pass (for tests and tools). */
    public Tensor activation(int valueId, int n) {
        return valueTensor(act, valueId, n, null);
    }
}
