package dev.metaprune.train;

import dev.metaprune.cli.VersionInfo;
import dev.metaprune.data.Augmentation;
import dev.metaprune.data.Batch;
import dev.metaprune.data.BatchLoader;
import dev.metaprune.data.ChannelStats;
import dev.metaprune.data.ImageDataset;
import dev.metaprune.data.Split;
import dev.metaprune.data.Transforms;
import dev.metaprune.kernels.Kernels;
import dev.metaprune.nn.Network;
import dev.metaprune.nn.arch.Architecture;
import dev.metaprune.nn.arch.Architectures;
import dev.metaprune.nn.gene.Gene;
import dev.metaprune.optim.LrSchedule;
import dev.metaprune.pruningnet.PruningNet;
import dev.metaprune.tensor.SafeTensors;
import dev.metaprune.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Trains a PruningNet the MetaPruning way: a fresh random gene every step (uniform over the 31 scales,
 * stage-tied), SGD with momentum, label smoothing, the chosen learning-rate schedule; a checkpoint
 * at the end of every epoch; exact resume.
 *
 * <p><b>Reproducibility.</b> Everything random derives from the seed: the initial weights, the data
 * order and augmentation of epoch {@code e} ({@link BatchLoader}), and the gene of step {@code s}
 * ({@code Gene.random} with a generator seeded by {@code (seed, s)}). The kernels reduce in a fixed
 * order. So a run stopped after any epoch and resumed from its checkpoint ends with bit-identical
 * weights to an uninterrupted run (with the same thread count).
 */
public final class PruningNetTrainer {
    /** Called after every step (progress display). */
    public interface Listener {
        void step(int epoch, int batchInEpoch, int batchesPerEpoch, long step, float loss, int correct, int seen,
                  double lr);

        default void epoch(int epoch, double meanLoss, double accuracy, Path checkpoint) {
        }
    }

    public static final String FORMAT = "metaprune-pruningnet/1";

    private final TrainConfig cfg;
    private final Architecture arch;
    private final PruningNet pn;
    private final ImageDataset train;
    private final Split split;
    private final BatchLoader loader;
    private final LrSchedule schedule;
    private final long totalSteps;
    private final int stepsPerEpoch;
    private final ChannelStats stats;
    private int startEpoch;

    public PruningNetTrainer(TrainConfig cfg, ImageDataset train) {
        this(cfg, train, Architectures.get(cfg.arch(), cfg.inChannels(), cfg.inputSize(), cfg.classes()));
    }

    /** As {@link #PruningNetTrainer(TrainConfig, ImageDataset)} with an architecture built elsewhere (its name must be the config's). */
    public PruningNetTrainer(TrainConfig cfg, ImageDataset train, Architecture arch) {
        this(cfg, train, arch, true, Kernels.get());
    }

    /**
     * As {@link #PruningNetTrainer(TrainConfig, ImageDataset, Architecture)} on the backend {@code kernels} (a library
     * caller's choice; the command line's is {@code --backend}).
     */
    public PruningNetTrainer(TrainConfig cfg, ImageDataset train, Architecture arch, Kernels kernels) {
        this(cfg, train, arch, true, kernels);
    }

    /**
     * A trainer that only evaluates (a search, {@code metaprune evaluate}): its PruningNet keeps no
     * training executor and no momentum buffers; {@link #restore} reads the parameters and statistics
     * of a checkpoint, {@link #train} and {@link #writeCheckpoint} refuse.
     */
    public static PruningNetTrainer forEvaluation(TrainConfig cfg, ImageDataset train, Architecture arch) {
        return new PruningNetTrainer(cfg, train, arch, false, Kernels.get());
    }

    private PruningNetTrainer(TrainConfig cfg, ImageDataset train, Architecture arch, boolean trainable,
                              Kernels kernels) {
        if (!arch.name().equals(cfg.arch())) {
            throw new IllegalArgumentException("architecture " + arch.name() + " given for a run of " + cfg.arch());
        }
        this.cfg = cfg;
        this.train = train;
        Training.checkData(train, cfg.inChannels(), cfg.inputSize(), cfg.classes());
        this.arch = arch;
        this.split = Split.holdoutPerClass(train, cfg.holdoutPerClass(), cfg.seed());
        this.stats = ChannelStats.of(train, split.train());
        int s = cfg.inputSize(), c = cfg.inChannels();
        Augmentation aug = Augmentation.of(s, s, c, Transforms.randomCrop(s, s, Math.max(1, s / 8)),
                Transforms.horizontalFlip(0.5), Transforms.normalize(stats));
        this.loader = BatchLoader.builder(train).indices(split.train()).batchSize(cfg.batch()).shuffle(true)
                .dropLast(true).seed(cfg.seed()).augmentation(aug).prefetch(2).build();
        int full = loader.batchesPerEpoch();
        if (full == 0) {
            throw new IllegalArgumentException("the training split has " + split.train().length
                    + " images, fewer than one batch of " + cfg.batch());
        }
        this.stepsPerEpoch = cfg.maxStepsPerEpoch() > 0 ? Math.min(full, cfg.maxStepsPerEpoch()) : full;
        this.totalSteps = (long) stepsPerEpoch * cfg.epochs();
        this.schedule = Training.schedule(cfg.schedule(), cfg.lr(), totalSteps);
        this.pn = new PruningNet(arch, cfg.batch(), new PruningNet.Hyper(cfg.momentum(), cfg.weightDecay(), false,
                cfg.labelSmoothing()), cfg.seed(), trainable, kernels);
    }

    public PruningNet pruningNet() {
        return pn;
    }

    public Architecture architecture() {
        return arch;
    }

    public Split split() {
        return split;
    }

    public ChannelStats channelStats() {
        return stats;
    }

    public int stepsPerEpoch() {
        return stepsPerEpoch;
    }

    /** The epoch the next {@link #train} call starts at. */
    public int startEpoch() {
        return startEpoch;
    }

    /** The gene of a training step: a function of (seed, step) only. */
    public int[] geneForStep(long step) {
        long mixed = cfg.seed() * 0x9E3779B97F4A7C15L + step * 0xBF58476D1CE4E5B9L + 0x94D049BB133111EBL;
        return Gene.random(arch.geneSpace(), new SplittableRandom(mixed)).indices();
    }

    /**
     * Trains from {@link #startEpoch()} through {@code untilEpoch} (exclusive; at most the configured
     * epochs), writing {@code dir/checkpoint.safetensors} after each epoch.
     *
     * @throws TrainingDivergedException when the loss stops being finite (the last checkpoint stays)
     */
    public void train(int untilEpoch, Path dir, Listener listener) throws IOException {
        requireTrainable();
        Files.createDirectories(dir);
        Kernels k = pn.kernels();
        int end = Math.min(untilEpoch, cfg.epochs());
        for (int e = startEpoch; e < end; e++) {
            double lossSum = 0;
            long correct = 0, seen = 0;
            try (BatchLoader.Epoch it = loader.epoch(e, 0)) {
                for (int b = 0; b < stepsPerEpoch && it.hasNext(); b++) {
                    Batch batch = it.next();
                    long step = (long) e * stepsPerEpoch + b;
                    double lr = schedule.lr(step);
                    Tensor x = batch.images();
                    float loss = pn.trainStep(x, batch.labels(), geneForStep(step), (float) lr);
                    if (!Float.isFinite(loss)) {
                        throw Training.diverged(loss, e, step, lr, dir);
                    }
                    Tensor logits = pn.network().activation(arch.output().id(), x.dim(0));
                    int c = k.countTopK(logits, batch.labels(), 1);
                    lossSum += loss;
                    correct += c;
                    seen += x.dim(0);
                    if (listener != null) {
                        listener.step(e, b, stepsPerEpoch, step, loss, c, x.dim(0), lr);
                    }
                }
            }
            startEpoch = e + 1;
            Path ckpt = writeCheckpoint(dir.resolve("checkpoint.safetensors"));
            if (listener != null) {
                listener.epoch(e, lossSum / stepsPerEpoch, (double) correct / seen, ckpt);
            }
        }
    }

    /** Writes a checkpoint of the state after {@link #startEpoch()} epochs (temporary file, then rename). */
    public Path writeCheckpoint(Path file) throws IOException {
        requireTrainable(); // a checkpoint without momentum would not resume bit for bit
        Map<String, Tensor> state = pn.state();
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", FORMAT);
        meta.put("arch", arch.name());
        meta.put("gene_space", arch.geneSpace().name() + " (" + arch.geneSpace().length() + " positions)");
        meta.put("config", cfg.toJson());
        meta.put("epoch", Integer.toString(startEpoch));
        meta.put("step", Integer.toString(pn.step()));
        meta.put("rng", "all randomness derives from config.seed, the epoch and the step");
        meta.put("train_images", Integer.toString(train.size()));
        meta.put("channel_mean", java.util.Arrays.toString(stats.mean()));
        meta.put("channel_std", java.util.Arrays.toString(stats.std()));
        meta.put("metaprune_version", VersionInfo.version());
        meta.put("jdk", Runtime.version().toString());
        SafeTensors.write(file, state, null, meta);
        return file;
    }

    private void requireTrainable() {
        if (!pn.trainable()) {
            throw new IllegalStateException("this trainer was built for evaluation only (forEvaluation)");
        }
    }

    /** Reads the training configuration stored in a checkpoint. */
    public static TrainConfig configOf(Path file) throws IOException {
        SafeTensors.Header f = SafeTensors.readHeader(file);
        String format = f.metadata().get("format");
        if (!FORMAT.equals(format)) {
            throw new IOException(file + ": not a MetaPrune PruningNet checkpoint (format '" + format + "', expected '"
                    + FORMAT + "')");
        }
        return TrainConfig.fromJson(f.meta("config"));
    }

    /** Loads a checkpoint written by this trainer's configuration; training continues after its epoch. */
    public void restore(Path file) throws IOException {
        SafeTensors.Header f = SafeTensors.readHeader(file);
        if (!FORMAT.equals(f.metadata().get("format"))) {
            throw new IOException(file + ": not a MetaPrune PruningNet checkpoint");
        }
        if (!arch.name().equals(f.meta("arch"))) {
            throw new IOException(file + ": checkpoint of architecture " + f.meta("arch") + ", this run is "
                    + arch.name());
        }
        TrainConfig saved = TrainConfig.fromJson(f.meta("config"));
        if (!saved.equals(cfg)) {
            throw new IOException(file + ": checkpoint was trained with " + saved.toJson() + ", this run asks for "
                    + cfg.toJson());
        }
        String n = f.metadata().get("train_images");
        if (n != null && Integer.parseInt(n) != train.size()) {
            throw new IOException(file + ": checkpoint was trained on a " + cfg.dataset() + " training set of " + n
                    + " images, this one has " + train.size() + " (the full set and the embedded subset differ; give"
                    + " the same --data as for training)");
        }
        SafeTensors.readInto(file, f, pn.state());
        pn.stateChanged();
        int step = Integer.parseInt(f.meta("step"));
        pn.restoredAt(step);
        startEpoch = Integer.parseInt(f.meta("epoch"));
    }

    /**
     * Top-1 accuracy of a gene with generated weights on the held-out split, after recalibrating its
     * BatchNorm statistics with the exact average over {@code recalBatches} training batches
     * (MetaPruning's evaluation; the official code uses a momentum average instead).
     */
    public double evaluateGene(int[] gene, int recalBatches) {
        pn.flush();
        java.util.List<dev.metaprune.data.HeldBatch> val = heldOutBatches(cfg.batch());
        if (val.isEmpty()) {
            return Double.NaN;
        }
        return 1 - pn.generatedNetwork(cfg.batch()).error(gene, recalibrationBatches(recalBatches), val);
    }

    /**
     * {@code n} batches of training images, augmented as in training, for BatchNorm recalibration: a
     * fixed draw (an epoch index training never uses), the same for every caller, so every candidate
     * of a search is recalibrated on the same images.
     */
    public java.util.List<dev.metaprune.data.HeldBatch> recalibrationBatches(int n) {
        java.util.List<dev.metaprune.data.HeldBatch> out = new java.util.ArrayList<>();
        try (BatchLoader.Epoch it = loader.epoch(1_000_000, 0)) {
            while (out.size() < n && it.hasNext()) {
                Batch b = it.next();
                out.add(new dev.metaprune.data.HeldBatch(b.images().copy(), b.labels().clone()));
            }
        }
        return out;
    }

    /** The held-out (sub-validation) split, normalised, not augmented, in batches of at most {@code batch}. */
    public java.util.List<dev.metaprune.data.HeldBatch> heldOutBatches(int batch) {
        int sz = cfg.inputSize(), c = cfg.inChannels();
        return dev.metaprune.data.HeldBatch.load(train, split.holdout(), batch,
                Augmentation.of(sz, sz, c, Transforms.normalize(stats)));
    }

    /** Images in the training set the run was built on (checked when a checkpoint is reused with data). */
    public int datasetSize() {
        return train.size();
    }

    /** Releases the loaders' threads. */
    public void close() {
        loader.close();
    }
}
