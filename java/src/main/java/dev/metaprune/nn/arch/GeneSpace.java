package dev.metaprune.nn.arch;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * The encoding of one architecture family's genes: how many positions, what each position chooses (its label and
 * base width), and which positions are tied (must hold the same index).
 *
 * <p>Each position holds a scale index 0..30 ({@link Scales}). Ties: MobileNetV2 gives every block's output width a
 * position, but the blocks of a stage add residuals, so their positions are tied per stage ({@code stage_repeat =
 * [1, 1, 2, 3, 4, 3, 3, 1]}) as the official random sampling, mutation and crossover keep them. A gene violating a tie
 * is rejected. The layouts themselves are documented in {@link dev.metaprune.nn.arch}.
 */
public final class GeneSpace {
    /** One gene position. */
    public record Position(int index, String label, int base, int tieLeader) {
        /** Whether another position must hold the same index as this one. */
        public boolean isTiedTo(Position other) {
            return tieLeader == other.tieLeader;
        }
    }

    private final String name;
    private final List<Position> positions;
    private final List<List<Integer>> tieGroups;

    GeneSpace(String name, List<Position> positions) {
        this.name = Objects.requireNonNull(name);
        this.positions = List.copyOf(positions);
        List<List<Integer>> groups = new ArrayList<>();
        for (Position p : this.positions) {
            if (p.tieLeader() == p.index()) {
                List<Integer> g = new ArrayList<>();
                for (Position q : this.positions) {
                    if (q.tieLeader() == p.index()) {
                        g.add(q.index());
                    }
                }
                groups.add(Collections.unmodifiableList(g));
            } else if (p.tieLeader() > p.index() || this.positions.get(p.tieLeader()).tieLeader() != p.tieLeader()) {
                throw new IllegalArgumentException("tie leader of position " + p.index() + " must be an earlier leader");
            }
        }
        this.tieGroups = List.copyOf(groups);
    }

    /** The architecture name genes of this space carry (e.g. {@code "mobilenetv2"}). */
    public String name() {
        return name;
    }

    /** Number of positions. */
    public int length() {
        return positions.size();
    }

    public List<Position> positions() {
        return positions;
    }

    public Position position(int i) {
        return positions.get(i);
    }

    /**
     * The groups of positions that must be equal, in position order; an untied position is a group of one. The number
     * of groups is the number of free choices.
     */
    public List<List<Integer>> tieGroups() {
        return tieGroups;
    }

    /**
     * Checks a gene: length, every index in 0..30, ties. Throws {@link IllegalArgumentException} naming the offending
     * position, its meaning and the allowed range.
     */
    public void validate(int[] indices) {
        if (indices.length != length()) {
            throw new IllegalArgumentException("a " + name + " gene has " + length() + " positions (" + layoutSummary()
                    + "), got " + indices.length);
        }
        for (int i = 0; i < indices.length; i++) {
            if (!Scales.isValidIndex(indices[i])) {
                Position p = positions.get(i);
                throw new IllegalArgumentException("gene position " + i + " (" + p.label() + ", base " + p.base()
                        + ") has index " + indices[i] + "; allowed 0.." + Scales.MAX_INDEX
                        + " (width scales 0.10..1.00 in steps of 0.03)");
            }
        }
        for (List<Integer> g : tieGroups) {
            int lead = g.get(0);
            for (int q : g) {
                if (indices[q] != indices[lead]) {
                    throw new IllegalArgumentException("gene positions " + g + " (" + positions.get(lead).label()
                            + " .. " + positions.get(g.get(g.size() - 1)).label() + ": one stage, residual adds) are tied"
                            + " and must hold the same index; position " + lead + " has " + indices[lead]
                            + ", position " + q + " has " + indices[q]);
                }
            }
        }
    }

    /** A one-line description of the layout, e.g. {@code "0 stem.out, 1-12 block1..12.out"}. */
    public String layoutSummary() {
        StringBuilder sb = new StringBuilder();
        int i = 0;
        while (i < positions.size()) {
            String kind = kindOf(positions.get(i).label());
            int j = i;
            while (j + 1 < positions.size() && kindOf(positions.get(j + 1).label()).equals(kind)
                    && !kind.isEmpty()) {
                j++;
            }
            if (!sb.isEmpty()) {
                sb.append(", ");
            }
            sb.append(i == j ? i + " " + positions.get(i).label()
                    : i + "-" + j + " " + positions.get(i).label() + ".." + positions.get(j).label());
            i = j + 1;
        }
        return sb.toString();
    }

    private static String kindOf(String label) {
        int dot = label.lastIndexOf('.');
        String head = dot < 0 ? label : label.substring(0, dot);
        String suffix = dot < 0 ? "" : label.substring(dot);
        return head.replaceAll("[0-9.]", "") + suffix;
    }

    /**
     * Whether genes of {@code other} mean the same here: same positions (labels, bases, ties), whatever the name (a
     * family and its {@code -cifar} variant share a layout).
     */
    public boolean isCompatible(GeneSpace other) {
        return positions.equals(other.positions);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GeneSpace g && g.name.equals(name) && g.positions.equals(positions);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + positions.hashCode();
    }

    @Override
    public String toString() {
        return name + " gene space: " + length() + " positions (" + layoutSummary() + ")";
    }
}
