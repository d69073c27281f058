package dev.metaprune.tensor;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The safetensors format (8-byte little-endian header length, a JSON header, raw little-endian
 * data), readable from Python's {@code safetensors} and {@code torch}. F32 tensors are read into
 * {@link Tensor}s; I64 / I32 tensors (labels, indices) are read as float tensors of the same values
 * only through {@link File#ints(String)}. Writing goes to a temporary file in the same folder,
 * then an atomic rename: a crash never leaves a half-written file under the final name.
 */
public final class SafeTensors {
    private SafeTensors() {
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long MAX_HEADER = 100L << 20;

    /** A read file: tensors by name, in file order, and the string metadata. */
    public record File(Map<String, Tensor> tensors, Map<String, int[]> intTensors, Map<String, String> metadata) {
        public Tensor get(String name) {
            Tensor t = tensors.get(name);
            if (t == null) {
                throw new IllegalArgumentException("no float tensor '" + name + "' in file (has " + tensors.keySet()
                        + ")");
            }
            return t;
        }

        public int[] ints(String name) {
            int[] t = intTensors.get(name);
            if (t == null) {
                throw new IllegalArgumentException("no integer tensor '" + name + "' in file (has "
                        + intTensors.keySet() + ")");
            }
            return t;
        }

        public String meta(String key) {
            String v = metadata.get(key);
            if (v == null) {
                throw new IllegalArgumentException("no metadata '" + key + "' in file (has " + metadata.keySet() + ")");
            }
            return v;
        }
    }

    /** Reads a whole file. Malformed or truncated input is an {@link IOException} naming the file and offset. */
    public static File read(Path path) throws IOException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(path);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new java.nio.file.NoSuchFileException(path.toString(), null, "safetensors file not found");
        }
        return parse(bytes, path.toString());
    }

    /** Parses a safetensors image held in memory; {@code name} is used in error messages. */
    public static File parse(byte[] bytes, String name) throws IOException {
        if (bytes.length < 8) {
            throw new IOException(name + ": truncated safetensors file: " + bytes.length
                    + " bytes, the 8-byte header length is missing (offset 0)");
        }
        long hlen = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (hlen <= 0 || hlen > MAX_HEADER || 8 + hlen > bytes.length) {
            throw new IOException(name + ": bad safetensors header length " + hlen + " at offset 0 (file has "
                    + bytes.length + " bytes)");
        }
        JsonNode header;
        try {
            header = JSON.readTree(new String(bytes, 8, (int) hlen, StandardCharsets.UTF_8));
        } catch (JsonProcessingException e) {
            throw new IOException(name + ": malformed JSON header (bytes 8.." + (8 + hlen) + "): "
                    + e.getOriginalMessage());
        }
        if (header == null || !header.isObject()) {
            throw new IOException(name + ": the header at offset 8 is not a JSON object");
        }
        long dataStart = 8 + hlen;
        long dataLen = bytes.length - dataStart;
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Map<String, int[]> ints = new LinkedHashMap<>();
        Map<String, String> meta = new LinkedHashMap<>();
        Iterator<Map.Entry<String, JsonNode>> it = header.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            String key = e.getKey();
            JsonNode v = e.getValue();
            if (key.equals("__metadata__")) {
                if (!v.isObject()) {
                    throw new IOException(name + ": __metadata__ is not an object");
                }
                v.fields().forEachRemaining(m -> meta.put(m.getKey(), m.getValue().asText()));
                continue;
            }
            String dtype = v.path("dtype").asText("");
            JsonNode shapeNode = v.path("shape");
            JsonNode offs = v.path("data_offsets");
            if (!shapeNode.isArray() || !offs.isArray() || offs.size() != 2) {
                throw new IOException(name + ": tensor '" + key + "' lacks shape or data_offsets in the header");
            }
            int[] shape = new int[shapeNode.size()];
            long numel = 1;
            for (int i = 0; i < shape.length; i++) {
                long d = shapeNode.get(i).asLong(-1);
                if (d < 0 || d > Integer.MAX_VALUE) {
                    throw new IOException(name + ": tensor '" + key + "' has a bad dimension " + shapeNode.get(i));
                }
                shape[i] = (int) d;
                numel *= d;
            }
            long b0 = offs.get(0).asLong(-1), b1 = offs.get(1).asLong(-1);
            int width = switch (dtype) {
                case "F32", "I32" -> 4;
                case "I64", "F64" -> 8;
                default -> throw new IOException(name + ": tensor '" + key + "' has dtype '" + dtype
                        + "'; supported: F32, F64, I32, I64");
            };
            if (b0 < 0 || b1 < b0 || b1 - b0 != numel * width) {
                throw new IOException(name + ": tensor '" + key + "' " + dtype + java.util.Arrays.toString(shape)
                        + " needs " + numel * width + " bytes, its data_offsets are [" + b0 + ", " + b1 + "]");
            }
            if (b1 > dataLen) {
                throw new IOException(name + ": truncated: tensor '" + key + "' ends at byte " + (dataStart + b1)
                        + " of the file, which has only " + bytes.length + " bytes");
            }
            ByteBuffer bb = ByteBuffer.wrap(bytes, (int) (dataStart + b0), (int) (b1 - b0)).order(ByteOrder.LITTLE_ENDIAN);
            int n = (int) numel;
            switch (dtype) {
                case "F32" -> {
                    float[] d = new float[n];
                    bb.asFloatBuffer().get(d);
                    tensors.put(key, wrapAny(d, shape));
                }
                case "F64" -> {
                    float[] d = new float[n];
                    for (int i = 0; i < n; i++) {
                        d[i] = (float) bb.getDouble();
                    }
                    tensors.put(key, wrapAny(d, shape));
                }
                case "I32" -> {
                    int[] d = new int[n];
                    bb.asIntBuffer().get(d);
                    ints.put(key, d);
                }
                default -> {
                    int[] d = new int[n];
                    for (int i = 0; i < n; i++) {
                        long x = bb.getLong();
                        if (x < Integer.MIN_VALUE || x > Integer.MAX_VALUE) {
                            throw new IOException(name + ": tensor '" + key + "' element " + i + " = " + x
                                    + " does not fit an int");
                        }
                        d[i] = (int) x;
                    }
                    ints.put(key, d);
                }
            }
        }
        return new File(tensors, ints, meta);
    }

    private static Tensor wrapAny(float[] d, int[] shape) {
        if (shape.length == 0) {
            return Tensor.wrap(d, 1);
        }
        for (int s : shape) {
            if (s == 0) {
                return null;
            }
        }
        return Tensor.wrap(d, shape);
    }

    /** Writes F32 tensors (views are written densely) and I64 integer tensors, atomically. */
    public static void write(Path path, Map<String, Tensor> tensors, Map<String, int[]> intTensors,
                             Map<String, String> metadata) throws IOException {
        ObjectNode header = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode m = header.putObject("__metadata__");
            metadata.forEach(m::put);
        }
        long off = 0;
        List<Object> order = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            Tensor t = e.getValue();
            ObjectNode n = header.putObject(e.getKey());
            n.put("dtype", "F32");
            var sh = n.putArray("shape");
            for (int d : t.shape()) {
                sh.add(d);
            }
            long len = t.numel() * 4;
            n.putArray("data_offsets").add(off).add(off + len);
            off += len;
            order.add(t);
        }
        if (intTensors != null) {
            for (Map.Entry<String, int[]> e : intTensors.entrySet()) {
                ObjectNode n = header.putObject(e.getKey());
                n.put("dtype", "I64");
                n.putArray("shape").add(e.getValue().length);
                long len = e.getValue().length * 8L;
                n.putArray("data_offsets").add(off).add(off + len);
                off += len;
                order.add(e.getValue());
            }
        }
        byte[] h = JSON.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
        int pad = (8 - h.length % 8) % 8;
        byte[] hp = new byte[h.length + pad];
        System.arraycopy(h, 0, hp, 0, h.length);
        for (int i = h.length; i < hp.length; i++) {
            hp[i] = ' ';
        }
        Path dir = path.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + path.getFileName() + ".", ".tmp");
        try {
            try { // createTempFile makes it owner-only; a checkpoint is an ordinary file
                Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
            } catch (UnsupportedOperationException ignored) {
                // not a POSIX file system
            }
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
                 OutputStream os = java.nio.channels.Channels.newOutputStream(ch)) {
                var out = new java.io.BufferedOutputStream(os, 1 << 20);
                ByteBuffer lb = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(hp.length);
                out.write(lb.array());
                out.write(hp);
                ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
                for (Object o : order) {
                    if (o instanceof Tensor t) {
                        float[] d = t.data();
                        for (int r = 0; r < t.rows(); r++) {
                            int base = t.rowOffset(r);
                            for (int c = 0; c < t.cols(); c++) {
                                if (buf.remaining() < 4) {
                                    out.write(buf.array(), 0, buf.position());
                                    buf.clear();
                                }
                                buf.putFloat(d[base + c]);
                            }
                        }
                    } else {
                        for (int x : (int[]) o) {
                            if (buf.remaining() < 8) {
                                out.write(buf.array(), 0, buf.position());
                                buf.clear();
                            }
                            buf.putLong(x);
                        }
                    }
                }
                out.write(buf.array(), 0, buf.position());
                out.flush();
                ch.force(true);
            }
            try {
                Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
