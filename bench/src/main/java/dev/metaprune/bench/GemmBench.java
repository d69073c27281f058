package dev.metaprune.bench;

import dev.metaprune.kernels.Gemm;
import dev.metaprune.kernels.Parallel;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * SGEMM, row-major {@code C = A * B}: square sizes, and the PruningNet generator's second FC
 * ({@code Linear(64 -> 200704)} at batch 1: forward {@code y = h W^T}, and its backward
 * {@code dW = dy^T h}, {@code dh = dy W}). Work: {@code 2 M N K} FLOP ({@code bench/jmh_report.py}
 * turns times into GFLOP/s and GB/s).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx6g", "-XX:+UseParallelGC"})
public class GemmBench {
    @Param({"256", "512", "1024", "2048"})
    public int n;

    @Param({"1", "2"})
    public int threads;

    float[] a, b, c;

    @Setup(Level.Trial)
    public void setup() {
        Parallel.setThreads(threads);
        a = Data.random(n * n, 1);
        b = Data.random(n * n, 2);
        c = new float[n * n];
    }

    @Benchmark
    public float[] sgemm() {
        Gemm.sgemm(false, false, n, n, n, 1f, a, 0, n, b, 0, n, 0f, c, 0, n);
        return c;
    }

    /** The generator FC of a 448x448 pointwise conv: 64 hidden units to 200,704 weights. */
    @State(Scope.Benchmark)
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Warmup(iterations = 3, time = 1)
    @Measurement(iterations = 5, time = 1)
    @Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx6g", "-XX:+UseParallelGC"})
    public static class Generator {
        @Param({"200704"})
        public int out;

        @Param({"64"})
        public int hidden;

        @Param({"1", "2"})
        public int threads;

        float[] w, h, y, dy, dw, dh;

        @Setup(Level.Trial)
        public void setup() {
            Parallel.setThreads(threads);
            w = Data.random(out * hidden, 3);
            h = Data.random(hidden, 4);
            y = new float[out];
            dy = Data.random(out, 5);
            dw = new float[out * hidden];
            dh = new float[hidden];
        }

        /** {@code y[1, out] = h[1, 64] * W[out, 64]^T}: streams W once. */
        @Benchmark
        public float[] forward() {
            Gemm.sgemm(false, true, 1, out, hidden, 1f, h, 0, hidden, w, 0, hidden, 0f, y, 0, out);
            return y;
        }

        /** {@code dW[out, 64] = dy^T h} and {@code dh = dy W}: writes dW once and reads W once. */
        @Benchmark
        public float[] backward() {
            Gemm.sgemm(true, false, out, hidden, 1, 1f, dy, 0, out, h, 0, hidden, 0f, dw, 0, hidden);
            Gemm.sgemm(false, false, 1, hidden, out, 1f, dy, 0, out, w, 0, hidden, 0f, dh, 0, hidden);
            return dh;
        }
    }
}
