package dev.metaprune.pruningnet;

import dev.metaprune.kernels.Conv2dSpec;
import dev.metaprune.kernels.Kernels;
import dev.metaprune.nn.Network;
import dev.metaprune.nn.arch.Architecture;
import dev.metaprune.nn.arch.Op;
import dev.metaprune.nn.arch.Scales;
import dev.metaprune.nn.arch.Widths;
import dev.metaprune.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The PruningNet of an architecture: one {@link Generator} per convolution (input: the layer's
 * scales, as the official code encodes them), BatchNorm running statistics kept per width choice
 * (31 sets where the statistics' key is a gene dimension), BatchNorm affine only where the
 * official code has it (shared across widths: the leading channels of a max-width vector), and the
 * classifier. It drives the one {@link Network} executor: each step generates the crop of every
 * conv weight, runs forward and backward, and applies SGD (fused into the generators' backward).
 */
public final class PruningNet {
    /** SGD settings: momentum 0.9; weight decay on the generators and the classifier (the official "fc" group). */
    public record Hyper(float momentum, float weightDecay, boolean nesterov, float labelSmoothing) {
        public static Hyper official(float weightDecay) {
            return new Hyper(0.9f, weightDecay, false, 0.1f);
        }
    }

    private final Architecture arch;
    private final Network net;
    private final boolean trainable;
    private final Kernels k;
    private final Hyper hyper;
    private final List<Op> ops;
    private final Generator[] gens;
    private final Tensor[] genOut;
    private final Tensor[] genGrad;
    private final Tensor[][] bnMean;
    private final Tensor[][] bnVar;
    private final Tensor[] gammaMom;
    private final Tensor[] betaMom;
    private final Tensor[] fcWMom;
    private final Tensor[] fcBMom;
    /** Device path: every generator's encoding in one array (one copy per step). */
    private final Encodings encodings;

    public PruningNet(Architecture arch, int batch, Hyper hyper, long seed) {
        this(arch, batch, hyper, seed, true);
    }

    /**
     * With {@code trainable} false: a PruningNet that only generates weights (a search, an
     * evaluation): no training executor, no gradients, no momentum buffers (about half the memory
     * of the generators and all of the training executor's), and {@link #state()} holds what a
     * checkpoint needs to be read back for generation. {@code batch} is then unused.
     */
    public PruningNet(Architecture arch, int batch, Hyper hyper, long seed, boolean trainable) {
        this(arch, batch, hyper, seed, trainable, Kernels.get());
    }

    /**
     * As {@link #PruningNet(Architecture, int, Hyper, long, boolean)} on the backend {@code kernels}: the networks'
     * passes and the optimiser of the BatchNorm and classifier parameters run there; the generators run on the host,
     * or, when the backend is device-resident ({@link Kernels#deviceResident()}) and this PruningNet trains, there
     * too, so that per step only the batch and the generators' encodings move to the device.
     */
    public PruningNet(Architecture arch, int batch, Hyper hyper, long seed, boolean trainable, Kernels kernels) {
        this.arch = arch;
        this.trainable = trainable;
        this.k = kernels;
        this.net = trainable ? new Network(arch, batch, Network.Mode.TRAINING, kernels)
                : Network.forInference(arch, 1, kernels);
        this.hyper = hyper;
        this.ops = arch.ops();
        int n = ops.size();
        gens = new Generator[n];
        genOut = new Tensor[n];
        genGrad = new Tensor[n];
        bnMean = new Tensor[n][];
        bnVar = new Tensor[n][];
        gammaMom = new Tensor[n];
        betaMom = new Tensor[n];
        fcWMom = new Tensor[n];
        fcBMom = new Tensor[n];
        Network.Params p = net.params();
        encodings = new Encodings(ops);
        SplittableRandom seeds = new SplittableRandom(seed);
        for (int i = 0; i < n; i++) {
            Op op = ops.get(i);
            switch (op) {
                case Op.Conv c -> {
                    int[] s = c.maxWeightShape();
                    gens[i] = new Generator(c.generator().inputs().size(), c.generator().hidden(), s[0], s[1], s[2], s[3],
                            hyper.momentum(), hyper.weightDecay(), hyper.nesterov(), trainable).initDefault(seeds.nextLong());
                    genOut[i] = Tensor.zeros(s);
                    p.weight[i] = genOut[i];
                    if (trainable) {
                        genGrad[i] = Tensor.zeros(s);
                        p.weightGrad[i] = genGrad[i];
                    }
                }
                case Op.BatchNorm b -> {
                    int c = b.channels().base();
                    int sets = b.statsKey().isGene() ? Scales.COUNT : 1;
                    bnMean[i] = new Tensor[sets];
                    bnVar[i] = new Tensor[sets];
                    for (int s = 0; s < sets; s++) {
                        bnMean[i][s] = Tensor.zeros(c);
                        bnVar[i][s] = Tensor.zeros(c).fill(1f);
                    }
                    if (b.affineInPruningNet()) {
                        p.gamma[i] = Tensor.zeros(c).fill(1f);
                        p.beta[i] = Tensor.zeros(c);
                        if (trainable) {
                            p.gammaGrad[i] = Tensor.zeros(c);
                            p.betaGrad[i] = Tensor.zeros(c);
                            gammaMom[i] = Tensor.zeros(c);
                            betaMom[i] = Tensor.zeros(c);
                        }
                    }
                }
                case Op.Linear l -> {
                    int in = l.in().base();
                    Tensor w = Tensor.zeros(l.outFeatures(), in);
                    Tensor b = Tensor.zeros(l.outFeatures());
                    SplittableRandom r = new SplittableRandom(seeds.nextLong());
                    float bound = (float) (1 / Math.sqrt(in));
                    for (int j = 0; j < w.data().length; j++) {
                        w.data()[j] = (float) ((r.nextDouble() * 2 - 1) * bound);
                    }
                    for (int j = 0; j < b.data().length; j++) {
                        b.data()[j] = (float) ((r.nextDouble() * 2 - 1) * bound);
                    }
                    p.weight[i] = w;
                    p.bias[i] = b;
                    if (trainable) {
                        p.weightGrad[i] = Tensor.zeros(w.shape());
                        p.biasGrad[i] = Tensor.zeros(b.shape());
                        fcWMom[i] = Tensor.zeros(w.shape());
                        fcBMom[i] = Tensor.zeros(b.shape());
                    }
                }
                default -> {
                }
            }
        }
    }

    public Architecture architecture() {
        return arch;
    }

    public Network network() {
        return net;
    }

    /** Generates every conv weight for a gene and selects its BatchNorm statistics. */
    public Widths prepare(int[] geneIndices) {
        Widths w = arch.widthsForGene(geneIndices);
        Network.Params p = net.params();
        if (onDevice()) {
            encodings.write(geneIndices, k);
        }
        for (int i = 0; i < ops.size(); i++) {
            Op op = ops.get(i);
            if (op instanceof Op.Conv c) {
                Conv2dSpec s = w.conv(c);
                if (onDevice()) {   // generated where the convolution reads it
                    gens[i].forwardOn(k, encodings.of(i), s.cOut(), s.cIn() / s.groups(), genOut[i]);
                } else {
                    gens[i].forward(c.generator().encode(geneIndices), s.cOut(), s.cIn() / s.groups(), genOut[i]);
                    k.hostChanged(genOut[i]);   // generated on the host; the convolution reads it where it runs
                }
            } else if (op instanceof Op.BatchNorm b) {
                int set = b.statsKey().isGene() ? geneIndices[b.statsKey().genePosition()] : 0;
                p.runMean[i] = bnMean[i][set];
                p.runVar[i] = bnVar[i][set];
            }
        }
        return w;
    }

    /** One training step on a batch with a gene; returns the loss. */
    public float trainStep(Tensor x, int[] labels, int[] geneIndices, float lr) {
        if (!trainable) {
            throw new IllegalStateException("this PruningNet was built for generation only (trainable = false)");
        }
        Widths w = prepare(geneIndices);
        net.forward(x, w, Network.BnMode.TRAIN);
        float loss = net.backward(x, labels, hyper.labelSmoothing());
        if (!Float.isFinite(loss)) {
            return loss; // the caller stops the run; no update applied
        }
        Network.Params p = net.params();
        for (int i = 0; i < ops.size(); i++) {
            Op op = ops.get(i);
            switch (op) {
                case Op.Conv c -> {
                    if (onDevice()) {
                        gens[i].backwardAndStepOn(k, genGrad[i], lr);
                    } else {
                        k.toHost(genGrad[i]);   // the generator's backward runs on the host
                        gens[i].backwardAndStep(genGrad[i], lr);
                    }
                }
                case Op.BatchNorm b -> {
                    if (p.gamma[i] != null) {
                        int ch = w.ofValue(b.input());
                        zeroOutside(k, p.gammaGrad[i], ch);
                        zeroOutside(k, p.betaGrad[i], ch);
                        k.sgdStep(p.gamma[i], p.gammaGrad[i], gammaMom[i], lr, hyper.momentum(), 0f, hyper.nesterov());
                        k.sgdStep(p.beta[i], p.betaGrad[i], betaMom[i], lr, hyper.momentum(), 0f, hyper.nesterov());
                    }
                }
                case Op.Linear l -> {
                    zeroOutside(k, p.weightGrad[i], w.ofValue(l.input()));
                    k.sgdStep(p.weight[i], p.weightGrad[i], fcWMom[i], lr, hyper.momentum(), hyper.weightDecay(),
                            hyper.nesterov());
                    k.sgdStep(p.bias[i], p.biasGrad[i], fcBMom[i], lr, hyper.momentum(), hyper.weightDecay(),
                            hyper.nesterov());
                }
                default -> {
                }
            }
        }
        return loss;
    }

    /**
     * The backward pass writes only the used leading columns of a max-width gradient; the rest had
     * no gradient this step (zero, as PyTorch sees it, so momentum and decay still move them), not
     * the value a previous, wider step left there.
     */
    private static void zeroOutside(Kernels k, Tensor g, int usedCols) {
        int cols = g.cols();
        if (usedCols < cols) {
            k.zero(g.rank() == 1 ? Tensor.view(g.data(), g.offset() + usedCols, cols - usedCols, cols - usedCols)
                    : Tensor.view(g.data(), g.offset() + usedCols, g.ld(), g.rows(), cols - usedCols));
        }
    }

    /**
     * Whether the generators run on the backend (a device-resident one, training): then generated weights and their
     * gradients never cross to the host, and the generators take PyTorch's SGD step on every row eagerly (on the host
     * they take the same step lazily).
     */
    private boolean onDevice() {
        return trainable && k.deviceResident();
    }

    /** Whether this PruningNet can train (else it only generates weights). */
    public boolean trainable() {
        return trainable;
    }

    /**
     * Parameters, momentum buffers (when trainable) and BN statistics by name, current on the host (a device-resident
     * backend's copies are brought back first). After writing into them (a checkpoint read back), call
     * {@link #stateChanged}.
     */
    public Map<String, Tensor> state() {
        Map<String, Tensor> m = stateTensors();
        k.toHost(m.values().toArray(Tensor[]::new));
        return m;
    }

    /** After the host wrote into {@link #state()}'s tensors: the backend's copies are refreshed before the next use. */
    public void stateChanged() {
        k.hostChanged(stateTensors().values().toArray(Tensor[]::new));
    }

    /** The backend the networks and the optimiser run on. */
    public Kernels kernels() {
        return k;
    }

    private Map<String, Tensor> stateTensors() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        Network.Params p = net.params();
        for (int i = 0; i < ops.size(); i++) {
            Op op = ops.get(i);
            String n = op.name();
            switch (op) {
                case Op.Conv c -> {
                    Generator g = gens[i];
                    for (var e : g.state().entrySet()) {
                        m.put(n + ".generator." + e.getKey(), Tensor.wrap(e.getValue(), shapeOf(g, e.getKey())));
                    }
                }
                case Op.BatchNorm b -> {
                    for (int s = 0; s < bnMean[i].length; s++) {
                        m.put(n + ".running_mean." + s, bnMean[i][s]);
                        m.put(n + ".running_var." + s, bnVar[i][s]);
                    }
                    if (p.gamma[i] != null) {
                        m.put(n + ".weight", p.gamma[i]);
                        m.put(n + ".bias", p.beta[i]);
                        if (trainable) {
                            m.put(n + ".weight.momentum", gammaMom[i]);
                            m.put(n + ".bias.momentum", betaMom[i]);
                        }
                    }
                }
                case Op.Linear l -> {
                    m.put(n + ".weight", p.weight[i]);
                    m.put(n + ".bias", p.bias[i]);
                    if (trainable) {
                        m.put(n + ".weight.momentum", fcWMom[i]);
                        m.put(n + ".bias.momentum", fcBMom[i]);
                    }
                }
                default -> {
                }
            }
        }
        return m;
    }

    private static int[] shapeOf(Generator g, String key) {
        int rows = g.outMax() * g.inMax() * g.kernelArea();
        return switch (key) {
            case "fc1.weight", "fc1.weight.momentum" -> new int[] {g.hidden(), g.encDim()};
            case "fc1.bias", "fc1.bias.momentum" -> new int[] {g.hidden()};
            case "fc2.weight", "fc2.weight.momentum" -> new int[] {rows, g.hidden()};
            default -> new int[] {rows};
        };
    }

    /** The generator of the conv at op position {@code opIndex} (null for other ops). */
    public Generator generator(int opIndex) {
        return gens[opIndex];
    }

    /**
     * Brings every generator row up to date (exact lazy momentum applied), after which
     * {@link Generator#generate} may run on several threads: before a search.
     */
    public void flush() {
        for (Generator g : gens) {
            if (g != null) {
                g.flush();
            }
        }
    }

    /**
     * A network that evaluates genes with weights generated by this PruningNet, with its own weight,
     * activation and BatchNorm-statistics buffers (the affine BatchNorm parameters and the classifier
     * are shared, read-only): one per search worker. Call {@link #flush()} first.
     */
    public GeneratedNetwork generatedNetwork(int batch) {
        return new GeneratedNetwork(this, batch);
    }

    /** Generator parameter count (the PruningNet's size; the FC classifier and BN are small). */
    public long generatorParameters() {
        long s = 0;
        for (Generator g : gens) {
            if (g != null) {
                s += g.parameterCount();
            }
        }
        return s;
    }

    /** Completed training steps. */
    public int step() {
        for (Generator g : gens) {
            if (g != null) {
                return g.step();
            }
        }
        return 0;
    }

    /** After a checkpoint's arrays were copied into {@link #state()}'s tensors: restore the step counter. */
    public void restoredAt(int step) {
        for (Generator g : gens) {
            if (g != null) {
                g.restoredAt(step);
            }
        }
    }
}
