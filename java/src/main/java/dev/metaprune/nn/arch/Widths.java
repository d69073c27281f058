package dev.metaprune.nn.arch;

import dev.metaprune.kernels.Conv2dSpec;
import java.util.Arrays;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * A width configuration of an {@link Architecture}: the channel count of every {@link Channels} dimension, derived
 * either from a gene (scale index per gene position; fixed dimensions at their base) or from a uniform width
 * multiplier (the papers' "0.5x" baselines; see {@link Channels.MultiplierRule}). Immutable.
 */
public final class Widths {
    private final Architecture arch;
    private final int[] byChannels;
    private final int[] geneIndices; // null for a multiplier configuration
    private final double multiplier; // NaN for a gene configuration

    private Widths(Architecture arch, int[] byChannels, int[] geneIndices, double multiplier) {
        this.arch = arch;
        this.byChannels = byChannels;
        this.geneIndices = geneIndices;
        this.multiplier = multiplier;
        for (Channels c : arch.channels()) {
            if (byChannels[c.id()] <= 0) {
                throw new IllegalArgumentException(arch.name() + ": " + describe() + " leaves " + c.label()
                        + " (reference " + c.reference() + ") with " + byChannels[c.id()] + " channels");
            }
        }
        for (Op op : arch.ops()) {
            if (op instanceof Op.Add add) {
                int wa = of(arch.value(add.a()).channels()), wb = of(arch.value(add.b()).channels());
                if (wa != wb) {
                    throw new IllegalArgumentException(arch.name() + ": residual " + add.name() + " adds " + wa
                            + " and " + wb + " channels (" + arch.value(add.a()).channels().label() + " vs "
                            + arch.value(add.b()).channels().label() + ")");
                }
            }
        }
    }

    /**
     * An explicit configuration: the width of every dimension, indexed by {@link Channels#id()} (what pruning a dense
     * network produces: any count from 1 to the dimension's base, fixed dimensions at their base). Residual operands
     * must agree, as for any configuration.
     */
    public static Widths explicit(Architecture arch, int[] byChannels) {
        if (byChannels.length != arch.channels().size()) {
            throw new IllegalArgumentException(arch.name() + " has " + arch.channels().size() + " channel dimensions, "
                    + byChannels.length + " widths given");
        }
        for (Channels c : arch.channels()) {
            int w = byChannels[c.id()];
            if (w > c.base()) {
                throw new IllegalArgumentException(arch.name() + ": " + c.label() + " has at most " + c.base()
                        + " channels, " + w + " given");
            }
            if (!c.isGene() && w != c.base()) {
                throw new IllegalArgumentException(arch.name() + ": " + c.label() + " is fixed at " + c.base()
                        + " channels, " + w + " given");
            }
        }
        return new Widths(arch, byChannels.clone(), null, Double.NaN);
    }

    /** The widths a gene selects. Validates the gene against the architecture's {@link GeneSpace}. */
    public static Widths forGene(Architecture arch, int[] indices) {
        arch.geneSpace().validate(indices);
        int[] w = new int[arch.channels().size()];
        for (Channels c : arch.channels()) {
            w[c.id()] = c.isGene() ? Scales.width(c.base(), indices[c.genePosition()]) : c.base();
        }
        return new Widths(arch, w, indices.clone(), Double.NaN);
    }

    /**
     * The uniform width-multiplier network: every dimension at {@code int(reference * m)} per its
     * {@link Channels.MultiplierRule}. {@code m} need not be one of the 31 gene scales (0.5, 0.75 are not).
     */
    public static Widths uniform(Architecture arch, double m) {
        if (!(m > 0) || m > 4 || Double.isNaN(m)) {
            throw new IllegalArgumentException("width multiplier must be in (0, 4], got " + m);
        }
        int[] w = new int[arch.channels().size()];
        for (Channels c : arch.channels()) {
            w[c.id()] = c.widthAtMultiplier(m);
        }
        return new Widths(arch, w, null, m);
    }

    public Architecture architecture() {
        return arch;
    }

    /** Channels of a dimension. */
    public int of(Channels c) {
        if (arch.channels().get(c.id()) != c) {
            throw new IllegalArgumentException(c.label() + " is not a dimension of " + arch.name());
        }
        return byChannels[c.id()];
    }

    /** Channels of a value (tensor). */
    public int ofValue(int valueId) {
        return byChannels[arch.value(valueId).channels().id()];
    }

    /** The geometry a convolution runs at under these widths (its weight is the leading crop of the maximum weight). */
    public Conv2dSpec conv(Op.Conv c) {
        int cin = of(c.in()), cout = of(c.out());
        return Conv2dSpec.of(cin, cout, c.kernel(), c.stride(), c.padding(), c.groups(cin));
    }

    /** Width per gene position (defined for multiplier configurations too). */
    public int[] positionWidths() {
        int[] w = new int[arch.geneSpace().length()];
        for (Channels c : arch.channels()) {
            if (c.isGene()) {
                w[c.genePosition()] = byChannels[c.id()];
            }
        }
        return w;
    }

    /** Width per dimension, indexed by {@link Channels#id()}. */
    public int[] all() {
        return byChannels.clone();
    }

    /** The gene's scale indices, when built from a gene. */
    public Optional<int[]> geneIndices() {
        return geneIndices == null ? Optional.empty() : Optional.of(geneIndices.clone());
    }

    /** The width multiplier, when built from one. */
    public OptionalDouble multiplier() {
        return geneIndices == null && !Double.isNaN(multiplier) ? OptionalDouble.of(multiplier) : OptionalDouble.empty();
    }

    /** {@code "gene 28,18,..."} or {@code "width multiplier 0.5"}. */
    public String describe() {
        if (geneIndices != null) {
            StringBuilder sb = new StringBuilder("gene ");
            for (int i = 0; i < geneIndices.length; i++) {
                sb.append(i == 0 ? "" : ",").append(geneIndices[i]);
            }
            return sb.toString();
        }
        if (Double.isNaN(multiplier)) {
            return "channels " + spec();
        }
        return "width multiplier " + multiplier;
    }

    /** Every dimension's width, comma-separated by {@link Channels#id()} (the {@code channels:} spec). */
    public String spec() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < byChannels.length; i++) {
            sb.append(i == 0 ? "" : ",").append(byChannels[i]);
        }
        return sb.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Widths w && w.arch == arch && Arrays.equals(w.byChannels, byChannels);
    }

    @Override
    public int hashCode() {
        return System.identityHashCode(arch) * 31 + Arrays.hashCode(byChannels);
    }

    @Override
    public String toString() {
        return arch.name() + " at " + describe();
    }
}
