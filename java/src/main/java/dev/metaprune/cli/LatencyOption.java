package dev.metaprune.cli;

import dev.metaprune.nn.arch.Architecture;
import dev.metaprune.search.Constraint;
import java.nio.file.Path;

/** Builds the latency constraint of {@code --latency-table T --max-latency X}. */
final class LatencyOption {
    private LatencyOption() {
    }

    static Constraint constraint(Architecture a, Path table, String max) {
        throw new IllegalArgumentException("latency constraints are not available yet"); // replaced by the profiler merge
    }
}
