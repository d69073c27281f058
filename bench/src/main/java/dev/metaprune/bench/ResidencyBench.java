package dev.metaprune.bench;

import dev.metaprune.kernels.Residency;
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
 * The host-side bookkeeping a device-resident backend adds to every kernel call ({@link Residency}: look up the
 * device copy of each operand's array, mark the output device-newer), with a device that does nothing, so only the
 * bookkeeping is timed. A call here is what a convolution or BatchNorm call does: three operands looked up, one
 * marked written. On a GPU a training step is launch-bound (PyTorch's MobileNetV2 step at batch 32 takes 22 ms on an
 * H100 whatever the input size), so this per-call cost must stay far below a kernel launch's few microseconds.
 * {@code arrays}: how many distinct arrays the backend holds (a PruningNet step of mobilenetv2-cifar touches a few
 * hundred).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx2g"})
public class ResidencyBench {
    @Param({"64", "1024"})
    public int arrays;

    private static final Object BUFFER = new Object();
    Residency<Object> residency;
    float[][] held;
    int next;

    @Setup(Level.Trial)
    public void setup() {
        residency = new Residency<>(new Residency.Device<>() {
            @Override
            public Object allocate(Object array) {
                return BUFFER;
            }

            @Override
            public void upload(Object array, Object buffer) {
            }

            @Override
            public void download(Object buffer, Object array) {
            }

            @Override
            public void free(Object buffer) {
            }
        });
        held = new float[arrays][];
        for (int i = 0; i < arrays; i++) {
            held[i] = new float[16];
            residency.device(held[i]);
        }
    }

    /** One kernel call's bookkeeping: two inputs and an output looked up, the output marked written. */
    @Benchmark
    public Object kernelCall() {
        int i = next;
        next = i + 5 < arrays ? i + 3 : 0;   // the next call's three arrays stay in range
        residency.device(held[i]);
        residency.device(held[i + 1]);
        Object out = residency.device(held[i + 2]);
        residency.deviceWrote(held[i + 2]);
        return out;
    }
}
