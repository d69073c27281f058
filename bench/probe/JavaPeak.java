/*
 * MetaPrune hardware probe, Java side: the fp32 FMA peak and the memory bandwidth reachable from
 * Java with the Vector API, to read the project's kernels against both the hardware (fma_peak.c)
 * and the JVM's own limit.
 *
 * Run (single-file source program, JDK >= 25; -Xbatch makes JIT compilation synchronous, so a busy
 * machine cannot leave the kernel interpreted during the timed windows):
 *   java --add-modules jdk.incubator.vector -Xmx2g -Xbatch bench/probe/JavaPeak.java [options]
 *   options: --threads 1,2  --seconds 0.25  --reps 7  --mib 256  --no-bw  --no-fma
 *
 * FMA: each thread runs independent chains acc_i = acc_i.fma(a, b) (12 and 8 accumulators, explicit
 * locals so C2 keeps them in registers) on FloatVector.SPECIES_PREFERRED, and on SPECIES_256 for
 * comparison. FLOPs = 2 per lane per FMA. Best of --reps windows (median also printed).
 * Bandwidth: STREAM-style copy c[i] = a[i] and triad a[i] = b[i] + s * c[i] with FloatVector loads /
 * stores over float[] arrays of --mib MiB each, threads split the index range statically. Bytes
 * counted WITHOUT write-allocate (copy 8 B, triad 12 B per element), as STREAM and fma_peak.c do.
 * "foreign" = cores used by other processes during the windows (/proc/stat minus this JVM's CPU time).
 * Output: a human table on stderr, one JSON object on stdout.
 */
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CyclicBarrier;
import java.util.function.IntFunction;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

public class JavaPeak {
    static final VectorSpecies<Float> PREF = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Float> S256 = FloatVector.SPECIES_256;
    static volatile float sink;

    // ------------------------------------------------------------------ FMA kernels

    static float fma12Pref(int iters, float seed) {
        FloatVector a = FloatVector.broadcast(PREF, 0.999999f), b = FloatVector.broadcast(PREF, 1e-7f);
        FloatVector v0 = FloatVector.broadcast(PREF, seed), v1 = FloatVector.broadcast(PREF, seed + 1),
                v2 = FloatVector.broadcast(PREF, seed + 2), v3 = FloatVector.broadcast(PREF, seed + 3),
                v4 = FloatVector.broadcast(PREF, seed + 4), v5 = FloatVector.broadcast(PREF, seed + 5),
                v6 = FloatVector.broadcast(PREF, seed + 6), v7 = FloatVector.broadcast(PREF, seed + 7),
                v8 = FloatVector.broadcast(PREF, seed + 8), v9 = FloatVector.broadcast(PREF, seed + 9),
                v10 = FloatVector.broadcast(PREF, seed + 10), v11 = FloatVector.broadcast(PREF, seed + 11);
        for (int i = 0; i < iters; i++) {
            v0 = v0.fma(a, b); v1 = v1.fma(a, b); v2 = v2.fma(a, b); v3 = v3.fma(a, b);
            v4 = v4.fma(a, b); v5 = v5.fma(a, b); v6 = v6.fma(a, b); v7 = v7.fma(a, b);
            v8 = v8.fma(a, b); v9 = v9.fma(a, b); v10 = v10.fma(a, b); v11 = v11.fma(a, b);
        }
        return v0.add(v1).add(v2).add(v3).add(v4).add(v5).add(v6).add(v7).add(v8).add(v9).add(v10).add(v11)
                .reduceLanes(VectorOperators.ADD);
    }

    static float fma8Pref(int iters, float seed) {
        FloatVector a = FloatVector.broadcast(PREF, 0.999999f), b = FloatVector.broadcast(PREF, 1e-7f);
        FloatVector v0 = FloatVector.broadcast(PREF, seed), v1 = FloatVector.broadcast(PREF, seed + 1),
                v2 = FloatVector.broadcast(PREF, seed + 2), v3 = FloatVector.broadcast(PREF, seed + 3),
                v4 = FloatVector.broadcast(PREF, seed + 4), v5 = FloatVector.broadcast(PREF, seed + 5),
                v6 = FloatVector.broadcast(PREF, seed + 6), v7 = FloatVector.broadcast(PREF, seed + 7);
        for (int i = 0; i < iters; i++) {
            v0 = v0.fma(a, b); v1 = v1.fma(a, b); v2 = v2.fma(a, b); v3 = v3.fma(a, b);
            v4 = v4.fma(a, b); v5 = v5.fma(a, b); v6 = v6.fma(a, b); v7 = v7.fma(a, b);
        }
        return v0.add(v1).add(v2).add(v3).add(v4).add(v5).add(v6).add(v7).reduceLanes(VectorOperators.ADD);
    }

    static float fma12S256(int iters, float seed) {
        FloatVector a = FloatVector.broadcast(S256, 0.999999f), b = FloatVector.broadcast(S256, 1e-7f);
        FloatVector v0 = FloatVector.broadcast(S256, seed), v1 = FloatVector.broadcast(S256, seed + 1),
                v2 = FloatVector.broadcast(S256, seed + 2), v3 = FloatVector.broadcast(S256, seed + 3),
                v4 = FloatVector.broadcast(S256, seed + 4), v5 = FloatVector.broadcast(S256, seed + 5),
                v6 = FloatVector.broadcast(S256, seed + 6), v7 = FloatVector.broadcast(S256, seed + 7),
                v8 = FloatVector.broadcast(S256, seed + 8), v9 = FloatVector.broadcast(S256, seed + 9),
                v10 = FloatVector.broadcast(S256, seed + 10), v11 = FloatVector.broadcast(S256, seed + 11);
        for (int i = 0; i < iters; i++) {
            v0 = v0.fma(a, b); v1 = v1.fma(a, b); v2 = v2.fma(a, b); v3 = v3.fma(a, b);
            v4 = v4.fma(a, b); v5 = v5.fma(a, b); v6 = v6.fma(a, b); v7 = v7.fma(a, b);
            v8 = v8.fma(a, b); v9 = v9.fma(a, b); v10 = v10.fma(a, b); v11 = v11.fma(a, b);
        }
        return v0.add(v1).add(v2).add(v3).add(v4).add(v5).add(v6).add(v7).add(v8).add(v9).add(v10).add(v11)
                .reduceLanes(VectorOperators.ADD);
    }

    interface Kernel { float run(int iters, float seed); }

    record FmaKernel(String name, int lanes, int accs, Kernel k) {}

    // ------------------------------------------------------------------ stream kernels

    static void copy(float[] a, float[] c, int from, int to) {
        int i = from, n = PREF.length(), upper = from + PREF.loopBound(to - from);
        for (; i < upper; i += n) FloatVector.fromArray(PREF, a, i).intoArray(c, i);
        for (; i < to; i++) c[i] = a[i];
    }

    static void triad(float[] a, float[] b, float[] c, float s, int from, int to) {
        int i = from, n = PREF.length(), upper = from + PREF.loopBound(to - from);
        FloatVector vs = FloatVector.broadcast(PREF, s);
        for (; i < upper; i += n)
            FloatVector.fromArray(PREF, c, i).fma(vs, FloatVector.fromArray(PREF, b, i)).intoArray(a, i);
        for (; i < to; i++) a[i] = b[i] + s * c[i];
    }

    // ------------------------------------------------------------------ measurement helpers

    /**
     * Runs body(t) on `threads` threads released together; returns seconds from the first thread's
     * start to the last thread's end, as the workers saw them (not the caller, which may be preempted).
     */
    static double parallel(int threads, IntFunction<Float> body) throws Exception {
        CyclicBarrier start = new CyclicBarrier(threads);
        float[] out = new float[threads];
        long[] t0 = new long[threads], t1 = new long[threads];
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            final int id = t;
            Thread th = new Thread(() -> {
                try { start.await(); } catch (Exception e) { throw new RuntimeException(e); }
                t0[id] = System.nanoTime();
                out[id] = body.apply(id);
                t1[id] = System.nanoTime();
            });
            th.start();
            ts.add(th);
        }
        for (Thread th : ts) th.join();
        float s = 0;
        for (float f : out) s += f;
        sink = s;
        return (Arrays.stream(t1).max().getAsLong() - Arrays.stream(t0).min().getAsLong()) * 1e-9;
    }

    static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    static double machineBusySeconds() {
        try {
            String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            long busy = 0;
            for (int i : new int[] {1, 2, 3, 6, 7, 8}) busy += Long.parseLong(f[i]);
            return busy / 100.0; // USER_HZ
        } catch (Exception e) {
            return Double.NaN;
        }
    }

    static double selfCpuSeconds() { return OS.getProcessCpuTime() * 1e-9; }

    record Stat(double best, double median, double foreign) {}

    static Stat stat(double[] v, double foreign) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        double med = n % 2 == 1 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
        return new Stat(s[n - 1], med, Double.isNaN(foreign) ? Double.NaN : Math.max(0, foreign));
    }

    static Stat fmaPeak(FmaKernel k, int threads, double seconds, int reps) throws Exception {
        // JIT warm-up: many short calls so C2 compiles the kernel as a normal method (not only OSR),
        // until the call rate stops improving (C2 may be late on a busy machine; -Xbatch helps), <= 10 s.
        long tw = System.nanoTime(), lastGain = tw;
        double bestRate = 0;
        while (System.nanoTime() - tw < 10_000_000_000L) {
            long c0 = System.nanoTime();
            sink = k.k().run(20_000, 0.5f);
            long c1 = System.nanoTime();
            double rate = 1.0 / Math.max(1, c1 - c0);
            if (rate > bestRate * 1.02) { bestRate = rate; lastGain = c1; }
            if (c1 - tw > 300_000_000L && c1 - lastGain > 200_000_000L) break;
        }
        // calibrate iterations per window
        int iters = 1 << 16;
        while (true) {
            final int it = iters;
            double dt = parallel(threads, id -> k.k().run(it, 0.001f * id));
            if (dt > seconds * 0.5 || iters >= (1 << 29)) {
                iters = (int) Math.max(1, Math.min(Integer.MAX_VALUE - 1, iters * seconds / Math.max(dt, 1e-6)));
                break;
            }
            iters *= 4;
        }
        final int it = iters;
        double[] v = new double[reps];
        double b0 = machineBusySeconds(), c0 = selfCpuSeconds();
        long w0 = System.nanoTime();
        for (int r = 0; r < reps; r++) {
            double dt = parallel(threads, id -> k.k().run(it, 0.001f * id));
            v[r] = 2.0 * k.lanes() * k.accs() * (double) it * threads / dt * 1e-9;
        }
        double w = (System.nanoTime() - w0) * 1e-9;
        return stat(v, ((machineBusySeconds() - b0) - (selfCpuSeconds() - c0)) / w);
    }

    static Stat stream(boolean isCopy, float[] a, float[] b, float[] c, int threads, int reps) throws Exception {
        int n = a.length;
        double bytes = (isCopy ? 8.0 : 12.0) * n;
        double[] v = new double[reps];
        double b0 = 0, c0 = 0;
        long w0 = 0;
        for (int r = -2; r < reps; r++) { // two warm-up passes (JIT + page state)
            if (r == 0) { b0 = machineBusySeconds(); c0 = selfCpuSeconds(); w0 = System.nanoTime(); }
            double dt = parallel(threads, id -> {
                int from = (int) ((long) n * id / threads), to = (int) ((long) n * (id + 1) / threads);
                if (isCopy) copy(a, c, from, to); else triad(a, b, c, 1.0001f, from, to);
                return 0f;
            });
            if (r >= 0) v[r] = bytes / dt * 1e-9;
        }
        double w = (System.nanoTime() - w0) * 1e-9;
        sink = a[n / 3] + c[n / 2];
        return stat(v, ((machineBusySeconds() - b0) - (selfCpuSeconds() - c0)) / w);
    }

    static String f2(double d) { return Double.isNaN(d) ? "null" : String.format(Locale.ROOT, "%.2f", d); }

    public static void main(String[] args) throws Exception {
        int[] threads = {1, 2};
        double seconds = 0.25, mib = 256;
        int reps = 7;
        boolean doBw = true, doFma = true;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--threads" -> threads = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
                case "--seconds" -> seconds = Double.parseDouble(args[++i]);
                case "--reps" -> reps = Integer.parseInt(args[++i]);
                case "--mib" -> mib = Double.parseDouble(args[++i]);
                case "--no-bw" -> doBw = false;
                case "--no-fma" -> doFma = false;
                default -> {
                    System.err.println("usage: java --add-modules jdk.incubator.vector -Xmx2g -Xbatch JavaPeak.java"
                            + " [--threads 1,2] [--seconds 0.25] [--reps 7] [--mib 256] [--no-bw] [--no-fma]");
                    System.exit(2);
                }
            }
        }
        reps = Math.max(1, reps);
        String jvm = System.getProperty("java.vm.name") + " " + Runtime.version();
        System.err.printf(Locale.ROOT, "# JavaPeak: %s, %d CPUs, SPECIES_PREFERRED = %d bits (%d floats),"
                        + " window %.2f s, %d reps (best | median), foreign = other processes' cores%n",
                jvm, Runtime.getRuntime().availableProcessors(), PREF.vectorBitSize(), PREF.length(), seconds, reps);
        StringBuilder js = new StringBuilder();
        js.append("{\"probe\":\"JavaPeak.java\",\"jvm\":\"").append(jvm.replace("\"", "'"))
                .append("\",\"species_preferred_bits\":").append(PREF.vectorBitSize())
                .append(",\"reps\":").append(reps).append(",\"window_s\":").append(f2(seconds));

        if (doFma) {
            List<FmaKernel> ks = new ArrayList<>();
            ks.add(new FmaKernel("preferred" + PREF.vectorBitSize() + "x12", PREF.length(), 12, JavaPeak::fma12Pref));
            ks.add(new FmaKernel("preferred" + PREF.vectorBitSize() + "x8", PREF.length(), 8, JavaPeak::fma8Pref));
            if (PREF.vectorBitSize() != 256)
                ks.add(new FmaKernel("species256x12", S256.length(), 12, JavaPeak::fma12S256));
            System.err.printf("%-18s %-7s %12s %12s %8s%n", "kernel", "threads", "best GF/s", "median", "foreign");
            js.append(",\"fma\":[");
            boolean first = true;
            for (FmaKernel k : ks) {
                for (int t : threads) {
                    Stat s = fmaPeak(k, t, seconds, reps);
                    System.err.printf(Locale.ROOT, "%-18s %-7d %12.1f %12.1f %8.2f%n", k.name(), t, s.best(), s.median(), s.foreign());
                    js.append(first ? "" : ",").append("{\"kernel\":\"").append(k.name()).append("\",\"lanes\":").append(k.lanes())
                            .append(",\"accumulators\":").append(k.accs()).append(",\"threads\":").append(t)
                            .append(",\"gflops_best\":").append(f2(s.best())).append(",\"gflops_median\":").append(f2(s.median()))
                            .append(",\"foreign_cores\":").append(f2(s.foreign())).append('}');
                    first = false;
                }
            }
            js.append(']');
        }
        if (doBw) {
            int n = (int) Math.min(Integer.MAX_VALUE - 64, (long) (mib * 1024 * 1024 / 4));
            float[] a = new float[n], b = new float[n], c = new float[n];
            Arrays.fill(a, 1f); Arrays.fill(b, 2f); Arrays.fill(c, 0.5f);
            System.err.printf(Locale.ROOT, "%-18s %-7s %12s %12s %8s   (float[] 3 x %.0f MiB; bytes without write-allocate)%n",
                    "stream", "threads", "best GB/s", "median", "foreign", mib);
            js.append(",\"bw_array_mib\":").append(f2(mib))
                    .append(",\"bw_bytes\":\"without write-allocate: copy 8 B/elem, triad 12 B/elem\",\"bw\":[");
            boolean first = true;
            for (int t : threads) {
                for (boolean isCopy : new boolean[] {true, false}) {
                    Stat s = stream(isCopy, a, b, c, t, reps);
                    String nm = isCopy ? "copy" : "triad";
                    System.err.printf(Locale.ROOT, "%-18s %-7d %12.1f %12.1f %8.2f%n", nm, t, s.best(), s.median(), s.foreign());
                    js.append(first ? "" : ",").append("{\"kernel\":\"").append(nm).append("\",\"threads\":").append(t)
                            .append(",\"gbs_best\":").append(f2(s.best())).append(",\"gbs_median\":").append(f2(s.median()))
                            .append(",\"foreign_cores\":").append(f2(s.foreign())).append('}');
                    first = false;
                }
            }
            js.append(']');
        }
        js.append('}');
        System.out.println(js);
    }
}
