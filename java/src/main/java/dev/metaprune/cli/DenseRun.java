package dev.metaprune.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.metaprune.data.Datasets;
import dev.metaprune.kernels.Kernels;
import dev.metaprune.nn.cost.CostCounter;
import dev.metaprune.nn.cost.CostReport;
import dev.metaprune.train.RetrainConfig;
import dev.metaprune.train.ScratchTrainer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.Consumer;
import picocli.CommandLine;

/**
 * The training part shared by every command that trains a dense network (retrain, {@code train --full}, the pruning
 * baselines' fine-tuning, Scratch-E / Scratch-B): prints the set-up, records the invocation, configuration, FLOPs and
 * method in {@code run.json}, trains with a progress bar and per-epoch checkpoints, and ends with the test top-1.
 */
final class DenseRun {
    private DenseRun() {
    }

    /**
     * @param extra     adds the command's own fields to run.json (method, source, ...); may be null
     * @param startNote printed after the training line (e.g. where the weights come from); may be null
     */
    static int train(ScratchTrainer trainer, Datasets.Loaded loaded, Path dir, CommandLine.Model.CommandSpec spec,
                     boolean resumed, boolean quiet, String kind, Consumer<ObjectNode> extra, String startNote)
            throws IOException {
        RetrainConfig cfg = trainer.config();
        CostReport cost = CostCounter.count(trainer.widths());
        System.out.println("data:    " + loaded.description());
        System.out.printf(Locale.ROOT, "model:   %s at %s: %.2f M FLOPs, %.3f M parameters%n", cfg.arch(),
                trainer.widths().describe(), cost.flops() / 1e6, cost.params() / 1e6);
        System.out.printf(Locale.ROOT, "train:   %d epochs of %d steps of %d, lr %s %s, wd %s, seed %d%s%s%n",
                cfg.epochs(), trainer.stepsPerEpoch(), cfg.batch(), cfg.lr(), cfg.schedule(), cfg.weightDecay(),
                cfg.seed(), cfg.bnL1() > 0 ? ", BatchNorm L1 " + cfg.bnL1() : "",
                resumed ? " (resumed after epoch " + trainer.startEpoch() + ")" : "");
        if (startNote != null) {
            System.out.println("weights: " + startNote);
        }
        System.out.println("kernels: " + Kernels.get().describe());
        System.out.println("run:     " + dir.toAbsolutePath());
        try (java.io.Closeable lock = RunInfo.lock(dir)) {
            return train(trainer, loaded, dir, spec, quiet, kind, extra, cfg, cost);
        }
    }

    private static int train(ScratchTrainer trainer, Datasets.Loaded loaded, Path dir, CommandLine.Model.CommandSpec spec,
                             boolean quiet, String kind, Consumer<ObjectNode> extra, RetrainConfig cfg, CostReport cost)
            throws IOException {
        Path runJson = dir.resolve("run.json");
        ObjectNode record = RunInfo.openRecord(runJson, spec, loaded.description());
        record.set("config", RunInfo.JSON.readTree(cfg.toJson()));
        record.put("flops", cost.flops()).put("params", cost.params()).put("widths", trainer.widths().describe());
        if (extra != null) {
            extra.accept(record);
        }
        RunInfo.write(runJson, record);
        try (TrainingProgress p = new TrainingProgress(kind, (long) cfg.epochs() * trainer.stepsPerEpoch(),
                (long) trainer.startEpoch() * trainer.stepsPerEpoch(), cfg.epochs(), record, runJson, quiet)) {
            trainer.train(cfg.epochs(), dir, p);
        }
        double test = trainer.accuracy(loaded.test());
        record.put("test_top1", test).put("test_images", loaded.test().size());
        RunInfo.write(runJson, record);
        System.out.printf(Locale.ROOT, "test top-1: %.2f%% on %d images%n", 100 * test, loaded.test().size());
        System.out.println("checkpoint: " + dir.resolve("checkpoint.safetensors"));
        return 0;
    }
}
