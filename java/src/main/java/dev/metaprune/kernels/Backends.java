package dev.metaprune.kernels;

/** Selects the kernel backend at run time ({@code -Dmetaprune.backend=cpu|cuda}). */
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
                        case "cuda-verify" -> dev.metaprune.cuda.VerifyingKernels.create();
                        default -> throw new IllegalArgumentException("unknown backend '" + name
                                + "' (-Dmetaprune.backend): available: cpu, cuda, cuda-verify");
                    };
                    selected = k;
                }
            }
        }
        return k;
    }
}
