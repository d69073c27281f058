package dev.metaprune.nn.gene;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.metaprune.nn.arch.Architecture;
import dev.metaprune.nn.arch.Architectures;
import dev.metaprune.nn.arch.GeneSpace;
import dev.metaprune.nn.arch.Scales;
import dev.metaprune.nn.arch.Widths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * A MetaPruning gene: one scale index (0..30, {@link Scales}) per position of an architecture's {@link GeneSpace},
 * exactly as the official code encodes it (layouts in {@link dev.metaprune.nn.arch}). Immutable and validated on
 * construction: right length, every index in range, tied positions equal.
 *
 * <p>Text form ({@link #toString()}, {@link #parse}): the indices comma-separated, {@code "28,18,10,..."}; parsing also
 * accepts spaces and the square brackets of a Python list as the official logs print it. JSON form:
 * {@code {"arch": "mobilenetv1", "indices": [...], "widths": [...]}}, where {@code widths} (channels per position) is
 * informative and checked on reading.
 */
public final class Gene {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final GeneSpace space;
    private final int[] indices;

    private Gene(GeneSpace space, int[] indices) {
        this.space = Objects.requireNonNull(space);
        space.validate(indices);
        this.indices = indices;
    }

    /** A gene from scale indices; validates them. */
    public static Gene of(GeneSpace space, int... indices) {
        return new Gene(space, indices.clone());
    }

    /** Every position at scale index {@code index}. */
    public static Gene uniformIndex(GeneSpace space, int index) {
        if (!Scales.isValidIndex(index)) {
            throw new IllegalArgumentException("scale index " + index + " outside 0.." + Scales.MAX_INDEX);
        }
        int[] g = new int[space.length()];
        Arrays.fill(g, index);
        return new Gene(space, g);
    }

    /**
     * Every position at the width choice {@code scale}, which must be one of the 31 (0.10, 0.13, ..., 1.00; so 0.25 and
     * 0.49 are, 0.5 and 0.75 are not). Positions scale their base widths: for MobileNetV1 and ResNet-50 this is the
     * uniform network with the last width fixed, for MobileNetV2 the 1.4x bases times {@code scale}.
     */
    public static Gene uniform(GeneSpace space, double scale) {
        return uniformIndex(space, Scales.requireIndexOf(scale));
    }

    /** Uniformly random indices, tied positions sharing one draw (the PruningNet's training distribution). */
    public static Gene random(GeneSpace space, SplittableRandom rnd) {
        int[] g = new int[space.length()];
        for (List<Integer> group : space.tieGroups()) {
            int v = rnd.nextInt(Scales.COUNT);
            for (int p : group) {
                g[p] = v;
            }
        }
        return new Gene(space, g);
    }

    /** {@link #random(GeneSpace, SplittableRandom)} from a seed. */
    public static Gene random(GeneSpace space, long seed) {
        return random(space, new SplittableRandom(seed));
    }

    /**
     * Parses the text form: comma-separated indices, optional spaces, optional surrounding {@code [ ]}.
     *
     * @throws IllegalArgumentException for a malformed string (naming the bad token) or an invalid gene
     */
    public static Gene parse(GeneSpace space, String text) {
        String s = text.strip();
        if (s.startsWith("[") && s.endsWith("]")) {
            s = s.substring(1, s.length() - 1).strip();
        }
        if (s.isEmpty()) {
            throw new IllegalArgumentException("malformed gene '" + text + "': no indices (expected "
                    + space.length() + " comma-separated integers for " + space.name() + ")");
        }
        String[] tok = s.split(",", -1);
        int[] g = new int[tok.length];
        for (int i = 0; i < tok.length; i++) {
            String t = tok[i].strip();
            try {
                g[i] = Integer.parseInt(t);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("malformed gene '" + text + "': token " + i + " ('" + t
                        + "') is not an integer; expected " + space.length() + " comma-separated scale indices 0.."
                        + Scales.MAX_INDEX);
            }
        }
        return new Gene(space, g);
    }

    /**
     * Reads the JSON form. {@code arch} is resolved with {@link Architectures#geneSpace}; if {@code widths} is present
     * it must match what the indices give.
     */
    public static Gene fromJson(String json) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("malformed gene JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("malformed gene JSON: expected an object with \"arch\" and \"indices\"");
        }
        JsonNode arch = root.get("arch"), idx = root.get("indices");
        if (arch == null || !arch.isTextual()) {
            throw new IllegalArgumentException("malformed gene JSON: missing \"arch\" (one of "
                    + String.join(", ", Architectures.names()) + ")");
        }
        if (idx == null || !idx.isArray()) {
            throw new IllegalArgumentException("malformed gene JSON: missing \"indices\" array");
        }
        GeneSpace space = Architectures.geneSpace(arch.asText());
        int[] g = new int[idx.size()];
        for (int i = 0; i < g.length; i++) {
            JsonNode n = idx.get(i);
            if (!n.isIntegralNumber() || !n.canConvertToInt()) {
                throw new IllegalArgumentException("malformed gene JSON: indices[" + i + "] = " + n
                        + " is not an integer");
            }
            g[i] = n.intValue();
        }
        Gene gene = new Gene(space, g);
        JsonNode w = root.get("widths");
        if (w != null && !w.isNull()) {
            int[] expect = gene.widths();
            if (!w.isArray() || w.size() != expect.length) {
                throw new IllegalArgumentException("gene JSON: \"widths\" must be an array of " + expect.length
                        + " channel counts");
            }
            for (int i = 0; i < expect.length; i++) {
                if (!w.get(i).isIntegralNumber() || w.get(i).intValue() != expect[i]) {
                    throw new IllegalArgumentException("gene JSON: widths[" + i + "] = " + w.get(i) + " but index "
                            + g[i] + " of " + space.position(i).label() + " (base " + space.position(i).base()
                            + ") gives " + expect[i] + " channels");
                }
            }
        }
        return gene;
    }

    /** Reads the JSON form from a file. */
    public static Gene read(Path file) throws IOException {
        return fromJson(Files.readString(file));
    }

    /** The JSON form: {@code {"arch": ..., "indices": [...], "widths": [...]}}. */
    public String toJson() {
        return toJsonNode().toString();
    }

    /** The JSON form as a Jackson tree (to embed in a larger document). */
    public ObjectNode toJsonNode() {
        ObjectNode o = JSON.createObjectNode();
        o.put("arch", space.name());
        ArrayNode a = o.putArray("indices");
        for (int v : indices) {
            a.add(v);
        }
        ArrayNode w = o.putArray("widths");
        for (int v : widths()) {
            w.add(v);
        }
        return o;
    }

    /** Writes the JSON form (to a temporary file, then renamed into place). */
    public void write(Path file) throws IOException {
        Path abs = file.toAbsolutePath();
        Path tmp = abs.resolveSibling(abs.getFileName() + ".tmp");
        Files.writeString(tmp, toJson() + "\n");
        Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    public GeneSpace space() {
        return space;
    }

    /** The architecture name this gene belongs to. */
    public String arch() {
        return space.name();
    }

    public int length() {
        return indices.length;
    }

    /** Scale index at a position. */
    public int index(int position) {
        return indices[position];
    }

    /** A copy of the indices. */
    public int[] indices() {
        return indices.clone();
    }

    /** Scale at a position. */
    public double scale(int position) {
        return Scales.value(indices[position]);
    }

    /** Channels a position selects: {@code int(base * scale)}. */
    public int width(int position) {
        return Scales.width(space.position(position).base(), indices[position]);
    }

    /** Channels per position. */
    public int[] widths() {
        int[] w = new int[indices.length];
        for (int i = 0; i < w.length; i++) {
            w[i] = width(i);
        }
        return w;
    }

    /**
     * This gene with {@code position} (and every position tied to it) set to {@code index}: the mutation step that
     * keeps ties.
     */
    public Gene with(int position, int index) {
        if (position < 0 || position >= indices.length) {
            throw new IllegalArgumentException("gene position " + position + " outside 0.." + (indices.length - 1));
        }
        int[] g = indices.clone();
        GeneSpace.Position p = space.position(position);
        for (GeneSpace.Position q : space.positions()) {
            if (q.isTiedTo(p)) {
                g[q.index()] = index;
            }
        }
        return new Gene(space, g);
    }

    /**
     * The widths this gene selects in an architecture of its space, at any input shape, or of a compatible one (same
     * positions and bases: a family and its {@code -cifar} variant).
     */
    public Widths widthsIn(Architecture arch) {
        if (!arch.geneSpace().isCompatible(space)) {
            throw new IllegalArgumentException("a " + space.name() + " gene does not fit " + arch.name() + " (its gene: "
                    + arch.geneSpace().length() + " positions, " + arch.geneSpace().layoutSummary() + ")");
        }
        return arch.widthsForGene(indices);
    }

    /** Comma-separated indices, e.g. {@code "28,18,10"}. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < indices.length; i++) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append(indices[i]);
        }
        return sb.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Gene g && g.space.equals(space) && Arrays.equals(g.indices, indices);
    }

    @Override
    public int hashCode() {
        return space.name().hashCode() * 31 + Arrays.hashCode(indices);
    }
}
