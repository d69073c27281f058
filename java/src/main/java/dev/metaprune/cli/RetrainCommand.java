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
            if (width != null) {
                if (gene != null || uniform) {
                    throw new IllegalArgumentException("--width trains a given multiplier: do not combine it with"
                            + " --gene, --from-search or --uniform");
                }
                widthSpec = "uniform:" + width;
            } else if (geneIdx == null) {
                throw new IllegalArgumentException("say what to train: --from-search RUN, --gene GENE or --width M");
            } else if (uniform) {
                long f = CostCounter.count(Widths.forGene(a, geneIdx)).flops();
                widthSpec = "uniform:" + UniformMatch.multiplierForFlops(a, f);
            } else {
                widthSpec = "gene:" + dev.metaprune.search.Candidate.key(geneIdx);
            }
            cfg = new RetrainConfig(ds, a.name(), t.channels(), t.height(), t.numClasses(), widthSpec, epochs, batch,
                    lr, schedule, weightDecay, 0.9f, 0.1f, seed, maxSteps);
            dir = run != null ? run : RunInfo.defaultDir("retrain");
            if (Files.exists(dir.resolve("checkpoint.safetensors"))) {
                throw new IllegalArgumentException(dir + " already holds a training run: continue it with --resume "
                        + dir + " or choose another --run");
            }
        }
        Datasets.Loaded loaded = probe != null ? probe : Datasets.load(cfg.dataset(), data); // read once
        ScratchTrainer trainer = new ScratchTrainer(cfg, loaded.train());
        try (java.io.Closeable lock = RunInfo.lock(dir)) {
            if (resume != null) {
                trainer.restore(RunInfo.checkpointFile(dir));
            }
            CostReport cost = CostCounter.count(trainer.widths());
            System.out.println("data:    " + loaded.description());
            System.out.printf(Locale.ROOT, "model:   %s at %s: %.2f M FLOPs, %.3f M parameters%n", cfg.arch(),
                    cfg.widths(), cost.flops() / 1e6, cost.params() / 1e6);
            System.out.printf(Locale.ROOT, "train:   %d epochs of %d steps of %d, lr %s %s, wd %s, seed %d%s%n",
                    cfg.epochs(), trainer.stepsPerEpoch(), cfg.batch(), cfg.lr(), cfg.schedule(), cfg.weightDecay(),
                    cfg.seed(), resume != null ? " (resumed after epoch " + trainer.startEpoch() + ")" : "");
            System.out.println("kernels: " + Kernels.get().describe());
            System.out.println("run:     " + dir.toAbsolutePath());
            Path runJson = dir.resolve("run.json");
            ObjectNode record = Files.exists(runJson) ? (ObjectNode) RunInfo.JSON.readTree(runJson.toFile())
                    : RunInfo.JSON.createObjectNode();
            ArrayNode inv = record.has("invocations") ? (ArrayNode) record.get("invocations")
                    : record.putArray("invocations");
            inv.add(RunInfo.invocation(spec, loaded.description()));
            record.set("config", RunInfo.JSON.readTree(cfg.toJson()));
            record.put("flops", cost.flops()).put("params", cost.params()).put("widths", trainer.widths().describe());
            RunInfo.write(runJson, record);
            try (TrainingProgress p = new TrainingProgress("retrain", (long) cfg.epochs() * trainer.stepsPerEpoch(),
                    (long) trainer.startEpoch() * trainer.stepsPerEpoch(), cfg.epochs(), record, runJson, quiet)) {
                trainer.train(cfg.epochs(), dir, p);
            }
            double test = trainer.accuracy(loaded.test());
            record.put("test_top1", test).put("test_images", loaded.test().size());
            RunInfo.write(runJson, record);
            System.out.printf(Locale.ROOT, "test top-1: %.2f%% on %d images%n", 100 * test, loaded.test().size());
            System.out.println("checkpoint: " + dir.resolve("checkpoint.safetensors"));
            return 0;
        } finally {
            trainer.close();
        }
    }
}
