package dev.metaprune.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.metaprune.data.Datasets;
import dev.metaprune.data.ImageDataset;
import dev.metaprune.kernels.Kernels;
import dev.metaprune.kernels.Parallel;
import dev.metaprune.nn.arch.Architectures;
import dev.metaprune.nn.arch.Scales;
import dev.metaprune.train.PruningNetTrainer;
import dev.metaprune.train.RetrainConfig;
import dev.metaprune.train.ScratchTrainer;
import dev.metaprune.train.TrainConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code metaprune train}: trains a PruningNet with a random gene every step. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train a PruningNet (MetaPruning, stage 1): every step draws a random gene (uniform over the 31"
                + " width scales, stage-tied), generates the conv weights of that pruned network and trains the"
                + " generators on one mini-batch. SGD with momentum 0.9, label smoothing 0.1, weight decay on the"
                + " generators and the classifier, the official linear decay by default.",
                "",
                "A checkpoint (safetensors, readable from Python) is written to RUN/checkpoint.safetensors after every"
                        + " epoch, atomically; --resume RUN continues bit for bit. RUN/run.json records the command,"
                        + " versions, data and per-epoch results. At the end the smallest, a middle and the largest"
                        + " uniform genes are evaluated on the held-out split after BatchNorm recalibration.", ""},
        footer = {"", "Examples:",
                "  metaprune train --epochs 4                       # small MobileNetV2 on Fashion-MNIST",
                "  metaprune train --arch mobilenetv1-cifar --dataset cifar10 --data ~/cifar-10-batches-bin",
                "  metaprune train --resume runs/train-20261124-101500"})
public final class TrainCommand implements Callable<Integer> {
    @Option(names = {"-a", "--arch"}, description = "Architecture (default ${DEFAULT-VALUE}): one of "
            + "mobilenetv1-cifar, mobilenetv2-cifar, resnet50-cifar, resnet20-cifar, resnet56-cifar (small inputs), or the"
            + " ImageNet ones.",
            defaultValue = "mobilenetv2-cifar")
    String arch;

    @Option(names = "--dataset", defaultValue = "fashion-mnist",
            description = "Data set: fashion-mnist (Debian's package, else the subset in the repository), mnist,"
                    + " cifar10, cifar100 (default ${DEFAULT-VALUE}).")
    String dataset;

    @Option(names = "--data", paramLabel = "DIR", description = "Folder with the data set's files (overrides the"
            + " installed locations).")
    Path data;

    @Option(names = "--epochs", defaultValue = "4", description = "Epochs (default ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--batch", defaultValue = "128", description = "Mini-batch size (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--lr", defaultValue = "0.03", description = "Base learning rate (default ${DEFAULT-VALUE}: random"
            + " genes give the narrow widths' shared leading rows large relative updates, so a PruningNet needs a smaller"
            + " rate than a fixed network; at 0.1 it diverged here within 20 steps. The official 0.25 is for batch 512"
            + " on ImageNet).")
    double lr;

    @Option(names = "--schedule", defaultValue = "linear", description = "linear (official), cosine or multistep"
            + " (x0.1 at 1/4, 1/2, 3/4). Default ${DEFAULT-VALUE}.")
    String schedule;

    @Option(names = "--wd", description = "Weight decay (default: the official value of the family: MobileNetV1"
            + " 4e-5, MobileNetV2 0, ResNet 1e-4).")
    Float weightDecay;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of everything random (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--holdout-per-class", defaultValue = "50", description = "Training images per class held out"
            + " as the search's sub-validation split (default ${DEFAULT-VALUE}).")
    int holdout;

    @Option(names = "--max-steps-per-epoch", defaultValue = "0", description = "Cap on steps per epoch (0: all).")
    int maxSteps;

    @Option(names = "--threads", description = "Kernel threads (default: all cores).")
    Integer threads;

    @Option(names = "--run", paramLabel = "DIR", description = "Run folder (default runs/train-<arch>-<time>).")
    Path run;

    @Option(names = "--resume", paramLabel = "DIR", description = "Continue the run in DIR from its checkpoint"
            + " (every other option is taken from the checkpoint, except --data and --threads).")
    Path resume;

    @Option(names = "--recal-batches", defaultValue = "20", description = "Training batches for the BatchNorm"
            + " recalibration of the final evaluation (default ${DEFAULT-VALUE}; 0 skips the evaluation).")
    int recalBatches;

    @Option(names = "--full", description = "Train the unpruned dense network (own weights, the 1.0x width) instead"
            + " of a PruningNet: what the classic pruning baselines (`metaprune prune`) start from. The same trainer as"
            + " `metaprune retrain` (whole training set, augmentation, per-epoch checkpoints); weight decay 4e-5"
            + " (ResNet 1e-4) unless --wd is given.")
    boolean full;

    @Option(names = "--bn-l1", paramLabel = "S", description = "With --full: Network Slimming's sparsity training, L1"
            + " on every BatchNorm scale with strength S (the paper's 1e-4); `metaprune prune slim` then prunes it.")
    Float bnL1;

    @Option(names = "--quiet", description = "No progress bar (--full).")
    boolean quiet;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        if (threads != null) {
            Parallel.setThreads(threads);
        }
        if (bnL1 != null && !full) {
            throw new IllegalArgumentException("--bn-l1 is sparsity training of the dense network: give --full as well");
        }
        if (full || (resume != null && Files.exists(resume.resolve("checkpoint.safetensors"))
                && ScratchTrainer.FORMAT.equals(dev.metaprune.tensor.SafeTensors.readHeader(
                        resume.resolve("checkpoint.safetensors")).metadata().get("format")))) {
            return trainFull();
        }
        TrainConfig cfg;
        Path dir;
        Datasets.Loaded probe = null;
        if (resume != null) {
            dir = resume;
            Path ckpt = dir.resolve("checkpoint.safetensors");
            if (!Files.exists(ckpt)) {
                throw new IllegalArgumentException("nothing to resume: " + ckpt + " does not exist");
            }
            cfg = PruningNetTrainer.configOf(ckpt);
        } else {
            var entry = Architectures.entry(arch);
            float wd = weightDecay != null ? weightDecay : switch (Architectures.get(entry.name()).family()) {
                case MOBILENET_V1 -> 4e-5f;
                case MOBILENET_V2 -> 0f;
                case RESNET -> 1e-4f;
            };
            probe = Datasets.load(dataset, data);
            ImageDataset t = probe.train();
            cfg = new TrainConfig(dataset, entry.name(), t.channels(), t.height(), t.numClasses(), epochs, batch, lr,
                    schedule, wd, 0.9f, 0.1f, seed, holdout, maxSteps);
            dir = run != null ? run : RunInfo.defaultDir("train-" + entry.name());
            RunInfo.checkFresh(dir);
        }
        Datasets.Loaded loaded = probe != null ? probe : Datasets.load(cfg.dataset(), data); // read once
        System.out.println("data:    " + loaded.description());
        PruningNetTrainer trainer = new PruningNetTrainer(cfg, loaded.train());
        try (java.io.Closeable lock = RunInfo.lock(dir)) {
            if (resume != null) {
                trainer.restore(dir.resolve("checkpoint.safetensors"));
                System.out.println("resumed: " + dir + " after epoch " + trainer.startEpoch() + " of " + cfg.epochs());
            }
            System.out.println("model:   " + trainer.architecture().name() + " PruningNet, "
                    + String.format(Locale.ROOT, "%.1f M", trainer.pruningNet().generatorParameters() / 1e6)
                    + " generator parameters; " + trainer.stepsPerEpoch() + " steps per epoch of " + cfg.batch()
                    + "; held out " + trainer.split().holdout().length + " images");
            System.out.println("kernels: " + Kernels.get().describe());
            System.out.println("run:     " + dir.toAbsolutePath());
            Path runJson = dir.resolve("run.json");
            ObjectNode record = RunInfo.openRecord(runJson, spec, loaded.description());
            record.set("config", RunInfo.JSON.readTree(cfg.toJson()));
            RunInfo.write(runJson, record);
            try (TrainingProgress progress = new TrainingProgress("train",
                    (long) cfg.epochs() * trainer.stepsPerEpoch(), (long) trainer.startEpoch() * trainer.stepsPerEpoch(),
                    cfg.epochs(), record, runJson, false)) {
                trainer.train(cfg.epochs(), dir, progress);
            }
            if (recalBatches > 0 && trainer.split().holdout().length > 0) {
                int len = trainer.architecture().geneSpace().length();
                ObjectNode evals = record.putObject("fixed_genes");
                System.out.println("fixed genes, generated weights, BN recalibrated on " + recalBatches
                        + " batches, top-1 on the " + trainer.split().holdout().length + " held-out images:");
                for (int idx : new int[] {0, 13, Scales.MAX_INDEX}) {
                    int[] gene = new int[len];
                    Arrays.fill(gene, idx);
                    double acc = trainer.evaluateGene(gene, recalBatches);
                    String label = String.format(Locale.ROOT, "uniform %.2f", Scales.value(idx));
                    System.out.printf(Locale.ROOT, "  %-14s top-1 %.2f%%%n", label, 100 * acc);
                    evals.put(label, acc);
                }
                RunInfo.write(runJson, record);
            }
            System.out.println("checkpoint: " + dir.resolve("checkpoint.safetensors"));
            return 0;
        } finally {
            trainer.close();
        }
    }

    /** {@code --full}: the dense 1.0x network with its own weights (optionally with BatchNorm sparsity). */
    private int trainFull() throws IOException {
        RetrainConfig cfg;
        Path dir;
        Datasets.Loaded loaded;
        if (resume != null) {
            if (run != null) {
                throw new IllegalArgumentException("--run and --resume both given: --resume continues in its folder");
            }
            dir = resume;
            cfg = ScratchTrainer.configOf(RunInfo.checkpointFile(dir));
            loaded = Datasets.load(cfg.dataset(), data);
        } else {
            var entry = Architectures.entry(arch);
            float wd = weightDecay != null ? weightDecay
                    : Architectures.get(entry.name()).family() == dev.metaprune.nn.arch.Architecture.Family.RESNET
                    ? 1e-4f : 4e-5f;
            loaded = Datasets.load(dataset, data);
            ImageDataset t = loaded.train();
            cfg = new RetrainConfig(dataset, entry.name(), t.channels(), t.height(), t.numClasses(), "uniform:1.0",
                    epochs, batch, lr, schedule, wd, 0.9f, 0.1f, seed, maxSteps, bnL1 == null ? 0f : bnL1);
            dir = run != null ? run : RunInfo.defaultDir("full-" + entry.name());
            RunInfo.checkFresh(dir);
        }
        ScratchTrainer trainer = new ScratchTrainer(cfg, loaded.train());
        try {
            if (resume != null) {
                trainer.restore(RunInfo.checkpointFile(dir));
            }
            String method = cfg.bnL1() > 0 ? "full-sparse" : "full";
            return DenseRun.train(trainer, loaded, dir, spec, resume != null, quiet, "full", rec -> {
                if (!rec.has("method")) {
                    rec.put("method", method);
                }
            }, null);
        } finally {
            trainer.close();
        }
    }
}
