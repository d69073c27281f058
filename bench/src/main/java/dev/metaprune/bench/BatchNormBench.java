package dev.metaprune.bench;

import dev.metaprune.kernels.Kernels;
import dev.metaprune.kernels.Parallel;
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
 * BatchNorm in training mode (affine) at MobileNetV2 shapes, NHWC. Memory-bound: the report
 * counts the bytes every pass must move (forward: read x twice for mean/var + once to normalise,
 * write y; backward: read x and dy twice, write dx).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx6g", "-XX:+UseParallelGC"})
public class BatchNormBench {
    /** {@code N,H,C}. */
    @Param({"32,56,144", "32,7,960", "128,32,144"})
    public String shape;

    @Param({"1", "2"})
    public int threads;

    Kernels k;
    Tensor x, y, dy, dx, gamma, beta, mean, invStd, runMean, runVar, dGamma, dBeta;

    @Setup(Level.Trial)
    public void setup() {
        Parallel.setThreads(threads);
        k = Kernels.get();
        String[] p = shape.split(",");
        int n = Integer.parseInt(p[0]), h = Integer.parseInt(p[1]), c = Integer.parseInt(p[2]);
        x = Tensor.wrap(Data.random(n * h * h * c, 1), n, h, h, c);
        dy = Tensor.wrap(Data.random(n * h * h * c, 2), n, h, h, c);
        y = Tensor.zeros(n, h, h, c);
        dx = Tensor.zeros(n, h, h, c);
        gamma = Tensor.zeros(c).fill(1f);
        beta = Tensor.zeros(c);
        mean = Tensor.zeros(c);
        invStd = Tensor.zeros(c);
        runMean = Tensor.zeros(c);
        runVar = Tensor.zeros(c).fill(1f);
        dGamma = Tensor.zeros(c);
        dBeta = Tensor.zeros(c);
        k.batchNormTrainForward(x, gamma, beta, y, mean, invStd, runMean, runVar, 0.1f, 1e-5f);
    }

    @Benchmark
    public Tensor trainForward() {
        k.batchNormTrainForward(x, gamma, beta, y, mean, invStd, runMean, runVar, 0.1f, 1e-5f);
        return y;
    }

    @Benchmark
    public Tensor backward() {
        k.batchNormBackward(x, dy, gamma, mean, invStd, dx, dGamma, dBeta, false);
        return dx;
    }
}
