package dev.metaprune.peer.djl;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.pytorch.jni.LibUtils;
import ai.djl.training.GradientCollector;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * MetaPrune peer: PyTorch 2.7.1 (CPU, the libtorch bundled in DJL's Maven jar) through DJL 0.36, on
 * the shapes of MetaPrune's JMH benchmarks (../shapes.json). The JVM user's ready-made alternative.
 *
 * <p>fwd: the op with autograd off. bwd: inside a DJL {@link GradientCollector}, an untimed forward
 * on fresh autograd leaves (detached views of the inputs, so gradients never accumulate), then the
 * timed backward with a fixed output gradient ({@code JniUtils.backward(y, gy)}, the call
 * {@code GradientCollector.backward} makes after building an all-ones gy) giving input and weight
 * gradients. Median over timing windows after warm-up; JSON lines as torch_peer.py writes them.
 *
 * <p>Threads: {@code JniUtils.setNumThreads(n)} (torch::set_num_threads) before each measurement.
 * Offline: {@code ai.djl.offline=true}; libtorch comes from the pytorch-native-cpu jar on the class
 * path, the JNI glue from the pytorch-jni jar (DJL copies both into its engine cache once).
 */
public final class DjlPeer {

    static final class Opts {
        int[] threads = {1, 2};
        String only;
        Set<String> groups;
        double warmup = 1.0, window = 0.3, maxForeign = 0.3, quietThreshold = 0.15, quietMaxWait = 60;
        int windows = 9;
        String out;
        String shapes = "bench/peers/shapes.json";
        String config = "default";
    }

    public static void main(String[] args) throws Exception {
        Opts o = parse(args);
        if (System.getProperty("ai.djl.offline") == null) System.setProperty("ai.djl.offline", "true");

        Engine engine = Engine.getEngine("PyTorch"); // loads libtorch (from the jar) and libdjl_torch
        Map<String, Object> env = envReport(engine, o);
        Gson gson = new GsonBuilder().disableHtmlEscaping().serializeSpecialFloatingPointValues().create();
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        String prefix = o.out != null ? o.out : "bench/peers/out/djl-" + o.config + "-" + stamp;
        Path jpath = Path.of(prefix + ".jsonl");
        if (jpath.toAbsolutePath().getParent() != null) Files.createDirectories(jpath.toAbsolutePath().getParent());
        System.out.printf("# DJL %s, PyTorch %s from %s, config=%s, default threads=%s, interop=%s%n",
                env.get("djl"), env.get("pytorch"), env.get("libtorch_path"), o.config,
                env.get("torch_default_threads"), env.get("torch_interop_threads"));
        System.out.println("# native libs mapped: " + env.get("libs"));
        System.out.println("# allocator: " + (Boolean.TRUE.equals(env.get("jemalloc_loaded")) ? "jemalloc " + env.get("MALLOC_CONF") : "glibc malloc")
                + "; layout NCHW (DJL has no channels_last)");
        System.out.println("# writing " + jpath);

        List<JsonObject> shapes = loadShapes(Path.of(o.shapes), o);
        try (PrintWriter jw = new PrintWriter(Files.newBufferedWriter(jpath, StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND))) {
            jw.println(gson.toJson(env));
            jw.flush();
            int rows = 0;
            for (JsonObject s : shapes) {
                Cost cost = Cost.of(s);
                try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
                    Case c = makeCase(s, m);
                    for (int t : o.threads) {
                        Map<String, Object> r = measure(s, c, t, o, cost, env);
                        jw.println(gson.toJson(r));
                        jw.flush();
                        System.out.println(line(r));
                        rows++;
                    }
                }
            }
            System.out.println("# done: " + rows + " rows -> " + jpath);
        }
    }

    // ------------------------------------------------------------------ cases

    /** An op on leaves; backward gives every leaf's gradient (extra, non-grad inputs are captured). */
    record Case(String backend, List<NDArray> leaves, NDArray gy, Function<List<NDArray>, NDArray> op) {}

    static Case makeCase(JsonObject s, NDManager m) {
        String kind = s.get("kind").getAsString();
        m.getEngine().setRandomSeed(1234);
        switch (kind) {
            case "gemm" -> {
                long mm = i(s, "m"), n = i(s, "n"), k = i(s, "k");
                return new Case("blas", List.of(rnd(m, mm, k), rnd(m, k, n)), rnd(m, mm, n),
                        l -> l.get(0).matMul(l.get(1)));
            }
            case "linear" -> {
                long b = i(s, "batch"), in = i(s, "in"), out = i(s, "out");
                List<NDArray> leaves = new ArrayList<>(List.of(rnd(m, b, in), rnd(m, out, in).muli(1.0 / Math.sqrt(in))));
                boolean bias = s.has("bias") && s.get("bias").getAsBoolean();
                if (bias) leaves.add(rnd(m, out));
                return new Case("blas", leaves, rnd(m, b, out),
                        l -> Linear.linear(l.get(0), l.get(1), bias ? l.get(2) : null).singletonOrThrow());
            }
            case "conv" -> {
                long n = i(s, "n"), cin = i(s, "cin"), cout = i(s, "cout"), h = i(s, "h"), w = i(s, "w"), k = i(s, "k");
                int st = (int) i(s, "stride"), pd = (int) i(s, "pad"), g = (int) i(s, "groups");
                long ho = (h + 2L * pd - k) / st + 1, wo = (w + 2L * pd - k) / st + 1;
                Shape stride = new Shape(st, st), pad = new Shape(pd, pd), dil = new Shape(1, 1);
                return new Case(null, List.of(rnd(m, n, cin, h, w), rnd(m, cout, cin / g, k, k).muli(0.1)),
                        rnd(m, n, cout, ho, wo),
                        l -> Conv2d.conv2d(l.get(0), l.get(1), null, stride, pad, dil, g).singletonOrThrow());
            }
            case "bn" -> {
                long n = i(s, "n"), c = i(s, "c"), h = i(s, "h"), w = i(s, "w");
                boolean affine = s.has("affine") && s.get("affine").getAsBoolean();
                NDArray rm = m.zeros(new Shape(c)), rv = m.ones(new Shape(c));
                // DJL's batchNorm needs gamma / beta arrays: affine-free = ones / zeros that need no gradient
                NDArray g0 = m.ones(new Shape(c)), b0 = m.zeros(new Shape(c));
                List<NDArray> leaves = affine ? List.of(rnd(m, n, c, h, w), m.ones(new Shape(c)), m.zeros(new Shape(c)))
                        : List.of(rnd(m, n, c, h, w));
                return new Case(null, leaves, rnd(m, n, c, h, w), l -> BatchNorm.batchNorm(l.get(0), rm, rv,
                        affine ? l.get(1) : g0, affine ? l.get(2) : b0, 1, 0.9f, 1e-5f, true).singletonOrThrow());
            }
            default -> throw new IllegalArgumentException("unknown kind " + kind);
        }
    }

    static NDArray rnd(NDManager m, long... shape) {
        return m.randomNormal(new Shape(shape));
    }

    static long i(JsonObject s, String k) {
        return s.get(k).getAsLong();
    }

    // ------------------------------------------------------------------ timing

    interface Step { void run(); }

    record Timed(double[] perCall, double[] foreign, int[] calls) {}

    static Timed time(Step setup, Step run, Opts o) {
        long tEnd = System.nanoTime() + (long) (o.warmup * 1e9);
        for (int n = 0; n < 2 || System.nanoTime() < tEnd; n++) { setup.run(); run.run(); }
        double[] per = new double[o.windows], foreign = new double[o.windows];
        int[] calls = new int[o.windows];
        for (int wi = 0; wi < o.windows; wi++) {
            Load.Meter meter = Load.start();
            long t0 = System.nanoTime(), timed = 0;
            int n = 0;
            while (n == 0 || System.nanoTime() - t0 < o.window * 1e9) {
                setup.run();
                long a = System.nanoTime();
                run.run();
                timed += System.nanoTime() - a;
                n++;
            }
            per[wi] = timed * 1e-9 / n;
            foreign[wi] = meter.stop();
            calls[wi] = n;
        }
        return new Timed(per, foreign, calls);
    }

    static Map<String, Object> measure(JsonObject s, Case c, int threads, Opts o, Cost cost, Map<String, Object> env) {
        JniUtils.setNumThreads(threads);
        double[] q = Load.waitQuiet(o.quietThreshold, o.quietMaxWait);
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("type", "result");
        r.put("peer", "djl");
        r.put("pytorch", env.get("pytorch"));
        r.put("djl", env.get("djl"));
        r.put("config", o.config);
        r.put("id", s.get("id").getAsString());
        r.put("group", s.get("group").getAsString());
        r.put("kind", s.get("kind").getAsString());
        r.put("label", s.get("label").getAsString());
        r.put("shape", Cost.describe(s));
        r.put("backend", c.backend());
        r.put("bound", s.has("bound") ? s.get("bound").getAsString() : "compute");
        r.put("threads", threads);
        r.put("torch_threads", JniUtils.getNumThreads());
        r.put("quiet_wait_s", round(q[0], 1));
        r.put("foreign_cores_before", round(q[1], 2));
        r.put("quiet_reached", q[2] > 0);

        // forward: autograd off
        JniUtils.setGradMode(false);
        NDArray[] last = new NDArray[1];
        Timed fwd = time(() -> { if (last[0] != null) { last[0].close(); last[0] = null; } },
                () -> last[0] = c.op().apply(c.leaves()), o);
        if (last[0] != null) last[0].close();

        // backward: fresh leaves per call (detached views: no copy, no accumulation), untimed forward,
        // timed backward with the fixed gy; the previous call's graph / grads are freed in setup.
        NDManager[] it = new NDManager[1];
        NDArray[] y = new NDArray[1];
        List<List<NDArray>> freshRef = new ArrayList<>(List.of(List.of()));
        Timed bwd;
        try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
            NDManager base = c.leaves().get(0).getManager();
            Step setup = () -> {
                if (it[0] != null) it[0].close();
                it[0] = base.newSubManager();
                List<NDArray> fresh = new ArrayList<>();
                for (NDArray leaf : c.leaves()) {
                    NDArray d = leaf.stopGradient();
                    d.attach(it[0]);
                    d.setRequiresGradient(true);
                    fresh.add(d);
                }
                y[0] = c.op().apply(fresh);
                y[0].attach(it[0]);
                freshRef.set(0, fresh);
            };
            Step run = () -> JniUtils.backward((PtNDArray) y[0], (PtNDArray) c.gy(), false, false);
            // once, untimed: the backward must give every leaf a gradient of its own shape
            setup.run();
            run.run();
            List<String> grads = new ArrayList<>();
            for (NDArray d : freshRef.get(0)) {
                NDArray g = d.getGradient();
                if (!g.getShape().equals(d.getShape()) || g.abs().sum().getFloat() == 0f)
                    throw new IllegalStateException("bad gradient for " + s.get("id") + ": " + g.getShape());
                grads.add(g.getShape().toString());
            }
            r.put("grads_checked", grads);
            bwd = time(setup, run, o);
            if (it[0] != null) it[0].close();
        }
        JniUtils.setGradMode(false);

        boolean noisy = false;
        for (String d : new String[] {"fwd", "bwd"}) {
            Timed tm = d.equals("fwd") ? fwd : bwd;
            double[] sum = summarize(tm, o);
            double t = sum[0];
            noisy |= sum[1] > 0;
            Double flop = d.equals("fwd") ? cost.fwdFlop : cost.bwdFlop;
            double bytes = d.equals("fwd") ? cost.fwdBytes : cost.bwdBytes;
            r.put(d + "_ms", round(t * 1e3, 4));
            r.put(d + "_gflops", flop == null ? null : round(flop / t * 1e-9, 2));
            r.put(d + "_gbs", round(bytes / t * 1e-9, 2));
            r.put(d + "_windows_ms", Arrays.stream(tm.perCall()).map(v -> round(v * 1e3, 4)).boxed().toList());
            r.put(d + "_windows_foreign_cores", Arrays.stream(tm.foreign()).map(v -> round(v, 2)).boxed().toList());
            r.put(d + "_calls_per_window", Arrays.stream(tm.calls()).boxed().toList());
            r.put(d + "_clean_windows", (int) sum[2]);
        }
        r.put("flop_fwd", cost.fwdFlop);
        r.put("flop_bwd", cost.bwdFlop);
        r.put("bytes_fwd_min", cost.fwdBytes);
        r.put("bytes_bwd_min", cost.bwdBytes);
        r.put("noisy", noisy);
        r.put("time", LocalDateTime.now().truncatedTo(ChronoUnit.SECONDS).toString());
        return r;
    }

    /** {median seconds, noisy 0/1, clean windows}: windows with foreign load > maxForeign are dropped
     *  unless fewer than half stay clean (then all are used and the row is flagged noisy). */
    static double[] summarize(Timed t, Opts o) {
        List<Double> clean = new ArrayList<>();
        for (int k = 0; k < t.perCall().length; k++) if (t.foreign()[k] <= o.maxForeign) clean.add(t.perCall()[k]);
        boolean noisy = clean.size() < Math.max(1, (t.perCall().length + 1) / 2);
        double[] use = noisy ? t.perCall().clone() : clean.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(use);
        int n = use.length;
        double med = n % 2 == 1 ? use[n / 2] : 0.5 * (use[n / 2 - 1] + use[n / 2]);
        return new double[] {med, noisy ? 1 : 0, clean.size()};
    }

    static double round(double v, int digits) {
        double p = Math.pow(10, digits);
        return Math.round(v * p) / p;
    }

    static String line(Map<String, Object> r) {
        StringBuilder sb = new StringBuilder();
        String label = (String) r.get("label");
        sb.append(String.format(Locale.ROOT, "%-44s %-6s T%s ", label.substring(0, Math.min(44, label.length())),
                r.get("backend") == null ? "" : r.get("backend"), r.get("threads")));
        for (String d : new String[] {"fwd", "bwd"}) {
            Object gf = r.get(d + "_gflops");
            sb.append(String.format(Locale.ROOT, " %s %9.3f ms %s %7.1f GB/s ", d, (Double) r.get(d + "_ms"),
                    gf == null ? "                " : String.format(Locale.ROOT, "%8.1f GFLOP/s", (Double) gf),
                    (Double) r.get(d + "_gbs")));
            if (d.equals("fwd")) sb.append(" | ");
        }
        sb.append(String.format(Locale.ROOT, " (waited %.0fs, load %.2f)%s", (Double) r.get("quiet_wait_s"),
                (Double) r.get("foreign_cores_before"), Boolean.TRUE.equals(r.get("noisy")) ? "  NOISY" : ""));
        return sb.toString();
    }

    // ------------------------------------------------------------------ cost model (as peer_common.py)

    static final class Cost {
        Double fwdFlop, bwdFlop;
        double fwdBytes, bwdBytes;

        static Cost of(JsonObject s) {
            Cost c = new Cost();
            String kind = s.get("kind").getAsString();
            double x, w, y, f;
            switch (kind) {
                case "gemm" -> {
                    double m = i(s, "m"), n = i(s, "n"), k = i(s, "k");
                    f = 2 * m * n * k; x = m * k; w = k * n; y = m * n;
                }
                case "linear" -> {
                    double b = i(s, "batch"), in = i(s, "in"), out = i(s, "out");
                    f = 2 * b * in * out; x = b * in; w = out * in; y = b * out;
                }
                case "conv" -> {
                    long ho = (i(s, "h") + 2 * i(s, "pad") - i(s, "k")) / i(s, "stride") + 1;
                    long wo = (i(s, "w") + 2 * i(s, "pad") - i(s, "k")) / i(s, "stride") + 1;
                    double cpg = (double) i(s, "cin") / i(s, "groups"), kk = i(s, "k") * i(s, "k");
                    x = (double) i(s, "n") * i(s, "cin") * i(s, "h") * i(s, "w");
                    y = (double) i(s, "n") * i(s, "cout") * ho * wo;
                    w = i(s, "cout") * cpg * kk;
                    f = 2 * y * cpg * kk;
                }
                case "bn" -> {
                    double e = (double) i(s, "n") * i(s, "c") * i(s, "h") * i(s, "w");
                    c.fwdFlop = null; c.bwdFlop = null; c.fwdBytes = 4 * 2 * e; c.bwdBytes = 4 * 3 * e;
                    return c;
                }
                default -> throw new IllegalArgumentException(kind);
            }
            c.fwdFlop = f;
            c.bwdFlop = 2 * f;
            c.fwdBytes = 4 * (x + w + y);
            c.bwdBytes = 4 * (y + x + w + x + w);
            return c;
        }

        static String describe(JsonObject s) {
            return switch (s.get("kind").getAsString()) {
                case "gemm" -> "M" + i(s, "m") + " N" + i(s, "n") + " K" + i(s, "k");
                case "linear" -> "batch " + i(s, "batch") + ", " + i(s, "in") + " -> " + i(s, "out")
                        + (s.has("bias") && s.get("bias").getAsBoolean() ? " +bias" : "");
                case "conv" -> {
                    long ho = (i(s, "h") + 2 * i(s, "pad") - i(s, "k")) / i(s, "stride") + 1;
                    long wo = (i(s, "w") + 2 * i(s, "pad") - i(s, "k")) / i(s, "stride") + 1;
                    yield "N" + i(s, "n") + " " + i(s, "cin") + "x" + i(s, "h") + "x" + i(s, "w") + " -> " + i(s, "cout")
                            + "x" + ho + "x" + wo + " k" + i(s, "k") + " s" + i(s, "stride") + " p" + i(s, "pad") + " g" + i(s, "groups");
                }
                case "bn" -> "N" + i(s, "n") + " " + i(s, "c") + "x" + i(s, "h") + "x" + i(s, "w")
                        + (s.has("affine") && s.get("affine").getAsBoolean() ? " affine" : "");
                default -> "";
            };
        }
    }

    // ------------------------------------------------------------------ machine load

    static final class Load {
        static final com.sun.management.OperatingSystemMXBean OS =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

        static double machineBusy() {
            try {
                String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
                long b = 0;
                for (int k : new int[] {1, 2, 3, 6, 7, 8}) b += Long.parseLong(f[k]);
                return b / 100.0; // USER_HZ
            } catch (IOException | RuntimeException e) {
                return 0;
            }
        }

        record Meter(double b0, double c0, long w0) {
            /** Cores used by other processes since start (machine busy time minus this JVM's). */
            double stop() {
                double w = (System.nanoTime() - w0) * 1e-9;
                double f = ((machineBusy() - b0) - (OS.getProcessCpuTime() * 1e-9 - c0)) / Math.max(w, 1e-9);
                return Math.max(0, f);
            }
        }

        static Meter start() {
            return new Meter(machineBusy(), OS.getProcessCpuTime() * 1e-9, System.nanoTime());
        }

        /** {waited s, foreign cores, quiet reached 1/0}. */
        static double[] waitQuiet(double threshold, double maxWait) {
            long t0 = System.nanoTime();
            while (true) {
                Meter m = start();
                try { Thread.sleep(500); } catch (InterruptedException e) { Thread.currentThread().interrupt(); }
                double f = m.stop(), waited = (System.nanoTime() - t0) * 1e-9;
                if (f < threshold) return new double[] {waited, f, 1};
                if (waited >= maxWait) return new double[] {waited, f, 0};
            }
        }
    }

    // ------------------------------------------------------------------ setup

    static Map<String, Object> envReport(Engine engine, Opts o) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("type", "env");
        e.put("peer", "djl");
        e.put("config", o.config);
        e.put("time", LocalDateTime.now().truncatedTo(ChronoUnit.SECONDS).toString());
        e.put("host", hostname());
        e.put("nproc", Runtime.getRuntime().availableProcessors());
        e.put("java", System.getProperty("java.vm.name") + " " + Runtime.version());
        e.put("djl", Engine.getDjlVersion());
        e.put("pytorch", engine.getVersion());
        e.put("libtorch_path", LibUtils.getLibtorchPath());
        e.put("offline", System.getProperty("ai.djl.offline"));
        e.put("torch_default_threads", JniUtils.getNumThreads());
        e.put("torch_interop_threads", JniUtils.getNumInteropThreads());
        e.put("channels_last", false);
        List<String> libs = mappedLibs();
        e.put("libs", libs);
        e.put("jemalloc_loaded", libs.stream().anyMatch(p -> p.contains("jemalloc")));
        e.put("MALLOC_CONF", System.getenv("MALLOC_CONF"));
        e.put("LD_PRELOAD", System.getenv("LD_PRELOAD"));
        e.put("OMP_NUM_THREADS", System.getenv("OMP_NUM_THREADS"));
        Map<String, Object> timing = new LinkedHashMap<>();
        timing.put("warmup_s", o.warmup);
        timing.put("window_s", o.window);
        timing.put("windows", o.windows);
        timing.put("max_foreign_cores", o.maxForeign);
        timing.put("statistic", "median of per-window mean time per call");
        e.put("timing", timing);
        return e;
    }

    static String hostname() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/hostname")).trim();
        } catch (IOException ex) {
            return "?";
        }
    }

    static List<String> mappedLibs() {
        Set<String> libs = new LinkedHashSet<>();
        Pattern p = Pattern.compile("(torch|c10|gomp|iomp|mkl|dnnl|jemalloc|tcmalloc|blas)", Pattern.CASE_INSENSITIVE);
        try {
            for (String ln : Files.readAllLines(Path.of("/proc/self/maps"))) {
                String[] f = ln.trim().split("\\s+");
                if (f.length >= 6 && f[5].startsWith("/")) {
                    String name = Path.of(f[5]).getFileName().toString();
                    if (p.matcher(name).find()) libs.add(f[5]);
                }
            }
        } catch (IOException ignored) {
            // not Linux: leave empty
        }
        return new ArrayList<>(libs);
    }

    static List<JsonObject> loadShapes(Path file, Opts o) throws IOException {
        JsonObject root = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
        JsonArray arr = root.getAsJsonArray("shapes");
        List<JsonObject> out = new ArrayList<>();
        Pattern only = o.only == null ? null : Pattern.compile(o.only);
        for (JsonElement el : arr) {
            JsonObject s = el.getAsJsonObject();
            if (only != null && !only.matcher(s.get("id").getAsString()).find()) continue;
            if (o.groups != null && !o.groups.contains(s.get("group").getAsString())) continue;
            if (s.has("backends")) { // DJL reaches only torch's default path ('blas'), not oneDNN's inner product
                boolean blas = false;
                for (JsonElement b : s.getAsJsonArray("backends")) blas |= b.getAsString().equals("blas");
                if (!blas) continue;
            }
            out.add(s);
        }
        return out;
    }

    static Opts parse(String[] a) {
        Opts o = new Opts();
        for (int k = 0; k < a.length; k++) {
            switch (a[k]) {
                case "--threads" -> {
                    List<Integer> t = new ArrayList<>();
                    while (k + 1 < a.length && a[k + 1].matches("[0-9,]+"))
                        for (String x : a[++k].split(",")) if (!x.isEmpty()) t.add(Integer.parseInt(x));
                    o.threads = t.stream().mapToInt(Integer::intValue).toArray();
                }
                case "--only" -> o.only = a[++k];
                case "--groups" -> o.groups = new LinkedHashSet<>(Arrays.asList(a[++k].split(",")));
                case "--warmup" -> o.warmup = Double.parseDouble(a[++k]);
                case "--window" -> o.window = Double.parseDouble(a[++k]);
                case "--windows" -> o.windows = Integer.parseInt(a[++k]);
                case "--max-foreign" -> o.maxForeign = Double.parseDouble(a[++k]);
                case "--quiet-threshold" -> o.quietThreshold = Double.parseDouble(a[++k]);
                case "--quiet-max-wait" -> o.quietMaxWait = Double.parseDouble(a[++k]);
                case "--out" -> o.out = a[++k];
                case "--shapes" -> o.shapes = a[++k];
                case "--config" -> o.config = a[++k];
                case "--smoke" -> { o.warmup = 0.02; o.window = 0.01; o.windows = 3; o.quietMaxWait = 1; }
                case "-h", "--help" -> { usage(); System.exit(0); }
                default -> { System.err.println("unknown option " + a[k]); usage(); System.exit(2); }
            }
        }
        return o;
    }

    static void usage() {
        System.err.println("""
                DjlPeer: PyTorch (DJL) on MetaPrune's benchmark shapes. Run through bench/peers/djl/run_djl_peer.sh.
                  --threads 1 2 | 1,2     thread counts (torch::set_num_threads)     [1 2]
                  --only REGEX            shape ids to run (e.g. 'sgemm|gen')
                  --groups a,b            sgemm,generator,mbv2_n32,cifar_n128
                  --warmup S --window S --windows N                                [1.0 0.3 9]
                  --max-foreign C         drop windows where others used > C cores  [0.3]
                  --quiet-threshold C --quiet-max-wait S                             [0.15 60]
                  --smoke                 tiny iteration counts (tests the set-up only)
                  --out PREFIX            output PREFIX.jsonl              [bench/peers/out/djl-<config>-<time>]
                  --shapes FILE           [bench/peers/shapes.json]
                  --config NAME           label recorded with the results (the run script sets it)""");
    }

    private DjlPeer() {}
}
