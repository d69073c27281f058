package dev.metaprune.cli;

import dev.metaprune.kernels.Kernels;
import dev.metaprune.kernels.Parallel;
import dev.metaprune.latency.Measurement;
import dev.metaprune.latency.TimingSettings;
import dev.metaprune.nn.DenseModel;
import dev.metaprune.nn.Network;
import dev.metaprune.nn.arch.Architecture;
import dev.metaprune.nn.arch.Architectures;
import dev.metaprune.nn.arch.Widths;
import dev.metaprune.prune.NetworkSlots;
import dev.metaprune.report.Report;
import dev.metaprune.tensor.Init;
import dev.metaprune.tensor.Tensor;
import dev.metaprune.train.RetrainConfig;
import dev.metaprune.train.ScratchTrainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code metaprune report}: one HTML page with plots and tables from run folders. */
@Command(name = "report", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Gather run folders (retrain, train --full, prune, search) and validated latency tables into one"
                + " self-contained HTML page: test top-1 versus FLOPs and versus measured latency (one series per"
                + " method, mean and standard deviation over seeds), the search's best error per iteration, predicted"
                + " versus measured latency, and the tables behind them. Folders are scanned 4 levels deep.",
                "",
                "Latency of each distinct trained network is measured here (forward pass, inference executor,"
                        + " median of --latency-runs rounds that run every network in turn, after warm-up; with --threads 1 the thread's CPU time, which a"
                        + " shared machine does not inflate, else wall clock) unless --no-latency.", ""},
        footer = {"", "Examples:",
                "  metaprune report runs/ --out report.html",
                "  metaprune report runs/ bench/results/latency-mobilenetv2-cifar-28-b1-cpu-t2.json --latency-batch 1"})
public final class ReportCommand implements Callable<Integer> {
    @Parameters(paramLabel = "RUN|DIR|TABLE", arity = "1..*", description = "Run folders, folders of runs, latency"
            + " tables (.json or .json.gz from `metaprune profile --validate`).")
    List<Path> inputs;

    @Option(names = "--out", paramLabel = "FILE", defaultValue = "report.html", description = "The page (default"
            + " ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--no-latency", description = "Do not measure the networks' latency.")
    boolean noLatency;

    @Option(names = "--latency-batch", defaultValue = "1", description = "Batch of the latency measurement (default"
            + " ${DEFAULT-VALUE}).")
    int latencyBatch;

    @Option(names = "--latency-runs", defaultValue = "100", description = "Timed rounds (default ${DEFAULT-VALUE}):"
            + " each round runs every network once, in turn, so a slow spell of the machine falls on all of them;"
            + " the median per network is reported.")
    int latencyRuns;

    @Option(names = "--latency-warmup-ms", defaultValue = "3000", description = "Warm-up rounds over all networks"
            + " for at least this long (default ${DEFAULT-VALUE} ms) and 50 rounds, then on until the fastest round"
            + " stops improving (by 3%%, three times running; at most 60 s): the JIT has compiled the kernels."
            + " 0: no warm-up.")
    long warmupMs;

    @Option(names = "--threads", description = "Kernel threads (default: all cores).")
    Integer threads;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        if (threads != null) {
            Parallel.setThreads(threads);
        }
        if (latencyBatch < 1 || latencyRuns < 1 || warmupMs < 0) {
            throw new IllegalArgumentException("--latency-batch and --latency-runs must be positive");
        }
        Report r = Report.collect(inputs);
        if (r.trained.isEmpty() && r.searches.isEmpty() && r.latencies.isEmpty()) {
            throw new IllegalArgumentException("nothing to report in " + inputs + ": no finished training run"
                    + " (run.json with test_top1), search (result.json + candidates.jsonl) or validated latency table");
        }
        System.out.printf(Locale.ROOT, "found:   %d trained networks, %d searches, %d latency tables%n",
                r.trained.size(), r.searches.size(), r.latencies.size());
        List<String> prov = new ArrayList<>();
        prov.add(RunInfo.invocation(spec, null).get("command").asText());
        prov.add("MetaPrune " + VersionInfo.version() + ", JDK " + Runtime.version() + ", " + Kernels.get().describe()
                + ", " + java.time.OffsetDateTime.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
        if (!noLatency && !r.trained.isEmpty()) {
            // one timed network per distinct configuration; the trained runs that share it share its figure
            Map<String, Integer> index = new HashMap<>();
            List<Timed> nets = new ArrayList<>();
            List<String> names = new ArrayList<>();
            int[] of = new int[r.trained.size()];
            for (int i = 0; i < r.trained.size(); i++) {
                Report.Trained t = r.trained.get(i);
                Path ck = t.dir().resolve("checkpoint.safetensors");
                of[i] = -1;
                if (!Files.exists(ck)) {
                    continue;
                }
                RetrainConfig cfg = ScratchTrainer.configOf(ck);
                String key = cfg.arch() + "|" + cfg.inChannels() + "|" + cfg.inputSize() + "|" + cfg.widths();
                Integer k = index.get(key);
                if (k == null) {
                    k = nets.size();
                    index.put(key, k);
                    nets.add(timed(cfg));
                    names.add(t.dir().toString());
                }
                of[i] = k;
            }
            double[] ms = measure(nets);
            for (int k = 0; k < nets.size(); k++) {
                System.out.printf(Locale.ROOT, "latency: %-60s %.3f ms%n", names.get(k), ms[k]);
            }
            for (int i = 0; i < of.length; i++) {
                if (of[i] >= 0) {
                    r.setLatency(i, ms[of[i]]);
                }
            }
            prov.add(String.format(Locale.ROOT, "Latency: batch %d, %d kernel thread%s, median of %d rounds that run"
                    + " every network once in turn (inference executor; after at least %d ms and 50 rounds of"
                    + " warm-up, then until the fastest round stopped improving by 3 %%), %s, on this machine.",
                    latencyBatch, Parallel.threadCount(), Parallel.threadCount() == 1 ? "" : "s", latencyRuns,
                    warmupMs,
                    Parallel.threadCount() == 1 ? "the thread's CPU time" : "wall clock"));
        }
        String html = r.html(prov);
        Path parent = out.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path tmp = out.resolveSibling(out.getFileName() + ".tmp");
        Files.writeString(tmp, html);
        Files.move(tmp, out, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        System.out.println("report:  " + out.toAbsolutePath() + " (" + html.length() / 1024 + " KiB)");
        return 0;
    }

    /** A network of one configuration, with random weights and input, ready to time. */
    record Timed(Network net, Tensor x, Widths widths) {
        void run() {
            net.forward(x, widths, Network.BnMode.EVAL);
        }
    }

    Timed timed(RetrainConfig cfg) {
        Architecture a = Architectures.get(cfg.arch(), cfg.inChannels(), cfg.inputSize(), cfg.classes());
        Widths w = ScratchTrainer.widthsOf(a, cfg.widths());
        DenseModel m = new DenseModel(w, 1, 0.9f, 0f, false, 0f, 1); // weights only; its own executor is not used
        Network net = Network.forInference(a, latencyBatch);
        NetworkSlots.fill(net, m.weights());
        Tensor x = Tensor.zeros(latencyBatch, a.input().size(), a.input().size(), a.input().channels());
        Init.normal(x, 0f, 1f, 7);
        return new Timed(net, x, w);
    }

    /**
     * Median forward latency (ms) of each network. The networks are timed in interleaved rounds rather than one
     * after another: timed in turn, whichever network came first ran before the JIT had compiled the Vector API
     * kernels (in a fresh JVM that took over 3 s) and any network could land in one of the shared
     * machine's slow spells (seconds at +40 %), so the same network measured 1.6 or 2.9 ms from one run to the
     * next. Interleaved, a slow spell falls on every network alike and the median discards it.
     */
    double[] measure(List<Timed> nets) {
        Runnable round = () -> nets.forEach(Timed::run);
        if (warmupMs > 0) {
            long start = System.nanoTime();
            for (int r = 0; r < 50 || System.nanoTime() - start < warmupMs * 1_000_000L; r++) {
                round.run();
            }
            TimingSettings.warmUntilSettled(round, 60, 0);
        }
        // one kernel thread: the calling thread's CPU time (what the profiler's --clock cpu measures; immune to
        // the scheduling of a shared machine); more threads: wall clock, the only honest clock for a parallel call
        TimingSettings.Clock clock = Parallel.threadCount() == 1 ? TimingSettings.Clock.THREAD_CPU
                : TimingSettings.Clock.WALL;
        double[][] t = new double[nets.size()][latencyRuns];
        for (int i = 0; i < latencyRuns; i++) {
            for (int k = 0; k < nets.size(); k++) {
                long t0 = clock.now();
                nets.get(k).run();
                t[k][i] = (clock.now() - t0) / 1e6;
            }
        }
        double[] ms = new double[nets.size()];
        for (int k = 0; k < ms.length; k++) {
            ms[k] = Measurement.of(t[k], latencyRuns).medianMs();
        }
        return ms;
    }
}
