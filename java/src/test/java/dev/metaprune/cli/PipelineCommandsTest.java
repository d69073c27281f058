package dev.metaprune.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metaprune.data.TestFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The MetaPruning commands end to end on a tiny generated Fashion-MNIST-shaped data set: train a
 * PruningNet, search, resume the search, retrain the winner and the uniform rival, evaluate; and the
 * bad inputs each refuses before any work.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PipelineCommandsTest {
    @TempDir
    static Path tmp;

    static Path data;
    static Path pn;
    static Path search;
    static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void setUp() {
        data = tmp.resolve("fmnist");
        TestFiles.writeIdxSet(data, 96, 24, true);
        pn = tmp.resolve("pn");
        search = tmp.resolve("search");
    }

    static FlopsCommandTest.Result run(String... args) {
        return FlopsCommandTest.run(args);
    }

    @Test
    @Order(1)
    void trainsAPruningNet() {
        var r = run("train", "--arch", "mobilenetv1-cifar", "--data", data.toString(), "--epochs", "1",
                "--max-steps-per-epoch", "2", "--batch", "8", "--holdout-per-class", "2", "--recal-batches", "0",
                "--run", pn.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.exists(pn.resolve("checkpoint.safetensors")));
    }

    @Test
    @Order(2)
    void aRunFolderInUseOrAlreadyTrainedIsRefused() throws Exception {
        JsonNode rec = JSON.readTree(pn.resolve("run.json").toFile());
        String cmd = rec.get("invocations").get(0).get("command").asText();
        assertTrue(cmd.startsWith("metaprune train --arch mobilenetv1-cifar "), "recorded once, as typed: " + cmd);
        var again = run("train", "--arch", "mobilenetv1-cifar", "--data", data.toString(), "--epochs", "1",
                "--max-steps-per-epoch", "2", "--batch", "8", "--run", pn.toString());
        assertEquals(2, again.code(), again.out());
        assertTrue(again.err().contains("already holds a training run"), again.err());
        Path busy = tmp.resolve("busy");
        try (var held = RunInfo.lock(busy)) {
            var r = run("search", "--checkpoint", pn.toString(), "--data", data.toString(), "--max-flops", "50%",
                    "--run", busy.toString(), "--quiet");
            assertEquals(2, r.code(), r.out());
            assertTrue(r.err().contains("in use by another metaprune command"), r.err());
            var d = run("retrain", "--arch", "mobilenetv1-cifar", "--data", data.toString(), "--width", "0.5",
                    "--epochs", "1", "--max-steps-per-epoch", "1", "--batch", "8", "--run", busy.toString(), "--quiet");
            assertEquals(2, d.code(), d.out());
            assertTrue(d.err().contains("in use by another metaprune command"), d.err());
        }
        assertTrue(!Files.exists(busy.resolve("run.json")), "no record written to a folder in use");
        assertTrue(!Files.exists(busy.resolve("search.json")), "nothing written to a folder in use");
    }

    @Test
    @Order(2)
    void searchesAndWritesOneLinePerCandidate() throws Exception {
        var r = run("search", "--checkpoint", pn.toString(), "--data", data.toString(), "--max-flops", "50%",
                "--population", "4", "--top-k", "2", "--mutations", "1", "--crossovers", "1", "--iterations", "2",
                "--recal-batches", "1", "--workers", "2", "--run", search.toString(), "--quiet");
        assertEquals(0, r.code(), r.err() + r.out());
        JsonNode res = JSON.readTree(search.resolve("result.json").toFile());
        assertTrue(res.get("best").get("flops_fraction_of_full").asDouble() <= 0.5 + 1e-9);
        List<String> lines = Files.readAllLines(search.resolve("candidates.jsonl"));
        Set<String> genes = new HashSet<>();
        for (String l : lines) {
            JsonNode n = JSON.readTree(l);
            assertTrue(genes.add(n.get("gene").asText()), "evaluated twice: " + l);
            assertTrue(n.get("error").asDouble() >= 0 && n.get("error").asDouble() <= 1);
        }
        assertEquals(res.get("evaluated").asInt(), lines.size());
        assertTrue(lines.size() >= 6, "two iterations of 4 (some children may repeat parents): " + lines.size());
        assertTrue(r.out().contains("best gene:"), r.out());
    }

    @Test
    @Order(3)
    void aFinishedSearchResumesWithoutEvaluatingAgain() throws Exception {
        long before = Files.readAllLines(search.resolve("candidates.jsonl")).size();
        var r = run("search", "--resume", search.toString(), "--data", data.toString(), "--quiet");
        assertEquals(0, r.code(), r.err());
        assertEquals(before, Files.readAllLines(search.resolve("candidates.jsonl")).size());
    }

    @Test
    @Order(4)
    void searchRefusesBadInputBeforeAnyWork() throws Exception {
        var r = run("search", "--checkpoint", pn.toString(), "--data", data.toString(), "--arch", "mobilenetv2-cifar",
                "--max-flops", "50%", "--run", tmp.resolve("x1").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("is a PruningNet of mobilenetv1-cifar"), r.err());

        r = run("search", "--checkpoint", pn.toString(), "--data", data.toString(), "--max-flops", "0.01M",
                "--run", tmp.resolve("x2").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("no gene meets") && r.err().contains("ranges from"), r.err());

        Path bad = tmp.resolve("corrupt.safetensors");
        byte[] b = Files.readAllBytes(pn.resolve("checkpoint.safetensors"));
        Files.write(bad, java.util.Arrays.copyOf(b, b.length / 2));
        r = run("search", "--checkpoint", bad.toString(), "--data", data.toString(), "--max-flops", "50%",
                "--run", tmp.resolve("x3").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("truncated"), r.err());

        Files.write(bad, "not a checkpoint at all".getBytes());
        r = run("search", "--checkpoint", bad.toString(), "--max-flops", "50%", "--run", tmp.resolve("x4").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains(bad.toString()), r.err());

        r = run("search", "--max-flops", "50%");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--checkpoint"), r.err());
        assertTrue(!Files.exists(tmp.resolve("x1")) && !Files.exists(tmp.resolve("x2")), "no run folder was made");
    }

    /** A latency table with a synthetic cost per entry (no timing), for the constraint's checks. */
    static Path table(String arch, int batch) throws Exception {
        return table(arch, batch, 512);
    }

    /** As {@link #table(String, int)}, recorded as measured with {@code bits}-bit vectors. */
    static Path table(String arch, int batch, int bits) throws Exception {
        var a = dev.metaprune.nn.arch.Architectures.get(arch, 1, 28, 10);
        var device = JSON.createObjectNode().put("kind", "cpu").put("model", "test").put("backend", "cpu")
                .put("threads", 1).put("vector_bits", bits).put("jdk", "25");
        Path f = tmp.resolve("lat-" + arch + "-" + batch + "-v" + bits + ".json");
        var t = new dev.metaprune.latency.Profiler(a, batch, 0, device, dev.metaprune.latency.TimingSettings.defaults(),
                null).run((p, cin, cout) -> new dev.metaprune.latency.Measurement(0.01 + 1e-5 * cin * cout, 0, 1), null,
                new dev.metaprune.latency.Profiler.Listener() { });
        t.write(f);
        return f;
    }

    @Test
    @Order(4)
    void searchRefusesALatencyTableThatDoesNotFit() throws Exception {
        var r = run("search", "--checkpoint", pn.toString(), "--data", data.toString(), "--latency-table",
                table("mobilenetv2-cifar", 1).toString(), "--max-latency", "2ms", "--run", tmp.resolve("x8").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("mobilenetv2-cifar") && r.err().contains("mobilenetv1-cifar"), r.err());
        Path t = table("mobilenetv1-cifar", 1);
        r = run("search", "--checkpoint", pn.toString(), "--data", data.toString(), "--latency-table", t.toString(),
                "--max-latency", "0.001ms", "--run", tmp.resolve("x9").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("no gene meets") && r.err().contains("ms"), r.err());
        r = run("search", "--checkpoint", pn.toString(), "--data", data.toString(), "--max-latency", "2ms",
                "--run", tmp.resolve("x10").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--latency-table"), r.err());
    }

    @Test
    @Order(4)
    void aLatencyConstrainedSearchMeasuresItsWinnerBesideThePrediction() throws Exception {
        int bits = dev.metaprune.kernels.Vec.F.vectorBitSize();
        Path t = table("mobilenetv1-cifar", 1, bits);
        var lt = dev.metaprune.latency.LatencyTable.read(t);
        var a = dev.metaprune.nn.arch.Architectures.get("mobilenetv1-cifar", 1, 28, 10);
        double budget = lt.predictMs(dev.metaprune.nn.gene.Gene.uniformIndex(a.geneSpace(), 15).indices());
        String max = String.format(java.util.Locale.ROOT, "%.4fms", budget);
        Path run = tmp.resolve("lat-search");
        var r = run("search", "--checkpoint", pn.toString(), "--data", data.toString(), "--latency-table", t.toString(),
                "--max-latency", max, "--population", "4", "--top-k", "2", "--mutations", "1", "--crossovers", "1",
                "--iterations", "1", "--recal-batches", "1", "--run", run.toString(), "--quiet");
        assertEquals(0, r.code(), r.err() + r.out());
        JsonNode res = JSON.readTree(run.resolve("result.json").toFile());
        JsonNode check = res.get("latency_check");
        assertTrue(check != null && !check.has("error"), res.toPrettyString());
        JsonNode nets = check.get("networks");
        assertEquals("winner", nets.get(0).get("name").asText());
        assertEquals(res.get("best").get("gene_string").asText(), nets.get(0).get("gene").asText());
        assertEquals("uniform", nets.get(1).get("name").asText(), "the widest uniform gene inside the budget");
        for (JsonNode n : nets) {
            int[] g = java.util.Arrays.stream(n.get("gene").asText().split(",")).mapToInt(Integer::parseInt).toArray();
            assertEquals(lt.predictMs(g), n.get("predicted_ms").asDouble(), 1e-9, "the table's prediction");
            assertTrue(n.get("predicted_ms").asDouble() <= budget + 1e-9, "inside the budget: " + n);
            assertTrue(n.get("measured_ms").asDouble() > 0, "measured end to end: " + n);
        }
        assertTrue(r.out().contains("winner   predicted") && r.out().contains("measured"), r.out());

        // a table from another vector width cannot be reproduced here: the search still succeeds, the check says why
        Path other = table("mobilenetv1-cifar", 1, bits == 512 ? 256 : 512);
        Path run2 = tmp.resolve("lat-search-2");
        r = run("search", "--checkpoint", pn.toString(), "--data", data.toString(), "--latency-table",
                other.toString(), "--max-latency", max, "--population", "4", "--top-k", "2", "--mutations", "1",
                "--crossovers", "1", "--iterations", "1", "--recal-batches", "1", "--run", run2.toString(), "--quiet");
        assertEquals(0, r.code(), r.err() + r.out());
        assertTrue(r.out().contains("not measured") && r.out().contains("-bit vectors"), r.out());
        res = JSON.readTree(run2.resolve("result.json").toFile());
        assertTrue(res.get("latency_check").get("error").asText().contains("-bit vectors"), res.toPrettyString());
    }

    @Test
    @Order(5)
    void retrainsTheWinnerAndTheUniformRivalThenEvaluates() throws Exception {
        Path rs = tmp.resolve("rs"), ru = tmp.resolve("ru");
        var r = run("retrain", "--from-search", search.toString(), "--data", data.toString(), "--epochs", "1",
                "--max-steps-per-epoch", "2", "--batch", "8", "--run", rs.toString(), "--quiet");
        assertEquals(0, r.code(), r.err());
        r = run("retrain", "--from-search", search.toString(), "--uniform", "--data", data.toString(), "--epochs",
                "1", "--max-steps-per-epoch", "2", "--batch", "8", "--run", ru.toString(), "--quiet");
        assertEquals(0, r.code(), r.err());
        JsonNode s = JSON.readTree(rs.resolve("run.json").toFile());
        JsonNode u = JSON.readTree(ru.resolve("run.json").toFile());
        assertTrue(s.get("config").get("widths").asText().startsWith("gene:"));
        assertTrue(u.get("config").get("widths").asText().startsWith("uniform:"));
        assertTrue(u.get("flops").asLong() <= s.get("flops").asLong(), "the rival has at most the winner's FLOPs");
        assertTrue(s.has("test_top1"));
        r = run("evaluate", rs.toString(), "--data", data.toString(), "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode e = JSON.readTree(r.out());
        assertEquals(s.get("test_top1").asDouble(), e.get("test_top1").asDouble(), 1e-12, "same weights, same score");
        r = run("evaluate", pn.toString(), "--data", data.toString(), "--gene", "30,30,30,30,30,30,30,30,30,30,30,30,30",
                "--recal-batches", "1", "--json");
        assertEquals(0, r.code(), r.err());
        assertEquals("pruningnet", JSON.readTree(r.out()).get("kind").asText());
    }

    @Test
    @Order(6)
    void retrainRefusesABadGene() {
        var r = run("retrain", "--arch", "mobilenetv1-cifar", "--gene", "1,2,x", "--data", data.toString(), "--run",
                tmp.resolve("x5").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("malformed gene"), r.err());
        r = run("retrain", "--arch", "mobilenetv1-cifar", "--gene", "1,2,3", "--data", data.toString(), "--run",
                tmp.resolve("x6").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("13"), "names the expected length: " + r.err());
        r = run("retrain", "--arch", "mobilenetv1-cifar", "--gene", "0,0,0,0,0,0,0,0,0,0,0,0,31", "--data",
                data.toString(), "--run", tmp.resolve("x7").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("position 12") || r.err().contains("0..30"), r.err());
        r = run("retrain", "--data", data.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--from-search"), r.err());
    }

    @Test
    void everyCommandHasHelpThatPicocliCanFormat() {
        picocli.CommandLine main = new picocli.CommandLine(new Main());
        main.setInterpolateVariables(false); // the texts as written (a default such as 50% is not formatted)
        checkHelp(main, List.of());
    }

    private static void checkHelp(picocli.CommandLine cl, List<String> path) {
        for (var e : cl.getSubcommands().entrySet()) {
            String c = e.getKey();
            if (c.equals("help")) {
                continue;
            }
            List<String> p = new java.util.ArrayList<>(path);
            p.add(c);
            List<String> args = new java.util.ArrayList<>(p);
            args.add("--help");
            var r = run(args.toArray(String[]::new));
            assertEquals(0, r.code(), String.join(" ", p));
            assertTrue(r.out().contains("Usage: metaprune " + String.join(" ", p)), r.out());
            // picocli formats help texts with String.format and, on a stray %, prints the raw text with a warning
            var spec = e.getValue().getCommandSpec();
            List<String> texts = new java.util.ArrayList<>();
            texts.addAll(List.of(spec.usageMessage().description()));
            texts.addAll(List.of(spec.usageMessage().footer()));
            texts.addAll(List.of(spec.usageMessage().header()));
            spec.options().forEach(o -> texts.addAll(List.of(o.description())));
            for (String t : texts) {
                try {
                    String.format(java.util.Locale.ROOT, t.replace("${", "$<"));
                } catch (java.util.IllegalFormatException ex) {
                    throw new AssertionError(p + ": help text with an unescaped %: " + t, ex);
                }
            }
            checkHelp(e.getValue(), p);
        }
    }
}
