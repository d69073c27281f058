package dev.metaprune.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.metaprune.kernels.Kernels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import picocli.CommandLine;

/** What every run folder records about how it was made, and atomic JSON writes. */
final class RunInfo {
    static final ObjectMapper JSON = new ObjectMapper();

    private RunInfo() {
    }

    /** Command line, MetaPrune and JDK versions, kernel backend, data description, time. */
    static ObjectNode invocation(CommandLine.Model.CommandSpec spec, String data) {
        ObjectNode n = JSON.createObjectNode();
        List<String> args = spec.commandLine().getParseResult().originalArgs();
        // through Main, originalArgs() is the whole command line (subcommand names included); a command run on
        // its own (the demo runs its stages so) sees only its options
        boolean viaMain = spec.parent() != null;
        n.put("command", "metaprune" + (viaMain ? "" : " " + spec.name()) + (args.isEmpty() ? "" : " " + String.join(" ", args)))
                .put("metaprune", VersionInfo.version()).put("jdk", Runtime.version().toString())
                .put("kernels", Kernels.get().describe()).put("time", LocalDateTime.now().toString());
        if (data != null) {
            n.put("data", data);
        }
        return n;
    }

    /** A default run folder {@code runs/<kind>-<time>}. */
    static Path defaultDir(String kind) {
        return Path.of("runs", kind + "-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
    }

    /** Writes JSON to a temporary file and renames it over {@code file}. */
    static void write(Path file, JsonNode node) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        JSON.writerWithDefaultPrettyPrinter().writeValue(tmp.toFile(), node);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * Claims a run folder for this process (a lock on {@code DIR/.lock}, released by the JVM when it
     * exits, a crash included): two commands writing one run folder would interleave checkpoints
     * and records, so the second is refused.
     */
    static java.io.Closeable lock(Path dir) throws IOException {
        Files.createDirectories(dir);
        java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(dir.resolve(".lock"),
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE);
        java.nio.channels.FileLock l;
        try {
            l = ch.tryLock();
        } catch (java.nio.channels.OverlappingFileLockException e) {
            l = null;
        }
        if (l == null) {
            ch.close();
            throw new IllegalArgumentException(dir + " is in use by another metaprune command (it holds " + dir.resolve(".lock")
                    + "): wait for it to finish, or choose another --run");
        }
        java.nio.channels.FileLock held = l;
        return () -> {
            held.release();
            ch.close();
        };
    }

    /** A new run folder must not hold a training run already (a second start would overwrite its checkpoint). */
    static void checkFresh(Path dir) {
        if (Files.exists(dir.resolve("checkpoint.safetensors"))) {
            throw new IllegalArgumentException(dir + " already holds a training run: continue it with --resume "
                    + dir + " or choose another --run");
        }
    }

    /** The run's {@code run.json} record (read when it exists), with this invocation appended to its invocations. */
    static ObjectNode openRecord(Path runJson, CommandLine.Model.CommandSpec spec, String data) throws IOException {
        ObjectNode record = Files.exists(runJson) ? (ObjectNode) JSON.readTree(runJson.toFile()) : JSON.createObjectNode();
        com.fasterxml.jackson.databind.node.ArrayNode inv = record.has("invocations")
                ? (com.fasterxml.jackson.databind.node.ArrayNode) record.get("invocations") : record.putArray("invocations");
        inv.add(invocation(spec, data));
        return record;
    }

    /** A checkpoint given as a file or as a run folder holding {@code checkpoint.safetensors}. */
    static Path checkpointFile(Path p) {
        Path f = Files.isDirectory(p) ? p.resolve("checkpoint.safetensors") : p;
        if (!Files.exists(f)) {
            throw new IllegalArgumentException("no checkpoint at " + f);
        }
        return f;
    }
}
