package dev.metaprune.cli;

import dev.metaprune.kernels.Parallel;
import dev.metaprune.kernels.Vec;
import dev.metaprune.latency.Interpolation;
import dev.metaprune.latency.LatencyDevice;
import dev.metaprune.latency.LatencyTable;
import dev.metaprune.latency.LayerPosition;
import dev.metaprune.latency.LayerPositions;
import dev.metaprune.latency.LayerTimer;
import dev.metaprune.latency.Measurement;
import dev.metaprune.latency.NetworkTimer;
import dev.metaprune.latency.Profiler;
import dev.metaprune.latency.ThreadPinning;
import dev.metaprune.latency.TimingSettings;
import dev.metaprune.latency.Validator;
import dev.metaprune.nn.arch.Architecture;
import dev.metaprune.nn.arch.Architectures;
import dev.metaprune.nn.arch.Scales;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code metaprune profile}: builds, validates and compares per-device latency lookup tables. */
@Command(name = "profile", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
                "Build a latency lookup table for MetaPruning's latency-constrained search: time every layer position"
                        + " of a network (a conv with its batch norm and activation, a residual add, pooling, the"
                        + " classifier) at every (input width, output width) pair the gene encoding can give it, on this"
                        + " device, forward only, at the batch size asked. Each entry: warm-up, repetitions until the"
                        + " median settles, the median kept (milliseconds, with the interquartile range).",
                "",
                "Full tables are large (MobileNetV1 at 224: ~12,000 entries; MobileNetV2: ~33,000); --sampled STEP"
                        + " times a grid of every STEP-th width choice and interpolates the rest (bilinear in widths)."
                        + " Without --sampled or --full the table is full when entries x batch <= 50,000, else"
                        + " sampled with step 5. The table is written every few entries; --resume continues an"
                        + " interrupted run.",
                "",
                "--validate N draws N random genes, predicts each network from the table, measures it end to end"
                        + " on the same device, prints the errors (mean and worst absolute %%, rank correlation), fits"
                        + " the per-network overhead (a constant, or scale and constant; judged leave-one-out) and"
                        + " stores the best model in the table. --compare REF compares --table with another table"
                        + " of the same network (sampled vs full, 128-bit vs 512-bit vectors).",
                ""},
        footer = {"", "Examples:",
                "  metaprune profile --arch mobilenetv1 --batch 1 --threads 2 --full --out v1-b1-t2.json",
                "  metaprune profile --arch mobilenetv2 --batch 32 --threads 2 --sampled 5 --out v2-b32-t2.json",
                "  metaprune profile --arch mobilenetv2 --batch 32 --threads 2 --sampled 5 --out v2-b32-t2.json --resume",
                "  metaprune profile --arch mobilenetv2 --batch 32 --device cuda --sampled 5 --validate 20",
                "  metaprune profile --validate 30 --table v1-b1-t2.json",
                "  metaprune profile --table v1-b1-t2-sampled.json --compare v1-b1-t2.json",
                "  metaprune profile --table v1-b1-t2.json --subsample 3 --out v1-b1-t2-sub3.json",
                "  METAPRUNE_JVM_OPTS=-XX:MaxVectorSize=16 metaprune profile --arch mobilenetv1 --threads 1 ...",
                "",
                "On another machine (an ARM board, any JDK 25): copy java/target/metaprune.jar and java/target/lib/,"
                        + " then: java --add-modules=jdk.incubator.vector -jar metaprune.jar profile ..."})
public final class ProfileCommand implements Callable<Integer> {
    @Option(names = {"-a", "--arch"}, paramLabel = "NAME", completionCandidates = FlopsCommand.ArchNames.class,
            description = "Architecture: ${COMPLETION-CANDIDATES}. With --table: taken from the table if omitted.")
    String arch;

    @Option(names = "--input-size", paramLabel = "PIXELS", description = "Square input size (default: the"
            + " architecture's, 224 or 32).")
    Integer inputSize;

    @Option(names = {"--channels", "--in-channels"}, paramLabel = "C", description = "Image channels (default 3).")
    Integer channels;

    @Option(names = "--classes", paramLabel = "K", description = "Classifier outputs (default 1000, -cifar: 10).")
    Integer classes;

    @Option(names = {"-b", "--batch"}, paramLabel = "B", description = "Batch size (default 1; with --table: the"
            + " table's).")
    Integer batch;

    @Option(names = "--device", paramLabel = "DEV", defaultValue = "cpu", description = "cpu (the Vector API kernels;"
            + " default) or cuda (libmetaprune_cuda's kernels on the GPU, operands resident on the device, each timed"
            + " call synchronised, wall clock) or cudnn (cuDNN's convolutions, the rest as cuda; needs the"
            + " metaprune-cudnn module, cudnn/). With --table: the table's device.")
    String device;

    @Option(names = {"-t", "--threads"}, paramLabel = "T", description = "CPU kernel threads (default: all cores;"
            + " with --table: the table's).")
    Integer threads;

    @Option(names = "--sampled", paramLabel = "STEP", description = "Time every STEP-th width choice (and the"
            + " widest) and interpolate the rest.")
    Integer sampled;

    @Option(names = "--full", description = "Time every entry (no interpolation).")
    boolean full;

    @Option(names = {"-o", "--out"}, paramLabel = "FILE", description = "Table to write (default"
            + " latency-ARCH-SIZE-bBATCH-DEVICE-tTHREADS[-vBITS].json; .gz compresses).")
    Path out;

    @Option(names = "--resume", description = "Continue the unfinished table in --out.")
    boolean resume;

    @Option(names = "--validate", paramLabel = "N", description = "Validate against N networks measured end to end"
            + " (after profiling, or on --table).")
    Integer validate;

    @Option(names = "--table", paramLabel = "FILE", description = "An existing table to validate, compare or"
            + " subsample.")
    Path table;

    @Option(names = "--compare", paramLabel = "REF", description = "Compare --table against the reference table REF.")
    Path compare;

    @Option(names = "--subsample", paramLabel = "STEP", description = "Make a sampled table from the full --table"
            + " (its grid entries kept, the rest interpolated) and write it to --out.")
    Integer subsample;

    @Option(names = "--gene-dist", paramLabel = "D", defaultValue = "uniform", description = "Validation genes:"
            + " uniform (every choice uniform over the 31 scales; default) or mixed (a random level per network,"
            + " choices within +-6 of it).")
    String geneDist;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of the random genes (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--rounds", defaultValue = "3", description = "Validation: interleaved measuring rounds over the"
            + " genes, each gene keeping the median of its rounds (default ${DEFAULT-VALUE}). On a shared machine,"
            + " whose speed drifts over tens of seconds, more rounds of fewer repetitions spread each network's"
            + " samples over the run: e.g. --rounds 8 --min-reps 2 --max-reps 2 at batch 32.")
    int rounds;

    @Option(names = "--no-calibrate", description = "With --validate: do not store the fitted overhead in the table.")
    boolean noCalibrate;

    @Option(names = "--min-reps", defaultValue = "5", description = "Repetitions per round, and the minimum (default"
            + " ${DEFAULT-VALUE}).")
    int minReps;

    @Option(names = "--max-reps", defaultValue = "30", description = "Repetitions at most per entry (default"
            + " ${DEFAULT-VALUE}).")
    int maxReps;

    @Option(names = "--tolerance", defaultValue = "0.02", description = "Stop when the median moves less than this"
            + " (relative) between rounds (default ${DEFAULT-VALUE}).")
    double tolerance;

    @Option(names = "--warmup-ms", defaultValue = "1", description = "Warm-up per entry, milliseconds (default"
            + " ${DEFAULT-VALUE}; at least two calls).")
    double warmupMs;

    @Option(names = "--max-entry-seconds", defaultValue = "3", description = "Time budget per entry (default"
            + " ${DEFAULT-VALUE}).")
    double maxEntrySeconds;

    @Option(names = "--clock", paramLabel = "C", defaultValue = "wall", description = "wall (elapsed time; default)"
            + " or cpu (the calling thread's CPU time: the latency on a core of its own, for --threads 1 on a shared"
            + " machine). Validation uses the table's clock.")
    String clock;

    @Option(names = "--no-progress", description = "No progress bar (one line per layer position instead).")
    boolean noProgress;

    @Option(names = "--pin-cpu", paramLabel = "CPU", description = "Pin the timing thread to this CPU (Linux; with"
            + " --threads 1 on the cpu device): for boards whose cores differ (big.LITTLE). Recorded in the table;"
            + " validating it, and a latency-constrained search's check of its winner, pin to the same CPU.")
    Integer pinCpu;

    @Override
    public Integer call() throws IOException {
        String dev = device.strip().toLowerCase(Locale.ROOT);
        if (!LatencyDevice.kinds().contains(dev)) {
            throw new IllegalArgumentException("--device must be one of " + String.join(", ", LatencyDevice.kinds())
                    + ", got '" + device + "'");
        }
        if (threads != null) {
            if (threads < 1) {
                throw new IllegalArgumentException("--threads must be positive, got " + threads);
            }
        }
        if (batch != null && batch < 1) {
            throw new IllegalArgumentException("--batch must be positive, got " + batch);
        }
        if (pinCpu != null) {
            if (table != null) {
                throw new IllegalArgumentException("--pin-cpu is for profiling: with --table the table's own CPU"
                        + " (device.pinned_cpu) is used");
            }
            if (!dev.equals("cpu") || threads == null || threads != 1) {
                throw new IllegalArgumentException("--pin-cpu pins the one timing thread: use it with --threads 1 on"
                        + " the cpu device");
            }
        }
        if (validate != null && validate < 2) {
            throw new IllegalArgumentException("--validate needs at least 2 networks, got " + validate);
        }
        if (full && sampled != null) {
            throw new IllegalArgumentException("give --full or --sampled, not both");
        }
        if (sampled != null && (sampled < 1 || sampled > 30)) {
            throw new IllegalArgumentException("--sampled STEP must be in 1..30, got " + sampled);
        }
        TimingSettings settings = new TimingSettings(warmupMs, minReps, maxReps, tolerance, maxEntrySeconds,
                TimingSettings.Clock.of(clock.strip().toLowerCase(Locale.ROOT)));
        Validator.GeneDistribution dist = switch (geneDist.strip().toLowerCase(Locale.ROOT)) {
            case "uniform" -> Validator.GeneDistribution.UNIFORM;
            case "mixed" -> Validator.GeneDistribution.MIXED;
            default -> throw new IllegalArgumentException("--gene-dist must be uniform or mixed, got '" + geneDist + "'");
        };
        if (compare != null || subsample != null) {
            if (table == null) {
                throw new IllegalArgumentException((compare != null ? "--compare" : "--subsample")
                        + " needs --table FILE");
            }
        }
        if (table != null) {
            return withTable(settings, dist);
        }
        if (validate != null && arch == null) {
            throw new IllegalArgumentException("--validate needs --table FILE, or --arch to profile first");
        }
        if (arch == null) {
            throw new IllegalArgumentException("--arch is required to profile; available: "
                    + String.join(", ", Architectures.names()));
        }
        Architecture a = Architectures.get(arch, channels, inputSize, classes);
        int b = batch == null ? 1 : batch;
        if (threads != null) {
            Parallel.setThreads(threads);
        }
        LatencyDevice d = LatencyDevice.of(dev);
        d.requireClock(settings.clock());
        if (pinCpu != null) {
            ThreadPinning.pinCurrentThread(pinCpu);
            d.info().put("pinned_cpu", pinCpu);
            System.out.println("timing thread pinned to CPU " + pinCpu + " (runs on CPU "
                    + ThreadPinning.currentCpu() + "; this process may use CPUs " + ThreadPinning.allowedCpus() + ")");
        }
        LatencyTable t = profile(a, b, settings, d);
        if (validate != null) {
            validate(t, a, b, settings, dist, out(), d);
        }
        return 0;
    }

    private Path out() {
        return out;
    }

    private LatencyTable profile(Architecture a, int b, TimingSettings settings, LatencyDevice d) throws IOException {
        int fullEntries = LayerPositions.fullEntryCount(a);
        int step = full ? 0 : sampled != null ? sampled : ((long) fullEntries * b <= 50_000 ? 0 : 5);
        if (out == null) {
            out = Path.of(String.format(Locale.ROOT, "latency-%s-%d-b%d-%s.json", a.name(), a.input().size(), b,
                    d.fileTag()));
        }
        LatencyTable previous = null;
        if (Files.exists(out)) {
            if (!resume) {
                LatencyTable old = LatencyTable.read(out);
                throw new IllegalArgumentException(out + " already holds " + (old.isComplete() ? "a complete table"
                        : "an unfinished run (" + old.measuredCount() + " entries): pass --resume to continue it")
                        + "; choose another --out or remove it");
            }
            previous = LatencyTable.read(out);
        } else if (resume) {
            System.out.println("nothing to resume at " + out + ": starting afresh");
        }
        Profiler profiler = new Profiler(a, b, step, d.info(), settings, out);
        PrintStream o = System.out;
        o.println("profile: " + a.name() + " (" + a.input() + "), batch " + b + ", " + LayerPositions.of(a).size()
                + " layer positions, " + fullEntries + " entries in a full table");
        o.println("mode:    " + (step == 0 ? "full" : "sampled, grid step " + step + " (every " + step + " scale indices, "
                + profiler.plannedEntries() + " entries timed, the rest interpolated)"));
        o.println("device:  " + d.kind() + " " + d.info().get("model").asText() + "; " + d.kernels().describe());
        o.println("table:   " + out.toAbsolutePath() + (previous != null ? " (resuming: " + previous.measuredCount()
                + " entries done)" : ""));
        warmUp(a, b, d);
        Thread hook = new Thread(() -> {
            try {
                profiler.saveNow();
            } catch (IOException | RuntimeException e) {
                System.err.println("could not save the partial table: " + e.getMessage());
            }
        });
        Runtime.getRuntime().addShutdownHook(hook);
        long t0 = System.nanoTime();
        LayerTimer timer = new LayerTimer(a, b, settings, d.kernels());
        LatencyTable t;
        ProgressBar[] bar = {null};
        try {
            t = profiler.run(timer, previous, new Profiler.Listener() {
                String lastLayer;

                @Override
                public void started(int total, int done) {
                    if (!noProgress) {
                        bar[0] = new ProgressBarBuilder().setTaskName("profile").setInitialMax(total)
                                .startsFrom(done, java.time.Duration.ZERO).setStyle(ProgressBarStyle.ASCII)
                                .setUpdateIntervalMillis(1000).setUnit(" entries", 1).continuousUpdate().build();
                    }
                }

                @Override
                public void recheck(int count, int pass) {
                    if (count > 0 && bar[0] != null) {
                        bar[0].setExtraMessage("re-timing " + count + " entries that stand out (pass " + (pass + 1)
                                + ")");
                    }
                }

                @Override
                public void entry(LayerPosition p, int cin, int cout, Measurement m, int done, int total) {
                    if (bar[0] != null) {
                        bar[0].stepTo(done);
                        bar[0].setExtraMessage(String.format(Locale.ROOT, "%s %d->%d %.3f ms", p.name(), cin, cout,
                                m.medianMs()));
                    } else if (!p.name().equals(lastLayer)) {
                        lastLayer = p.name();
                        o.printf(Locale.ROOT, "  %5d / %d  %s%n", done, total, p.name());
                    }
                }
            });
        } finally {
            if (bar[0] != null) {
                bar[0].close();
            }
            timer.release();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // interrupted: the hook saves the partial table
            }
        }
        double sec = (System.nanoTime() - t0) * 1e-9;
        int n = a.geneSpace().length();
        int[] widest = new int[n], narrowest = new int[n];
        Arrays.fill(widest, Scales.MAX_INDEX);
        o.printf(Locale.ROOT, "done in %.0f s: %d entries (%d measured, %d interpolated) in %s%n", sec, t.entryCount(),
                t.measuredCount(), t.entryCount() - t.measuredCount(), out);
        o.printf(Locale.ROOT, "sum of layers: widest gene %.3f ms, narrowest %.3f ms%n", t.layerSumMs(widest),
                t.layerSumMs(narrowest));
        return t;
    }

    /**
     * JIT warm-up: every position at its widest, a middle and its narrowest widths until its time settles (at most
     * 1 s each, 60 s in all), so that no entry is timed in the interpreter. Disturbed entries left over are caught by
     * the profiler's re-timing pass.
     */
    private static void warmUp(Architecture a, int b, LatencyDevice d) {
        LayerTimer w = new LayerTimer(a, b, TimingSettings.defaults(), d.kernels());
        long end = System.nanoTime() + 60_000_000_000L;
        long t0 = System.nanoTime();
        int calls = 0;
        for (LayerPosition p : LayerPositions.of(a)) {
            List<int[]> pairs = p.allPairs(a.geneSpace().positions());
            List<int[]> three = List.of(pairs.get(pairs.size() - 1), pairs.get(pairs.size() / 2), pairs.get(0));
            for (int k = 0; k < three.size() && System.nanoTime() < end; k++) {
                calls += w.warmUp(p, three.get(k)[0], three.get(k)[1], 1.0, k == 0 ? 300 : 20);
            }
        }
        w.release();
        System.out.printf(Locale.ROOT, "warm-up: %d calls in %.1f s%n", calls, (System.nanoTime() - t0) * 1e-9);
    }

    private Integer withTable(TimingSettings settings, Validator.GeneDistribution dist) throws IOException {
        LatencyTable t = LatencyTable.read(table);
        Architecture a = arch != null ? Architectures.get(arch, channels, inputSize, classes)
                : Architectures.get(t.architecture(), t.input());
        int b = batch != null ? batch : t.batch();
        t.checkMatches(a, b);
        if (compare != null) {
            LatencyTable ref = LatencyTable.read(compare);
            ref.checkMatches(a, b);
            compare(System.out, t, ref, a, seed);
            return 0;
        }
        if (subsample != null) {
            if (out == null) {
                throw new IllegalArgumentException("--subsample needs --out FILE");
            }
            if (t.sampledStep() != 0) {
                throw new IllegalArgumentException(table + " is itself sampled (step " + t.sampledStep()
                        + "); --subsample needs a full table");
            }
            LatencyTable s = Interpolation.subsample(t, subsample);
            s.write(out);
            System.out.printf(Locale.ROOT, "%s: %d of %d entries kept (grid step %d), the rest interpolated%n", out,
                    s.measuredCount(), s.entryCount(), subsample);
            return 0;
        }
        if (validate == null) {
            throw new IllegalArgumentException("with --table, give --validate N, --compare REF or --subsample STEP");
        }
        int tableThreads = t.device().path("threads").asInt(0);
        if (threads != null && tableThreads > 0 && threads != tableThreads) {
            throw new IllegalArgumentException(table + " was measured with " + tableThreads + " thread(s), not "
                    + threads + ": validate on the set-up it was measured on");
        }
        LatencyDevice d;
        try {
            d = LatencyDevice.forTable(t, threads != null ? threads : Parallel.threadCount());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(table + ": " + e.getMessage(), e);
        }
        TimingSettings.Clock c = TimingSettings.Clock.of(t.clock());
        validate(t, a, b, settings.withClock(c), dist, table, d);
        return 0;
    }

    private void validate(LatencyTable t, Architecture a, int b, TimingSettings settings,
                          Validator.GeneDistribution dist, Path writeTo, LatencyDevice d) throws IOException {
        PrintStream o = System.out;
        List<int[]> genes = Validator.drawGenes(a.geneSpace(), validate, seed, dist);
        o.println("validate: " + genes.size() + " " + dist.name().toLowerCase(Locale.ROOT) + " random genes (seed "
                + seed + "), " + rounds + " interleaved rounds, " + a.name() + " batch " + b + ", measured end to end on " + t.deviceSummary());
        NetworkTimer nt = new NetworkTimer(a, b, d.kernels());
        int[] widest = new int[a.geneSpace().length()];
        Arrays.fill(widest, Scales.MAX_INDEX);
        int[] narrowest = new int[a.geneSpace().length()];
        long w0 = System.nanoTime();
        int calls = nt.warmUp(a.widthsForGene(widest), 30) + nt.warmUp(a.widthsForGene(narrowest), 10)
                + nt.warmUp(a.widthsForGene(genes.get(0)), 10);
        o.printf(Locale.ROOT, "warm-up: %d forward passes in %.1f s; clock: %s%n", calls, (System.nanoTime() - w0) * 1e-9,
                settings.clock().label());
        o.printf(Locale.ROOT, "%4s %12s %12s %12s %8s%n", "#", "sum (ms)", "measured", "spread", "error");
        int[] k = {0};
        List<Validator.Sample> samples = Validator.measure(t, a, nt, genes, settings, rounds, s -> o.printf(Locale.ROOT,
                "%4d %12.3f %12.3f %12.3f %+7.2f%%%n", ++k[0], s.sumMs(), s.measuredMs(), s.spreadMs(),
                100 * (s.sumMs() - s.measuredMs()) / s.measuredMs()));
        Validator.Fit none = Validator.none(samples), off = Validator.offset(samples), aff = Validator.affine(samples);
        o.println("sum of layers, no overhead:      " + none.inSample());
        o.printf(Locale.ROOT, "+ constant %+.3f ms (leave-one-out): %s%n", off.offsetMs(), off.leaveOneOut());
        o.printf(Locale.ROOT, "x %.4f %+.3f ms (leave-one-out):  %s%n", aff.scale(), aff.offsetMs(), aff.leaveOneOut());
        LatencyTable.Calibration stored = t.calibration();
        if (stored != null) { // fitted on other genes: an out-of-sample check of the stored model
            double[] pred = new double[samples.size()], meas = new double[samples.size()];
            for (int i = 0; i < pred.length; i++) {
                pred[i] = stored.scale() * samples.get(i).sumMs() + stored.offsetMs();
                meas[i] = samples.get(i).measuredMs();
            }
            o.printf(Locale.ROOT, "stored model '%s' (x %.4f %+.3f ms, fitted on %s), on these genes: %s%n",
                    stored.model(), stored.scale(), stored.offsetMs(), stored.details() == null ? "?"
                            : stored.details().path("genes").asInt() + " "
                            + stored.details().path("gene_distribution").asText() + " genes",
                    Validator.errors(pred, meas));
        }
        Validator.Fit best = Validator.best(samples);
        if (!noCalibrate && writeTo != null) {
            t.setCalibration(Validator.calibration(best, samples, dist, seed));
            t.calibration().details().put("rounds", rounds).put("clock", settings.clock().label());
            t.write(writeTo);
            o.println("stored overhead model '" + best.model() + "' in " + writeTo + " (predictMs uses it)");
        }
    }

    /** Entry-level and network-level differences between two tables of one network, and their layer rankings. */
    static void compare(PrintStream o, LatencyTable t, LatencyTable ref, Architecture a, long seed) {
        o.println("table:     " + t.source() + " (" + t.deviceSummary() + ", " + mode(t) + ")");
        o.println("reference: " + ref.source() + " (" + ref.deviceSummary() + ", " + mode(ref) + ")");
        for (boolean interpolated : new boolean[] {true, false}) {
            List<double[]> d = new ArrayList<>(); // {rel error %, ref ms, other ms}
            String worstAt = "";
            double worst = -1;
            for (LatencyTable.Layer rl : ref.layers()) {
                LatencyTable.Layer tl = t.layer(rl.name());
                for (LatencyTable.Entry re : rl.entries()) {
                    LatencyTable.Entry te = tl.entry(re.cin(), re.cout());
                    if (!re.measured() || te == null || te.measured() == interpolated || re.medianMs() <= 0) {
                        continue;
                    }
                    double e = 100 * (te.medianMs() - re.medianMs()) / re.medianMs();
                    d.add(new double[] {e, re.medianMs(), te.medianMs()});
                    if (Math.abs(e) > worst) {
                        worst = Math.abs(e);
                        worstAt = rl.name() + " cin=" + re.cin() + " cout=" + re.cout() + String.format(Locale.ROOT,
                                " (%.4f vs %.4f ms)", te.medianMs(), re.medianMs());
                    }
                }
            }
            if (d.isEmpty()) {
                continue;
            }
            double[] abs = d.stream().mapToDouble(x -> Math.abs(x[0])).sorted().toArray();
            double sumDiff = d.stream().mapToDouble(x -> Math.abs(x[2] - x[1])).sum();
            double sumRef = d.stream().mapToDouble(x -> x[1]).sum();
            double[] r = d.stream().mapToDouble(x -> x[1]).toArray(), s = d.stream().mapToDouble(x -> x[2]).toArray();
            o.printf(Locale.ROOT, "entries %s in the table (%d): mean |error| %.2f %%, median %.2f %%, time-weighted"
                            + " %.2f %%, worst %.1f %% at %s; Spearman %.4f%n",
                    interpolated ? "interpolated" : "measured", d.size(), Arrays.stream(abs).average().orElse(0),
                    abs[abs.length / 2], 100 * sumDiff / sumRef, worst, worstAt, Validator.spearman(s, r));
        }
        for (Validator.GeneDistribution dist : Validator.GeneDistribution.values()) {
            List<int[]> genes = Validator.drawGenes(a.geneSpace(), 1000, seed, dist);
            double[] p = new double[genes.size()], q = new double[genes.size()];
            for (int i = 0; i < genes.size(); i++) {
                p[i] = t.layerSumMs(genes.get(i));
                q[i] = ref.layerSumMs(genes.get(i));
            }
            o.println("networks (1000 " + dist.name().toLowerCase(Locale.ROOT) + " random genes, sums of layers): "
                    + Validator.errors(p, q));
        }
        for (int idx : new int[] {Scales.MAX_INDEX, 13, 0}) {
            int[] g = new int[a.geneSpace().length()];
            Arrays.fill(g, idx);
            Map<String, double[]> byLayer = new LinkedHashMap<>();
            double tt = 0, tr = 0;
            for (LatencyTable.Layer rl : ref.layers()) {
                int cin = rl.position().in().width(g), cout = rl.position().out().width(g);
                double x = t.layer(rl.name()).entry(cin, cout).medianMs(), y = rl.entry(cin, cout).medianMs();
                byLayer.put(rl.name() + " (" + rl.position().kind() + ")", new double[] {x, y});
                tt += x;
                tr += y;
            }
            double[] xs = byLayer.values().stream().mapToDouble(v -> v[0]).toArray();
            double[] ys = byLayer.values().stream().mapToDouble(v -> v[1]).toArray();
            o.printf(Locale.ROOT, "uniform scale %.2f: sum %.3f ms (table) vs %.3f ms (reference); layer ranking"
                    + " Spearman %.4f%n", Scales.value(idx), tt, tr, Validator.spearman(xs, ys));
            Map<String, double[]> kinds = new LinkedHashMap<>();
            for (LatencyTable.Layer rl : ref.layers()) {
                double[] v = byLayer.get(rl.name() + " (" + rl.position().kind() + ")");
                kinds.computeIfAbsent(rl.position().kind(), x -> new double[2]);
                kinds.get(rl.position().kind())[0] += v[0];
                kinds.get(rl.position().kind())[1] += v[1];
            }
            StringBuilder sb = new StringBuilder("  share of time by kind (table / reference):");
            for (Map.Entry<String, double[]> e : kinds.entrySet()) {
                sb.append(String.format(Locale.ROOT, " %s %.1f / %.1f %%;", e.getKey(), 100 * e.getValue()[0] / tt,
                        100 * e.getValue()[1] / tr));
            }
            o.println(sb);
            if (idx == Scales.MAX_INDEX) {
                List<String> top = new ArrayList<>(byLayer.keySet());
                top.sort(Comparator.comparingDouble(n -> -byLayer.get(n)[1]));
                o.println("  slowest layers in the reference, with their rank in the table:");
                List<String> inT = new ArrayList<>(byLayer.keySet());
                inT.sort(Comparator.comparingDouble(n -> -byLayer.get(n)[0]));
                for (int i = 0; i < Math.min(10, top.size()); i++) {
                    String n = top.get(i);
                    o.printf(Locale.ROOT, "   %2d. %-32s %9.4f ms (%4.1f %%)  table: #%d %9.4f ms (%4.1f %%)%n", i + 1,
                            n, byLayer.get(n)[1], 100 * byLayer.get(n)[1] / tr, inT.indexOf(n) + 1, byLayer.get(n)[0],
                            100 * byLayer.get(n)[0] / tt);
                }
            }
        }
    }

    private static String mode(LatencyTable t) {
        return t.sampledStep() == 0 ? "full" : "sampled step " + t.sampledStep();
    }
}
