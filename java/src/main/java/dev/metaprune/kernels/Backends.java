package dev.metaprune.kernels;

/**
 * Selects the kernel backend at run time ({@code -Dmetaprune.backend}): {@code cpu} (default), {@code cuda} (staging:
 * operands copied per call), {@code cuda-resident} (data kept on the device across calls), {@code cuda-verify} (every
 * call on both backends, compared), {@code emulated-device} (the resident protocol with host memory as the device).
 */
final class Backends {
    private Backends() {
    }

    private static volatile Kernels selected;

    static Kernels selected() {
        Kernels k = selected;
        if (k == null) {
            synchronized (Backends.class) {
                k = selected;
                if (k == null) {
                    String name = System.getProperty("metaprune.backend", "cpu");
                    k = switch (name) {
                        case "cpu" -> new CpuKernels();
                        case "cuda" -> dev.metaprune.cuda.CudaKernels.create();
                        case "cuda-resident" -> dev.metaprune.cuda.CudaKernels.coherent();
                        case "cuda-verify" -> dev.metaprune.cuda.VerifyingKernels.create();
                        case "emulated-device" -> new EmulatedDeviceKernels();
                        default -> throw new IllegalArgumentException("unknown backend '" + name
                                + "' (-Dmetaprune.backend): available: cpu, cuda, cuda-resident, cuda-verify,"
                                + " emulated-device");
                    };
                    selected = k;
                }
            }
        }
        return k;
    }
}
