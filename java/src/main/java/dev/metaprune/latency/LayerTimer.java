package dev.metaprune.latency;

import dev.metaprune.kernels.Conv2dSpec;
import dev.metaprune.kernels.Kernels;
import dev.metaprune.nn.Network;
import dev.metaprune.nn.arch.Architecture;
import dev.metaprune.nn.arch.Channels;
import dev.metaprune.nn.arch.Op;
import dev.metaprune.nn.arch.Value;
import dev.metaprune.tensor.Tensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Times one layer position on the kernel interface, forward only (inference: BatchNorm with running statistics), at
 * the batch size given, with the operations exactly as the network executor runs them (separate input and output
 * buffers per value, widest-width buffers used through leading-channel views). Buffers for a position are allocated
 * (and the inputs filled with random values) when it is first timed and reused for all its width pairs; nothing is
 * allocated inside the timed calls. The thread count is {@link dev.metaprune.kernels.Parallel}'s.
 */
public final class LayerTimer implements Profiler.EntryTimer {
    private final Architecture arch;
    private final int batch;
    private final Kernels k;
    private final TimingSettings settings;
    private final Map<String, Integer> opIndex = new HashMap<>();

    private String current;
    private Map<Integer, float[]> values;
    private Map<Integer, Buffers.OpParams> params;
    private Map<Integer, int[]> argmax;

    /** A timer for positions of {@code arch} at batch {@code batch}, on {@link Kernels#get()}. */
    public LayerTimer(Architecture arch, int batch, TimingSettings settings) {
        this(arch, batch, settings, Kernels.get());
    }

    /**
     * A timer for positions of {@code arch} at batch {@code batch} on the backend {@code k}. Each timed call ends with
     * {@link Kernels#synchronize()}, so a device backend's time is its work's, not its launches'.
     */
    public LayerTimer(Architecture arch, int batch, TimingSettings settings, Kernels k) {
        if (batch <= 0) {
            throw new IllegalArgumentException("batch size must be positive, got " + batch);
        }
        this.arch = arch;
        this.batch = batch;
        this.k = java.util.Objects.requireNonNull(k, "kernels");
        this.settings = settings;
        for (int i = 0; i < arch.ops().size(); i++) {
            opIndex.put(arch.ops().get(i).name(), i);
        }
    }

    @Override
    public Measurement time(LayerPosition p, int cin, int cout) {
        return settings.measure(prepare(p, cin, cout));
    }

    /**
     * Runs position {@code p} at {@code (cin, cout)} until its time settles (JIT compilation done), at least
     * {@code minCalls} calls or 0.5 s, at most {@code maxSeconds}; see {@link TimingSettings#warmUntilSettled}.
     */
    public int warmUp(LayerPosition p, int cin, int cout, double maxSeconds, int minCalls) {
        return TimingSettings.warmUntilSettled(prepare(p, cin, cout), maxSeconds, minCalls);
    }

    /** Drops the buffers of the position last timed (and a device backend's copies of them). */
    public void release() {
        if (current != null) {
            k.releaseDeviceCopies();
        }
        current = null;
        values = null;
        params = null;
        argmax = null;
    }

    /** The call that runs position {@code p} at widths {@code (cin, cout)} on preallocated buffers. */
    Runnable prepare(LayerPosition p, int cin, int cout) {
        if (!p.name().equals(current)) {
            allocate(p);
        }
        List<Runnable> calls = new ArrayList<>();
        Map<Integer, Tensor> views = new HashMap<>();
        for (String name : p.ops()) {
            int i = opIndex(name);
            Op op = arch.ops().get(i);
            Buffers.OpParams w = params.get(i);
            Tensor y = view(views, p, op.output(), cin, cout);
            switch (op) {
                case Op.Conv c -> {
                    Tensor x = view(views, p, c.input(), cin, cout);
                    int ci = x.cols(), co = y.cols();
                    Conv2dSpec spec = Conv2dSpec.of(ci, co, c.kernel(), c.stride(), c.padding(), c.groups(ci));
                    calls.add(() -> k.conv2dForward(x, w.weight, null, y, spec));
                }
                case Op.BatchNorm b -> {
                    Tensor x = view(views, p, b.input(), cin, cout);
                    int ch = x.cols();
                    Tensor g = Buffers.lead(w.gamma, ch), be = Buffers.lead(w.beta, ch);
                    Tensor rm = Buffers.lead(w.runMean, ch), rv = Buffers.lead(w.runVar, ch);
                    calls.add(() -> k.batchNormInferenceForward(x, g, be, rm, rv, Network.BN_EPS, y));
                }
                case Op.Activation a -> {
                    Tensor x = view(views, p, a.input(), cin, cout);
                    if (a.function() == Op.Activation.Function.RELU) {
                        calls.add(() -> k.relu(x, y));
                    } else {
                        calls.add(() -> k.relu6(x, y));
                    }
                }
                case Op.Add a -> {
                    Tensor xa = view(views, p, a.a(), cin, cout), xb = view(views, p, a.b(), cin, cout);
                    calls.add(() -> k.add(xa, xb, y));
                }
                case Op.MaxPool m -> {
                    Tensor x = view(views, p, m.input(), cin, cout);
                    int[] am = argmax.get(i);
                    calls.add(() -> k.maxPoolForward(x, y, am, m.kernel(), m.stride(), m.padding()));
                }
                case Op.GlobalAvgPool g -> {
                    Tensor x = view(views, p, g.input(), cin, cout);
                    calls.add(() -> k.globalAvgPoolForward(x, y));
                }
                case Op.Linear l -> {
                    Tensor x = view(views, p, l.input(), cin, cout);
                    calls.add(() -> k.linearForward(x, w.weight, w.bias, y));
                }
            }
        }
        Runnable[] seq = calls.toArray(new Runnable[0]);
        return () -> {
            for (Runnable r : seq) {
                r.run();
            }
            k.synchronize();
        };
    }

    private int opIndex(String name) {
        Integer i = opIndex.get(name);
        if (i == null) {
            throw new IllegalArgumentException(arch.name() + " has no operation " + name);
        }
        return i;
    }

    private Tensor view(Map<Integer, Tensor> views, LayerPosition p, int valueId, int cin, int cout) {
        Tensor t = views.get(valueId);
        if (t == null) {
            t = Buffers.view(arch, values.get(valueId), valueId, batch, widthOf(p, arch.value(valueId), cin, cout));
            views.put(valueId, t);
        }
        return t;
    }

    private static int widthOf(LayerPosition p, Value v, int cin, int cout) {
        Channels c = v.channels();
        LayerPosition.Dim d = LayerPosition.Dim.of(c);
        if (d.equals(p.in())) {
            return cin;
        }
        if (d.equals(p.out())) {
            return cout;
        }
        if (!c.isGene()) {
            return c.base();
        }
        throw new IllegalStateException(p.name() + ": value " + v.id() + " (" + c.label() + ") is neither its input"
                + " nor its output width");
    }

    private void allocate(LayerPosition p) {
        release(); // let the previous position's buffers go first
        values = new LinkedHashMap<>();
        params = new HashMap<>();
        argmax = new HashMap<>();
        List<Integer> produced = new ArrayList<>();
        for (String name : p.ops()) {
            int i = opIndex(name);
            Op op = arch.ops().get(i);
            for (int in : op.inputs()) {
                if (!produced.contains(in) && !values.containsKey(in)) {
                    values.put(in, Buffers.value(arch, in, batch, true, 1000L + in));
                }
            }
            values.put(op.output(), Buffers.value(arch, op.output(), batch, false, 0));
            produced.add(op.output());
            params.put(i, new Buffers.OpParams(op, i, 42));
            if (op instanceof Op.MaxPool) {
                argmax.put(i, new int[values.get(op.output()).length]);
            }
        }
        current = p.name();
    }
}
