package dev.metaprune.latency;

import dev.metaprune.kernels.Parallel;
import dev.metaprune.nn.arch.Architecture;
import java.util.ArrayList;
import java.util.List;

/**
 * Measures chosen networks (a search's winner, its uniform rival) end to end on the set-up a latency table was
 * measured on (device, threads, clock, batch) and pairs each with the table's prediction: what a latency-constrained
 * search reports beside its winner.
 */
public final class LatencyCheck {
    private LatencyCheck() {
    }

    /** One network: the table's prediction (with its overhead model), its raw sum of layers, and the measurement. */
    public record Row(String name, int[] gene, double predictedMs, double layerSumMs, double measuredMs,
                      double spreadMs) {
        /** (predicted - measured) / measured, in percent. */
        public double errorPercent() {
            return 100 * (predictedMs - measuredMs) / measuredMs;
        }
    }

    /**
     * Measures {@code genes} (named {@code names}) in {@code rounds} interleaved rounds (median of the rounds' medians)
     * on the table's device, with its thread count, pinned CPU and clock; the thread count and the calling thread's
     * CPUs are restored afterwards. Throws
     * {@link IllegalArgumentException} when this machine cannot reproduce the table's set-up (no such device, another
     * vector width).
     */
    public static List<Row> measure(LatencyTable t, Architecture a, List<String> names, List<int[]> genes,
                                    int rounds) {
        if (names.size() != genes.size() || genes.isEmpty()) {
            throw new IllegalArgumentException("need one name per gene, and at least one gene");
        }
        t.checkMatches(a, t.batch());
        int before = Parallel.threadCount();
        long[] cpus = ThreadPinning.currentMask();   // a table pinned to a CPU pins this thread while measuring
        LatencyDevice d = null;
        try {
            d = LatencyDevice.forTable(t, before);
            NetworkTimer timer = new NetworkTimer(a, t.batch(), d.kernels());
            for (int[] g : genes) {
                timer.warmUp(a.widthsForGene(g), 10);
            }
            List<Validator.Sample> samples = Validator.measure(t, a, timer, genes,
                    TimingSettings.defaults().withClock(TimingSettings.Clock.of(t.clock())), rounds, s -> { });
            List<Row> out = new ArrayList<>();
            for (int i = 0; i < genes.size(); i++) {
                Validator.Sample s = samples.get(i);
                out.add(new Row(names.get(i), genes.get(i).clone(), t.predictMs(genes.get(i)), s.sumMs(),
                        s.measuredMs(), s.spreadMs()));
            }
            return out;
        } finally {
            if (d != null) {
                d.release();
            }
            Parallel.setThreads(before);
            ThreadPinning.restore(cpus);
        }
    }
}
