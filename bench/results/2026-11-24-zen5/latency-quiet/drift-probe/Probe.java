import dev.metaprune.kernels.Parallel;
import dev.metaprune.latency.NetworkTimer;
import dev.metaprune.nn.arch.Architectures;
import dev.metaprune.nn.Network;
import java.lang.management.ManagementFactory;

/** Times one network pass after another for N seconds: per-pass cpu and wall time, to see slow spells over time. */
public class Probe {
    public static void main(String[] a) throws Exception {
        Parallel.setThreads(1);
        var arch = Architectures.get(a[0], 3, 224, 1000);
        int batch = Integer.parseInt(a[1]);
        double seconds = Double.parseDouble(a[2]);
        var nt = new NetworkTimer(arch, batch);
        var w = arch.widthsForMultiplier(0.49);
        var tm = ManagementFactory.getThreadMXBean();
        long t0 = System.nanoTime();
        nt.warmUp(w, 20);
        while ((System.nanoTime() - t0) / 1e9 < seconds) {
            long c = tm.getCurrentThreadCpuTime(), s = System.nanoTime();
            nt.time(w, new dev.metaprune.latency.TimingSettings(0, 1, 1, 0.02, 10));
            System.out.printf("%.2f %.2f %.2f%n", (s - t0) / 1e9, (tm.getCurrentThreadCpuTime() - c) / 1e6, (System.nanoTime() - s) / 1e6);
        }
    }
}
