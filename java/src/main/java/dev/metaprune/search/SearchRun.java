package dev.metaprune.search;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.metaprune.nn.arch.GeneSpace;
import dev.metaprune.nn.gene.Gene;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * A search's run folder: {@code search.json} (the settings, and the population of the iteration in
 * progress, rewritten atomically before each iteration), {@code candidates.jsonl} (one JSON line per
 * evaluated candidate, appended and flushed as each result arrives) and, at the end,
 * {@code result.json}. A killed search resumes from these: the results are preloaded (never
 * evaluated again) and the stored population is finished.
 */
public final class SearchRun implements EvolutionarySearch.Store, AutoCloseable {
    public static final String FORMAT = "metaprune-search/1";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path dir;
    private final ObjectNode settings;
    private final GeneSpace space;
    private final Function<int[], ObjectNode> extras;
    private final List<Candidate> known;
    private final int populationIteration;
    private final List<int[]> population;
    private final BufferedWriter lines;

    private SearchRun(Path dir, ObjectNode settings, GeneSpace space, Function<int[], ObjectNode> extras,
                      List<Candidate> known, int populationIteration, List<int[]> population) throws IOException {
        this.dir = dir;
        this.settings = settings;
        this.space = space;
        this.extras = extras;
        this.known = known;
        this.populationIteration = populationIteration;
        this.population = population;
        this.lines = Files.newBufferedWriter(dir.resolve("candidates.jsonl"), StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    /**
     * A new run in {@code dir} (created; it must not hold a search already). {@code settings} is
     * stored as given and compared on resume; {@code extras} adds fields (FLOPs, parameters, ...) to
     * each candidate's line.
     */
    public static SearchRun create(Path dir, ObjectNode settings, GeneSpace space, Function<int[], ObjectNode> extras)
            throws IOException {
        if (Files.exists(dir.resolve("search.json")) || Files.exists(dir.resolve("candidates.jsonl"))) {
            throw new IllegalArgumentException(dir + " already holds a search: continue it with --resume " + dir
                    + " or choose another --run folder");
        }
        Files.createDirectories(dir);
        return new SearchRun(dir, settings, space, extras, List.of(), -1, null);
    }

    /** The settings of the run in {@code dir} (to rebuild what the search needs before {@link #resume}). */
    public static ObjectNode readSettings(Path dir) throws IOException {
        Path sj = dir.resolve("search.json");
        if (!Files.exists(sj)) {
            throw new IllegalArgumentException("nothing to resume: " + sj + " does not exist");
        }
        JsonNode root;
        try {
            root = JSON.readTree(sj.toFile());
        } catch (IOException e) {
            throw new IOException(sj + ": not readable JSON (" + e.getMessage() + ")", e);
        }
        if (!FORMAT.equals(root.path("format").asText()) || !(root.get("settings") instanceof ObjectNode)) {
            throw new IOException(sj + ": not a MetaPrune search (format '" + root.path("format").asText() + "')");
        }
        return (ObjectNode) root.get("settings");
    }

    /** Opens a killed run: its settings, its results and the population in progress. */
    public static SearchRun resume(Path dir, GeneSpace space, Function<int[], ObjectNode> extras) throws IOException {
        Path sj = dir.resolve("search.json");
        if (!Files.exists(sj)) {
            throw new IllegalArgumentException("nothing to resume: " + sj + " does not exist");
        }
        JsonNode root;
        try {
            root = JSON.readTree(sj.toFile());
        } catch (IOException e) {
            throw new IOException(sj + ": not readable JSON (" + e.getMessage() + ")", e);
        }
        if (!FORMAT.equals(root.path("format").asText())) {
            throw new IOException(sj + ": not a MetaPrune search (format '" + root.path("format").asText() + "')");
        }
        ObjectNode settings = (ObjectNode) root.get("settings");
        int it = root.path("iteration").asInt(-1);
        List<int[]> pop = null;
        if (root.has("population")) {
            pop = new ArrayList<>();
            for (JsonNode g : root.get("population")) {
                pop.add(Gene.parse(space, g.asText()).indices());
            }
        }
        Path lines = dir.resolve("candidates.jsonl");
        List<Candidate> known = readCandidates(lines, space);
        dropPartialLine(lines);
        return new SearchRun(dir, settings, space, extras, known, it, pop);
    }

    /** Cuts a line left unfinished by a kill, so that appended records start on a line of their own. */
    private static void dropPartialLine(Path file) throws IOException {
        if (!Files.exists(file)) {
            return;
        }
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            long size = ch.size();
            long keep = size;
            java.nio.ByteBuffer one = java.nio.ByteBuffer.allocate(1);
            while (keep > 0) {
                one.clear();
                ch.read(one, keep - 1);
                if (one.get(0) == '\n') {
                    break;
                }
                keep--;
            }
            if (keep < size) {
                ch.truncate(keep);
            }
        }
    }

    static List<Candidate> readCandidates(Path file, GeneSpace space) throws IOException {
        List<Candidate> out = new ArrayList<>();
        if (!Files.exists(file)) {
            return out;
        }
        List<String> all = Files.readAllLines(file, StandardCharsets.UTF_8);
        for (int i = 0; i < all.size(); i++) {
            String line = all.get(i).strip();
            if (line.isEmpty()) {
                continue;
            }
            try {
                JsonNode n = JSON.readTree(line);
                out.add(new Candidate(Gene.parse(space, n.get("gene").asText()).indices(), n.get("error").asDouble(),
                        n.get("cost").asDouble(), n.get("iteration").asInt(), n.path("seconds").asDouble()));
            } catch (RuntimeException | IOException e) {
                if (i == all.size() - 1) {
                    break; // a line cut short by the kill: that candidate is evaluated again
                }
                throw new IOException(file + ": line " + (i + 1) + " is not a candidate record: " + e.getMessage(), e);
            }
        }
        return out;
    }

    public Path dir() {
        return dir;
    }

    /** The settings stored at creation. */
    public ObjectNode settings() {
        return settings;
    }

    /** Results of earlier sessions. */
    public List<Candidate> known() {
        return known;
    }

    /** The iteration in progress when the run stopped (-1: none started). */
    public int populationIteration() {
        return populationIteration;
    }

    /** Its population (null: none stored). */
    public List<int[]> population() {
        return population;
    }

    @Override
    public synchronized void candidate(Candidate c) throws IOException {
        ObjectNode n = JSON.createObjectNode();
        n.put("iteration", c.iteration()).put("gene", c.key()).put("error", c.error()).put("top1", 1 - c.error())
                .put("cost", c.cost()).put("seconds", Math.round(c.seconds() * 1000) / 1000.0);
        if (extras != null) {
            n.setAll(extras.apply(c.gene()));
        }
        lines.write(n.toString());
        lines.newLine();
        lines.flush();
    }

    @Override
    public void population(int iteration, List<int[]> genes) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put("format", FORMAT);
        root.set("settings", settings);
        root.put("iteration", iteration);
        ArrayNode pop = root.putArray("population");
        for (int[] g : genes) {
            pop.add(Candidate.key(g));
        }
        writeAtomically(dir.resolve("search.json"), root);
    }

    /** Writes {@code result.json}. */
    public void result(ObjectNode result) throws IOException {
        writeAtomically(dir.resolve("result.json"), result);
    }

    static void writeAtomically(Path file, JsonNode node) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        JSON.writerWithDefaultPrettyPrinter().writeValue(tmp.toFile(), node);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    @Override
    public void close() throws IOException {
        lines.close();
    }
}
