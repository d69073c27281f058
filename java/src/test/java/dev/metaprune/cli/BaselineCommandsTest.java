package dev.metaprune.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metaprune.data.TestFiles;
import dev.metaprune.tensor.SafeTensors;
import dev.metaprune.train.RetrainConfig;
import dev.metaprune.train.ScratchTrainer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The baselines end to end on a tiny generated Fashion-MNIST-shaped set with the small MobileNetV2 (residual stages):
 * the dense network ({@code train --full}, with and without BatchNorm sparsity), L1-norm pruning and Network Slimming
 * with fine-tuning, resuming, Scratch-E / Scratch-B of a pruned structure, and the bad inputs each refuses.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class BaselineCommandsTest {
    @TempDir
    static Path tmp;

    static Path data;
    static Path full;
    static Path l1;
    static final ObjectMapper JSON = new ObjectMapper();
    static final String[] TINY = {"--epochs", "1", "--max-steps-per-epoch", "2", "--batch", "8", "--quiet"};

    @BeforeAll
    static void setUp() {
        data = tmp.resolve("fmnist");
        TestFiles.writeIdxSet(data, 48, 16, true);
        full = tmp.resolve("full");
        l1 = tmp.resolve("l1");
    }

    static FlopsCommandTest.Result run(String... args) {
        return FlopsCommandTest.run(args);
    }

    static String[] cat(String[] a, String... b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    static JsonNode runJson(Path dir) throws Exception {
        return JSON.readTree(dir.resolve("run.json").toFile());
    }

    @Test
    @Order(1)
    void trainsTheFullDenseNetwork() throws Exception {
        // one dense network (with Network Slimming's sparsity) serves every method here, to keep the test short
        var r = run(cat(new String[] {"train", "--full", "--bn-l1", "1e-4", "--data", data.toString(), "--run",
                full.toString()}, TINY));
        assertEquals(0, r.code(), r.err() + r.out());
        RetrainConfig cfg = ScratchTrainer.configOf(full.resolve("checkpoint.safetensors"));
        assertEquals("uniform:1.0", cfg.widths());
        assertEquals(1e-4f, cfg.bnL1());
        assertEquals("full-sparse", runJson(full).get("method").asText());
        assertTrue(runJson(full).has("test_top1"));
        assertTrue(r.out().contains("BatchNorm L1"), r.out());
    }

    @Test
    @Order(2)
    void l1PrunesToTheBudgetAndFineTunes() throws Exception {
        var r = run("prune", "l1", "--from", full.toString(), "--max-flops", "50%", "--data", data.toString(), "--run",
                l1.toString(), "--epochs", "1", "--max-steps-per-epoch", "1", "--quiet");
        assertEquals(0, r.code(), r.err() + r.out());
        JsonNode j = runJson(l1);
        assertEquals("l1-finetune", j.get("method").asText());
        double frac = j.get("flops_fraction_of_source").asDouble();
        assertTrue(frac <= 0.5 && frac > 0.4, "fraction " + frac);
        assertEquals(j.get("flops").asLong(), Math.round(frac * j.get("source_flops").asLong()));
        assertTrue(j.get("pruned_widths").asText().startsWith("channels:"));
        assertTrue(Files.exists(l1.resolve("pruned.safetensors")));
        assertEquals("1", SafeTensors.readHeader(l1.resolve("checkpoint.safetensors")).meta("epoch"));
        assertTrue(j.get("kept_widths").has("block4.out=block5.out=block6.out"), j.get("kept_widths").toString());
        // the fine-tuned network evaluates like any dense checkpoint
        r = run("evaluate", l1.toString(), "--data", data.toString(), "--json");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("\"test_top1\""), r.out());
    }

    @Test
    @Order(3)
    void perLayerRatiosAndSlimming() throws Exception {
        Path layered = tmp.resolve("layered");
        var r = run("prune", "l1", "--from", full.toString(), "--keep", "0.5", "--layer-keep", "block3.mid=0.25",
                "--data", data.toString(), "--run", layered.toString(), "--epochs", "1", "--max-steps-per-epoch", "1",
                "--quiet");
        assertEquals(0, r.code(), r.err());
        JsonNode kw = runJson(layered).get("kept_widths");
        assertEquals(Math.round(0.25 * 6 * 24), kw.get("block3.mid").asInt()); // the 1.0x widths: 6 x 24
        assertEquals(Math.round(0.5 * 6 * 24), kw.get("block4.mid").asInt());
        Path slim = tmp.resolve("slim");
        r = run("prune", "slim", "--from", full.toString(), "--max-flops", "25%", "--data", data.toString(), "--run",
                slim.toString(), "--epochs", "1", "--max-steps-per-epoch", "1", "--quiet");
        assertEquals(0, r.code(), r.err() + r.out());
        JsonNode j = runJson(slim);
        assertEquals("slimming-finetune", j.get("method").asText());
        assertTrue(j.get("flops_fraction_of_source").asDouble() <= 0.25);
        assertTrue(j.get("pruning").get("kept_channels").asInt() < j.get("pruning").get("prunable_channels").asInt());
    }

    @Test
    @Order(3)
    void amcSearchesPrunesAndFineTunes() throws Exception {
        Path amc = tmp.resolve("amc");
        var r = run("prune", "amc", "--from", full.toString(), "--max-flops", "50%", "--warmup", "2", "--episodes", "1",
                "--updates", "1", "--holdout-per-class", "1", "--calibration-images", "8", "--points", "2", "--data",
                data.toString(), "--run", amc.toString(), "--epochs", "1", "--max-steps-per-epoch", "1", "--quiet");
        assertEquals(0, r.code(), r.err() + r.out());
        JsonNode j = runJson(amc);
        assertEquals("amc-finetune", j.get("method").asText());
        assertTrue(j.get("flops_fraction_of_source").asDouble() <= 0.5);
        java.util.List<String> lines = Files.readAllLines(amc.resolve("amc.jsonl"));
        assertEquals(3, lines.size());
        assertTrue(JSON.readTree(lines.get(0)).get("warmup").asBoolean());
        assertTrue(!JSON.readTree(lines.get(2)).get("warmup").asBoolean());
        assertTrue(r.out().contains("episode 3/3"), r.out());
        assertTrue(Files.exists(amc.resolve("amc-state.bin")));
        r = run("prune", "amc", "--from", full.toString(), "--keep", "0.5", "--data", data.toString());
        assertEquals(2, r.code());
        r = run("prune", "amc", "--from", full.toString(), "--data", data.toString(), "--run",
                tmp.resolve("x-amc").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--max-flops"), r.err());
    }

    @Test
    @Order(3)
    void everyMethodRunsOnTheSmallResNet() throws Exception {
        Path rfull = tmp.resolve("r20-full");
        var r = run(cat(new String[] {"train", "--full", "--arch", "resnet20-cifar", "--bn-l1", "1e-4", "--data",
                data.toString(), "--run", rfull.toString()}, TINY));
        assertEquals(0, r.code(), r.err() + r.out());
        for (String method : new String[] {"l1", "slim", "amc"}) {
            Path out = tmp.resolve("r20-" + method);
            String[] args = {"prune", method, "--from", rfull.toString(), "--max-flops", "50%", "--data",
                    data.toString(), "--run", out.toString(), "--epochs", "1", "--max-steps-per-epoch", "1", "--quiet"};
            if (method.equals("amc")) { // enough samples that the 3x3 convs are refitted
                args = cat(args, "--warmup", "1", "--episodes", "1", "--updates", "1", "--holdout-per-class", "1",
                        "--calibration-images", "16", "--points", "16");
            }
            r = run(args);
            assertEquals(0, r.code(), method + ": " + r.err() + r.out());
            JsonNode j = runJson(out);
            assertEquals("resnet20-cifar", j.get("source_config").get("arch").asText());
            assertTrue(j.get("flops_fraction_of_source").asDouble() <= 0.5, method);
            // stage 1's residual group (the stem and every block output of the stage) is pruned as one
            assertTrue(j.get("kept_widths").has("stem.out"), j.get("kept_widths").toString());
            if (method.equals("amc")) { // the basic blocks' 3x3 convs are refitted, not only the 1x1 projections
                boolean threeByThree = false;
                for (JsonNode n : j.get("pruning").get("refitted")) {
                    threeByThree |= n.asText().matches("layer\\d\\.\\d\\.conv[12]");
                }
                assertTrue(threeByThree, j.get("pruning").toString());
            }
        }
        Path ablation = tmp.resolve("r20-amc-norec");
        r = run("prune", "amc", "--from", rfull.toString(), "--max-flops", "50%", "--no-reconstruction", "--warmup", "1",
                "--episodes", "1", "--updates", "1", "--holdout-per-class", "1", "--data", data.toString(), "--run",
                ablation.toString(), "--epochs", "1", "--max-steps-per-epoch", "1", "--quiet");
        assertEquals(0, r.code(), r.err() + r.out());
        assertEquals("none", runJson(ablation).get("pruning").get("reconstruction").asText());
        assertEquals(0, runJson(ablation).get("pruning").get("refitted").size());
        Path sb = tmp.resolve("r20-l1-scratchb");
        r = run("retrain", "--from-pruned", tmp.resolve("r20-l1").toString(), "--scratch-b", "--epochs", "1",
                "--max-steps-per-epoch", "1", "--batch", "8", "--data", data.toString(), "--run", sb.toString(),
                "--quiet");
        assertEquals(0, r.code(), r.err() + r.out());
        assertEquals("l1-scratch-b", runJson(sb).get("method").asText());
    }

    @Test
    @Order(4)
    void fineTuningResumes() throws Exception {
        Path p = tmp.resolve("resumable");
        var r = run("prune", "l1", "--from", full.toString(), "--keep", "0.5", "--data", data.toString(), "--run",
                p.toString(), "--epochs", "2", "--max-steps-per-epoch", "1", "--quiet");
        assertEquals(0, r.code(), r.err());
        r = run("prune", "l1", "--resume", p.toString(), "--data", data.toString(), "--quiet");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("resumed after epoch 2"), r.out());
        assertEquals(2, runJson(p).get("invocations").size());
    }

    @Test
    @Order(5)
    void scratchEAndScratchBTrainThePrunedStructure() throws Exception {
        Path e = tmp.resolve("scratch-e"), b = tmp.resolve("scratch-b");
        var r = run("retrain", "--from-pruned", l1.toString(), "--data", data.toString(), "--run", e.toString(),
                "--max-steps-per-epoch", "1", "--batch", "8", "--quiet");
        assertEquals(0, r.code(), r.err() + r.out());
        JsonNode je = runJson(e);
        assertEquals("l1-scratch-e", je.get("method").asText());
        assertEquals(runJson(l1).get("pruned_widths").asText(), "channels:" + je.get("config").get("widths").asText()
                .substring(9));
        assertEquals(1, je.get("config").get("epochs").asInt(), "the dense network's epochs");
        r = run("retrain", "--from-pruned", l1.toString(), "--scratch-b", "--epochs", "3", "--data", data.toString(),
                "--run", b.toString(), "--max-steps-per-epoch", "1", "--batch", "8", "--quiet");
        assertEquals(0, r.code(), r.err() + r.out());
        JsonNode jb = runJson(b);
        assertEquals("l1-scratch-b", jb.get("method").asText());
        double ratio = runJson(l1).get("source_flops").asDouble() / jb.get("flops").asDouble();
        assertEquals(Math.round(3 * ratio), jb.get("config").get("epochs").asInt());
        assertTrue(jb.get("config").get("epochs").asInt() >= 6);
    }

    @Test
    @Order(6)
    void reportGathersTheRunsIntoOnePage() throws Exception {
        Path page = tmp.resolve("report.html");
        var r = run("report", tmp.toString(), "--out", page.toString(), "--latency-runs", "2",
                "--latency-warmup-ms", "0");
        assertEquals(0, r.code(), r.err() + r.out());
        String html = Files.readString(page);
        for (String m : new String[] {"full-sparse", "l1-finetune", "slimming-finetune", "amc-finetune", "l1-scratch-e",
                "l1-scratch-b"}) {
            assertTrue(html.contains(">" + m + "<"), m);
        }
        assertTrue(html.split("data:image/png;base64,").length - 1 >= 2, "accuracy vs FLOPs and vs latency");
        assertTrue(r.out().contains("latency:"), r.out());
        r = run("report", tmp.resolve("fmnist").toString(), "--out", tmp.resolve("empty.html").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("nothing to report"), r.err());
        r = run("report", tmp.resolve("nowhere").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("no such file or folder"), r.err());
    }

    @Test
    @Order(7)
    void badInputIsRefusedClearly() throws Exception {
        var r = run("prune", "l1", "--keep", "0.5", "--data", data.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--from"), r.err());
        r = run("prune", "l1", "--from", full.toString(), "--data", data.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--keep F or --max-flops"), r.err());
        r = run("prune", "l1", "--from", full.toString(), "--keep", "0.5", "--layer-keep", "nosuch=0.5", "--data",
                data.toString(), "--run", tmp.resolve("x1").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("no channel dimension 'nosuch'") && r.err().contains("block3.mid"), r.err());
        r = run("prune", "l1", "--from", full.toString(), "--keep", "1.5", "--data", data.toString(), "--run",
                tmp.resolve("x2").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("(0, 1]"), r.err());
        r = run("prune", "slim", "--from", full.toString(), "--max-flops", "0.001M", "--data", data.toString(), "--run",
                tmp.resolve("x3").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("cannot be met"), r.err());
        r = run("prune", "l1", "--from", tmp.resolve("nowhere").toString(), "--keep", "0.5");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("no checkpoint"), r.err());
        Path notDense = tmp.resolve("notdense.safetensors");
        Files.copy(l1.resolve("pruned.safetensors"), notDense);
        r = run("prune", "l1", "--from", notDense.toString(), "--keep", "0.5");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("not a MetaPrune retraining checkpoint"), r.err());
        r = run("prune", "l1", "--from", full.toString(), "--keep", "0.5", "--data", data.toString(), "--run",
                l1.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("already holds a training run"), r.err());
        r = run("retrain", "--from-pruned", full.toString(), "--data", data.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("not a `metaprune prune` run"), r.err());
        r = run("train", "--bn-l1", "1e-4", "--data", data.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--full"), r.err());
        assertTrue(!Files.exists(tmp.resolve("x1").resolve("pruned.safetensors")));
    }
}
