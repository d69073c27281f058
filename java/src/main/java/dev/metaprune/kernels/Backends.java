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
    private static String selectedName;

    /** The backend called {@code name}, made now. */
    static Kernels create(String name) {
        return switch (name) {
            case "cpu" -> new CpuKernels();
            case "cuda" -> dev.metaprune.cuda.CudaKernels.create();
            case "cuda-resident" -> dev.metaprune.cuda.CudaKernels.coherent();
            case "cuda-verify" -> dev.metaprune.cuda.VerifyingKernels.create();
            case "emulated-device" -> new EmulatedDeviceKernels();
            default -> throw new IllegalArgumentException("unknown backend '" + name + "': available: "
                    + String.join(", ", NAMES));
        };
    }

    static final java.util.List<String> NAMES = java.util.List.of("cpu", "cuda", "cuda-resident", "cuda-verify",
            "emulated-device");

    /**
     * Selects the process's backend by name before its first use ({@link Kernels#get()} then returns it); selecting
     * the one already in use is allowed. {@link IllegalArgumentException} for an unknown name or one that cannot run
     * here (the reason named), {@link IllegalStateException} when another backend is already in use.
     */
    static synchronized Kernels select(String name) {
        if (!NAMES.contains(name)) {
            throw new IllegalArgumentException("unknown backend '" + name + "': available: " + String.join(", ", NAMES));
        }
        Kernels k = selected;
        if (k != null) {
            if (!selectedName.equals(name)) {
                throw new IllegalStateException("the kernel backend is already " + selectedName + " in this process;"
                        + " choose " + name + " before the first kernel runs");
            }
            return k;
        }
        try {
            k = create(name);
        } catch (IllegalStateException e) {   // CUDA not available: say why, as a usage error
            throw new IllegalArgumentException("backend " + name + ": " + e.getMessage(), e);
        }
        selectedName = name;
        selected = k;
        return k;
    }

    static Kernels selected() {
        Kernels k = selected;
        if (k == null) {
            synchronized (Backends.class) {
                k = selected;
                if (k == null) {
                    String name = System.getProperty("metaprune.backend", "cpu");
                    try {
                        k = create(name);
                    } catch (IllegalArgumentException e) {
                        throw new IllegalArgumentException(e.getMessage().replace("': available",
                                "' (-Dmetaprune.backend): available"), e);
                    }
                    selectedName = name;
                    selected = k;
                }
            }
        }
        return k;
    }
}
