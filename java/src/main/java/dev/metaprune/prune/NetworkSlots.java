package dev.metaprune.prune;

import dev.metaprune.nn.Network;
import dev.metaprune.nn.arch.Op;
import dev.metaprune.tensor.Tensor;
import java.util.List;
import java.util.Map;

/** Points an executor's parameter slots at a dense weight map (names as {@link dev.metaprune.nn.DenseModel}). */
public final class NetworkSlots {
    private NetworkSlots() {
    }

    public static void fill(Network net, Map<String, Tensor> weights) {
        Network.Params p = net.params();
        List<Op> ops = net.architecture().ops();
        for (int i = 0; i < ops.size(); i++) {
            switch (ops.get(i)) {
                case Op.Conv c -> p.weight[i] = need(weights, c.name() + ".weight");
                case Op.BatchNorm b -> {
                    p.gamma[i] = need(weights, b.name() + ".weight");
                    p.beta[i] = need(weights, b.name() + ".bias");
                    p.runMean[i] = need(weights, b.name() + ".running_mean");
                    p.runVar[i] = need(weights, b.name() + ".running_var");
                }
                case Op.Linear l -> {
                    p.weight[i] = need(weights, l.name() + ".weight");
                    p.bias[i] = need(weights, l.name() + ".bias");
                }
                default -> {
                }
            }
        }
    }

    private static Tensor need(Map<String, Tensor> m, String name) {
        Tensor t = m.get(name);
        if (t == null) {
            throw new IllegalArgumentException("no tensor '" + name + "'");
        }
        return t;
    }
}
