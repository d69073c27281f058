package dev.metaprune.cuda;

import dev.metaprune.kernels.CpuKernels;
import dev.metaprune.kernels.Kernels;
import dev.metaprune.tensor.Tensor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A checking backend ({@code -Dmetaprune.backend=cuda-verify}): every kernel call runs on the CPU and
 * on the GPU from the same inputs; the largest relative difference of every array the call may have
 * written is recorded per operation, and the CPU's result is kept so that differences do not
 * compound. It finds which operation of a real workload (a PruningNet step, a search evaluation)
 * disagrees; {@link #report()} lists the worst difference per operation.
 */
public final class VerifyingKernels {
    private static final Map<String, double[]> WORST = new TreeMap<>();   // op -> {max rel err, calls}
    private static double threshold = Double.parseDouble(System.getProperty("metaprune.verify.threshold", "1e-4"));

    private VerifyingKernels() {
    }

    public static Kernels create() {
        Kernels cpu = new CpuKernels();
        Kernels gpu = CudaKernels.create();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> System.out.print(report())));
        return (Kernels) Proxy.newProxyInstance(Kernels.class.getClassLoader(), new Class<?>[] {Kernels.class},
                (proxy, m, args) -> invoke(cpu, gpu, m, args));
    }

    private static Object call(Kernels k, Method m, Object[] args) throws Throwable {
        try {
            return m.invoke(k, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    private static Object invoke(Kernels cpu, Kernels gpu, Method m, Object[] args) throws Throwable {
        if (args == null || m.getName().equals("countTopK")) {
            return m.getName().equals("name") ? "cuda-verify"
                    : m.getName().equals("describe") ? "cuda-verify: CPU and " + gpu.describe() : call(cpu, m, args);
        }
        // every backing array an argument reaches: snapshot, run the CPU, keep its result, restore, run the GPU
        IdentityHashMap<Object, Object> arrays = new IdentityHashMap<>();
        for (Object a : args) {
            if (a instanceof Tensor t) {
                arrays.put(t.data(), t.data().clone());
            } else if (a instanceof int[] ia) {
                arrays.put(ia, ia.clone());
            }
        }
        Object rc = call(cpu, m, args);
        List<Object> keys = new ArrayList<>(arrays.keySet());
        List<Object> cpuOut = new ArrayList<>();
        for (Object k : keys) {
            cpuOut.add(k instanceof float[] f ? f.clone() : ((int[]) k).clone());
            restore(k, arrays.get(k));
        }
        Object rg = call(gpu, m, args);
        double worst = 0;
        StringBuilder which = new StringBuilder();
        for (int i = 0; i < keys.size(); i++) {
            Object k = keys.get(i);
            if (k instanceof float[] g) {
                double e = relErr(g, (float[]) cpuOut.get(i));
                if (!(e <= threshold)) {
                    for (int a = 0; a < args.length; a++) {
                        if (args[a] instanceof Tensor t && t.data() == g) {
                            Tensor want = Tensor.view((float[]) cpuOut.get(i), t.offset(), t.ld(), t.shape());
                            which.append(" arg").append(a).append(":").append(String.format("%.2e", rowsErr(t, want)));
                            which.append(t.numel() < 8 ? "" : String.format(" [gpu %g %g cpu %g %g]", g[t.offset()],
                                    g[t.offset() + 1], want.data()[t.offset()], want.data()[t.offset() + 1]));
                        }
                    }
                }
                worst = Math.max(worst, e);
            } else if (!java.util.Arrays.equals((int[]) k, (int[]) cpuOut.get(i))) {
                worst = Double.POSITIVE_INFINITY;
            }
            restore(k, cpuOut.get(i));   // continue from the CPU's result
        }
        if (rc instanceof Float fc && rg instanceof Float fg) {
            worst = Math.max(worst, Math.abs(fc - fg) / Math.max(1e-30, Math.abs(fc)));
        }
        synchronized (WORST) {
            double[] w = WORST.computeIfAbsent(m.getName(), x -> new double[2]);
            if (!(worst <= w[0])) {
                w[0] = worst;
            }
            w[1]++;
        }
        if (!(worst <= threshold)) {
            StringBuilder sb = new StringBuilder("verify: " + m.getName() + " rel.err " + String.format("%.3e", worst)
                    + which + " |");
            for (Object a : args) {
                sb.append(' ').append(a instanceof Tensor t ? java.util.Arrays.toString(t.shape()) + "ld" + t.ld()
                        : a instanceof int[] ? "int[]" : String.valueOf(a));
            }
            System.out.println(sb);
        }
        return rc;
    }

    private static void restore(Object k, Object v) {
        if (k instanceof float[] f) {
            System.arraycopy((float[]) v, 0, f, 0, f.length);
        } else {
            int[] a = (int[]) k;
            System.arraycopy((int[]) v, 0, a, 0, a.length);
        }
    }

    private static double relErr(float[] a, float[] b) {
        double num = 0, den = 0;
        for (int i = 0; i < a.length; i++) {
            double d = (double) a[i] - b[i];
            if (Float.isNaN(a[i]) != Float.isNaN(b[i])) {
                return Double.POSITIVE_INFINITY;
            }
            if (!Float.isNaN(a[i])) {
                num += d * d;
                den += (double) b[i] * b[i];
            }
        }
        return den == 0 ? (num == 0 ? 0 : Double.POSITIVE_INFINITY) : Math.sqrt(num / den);
    }

    private static double rowsErr(Tensor got, Tensor want) {
        double num = 0, den = 0;
        for (int r = 0; r < want.rows(); r++) {
            for (int j = 0; j < want.cols(); j++) {
                double a = got.data()[got.rowOffset(r) + j], b = want.data()[want.rowOffset(r) + j];
                num += (a - b) * (a - b);
                den += b * b;
            }
        }
        return den == 0 ? (num == 0 ? 0 : Double.POSITIVE_INFINITY) : Math.sqrt(num / den);
    }

    /** The worst relative difference per operation so far. */
    public static String report() {
        StringBuilder sb = new StringBuilder("verify summary (worst relative difference GPU vs CPU per operation):\n");
        synchronized (WORST) {
            for (Map.Entry<String, double[]> e : WORST.entrySet()) {
                sb.append(String.format("  %-28s %.3e over %d calls%n", e.getKey(), e.getValue()[0], (long) e.getValue()[1]));
            }
        }
        return sb.toString();
    }
}
