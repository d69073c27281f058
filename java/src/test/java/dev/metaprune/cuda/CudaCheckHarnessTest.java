package dev.metaprune.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaprune.kernels.EmulatedDeviceKernels;
import dev.metaprune.kernels.Kernels;
import dev.metaprune.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * {@link CudaCheck}'s device-resident checks run here on the emulated device (the same protocol, the CPU kernels), so
 * that on a GPU a failure means the CUDA side: the checks pass on a correct backend and fail on a broken one.
 */
class CudaCheckHarnessTest {
    @Test
    void theResidentChecksPassOnACorrectBackendAndFailOnABrokenOne() {
        CudaCheck ok = new CudaCheck(7);
        ok.resident(new EmulatedDeviceKernels(), 32, 16, 3, 20, 9, 32, false);
        ok.resident(new EmulatedDeviceKernels(), 24, 8, 3, 17, 5, 30, true);
        ok.resident(new EmulatedDeviceKernels(), 96, 1, 3, 96, 1, 32, false);
        assertEquals(18, ok.results().size());
        for (CudaCheck.Result r : ok.results()) {
            assertTrue(r.passed(), r.toString());
        }

        // the training checks, on a small architecture, with the emulated device standing in for the GPU
        EmulatedDeviceKernels stand = new EmulatedDeviceKernels();
        CudaCheck training = new CudaCheck(7);
        training.residentTraining(stand, stand.residency()::uploads, stand.residency()::downloads,
                dev.metaprune.nn.arch.TestArchitectures.toyResidual(new dev.metaprune.nn.arch.InputSpec(1, 12, 4)));
        assertEquals(5, training.results().size());
        for (CudaCheck.Result r : training.results()) {
            assertTrue(r.passed(), r.toString());
        }

        // a backend whose generator step leaves the rows outside the crop alone, and whose copy drops a column
        Kernels broken = new dev.metaprune.kernels.ForwardingKernels(new EmulatedDeviceKernels()) {
            @Override
            public void generatorBackwardStep(Tensor w2, Tensor b2, Tensor mw2, Tensor mb2, Tensor h, Tensor dOut,
                                              int co, int ci, Tensor dh, float lr, float m, float wd, boolean nest) {
                super.generatorBackwardStep(w2, b2, mw2, mb2, h, dOut, co, ci, dh, lr, 0f, 0f, nest);
            }

            @Override
            public void copy(Tensor src, Tensor dst) {
                super.copy(src.channels(0, src.cols() - 1), dst.channels(0, dst.cols() - 1));
            }
        };
        CudaCheck bad = new CudaCheck(7);
        bad.resident(broken, 32, 16, 3, 20, 9, 32, false);
        long failed = bad.results().stream().filter(r -> !r.passed()).count();
        // the generator step (and the second step's forward, which reads its weights) and the copy
        assertEquals(4, failed, bad.results().toString());
    }
}
