package dev.metaprune.latency;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.metaprune.cuda.Cuda;
import dev.metaprune.cuda.CudaKernels;
import dev.metaprune.kernels.CpuKernels;
import dev.metaprune.kernels.Kernels;
import dev.metaprune.kernels.Parallel;
import dev.metaprune.kernels.Vec;
import java.util.Locale;

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
 * {@code cudnn} (cuDNN's convolutions as a second CUDA backend) is named so that asking for it says why it is not
 * here.
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
            case "cudnn" -> throw new IllegalArgumentException("device cudnn: not in this build. cuDNN is reached"
                    + " through JavaCPP's presets, which only the benchmarks module carries (bench/.../gpu/"
                    + "CudnnBaseline times cuDNN's convolutions beside ours); profile with --device cuda");
            default -> throw new IllegalArgumentException("device must be cpu, cuda or cudnn, got '" + name + "'");
        }
    }

    /**
     * The device a table was measured on ({@code device.kind}; tables without one are cpu), set up as the table was:
     * on the cpu, the table's thread count ({@code threads} when the table records none) and a check that this JVM
     * has its vector width; then a check that the table's clock fits. {@link IllegalArgumentException} naming what
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

    /** A file-name tag: {@code cpu-t<threads>[-v<bits>]} or {@code cuda}. */
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
