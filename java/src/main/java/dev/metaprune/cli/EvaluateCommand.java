package dev.metaprune.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.metaprune.data.Datasets;
import dev.metaprune.kernels.Kernels;
import dev.metaprune.kernels.Parallel;
import dev.metaprune.nn.arch.Architecture;
import dev.metaprune.nn.arch.Architectures;
import dev.metaprune.nn.gene.Gene;
import dev.metaprune.search.GeneEvaluator;
import dev.metaprune.tensor.SafeTensors;
import dev.metaprune.train.PruningNetTrainer;
import dev.metaprune.data.HeldBatch;
import dev.metaprune.train.RetrainConfig;
import dev.metaprune.train.ScratchTrainer;
import dev.metaprune.train.TrainConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code metaprune evaluate}: test top-1 of a checkpoint. */
@Command(name = "evaluate", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Test top-1 of a checkpoint: a retrained network (`metaprune retrain`), or a PruningNet"
                + " (`metaprune train`) at a gene, with generated weights after BatchNorm recalibration.", ""},
        footer = {"", "Examples:",
                "  metaprune evaluate runs/retrain-x",
                "  metaprune evaluate runs/train-x --gene 30,30,30,... --json"})
public final class EvaluateCommand implements Callable<Integer> {
    @Parameters(paramLabel = "CHECKPOINT", description = "A checkpoint file or run folder.")
    Path checkpoint;

    @Option(names = "--data", paramLabel = "DIR", description = "Data folder, as given for training.")
    Path data;

    @Option(names = "--gene", paramLabel = "GENE|FILE", description = "For a PruningNet: the gene to evaluate.")
    String gene;

    @Option(names = "--recal-batches", defaultValue = "20", description = "For a PruningNet: training batches for"
            + " BatchNorm recalibration (default ${DEFAULT-VALUE}).")
    int recalBatches;

    @Option(names = "--threads", description = "Kernel threads (default: all cores).")
    Integer threads;

    @Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        if (threads != null) {
            Parallel.setThreads(threads);
        }
        Path ckpt = RunInfo.checkpointFile(checkpoint);
        String format = SafeTensors.readHeader(ckpt).metadata().get("format");
        ObjectNode out = RunInfo.JSON.createObjectNode();
        out.put("checkpoint", ckpt.toString());
        if (ScratchTrainer.FORMAT.equals(format)) {
            if (gene != null) {
                throw new IllegalArgumentException(ckpt + " is a retrained network with fixed widths; --gene applies to"
                        + " PruningNet checkpoints");
            }
            RetrainConfig cfg = ScratchTrainer.configOf(ckpt);
            Datasets.Loaded loaded = Datasets.load(cfg.dataset(), data);
            ScratchTrainer t = new ScratchTrainer(cfg, loaded.train());
            try {
                t.restore(ckpt);
                double acc = t.accuracy(loaded.test());
                out.put("kind", "retrained").put("arch", cfg.arch()).put("widths", cfg.widths())
                        .put("epochs_trained", t.startEpoch()).put("test_top1", acc)
                        .put("test_images", loaded.test().size()).put("data", loaded.description());
            } finally {
                t.close();
            }
        } else if (PruningNetTrainer.FORMAT.equals(format)) {
            if (gene == null) {
                throw new IllegalArgumentException(ckpt + " is a PruningNet: give --gene to evaluate one pruned network");
            }
            TrainConfig cfg = PruningNetTrainer.configOf(ckpt);
            Architecture a = Architectures.get(cfg.arch(), cfg.inChannels(), cfg.inputSize(), cfg.classes());
            Path gf = Path.of(gene);
            Gene g = Files.isRegularFile(gf) ? Gene.read(gf) : Gene.parse(a.geneSpace(), gene);
            a.geneSpace().validate(g.indices());
            Datasets.Loaded loaded = Datasets.load(cfg.dataset(), data);
            PruningNetTrainer t = PruningNetTrainer.forEvaluation(cfg, loaded.train(), a);
            try {
                t.restore(ckpt);
                t.pruningNet().flush();
                var ds = loaded.test();
                List<HeldBatch> test = HeldBatch.all(ds, cfg.batch(), t.channelStats());
                double err = new GeneEvaluator(t.pruningNet(), t.recalibrationBatches(recalBatches), test)
                        .error(g.indices());
                out.put("kind", "pruningnet").put("arch", a.name()).put("gene", g.toString())
                        .put("recal_batches", recalBatches).put("test_top1", 1 - err)
                        .put("test_images", ds.size()).put("data", loaded.description());
            } finally {
                t.close();
            }
        } else {
            throw new IllegalArgumentException(ckpt + " is not a MetaPrune checkpoint (format '" + format + "')");
        }
        out.put("kernels", Kernels.get().describe());
        if (json) {
            System.out.println(out.toString());
        } else {
            System.out.printf(Locale.ROOT, "%s %s: test top-1 %.2f%% on %d images%n", out.get("arch").asText(),
                    out.has("widths") ? out.get("widths").asText() : out.get("gene").asText(),
                    100 * out.get("test_top1").asDouble(), out.get("test_images").asInt());
        }
        return 0;
    }
}
