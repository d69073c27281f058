package dev.metaprune.bench;

import dev.metaprune.kernels.Parallel;
import dev.metaprune.nn.DenseModel;
import dev.metaprune.nn.arch.Architecture;
import dev.metaprune.nn.arch.Architectures;
import dev.metaprune.nn.arch.Scales;
import dev.metaprune.nn.gene.Gene;
import dev.metaprune.tensor.Tensor;
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
 * One training step of a plain network with its own weights ({@link DenseModel}: forward, backward,
 * SGD with momentum 0.9, label smoothing 0.1, weight decay 0), at the full width of the MetaPruning
 * layout (every gene position at scale 1.00: the 1.4x bases 44, 22, 33, ..., 448, last conv 1280).
 *
 * <ul>
 *   <li>{@code case=cifar-b128}: {@code mobilenetv2-cifar}, 1x28x28, 10 classes, batch 128;</li>
 *   <li>{@code case=imagenet-b32}: {@code mobilenetv2}, 3x224x224, 1000 classes, batch 32.</li>
 * </ul>
 * Images/s = batch / (ms/op) x 1000. bench/peers/torch_pruningnet.py times the same steps in PyTorch.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx16g", "-XX:+UseParallelGC"})
public class DenseStepBench {
    @Param({"cifar-b128", "imagenet-b32"})
    public String net;

    @Param({"1", "2"})
    public int threads;

    DenseModel model;
    Tensor x;
    int[] labels;
    int nonFinite;

    @Setup(Level.Trial)
    public void setup() {
        Parallel.setThreads(threads);
        Architecture arch;
        int batch;
        switch (net) {
            case "cifar-b128" -> {
                arch = Architectures.get("mobilenetv2-cifar", 1, 28, 10);
                batch = 128;
            }
            case "imagenet-b32" -> {
                arch = Architectures.get("mobilenetv2");
                batch = 32;
            }
            default -> throw new IllegalArgumentException("net must be cifar-b128 or imagenet-b32, not " + net);
        }
        int c = arch.input().channels(), s = arch.input().size();
        int[] full = Gene.uniformIndex(arch.geneSpace(), Scales.MAX_INDEX).indices();
        model = new DenseModel(arch.widthsForGene(full), batch, 0.9f, 0f, false, 0.1f, 7);
        x = Tensor.wrap(Data.random(batch * s * s * c, 1), batch, s, s, c);
        labels = Data.labels(batch, arch.input().classes(), 2);
    }

    @Benchmark
    public float trainStep() {
        float loss = model.trainStep(x, labels, 0.01f);
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
