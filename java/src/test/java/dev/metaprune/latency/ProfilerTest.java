package dev.metaprune.latency;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaprune.kernels.Parallel;
import dev.metaprune.nn.arch.Architecture;
import dev.metaprune.nn.gene.Gene;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProfilerTest {
    @Test
    void interpolationIsExactOnABilinearCostModel() throws IOException {
        Architecture a = Synthetic.toy();
        for (int step : new int[] {3, 4, 7}) {
            Synthetic.Timer timer = new Synthetic.Timer();
            Profiler p = new Profiler(a, 1, step, Synthetic.device(1), TimingSettings.defaults(), null);
            LatencyTable t = p.run(timer, null, new Profiler.Listener() { });
            assertEquals(p.plannedEntries(), timer.calls);
            assertEquals(LayerPositions.fullEntryCount(a), t.entryCount());
            assertTrue(t.measuredCount() < t.entryCount() / 2, t.measuredCount() + " of " + t.entryCount());
            t.checkMatches(a, 1);
            for (LatencyTable.Layer l : t.layers()) {
                for (LatencyTable.Entry e : l.entries()) {
                    assertEquals(Synthetic.cost(l.position(), e.cin(), e.cout()), e.medianMs(), 1e-12,
                            l.name() + " " + e);
                }
            }
        }
    }

    @Test
    void subsampledFullTableMatchesAndKeepsGrid() throws IOException {
        LatencyTable full = LatencyTableTest.fullToy(1);
        LatencyTable s = Interpolation.subsample(full, 5);
        assertEquals(5, s.sampledStep());
        assertEquals(full.entryCount(), s.entryCount());
        assertTrue(s.measuredCount() < full.measuredCount());
        SplittableRandom rnd = new SplittableRandom(9);
        for (int k = 0; k < 20; k++) {
            int[] g = Gene.random(Synthetic.toy().geneSpace(), rnd).indices();
            assertEquals(full.predictMs(g), s.predictMs(g), 1e-9);
        }
    }

    @Test
    void interruptedRunResumes(@TempDir Path dir) throws IOException {
        Architecture a = Synthetic.toy();
        Path out = dir.resolve("partial.json");
        Profiler p = new Profiler(a, 2, 0, Synthetic.device(1), TimingSettings.defaults(), out).saveEvery(10, 1_000_000);
        int total = p.plannedEntries();
        Synthetic.Timer failing = new Synthetic.Timer() {
            @Override
            public Measurement time(LayerPosition pos, int cin, int cout) {
                if (calls == 57) {
                    throw new IllegalStateException("interrupted");
                }
                return super.time(pos, cin, cout);
            }
        };
        assertThrows(IllegalStateException.class, () -> p.run(failing, null, new Profiler.Listener() { }));
        LatencyTable partial = LatencyTable.read(out);
        assertFalse(partial.isComplete());
        assertEquals(50, partial.measuredCount()); // written every 10 entries
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> partial.checkMatches(a, 2));
        assertTrue(e.getMessage().contains("--resume"), e.getMessage());

        Synthetic.Timer rest = new Synthetic.Timer();
        int[] started = new int[2];
        LatencyTable done = new Profiler(a, 2, 0, Synthetic.device(1), TimingSettings.defaults(), out)
                .run(rest, LatencyTable.read(out), new Profiler.Listener() {
                    @Override
                    public void started(int t, int d) {
                        started[0] = t;
                        started[1] = d;
                    }
                });
        assertEquals(total - 50, rest.calls);
        assertEquals(total, started[0]);
        assertEquals(50, started[1]);
        assertTrue(done.isComplete());
        LatencyTable reread = LatencyTable.read(out);
        reread.checkMatches(a, 2);
        int[] g = {3, 14, 30};
        assertEquals(Synthetic.expectedSum(a, g), reread.predictMs(g), 1e-5);
    }

    @Test
    void resumeRefusesAnotherSetUp(@TempDir Path dir) throws IOException {
        Architecture a = Synthetic.toy();
        Path out = dir.resolve("t.json");
        new Profiler(a, 2, 0, Synthetic.device(1), TimingSettings.defaults(), out)
                .run(new Synthetic.Timer(), null, new Profiler.Listener() { });
        LatencyTable t = LatencyTable.read(out);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Profiler(a, 4, 0,
                Synthetic.device(1), TimingSettings.defaults(), out).run(new Synthetic.Timer(), t,
                new Profiler.Listener() { }));
        assertTrue(e.getMessage().contains("batch 2, not 4"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Profiler(a, 2, 0, Synthetic.device(2),
                TimingSettings.defaults(), out).run(new Synthetic.Timer(), t, new Profiler.Listener() { }));
        assertTrue(e.getMessage().contains("threads"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Profiler(a, 2, 3, Synthetic.device(1),
                TimingSettings.defaults(), out).run(new Synthetic.Timer(), t, new Profiler.Listener() { }));
        assertTrue(e.getMessage().contains("sampling step"), e.getMessage());
    }

    @Test
    void disturbedEntriesAreRetimed() throws IOException {
        Architecture a = Synthetic.toy();
        Synthetic.Timer spiky = new Synthetic.Timer() {
            boolean spiked;

            @Override
            public Measurement time(LayerPosition p, int cin, int cout) {
                Measurement m = super.time(p, cin, cout);
                if (!spiked && p.name().equals("block1.pw") && cin == 8 && cout == 12) {
                    spiked = true;
                    return new Measurement(m.medianMs() * 5, 0.1, 5);
                }
                return m;
            }
        };
        LatencyTable t = new Profiler(a, 1, 0, Synthetic.device(1), TimingSettings.defaults(), null)
                .run(spiky, null, new Profiler.Listener() { });
        LayerPosition pw = t.layer("block1.pw").position();
        assertEquals(Synthetic.cost(pw, 8, 12), t.layer("block1.pw").entry(8, 12).medianMs(), 1e-12);
        for (Object[] s : Profiler.spikes(t)) { // only the fixed positions, re-timed always
            assertEquals(1, ((LatencyTable.Layer) s[0]).entries().size(), ((LatencyTable.Layer) s[0]).name());
        }
    }

    @Test
    void realKernelsTimeEveryPositionAndTheWholeNetwork() {
        Parallel.setThreads(1);
        Architecture a = Synthetic.toy();
        TimingSettings quick = new TimingSettings(0, 2, 2, 1, 1);
        LayerTimer timer = new LayerTimer(a, 2, quick);
        double sum = 0;
        int[] gene = {30, 30, 30};
        for (LayerPosition p : LayerPositions.of(a)) {
            int[] w = p.widths(gene);
            Measurement m = timer.time(p, w[0], w[1]);
            assertTrue(m.medianMs() > 0 && m.reps() == 2, p.name() + " " + m);
            sum += m.medianMs();
        }
        timer.release();
        Measurement whole = new NetworkTimer(a, 2).time(a.widthsForGene(gene), quick);
        assertTrue(whole.medianMs() > 0);
        assertTrue(sum > 0);
    }

    @Test
    void validatorFitsOverheads() {
        List<Validator.Sample> s = new java.util.ArrayList<>();
        for (int i = 0; i < 10; i++) {
            double sum = 1 + i;
            s.add(new Validator.Sample(new int[] {i}, sum, sum + 0.5, 0));
        }
        Validator.Fit off = Validator.offset(s);
        assertEquals(0.5, off.offsetMs(), 1e-12);
        assertEquals(0, off.leaveOneOut().worstAbsPct(), 1e-9);
        assertTrue(Validator.none(s).inSample().meanAbsPct() > 1);
        assertEquals("offset", Validator.best(s).model().equals("affine") ? "offset" : Validator.best(s).model());
        List<Validator.Sample> scaled = new java.util.ArrayList<>();
        for (int i = 0; i < 10; i++) {
            double sum = 1 + i;
            scaled.add(new Validator.Sample(new int[] {i}, sum, 1.2 * sum + 0.3, 0));
        }
        Validator.Fit aff = Validator.affine(scaled);
        assertEquals(1.2, aff.scale(), 1e-9);
        assertEquals(0.3, aff.offsetMs(), 1e-9);
        assertEquals(1.0, Validator.spearman(new double[] {1, 2, 3}, new double[] {10, 20, 35}), 1e-12);
        assertEquals(-1.0, Validator.spearman(new double[] {1, 2, 3}, new double[] {3, 2, 1}), 1e-12);
        Validator.Errors e = Validator.errors(new double[] {11, 9}, new double[] {10, 10});
        assertEquals(10, e.meanAbsPct(), 1e-9);
        assertEquals(10, e.worstAbsPct(), 1e-9);
    }
}
