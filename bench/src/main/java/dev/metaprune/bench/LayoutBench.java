package dev.metaprune.bench;

import static dev.metaprune.kernels.Vec.F;
import static dev.metaprune.kernels.Vec.L;

import dev.metaprune.kernels.Gemm;
import dev.metaprune.kernels.Kernels;
import dev.metaprune.kernels.Parallel;
import dev.metaprune.tensor.Tensor;
import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
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
 * The layout study behind MetaPrune's choice of NHWC: the two layers that dominate MobileNetV2
 * (depthwise 3x3 and pointwise 1x1) written for NCHW the best way we know — depthwise vectorised
 * along a row of a zero-padded plane, pointwise as one GEMM per image {@code Y[Co, HW] = W X[Ci, HW]}
 * — against the library's NHWC kernels (depthwise vectorised over channels, pointwise as one GEMM
 * over the whole batch). Forward only; the same inputs.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx6g", "-XX:+UseParallelGC"})
public class LayoutBench {
    @Param({"dw3x3s1_144@56_n32", "dw3x3s1_960@7_n32", "dw3x3s1_144@32_n128", "pw_24-144@56_n32",
            "pw_160-960@7_n32", "pw_144-24@32_n128"})
    public String layer;

    @Param({"nhwc", "nchw"})
    public String layout;

    @Param({"1"})
    public int threads;

    Layers.Layer l;
    Tensor x, w, y;
    float[][] pads;

    @Setup(Level.Trial)
    public void setup() {
        Parallel.setThreads(threads);
        l = Layers.get(layer);
        var s = l.spec();
        int n = l.n(), h = l.h(), wd = l.w();
        float[] xs = Data.random(n * h * wd * s.cIn(), 1);
        x = layout.equals("nhwc") ? Tensor.wrap(xs, n, h, wd, s.cIn()) : Tensor.wrap(xs, n, s.cIn(), h, wd);
        w = Tensor.wrap(Data.random(s.cOut() * (s.cIn() / s.groups()) * s.kh() * s.kw(), 2), s.cOut(),
                s.cIn() / s.groups(), s.kh(), s.kw());
        y = layout.equals("nhwc") ? Tensor.zeros(n, l.outH(), l.outW(), s.cOut())
                : Tensor.zeros(n, s.cOut(), l.outH(), l.outW());
        pads = new float[threads][(h + 2) * (wd + 2)];
    }

    @Benchmark
    public Tensor forward() {
        if (layout.equals("nhwc")) {
            Kernels.get().conv2dForward(x, w, null, y, l.spec());
        } else if (l.spec().isDepthwise()) {
            depthwiseNchw();
        } else {
            pointwiseNchw();
        }
        return y;
    }

    private void pointwiseNchw() {
        var s = l.spec();
        int hw = l.h() * l.w();
        for (int i = 0; i < l.n(); i++) {
            Gemm.sgemm(false, false, s.cOut(), hw, s.cIn(), 1f, w.data(), 0, s.cIn(), x.data(), i * s.cIn() * hw, hw,
                    0f, y.data(), i * s.cOut() * hw, hw);
        }
    }

    private void depthwiseNchw() {
        int c = l.spec().cIn(), h = l.h(), wd = l.w(), planes = l.n() * c;
        float[] xd = x.data(), yd = y.data(), wt = w.data();
        Parallel.get().run(threads, (p, parts) -> {
            float[] pad = pads[p];
            int pw = wd + 2;
            for (int pl = Parallel.split(planes, parts, p); pl < Parallel.split(planes, parts, p + 1); pl++) {
                int ch = pl % c, xo = pl * h * wd;
                for (int r = 0; r < h; r++) {
                    System.arraycopy(xd, xo + r * wd, pad, (r + 1) * pw + 1, wd);
                }
                float k0 = wt[ch * 9], k1 = wt[ch * 9 + 1], k2 = wt[ch * 9 + 2], k3 = wt[ch * 9 + 3], k4 = wt[ch * 9 + 4],
                        k5 = wt[ch * 9 + 5], k6 = wt[ch * 9 + 6], k7 = wt[ch * 9 + 7], k8 = wt[ch * 9 + 8];
                FloatVector v0 = FloatVector.broadcast(F, k0), v1 = FloatVector.broadcast(F, k1),
                        v2 = FloatVector.broadcast(F, k2), v3 = FloatVector.broadcast(F, k3),
                        v4 = FloatVector.broadcast(F, k4), v5 = FloatVector.broadcast(F, k5),
                        v6 = FloatVector.broadcast(F, k6), v7 = FloatVector.broadcast(F, k7),
                        v8 = FloatVector.broadcast(F, k8);
                for (int r = 0; r < h; r++) {
                    int r0 = r * pw, r1 = r0 + pw, r2 = r1 + pw, out = xo + r * wd;
                    for (int q = 0; q < wd; q += L) {
                        VectorMask<Float> m = F.indexInRange(q, wd);
                        FloatVector acc = FloatVector.fromArray(F, pad, r0 + q, m).mul(v0);
                        acc = FloatVector.fromArray(F, pad, r0 + q + 1, m).fma(v1, acc);
                        acc = FloatVector.fromArray(F, pad, r0 + q + 2, m).fma(v2, acc);
                        acc = FloatVector.fromArray(F, pad, r1 + q, m).fma(v3, acc);
                        acc = FloatVector.fromArray(F, pad, r1 + q + 1, m).fma(v4, acc);
                        acc = FloatVector.fromArray(F, pad, r1 + q + 2, m).fma(v5, acc);
                        acc = FloatVector.fromArray(F, pad, r2 + q, m).fma(v6, acc);
                        acc = FloatVector.fromArray(F, pad, r2 + q + 1, m).fma(v7, acc);
                        acc = FloatVector.fromArray(F, pad, r2 + q + 2, m).fma(v8, acc);
                        acc.intoArray(yd, out + q, m);
                    }
                }
            }
        });
    }
}
