package dev.metaprune.cudnn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.metaprune.cuda.Cuda;
import dev.metaprune.cuda.CudaKernels;
import dev.metaprune.kernels.Conv2dSpec;
import dev.metaprune.kernels.CpuKernels;
import dev.metaprune.latency.LatencyDevice;
import dev.metaprune.latency.LatencyDeviceProvider;
import dev.metaprune.latency.LayerPositions;
import dev.metaprune.latency.LayerTimer;
import dev.metaprune.latency.NetworkTimer;
import dev.metaprune.latency.TimingSettings;
import dev.metaprune.nn.DenseModel;
import dev.metaprune.nn.Network;
import dev.metaprune.nn.arch.Architectures;
import dev.metaprune.prune.NetworkSlots;
import dev.metaprune.tensor.Init;
import dev.metaprune.tensor.Tensor;
import java.util.List;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

/** The {@code cudnn} latency device: found on the class path, refused with the reason without a GPU, right with one. */
class CudnnDeviceTest {
    @Test
    void theProfilerFindsTheDeviceOnTheClassPath() {
        List<String> kinds = ServiceLoader.load(LatencyDeviceProvider.class).stream()
                .map(p -> p.get().kind()).toList();
        assertEquals(List.of("cudnn"), kinds);
        assertTrue(LatencyDevice.kinds().contains("cudnn"));
    }

    @Test
    void withoutAGpuTheDeviceSaysWhy() {
        Cuda.Availability a = Cuda.availability();
        assumeTrue(!a.available(), "this check needs a machine without a usable GPU");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LatencyDevice.of("cudnn"));
        assertEquals("device cudnn: CUDA is not available here: " + a.reason(), e.getMessage());
        System.out.println("[cudnn] " + e.getMessage());
    }

    /** Relative error of the device result against the CPU's, over the rows of {@code y} (a view allowed). */
    private static double relError(float[] device, Tensor y, Tensor want) {
        double num = 0, den = 0;
        for (int r = 0; r < y.rows(); r++) {
            for (int c = 0; c < y.cols(); c++) {
                double d = device[y.offset() + r * y.ld() + c] - want.data()[r * want.ld() + c];
                num += d * d;
                den += (double) want.data()[r * want.ld() + c] * want.data()[r * want.ld() + c];
            }
        }
        return Math.sqrt(num / Math.max(den, 1e-30));
    }

    @Test
    void cudnnConvolutionsMatchTheCpuAndTheDeviceTimesNetworks() {
        Cuda.Availability a = Cuda.availability();
        assumeTrue(a.available(), () -> "no GPU: " + a.reason());
        LatencyDevice d = LatencyDevice.of("cudnn");
        CudnnKernels k = (CudnnKernels) d.kernels();
        assertTrue(d.info().path("cudnn").asText().matches("\\d+\\.\\d+\\.\\d+"), d.info().toString());
        CpuKernels cpu = new CpuKernels();
        // {cInMax, cOutMax, cIn, cOut, k, stride, pad, groups, H, channel view of a wider input, bias}
        int[][] cases = {
            {96, 64, 40, 24, 1, 1, 0, 1, 14, 0, 0},   // sliced 1x1
            {96, 64, 40, 24, 1, 1, 0, 1, 14, 1, 1},   // sliced 1x1 on a channel view, with bias
            {32, 32, 24, 24, 3, 1, 1, 24, 28, 0, 0},  // depthwise, stride 1
            {32, 32, 24, 24, 3, 2, 1, 24, 28, 0, 1},  // depthwise, stride 2, bias
            {3, 32, 3, 16, 3, 2, 1, 1, 32, 0, 0},     // the stem
            {64, 64, 40, 48, 3, 1, 1, 1, 8, 0, 1},    // ResNet's sliced 3x3
        };
        for (int[] c : cases) {
            Conv2dSpec s = new Conv2dSpec(c[2], c[3], c[4], c[4], c[5], c[5], c[6], c[6], c[7]);
            int n = 4, h = c[8], ho = s.outH(h);
            Tensor wide = Tensor.zeros(n, h, h, c[2] + 8 * c[9]);
            Init.normal(wide, 0f, 1f, 11);
            Tensor x = wide.channels(4 * c[9], 4 * c[9] + c[2]);
            Tensor w = Tensor.zeros(c[1], c[7] == 1 ? c[0] : 1, c[4], c[4]); // OIHW, depthwise: one input per group
            Init.normal(w, 0f, 0.2f, 12);
            Tensor bias = c[10] == 1 ? Tensor.zeros(c[1]) : null;
            if (bias != null) {
                Init.normal(bias, 0f, 1f, 13);
            }
            Tensor y = Tensor.zeros(n, ho, ho, c[3]);
            Tensor want = Tensor.zeros(n, ho, ho, c[3]);
            cpu.conv2dForward(x, w, bias, want, s);
            k.conv2dForward(x, w, bias, y, s);
            k.synchronize();
            float[] got = k.deviceCopy(y.data());
            assertNotNull(got, "the output has a device copy");
            double err = relError(got, y, want);
            System.out.printf("[cudnn] %s on %s: relative error %.2e%n", s, java.util.Arrays.toString(x.shape()), err);
            assertTrue(err < 1e-5, s + ": relative error " + err);
        }
        // a whole network: cuDNN's convolutions and our other kernels give the staging CUDA backend's logits
        var arch = Architectures.get("mobilenetv2-cifar", 1, 28, 10);
        var widths = arch.widthsForMultiplier(0.75);
        var model = new DenseModel(widths, 1, 0.9f, 0f, false, 0f, 3);
        Tensor x = Tensor.zeros(4, 28, 28, 1);
        Init.normal(x, 0f, 1f, 5);
        Network ref = Network.forInference(arch, 4, CudaKernels.create());
        NetworkSlots.fill(ref, model.weights());
        float[] want = ref.forward(x, widths, Network.BnMode.EVAL).toArray();
        Network net = Network.forInference(arch, 4, k);
        NetworkSlots.fill(net, model.weights());
        Tensor y = net.forward(x, widths, Network.BnMode.EVAL);
        k.synchronize();
        float[] got = k.deviceCopy(y.data());
        for (int r = 0; r < 4; r++) {
            for (int j = 0; j < 10; j++) {
                float wj = want[r * 10 + j];
                assertEquals(wj, got[y.offset() + r * y.ld() + j], 1e-4f * Math.max(1f, Math.abs(wj)), "logit " + j);
            }
        }
        k.releaseDeviceCopies();
        LayerTimer lt = new LayerTimer(arch, 32, TimingSettings.defaults(), k);
        for (var p : LayerPositions.of(arch).subList(0, 3)) {
            var m = lt.time(p, p.in().base(), p.out().base());
            assertTrue(m.medianMs() > 0 && m.medianMs() < 100, p.name() + ": " + m);
        }
        lt.release();
        NetworkTimer nt = new NetworkTimer(arch, 32, k);
        double wideMs = nt.time(arch.widthsForMultiplier(1.0), TimingSettings.defaults()).medianMs();
        double narrowMs = nt.time(arch.widthsForMultiplier(0.1), TimingSettings.defaults()).medianMs();
        System.out.printf("[cudnn] mobilenetv2-cifar batch 32: 1.0x %.3f ms, 0.1x %.3f ms%n", wideMs, narrowMs);
        assertTrue(narrowMs > 0 && narrowMs <= wideMs * 1.2, "a narrower network is not slower");
        d.release();
    }
}
