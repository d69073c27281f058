package dev.metaprune.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.metaprune.cuda.ffm.MetaPruneNative;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The CUDA backend on any machine: it reports whether it can run and why not; the library's error
 * paths map to {@link CudaException}s naming the function; and, where there is a GPU, every kernel
 * matches the CPU kernel ({@link CudaCheck}). Without a GPU those tests are skipped with the reason.
 */
class CudaBackendTest {

    @Test
    void availabilityIsReportedWithAReason() {
        Cuda.Availability a = Cuda.availability();
        System.out.println("[cuda] " + a);
        if (a.available()) {
            assertNotNull(a.device());
            assertEquals("cuda", CudaKernels.create().name());
        } else {
            assertNotNull(a.reason());
            assertFalse(a.reason().isBlank());
            IllegalStateException e = assertThrows(IllegalStateException.class, CudaKernels::create);
            assertTrue(e.getMessage().contains(a.reason()), e.getMessage());
        }
    }

    private static MetaPruneNative libraryOrSkip() {
        MetaPruneNative lib = Cuda.libraryOrNull();
        assumeTrue(lib != null, () -> "libmetaprune_cuda not loadable here: " + Cuda.availability().reason());
        return lib;
    }

    @Test
    void invalidArgumentsNameTheKernel() {
        MetaPruneNative lib = libraryOrSkip();
        // checked before any CUDA call: works without a GPU too
        int st = lib.mp_gemm(MemorySegment.NULL, 0, 0, -1, 4, 4, 1f, MemorySegment.NULL, 4, MemorySegment.NULL, 4, 0f,
                MemorySegment.NULL, 4);
        assertEquals(MetaPruneNative.MP_ERR_INVALID_ARGUMENT, st);
        CudaException e = assertThrows(CudaException.class, () -> Cuda.check(lib, st, "mp_gemm"));
        assertTrue(e.getMessage().startsWith("mp_gemm: invalid argument"), e.getMessage());
        int st2 = lib.mp_depthwise_forward(MemorySegment.NULL, 1, 8, 8, 16, MemorySegment.NULL, 8, MemorySegment.NULL,
                3, 1, 1, MemorySegment.NULL, MemorySegment.NULL, 8, 8, 16);
        CudaException e2 = assertThrows(CudaException.class, () -> Cuda.check(lib, st2, "mp_depthwise_forward"));
        assertTrue(e2.getMessage().contains("mp_depthwise_forward") && e2.getMessage().contains("leading dimension"),
                e2.getMessage());
    }

    @Test
    void cudaErrorsCarryTheCudaErrorString() {
        MetaPruneNative lib = libraryOrSkip();
        assumeTrue(!Cuda.availability().available(), "this check needs a machine without a usable GPU");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            int st = lib.mp_malloc(out, 1024);
            assertNotEquals(MetaPruneNative.MP_OK, st);
            CudaException e = assertThrows(CudaException.class, () -> Cuda.check(lib, st, "mp_malloc"));
            System.out.println("[cuda] " + e.getMessage());
            assertTrue(e.getMessage().startsWith("mp_malloc: cuda"), e.getMessage());
            assertTrue(e.cudaError() != 0, "the CUDA error number is kept");
        }
    }

    @Test
    void everyKernelMatchesTheCpu() {
        Cuda.Availability a = Cuda.availability();
        assumeTrue(a.available(), () -> "no GPU: " + a.reason());
        List<CudaCheck.Result> rs = new CudaCheck(Cuda.get(), System.nanoTime()).runAll(false);
        assertTrue(rs.size() > 60, "all checks ran");
        List<CudaCheck.Result> failed = rs.stream().filter(r -> !r.passed()).toList();
        assertTrue(failed.isEmpty(), () -> "failed: " + failed);
    }

    @Test
    void theResidentModeComputesWhatTheStagingModeDoesAndTimesLayers() {
        Cuda.Availability a = Cuda.availability();
        assumeTrue(a.available(), () -> "no GPU: " + a.reason());
        var arch = dev.metaprune.nn.arch.Architectures.get("mobilenetv2-cifar", 1, 28, 10);
        var widths = arch.widthsForMultiplier(0.75);
        var model = new dev.metaprune.nn.DenseModel(widths, 1, 0.9f, 0f, false, 0f, 3);
        var x = dev.metaprune.tensor.Tensor.zeros(4, 28, 28, 1);
        dev.metaprune.tensor.Init.normal(x, 0f, 1f, 5);
        CudaKernels staged = CudaKernels.create(), resident = CudaKernels.resident();
        float[] want = null;
        for (CudaKernels k : List.of(staged, resident)) {
            var net = dev.metaprune.nn.Network.forInference(arch, 4, k);
            dev.metaprune.prune.NetworkSlots.fill(net, model.weights());
            var y = net.forward(x, widths, dev.metaprune.nn.Network.BnMode.EVAL);
            y = net.forward(x, widths, dev.metaprune.nn.Network.BnMode.EVAL); // second pass: all operands resident
            float[] got = k == resident ? resident.deviceCopy(y.data()) : y.data();
            assertNotNull(got, "the output buffer has a device copy");
            float[] rows = new float[4 * 10];
            for (int r = 0; r < 4; r++) {
                System.arraycopy(got, y.offset() + r * y.ld(), rows, r * 10, 10);
            }
            if (want == null) {
                want = rows;
            } else {
                for (int i = 0; i < rows.length; i++) {
                    assertEquals(want[i], rows[i], 1e-4f * Math.max(1f, Math.abs(want[i])), "logit " + i);
                }
            }
        }
        var lt = new dev.metaprune.latency.LayerTimer(arch, 32, dev.metaprune.latency.TimingSettings.defaults(),
                resident);
        for (var p : dev.metaprune.latency.LayerPositions.of(arch).subList(0, 3)) {
            var m = lt.time(p, p.in().base(), p.out().base());
            assertTrue(m.medianMs() > 0 && m.medianMs() < 100, p.name() + ": " + m);
        }
        lt.release();
        var nt = new dev.metaprune.latency.NetworkTimer(arch, 32, resident);
        double wide = nt.time(arch.widthsForMultiplier(1.0), dev.metaprune.latency.TimingSettings.defaults()).medianMs();
        double narrow = nt.time(arch.widthsForMultiplier(0.1), dev.metaprune.latency.TimingSettings.defaults())
                .medianMs();
        System.out.printf("[cuda] mobilenetv2-cifar batch 32: 1.0x %.3f ms, 0.1x %.3f ms%n", wide, narrow);
        assertTrue(narrow > 0 && narrow <= wide * 1.2, "a narrower network is not slower");
        // a metric the host computes: the logits come back first
        var net = dev.metaprune.nn.Network.forInference(arch, 4, resident);
        dev.metaprune.prune.NetworkSlots.fill(net, model.weights());
        var logits = net.forward(x, widths, dev.metaprune.nn.Network.BnMode.EVAL);
        int[] labels = {0, 1, 2, 3};
        var cpuNet = dev.metaprune.nn.Network.forInference(arch, 4, new dev.metaprune.kernels.CpuKernels());
        dev.metaprune.prune.NetworkSlots.fill(cpuNet, model.weights());
        assertEquals(new dev.metaprune.kernels.CpuKernels().countTopK(cpuNet.forward(x, widths,
                dev.metaprune.nn.Network.BnMode.EVAL), labels, 5), resident.countTopK(logits, labels, 5));
        resident.releaseDeviceCopies();
    }

    /**
     * The device-resident, coherent backend trains a PruningNet (generators on the GPU too) and a dense model as the
     * emulated device does (the same protocol and the same eager generator step on the CPU kernels), and a full-width
     * step copies only the batch and the generators' encodings (one array) up, nothing down
     * ({@link CudaCheck#residentTraining}).
     */
    @Test
    void theCoherentBackendTrainsAsTheEmulatedDeviceMovingOnlyWhatTheHostTouches() {
        Cuda.Availability a = Cuda.availability();
        assumeTrue(a.available(), () -> "no GPU: " + a.reason());
        CudaCheck check = new CudaCheck(Cuda.get(), 20261125L);
        check.residentTraining();
        for (CudaCheck.Result r : check.results()) {
            assertTrue(r.passed(), r.toString());
        }
    }

    @Test
    void bindingsCoverTheLibrary() {
        MetaPruneNative lib = libraryOrSkip();
        assertEquals(MetaPruneNative.MP_ABI_VERSION, lib.mp_abi_version());
        assertTrue(MetaPruneNative.FUNCTIONS.contains("mp_generator_backward_sgd"));
    }
}
