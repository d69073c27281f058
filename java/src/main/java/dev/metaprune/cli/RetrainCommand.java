package dev.metaprune.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.metaprune.data.Datasets;
import dev.metaprune.data.ImageDataset;
import dev.metaprune.kernels.Kernels;
import dev.metaprune.kernels.Parallel;
import dev.metaprune.nn.arch.Architecture;
import dev.metaprune.nn.arch.Architectures;
import dev.metaprune.nn.arch.Widths;
import dev.metaprune.nn.cost.CostCounter;
import dev.metaprune.nn.cost.CostReport;
import dev.metaprune.nn.gene.Gene;
import dev.metaprune.search.UniformMatch;
import dev.metaprune.train.RetrainConfig;
import dev.metaprune.train.ScratchTrainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code metaprune retrain}: a pruned network trained from scratch with its own weights. */
@Command(name = "retrain", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train a pruned network from scratch (MetaPruning, stage 3): the searched gene, a gene you give,"
                + " or the uniform width multiplier — by default the one with the same FLOPs as the gene, the rival"
                + " the searched network must beat. Same executor as the PruningNet, its own weights; SGD with"
                + " momentum, label smoothing, weight decay on conv/FC weights, random crop and flip, the whole"
                + " training set. Ends with the test top-1.",
                "",
                "A checkpoint is written to RUN/checkpoint.safetensors after every epoch (atomically); --resume RUN"
                        + " continues bit for bit. RUN/run.json records the command, versions, widths, FLOPs and"
                        + " results.", ""},
        footer = {"", "Examples:",
                "  metaprune retrain --from-search runs/search-x                 # the winner",
                "  metaprune retrain --from-search runs/search-x --uniform       # the uniform rival at its FLOPs",
                "  metaprune retrain --gene 3,5,30,... --arch mobilenetv2-cifar --epochs 10 --seed 2",
                "  metaprune retrain --width 0.5 --arch mobilenetv2-cifar",
                "  metaprune retrain --resume runs/retrain-x"})
public final class RetrainCommand implements Callable<Integer> {
    @Option(names = "--from-search", paramLabel = "RUN", description = "Take the gene (and architecture, data set)"
            + " from a search's result.json (a run folder or the file).")
    Path fromSearch;

    @Option(names = "--gene", paramLabel = "GENE|FILE", description = "A gene: comma-separated scale indices, or a gene"
            + " JSON file.")
    String gene;

    @Option(names = "--uniform", description = "Train the uniform width multiplier with the same FLOPs as the gene"
            + " instead of the gene.")
    boolean uniform;

    @Option(names = "--width", description = "Train the uniform network at this width multiplier.")
    Double width;

    @Option(names = "--from-pruned", paramLabel = "RUN", description = "Train the structure a pruning baseline found"
            + " (a `metaprune prune` run folder) from scratch, with fresh weights: Scratch-E (by default: as many"
            + " epochs as the dense network it was pruned from had, unless --epochs is given) or Scratch-B"
            + " (--scratch-b).")
    Path fromPruned;

    @Option(names = "--scratch-b", description = "Scratch-B (Liu et al. 2019, \"Rethinking the Value of Network"
            + " Pruning\"): train epochs x full FLOPs / pruned FLOPs (rounded), the same computation budget as the"
            + " full network's training. The full network: the dense one a pruned structure came from, else the"
            + " 1.0x width multiplier.")
    boolean scratchB;

    @Option(names = {"-a", "--arch"}, defaultValue = "mobilenetv2-cifar", description = "Architecture (default"
            + " ${DEFAULT-VALUE}; taken from the search result or gene file when given).")
    String arch;

    @Option(names = "--dataset", defaultValue = "fashion-mnist", description = "Data set (default ${DEFAULT-VALUE}).")
    String dataset;

    @Option(names = "--data", paramLabel = "DIR", description = "Data folder (overrides the installed locations).")
    Path data;

    @Option(names = "--epochs", defaultValue = "10", description = "Epochs (default ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--batch", defaultValue = "128", description = "Mini-batch (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--lr", defaultValue = "0.1", description = "Base learning rate (default ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--schedule", defaultValue = "cosine", description = "linear, cosine or multistep (default"
            + " ${DEFAULT-VALUE}).")
    String schedule;

    @Option(names = "--wd", defaultValue = "4e-5", description = "Weight decay on conv and FC weights (default"
            + " ${DEFAULT-VALUE}, the official MobileNet value).")
    float weightDecay;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of the weights, data order, augmentation"
            + " (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--max-steps-per-epoch", defaultValue = "0", description = "Cap on steps per epoch (0: all).")
    int maxSteps;

    @Option(names = "--threads", description = "Kernel threads (default: all cores).")
    Integer threads;

    @Option(names = "--run", paramLabel = "DIR", description = "Run folder (default runs/retrain-<time>).")
    Path run;

    @Option(names = "--resume", paramLabel = "DIR", description = "Continue the run in DIR (its settings are used;"
            + " --data and --threads may be given).")
    Path resume;

    @Option(names = "--quiet", description = "No progress bar.")
    boolean quiet;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    private String method;
    private java.util.function.Consumer<ObjectNode> sourceRecord;

    /** Scratch-B's epochs: {@code round(epochs x fullFlops / prunedFlops)}, at least {@code epochs}. */
    static int scratchBEpochs(int epochs, long fullFlops, long prunedFlops) {
        if (prunedFlops <= 0 || fullFlops <= 0) {
            throw new IllegalArgumentException("FLOPs must be positive");
        }
        return (int) Math.max(epochs, Math.round((double) epochs * fullFlops / prunedFlops));
    }

    @Override
    public Integer call() throws IOException {
        if (threads != null) {
            Parallel.setThreads(threads);
        }
        RetrainConfig cfg;
        Path dir;
        Datasets.Loaded probe = null;
        if (resume != null) {
            if (run != null) {
                throw new IllegalArgumentException("--run and --resume both given: --resume continues in its folder");
            }
            dir = resume;
            cfg = ScratchTrainer.configOf(RunInfo.checkpointFile(dir));
        } else {
            String widthSpec;
            String archName = Architectures.entry(arch).name();
            String ds = dataset;
            int[] geneIdx = null;
            String prunedSpec = null;
            long fullFlops = -1;
            int baseEpochs = epochs;
            boolean epochsGiven = spec.commandLine().getParseResult().hasMatchedOption("--epochs");
            if (fromPruned != null) {
                if (fromSearch != null || gene != null || width != null || uniform) {
                    throw new IllegalArgumentException("--from-pruned trains a pruned structure: do not combine it with"
                            + " --from-search, --gene, --width or --uniform");
                }
                Path rj = fromPruned.resolve("run.json");
                JsonNode r = Files.exists(rj) ? RunInfo.JSON.readTree(rj.toFile()) : null;
                if (r == null || !r.has("pruned_widths") || !r.has("source_config")) {
                    throw new IllegalArgumentException(fromPruned + " is not a `metaprune prune` run (no run.json with"
                            + " pruned_widths)");
                }
                RetrainConfig src = RetrainConfig.fromJson(r.get("source_config").toString());
                archName = src.arch();
                ds = src.dataset();
                prunedSpec = r.get("pruned_widths").asText();
                fullFlops = r.get("source_flops").asLong();
                if (!epochsGiven) {
                    baseEpochs = src.epochs();
                }
                method = r.path("base_method").asText("pruned") + (scratchB ? "-scratch-b" : "-scratch-e");
                final Path from = fromPruned;
                sourceRecord = rec -> rec.put("pruned_from", from.toString());
            }
            if (fromSearch != null) {
                Path rf = Files.isDirectory(fromSearch) ? fromSearch.resolve("result.json") : fromSearch;
                if (!Files.exists(rf)) {
                    throw new IllegalArgumentException("no search result at " + rf + " (has the search finished?)");
                }
                JsonNode r = RunInfo.JSON.readTree(rf.toFile());
                if (!r.has("best") || !r.has("arch")) {
                    throw new IllegalArgumentException(rf + " is not a search result (no 'best' gene)");
                }
                archName = r.get("arch").asText();
                gene = r.get("best").get("gene_string").asText();
                JsonNode tc = r.path("settings").path("checkpoint");
                if (tc.isTextual() && Files.exists(Path.of(tc.asText()))) {
                    ds = dev.metaprune.train.PruningNetTrainer.configOf(Path.of(tc.asText())).dataset();
                }
            }
            probe = Datasets.load(ds, data);
            ImageDataset t = probe.train();
            Architecture a = Architectures.get(archName, t.channels(), t.height(), t.numClasses());
            if (gene != null) {
                Path gf = Path.of(gene);
                Gene g = Files.isRegularFile(gf) ? Gene.read(gf) : Gene.parse(a.geneSpace(), gene);
                if (!g.arch().equals(a.geneSpace().name()) && !g.space().isCompatible(a.geneSpace())) {
                    throw new IllegalArgumentException("gene of " + g.arch() + " given for " + a.name());
                }
                a.geneSpace().validate(g.indices());
                geneIdx = g.indices();
            }
            if (prunedSpec != null) {
                widthSpec = prunedSpec;
            } else if (width != null) {
                if (gene != null || uniform) {
                    throw new IllegalArgumentException("--width trains a given multiplier: do not combine it with"
                            + " --gene, --from-search or --uniform");
                }
                widthSpec = "uniform:" + width;
                method = width == 1.0 ? "full" : "uniform";
            } else if (geneIdx == null) {
                throw new IllegalArgumentException("say what to train: --from-search RUN, --from-pruned RUN, --gene GENE"
                        + " or --width M");
            } else if (uniform) {
                long f = CostCounter.count(Widths.forGene(a, geneIdx)).flops();
                widthSpec = "uniform:" + UniformMatch.multiplierForFlops(a, f);
                method = "uniform";
            } else {
                widthSpec = "gene:" + dev.metaprune.search.Candidate.key(geneIdx);
                method = fromSearch != null ? "metapruning" : "gene";
            }
            int trainEpochs = baseEpochs;
            if (scratchB) {
                long pruned = CostCounter.count(ScratchTrainer.widthsOf(a, widthSpec)).flops();
                long full = fullFlops > 0 ? fullFlops : CostCounter.count(Widths.uniform(a, 1.0)).flops();
                trainEpochs = scratchBEpochs(baseEpochs, full, pruned);
                if (fromPruned == null) {
                    method = method + "-scratch-b";
                }
                final long fullF = full;
                final int be = baseEpochs;
                java.util.function.Consumer<ObjectNode> prev = sourceRecord;
                sourceRecord = rec -> {
                    if (prev != null) {
                        prev.accept(rec);
                    }
                    rec.put("scratch_b_full_flops", fullF).put("scratch_b_base_epochs", be);
                };
            }
            cfg = new RetrainConfig(ds, a.name(), t.channels(), t.height(), t.numClasses(), widthSpec, trainEpochs,
                    batch, lr, schedule, weightDecay, 0.9f, 0.1f, seed, maxSteps);
            dir = run != null ? run : RunInfo.defaultDir("retrain");
            RunInfo.checkFresh(dir);
        }
        Datasets.Loaded loaded = probe != null ? probe : Datasets.load(cfg.dataset(), data); // read once
        ScratchTrainer trainer = new ScratchTrainer(cfg, loaded.train());
        try {
            if (resume != null) {
                trainer.restore(RunInfo.checkpointFile(dir));
            }
            return DenseRun.train(trainer, loaded, dir, spec, resume != null, quiet, "retrain", rec -> {
                if (method != null) {
                    rec.put("method", method);
                }
                if (sourceRecord != null) {
                    sourceRecord.accept(rec);
                }
            }, null);
        } finally {
            trainer.close();
        }
    }
}
