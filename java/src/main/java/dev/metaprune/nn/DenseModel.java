package dev.metaprune.nn;

import dev.metaprune.kernels.Conv2dSpec;
import dev.metaprune.kernels.Kernels;
import dev.metaprune.nn.arch.Architecture;
import dev.metaprune.nn.arch.Op;
import dev.metaprune.nn.arch.Widths;
import dev.metaprune.optim.Sgd;
import dev.metaprune.tensor.Init;
import dev.metaprune.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A network at one fixed width configuration with its own weights (retraining a searched gene from
 * scratch, the uniform baseline, the classic pruning methods), on the shared {@link Network}
 * executor. Weights are sized at the configuration's widths; conv weights are Kaiming-normal
 * (fan-out, as torchvision initialises MobileNetV2 and ResNet), BatchNorm gamma 1 and beta 0, the
 * classifier N(0, 0.01) with zero bias. SGD with momentum; weight decay on the conv and classifier
 * weights only (BatchNorm parameters and biases are not decayed).
 */
public final class DenseModel {
    private final Widths widths;
    private final Network net;
    private final Sgd sgd;
    private final Map<String, Tensor> params = new LinkedHashMap<>();
    private final Map<String, Tensor> buffers = new LinkedHashMap<>();
    private final float labelSmoothing;
    private float bnL1;

    public DenseModel(Widths widths, int batch, float momentum, float weightDecay, boolean nesterov,
                      float labelSmoothing, long seed) {
        this(widths, batch, momentum, weightDecay, nesterov, labelSmoothing, seed, Kernels.get());
    }

    /**
     * As the constructor above, on the backend {@code kernels}. On a device-resident backend the parameters,
     * statistics and momentum stay on the device; {@link #weights()} and {@link #state()} bring them to the host.
     */
    public DenseModel(Widths widths, int batch, float momentum, float weightDecay, boolean nesterov,
                      float labelSmoothing, long seed, Kernels kernels) {
        this.widths = widths;
        this.labelSmoothing = labelSmoothing;
        Architecture arch = widths.architecture();
        this.net = new Network(arch, batch, Network.Mode.TRAINING, kernels);
        this.sgd = new Sgd(kernels, momentum, nesterov);
        Sgd.Group decayed = sgd.addGroup("weights", weightDecay, 1f);
        Sgd.Group plain = sgd.addGroup("bn-and-bias", 0f, 1f);
        Network.Params p = net.params();
        List<Op> ops = arch.ops();
        long s = seed;
        for (int i = 0; i < ops.size(); i++) {
            Op op = ops.get(i);
            switch (op) {
                case Op.Conv c -> {
                    Conv2dSpec spec = widths.conv(c);
                    Tensor w = Tensor.zeros(spec.cOut(), spec.cIn() / spec.groups(), spec.kh(), spec.kw());
                    Init.kaimingNormal(w, Init.Fan.FAN_OUT, Init.splitMix64(s, i));
                    p.weight[i] = w;
                    p.weightGrad[i] = Tensor.zeros(w.shape());
                    decayed.add(c.name() + ".weight", w, p.weightGrad[i]);
                    params.put(c.name() + ".weight", w);
                }
                case Op.BatchNorm b -> {
                    int ch = widths.ofValue(b.input());
                    p.gamma[i] = Tensor.zeros(ch).fill(1f);
                    p.beta[i] = Tensor.zeros(ch);
                    p.gammaGrad[i] = Tensor.zeros(ch);
                    p.betaGrad[i] = Tensor.zeros(ch);
                    p.runMean[i] = Tensor.zeros(ch);
                    p.runVar[i] = Tensor.zeros(ch).fill(1f);
                    plain.add(b.name() + ".weight", p.gamma[i], p.gammaGrad[i]);
                    plain.add(b.name() + ".bias", p.beta[i], p.betaGrad[i]);
                    params.put(b.name() + ".weight", p.gamma[i]);
                    params.put(b.name() + ".bias", p.beta[i]);
                    buffers.put(b.name() + ".running_mean", p.runMean[i]);
                    buffers.put(b.name() + ".running_var", p.runVar[i]);
                }
                case Op.Linear l -> {
                    int in = widths.ofValue(l.input());
                    Tensor w = Tensor.zeros(l.outFeatures(), in);
                    Init.normal(w, 0f, 0.01f, Init.splitMix64(s, i));
                    p.weight[i] = w;
                    p.weightGrad[i] = Tensor.zeros(w.shape());
                    p.bias[i] = Tensor.zeros(l.outFeatures());
                    p.biasGrad[i] = Tensor.zeros(l.outFeatures());
                    decayed.add(l.name() + ".weight", w, p.weightGrad[i]);
                    plain.add(l.name() + ".bias", p.bias[i], p.biasGrad[i]);
                    params.put(l.name() + ".weight", w);
                    params.put(l.name() + ".bias", p.bias[i]);
                }
                default -> {
                }
            }
        }
    }

    public Widths widths() {
        return widths;
    }

    public Network network() {
        return net;
    }

    /** One SGD step on a batch; returns the loss (not finite: no update applied). */
    public float trainStep(Tensor x, int[] labels, float lr) {
        net.forward(x, widths, Network.BnMode.TRAIN);
        float loss = net.backward(x, labels, labelSmoothing);
        if (bnL1 > 0) {
            addBnL1();
        }
        if (Float.isFinite(loss)) {
            sgd.step(lr);
        }
        return loss;
    }

    /**
     * Network Slimming's sparsity: from now on every step adds {@code s * sign(gamma)} to each
     * BatchNorm scale's gradient (the subgradient of {@code s * sum |gamma|}; 0 switches it off).
     */
    public void setBnL1(float s) {
        if (!(s >= 0)) {
            throw new IllegalArgumentException("BatchNorm L1 sparsity must be >= 0, got " + s);
        }
        this.bnL1 = s;
    }

    private void addBnL1() {
        Network.Params p = net.params();
        Kernels k = net.kernels();
        for (int i = 0; i < p.gamma.length; i++) {
            if (p.gamma[i] == null) {
                continue;
            }
            k.toHost(p.gamma[i], p.gammaGrad[i]);   // small vectors: the subgradient is added on the host
            float[] g = p.gamma[i].data(), dg = p.gammaGrad[i].data();
            int go = p.gamma[i].offset(), dgo = p.gammaGrad[i].offset();
            for (int c = 0, n = (int) p.gamma[i].numel(); c < n; c++) {
                dg[dgo + c] += bnL1 * Math.signum(g[go + c]);
            }
            k.hostChanged(p.gammaGrad[i]);
        }
    }

    /**
     * Parameters and BatchNorm running statistics by name (no momentum): what pruning reads and writes. Current on the
     * host; after writing into them, call {@link #stateChanged}.
     */
    public Map<String, Tensor> weights() {
        Map<String, Tensor> m = new LinkedHashMap<>(params);
        m.putAll(buffers);
        net.kernels().toHost(m.values().toArray(Tensor[]::new));
        return m;
    }

    /** Logits with running statistics (evaluation). */
    public Tensor predict(Tensor x) {
        return net.forward(x, widths, Network.BnMode.EVAL);
    }

    /** Parameters, BN buffers and momentum buffers by name (PyTorch naming), for checkpoints. */
    public Map<String, Tensor> state() {
        Map<String, Tensor> m = stateTensors();
        net.kernels().toHost(m.values().toArray(Tensor[]::new));
        return m;
    }

    /** After the host wrote into {@link #state()}'s or {@link #weights()}' tensors: the backend refreshes its copies. */
    public void stateChanged() {
        net.kernels().hostChanged(stateTensors().values().toArray(Tensor[]::new));
    }

    private Map<String, Tensor> stateTensors() {
        Map<String, Tensor> m = new LinkedHashMap<>(params);
        m.putAll(buffers);
        for (Sgd.Param q : sgd.params()) {
            m.put(q.name() + ".momentum", q.momentumBuffer());
        }
        return m;
    }
}
