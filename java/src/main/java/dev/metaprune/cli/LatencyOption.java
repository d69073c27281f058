package dev.metaprune.cli;

import dev.metaprune.latency.LatencyTable;
import dev.metaprune.nn.arch.Architecture;
import dev.metaprune.search.Constraint;
import dev.metaprune.search.Constraints;
import java.io.IOException;
import java.nio.file.Path;

/** Builds the latency constraint of {@code --latency-table T --max-latency X}. */
final class LatencyOption {
    private LatencyOption() {
    }

    /**
     * Reads the table of {@code --latency-table} and checks it against the architecture (name, input, every entry a
     * gene can need) before any work; the table's own batch size is the one predicted.
     */
    static LatencyTable read(Architecture a, Path table, String max) throws IOException {
        if (table == null || max == null) {
            throw new IllegalArgumentException("a latency budget needs both --latency-table FILE (from `metaprune"
                    + " profile`) and --max-latency TIME");
        }
        LatencyTable t = LatencyTable.read(table);
        try {
            t.checkMatches(a, t.batch());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(table + ": " + e.getMessage(), e);
        }
        return t;
    }

    /** The budget {@code max} on the latency {@code t} predicts. */
    static Constraint constraint(LatencyTable t, String max) {
        return Constraints.latency(t::predictMs, t.deviceSummary() + ", batch " + t.batch(),
                Constraints.parseMillis(max));
    }
}
