package dev.metaprune.prune;

import dev.metaprune.nn.arch.Architecture;
import dev.metaprune.nn.arch.Channels;
import dev.metaprune.nn.arch.Op;
import java.util.ArrayList;
import java.util.List;

/**
 * The channel dimensions of an architecture partitioned into groups that must keep the same channel set: a residual
 * add joins its two operands' dimensions (a MobileNetV2 stage's block outputs, a ResNet stage's block outputs and its
 * downsample), so pruning a channel of one prunes it in all. A depthwise convolution maps a dimension onto itself, so
 * it needs no tie. A group is prunable when every dimension in it is a gene dimension (the image, the classes and the
 * fixed widths, such as MobileNetV2's last 1280, are not pruned: the same space as MetaPruning's).
 */
public final class ChannelGroups {
    private final Architecture arch;
    private final int[] groupOf;
    private final List<int[]> members;

    private ChannelGroups(Architecture arch, int[] groupOf, List<int[]> members) {
        this.arch = arch;
        this.groupOf = groupOf;
        this.members = members;
    }

    /** The groups of an architecture (union-find over the residual adds). */
    public static ChannelGroups of(Architecture arch) {
        int n = arch.channels().size();
        int[] parent = new int[n];
        for (int i = 0; i < n; i++) {
            parent[i] = i;
        }
        for (Op op : arch.ops()) {
            if (op instanceof Op.Add add) {
                int a = find(parent, arch.value(add.a()).channels().id());
                int b = find(parent, arch.value(add.b()).channels().id());
                if (a != b) {
                    parent[Math.max(a, b)] = Math.min(a, b);
                }
            }
        }
        int[] groupOf = new int[n];
        int[] idOfRoot = new int[n];
        java.util.Arrays.fill(idOfRoot, -1);
        List<List<Integer>> lists = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int r = find(parent, i);
            if (idOfRoot[r] < 0) {
                idOfRoot[r] = lists.size();
                lists.add(new ArrayList<>());
            }
            groupOf[i] = idOfRoot[r];
            lists.get(idOfRoot[r]).add(i);
        }
        List<int[]> members = new ArrayList<>();
        for (List<Integer> l : lists) {
            members.add(l.stream().mapToInt(Integer::intValue).toArray());
        }
        return new ChannelGroups(arch, groupOf, members);
    }

    private static int find(int[] parent, int i) {
        while (parent[i] != i) {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        return i;
    }

    public Architecture architecture() {
        return arch;
    }

    /** Number of groups. */
    public int size() {
        return members.size();
    }

    /** The group of a dimension. */
    public int groupOf(Channels c) {
        return groupOf[c.id()];
    }

    /** Dimension ids in a group (ascending). */
    public int[] members(int group) {
        return members.get(group).clone();
    }

    /** Whether every dimension of the group is chosen by a gene (so it may be narrowed). */
    public boolean prunable(int group) {
        for (int d : members.get(group)) {
            if (!arch.channels().get(d).isGene()) {
                return false;
            }
        }
        return true;
    }

    /** A readable name: the labels of its dimensions joined by {@code =}. */
    public String label(int group) {
        StringBuilder sb = new StringBuilder();
        for (int d : members.get(group)) {
            sb.append(sb.isEmpty() ? "" : "=").append(arch.channels().get(d).label());
        }
        return sb.toString();
    }

    /** The group a dimension label names ({@link IllegalArgumentException} listing the labels otherwise). */
    public int groupOfLabel(String label) {
        for (Channels c : arch.channels()) {
            if (c.label().equals(label)) {
                return groupOf[c.id()];
            }
        }
        List<String> labels = new ArrayList<>();
        for (int g = 0; g < size(); g++) {
            if (prunable(g)) {
                labels.add(label(g));
            }
        }
        throw new IllegalArgumentException(arch.name() + " has no channel dimension '" + label + "'; prunable: "
                + String.join(", ", labels));
    }
}
