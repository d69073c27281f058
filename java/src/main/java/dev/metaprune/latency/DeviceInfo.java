package dev.metaprune.latency;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.metaprune.kernels.Kernels;
import dev.metaprune.kernels.Parallel;
import dev.metaprune.kernels.Vec;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** What a latency table records about the device it was measured on. */
public final class DeviceInfo {
    private DeviceInfo() {
    }

    /**
     * The CPU device as the CPU kernels see it now: model (from {@code /proc/cpuinfo} or, on ARM boards, the device
     * tree), cores, threads in use, vector width, backend, JDK, OS, and the JVM flags that change code generation.
     */
    public static ObjectNode cpu() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("kind", "cpu");
        o.put("model", cpuModel());
        o.putNull("driver");
        o.put("backend", Kernels.get().name() + " (" + Kernels.get().describe() + ")");
        o.put("threads", Parallel.threadCount());
        o.put("cores", Runtime.getRuntime().availableProcessors());
        o.put("vector_bits", Vec.F.vectorBitSize());
        o.put("jdk", Runtime.version().toString());
        o.put("jvm", System.getProperty("java.vm.name") + " " + System.getProperty("java.vm.version"));
        o.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                + System.getProperty("os.arch"));
        ArrayNode flags = o.putArray("jvm_flags");
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("-XX:") || a.startsWith("-Xmx") || a.startsWith("-Dmetaprune.")) {
                flags.add(a);
            }
        }
        return o;
    }

    /**
     * A CUDA device as the backend {@code k} uses it: the GPU (name, compute capability, SMs, memory), driver and
     * runtime versions, the backend, and the host it was driven from (CPU model, JDK, OS).
     */
    public static ObjectNode cuda(dev.metaprune.cuda.Cuda cuda, Kernels k) {
        return cuda(cuda, k, "cuda");
    }

    /** A CUDA device as {@link #cuda(dev.metaprune.cuda.Cuda, Kernels)} records it, under another device kind. */
    public static ObjectNode cuda(dev.metaprune.cuda.Cuda cuda, Kernels k, String kind) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("kind", kind);
        o.put("model", cuda.device());
        o.put("driver", cuda.versions());
        o.put("backend", k.name() + " (" + k.describe() + ")");
        o.put("host_cpu", cpuModel());
        o.put("jdk", Runtime.version().toString());
        o.put("jvm", System.getProperty("java.vm.name") + " " + System.getProperty("java.vm.version"));
        o.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                + System.getProperty("os.arch"));
        return o;
    }

    /** The CPU's name: x86 "model name", ARM board model or "CPU implementer/part", else the OS architecture. */
    static String cpuModel() {
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/cpuinfo"), StandardCharsets.UTF_8);
            String implementer = null, part = null;
            for (String line : lines) {
                int colon = line.indexOf(':');
                if (colon < 0) {
                    continue;
                }
                String key = line.substring(0, colon).strip(), value = line.substring(colon + 1).strip();
                if (key.equals("model name") && !value.isEmpty()) {
                    return value;
                }
                if (key.equals("CPU implementer") && implementer == null) {
                    implementer = value;
                }
                if (key.equals("CPU part") && part == null) {
                    part = value;
                }
            }
            Path board = Path.of("/sys/firmware/devicetree/base/model");
            String boardModel = Files.isReadable(board)
                    ? Files.readString(board, StandardCharsets.UTF_8).replace("\0", "").strip() : null;
            if (implementer != null || boardModel != null) {
                return (boardModel != null ? boardModel + ", " : "") + System.getProperty("os.arch")
                        + (implementer != null ? " (CPU implementer " + implementer + ", part " + part + ")" : "");
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or not readable: fall through
        }
        return System.getProperty("os.arch") + " (" + Runtime.getRuntime().availableProcessors() + " cores)";
    }
}
