package dev.metaprune.cli;

import dev.metaprune.kernels.Gemm;
import dev.metaprune.kernels.Kernels;
import dev.metaprune.kernels.Parallel;
import dev.metaprune.kernels.Vec;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Prints the runtime, the selected backend, and a quick GEMM throughput figure. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Show the JDK, vector width, threads and kernel backend, and time a 1024^3 SGEMM.")
public final class InfoCommand implements Callable<Integer> {
    @Option(names = "--threads", description = "Kernel threads (default: all cores).")
    Integer threads;

    @Option(names = "--no-gemm", description = "Skip the SGEMM timing.")
    boolean noGemm;

    @Override
    public Integer call() {
        if (threads != null) {
            Parallel.setThreads(threads);
        }
        System.out.println("MetaPrune " + VersionInfo.version());
        System.out.println("JDK:      " + Runtime.version() + " (" + System.getProperty("java.vendor") + ")");
        System.out.println("CPU:      " + System.getProperty("os.arch") + ", " + Runtime.getRuntime().availableProcessors()
                + " cores");
        System.out.println("vectors:  " + Vec.describe());
        System.out.println("backend:  " + Kernels.get().describe());
        if (!noGemm) {
            int n = 1024;
            float[] a = new float[n * n], b = new float[n * n], c = new float[n * n];
            SplittableRandom r = new SplittableRandom(1);
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) r.nextDouble();
                b[i] = (float) r.nextDouble();
            }
            double best = Double.MAX_VALUE;
            for (int it = 0; it < 8; it++) {
                long t0 = System.nanoTime();
                Gemm.sgemm(false, false, n, n, n, 1f, a, 0, n, b, 0, n, 0f, c, 0, n);
                best = Math.min(best, (System.nanoTime() - t0) * 1e-9);
            }
            System.out.printf("sgemm:    1024^3 best of 8: %.2f ms, %.1f GFLOP/s (indicative; JMH in bench/ is the measurement)%n",
                    best * 1e3, 2.0 * n * n * n / best * 1e-9);
        }
        return 0;
    }
}
