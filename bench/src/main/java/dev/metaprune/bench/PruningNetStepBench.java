package dev.metaprune.bench;

import dev.metaprune.kernels.Parallel;
import dev.metaprune.nn.arch.Architecture;
import dev.metaprune.nn.arch.Architectures;
import dev.metaprune.nn.arch.GeneSpace;
import dev.metaprune.nn.arch.Scales;
import dev.metaprune.nn.gene.Gene;
import dev.metaprune.pruningnet.PruningNet;
import dev.metaprune.tensor.Tensor;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One PruningNet training step, end to end: generate every conv weight's crop for a gene, forward,
 * backward (with the generators' fused SGD update), classifier step. {@code mobilenetv2-cifar} at
 * 1x28x28 (Fashion-MNIST's shape), 10 classes, batch 128, momentum 0.9, label smoothing 0.1, weight
 * decay 0 (the official MobileNetV2 setting).
 *
 * <p>{@code gene=random}: each invocation takes the next gene of a fixed-seed sequence (uniform over
 * the 31 scales, stage-tied: the training distribution), as training does. {@code gene=full}: every
 * invocation the all-1.00 gene (the widest network; the generators' upper bound).
 * Images/s = 128 / (ms/op) x 1000. The bench/peers/torch_pruningnet.py peer times the same step.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx16g", "-XX:+UseParallelGC"})
public class PruningNetStepBench {
    static final int BATCH = 128, SIZE = 28, CHANNELS = 1, CLASSES = 10;
    static final long GENE_SEED = 20190101L;
    /** Genes drawn ahead (cycled); enough that no one gene dominates a measurement. */
    static final int GENES = 512;

    @Param({"random", "full"})
    public String gene;

    @Param({"1", "2"})
    public int threads;

    PruningNet pn;
    Tensor x;
    int[] labels;
    int[][] genes;
    int next;
    int nonFinite;

    @Setup(Level.Trial)
    public void setup() {
        Parallel.setThreads(threads);
        Architecture arch = Architectures.get("mobilenetv2-cifar", CHANNELS, SIZE, CLASSES);
        GeneSpace space = arch.geneSpace();
        pn = new PruningNet(arch, BATCH, PruningNet.Hyper.official(0f), 7);
        x = Tensor.wrap(Data.random(BATCH * SIZE * SIZE * CHANNELS, 1), BATCH, SIZE, SIZE, CHANNELS);
        labels = Data.labels(BATCH, CLASSES, 2);
        genes = new int[GENES][];
        SplittableRandom r = new SplittableRandom(GENE_SEED);
        for (int i = 0; i < GENES; i++) {
            genes[i] = switch (gene) {
                case "random" -> Gene.random(space, r).indices();
                case "full" -> Gene.uniformIndex(space, Scales.MAX_INDEX).indices();
                default -> throw new IllegalArgumentException("gene must be random or full, not " + gene);
            };
        }
    }

    @Benchmark
    public float trainStep() {
        float loss = pn.trainStep(x, labels, genes[next++ % GENES], 0.01f);
        if (!Float.isFinite(loss)) {
            nonFinite++;
        }
        return loss;
    }

    @TearDown(Level.Trial)
    public void check() {
        if (nonFinite > 0) { // a non-finite loss skips the update: the timing would not be a full step
            throw new IllegalStateException(nonFinite + " steps had a non-finite loss");
        }
    }
}
