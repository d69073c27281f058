package dev.metaprune.nn.arch;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A network family at a given input shape, as data: the {@link Channels} dimensions (each chosen by a gene position
 * or fixed), the {@link Value}s (tensors, with their spatial sizes) and the {@link Op}s in execution order. Nothing
 * here holds weights: a {@link Widths} picks the channel counts, and an executor (or the FLOPs counter) walks
 * {@link #ops()}.
 *
 * <p>Built by {@link Architectures}; immutable.
 */
public final class Architecture {
    /** The three MetaPruning families. */
    public enum Family {
        MOBILENET_V1, MOBILENET_V2, RESNET
    }

    private final String name;
    private final Family family;
    private final String description;
    private final InputSpec input;
    private final List<Channels> channels;
    private final List<Value> values;
    private final List<Op> ops;
    private final GeneSpace geneSpace;

    Architecture(String name, Family family, String description, InputSpec input, List<Channels> channels,
                 List<Value> values, List<Op> ops, GeneSpace geneSpace) {
        this.name = Objects.requireNonNull(name);
        this.family = family;
        this.description = description;
        this.input = input;
        this.channels = List.copyOf(channels);
        this.values = List.copyOf(values);
        this.ops = List.copyOf(ops);
        this.geneSpace = geneSpace;
    }

    /** The canonical name, e.g. {@code "mobilenetv2-cifar"}; genes carry it. */
    public String name() {
        return name;
    }

    public Family family() {
        return family;
    }

    /** One paragraph: layout, strides, what is fixed. */
    public String description() {
        return description;
    }

    public InputSpec input() {
        return input;
    }

    /** Every channel dimension, indexed by {@link Channels#id()}; 0 is the image. */
    public List<Channels> channels() {
        return channels;
    }

    /** Every tensor, indexed by {@link Value#id()}; 0 is the image, the last is the logits. */
    public List<Value> values() {
        return values;
    }

    public Value value(int id) {
        return values.get(id);
    }

    /** The logits value. */
    public Value output() {
        return values.get(values.size() - 1);
    }

    /** Operations in execution order. */
    public List<Op> ops() {
        return ops;
    }

    /** The convolutions in execution order (each has one PruningNet generator). */
    public List<Op.Conv> convs() {
        List<Op.Conv> out = new ArrayList<>();
        for (Op op : ops) {
            if (op instanceof Op.Conv c) {
                out.add(c);
            }
        }
        return out;
    }

    /** The operation of that name. */
    public Op op(String opName) {
        for (Op op : ops) {
            if (op.name().equals(opName)) {
                return op;
            }
        }
        throw new IllegalArgumentException(name + " has no operation named '" + opName + "'");
    }

    public GeneSpace geneSpace() {
        return geneSpace;
    }

    /** The widths a gene (scale indices by position) selects. */
    public Widths widthsForGene(int[] indices) {
        return Widths.forGene(this, indices);
    }

    /** The uniform width-multiplier network ({@code m = 1.0}: the paper's 1.0x network). */
    public Widths widthsForMultiplier(double m) {
        return Widths.uniform(this, m);
    }

    @Override
    public String toString() {
        return name + " (" + input + ", " + convs().size() + " convs, gene of " + geneSpace.length() + ")";
    }
}
