package dev.metaprune.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.metaprune.data.Datasets;
import dev.metaprune.kernels.Parallel;
import dev.metaprune.latency.LatencyCheck;
import dev.metaprune.latency.LatencyTable;
import dev.metaprune.nn.arch.Architecture;
import dev.metaprune.nn.arch.Architectures;
import dev.metaprune.nn.arch.Scales;
import dev.metaprune.nn.arch.Widths;
import dev.metaprune.nn.cost.CostCounter;
import dev.metaprune.nn.cost.CostReport;
import dev.metaprune.nn.gene.Gene;
import dev.metaprune.search.Candidate;
import dev.metaprune.search.Constraint;
import dev.metaprune.search.Constraints;
import dev.metaprune.search.EvolutionarySearch;
import dev.metaprune.search.GeneEvaluator;
import dev.metaprune.search.SearchConfig;
import dev.metaprune.search.SearchRun;
import dev.metaprune.search.UniformMatch;
import dev.metaprune.train.PruningNetTrainer;
import dev.metaprune.data.HeldBatch;
import dev.metaprune.train.TrainConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code metaprune search}: the evolutionary search over genes with a trained PruningNet. */
@Command(name = "search", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Search the best gene under a budget (MetaPruning, stage 2; the paper's Algorithm 1): an"
                + " evolutionary search whose every candidate gets its weights from the trained PruningNet, its"
                + " BatchNorm statistics recalibrated (exact average over training batches) and is scored by top-1"
                + " error on the held-out split the PruningNet never trained on. The test set is not touched.",
                "",
                "RUN/candidates.jsonl gets one JSON line per evaluated candidate, RUN/search.json the state before"
                        + " each iteration, RUN/result.json the winner (with its FLOPs, parameters and the uniform"
                        + " width multiplier of the same FLOPs, for retraining). A killed search continues with"
                        + " --resume RUN without evaluating anything twice.", ""},
        footer = {"", "Examples:",
                "  metaprune search --checkpoint runs/train-x --max-flops 50%%",
                "  metaprune search --checkpoint runs/train-x --max-flops 20M --max-params 0.5M --iterations 10",
                "  metaprune search --resume runs/search-20261124-120000"})
public final class SearchCommand implements Callable<Integer> {
    @Option(names = "--checkpoint", paramLabel = "FILE|RUN", description = "The trained PruningNet: a checkpoint"
            + " file or the run folder of `metaprune train`.")
    Path checkpoint;

    @Option(names = "--data", paramLabel = "DIR", description = "Data folder, as given to `metaprune train`.")
    Path data;

    @Option(names = {"-a", "--arch"}, description = "Expected architecture (optional: checked against the checkpoint).")
    String arch;

    @Option(names = "--max-flops", paramLabel = "BUDGET", description = "FLOPs (multiply-adds) budget: 45M, 1.2G,"
            + " or a percentage of the full network (50%%).")
    String maxFlops;

    @Option(names = "--max-params", paramLabel = "BUDGET", description = "Parameter budget: 1.5M, or a percentage of"
            + " the full network.")
    String maxParams;

    @Option(names = "--latency-table", paramLabel = "FILE", description = "Latency lookup table (from `metaprune"
            + " profile`), for --max-latency.")
    Path latencyTable;

    /** The table of --latency-table, read once by {@link #constraint} and measured against after the search. */
    private LatencyTable latency;

    @Option(names = "--max-latency", paramLabel = "TIME", description = "Latency budget predicted by the table: 2.5ms,"
            + " 800us.")
    String maxLatency;

    @Option(names = "--no-latency-check", description = "With a latency table: do not measure the winner (and the"
            + " widest uniform gene inside the budget) end to end after the search. By default they are measured on"
            + " the table's device, threads, clock and batch (3 interleaved rounds) and reported beside the"
            + " table's predictions.")
    boolean noLatencyCheck;

    @Option(names = "--population", defaultValue = "50", description = "Population (default ${DEFAULT-VALUE}).")
    int population;

    @Option(names = "--top-k", defaultValue = "10", description = "Parents per iteration (default ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--mutations", defaultValue = "25", description = "Children by mutation (default ${DEFAULT-VALUE}).")
    int mutations;

    @Option(names = "--mutation-prob", defaultValue = "0.1", description = "Per-position mutation probability"
            + " (default ${DEFAULT-VALUE}).")
    double mutationProb;

    @Option(names = "--crossovers", defaultValue = "25", description = "Children by crossover (default"
            + " ${DEFAULT-VALUE}).")
    int crossovers;

    @Option(names = "--iterations", defaultValue = "20", description = "Iterations (default ${DEFAULT-VALUE}).")
    int iterations;

    @Option(names = "--recal-batches", defaultValue = "20", description = "Training batches (of the PruningNet's batch"
            + " size) averaged to recalibrate BatchNorm per candidate (default ${DEFAULT-VALUE}).")
    int recalBatches;

    @Option(names = "--val-images", defaultValue = "0", description = "Held-out images to score on (default: all of"
            + " the split).")
    int valImages;

    @Option(names = "--workers", description = "Candidates evaluated at once (default: one per core; each worker's"
            + " kernels then run on its own thread).")
    Integer workers;

    @Option(names = "--threads", description = "Kernel threads (default: all cores).")
    Integer threads;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of the search (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--run", paramLabel = "DIR", description = "Run folder (default runs/search-<time>).")
    Path run;

    @Option(names = "--resume", paramLabel = "DIR", description = "Continue the search in DIR (its settings are"
            + " used; --data, --workers and --threads may be given).")
    Path resume;

    @Option(names = "--quiet", description = "No progress bar.")
    boolean quiet;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        if (threads != null) {
            Parallel.setThreads(threads);
        }
        int nWorkers = workers != null ? workers : Runtime.getRuntime().availableProcessors();
        if (nWorkers < 1) {
            throw new IllegalArgumentException("--workers must be positive, got " + nWorkers);
        }
        SearchRun runDir;
        ObjectNode settings;
        if (resume != null && run != null) {
            throw new IllegalArgumentException("--run and --resume both given: --resume continues the run in its folder");
        }
        Path dir;
        if (resume != null) {
            dir = resume;
            settings = SearchRun.readSettings(dir);
            checkpoint = Path.of(settings.get("checkpoint").asText());
            maxFlops = text(settings, "max_flops");
            maxParams = text(settings, "max_params");
            maxLatency = text(settings, "max_latency");
            latencyTable = settings.hasNonNull("latency_table") ? Path.of(settings.get("latency_table").asText()) : null;
            population = settings.get("population").asInt();
            topK = settings.get("top_k").asInt();
            mutations = settings.get("mutations").asInt();
            mutationProb = settings.get("mutation_prob").asDouble();
            crossovers = settings.get("crossovers").asInt();
            iterations = settings.get("iterations").asInt();
            recalBatches = settings.get("recal_batches").asInt();
            valImages = settings.get("val_images").asInt();
            seed = settings.get("seed").asLong();
        } else {
            if (checkpoint == null) {
                throw new IllegalArgumentException("--checkpoint is required (the run folder or checkpoint file of "
                        + "`metaprune train`)");
            }
            dir = run != null ? run : RunInfo.defaultDir("search");
            settings = null;
        }
        Path ckpt = RunInfo.checkpointFile(checkpoint);
        TrainConfig tc = PruningNetTrainer.configOf(ckpt);
        Architecture a = Architectures.get(tc.arch(), tc.inChannels(), tc.inputSize(), tc.classes());
        if (arch != null && !Architectures.entry(arch).name().equals(a.name())) {
            throw new IllegalArgumentException(ckpt + " is a PruningNet of " + a.name() + ", not of "
                    + Architectures.entry(arch).name());
        }
        SearchConfig sc = new SearchConfig(population, topK, mutations, mutationProb, crossovers, iterations, 10, seed);
        if (recalBatches < 1) {
            throw new IllegalArgumentException("--recal-batches must be at least 1 (BatchNorm statistics are per gene)");
        }
        Constraint constraint = constraint(a);
        constraint.checkFeasible(a);
        if (settings == null) {
            settings = RunInfo.JSON.createObjectNode();
            settings.put("checkpoint", ckpt.toAbsolutePath().toString()).put("arch", a.name())
                    .put("max_flops", maxFlops).put("max_params", maxParams).put("max_latency", maxLatency)
                    .put("latency_table", latencyTable == null ? null : latencyTable.toAbsolutePath().toString())
                    .put("constraint", constraint.describe()).put("population", population).put("top_k", topK)
                    .put("mutations", mutations).put("mutation_prob", mutationProb).put("crossovers", crossovers)
                    .put("iterations", iterations).put("recal_batches", recalBatches).put("val_images", valImages)
                    .put("seed", seed);
        }
        var extras = (java.util.function.Function<int[], ObjectNode>) g -> {
            CostReport r = CostCounter.count(Widths.forGene(a, g));
            ObjectNode n = RunInfo.JSON.createObjectNode();
            n.put("flops", r.flops()).put("params", r.params());
            return n;
        };
        java.io.Closeable lock = RunInfo.lock(dir);
        try {
            runDir = resume != null ? SearchRun.resume(dir, a.geneSpace(), extras)
                    : SearchRun.create(dir, settings, a.geneSpace(), extras);
        } catch (IOException | RuntimeException e) {
            lock.close();
            throw e;
        }

        Datasets.Loaded loaded;
        PruningNetTrainer trainer;
        try {
            loaded = Datasets.load(tc.dataset(), data);
            trainer = PruningNetTrainer.forEvaluation(tc, loaded.train(), a);
        } catch (IOException | RuntimeException e) {
            runDir.close();
            lock.close();
            throw e;
        }
        try (runDir; lock) {
            trainer.restore(ckpt);
            trainer.pruningNet().flush();
            List<HeldBatch> recal = trainer.recalibrationBatches(recalBatches);
            List<HeldBatch> val = trainer.heldOutBatches(tc.batch());
            if (valImages > 0) {
                val = truncate(val, valImages);
            }
            int nVal = val.stream().mapToInt(HeldBatch::size).sum();
            System.out.println("data:       " + loaded.description());
            System.out.println("pruningnet: " + ckpt + " (" + a.name() + ", epoch " + trainer.startEpoch() + ")");
            System.out.println("constraint: " + constraint.describe());
            System.out.printf(Locale.ROOT, "search:     population %d, top-k %d, %d mutations (p %.2f), %d crossovers,"
                    + " %d iterations; %d workers%n", population, topK, mutations, mutationProb, crossovers, iterations,
                    nWorkers);
            System.out.printf(Locale.ROOT, "scoring:    BN recalibrated on %d x %d training images, top-1 on %d held-out"
                    + " images%n", recal.size(), tc.batch(), nVal);
            System.out.println("run:        " + dir.toAbsolutePath());
            ObjectNode record = RunInfo.JSON.createObjectNode();
            record.set("invocation", RunInfo.invocation(spec, loaded.description()));
            EvolutionarySearch es = new EvolutionarySearch(a.geneSpace(), constraint, sc);
            es.preload(runDir.known());
            int start = 0;
            List<int[]> pop;
            if (runDir.populationIteration() >= 0 && runDir.population() != null) {
                start = runDir.populationIteration();
                pop = runDir.population();
                System.out.println("resumed:    iteration " + (start + 1) + " of " + iterations + ", "
                        + runDir.known().size() + " candidates already evaluated");
            } else {
                pop = es.initialPopulation();
            }
            long t0 = System.nanoTime();
            List<HeldBatch> recalF = recal, valF = val;
            List<Candidate> top;
            int total = iterations * population;
            try (ProgressBar pb = quiet ? null : new ProgressBarBuilder().setTaskName("search").setInitialMax(total)
                    .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(1000).setUnit(" cand", 1)
                    .continuousUpdate().build()) {
                final int startF = start;
                final int[] done = {0};
                if (pb != null) {
                    pb.stepTo((long) start * population);
                }
                top = es.run(start, pop, () -> new GeneEvaluator(trainer.pruningNet(), recalF, valF), nWorkers, runDir,
                        new EvolutionarySearch.Listener() {
                            int iter = startF;
                            double best = Double.NaN;

                            @Override
                            public void iterationStarted(int iteration, int toEvaluate, int known) {
                                iter = iteration;
                                if (pb != null) {
                                    pb.stepTo((long) iteration * population + known);
                                }
                            }

                            @Override
                            public void evaluated(Candidate c) {
                                done[0]++;
                                best = Double.isNaN(best) ? c.error() : Math.min(best, c.error());
                                double sec = (System.nanoTime() - t0) * 1e-9;
                                if (pb != null) {
                                    pb.step();
                                    pb.setExtraMessage(String.format(Locale.ROOT, "iteration %d/%d best error %.2f%%"
                                            + " %.2f cand/s", iter + 1, iterations, 100 * best, done[0] / sec));
                                }
                            }

                            @Override
                            public void iterationDone(int iteration, List<Candidate> t) {
                                if (!t.isEmpty()) {
                                    best = t.get(0).error();
                                }
                                if (pb == null) {
                                    System.out.printf(Locale.ROOT, "iteration %d/%d: best error %.2f%% (%s)%n",
                                            iteration + 1, iterations, 100 * best, t.isEmpty() ? "-" : t.get(0).key());
                                }
                            }
                        });
            }
            double seconds = (System.nanoTime() - t0) * 1e-9;
            Candidate best = top.get(0);
            Gene bestGene = Gene.of(a.geneSpace(), best.gene());
            CostReport bc = CostCounter.count(bestGene.widthsIn(a));
            CostReport full = CostCounter.count(Widths.uniform(a, 1.0));
            double m = UniformMatch.multiplierForFlops(a, bc.flops());
            CostReport uc = CostCounter.count(Widths.uniform(a, m));
            // the PruningNet's view of the widest uniform gene inside the budget, for comparison
            int uIdx = -1;
            for (int i = Scales.MAX_INDEX; i >= 0; i--) {
                if (constraint.accepts(Gene.uniformIndex(a.geneSpace(), i).indices())) {
                    uIdx = i;
                    break;
                }
            }
            ObjectNode res = RunInfo.JSON.createObjectNode();
            res.put("format", "metaprune-search-result/1").put("arch", a.name()).put("constraint", constraint.describe());
            res.set("invocation", record.get("invocation"));
            res.set("settings", settings);
            ObjectNode b = res.putObject("best");
            b.set("gene", bestGene.toJsonNode());
            b.put("gene_string", best.key()).put("heldout_error", best.error()).put("heldout_top1", 1 - best.error())
                    .put("flops", bc.flops()).put("params", bc.params())
                    .put("flops_fraction_of_full", (double) bc.flops() / full.flops());
            ObjectNode u = res.putObject("uniform_same_flops");
            u.put("multiplier", m).put("flops", uc.flops()).put("params", uc.params());
            if (uIdx >= 0) {
                EvolutionarySearch.Evaluator ev = new GeneEvaluator(trainer.pruningNet(), recal, val);
                int[] ug = Gene.uniformIndex(a.geneSpace(), uIdx).indices();
                double ue = ev.error(ug);
                ObjectNode ugn = res.putObject("uniform_gene_in_budget");
                ugn.put("scale", Scales.value(uIdx)).put("gene_string", Candidate.key(ug)).put("heldout_error", ue)
                        .put("flops", CostCounter.count(Widths.forGene(a, ug)).flops());
                System.out.printf(Locale.ROOT, "uniform gene %.2f (widest inside the budget): held-out error %.2f%%"
                        + " with generated weights%n", Scales.value(uIdx), 100 * ue);
            }
            ArrayNode tops = res.putArray("top");
            for (Candidate c : top) {
                tops.addObject().put("gene", c.key()).put("heldout_error", c.error()).put("cost", c.cost())
                        .put("iteration", c.iteration());
            }
            res.put("evaluated", es.results().size()).put("seconds_this_session", seconds);
            runDir.result(res);
            System.out.printf(Locale.ROOT, "best gene:  %s%n", best.key());
            System.out.printf(Locale.ROOT, "            held-out error %.2f%%, %.2f M FLOPs (%.0f%% of the full %.2f M),"
                    + " %.3f M params%n", 100 * best.error(), bc.flops() / 1e6, 100.0 * bc.flops() / full.flops(),
                    full.flops() / 1e6, bc.params() / 1e6);
            System.out.printf(Locale.ROOT, "uniform:    multiplier %.4f has %.2f M FLOPs (the rival to retrain)%n", m,
                    uc.flops() / 1e6);
            System.out.printf(Locale.ROOT, "evaluated:  %d candidates, %.1f candidates/min this session%n",
                    es.results().size(), 60 * (es.results().size() - runDir.known().size()) / Math.max(seconds, 1e-9));
            if (latency != null && !noLatencyCheck) {
                checkLatency(a, bestGene.indices(), uIdx < 0 ? null : Gene.uniformIndex(a.geneSpace(), uIdx).indices(),
                        res);
                runDir.result(res);
            }
            System.out.println("result:     " + dir.resolve("result.json"));
            return 0;
        } finally {
            trainer.close();
        }
    }

    /**
     * Measures the winner (and the uniform gene) end to end on the latency table's set-up and prints and records each
     * beside its prediction. The search's result is already saved: a failure here is reported, not fatal.
     */
    private void checkLatency(Architecture a, int[] best, int[] uniform, ObjectNode res) {
        List<String> names = new ArrayList<>(List.of("winner"));
        List<int[]> genes = new ArrayList<>();
        genes.add(best);
        if (uniform != null) {
            names.add("uniform");
            genes.add(uniform);
        }
        ObjectNode out = res.putObject("latency_check");
        try {
            LatencyTable t = latency;
            System.out.println("latency:    measuring " + String.join(" and ", names) + " end to end on "
                    + t.deviceSummary());
            List<LatencyCheck.Row> rows = LatencyCheck.measure(t, a, names, genes, 3);
            out.put("table", latencyTable.toAbsolutePath().toString()).put("device", t.deviceSummary())
                    .put("unit", LatencyTable.UNIT).put("rounds", 3);
            ArrayNode arr = out.putArray("networks");
            for (LatencyCheck.Row r : rows) {
                arr.addObject().put("name", r.name()).put("gene", Candidate.key(r.gene()))
                        .put("predicted_ms", r.predictedMs()).put("layer_sum_ms", r.layerSumMs())
                        .put("measured_ms", r.measuredMs()).put("spread_ms", r.spreadMs())
                        .put("error_percent", r.errorPercent());
                System.out.printf(Locale.ROOT, "            %-8s predicted %.3f ms (layers %.3f ms), measured %.3f ms"
                        + " (spread %.3f), error %+.1f%%%n", r.name(), r.predictedMs(), r.layerSumMs(), r.measuredMs(),
                        r.spreadMs(), r.errorPercent());
            }
        } catch (RuntimeException e) {
            out.put("error", String.valueOf(e.getMessage()));
            System.out.println("latency:    not measured: " + e.getMessage());
        }
    }

    private static String text(ObjectNode n, String key) {
        return n.hasNonNull(key) ? n.get(key).asText() : null;
    }

    private static List<HeldBatch> truncate(List<HeldBatch> val, int images) {
        List<HeldBatch> out = new ArrayList<>();
        int left = images;
        for (HeldBatch b : val) {
            if (left <= 0) {
                break;
            }
            if (b.size() <= left) {
                out.add(b);
                left -= b.size();
            } else {
                out.add(new HeldBatch(b.images().slice0(0, left).copy(), Arrays.copyOf(b.labels(), left)));
                left = 0;
            }
        }
        return out;
    }

    Constraint constraint(Architecture a) throws IOException {
        List<Constraint> cs = new ArrayList<>();
        CostReport full = CostCounter.count(Widths.uniform(a, 1.0));
        if (maxFlops != null) {
            cs.add(Constraints.flops(a, Constraints.parseMillions(maxFlops, full.flops() / 1e6, "--max-flops")));
        }
        if (maxParams != null) {
            cs.add(Constraints.params(a, Constraints.parseMillions(maxParams, full.params() / 1e6, "--max-params")));
        }
        if (maxLatency != null || latencyTable != null) {
            latency = LatencyOption.read(a, latencyTable, maxLatency);
            cs.add(LatencyOption.constraint(latency, maxLatency));
        }
        return Constraints.all(cs);
    }
}
