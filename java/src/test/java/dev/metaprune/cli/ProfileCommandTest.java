package dev.metaprune.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.metaprune.latency.LatencyTable;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProfileCommandTest {
    @Test
    void help() {
        FlopsCommandTest.Result r = FlopsCommandTest.run("profile", "--help");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("--validate") && r.out().contains("Examples:") && r.out().contains("--resume"),
                r.out());
    }

    @Test
    void badArguments(@TempDir Path dir) {
        FlopsCommandTest.Result r;
        if (!dev.metaprune.cuda.Cuda.availability().available()) { // with a GPU this would start a real profile
            r = FlopsCommandTest.run("profile", "--arch", "mobilenetv1", "--device", "cuda");
            assertEquals(2, r.code());
            assertTrue(r.err().contains("device cuda: CUDA is not available here: "
                    + dev.metaprune.cuda.Cuda.availability().reason()), r.err());
        }
        r = FlopsCommandTest.run("profile", "--arch", "mobilenetv1", "--device", "cudnn");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("device cudnn: the cuDNN backend is not on the class path")
                && r.err().contains("mvn -pl cudnn -am package"), r.err());
        r = FlopsCommandTest.run("profile", "--arch", "mobilenetv1", "--pin-cpu", "0");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--pin-cpu pins the one timing thread: use it with --threads 1"), r.err());
        r = FlopsCommandTest.run("profile", "--arch", "mobilenetv1", "--device", "tpu");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--device must be one of cpu, cuda, cudnn, got 'tpu'"), r.err());
        r = FlopsCommandTest.run("profile", "--arch", "mobilenetv1", "--sampled", "0");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--sampled STEP must be in 1..30"), r.err());
        r = FlopsCommandTest.run("profile", "--arch", "nosuchnet");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("unknown architecture"), r.err());
        r = FlopsCommandTest.run("profile", "--validate", "5");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--validate needs --table"), r.err());
        r = FlopsCommandTest.run("profile", "--validate", "5", "--table", dir.resolve("missing.json").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("missing.json"), r.err());
        r = FlopsCommandTest.run("profile");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--arch is required"), r.err());
    }

    @Test
    void profileValidateCompareAndRefuseAnotherNetwork(@TempDir Path dir) throws Exception {
        Path t = dir.resolve("t.json");
        String[] common = {"--arch", "mobilenetv1-cifar", "--input-size", "8", "--batch", "1", "--threads", "1",
                "--min-reps", "3", "--max-reps", "3", "--warmup-ms", "0", "--no-progress"};
        FlopsCommandTest.Result r = FlopsCommandTest.run(concat(new String[] {"profile", "--sampled", "15", "--out",
                t.toString()}, common));
        assertEquals(0, r.code(), r.err() + r.out());
        assertTrue(r.out().contains("sampled, grid step 15"), r.out());
        LatencyTable table = LatencyTable.read(t);
        assertTrue(table.isComplete());
        assertEquals(15, table.sampledStep());
        assertEquals("ms", LatencyTable.UNIT);

        // an existing table is not overwritten without --resume
        r = FlopsCommandTest.run(concat(new String[] {"profile", "--sampled", "15", "--out", t.toString()}, common));
        assertEquals(2, r.code());
        assertTrue(r.err().contains("already holds a complete table"), r.err());

        r = FlopsCommandTest.run("profile", "--validate", "3", "--rounds", "1", "--table", t.toString(), "--min-reps", "3",
                "--max-reps", "3", "--warmup-ms", "0");
        assertEquals(0, r.code(), r.err() + r.out());
        assertTrue(r.out().contains("Spearman") && r.out().contains("stored overhead model"), r.out());
        assertTrue(LatencyTable.read(t).calibration() != null);

        r = FlopsCommandTest.run("profile", "--table", t.toString(), "--compare", t.toString());
        assertEquals(0, r.code(), r.err() + r.out());
        assertTrue(r.out().contains("layer ranking Spearman 1.0000"), r.out());

        r = FlopsCommandTest.run("profile", "--validate", "3", "--table", t.toString(), "--arch", "mobilenetv2-cifar",
                "--input-size", "8");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("architecture mobilenetv1-cifar, not mobilenetv2-cifar"), r.err());
        r = FlopsCommandTest.run("profile", "--validate", "3", "--table", t.toString(), "--batch", "32");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("batch 1, not 32"), r.err());
        assertTrue(Files.exists(t));
    }

    @Test
    void aPinnedTableRecordsItsCpuAndIsValidatedThere(@TempDir Path dir) throws Exception {
        assumeTrue(dev.metaprune.latency.ThreadPinning.supported(), "pinning needs Linux");
        int cpu = Runtime.getRuntime().availableProcessors() - 1;
        Path t = dir.resolve("pinned.json");
        FlopsCommandTest.Result[] r = new FlopsCommandTest.Result[2];
        Thread th = new Thread(() -> { // pinning sticks to the thread: keep the test runner's free
            r[0] = FlopsCommandTest.run("profile", "--arch", "mobilenetv1-cifar", "--input-size", "8", "--threads", "1",
                    "--pin-cpu", String.valueOf(cpu), "--sampled", "15", "--min-reps", "3", "--max-reps", "3",
                    "--warmup-ms", "0", "--no-progress", "--out", t.toString());
            if (r[0].code() == 0) {
                r[1] = FlopsCommandTest.run("profile", "--validate", "3", "--rounds", "1", "--table", t.toString(),
                        "--min-reps", "3", "--max-reps", "3", "--warmup-ms", "0");
            }
        });
        th.start();
        th.join();
        assertEquals(0, r[0].code(), r[0].err() + r[0].out());
        assertTrue(r[0].out().contains("timing thread pinned to CPU " + cpu + " (runs on CPU " + cpu + ";"),
                r[0].out());
        LatencyTable table = LatencyTable.read(t);
        assertEquals(cpu, table.device().path("pinned_cpu").asInt(-1));
        assertTrue(table.deviceSummary().contains("1 thread(s) pinned to CPU " + cpu), table.deviceSummary());
        assertEquals(0, r[1].code(), r[1].err() + r[1].out());
        // a table pinned to a CPU this machine does not have cannot be validated here, and says why
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        var root = (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(t.toFile());
        ((com.fasterxml.jackson.databind.node.ObjectNode) root.get("device")).put("pinned_cpu", 1023);
        json.writeValue(t.toFile(), root);
        FlopsCommandTest.Result bad = FlopsCommandTest.run("profile", "--validate", "3", "--table", t.toString());
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("the table was measured with its timing thread on CPU 1023; cannot pin to CPU"
                + " 1023"), bad.err());
        bad = FlopsCommandTest.run("profile", "--validate", "3", "--table", t.toString(), "--pin-cpu", "0");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("--pin-cpu is for profiling"), bad.err());
    }

    @Test
    void aCudaTableIsValidatedOnlyWhereCudaIs(@TempDir Path dir) throws Exception {
        org.junit.jupiter.api.Assumptions.assumeFalse(dev.metaprune.cuda.Cuda.availability().available(),
                "this machine has a GPU: the refusal cannot be shown here");
        var a = dev.metaprune.nn.arch.Architectures.get("mobilenetv1-cifar", 1, 8, 10);
        var device = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode().put("kind", "cuda")
                .put("model", "NVIDIA H100 80GB HBM3 (sm_90, 132 SMs, 81090 MiB)").put("driver", "driver 13.0")
                .put("backend", "cuda").put("jdk", "25");
        Path t = dir.resolve("cuda-table.json");
        new dev.metaprune.latency.Profiler(a, 32, 0, device, dev.metaprune.latency.TimingSettings.defaults(), null)
                .run((p, cin, cout) -> new dev.metaprune.latency.Measurement(0.01 + 1e-6 * cin * cout, 0, 1), null,
                        new dev.metaprune.latency.Profiler.Listener() { })
                .write(t);
        FlopsCommandTest.Result r = FlopsCommandTest.run("profile", "--validate", "3", "--table", t.toString());
        assertEquals(2, r.code(), r.out());
        assertTrue(r.err().contains("measured on cuda NVIDIA H100") && r.err().contains("CUDA is not available here"),
                r.err());
        assertTrue(LatencyTable.read(t).calibration() == null, "nothing written to the table");
    }

    private static String[] concat(String[] a, String[] b) {
        String[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
