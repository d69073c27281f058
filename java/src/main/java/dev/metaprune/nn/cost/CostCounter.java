package dev.metaprune.nn.cost;

import dev.metaprune.kernels.Conv2dSpec;
import dev.metaprune.nn.arch.Architecture;
import dev.metaprune.nn.arch.Op;
import dev.metaprune.nn.arch.Value;
import dev.metaprune.nn.arch.Widths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Counts FLOPs and parameters the way the MetaPruning, MobileNet and ResNet papers report them.
 *
 * <p><b>FLOPs</b> = multiply-adds (one multiply-add = one "FLOP") of every convolution
 * ({@code outH * outW * cOut * cIn / groups * k * k}) and of the classifier ({@code in * out}). Not counted: batch
 * norm, activations, pooling, residual additions, biases. This gives MobileNetV1 1.0 = 568.7 M, MobileNetV2 1.0 =
 * 300.8 M (torchvision layout), ResNet-50 = 4.09 G. (The official search scripts' {@code print_model_parm_flops} adds
 * BN, ReLU and pooling element counts and the FC bias: a looser total, not used here.)
 *
 * <p><b>Parameters</b> = conv weights + batch-norm gamma and beta (2 per channel) + classifier weight and bias, i.e.
 * the stand-alone (retrained) network's trainable parameters as {@code sum(p.numel() for p in model.parameters())}
 * counts them in PyTorch (ResNet-50 25,557,032; MobileNetV2 torchvision 3,504,872). The PruningNet's generators are
 * not counted. {@link CostReport} keeps the three parts apart, so BN-free totals are one subtraction away.
 */
public final class CostCounter {
    private CostCounter() {
    }

    /** Counts a width configuration. */
    public static CostReport count(Widths widths) {
        Architecture arch = widths.architecture();
        // batch norms by the conv value they normalise
        Map<Integer, Op.BatchNorm> bnByInput = new HashMap<>();
        for (Op op : arch.ops()) {
            if (op instanceof Op.BatchNorm bn) {
                bnByInput.put(bn.input(), bn);
            }
        }
        List<LayerCost> layers = new ArrayList<>();
        long flops = 0, conv = 0, bnp = 0, fc = 0;
        for (Op op : arch.ops()) {
            if (op instanceof Op.Conv c) {
                Conv2dSpec s = widths.conv(c);
                Value out = arch.value(c.output());
                long macs = s.macs(out.height(), out.width());
                long w = (long) s.cOut() * (s.cIn() / s.groups()) * s.kh() * s.kw();
                Op.BatchNorm bn = bnByInput.get(c.output());
                long b = bn == null ? 0 : 2L * widths.of(bn.channels());
                layers.add(new LayerCost(c.name(), "conv " + c.kind().name().toLowerCase(java.util.Locale.ROOT),
                        s.toString(), out.height(), out.width(), macs, w, b));
                flops += macs;
                conv += w;
                bnp += b;
            } else if (op instanceof Op.Linear l) {
                int in = widths.of(l.in());
                long macs = (long) in * l.outFeatures();
                long p = macs + l.outFeatures();
                layers.add(new LayerCost(l.name(), "fc", in + "->" + l.outFeatures(), 1, 1, macs, p, 0));
                flops += macs;
                fc += p;
            } else if (op instanceof Op.BatchNorm bn && !isConvOutput(arch, bn.input())) {
                bnp += 2L * widths.of(bn.channels()); // none in these families; kept for completeness
            }
        }
        return new CostReport(widths, layers, flops, conv, bnp, fc);
    }

    private static boolean isConvOutput(Architecture arch, int valueId) {
        for (Op op : arch.ops()) {
            if (op instanceof Op.Conv c && c.output() == valueId) {
                return true;
            }
        }
        return false;
    }
}
