package dev.metaprune.kernels;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Selects the kernel backend at run time ({@link Kernels#select}, {@code --backend}, {@code -Dmetaprune.backend}):
 * {@code cpu} (default), {@code cuda} (staging: operands copied per call), {@code cuda-resident} (data kept on the
 * device across calls), {@code cuda-verify} (every call on both backends, compared), {@code emulated-device} (the
 * resident protocol with host memory as the device).
 */
final class Backends {
    private Backends() {
    }

    private static final Map<String, Supplier<Kernels>> MAKERS = new LinkedHashMap<>();

    static {
        MAKERS.put("cpu", CpuKernels::new);
        MAKERS.put("cuda", dev.metaprune.cuda.CudaKernels::create);
        MAKERS.put("cuda-resident", dev.metaprune.cuda.CudaKernels::coherent);
        MAKERS.put("cuda-verify", dev.metaprune.cuda.VerifyingKernels::create);
        MAKERS.put("emulated-device", EmulatedDeviceKernels::new);
    }

    private static volatile Kernels selected;
    private static String selectedName;

    /** The backend called {@code name}, made now; {@link IllegalArgumentException} listing the names otherwise. */
    static Kernels create(String name) {
        return maker(name, "").get();
    }

    private static Supplier<Kernels> maker(String name, String where) {
        Supplier<Kernels> m = MAKERS.get(name);
        if (m == null) {
            throw new IllegalArgumentException("unknown backend '" + name + "'" + where + ": available: "
                    + String.join(", ", MAKERS.keySet()));
        }
        return m;
    }

    /**
     * Selects the process's backend by name before its first use ({@link Kernels#get()} then returns it); selecting
     * the one already in use is allowed. {@link IllegalArgumentException} for an unknown name or one that cannot run
     * here (the reason named), {@link IllegalStateException} when another backend is already in use.
     */
    static Kernels select(String name) {
        return select(name, "");
    }

    private static synchronized Kernels select(String name, String where) {
        Supplier<Kernels> m = maker(name, where);
        Kernels k = selected;
        if (k != null) {
            if (!selectedName.equals(name)) {
                throw new IllegalStateException("the kernel backend is already " + selectedName + " in this process;"
                        + " choose " + name + " before the first kernel runs");
            }
            return k;
        }
        try {
            k = m.get();
        } catch (IllegalStateException e) {   // CUDA not available: say why, as a usage error
            throw new IllegalArgumentException("backend " + name + ": " + e.getMessage(), e);
        }
        selectedName = name;
        selected = k;
        return k;
    }

    /** The selected backend; the first call without a selection takes {@code -Dmetaprune.backend} (default cpu). */
    static Kernels selected() {
        Kernels k = selected;
        return k != null ? k : select(System.getProperty("metaprune.backend", "cpu"), " (-Dmetaprune.backend)");
    }
}
