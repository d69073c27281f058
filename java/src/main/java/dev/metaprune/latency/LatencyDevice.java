package dev.metaprune.latency;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.metaprune.cuda.Cuda;
import dev.metaprune.cuda.CudaKernels;
import dev.metaprune.kernels.CpuKernels;
import dev.metaprune.kernels.Kernels;
import dev.metaprune.kernels.Parallel;
import dev.metaprune.kernels.Vec;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/**
 * A device latency tables are measured on: its name as {@code metaprune profile --device} takes it, the kernels that
 * run there and the metadata a table records.
 *
 * <ul>
 *   <li>{@code cpu}: the Vector API kernels on {@link dev.metaprune.kernels.Parallel}'s threads.</li>
 *   <li>{@code cuda}: libmetaprune_cuda's kernels, device-resident ({@link CudaKernels#resident()}: weights and
 *       activations copied to the GPU once, so a timed call is the kernels and their launches); every timed call ends
 *       with a device synchronisation and the clock is the wall clock.</li>
 * </ul>
 * Other devices come from {@link LatencyDeviceProvider}s on the class path: {@code cudnn} (cuDNN's convolutions as a
 * second CUDA backend, the rest on libmetaprune_cuda) is the {@code metaprune-cudnn} module's; without it, asking for
 * {@code cudnn} says which jar adds it.
 */
public record LatencyDevice(String kind, Kernels kernels, ObjectNode info) {
    /** The device called {@code name}, or {@link IllegalArgumentException} saying why it cannot be used here. */
    public static LatencyDevice of(String name) {
        String kind = name == null ? "cpu" : name.strip().toLowerCase(Locale.ROOT);
        switch (kind) {
            case "cpu" -> {
                Kernels k = Kernels.get().name().equals("cpu") ? Kernels.get() : new CpuKernels();
                return new LatencyDevice("cpu", k, DeviceInfo.cpu());
            }
            case "cuda" -> {
                Cuda.Availability a = Cuda.availability();
                if (!a.available()) {
                    throw new IllegalArgumentException("device cuda: CUDA is not available here: " + a.reason());
                }
                CudaKernels k = CudaKernels.resident();
                return new LatencyDevice("cuda", k, DeviceInfo.cuda(Cuda.get(), k));
            }
            default -> {
                for (LatencyDeviceProvider p : providers()) {
                    if (p.kind().equals(kind)) {
                        return p.create();
                    }
                }
                if (kind.equals("cudnn")) {
                    throw new IllegalArgumentException("device cudnn: the cuDNN backend is not on the class path. It is"
                            + " the metaprune-cudnn module (cudnn/), which carries JavaCPP's CUDA presets: build it with"
                            + " 'mvn -pl cudnn -am package' and the metaprune launcher picks it up");
                }
                throw new IllegalArgumentException("device must be one of " + String.join(", ", kinds()) + ", got '"
                        + name + "'");
            }
        }
    }

    /**
     * The providers on the class path that load. One that does not (a jar built against another version of this
     * library) is left out with a warning on stderr, so that it cannot break the devices that do not need it.
     */
    static List<LatencyDeviceProvider> providers() {
        List<LatencyDeviceProvider> out = new ArrayList<>();
        var it = ServiceLoader.load(LatencyDeviceProvider.class).iterator();
        for (int failures = 0; failures < 16; ) { // the iterator moves past a provider that fails
            try {
                if (!it.hasNext()) {
                    break;
                }
                out.add(it.next());
            } catch (ServiceConfigurationError | LinkageError e) {
                failures++;
                System.err.println("metaprune: a latency device provider on the class path does not load (" + e
                        + "); rebuild it with this library");
            }
        }
        return out;
    }

    /**
     * The device names {@code metaprune profile} takes: cpu, cuda, those of the {@link LatencyDeviceProvider}s on the
     * class path, and cudnn (which {@link #of} explains when its module is missing).
     */
    public static List<String> kinds() {
        List<String> k = new ArrayList<>(List.of("cpu", "cuda"));
        for (LatencyDeviceProvider p : providers()) {
            if (!k.contains(p.kind())) {
                k.add(p.kind());
            }
        }
        if (!k.contains("cudnn")) {
            k.add("cudnn");
        }
        return k;
    }

    /**
     * The device a table was measured on ({@code device.kind}; tables without one are cpu), set up as the table was:
     * on the cpu, the table's thread count ({@code threads} when the table records none), the CPU its timing thread
     * was pinned to (the calling thread is pinned there too) and a check that this JVM has its vector width; then a
     * check that the table's clock fits. {@link IllegalArgumentException} naming what
     * cannot be reproduced here. Measuring on it afterwards compares like with like.
     */
    public static LatencyDevice forTable(LatencyTable t, int threads) {
        LatencyDevice d;
        try {
            d = of(t.device().path("kind").asText("cpu"));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the table was measured on " + t.deviceSummary() + "; " + e.getMessage(),
                    e);
        }
        if (d.kind().equals("cpu")) {
            int bits = t.device().path("vector_bits").asInt(0);
            if (bits > 0 && bits != Vec.F.vectorBitSize()) {
                throw new IllegalArgumentException("the table was measured with " + bits + "-bit vectors, this JVM"
                        + " runs " + Vec.F.vectorBitSize() + "-bit ones (set -XX:MaxVectorSize=" + bits / 8
                        + " through METAPRUNE_JVM_OPTS)");
            }
            int tableThreads = t.device().path("threads").asInt(0);
            Parallel.setThreads(tableThreads > 0 ? tableThreads : threads);
            int pinned = t.device().path("pinned_cpu").asInt(-1);
            if (pinned >= 0) {
                try {
                    ThreadPinning.pinCurrentThread(pinned);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("the table was measured with its timing thread on CPU "
                            + pinned + "; " + e.getMessage(), e);
                }
            }
        }
        d.requireClock(TimingSettings.Clock.of(t.clock()));
        return d;
    }

    /** {@link IllegalArgumentException} unless timers on this device can read {@code c}. */
    public void requireClock(TimingSettings.Clock c) {
        if (c != TimingSettings.Clock.THREAD_CPU) {
            return;
        }
        if (!kind.equals("cpu")) {
            throw new IllegalArgumentException("the cpu clock measures the calling thread's CPU time, not the work of"
                    + " a " + kind + " device: use --clock wall (each timed call ends synchronised)");
        }
        if (Parallel.threadCount() != 1) {
            throw new IllegalArgumentException("the cpu clock measures the calling thread only: use it with --threads 1"
                    + " (this run has " + Parallel.threadCount() + " threads)");
        }
    }

    /** A file-name tag: {@code cpu-t<threads>[-v<bits>]}, {@code cuda} or {@code cudnn}. */
    public String fileTag() {
        if (kind.equals("cpu")) {
            int bits = Vec.F.vectorBitSize();
            return "cpu-t" + Parallel.threadCount() + (bits == 512 ? "" : "-v" + bits);
        }
        return kind;
    }

    /** Frees what the device holds for timing (a resident backend's device copies). */
    public void release() {
        kernels.releaseDeviceCopies();
    }
}
