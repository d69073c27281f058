package dev.metaprune.latency;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.metaprune.nn.arch.Architecture;
import dev.metaprune.nn.arch.InputSpec;
import dev.metaprune.nn.arch.TestArchitectures;

/** Synthetic cost models and fixtures for the latency tests. */
final class Synthetic {
    private Synthetic() {
    }

    static Architecture toy() {
        return TestArchitectures.toy(new InputSpec(3, 8, 10));
    }

    /**
     * A cost linear in each width, different per layer (by name hash): a + b cin + c cout + d cin cout for positions
     * with two widths, a + b c for one-width ones (depthwise, pools: their cost is linear in the channels).
     */
    static double cost(LayerPosition p, int cin, int cout) {
        int h = Math.floorMod(p.name().hashCode(), 97);
        if (p.in().equals(p.out())) {
            return 0.01 + 1e-4 * (h % 7) + 2e-4 * (1 + h % 3) * cin;
        }
        return 0.01 + 1e-4 * (h % 7) + 2e-4 * cin + 3e-4 * cout + 1e-5 * (1 + h % 5) * cin * cout;
    }

    /** A timer returning {@link #cost} exactly, counting its calls. */
    static class Timer implements Profiler.EntryTimer {
        int calls;

        @Override
        public Measurement time(LayerPosition p, int cin, int cout) {
            calls++;
            return new Measurement(cost(p, cin, cout), 0.001, 5);
        }
    }

    static ObjectNode device(int threads) {
        ObjectNode d = JsonNodeFactory.instance.objectNode();
        d.put("kind", "cpu");
        d.put("model", "test CPU");
        d.put("backend", "cpu");
        d.put("threads", threads);
        d.put("vector_bits", 512);
        d.put("jdk", "25");
        return d;
    }

    static double expectedSum(Architecture arch, int[] gene) {
        double s = 0;
        for (LayerPosition p : LayerPositions.of(arch)) {
            int[] w = p.widths(gene);
            s += cost(p, w[0], w[1]);
        }
        return s;
    }
}
