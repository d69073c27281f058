package dev.metaprune.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.metaprune.data.Datasets;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code metaprune demo}: the whole MetaPruning pipeline at a small scale. */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"The whole MetaPruning pipeline, small: train a PruningNet for the small-input MobileNetV2 on"
                + " Fashion-MNIST, search the best gene at a FLOPs budget (default 50%% of the 1.0x network), then"
                + " retrain the winner and the uniform network of the same FLOPs from scratch with the same schedule"
                + " and seed, and compare their test accuracy. Uses Debian's dataset-fashion-mnist when installed,"
                + " --data DIR when given, else the 10,000-image subset shipped in the repository. About 5-10 minutes"
                + " on 2 cores with the defaults; every stage is a normal run folder under RUN (pruningnet/, search/,"
                + " retrain-searched/, retrain-uniform/) and RUN/demo.json has the summary, command line and versions.",
                "", "At this scale the numbers show the pipeline working, not the paper's result: see RESULTS.md for"
                + " longer runs.", ""},
        footer = {"", "Examples:",
                "  metaprune demo",
                "  metaprune demo --budget 25%% --run runs/demo-25",
                "  metaprune demo --resume runs/demo-20261124-120000     # continue a killed demo"})
public final class DemoCommand implements Callable<Integer> {
    @Option(names = "--data", paramLabel = "DIR", description = "Fashion-MNIST folder (gzip IDX files).")
    Path data;

    @Option(names = "--budget", defaultValue = "50%", description = "FLOPs budget of the search (default"
            + " ${DEFAULT-VALUE} of the 1.0x network).")
    String budget;

    @Option(names = "--pn-steps", defaultValue = "300", description = "PruningNet training steps of 64 images"
            + " (default ${DEFAULT-VALUE}).")
    int pnSteps;

    @Option(names = "--population", defaultValue = "12", description = "Search population (default ${DEFAULT-VALUE}).")
    int population;

    @Option(names = "--iterations", defaultValue = "4", description = "Search iterations (default ${DEFAULT-VALUE}).")
    int iterations;

    @Option(names = "--retrain-steps", defaultValue = "300", description = "Retraining steps of 64 images for each of"
            + " the two networks (default ${DEFAULT-VALUE}).")
    int retrainSteps;

    @Option(names = "--seed", defaultValue = "1", description = "Seed (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--run", paramLabel = "DIR", description = "Run folder (default runs/demo-<time>).")
    Path run;

    @Option(names = "--resume", paramLabel = "DIR", description = "Continue a demo in DIR: finished stages are kept.")
    Path resume;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        if (resume != null && run != null) {
            throw new IllegalArgumentException("--run and --resume both given: --resume continues the demo in its folder");
        }
        Path dir = resume != null ? resume : run != null ? run : RunInfo.defaultDir("demo");
        if (resume == null && Files.exists(dir.resolve("demo.json"))) {
            throw new IllegalArgumentException(dir + " already holds a demo: --resume " + dir + " or another --run");
        }
        if (resume != null && !Files.isDirectory(dir)) {
            throw new IllegalArgumentException("nothing to resume: " + dir + " is not a folder");
        }
        Files.createDirectories(dir);
        long t0 = System.nanoTime();
        Datasets.Loaded loaded = Datasets.load("fashion-mnist", data);
        System.out.println("== MetaPruning demo: mobilenetv2-cifar on " + loaded.description());
        ObjectNode demo = RunInfo.JSON.createObjectNode();
        demo.set("invocation", RunInfo.invocation(spec, loaded.description()));
        demo.put("budget", budget).put("seed", seed);
        RunInfo.write(dir.resolve("demo.json"), demo);
        List<String> dataArg = data == null ? List.of() : List.of("--data", data.toString());

        Path pn = dir.resolve("pruningnet");
        stage("1/4 train the PruningNet (" + pnSteps + " steps, a random gene each step)");
        if (Files.exists(pn.resolve("checkpoint.safetensors"))) {
            System.out.println("(done earlier: " + pn + ")");
        } else {
            run(new TrainCommand(), args(dataArg, "--epochs", "1", "--max-steps-per-epoch", str(pnSteps), "--batch",
                    "64", "--lr", "0.03", "--schedule", "cosine", "--seed", str(seed), "--recal-batches", "0",
                    "--run", pn.toString()));
        }
        Path search = dir.resolve("search");
        stage("2/4 search at " + budget + " FLOPs (population " + population + ", " + iterations + " iterations)");
        if (Files.exists(search.resolve("result.json"))) {
            System.out.println("(done earlier: " + search + ")");
        } else if (Files.exists(search.resolve("search.json"))) {
            run(new SearchCommand(), args(dataArg, "--resume", search.toString(), "--quiet"));
        } else {
            int k = Math.max(2, population / 3);
            run(new SearchCommand(), args(dataArg, "--checkpoint", pn.toString(), "--max-flops", budget,
                    "--population", str(population), "--top-k", str(k), "--mutations", str(population / 3),
                    "--crossovers", str(population / 3), "--iterations", str(iterations), "--recal-batches", "4",
                    "--val-images", "500", "--seed", str(seed), "--run", search.toString(), "--quiet"));
        }
        JsonNode result = RunInfo.JSON.readTree(search.resolve("result.json").toFile());
        Path rs = dir.resolve("retrain-searched");
        Path ru = dir.resolve("retrain-uniform");
        stage("3/4 retrain the searched network from scratch (" + retrainSteps + " steps)");
        retrain(rs, dataArg, false, search);
        stage("4/4 retrain the uniform network of the same FLOPs (same schedule and seed)");
        retrain(ru, dataArg, true, search);

        JsonNode s = RunInfo.JSON.readTree(rs.resolve("run.json").toFile());
        JsonNode u = RunInfo.JSON.readTree(ru.resolve("run.json").toFile());
        double seconds = (System.nanoTime() - t0) * 1e-9;
        ObjectNode summary = demo.putObject("summary");
        summary.put("searched_gene", result.get("best").get("gene_string").asText())
                .put("searched_flops", s.get("flops").asLong()).put("searched_test_top1", s.get("test_top1").asDouble())
                .put("uniform_multiplier", result.get("uniform_same_flops").get("multiplier").asDouble())
                .put("uniform_flops", u.get("flops").asLong()).put("uniform_test_top1", u.get("test_top1").asDouble())
                .put("search_heldout_top1", result.get("best").get("heldout_top1").asDouble())
                .put("seconds_this_session", seconds);
        RunInfo.write(dir.resolve("demo.json"), demo);
        System.out.println();
        System.out.println("== result (" + dir.toAbsolutePath() + "/demo.json)");
        System.out.println("searched gene: " + result.get("best").get("gene_string").asText());
        System.out.printf(Locale.ROOT, "  %-28s %10s %12s%n", "network", "MFLOPs", "test top-1");
        System.out.printf(Locale.ROOT, "  %-28s %10.2f %11.2f%%%n", "MetaPruning (searched)", s.get("flops").asLong() / 1e6,
                100 * s.get("test_top1").asDouble());
        System.out.printf(Locale.ROOT, "  %-28s %10.2f %11.2f%%%n", String.format(Locale.ROOT, "uniform x%.3f",
                result.get("uniform_same_flops").get("multiplier").asDouble()), u.get("flops").asLong() / 1e6,
                100 * u.get("test_top1").asDouble());
        System.out.printf(Locale.ROOT, "took %.1f min. A short demo: differences of a point or two are noise here.%n",
                seconds / 60);
        return 0;
    }

    private void retrain(Path to, List<String> dataArg, boolean uniform, Path search) throws IOException {
        Path rj = to.resolve("run.json");
        if (Files.exists(rj) && RunInfo.JSON.readTree(rj.toFile()).has("test_top1")) {
            System.out.println("(done earlier: " + to + ")");
            return;
        }
        if (Files.exists(to.resolve("checkpoint.safetensors"))) {
            run(new RetrainCommand(), args(dataArg, "--resume", to.toString(), "--quiet"));
            return;
        }
        List<String> a = args(dataArg, "--from-search", search.toString(), "--epochs", "1", "--max-steps-per-epoch",
                str(retrainSteps), "--batch", "64", "--lr", "0.05", "--schedule", "cosine", "--seed", str(seed),
                "--run", to.toString(), "--quiet");
        if (uniform) {
            a.add("--uniform");
        }
        run(new RetrainCommand(), a);
    }

    private static void stage(String s) {
        System.out.println();
        System.out.println("== " + s);
    }

    private static String str(long v) {
        return Long.toString(v);
    }

    private static List<String> args(List<String> head, String... rest) {
        List<String> a = new ArrayList<>(head);
        a.addAll(List.of(rest));
        return a;
    }

    /** Runs a stage as its own command; a failure stops the demo with that stage's message. */
    private static void run(Object command, List<String> args) {
        CommandLine cl = new CommandLine(command);
        cl.setExecutionExceptionHandler((ex, line, parse) -> {
            throw ex;
        });
        int code = cl.execute(args.toArray(String[]::new));
        if (code != 0) {
            throw new IllegalStateException("stage failed (exit " + code + "): " + String.join(" ", args));
        }
    }
}
