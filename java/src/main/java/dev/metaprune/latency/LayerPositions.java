package dev.metaprune.latency;

import dev.metaprune.nn.arch.Architecture;
import dev.metaprune.nn.arch.Channels;
import dev.metaprune.nn.arch.Op;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Splits an {@link Architecture} into the {@link LayerPosition}s a latency table times. */
public final class LayerPositions {
    private LayerPositions() {
    }

    /**
     * The layer positions of {@code arch} in execution order. Every operation belongs to exactly one: convolutions,
     * residual adds, pooling and the classifier start one; a batch norm or activation joins the position that produced
     * its input.
     */
    public static List<LayerPosition> of(Architecture arch) {
        List<String> names = new ArrayList<>();
        List<String> kinds = new ArrayList<>();
        List<List<String>> ops = new ArrayList<>();
        List<Channels[]> dims = new ArrayList<>();
        Map<Integer, Integer> producer = new HashMap<>(); // value id -> position index
        for (Op op : arch.ops()) {
            Channels in = arch.value(op.inputs().get(0)).channels(), out = arch.value(op.output()).channels();
            String kind = switch (op) {
                case Op.Conv c -> {
                    in = c.in();
                    out = c.out();
                    yield "conv " + c.kind().name().toLowerCase(Locale.ROOT);
                }
                case Op.Add a -> "add";
                case Op.MaxPool p -> "maxpool";
                case Op.GlobalAvgPool p -> "avgpool";
                case Op.Linear l -> "linear";
                case Op.BatchNorm b -> null;
                case Op.Activation a -> null;
            };
            if (kind == null) {
                Integer g = producer.get(op.inputs().get(0));
                if (g == null) {
                    throw new IllegalStateException(arch.name() + ": " + op.name() + " follows no layer position");
                }
                ops.get(g).add(op.name());
                producer.put(op.output(), g);
            } else {
                names.add(op.name());
                kinds.add(kind);
                List<String> l = new ArrayList<>();
                l.add(op.name());
                ops.add(l);
                dims.add(new Channels[] {in, out});
                producer.put(op.output(), names.size() - 1);
            }
        }
        List<LayerPosition> result = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
            result.add(new LayerPosition(names.get(i), kinds.get(i), ops.get(i), LayerPosition.Dim.of(dims.get(i)[0]),
                    LayerPosition.Dim.of(dims.get(i)[1])));
        }
        return result;
    }

    /** Number of entries of a full table (distinct width pairs summed over positions). */
    public static int fullEntryCount(Architecture arch) {
        int n = 0;
        for (LayerPosition p : of(arch)) {
            n += p.allPairs(arch.geneSpace().positions()).size();
        }
        return n;
    }
}
