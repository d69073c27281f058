package dev.metaprune.train;

import dev.metaprune.cli.VersionInfo;
import dev.metaprune.data.Augmentation;
import dev.metaprune.data.Batch;
import dev.metaprune.data.BatchLoader;
import dev.metaprune.data.ChannelStats;
import dev.metaprune.data.HeldBatch;
import dev.metaprune.data.ImageDataset;
import dev.metaprune.data.Transforms;
import dev.metaprune.kernels.Kernels;
import dev.metaprune.nn.DenseModel;
import dev.metaprune.nn.arch.Architecture;
import dev.metaprune.nn.arch.Architectures;
import dev.metaprune.nn.arch.Widths;
import dev.metaprune.nn.gene.Gene;
import dev.metaprune.optim.LrSchedule;
import dev.metaprune.tensor.SafeTensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * Trains one network at a fixed width configuration from scratch with its own weights (the
 * MetaPruning winner, the uniform-width rival, the baselines): the same executor as the
 * PruningNet, SGD with momentum on conv/FC weights with weight decay and on BatchNorm and biases
 * without, label smoothing, a learning-rate schedule, augmentation (random crop with padding,
 * horizontal flip, normalisation), the whole training set. A checkpoint after every epoch
 * (atomic), and bit-exact resume: everything random derives from the seed, the epoch and the step.
 */
public final class ScratchTrainer {
    public static final String FORMAT = "metaprune-dense/1";

    private final RetrainConfig cfg;
    private final Architecture arch;
    private final Widths widths;
    private final DenseModel model;
    private final ImageDataset train;
    private final BatchLoader loader;
    private final LrSchedule schedule;
    private final ChannelStats stats;
    private final int stepsPerEpoch;
    private int startEpoch;

    public ScratchTrainer(RetrainConfig cfg, ImageDataset train) {
        this.cfg = cfg;
        this.train = train;
        Training.checkData(train, cfg.inChannels(), cfg.inputSize(), cfg.classes());
        this.arch = Architectures.get(cfg.arch(), cfg.inChannels(), cfg.inputSize(), cfg.classes());
        this.widths = widthsOf(arch, cfg.widths());
        int[] all = IntStream.range(0, train.size()).toArray();
        this.stats = ChannelStats.of(train, all);
        int s = cfg.inputSize(), c = cfg.inChannels();
        Augmentation aug = Augmentation.of(s, s, c, Transforms.randomCrop(s, s, Math.max(1, s / 8)),
                Transforms.horizontalFlip(0.5), Transforms.normalize(stats));
        this.loader = BatchLoader.builder(train).indices(all).batchSize(cfg.batch()).shuffle(true).dropLast(true)
                .seed(cfg.seed()).augmentation(aug).prefetch(2).build();
        int full = loader.batchesPerEpoch();
        if (full == 0) {
            throw new IllegalArgumentException("the training set has " + all.length + " images, fewer than one batch of "
                    + cfg.batch());
        }
        this.stepsPerEpoch = cfg.maxStepsPerEpoch() > 0 ? Math.min(full, cfg.maxStepsPerEpoch()) : full;
        long total = (long) stepsPerEpoch * cfg.epochs();
        this.schedule = Training.schedule(cfg.schedule(), cfg.lr(), total);
        this.model = new DenseModel(widths, cfg.batch(), cfg.momentum(), cfg.weightDecay(), false,
                cfg.labelSmoothing(), cfg.seed());
        model.setBnL1(cfg.bnL1());
    }

    /** Parses {@code gene:...} or {@code uniform:m} into widths of {@code arch}. */
    public static Widths widthsOf(Architecture arch, String spec) {
        if (spec.startsWith("gene:")) {
            return Gene.parse(arch.geneSpace(), spec.substring(5)).widthsIn(arch);
        }
        if (spec.startsWith("uniform:")) {
            try {
                return Widths.uniform(arch, Double.parseDouble(spec.substring(8)));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad width multiplier in '" + spec + "'");
            }
        }
        if (spec.startsWith("channels:")) {
            String[] parts = spec.substring(9).split(",");
            int[] w = new int[parts.length];
            try {
                for (int i = 0; i < parts.length; i++) {
                    w[i] = Integer.parseInt(parts[i].trim());
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad channel count in '" + spec + "'");
            }
            return Widths.explicit(arch, w);
        }
        throw new IllegalArgumentException("widths must be 'gene:<indices>', 'uniform:<multiplier>' or"
                + " 'channels:<widths>', got '" + spec + "'");
    }

    public RetrainConfig config() {
        return cfg;
    }

    public Widths widths() {
        return widths;
    }

    public DenseModel model() {
        return model;
    }

    public int stepsPerEpoch() {
        return stepsPerEpoch;
    }

    public int startEpoch() {
        return startEpoch;
    }

    public ChannelStats channelStats() {
        return stats;
    }

    /**
     * Trains epochs {@link #startEpoch()} .. {@code untilEpoch - 1} (at most the configured epochs),
     * writing {@code dir/checkpoint.safetensors} after each.
     *
     * @throws TrainingDivergedException when the loss stops being finite (the last checkpoint stays)
     */
    public void train(int untilEpoch, Path dir, PruningNetTrainer.Listener listener) throws IOException {
        Files.createDirectories(dir);
        Kernels k = Kernels.get();
        int end = Math.min(untilEpoch, cfg.epochs());
        for (int e = startEpoch; e < end; e++) {
            double lossSum = 0;
            long correct = 0, seen = 0;
            try (BatchLoader.Epoch it = loader.epoch(e, 0)) {
                for (int b = 0; b < stepsPerEpoch && it.hasNext(); b++) {
                    Batch batch = it.next();
                    long step = (long) e * stepsPerEpoch + b;
                    double lr = schedule.lr(step);
                    float loss = model.trainStep(batch.images(), batch.labels(), (float) lr);
                    if (!Float.isFinite(loss)) {
                        throw Training.diverged(loss, e, step, lr, dir);
                    }
                    int c = k.countTopK(model.network().activation(arch.output().id(), batch.size()), batch.labels(), 1);
                    lossSum += loss;
                    correct += c;
                    seen += batch.size();
                    if (listener != null) {
                        listener.step(e, b, stepsPerEpoch, step, loss, c, batch.size(), lr);
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

    /** Writes the state after {@link #startEpoch()} epochs (temporary file, then rename). */
    public Path writeCheckpoint(Path file) throws IOException {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", FORMAT);
        meta.put("arch", arch.name());
        meta.put("widths", cfg.widths());
        meta.put("config", cfg.toJson());
        meta.put("epoch", Integer.toString(startEpoch));
        meta.put("train_images", Integer.toString(train.size()));
        meta.put("channel_mean", Arrays.toString(stats.mean()));
        meta.put("channel_std", Arrays.toString(stats.std()));
        meta.put("metaprune_version", VersionInfo.version());
        meta.put("jdk", Runtime.version().toString());
        SafeTensors.write(file, model.state(), null, meta);
        return file;
    }

    /** The configuration stored in a checkpoint written by this class. */
    public static RetrainConfig configOf(Path file) throws IOException {
        SafeTensors.Header f = SafeTensors.readHeader(file);
        String format = f.metadata().get("format");
        if (!FORMAT.equals(format)) {
            throw new IOException(file + ": not a MetaPrune retraining checkpoint (format '" + format + "', expected '"
                    + FORMAT + "')");
        }
        return RetrainConfig.fromJson(f.meta("config"));
    }

    /** Loads a checkpoint of this configuration; training continues after its epoch. */
    public void restore(Path file) throws IOException {
        SafeTensors.Header f = SafeTensors.readHeader(file);
        RetrainConfig saved = configOf(file);
        if (!saved.equals(cfg)) {
            throw new IOException(file + ": checkpoint was trained with " + saved.toJson() + ", this run asks for "
                    + cfg.toJson());
        }
        String n = f.metadata().get("train_images");
        if (n != null && Integer.parseInt(n) != train.size()) {
            throw new IOException(file + ": checkpoint was trained on " + n + " images, this training set has "
                    + train.size() + " (give the same --data as for training)");
        }
        SafeTensors.readInto(file, f, model.state());
        model.stateChanged();
        startEpoch = Integer.parseInt(f.meta("epoch"));
    }

    /**
     * Replaces the model's weights and BatchNorm statistics (not the momentum) with those of a dense
     * checkpoint of the same widths (a pruned network's inherited weights, before fine-tuning).
     */
    public void loadWeights(Path file) throws IOException {
        SafeTensors.Header f = SafeTensors.readHeader(file);
        SafeTensors.readInto(file, f, model.weights());
        model.stateChanged();
    }

    /** Top-1 accuracy on a data set (normalised with the training set's statistics), running BatchNorm statistics. */
    public double accuracy(ImageDataset ds) {
        return accuracy(model, ds, stats, cfg.batch());
    }

    /** Top-1 accuracy of a dense model on {@code ds}, normalised with {@code stats}. */
    public static double accuracy(DenseModel model, ImageDataset ds, ChannelStats stats, int batch) {
        long correct = 0, seen = 0;
        for (HeldBatch b : HeldBatch.all(ds, Math.min(batch, model.network().maxBatch()), stats)) {
            correct += Kernels.get().countTopK(model.predict(b.images()), b.labels(), 1);
            seen += b.size();
        }
        return seen == 0 ? Double.NaN : (double) correct / seen;
    }

    /** Releases the loader's threads. */
    public void close() {
        loader.close();
    }
}
