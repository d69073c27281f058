package dev.metaprune.latency;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.metaprune.nn.arch.Architecture;
import dev.metaprune.nn.arch.GeneSpace;
import dev.metaprune.nn.arch.InputSpec;
import dev.metaprune.nn.arch.Scales;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * A latency lookup table: for one architecture, input shape, batch size and device, the time of every layer position
 * ({@link LayerPosition}) at every (input width, output width) pair a gene can give it, in milliseconds. The predicted
 * latency of a gene is the sum of its positions' entries, plus the overhead fitted by {@link Validator} when the
 * table has one.
 *
 * <p>The file is JSON (gzip when the name ends in {@code .gz}); its {@code "unit"} is {@code "ms"}. Besides the
 * entries it records the device ({@code "device"}: CPU model or GPU name, driver, threads, vector width, JDK,
 * backend), the batch and input, the date, how it was measured ({@code "mode"}: full or sampled grid, repetitions)
 * and, once validated, the fitted overhead ({@code "calibration"}). A table written by an interrupted run has
 * {@code "complete": false} and lacks entries: {@code metaprune profile --resume} finishes it.
 *
 * <p>Typical use by a latency-constrained search:
 * <pre>{@code
 * LatencyTable t = LatencyTable.read(Path.of("latency-mobilenetv1-224-b32-cpu-t2.json"));
 * t.checkMatches(arch, 32);          // wrong architecture, input, batch or a missing entry: an error naming it
 * double ms = t.predictMs(gene);     // sum of layer entries + fitted overhead
 * }</pre>
 * Reading is thread-safe once done; {@link #predictMs} may be called from several threads.
 */
public final class LatencyTable {
    /** The value of the file's {@code "format"} field. */
    public static final String FORMAT = "metaprune-latency-table";
    /** The file format version this class writes and reads. */
    public static final int VERSION = 1;
    /** The time unit of every entry: milliseconds. */
    public static final String UNIT = "ms";

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * One entry: a layer position at an input and an output width.
     *
     * @param cin      input width
     * @param cout     output width (the same as {@code cin} for depthwise convolutions, adds and pools)
     * @param medianMs median time, milliseconds
     * @param spreadMs interquartile range of the repetitions, milliseconds (interpolated for interpolated entries)
     * @param reps     timed repetitions; 0 when interpolated
     * @param measured false when interpolated from a sampled grid
     */
    public record Entry(int cin, int cout, double medianMs, double spreadMs, int reps, boolean measured) {
    }

    /** One layer position and its entries, keyed by widths. */
    public static final class Layer {
        private final LayerPosition position;
        private final Map<Long, Entry> entries = new LinkedHashMap<>();

        Layer(LayerPosition position) {
            this.position = position;
        }

        public LayerPosition position() {
            return position;
        }

        public String name() {
            return position.name();
        }

        /** The entry at these widths, or null. */
        public Entry entry(int cin, int cout) {
            return entries.get(LayerPosition.key(cin, cout));
        }

        /** Every entry, in insertion order. */
        public Collection<Entry> entries() {
            return Collections.unmodifiableCollection(entries.values());
        }

        void put(Entry e) {
            entries.put(LayerPosition.key(e.cin(), e.cout()), e);
        }

        void remove(int cin, int cout) {
            entries.remove(LayerPosition.key(cin, cout));
        }
    }

    /**
     * The per-network overhead fitted against end-to-end measurements: {@code predicted = scale * sum + offsetMs}.
     *
     * @param model    {@code "offset"} (scale 1) or {@code "affine"}
     * @param offsetMs constant term, milliseconds
     * @param scale    factor on the sum of entries
     * @param details  how it was fitted: genes, errors before and after, the samples (free-form JSON)
     */
    public record Calibration(String model, double offsetMs, double scale, ObjectNode details) {
        public Calibration {
            if (!Double.isFinite(offsetMs) || !(scale > 0) || Double.isInfinite(scale)) {
                throw new IllegalArgumentException("calibration needs a finite offset and a positive scale, got "
                        + offsetMs + " ms and " + scale);
            }
        }
    }

    private final String source;
    private final String arch;
    private final InputSpec input;
    private final List<GeneSpace.Position> gene;
    private final int batch;
    private final ObjectNode device;
    private String date;
    private final ObjectNode mode;
    private boolean complete;
    private final List<Layer> layers;
    private final Map<String, Layer> byName = new HashMap<>();
    private Calibration calibration;

    LatencyTable(String source, String arch, InputSpec input, List<GeneSpace.Position> gene, int batch,
                 ObjectNode device, String date, ObjectNode mode, boolean complete, List<LayerPosition> positions) {
        this.source = source;
        this.arch = Objects.requireNonNull(arch);
        this.input = input;
        this.gene = List.copyOf(gene);
        this.batch = batch;
        this.device = device;
        this.date = date;
        this.mode = mode;
        this.complete = complete;
        this.layers = new ArrayList<>();
        for (LayerPosition p : positions) {
            Layer l = new Layer(p);
            if (byName.put(p.name(), l) != null) {
                throw new IllegalArgumentException(where() + "layer " + p.name() + " appears twice");
            }
            layers.add(l);
        }
    }

    /** An empty table for an architecture, to be filled by a {@link Profiler}. */
    static LatencyTable empty(Architecture arch, int batch, ObjectNode device, String date, ObjectNode mode) {
        return new LatencyTable(null, arch.name(), arch.input(), arch.geneSpace().positions(), batch, device, date,
                mode, false, LayerPositions.of(arch));
    }

    // ---- the API a search uses ---------------------------------------------------------------------------------

    /**
     * Reads a table (gzip when the name ends in {@code .gz}) and checks its format: {@code "format"}, version,
     * {@code "unit": "ms"}, the fields, every entry's numbers. Errors are {@link IOException}s naming the file and
     * what is wrong. Whether it suits an architecture is {@link #checkMatches}'s job.
     */
    public static LatencyTable read(Path file) throws IOException {
        JsonNode root;
        try (InputStream in = open(file)) {
            root = JSON.readTree(in);
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new IOException("latency table " + file + ": not valid JSON (" + e.getOriginalMessage() + ")", e);
        }
        try {
            return fromJson(root, file.toString());
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    /**
     * Checks that this table can price every gene of {@code arch} at batch {@code batch}: the same architecture name,
     * input (channels, size, classes), batch, gene layout and layer positions, and an entry for every width pair a
     * gene can select. Throws {@link IllegalArgumentException} naming the first mismatch or missing entry.
     */
    public void checkMatches(Architecture arch, int batch) {
        if (!arch.name().equals(this.arch)) {
            throw new IllegalArgumentException(where() + "it is a table of architecture " + this.arch + ", not "
                    + arch.name());
        }
        InputSpec in = arch.input();
        if (in.size() != input.size() || in.channels() != input.channels()) {
            throw new IllegalArgumentException(where() + "it was measured at input " + input.channels() + "x"
                    + input.size() + "x" + input.size() + ", not " + in.channels() + "x" + in.size() + "x" + in.size());
        }
        if (in.classes() != input.classes()) {
            throw new IllegalArgumentException(where() + "it was measured with " + input.classes()
                    + " classes, not " + in.classes());
        }
        if (batch != this.batch) {
            throw new IllegalArgumentException(where() + "it was measured at batch " + this.batch + ", not " + batch);
        }
        checkLayersOf(arch);
        for (Layer l : layers) {
            for (int[] p : l.position().allPairs(gene)) {
                if (l.entry(p[0], p[1]) == null) {
                    throw new IllegalArgumentException(where() + "no entry for layer " + l.name() + " at cin=" + p[0]
                            + " cout=" + p[1] + (complete ? "" : " (the table is from an unfinished run: finish it"
                            + " with metaprune profile --resume)"));
                }
            }
        }
    }

    /** Checks that the gene layout and the layer positions are {@code arch}'s (not the entries). */
    void checkLayersOf(Architecture arch) {
        if (!arch.geneSpace().positions().equals(gene)) {
            throw new IllegalArgumentException(where() + "its gene layout (" + gene.size() + " positions) differs from "
                    + arch.name() + "'s (" + arch.geneSpace().length() + " positions)");
        }
        List<LayerPosition> expected = LayerPositions.of(arch);
        for (int i = 0; i < Math.max(expected.size(), layers.size()); i++) {
            LayerPosition e = i < expected.size() ? expected.get(i) : null;
            LayerPosition t = i < layers.size() ? layers.get(i).position() : null;
            if (!Objects.equals(e, t)) {
                throw new IllegalArgumentException(where() + "layer position " + i + " is "
                        + (t == null ? "missing" : t.name() + " (" + t.kind() + ", " + t.in() + " -> " + t.out() + ")")
                        + " where " + arch.name() + " has "
                        + (e == null ? "none" : e.name() + " (" + e.kind() + ", " + e.in() + " -> " + e.out() + ")"));
            }
        }
    }

    /**
     * The predicted latency of a gene (scale indices by position), milliseconds: the sum of its layer positions'
     * entries, then {@code scale * sum + offset} when the table has a {@link Calibration}. Validates the gene
     * (length, indices 0..30, ties); a missing entry is an {@link IllegalArgumentException} naming it.
     */
    public double predictMs(int[] geneIndices) {
        double sum = layerSumMs(geneIndices);
        Calibration c = calibration;
        return c == null ? sum : c.scale() * sum + c.offsetMs();
    }

    /** The sum of a gene's layer entries, milliseconds, without the fitted overhead. */
    public double layerSumMs(int[] geneIndices) {
        validateGene(geneIndices);
        double sum = 0;
        for (Layer l : layers) {
            int cin = l.position().in().width(geneIndices), cout = l.position().out().width(geneIndices);
            Entry e = l.entry(cin, cout);
            if (e == null) {
                throw new IllegalArgumentException(where() + "no entry for layer " + l.name() + " at cin=" + cin
                        + " cout=" + cout);
            }
            sum += e.medianMs();
        }
        return sum;
    }

    /** The architecture's name (as {@link Architecture#name()}). */
    public String architecture() {
        return arch;
    }

    /** The batch size the table was measured at. */
    public int batch() {
        return batch;
    }

    /** One line: device, backend, threads, vector width, JDK, batch, input. */
    public String deviceSummary() {
        StringBuilder sb = new StringBuilder();
        sb.append(text(device, "kind", "?"));
        String model = text(device, "model", null);
        if (model != null) {
            sb.append(" ").append(model);
        }
        sb.append(", backend ").append(text(device, "backend", "?"));
        if (device.has("threads")) {
            sb.append(", ").append(device.get("threads").asInt()).append(" thread(s)");
            if (device.has("pinned_cpu")) {
                sb.append(" pinned to CPU ").append(device.get("pinned_cpu").asInt());
            }
        }
        if (device.has("vector_bits")) {
            sb.append(", ").append(device.get("vector_bits").asInt()).append("-bit vectors");
        }
        String driver = text(device, "driver", null);
        if (driver != null) {
            sb.append(", driver ").append(driver);
        }
        sb.append(", JDK ").append(text(device, "jdk", "?"));
        sb.append(", ").append(mode.path("clock").asText("wall")).append(" clock");
        sb.append("; batch ").append(batch).append(", input ").append(input.channels()).append("x")
                .append(input.size()).append("x").append(input.size());
        return sb.toString();
    }

    /** Writes the table atomically (a temporary file beside it, then a rename); gzip when the name ends in .gz. */
    public synchronized void write(Path file) throws IOException {
        Path abs = file.toAbsolutePath();
        Path dir = abs.getParent();
        if (dir != null) {
            Files.createDirectories(dir);
        }
        Path tmp = abs.resolveSibling(abs.getFileName() + ".tmp");
        try (OutputStream os = Files.newOutputStream(tmp);
             OutputStream zs = abs.getFileName().toString().endsWith(".gz") ? new GZIPOutputStream(os) : os;
             Writer w = new java.io.OutputStreamWriter(zs, StandardCharsets.UTF_8)) {
            w.write(toJsonText());
        }
        Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    // ---- the rest of the public view ------------------------------------------------------------------------

    /** The input shape measured. */
    public InputSpec input() {
        return input;
    }

    /** The gene layout (positions, bases, ties) the table prices. */
    public List<GeneSpace.Position> genePositions() {
        return gene;
    }

    /** The device metadata (a copy). */
    public ObjectNode device() {
        return device.deepCopy();
    }

    /** How it was measured: {@code "sampled_step"} (0: full), timing settings (a copy). */
    public ObjectNode mode() {
        return mode.deepCopy();
    }

    /** The clock the entries were read from ({@code "wall"} or {@code "thread-cpu"}). */
    public String clock() {
        return mode.path("clock").asText("wall");
    }

    /** The sampling step of the grid (0 for a full table). */
    public int sampledStep() {
        return mode.path("sampled_step").asInt(0);
    }

    /** When it was measured (ISO-8601). */
    public String date() {
        return date;
    }

    /** Whether every entry was written (false: an interrupted run). */
    public boolean isComplete() {
        return complete;
    }

    /** The layer positions and their entries, in execution order. */
    public List<Layer> layers() {
        return Collections.unmodifiableList(layers);
    }

    /** The layer position of that name, or null. */
    public Layer layer(String name) {
        return byName.get(name);
    }

    /** The fitted overhead, or null. */
    public Calibration calibration() {
        return calibration;
    }

    /** Number of entries (measured and interpolated). */
    public int entryCount() {
        int n = 0;
        for (Layer l : layers) {
            n += l.entries.size();
        }
        return n;
    }

    /** Number of measured entries. */
    public int measuredCount() {
        int n = 0;
        for (Layer l : layers) {
            for (Entry e : l.entries.values()) {
                n += e.measured() ? 1 : 0;
            }
        }
        return n;
    }

    /** Where the table came from, for messages ({@code "table"} when built in memory). */
    public String source() {
        return source == null ? "table" : source;
    }

    // ---- mutation (package) -------------------------------------------------------------------------------------

    synchronized void put(String layer, Entry e) {
        Layer l = byName.get(layer);
        if (l == null) {
            throw new IllegalArgumentException(where() + "no layer position " + layer);
        }
        l.put(e);
    }

    ObjectNode modeNode() {
        return mode;
    }

    void setComplete(boolean complete) {
        this.complete = complete;
    }

    void setDate(String date) {
        this.date = date;
    }

    /** Sets (or, with null, removes) the fitted overhead. */
    public void setCalibration(Calibration c) {
        this.calibration = c;
    }

    /** A deep copy (entries, metadata, calibration). */
    public LatencyTable copy() {
        return fromJson(toJson(), source);
    }

    // ---- JSON ---------------------------------------------------------------------------------------------------

    private void validateGene(int[] g) {
        if (g.length != gene.size()) {
            throw new IllegalArgumentException("a " + arch + " gene has " + gene.size() + " positions, got " + g.length);
        }
        for (int i = 0; i < g.length; i++) {
            if (!Scales.isValidIndex(g[i])) {
                throw new IllegalArgumentException("gene position " + i + " (" + gene.get(i).label() + ") has index "
                        + g[i] + "; allowed 0.." + Scales.MAX_INDEX);
            }
            int lead = gene.get(i).tieLeader();
            if (g[lead] != g[i]) {
                throw new IllegalArgumentException("gene positions " + lead + " and " + i + " are tied (one stage) but"
                        + " hold " + g[lead] + " and " + g[i]);
            }
        }
    }

    private String where() {
        return "latency table " + source() + ": ";
    }

    private static String text(JsonNode n, String field, String def) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? def : v.asText();
    }

    private static InputStream open(Path file) throws IOException {
        InputStream in = Files.newInputStream(file);
        return file.getFileName().toString().endsWith(".gz") ? new GZIPInputStream(in) : in;
    }

    /** The whole table as a JSON tree. */
    ObjectNode toJson() {
        try {
            return (ObjectNode) JSON.readTree(toJsonText());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private ObjectNode header() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("format", FORMAT);
        o.put("version", VERSION);
        o.put("unit", UNIT);
        o.put("statistic", "median of repeated calls; spread = interquartile range");
        o.put("architecture", arch);
        ObjectNode in = o.putObject("input");
        in.put("channels", input.channels());
        in.put("size", input.size());
        in.put("classes", input.classes());
        o.put("batch", batch);
        o.put("date", date);
        o.set("device", device);
        o.set("mode", mode);
        o.put("complete", complete);
        ArrayNode g = o.putArray("gene");
        for (GeneSpace.Position p : gene) {
            g.addObject().put("label", p.label()).put("base", p.base()).put("tie", p.tieLeader());
        }
        if (calibration != null) {
            ObjectNode c = o.putObject("calibration");
            c.put("model", calibration.model());
            c.put("offset_ms", calibration.offsetMs());
            c.put("scale", calibration.scale());
            c.put("formula", "predicted_ms = scale * sum_of_entries_ms + offset_ms");
            if (calibration.details() != null) {
                c.set("details", calibration.details());
            }
        }
        return o;
    }

    private String toJsonText() {
        StringBuilder sb = new StringBuilder();
        String head;
        try {
            head = JSON.writerWithDefaultPrettyPrinter().writeValueAsString(header());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        sb.append(head.substring(0, head.lastIndexOf('}')).stripTrailing());
        sb.append(",\n  \"layers\" : [");
        for (int i = 0; i < layers.size(); i++) {
            Layer l = layers.get(i);
            LayerPosition p = l.position();
            ObjectNode ln = JsonNodeFactory.instance.objectNode();
            ln.put("name", p.name());
            ln.put("kind", p.kind());
            ArrayNode ops = ln.putArray("ops");
            p.ops().forEach(ops::add);
            ln.set("in", dim(p.in()));
            ln.set("out", dim(p.out()));
            String s = ln.toString();
            sb.append(i == 0 ? "\n    " : ",\n    ").append(s, 0, s.length() - 1).append(",\"entries\":[");
            int j = 0;
            for (Entry e : l.entries.values()) {
                sb.append(j++ == 0 ? "\n      " : ",\n      ");
                sb.append("{\"cin\":").append(e.cin()).append(",\"cout\":").append(e.cout())
                        .append(",\"median_ms\":").append(round(e.medianMs()))
                        .append(",\"spread_ms\":").append(round(e.spreadMs()))
                        .append(",\"reps\":").append(e.reps());
                if (!e.measured()) {
                    sb.append(",\"interpolated\":true");
                }
                sb.append('}');
            }
            sb.append(j == 0 ? "]}" : "\n    ]}");
        }
        sb.append("\n  ]\n}\n");
        return sb.toString();
    }

    private static String round(double ms) {
        // nanosecond resolution is finer than any timer jitter; keeps the files small
        return Double.toString(Math.round(ms * 1e6) / 1e6);
    }

    private static ObjectNode dim(LayerPosition.Dim d) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("label", d.label());
        o.put("base", d.base());
        o.put("position", d.position());
        return o;
    }

    private static LatencyTable fromJson(JsonNode root, String source) {
        String where = "latency table " + source + ": ";
        if (!root.isObject()) {
            throw new IllegalArgumentException(where + "not a JSON object");
        }
        if (!FORMAT.equals(root.path("format").asText(null))) {
            throw new IllegalArgumentException(where + "\"format\" is " + root.get("format") + ", expected \"" + FORMAT
                    + "\"");
        }
        if (root.path("version").asInt(-1) != VERSION) {
            throw new IllegalArgumentException(where + "format version " + root.get("version") + " is not supported"
                    + " (this build reads version " + VERSION + ")");
        }
        JsonNode unit = root.get("unit");
        if (unit == null || !UNIT.equals(unit.asText())) {
            throw new IllegalArgumentException(where + "\"unit\" is " + unit + "; entries must be in milliseconds"
                    + " (\"unit\": \"ms\")");
        }
        String arch = required(root, "architecture", where).asText();
        JsonNode in = required(root, "input", where);
        InputSpec input = new InputSpec(required(in, "channels", where).asInt(), required(in, "size", where).asInt(),
                required(in, "classes", where).asInt());
        int batch = required(root, "batch", where).asInt();
        if (batch <= 0) {
            throw new IllegalArgumentException(where + "batch must be positive, got " + batch);
        }
        List<GeneSpace.Position> gene = new ArrayList<>();
        for (JsonNode g : required(root, "gene", where)) {
            gene.add(new GeneSpace.Position(gene.size(), required(g, "label", where).asText(),
                    required(g, "base", where).asInt(), required(g, "tie", where).asInt()));
        }
        for (GeneSpace.Position p : gene) {
            if (p.base() <= 0 || p.tieLeader() < 0 || p.tieLeader() > p.index()) {
                throw new IllegalArgumentException(where + "gene position " + p.index() + " has base " + p.base()
                        + " and tie " + p.tieLeader());
            }
        }
        ObjectNode device = root.get("device") instanceof ObjectNode d ? d.deepCopy()
                : JsonNodeFactory.instance.objectNode();
        ObjectNode mode = root.get("mode") instanceof ObjectNode m ? m.deepCopy() : JsonNodeFactory.instance.objectNode();
        List<LayerPosition> positions = new ArrayList<>();
        JsonNode layersNode = required(root, "layers", where);
        for (JsonNode l : layersNode) {
            List<String> ops = new ArrayList<>();
            for (JsonNode o : l.path("ops")) {
                ops.add(o.asText());
            }
            positions.add(new LayerPosition(required(l, "name", where).asText(), required(l, "kind", where).asText(),
                    ops, dim(required(l, "in", where), gene, where), dim(required(l, "out", where), gene, where)));
        }
        LatencyTable t = new LatencyTable(source, arch, input, gene, batch, device, root.path("date").asText(null),
                mode, root.path("complete").asBoolean(false), positions);
        int li = 0;
        for (JsonNode l : layersNode) {
            Layer layer = t.layers.get(li++);
            for (JsonNode e : l.path("entries")) {
                int cin = required(e, "cin", where).asInt(), cout = required(e, "cout", where).asInt();
                double med = required(e, "median_ms", where).asDouble(Double.NaN);
                double spread = e.path("spread_ms").asDouble(0);
                if (cin <= 0 || cout <= 0 || !(med >= 0) || Double.isInfinite(med) || !(spread >= 0)) {
                    throw new IllegalArgumentException(where + "layer " + layer.name() + " has an invalid entry " + e);
                }
                if (layer.entry(cin, cout) != null) {
                    throw new IllegalArgumentException(where + "layer " + layer.name() + " has two entries at cin="
                            + cin + " cout=" + cout);
                }
                layer.put(new Entry(cin, cout, med, spread, e.path("reps").asInt(0),
                        !e.path("interpolated").asBoolean(false)));
            }
        }
        JsonNode c = root.get("calibration");
        if (c != null && !c.isNull()) {
            t.calibration = new Calibration(required(c, "model", where).asText(),
                    required(c, "offset_ms", where).asDouble(), required(c, "scale", where).asDouble(),
                    c.get("details") instanceof ObjectNode d ? d.deepCopy() : null);
        }
        return t;
    }

    private static LayerPosition.Dim dim(JsonNode d, List<GeneSpace.Position> gene, String where) {
        int pos = required(d, "position", where).asInt();
        if (pos >= gene.size()) {
            throw new IllegalArgumentException(where + "dimension " + d + " names gene position " + pos + " of "
                    + gene.size());
        }
        return new LayerPosition.Dim(required(d, "label", where).asText(), required(d, "base", where).asInt(), pos);
    }

    private static JsonNode required(JsonNode n, String field, String where) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) {
            throw new IllegalArgumentException(where + "missing field \"" + field + "\"");
        }
        return v;
    }
}
