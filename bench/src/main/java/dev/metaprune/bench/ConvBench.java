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
 * Convolutions at MobileNetV2 / ResNet layer shapes ({@link Layers}), NHWC, through the kernel
 * interface: forward, input gradient, weight gradient. Buffers are allocated and touched once in
 * setup, as the network executor does. Work = the layer's multiply-adds x 2 FLOP per pass.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx8g", "-XX:+UseParallelGC"})
public class ConvBench {
    @Param({"stem3x3s2_3-32@224_n32", "dw3x3s2_96@112_n32", "pw_24-144@56_n32", "dw3x3s1_144@56_n32",
            "dw3x3s2_144@56_n32", "pw_144-24@56_n32", "pw_160-960@7_n32", "dw3x3s1_960@7_n32", "pw_320-1280@7_n32",
            "conv3x3_64-64@56_n32", "stem3x3s1_3-32@32_n128", "pw_24-144@32_n128", "dw3x3s1_144@32_n128",
            "dw3x3s2_144@32_n128", "pw_144-24@32_n128"})
    public String layer;

    @Param({"1", "2"})
    public int threads;

    Layers.Layer l;
    Kernels k;
    Tensor x, w, y, dy, dx, dw;

    @Setup(Level.Trial)
    public void setup() {
        Parallel.setThreads(threads);
        k = Kernels.get();
        l = Layers.get(layer);
        var s = l.spec();
        x = Tensor.wrap(Data.random(l.n() * l.h() * l.w() * s.cIn(), 1), l.n(), l.h(), l.w(), s.cIn());
        w = Tensor.wrap(Data.random(s.cOut() * (s.cIn() / s.groups()) * s.kh() * s.kw(), 2), s.cOut(),
                s.cIn() / s.groups(), s.kh(), s.kw());
        y = Tensor.zeros(l.n(), l.outH(), l.outW(), s.cOut());
        dy = Tensor.wrap(Data.random(l.n() * l.outH() * l.outW() * s.cOut(), 3), l.n(), l.outH(), l.outW(), s.cOut());
        dx = Tensor.zeros(x.shape());
        dw = Tensor.zeros(w.shape());
    }

    @Benchmark
    public Tensor forward() {
        k.conv2dForward(x, w, null, y, l.spec());
        return y;
    }

    @Benchmark
    public Tensor backwardInput() {
        k.conv2dBackwardInput(dy, w, dx, l.spec());
        return dx;
    }

    @Benchmark
    public Tensor backwardWeight() {
        k.conv2dBackwardWeight(x, dy, dw, null, l.spec(), false);
        return dw;
    }
}
