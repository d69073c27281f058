package dev.metaprune.latency;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.metaprune.nn.arch.Architecture;
import java.io.IOException;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Builds a {@link LatencyTable}: every layer position at every width pair (full), or at the pairs of a grid of scale
 * indices with the rest interpolated (sampled, {@link Interpolation}). The table is written atomically every few
 * entries with {@code "complete": false}; {@link #run} given such a partial table skips what it holds (resume).
 */
public final class Profiler {
    /** Times one entry. {@link LayerTimer} is the real one; tests use synthetic cost models. */
    @FunctionalInterface
    public interface EntryTimer {
        /** The time of layer position {@code p} at input width {@code cin} and output width {@code cout}. */
        Measurement time(LayerPosition p, int cin, int cout);
    }

    /** Progress callbacks. */
    public interface Listener {
        /** Before the first entry: {@code done} of {@code total} entries are already in the table (resume). */
        default void started(int total, int done) {
        }

        /** Before a pass re-timing {@code count} entries that stand out from their neighbours. */
        default void recheck(int count, int pass) {
        }

        /** After each timed entry. */
        default void entry(LayerPosition p, int cin, int cout, Measurement m, int done, int total) {
        }
    }

    private final Architecture arch;
    private final int batch;
    private final int step;
    private final ObjectNode device;
    private final TimingSettings settings;
    private final Path out;
    private int saveEvery = 200;
    private long saveMillis = 15_000;
    private volatile LatencyTable table;

    /**
     * @param arch     the architecture (at its input shape)
     * @param batch    batch size
     * @param step     0 for a full table; else the sampling step of the grid of scale indices (every step-th, and 30)
     * @param device   device metadata ({@link DeviceInfo#cpu()})
     * @param settings how entries are timed (recorded in the table)
     * @param out      where the table is written (partial tables on the way), or null for none
     */
    public Profiler(Architecture arch, int batch, int step, ObjectNode device, TimingSettings settings, Path out) {
        if (batch <= 0) {
            throw new IllegalArgumentException("batch size must be positive, got " + batch);
        }
        if (step < 0 || step > 30) {
            throw new IllegalArgumentException("sampling step must be 0 (full) or 1..30, got " + step);
        }
        this.arch = arch;
        this.batch = batch;
        this.step = step;
        this.device = device.deepCopy();
        this.settings = settings;
        this.out = out;
    }

    /** Writes the partial table after this many new entries or this many milliseconds, whichever comes first. */
    public Profiler saveEvery(int entries, long millis) {
        this.saveEvery = Math.max(1, entries);
        this.saveMillis = Math.max(0, millis);
        return this;
    }

    /** The entries this profiler times (grid pairs for a sampled table), by layer position. */
    public int plannedEntries() {
        int n = 0;
        for (LayerPosition p : LayerPositions.of(arch)) {
            n += pairs(p).size();
        }
        return n;
    }

    private List<int[]> pairs(LayerPosition p) {
        return step == 0 ? p.allPairs(arch.geneSpace().positions())
                : p.pairs(arch.geneSpace().positions(), LayerPosition.gridIndices(step));
    }

    /**
     * Times every planned entry not already in {@code resume} (null: start afresh), interpolates the rest of a
     * sampled table, marks it complete and writes it. A {@code resume} table must be of the same architecture, input,
     * batch, sampling step and device set-up (threads, vector width, backend), else {@link IllegalArgumentException}.
     */
    public LatencyTable run(EntryTimer timer, LatencyTable resume, Listener listener) throws IOException {
        LatencyTable t;
        if (resume != null) {
            checkResumable(resume);
            t = resume;
        } else {
            t = LatencyTable.empty(arch, batch, device, now(), mode());
        }
        table = t;
        List<LayerPosition> positions = LayerPositions.of(arch);
        int total = plannedEntries();
        int done = 0;
        List<Object[]> todo = new ArrayList<>();
        for (LayerPosition p : positions) {
            LatencyTable.Layer l = t.layer(p.name());
            for (int[] pair : pairs(p)) {
                if (l.entry(pair[0], pair[1]) != null) {
                    done++;
                } else {
                    todo.add(new Object[] {p, pair});
                }
            }
        }
        listener.started(total, done);
        long lastSave = System.currentTimeMillis();
        int sinceSave = 0;
        for (Object[] w : todo) {
            LayerPosition p = (LayerPosition) w[0];
            int[] pair = (int[]) w[1];
            Measurement m = timer.time(p, pair[0], pair[1]);
            t.put(p.name(), new LatencyTable.Entry(pair[0], pair[1], m.medianMs(), m.spreadMs(), m.reps(), true));
            done++;
            sinceSave++;
            listener.entry(p, pair[0], pair[1], m, done, total);
            if (out != null && (sinceSave >= saveEvery || System.currentTimeMillis() - lastSave >= saveMillis)) {
                t.write(out);
                sinceSave = 0;
                lastSave = System.currentTimeMillis();
            }
        }
        int rechecked = 0;
        for (int pass = 0; pass < RECHECK_PASSES; pass++) {
            List<Object[]> spikes = spikes(t);
            listener.recheck(spikes.size(), pass);
            for (Object[] w : spikes) {
                LatencyTable.Layer l = (LatencyTable.Layer) w[0];
                LatencyTable.Entry e = (LatencyTable.Entry) w[1];
                Measurement m = timer.time(l.position(), e.cin(), e.cout());
                if (m.medianMs() < e.medianMs()) {
                    t.put(l.name(), new LatencyTable.Entry(e.cin(), e.cout(), m.medianMs(), m.spreadMs(),
                            e.reps() + m.reps(), true));
                }
                rechecked++;
            }
        }
        t.modeNode().put("rechecked", t.modeNode().path("rechecked").asInt(0) + rechecked);
        if (step > 0) {
            Interpolation.fill(t, step);
        }
        t.setComplete(true);
        t.setDate(now());
        if (out != null) {
            t.write(out);
        }
        return t;
    }

    /** Writes the table as it stands (for an interrupt handler); no-op before {@link #run} or without an output. */
    public void saveNow() throws IOException {
        LatencyTable t = table;
        if (t != null && out != null && !t.isComplete()) {
            t.write(out);
        }
    }

    /** Re-timing passes over entries that stand out from their neighbours. */
    static final int RECHECK_PASSES = 2;
    /** An entry above this factor times the median of its neighbours (and 5 us above it) is re-timed. */
    static final double SPIKE_FACTOR = 1.4;

    /**
     * Measured entries much slower than their neighbours (the adjacent width choices along each axis): the mark of
     * a timing disturbed by another process, JIT or GC, since a layer's cost moves smoothly with its widths. Each is
     * re-timed and the lower median kept (disturbances only ever add time); a genuine step survives re-timing.
     */
    static List<Object[]> spikes(LatencyTable t) {
        List<Object[]> out = new ArrayList<>();
        for (LatencyTable.Layer l : t.layers()) {
            if (l.entries().size() == 1) { // a fixed position: no neighbours to judge it by, so always re-timed
                out.add(new Object[] {l, l.entries().iterator().next()});
                continue;
            }
            java.util.TreeSet<Integer> cins = new java.util.TreeSet<>(), couts = new java.util.TreeSet<>();
            boolean one = l.position().oneWidth(t.genePositions());
            for (LatencyTable.Entry e : l.entries()) {
                if (e.measured()) {
                    cins.add(e.cin());
                    couts.add(e.cout());
                }
            }
            for (LatencyTable.Entry e : l.entries()) {
                if (!e.measured()) {
                    continue;
                }
                List<Double> nb = new ArrayList<>(), wider = new ArrayList<>();
                if (one) {
                    addNeighbour(l, nb, cins.lower(e.cin()), null, true, e);
                    addNeighbour(l, nb, cins.higher(e.cin()), null, true, e);
                    Integer c = e.cin();
                    for (int k = 0; k < 3 && (c = cins.higher(c)) != null; k++) {
                        addNeighbour(l, wider, c, null, true, e);
                    }
                } else {
                    addNeighbour(l, nb, cins.lower(e.cin()), e.cout(), false, e);
                    addNeighbour(l, nb, cins.higher(e.cin()), e.cout(), false, e);
                    addNeighbour(l, nb, e.cin(), couts.lower(e.cout()), false, e);
                    addNeighbour(l, nb, e.cin(), couts.higher(e.cout()), false, e);
                    Integer c = e.cin();
                    for (int k = 0; k < 3 && (c = cins.higher(c)) != null; k++) {
                        addNeighbour(l, wider, c, e.cout(), false, e);
                    }
                    c = e.cout();
                    for (int k = 0; k < 3 && (c = couts.higher(c)) != null; k++) {
                        addNeighbour(l, wider, e.cin(), c, false, e);
                    }
                }
                double ref = Double.POSITIVE_INFINITY;
                if (!nb.isEmpty()) {
                    ref = Measurement.quantile(nb.stream().mapToDouble(Double::doubleValue).sorted().toArray(), 0.5);
                }
                for (double w : wider) {
                    ref = Math.min(ref, w); // a wider configuration is never much faster unless disturbed
                }
                if (e.medianMs() > SPIKE_FACTOR * ref && e.medianMs() - ref > 0.005) {
                    out.add(new Object[] {l, e});
                }
            }
        }
        return out;
    }

    /** Adds the median of the measured entry at (cin, cout); for one-width positions {@code cout} is ignored. */
    private static void addNeighbour(LatencyTable.Layer l, List<Double> nb, Integer cin, Integer cout, boolean one,
                                     LatencyTable.Entry self) {
        if (cin == null || (!one && cout == null)) {
            return;
        }
        LatencyTable.Entry e = null;
        if (one) {
            for (LatencyTable.Entry x : l.entries()) {
                if (x.cin() == cin && x.measured()) {
                    e = x;
                    break;
                }
            }
        } else {
            e = l.entry(cin, cout);
        }
        if (e != null && e.measured() && e != self) {
            nb.add(e.medianMs());
        }
    }

    private void checkResumable(LatencyTable r) {
        String where = "cannot resume " + r.source() + ": ";
        if (!r.architecture().equals(arch.name())) {
            throw new IllegalArgumentException(where + "it is a table of " + r.architecture() + ", not " + arch.name());
        }
        if (!r.input().equals(arch.input())) {
            throw new IllegalArgumentException(where + "its input is " + r.input() + ", not " + arch.input());
        }
        if (r.batch() != batch) {
            throw new IllegalArgumentException(where + "it was measured at batch " + r.batch() + ", not " + batch);
        }
        String clock = r.mode().path("clock").asText("wall");
        if (!clock.equals(settings.clock().label())) {
            throw new IllegalArgumentException(where + "it was timed on the " + clock + " clock, this run uses "
                    + settings.clock().label());
        }
        if (r.sampledStep() != step) {
            throw new IllegalArgumentException(where + "its sampling step is " + r.sampledStep() + " (0 = full), not "
                    + step);
        }
        for (String key : new String[] {"kind", "threads", "vector_bits", "backend"}) {
            if (!Objects.equals(r.device().get(key), device.get(key))) {
                throw new IllegalArgumentException(where + "it was measured with device " + key + " "
                        + r.device().get(key) + ", this run has " + device.get(key));
            }
        }
        r.checkLayersOf(arch);
    }

    private ObjectNode mode() {
        ObjectNode m = JsonNodeFactory.instance.objectNode();
        m.put("sampled_step", step);
        ArrayNode g = m.putArray("grid");
        for (int i : step == 0 ? LayerPosition.allIndices() : LayerPosition.gridIndices(step)) {
            g.add(i);
        }
        m.put("interpolation", step == 0 ? "none" : "bilinear in (cin, cout) between grid entries");
        m.put("warmup_ms", settings.warmupMs());
        m.put("min_reps", settings.minReps());
        m.put("max_reps", settings.maxReps());
        m.put("tolerance", settings.tolerance());
        m.put("max_seconds_per_entry", settings.maxSecondsPerEntry());
        m.put("clock", settings.clock().label());
        m.put("timed", "forward only (inference, BatchNorm with running statistics); each layer position = its op"
                + " and the BatchNorm / activation after it, on the kernel interface, preallocated buffers");
        return m;
    }

    private static String now() {
        return OffsetDateTime.now().truncatedTo(ChronoUnit.SECONDS).toString();
    }
}
