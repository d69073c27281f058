import dev.metaprune.kernels.Parallel;
import dev.metaprune.latency.NetworkTimer;
import dev.metaprune.latency.TimingSettings;
import dev.metaprune.nn.arch.Architectures;

/** Several executors (fresh arrays) in one JVM, each timed, then the first again: layout vs. JIT vs. machine. */
public class ProbeLayout {
    static String cpu() {
        try {
            String st = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/thread-self/stat"));
            String[] f = st.substring(st.lastIndexOf(')') + 2).split(" ");
            return f[36];   // field 39 'processor' (fields counted from 'state' = 3)
        } catch (Exception e) {
            return "?";
        }
    }

    public static void main(String[] a) {
        Parallel.setThreads(1);
        var arch = Architectures.get("mobilenetv1", 3, 224, 1000);
        var w = arch.widthsForMultiplier(0.5);
        var s = new TimingSettings(0, 150, 150, 0.02, 30).withClock(TimingSettings.Clock.THREAD_CPU);
        NetworkTimer[] ts = new NetworkTimer[4];
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < ts.length; i++) {
            ts[i] = new NetworkTimer(arch, 1);
            ts[i].warmUp(w, 10);
            sb.append(String.format(" t%d %.3f @cpu%s", i, ts[i].time(w, s).medianMs(), cpu()));
        }
        for (int i = 0; i < ts.length; i++) {
            sb.append(String.format(" | t%d %.3f @cpu%s", i, ts[i].time(w, s).medianMs(), cpu()));
        }
        System.out.println(sb);
    }
}
