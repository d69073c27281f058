package dev.metaprune.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.metaprune.data.Datasets;
import dev.metaprune.kernels.Parallel;
import dev.metaprune.nn.arch.Architecture;
import dev.metaprune.nn.arch.Architectures;
import dev.metaprune.nn.arch.Widths;
import dev.metaprune.nn.cost.CostCounter;
import dev.metaprune.prune.Amc;
import dev.metaprune.prune.ChannelGroups;
import dev.metaprune.prune.Pruner;
import dev.metaprune.prune.Ranking;
import dev.metaprune.prune.Surgery;
import dev.metaprune.search.Constraints;
import dev.metaprune.tensor.SafeTensors;
import dev.metaprune.tensor.Tensor;
import dev.metaprune.train.RetrainConfig;
import dev.metaprune.train.ScratchTrainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code metaprune prune}: the classic pruning baselines on a dense network, then fine-tuning. */
@Command(name = "prune", mixinStandardHelpOptions = true,
        description = {"Prune a dense network (from `metaprune train --full`) the classic ways and fine-tune the result"
                + " from its inherited weights: L1-norm filter pruning (Li et al. 2017), Network Slimming (Liu et al."
                + " 2017) or AMC (He et al. 2018, a DDPG agent). Channels joined by a residual add are pruned"
                + " together (the same channels kept in every block"
                + " of a stage); the image, the classes and fixed widths are not pruned.",
                "",
                "The run folder holds pruned.safetensors (the pruned network before fine-tuning), checkpoint.safetensors"
                        + " (fine-tuning, after every epoch; `--resume RUN` continues it) and run.json (method, source,"
                        + " kept widths, FLOPs, test top-1). `metaprune retrain --from-pruned RUN [--scratch-b]` trains"
                        + " the same structure from scratch.", ""},
        subcommands = {PruneCommand.L1.class, PruneCommand.Slim.class, PruneCommand.AmcMethod.class},
        footer = {"", "Examples:",
                "  metaprune train --full --epochs 10 --run runs/full",
                "  metaprune prune l1 --from runs/full --max-flops 50%% --epochs 3",
                "  metaprune prune l1 --from runs/full --keep 0.5 --layer-keep block3.mid=0.3",
                "  metaprune train --full --bn-l1 1e-4 --epochs 10 --run runs/sparse",
                "  metaprune prune slim --from runs/sparse --max-flops 25%% --epochs 3",
                "  metaprune prune amc --from runs/full --max-flops 50%% --warmup 100 --episodes 300"})
public final class PruneCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** Options every method shares: the source, the budget, fine-tuning, the run folder. */
    static final class Common {
        @Option(names = "--from", paramLabel = "RUN|FILE", description = "The dense network: a run folder of"
                + " `metaprune train --full` (or `retrain`) or its checkpoint.")
        Path from;

        @Option(names = "--max-flops", paramLabel = "BUDGET", description = "FLOPs budget: 45M, or a percentage of the"
                + " dense network's (50%%): the largest pruned network within it.")
        String maxFlops;

        @Option(names = "--data", paramLabel = "DIR", description = "Data folder (as for training the dense network).")
        Path data;

        @Option(names = "--epochs", defaultValue = "3", description = "Fine-tuning epochs (default ${DEFAULT-VALUE}).")
        int epochs;

        @Option(names = "--lr", defaultValue = "0.01", description = "Fine-tuning learning rate (default"
                + " ${DEFAULT-VALUE}, cosine).")
        double lr;

        @Option(names = "--schedule", defaultValue = "cosine", description = "linear, cosine or multistep (default"
                + " ${DEFAULT-VALUE}).")
        String schedule;

        @Option(names = "--batch", description = "Mini-batch (default: the dense network's).")
        Integer batch;

        @Option(names = "--seed", defaultValue = "1", description = "Seed of the fine-tuning's data order and augmentation"
                + " (and of AMC's agent and held-out split; default ${DEFAULT-VALUE}).")
        long seed;

        @Option(names = "--max-steps-per-epoch", defaultValue = "0", description = "Cap on steps per epoch (0: all).")
        int maxSteps;

        @Option(names = "--threads", description = "Kernel threads (default: all cores).")
        Integer threads;

        @Option(names = "--run", paramLabel = "DIR", description = "Run folder (default runs/prune-<method>-<time>).")
        Path run;

        @Option(names = "--resume", paramLabel = "DIR", description = "Continue the fine-tuning in DIR.")
        Path resume;

        @Option(names = "--quiet", description = "No progress bar.")
        boolean quiet;
    }

    /**
     * What a method decides: the channels kept per group, what to record about how, and (AMC) the source weights with
     * refitted layers to cut instead of the original ones (null: the original).
     */
    record Plan(int[][] keptByGroup, ObjectNode details, Map<String, Tensor> weights) {
        Plan(int[][] keptByGroup, ObjectNode details) {
            this(keptByGroup, details, null);
        }
    }

    /** What a method may need besides the weights: the data, the run folder. */
    record Context(Datasets.Loaded data, Path dir, String source) {
    }

    /** The flow shared by the methods: load, plan, cut, save, fine-tune. */
    abstract static class Method implements Callable<Integer> {
        @Mixin
        Common c;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        abstract String name();

        abstract Plan plan(ChannelGroups groups, Widths src, Map<String, Tensor> weights, Long maxFlops,
                           RetrainConfig srcCfg, Context ctx) throws IOException;

        @Override
        public Integer call() throws IOException {
            if (c.threads != null) {
                Parallel.setThreads(c.threads);
            }
            if (c.resume != null) {
                if (c.run != null || c.from != null) {
                    throw new IllegalArgumentException("--resume continues a fine-tuning in its folder: do not give"
                            + " --from or --run");
                }
                RetrainConfig cfg = ScratchTrainer.configOf(RunInfo.checkpointFile(c.resume));
                Datasets.Loaded loaded = Datasets.load(cfg.dataset(), c.data);
                ScratchTrainer t = new ScratchTrainer(cfg, loaded.train());
                try {
                    t.restore(RunInfo.checkpointFile(c.resume));
                    return DenseRun.train(t, loaded, c.resume, spec, true, c.quiet, "finetune", null, null);
                } finally {
                    t.close();
                }
            }
            if (c.from == null) {
                throw new IllegalArgumentException("give the dense network to prune: --from RUN (from `metaprune train"
                        + " --full`)");
            }
            Path srcFile = RunInfo.checkpointFile(c.from);
            RetrainConfig srcCfg = ScratchTrainer.configOf(srcFile);
            Architecture arch = Architectures.get(srcCfg.arch(), srcCfg.inChannels(), srcCfg.inputSize(),
                    srcCfg.classes());
            Widths src = ScratchTrainer.widthsOf(arch, srcCfg.widths());
            Map<String, Tensor> weights = SafeTensors.read(srcFile).tensors();
            long srcFlops = CostCounter.count(src).flops();
            Long budget = c.maxFlops == null ? null
                    : (long) (Constraints.parseMillions(c.maxFlops, srcFlops / 1e6, "--max-flops") * 1e6);
            Path dir = c.run != null ? c.run : RunInfo.defaultDir("prune-" + name());
            RunInfo.checkFresh(dir);
            ChannelGroups groups = ChannelGroups.of(arch);
            Datasets.Loaded loaded = Datasets.load(srcCfg.dataset(), c.data);
            Files.createDirectories(dir);
            Plan plan = plan(groups, src, weights, budget, srcCfg, new Context(loaded, dir, srcFile.toAbsolutePath().toString()));
            int[][] byDim = Surgery.keptByDim(groups, src, plan.keptByGroup());
            Surgery.Pruned pruned = Surgery.apply(src, plan.weights() != null ? plan.weights() : weights, byDim);
            long flops = CostCounter.count(pruned.widths()).flops();
            if (budget != null && flops > budget) {
                throw new IllegalStateException("pruned network has " + flops + " FLOPs, over the budget " + budget);
            }
            String widthSpec = "channels:" + pruned.widths().spec();
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put("format", "metaprune-pruned/1");
            meta.put("arch", arch.name());
            meta.put("widths", widthSpec);
            meta.put("method", name());
            meta.put("source", srcFile.toAbsolutePath().toString());
            Path prunedFile = dir.resolve("pruned.safetensors");
            SafeTensors.write(prunedFile, pruned.weights(), null, meta);

            RetrainConfig cfg = new RetrainConfig(srcCfg.dataset(), arch.name(), srcCfg.inChannels(),
                    srcCfg.inputSize(), srcCfg.classes(), widthSpec, c.epochs, c.batch != null ? c.batch
                    : srcCfg.batch(), c.lr, c.schedule, srcCfg.weightDecay(), srcCfg.momentum(),
                    srcCfg.labelSmoothing(), c.seed, c.maxSteps);
            ScratchTrainer t = new ScratchTrainer(cfg, loaded.train());
            try {
                t.loadWeights(prunedFile);
                t.writeCheckpoint(dir.resolve("checkpoint.safetensors"));
                System.out.printf(Locale.ROOT, "pruned:  %s, %.2f M -> %.2f M FLOPs (%.1f%%)%n", name(),
                        srcFlops / 1e6, flops / 1e6, 100.0 * flops / srcFlops);
                return DenseRun.train(t, loaded, dir, spec, false, c.quiet, "finetune", rec -> {
                    rec.put("method", name() + "-finetune").put("base_method", name())
                            .put("source", srcFile.toAbsolutePath().toString())
                            .put("source_flops", srcFlops).put("pruned_widths", widthSpec)
                            .put("flops_fraction_of_source", (double) flops / srcFlops);
                    if (budget != null) {
                        rec.put("max_flops", budget);
                    }
                    rec.set("source_config", RunInfo.JSON.valueToTree(srcCfg));
                    rec.set("kept_widths", RunInfo.JSON.valueToTree(Pruner.widthsByLabel(groups, pruned.widths())));
                    rec.set("pruning", plan.details());
                }, "inherited from " + srcFile + " (pruned, then fine-tuned)");
            } finally {
                t.close();
            }
        }
    }

    @Command(name = "l1", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"L1-norm filter pruning (Li et al. 2017): in every prunable layer keep the filters with the"
                    + " largest sum of absolute weights (a residual stage ranks by the sum over its blocks'"
                    + " projections, each normalised by its mean); the next layers' input channels follow. Ratios:"
                    + " one keep fraction for every layer (--keep), per-layer overrides (--layer-keep), or the"
                    + " uniform fraction that meets --max-flops."})
    static final class L1 extends Method {
        @Option(names = "--keep", paramLabel = "F", description = "Fraction of each layer's channels to keep, in"
                + " (0, 1] (default: the largest meeting --max-flops).")
        Double keep;

        @Option(names = "--layer-keep", paramLabel = "LABEL=F", split = ",", description = "A keep fraction for one"
                + " channel dimension (e.g. block3.mid=0.3); the others take --keep (or the fitted fraction).")
        Map<String, Double> layerKeep;

        @Override
        String name() {
            return "l1";
        }

        @Override
        Plan plan(ChannelGroups groups, Widths src, Map<String, Tensor> weights, Long maxFlops, RetrainConfig srcCfg,
                  Context ctx) {
            if (keep == null && maxFlops == null) {
                throw new IllegalArgumentException("give --keep F or --max-flops BUDGET");
            }
            if (keep != null && maxFlops != null && layerKeep == null) {
                throw new IllegalArgumentException("--keep and --max-flops both given: one sets the ratio, the other"
                        + " fits it; give one");
            }
            double[][] scores = Ranking.l1(groups, src, weights);
            double[] f = new double[groups.size()];
            boolean[] fixed = new boolean[groups.size()];
            if (layerKeep != null) {
                for (Map.Entry<String, Double> e : layerKeep.entrySet()) {
                    int g = groups.groupOfLabel(e.getKey());
                    if (!groups.prunable(g)) {
                        throw new IllegalArgumentException(e.getKey() + " has a fixed width and is not pruned");
                    }
                    f[g] = e.getValue();
                    fixed[g] = true;
                }
            }
            double uniform = keep != null ? keep : 1.0;
            if (keep == null) { // fit the free groups' fraction to the budget
                double lo = 1e-9, hi = 1.0;
                if (flopsAt(groups, src, scores, f, fixed, hi) > maxFlops) {
                    if (flopsAt(groups, src, scores, f, fixed, lo) > maxFlops) {
                        throw new IllegalArgumentException(String.format(Locale.ROOT, "a FLOPs budget of %.2f M"
                                + " cannot be met with these --layer-keep fractions and one channel elsewhere",
                                maxFlops / 1e6));
                    }
                    for (int it = 0; it < 50; it++) {
                        double mid = (lo + hi) / 2;
                        if (flopsAt(groups, src, scores, f, fixed, mid) <= maxFlops) {
                            lo = mid;
                        } else {
                            hi = mid;
                        }
                    }
                    uniform = lo;
                }
            }
            fill(f, fixed, uniform);
            int[][] kept = Pruner.perGroup(groups, src, scores, f);
            ObjectNode d = RunInfo.JSON.createObjectNode().put("ranking", "filter L1 norm").put("keep", uniform);
            if (layerKeep != null) {
                d.set("layer_keep", RunInfo.JSON.valueToTree(layerKeep));
            }
            return new Plan(kept, d);
        }

        private static long flopsAt(ChannelGroups groups, Widths src, double[][] scores, double[] f, boolean[] fixed,
                                    double u) {
            double[] g = f.clone();
            fill(g, fixed, u);
            return Pruner.flops(groups, src, Pruner.perGroup(groups, src, scores, g));
        }

        private static void fill(double[] f, boolean[] fixed, double u) {
            for (int i = 0; i < f.length; i++) {
                if (!fixed[i]) {
                    f[i] = u;
                }
            }
        }
    }

    @Command(name = "slim", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Network Slimming (Liu et al. 2017): rank every prunable channel of the network by its"
                    + " BatchNorm scale |gamma| (the mean over a dimension's BatchNorms) and keep those above one global"
                    + " threshold: the fraction --keep of all prunable channels, or as many as --max-flops allows. Every"
                    + " layer keeps at least its best channel. Start from a network trained with sparsity"
                    + " (`metaprune train --full --bn-l1 1e-4`)."})
    static final class Slim extends Method {
        @Option(names = "--keep", paramLabel = "F", description = "Fraction of all prunable channels to keep, in (0, 1].")
        Double keep;

        @Override
        String name() {
            return "slimming";
        }

        @Override
        Plan plan(ChannelGroups groups, Widths src, Map<String, Tensor> weights, Long maxFlops, RetrainConfig srcCfg,
                  Context ctx) {
            if ((keep == null) == (maxFlops == null)) {
                throw new IllegalArgumentException("give one of --keep F or --max-flops BUDGET");
            }
            if (srcCfg.bnL1() == 0) {
                System.out.println("note:    " + c.from + " was trained without BatchNorm sparsity (--bn-l1): the"
                        + " scales rank channels less sharply than Network Slimming intends");
            }
            double[][] scores = Ranking.bnScale(groups, src, weights);
            int total = Pruner.prunableChannels(scores);
            int count;
            if (keep != null) {
                if (!(keep > 0) || keep > 1) {
                    throw new IllegalArgumentException("--keep must be in (0, 1], got " + keep);
                }
                int minimum = (int) Arrays.stream(scores).filter(s -> s != null).count();
                count = Math.max(minimum, (int) Math.round(keep * total));
            } else {
                count = Pruner.globalCountFor(groups, src, scores, maxFlops);
            }
            int[][] kept = Pruner.global(groups, scores, count);
            double threshold = Double.POSITIVE_INFINITY;
            for (int g = 0; g < kept.length; g++) {
                if (kept[g] != null) {
                    for (int ch : kept[g]) {
                        threshold = Math.min(threshold, scores[g][ch]);
                    }
                }
            }
            ObjectNode d = RunInfo.JSON.createObjectNode().put("ranking", "|BatchNorm scale|, global")
                    .put("kept_channels", count).put("prunable_channels", total).put("threshold", threshold)
                    .put("source_bn_l1", srcCfg.bnL1());
            return new Plan(kept, d);
        }
    }

    @Command(name = "amc", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"AMC (He et al. 2018): a DDPG agent (actor and critic 300-300) walks the prunable layers and"
                    + " picks each one's kept fraction; the action is bounded so --max-flops stays reachable, channels"
                    + " are rounded and chosen by weight magnitude, the layers reading a pruned one are refitted by"
                    + " least squares on sampled feature maps, and the reward is -error on a held-out split of the"
                    + " training set. Warm-up episodes act at random; then truncated-normal exploration decaying per"
                    + " episode. The best episode's network is fine-tuned. RUN/amc.jsonl: one line per episode;"
                    + " RUN/amc-state.bin: the search's state every 10 episodes: the same command with the same --run"
                    + " continues a killed search exactly (--resume RUN continues the fine-tuning)."})
    static final class AmcMethod extends Method {
        @Option(names = "--warmup", defaultValue = "100", description = "Warm-up episodes with random actions"
                + " (default ${DEFAULT-VALUE}, official).")
        int warmup;

        @Option(names = "--episodes", defaultValue = "300", description = "Episodes after the warm-up (default"
                + " ${DEFAULT-VALUE}; official 800).")
        int episodes;

        @Option(names = "--lbound", defaultValue = "0.2", description = "Smallest keep fraction per layer (default"
                + " ${DEFAULT-VALUE}).")
        double lbound;

        @Option(names = "--rbound", defaultValue = "1.0", description = "Largest keep fraction (default"
                + " ${DEFAULT-VALUE}).")
        double rbound;

        @Option(names = "--delta", defaultValue = "0.5", description = "Exploration spread after the warm-up (default"
                + " ${DEFAULT-VALUE}), times --delta-decay per episode (default 0.95).")
        double delta;

        @Option(names = "--delta-decay", defaultValue = "0.95", hidden = true)
        double deltaDecay;

        @Option(names = "--updates", description = "Agent updates per episode (default: one per layer, official).")
        Integer updates;

        @Option(names = "--holdout-per-class", defaultValue = "50", description = "Training images per class held out"
                + " for the reward (default ${DEFAULT-VALUE}).")
        int holdout;

        @Option(names = "--calibration-images", defaultValue = "256", description = "Training images whose feature"
                + " maps are sampled for the reconstruction (default ${DEFAULT-VALUE}).")
        int calibration;

        @Option(names = "--points", defaultValue = "10", description = "Positions sampled per image and layer (default"
                + " ${DEFAULT-VALUE}, official).")
        int points;

        @Option(names = "--no-reconstruction", description = "Keep the inherited weights of the kept channels (no"
                + " least-squares refit): an ablation of AMC's reconstruction; nothing is sampled.")
        boolean noReconstruction;

        @Override
        String name() {
            return "amc";
        }

        @Override
        Plan plan(ChannelGroups groups, Widths src, Map<String, Tensor> weights, Long maxFlops, RetrainConfig srcCfg,
                  Context ctx) throws IOException {
            if (maxFlops == null) {
                throw new IllegalArgumentException("AMC prunes to a FLOPs target: give --max-flops BUDGET");
            }
            if (calibration < 1 || points < 1) {
                throw new IllegalArgumentException("--calibration-images and --points must be positive");
            }
            long srcFlops = CostCounter.count(src).flops();
            var train = ctx.data().train();
            dev.metaprune.data.Split split = dev.metaprune.data.Split.holdoutPerClass(train, holdout, c.seed);
            var stats = dev.metaprune.data.ChannelStats.of(train, java.util.stream.IntStream.range(0, train.size())
                    .toArray());
            var norm = dev.metaprune.data.Augmentation.of(train.height(), train.width(), train.channels(),
                    dev.metaprune.data.Transforms.normalize(stats));
            int[] calib = Arrays.copyOf(split.train(), Math.min(calibration, split.train().length));
            int batch = Math.min(srcCfg.batch(), 128);
            if (noReconstruction) {
                calib = new int[0];
            }
            var calBatches = dev.metaprune.data.HeldBatch.load(train, calib, batch, norm);
            var valBatches = dev.metaprune.data.HeldBatch.load(train, split.holdout(), batch, norm);
            Amc.Settings settings = new Amc.Settings((double) maxFlops / srcFlops, episodes, warmup, lbound, rbound,
                    delta, deltaDecay, updates != null ? updates : -1, c.seed);
            if (noReconstruction) {
                System.out.printf(Locale.ROOT, "amc:     no reconstruction (inherited weights); reward on %d held-out"
                        + " images%n", split.holdout().length);
            } else {
                System.out.printf(Locale.ROOT, "amc:     sampling %d positions per image of %d images for the"
                        + " reconstruction; reward on %d held-out images%n", points, calib.length,
                        split.holdout().length);
            }
            Amc amc = new Amc(groups, src, weights, calBatches, valBatches, points, settings);
            int perEpisode = updates != null ? updates : amc.steps();
            Path log = ctx.dir().resolve("amc.jsonl");
            Path statePath = ctx.dir().resolve("amc-state.bin");
            Amc.State state;
            List<String> kept = new ArrayList<>();
            if (Files.exists(statePath)) { // a killed search: continue it exactly
                state = Amc.State.read(statePath, settings, ctx.source());
                if (Files.exists(log)) {
                    for (String line : Files.readAllLines(log)) {
                        if (!line.isBlank() && RunInfo.JSON.readTree(line).path("episode").asInt()
                                < state.nextEpisode()) {
                            kept.add(line);
                        }
                    }
                }
                System.out.println("amc:     resumed after episode " + state.nextEpisode() + " ("
                        + statePath + ")");
            } else {
                state = amc.newState(ctx.source());
            }
            Files.write(log, kept);
            long t0 = System.nanoTime();
            int total = warmup + episodes;
            int start = state.nextEpisode();
            try (var w = Files.newBufferedWriter(log, java.nio.file.StandardOpenOption.APPEND)) {
                Amc.Result r = amc.run((e, best) -> {
                    ObjectNode n = RunInfo.JSON.createObjectNode().put("episode", e.index()).put("warmup", e.warmup())
                            .put("flops", e.flops()).put("flops_fraction", (double) e.flops() / srcFlops)
                            .put("error", e.error()).put("best_error", best.error());
                    if (!Double.isNaN(e.delta())) {
                        n.put("delta", e.delta());
                    }
                    n.set("actions", RunInfo.JSON.valueToTree(e.actions()));
                    try {
                        w.write(n.toString());
                        w.newLine();
                        w.flush();
                    } catch (IOException ex) {
                        throw new java.io.UncheckedIOException(ex);
                    }
                    if (!c.quiet || e.index() == total - 1) {
                        double el = (System.nanoTime() - t0) / 1e9;
                        System.out.printf(Locale.ROOT, "  episode %d/%d%s  FLOPs %.1f%%  error %.2f%%  best %.2f%%"
                                + "  %.1f s, ETA %.0f s%n", e.index() + 1, total, e.warmup() ? " (warm-up)" : "",
                                100.0 * e.flops() / srcFlops, 100 * e.error(), 100 * best.error(), el,
                                el / (e.index() + 1 - start) * (total - e.index() - 1));
                    }
                }, state, st -> {
                    try {
                        st.write(statePath);
                    } catch (IOException ex) {
                        throw new java.io.UncheckedIOException(ex);
                    }
                }, 10);
                ObjectNode d = RunInfo.JSON.createObjectNode().put("agent", "DDPG, actor/critic 300-300")
                        .put("warmup", warmup).put("episodes", episodes).put("lbound", lbound).put("rbound", rbound)
                        .put("delta", delta).put("delta_decay", deltaDecay).put("updates_per_episode", perEpisode)
                        .put("holdout_images", split.holdout().length).put("calibration_images", calib.length)
                        .put("points", points).put("best_heldout_error_before_finetune", r.error())
                        .put("selection", "consumer weight magnitude").put("reconstruction", noReconstruction ? "none"
                                : "least squares, every channel-mixing conv (k x k on receptive fields)");
                d.set("best_actions", RunInfo.JSON.valueToTree(r.actions()));
                List<String> refit = amc.refitted(r.keptByGroup());
                d.set("refitted", RunInfo.JSON.valueToTree(refit));
                System.out.printf(Locale.ROOT, "amc:     %d convs refitted by least squares%n", refit.size());
                System.out.printf(Locale.ROOT, "amc:     best held-out error %.2f%% before fine-tuning%n",
                        100 * r.error());
                return new Plan(r.keptByGroup(), d, r.reconstructed());
            }
        }
    }
}
