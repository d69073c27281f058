package dev.metaprune.latency;

import dev.metaprune.nn.Network;
import dev.metaprune.nn.arch.Architecture;
import dev.metaprune.nn.arch.Op;
import dev.metaprune.nn.arch.Value;
import dev.metaprune.nn.arch.Widths;
import dev.metaprune.tensor.Init;
import dev.metaprune.tensor.Tensor;

/**
 * Times whole networks end to end: the network executor ({@link Network}, inference only, BatchNorm with running
 * statistics) on one preallocated random batch, at any width configuration of the architecture. What a latency table
 * predicts is checked against this.
 */
public final class NetworkTimer {
    private final Network net;
    private final Tensor x;

    /** An executor for {@code arch} at batch {@code batch} with random weights at the widest widths. */
    public NetworkTimer(Architecture arch, int batch) {
        this(arch, batch, dev.metaprune.kernels.Kernels.get());
    }

    /** As {@link #NetworkTimer(Architecture, int)} on the backend {@code k}; each pass ends synchronised. */
    public NetworkTimer(Architecture arch, int batch, dev.metaprune.kernels.Kernels k) {
        net = Network.forInference(arch, batch, k);
        for (int i = 0; i < arch.ops().size(); i++) {
            Op op = arch.ops().get(i);
            new Buffers.OpParams(op, i, 42).into(net.params(), i);
        }
        Value in = arch.value(0);
        x = Tensor.zeros(batch, in.height(), in.width(), in.channels().base());
        Init.normal(x, 0f, 1f, 7);
    }

    /** Runs forward passes at {@code widths} until their time settles, at most {@code maxSeconds}. */
    public int warmUp(Widths widths, double maxSeconds) {
        return TimingSettings.warmUntilSettled(() -> pass(widths), maxSeconds, 300);
    }

    /** The median time of one forward pass at {@code widths}. */
    public Measurement time(Widths widths, TimingSettings settings) {
        return settings.measure(() -> pass(widths));
    }

    private void pass(Widths widths) {
        net.forward(x, widths, Network.BnMode.EVAL);
        net.kernels().synchronize();
    }
}
