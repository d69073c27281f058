package dev.metaprune.bench;

import dev.metaprune.kernels.Parallel;
import dev.metaprune.nn.DenseModel;
import dev.metaprune.nn.Network;
import dev.metaprune.nn.arch.Architecture;
import dev.metaprune.nn.arch.Architectures;
import dev.metaprune.nn.arch.Widths;
import dev.metaprune.prune.NetworkSlots;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * One inference forward pass (inference executor, BatchNorm in eval mode) at batch 1: what {@code metaprune report}
 * and the latency profiler's {@code --validate} time. At batch 1 a small network's layers are tens of microseconds,
 * so the fixed cost of each kernel call (argument checks, dispatch, scratch) is a visible share of the pass.
 *
 * <ul>
 *   <li>{@code net=v2cifar-1.0}: {@code mobilenetv2-cifar}, 1x28x28, width multiplier 1.0;</li>
 *   <li>{@code net=v2cifar-0.5}: the same at multiplier 0.5;</li>
 *   <li>{@code net=resnet20}: {@code resnet20}, 3x32x32, full width.</li>
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx4g"})
public class InferenceBench {
    @Param({"v2cifar-1.0", "v2cifar-0.5", "resnet20"})
    public String net;

    @Param({"1"})
    public int threads;

    Network network;
    Widths widths;
    Tensor x;

    @Setup(Level.Trial)
    public void setup() {
        Parallel.setThreads(threads);
        Architecture arch;
        double multiplier;
        switch (net) {
            case "v2cifar-1.0" -> {
                arch = Architectures.get("mobilenetv2-cifar", 1, 28, 10);
                multiplier = 1.0;
            }
            case "v2cifar-0.5" -> {
                arch = Architectures.get("mobilenetv2-cifar", 1, 28, 10);
                multiplier = 0.5;
            }
            case "resnet20" -> {
                arch = Architectures.get("resnet20", 3, 32, 10);
                multiplier = 1.0;
            }
            default -> throw new IllegalArgumentException("net must be v2cifar-1.0, v2cifar-0.5 or resnet20, not "
                    + net);
        }
        widths = arch.widthsForMultiplier(multiplier);
        DenseModel m = new DenseModel(widths, 1, 0.9f, 0f, false, 0f, 7);
        network = Network.forInference(arch, 1);
        NetworkSlots.fill(network, m.weights());
        int c = arch.input().channels(), s = arch.input().size();
        x = Tensor.wrap(Data.random(s * s * c, 1), 1, s, s, c);
    }

    @Benchmark
    public Tensor forward() {
        return network.forward(x, widths, Network.BnMode.EVAL);
    }
}
