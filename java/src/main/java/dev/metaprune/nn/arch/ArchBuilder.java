package dev.metaprune.nn.arch;

import dev.metaprune.nn.arch.Channels.MultiplierRule;
import java.util.ArrayList;
import java.util.List;

/** Assembles an {@link Architecture}: dimensions, gene positions, values with spatial sizes, operations. */
final class ArchBuilder {
    private final String name;
    private final InputSpec input;
    private final List<Channels> channels = new ArrayList<>();
    private final List<Value> values = new ArrayList<>();
    private final List<Op> ops = new ArrayList<>();
    private final List<GeneSpace.Position> positions = new ArrayList<>();

    ArchBuilder(String name, InputSpec input) {
        this.name = name;
        this.input = input;
        Channels image = fixed("input", input.channels(), MultiplierRule.FIXED);
        values.add(new Value(0, image, input.size(), input.size()));
    }

    /** The image value (id 0). */
    int image() {
        return 0;
    }

    /** A new gene position choosing a dimension of maximum width {@code base}. {@code tieTo}: an earlier position, or -1. */
    Channels gene(String label, int base, int reference, int tieTo) {
        int pos = positions.size();
        int leader = tieTo < 0 ? pos : positions.get(tieTo).tieLeader();
        positions.add(new GeneSpace.Position(pos, label, base, leader));
        Channels c = new Channels(channels.size(), label, base, pos, reference, MultiplierRule.SCALED);
        channels.add(c);
        return c;
    }

    /** A fixed dimension; {@code rule} says what a width multiplier does to it. */
    Channels fixed(String label, int width, MultiplierRule rule) {
        Channels c = new Channels(channels.size(), label, width, -1, width, rule);
        channels.add(c);
        return c;
    }

    Value value(int id) {
        return values.get(id);
    }

    private int newValue(Channels c, int h, int w) {
        Value v = new Value(values.size(), c, h, w);
        values.add(v);
        return v.id();
    }

    /** A convolution from value {@code in} to dimension {@code out}; returns the new value. */
    int conv(String opName, int in, Op.ConvKind kind, Channels out, int k, int stride, int pad, int hidden,
             Channels... generatorInputs) {
        Value x = values.get(in);
        Channels cin = x.channels();
        if (kind == Op.ConvKind.DEPTHWISE && out != cin) {
            throw new IllegalStateException(opName + ": depthwise output must be its input dimension");
        }
        int oh = outSize(opName, x.height(), k, stride, pad), ow = outSize(opName, x.width(), k, stride, pad);
        long inPerGroup = kind == Op.ConvKind.DEPTHWISE ? 1 : cin.base();
        GeneratorSpec gen = new GeneratorSpec(List.of(generatorInputs), hidden, out.base() * inPerGroup * k * k);
        int y = newValue(out, oh, ow);
        ops.add(new Op.Conv(opName, in, y, kind, k, stride, pad, cin, out, gen));
        return y;
    }

    int bn(String opName, int in, boolean affineInPruningNet, Channels statsKey) {
        Value x = values.get(in);
        int y = newValue(x.channels(), x.height(), x.width());
        ops.add(new Op.BatchNorm(opName, in, y, x.channels(), affineInPruningNet, statsKey));
        return y;
    }

    int act(String opName, int in, Op.Activation.Function f) {
        Value x = values.get(in);
        int y = newValue(x.channels(), x.height(), x.width());
        ops.add(new Op.Activation(opName, in, y, f));
        return y;
    }

    /** conv, BN (statistics keyed by the output dimension), optional activation. */
    int convBnAct(String opName, int in, Op.ConvKind kind, Channels out, int k, int stride, int pad, int hidden,
                  boolean affine, Op.Activation.Function f, Channels... generatorInputs) {
        int y = conv(opName, in, kind, out, k, stride, pad, hidden, generatorInputs);
        y = bn(opName + ".bn", y, affine, out);
        return f == null ? y : act(opName + "." + f.name().toLowerCase(java.util.Locale.ROOT), y, f);
    }

    /**
     * A residual block's end: the shortcut ({@code x} itself, or with {@code project} a 1x1 conv + BN of stride
     * {@code stride} into {@code out}, named {@code prefix.downsample}), added to the branch output {@code y}, then
     * ReLU. Returns the block's output.
     */
    int residualEnd(String prefix, int x, int y, boolean project, Channels out, int stride, int hidden,
                    Channels... generatorInputs) {
        int identity = x;
        if (project) {
            identity = convBnAct(prefix + ".downsample", x, Op.ConvKind.POINTWISE, out, 1, stride, 0, hidden, false,
                    null, generatorInputs);
        }
        return act(prefix + ".relu", add(prefix + ".add", identity, y), Op.Activation.Function.RELU);
    }

    int add(String opName, int a, int b) {
        Value va = values.get(a), vb = values.get(b);
        if (va.height() != vb.height() || va.width() != vb.width() || va.channels().base() != vb.channels().base()) {
            throw new IllegalStateException(opName + ": residual operands differ in shape");
        }
        int y = newValue(vb.channels(), vb.height(), vb.width());
        ops.add(new Op.Add(opName, a, b, y));
        return y;
    }

    int maxPool(String opName, int in, int k, int stride, int pad) {
        Value x = values.get(in);
        int y = newValue(x.channels(), outSize(opName, x.height(), k, stride, pad), outSize(opName, x.width(), k, stride, pad));
        ops.add(new Op.MaxPool(opName, in, y, k, stride, pad));
        return y;
    }

    int globalAvgPool(String opName, int in) {
        int y = newValue(values.get(in).channels(), 1, 1);
        ops.add(new Op.GlobalAvgPool(opName, in, y));
        return y;
    }

    int linear(String opName, int in, int classes) {
        Channels out = fixed("classes", classes, MultiplierRule.FIXED);
        int y = newValue(out, 1, 1);
        ops.add(new Op.Linear(opName, in, y, values.get(in).channels(), classes));
        return y;
    }

    private int outSize(String opName, int in, int k, int stride, int pad) {
        if (in + 2 * pad < k) {
            throw new IllegalArgumentException(name + ": input size " + input.size() + " is too small: " + opName
                    + " sees " + in + " pixels (padding " + pad + ") for a " + k + "x" + k + " kernel");
        }
        return (in + 2 * pad - k) / stride + 1;
    }

    Architecture build(Architecture.Family family, String description) {
        return new Architecture(name, family, description, input, channels, values, ops,
                new GeneSpace(name, positions));
    }
}
