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

    /** One tensor's header entry: dtype, shape and byte range within the data section. */
    public record Entry(String dtype, int[] shape, long begin, long end) {
        public long numel() {
            long n = 1;
            for (int d : shape) {
                n *= d;
            }
            return n;
        }
    }

    /** A file's header: tensor entries in file order, metadata, where the data section starts, the file size. */
    public record Header(Map<String, Entry> entries, Map<String, String> metadata, long dataStart, long fileSize) {
        /** A metadata value; {@link IllegalArgumentException} naming the key when absent. */
        public String meta(String key) {
            String v = metadata.get(key);
            if (v == null) {
                throw new IllegalArgumentException("no metadata '" + key + "' in file (has " + metadata.keySet() + ")");
            }
            return v;
        }
    }

    /**
     * Reads only the header (for metadata, or before {@link #readInto} streams tensors into place): a
     * multi-gigabyte checkpoint is never held in memory twice.
     */
    public static Header readHeader(Path path) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            String name = path.toString();
            if (size < 8) {
                throw new IOException(name + ": truncated safetensors file: " + size
                        + " bytes, the 8-byte header length is missing (offset 0)");
            }
            ByteBuffer lb = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lb, 0, name);
            long hlen = lb.getLong(0);
            if (hlen <= 0 || hlen > MAX_HEADER || 8 + hlen > size) {
                throw new IOException(name + ": bad safetensors header length " + hlen + " at offset 0 (file has "
                        + size + " bytes)");
            }
            ByteBuffer hb = ByteBuffer.allocate((int) hlen);
            readFully(ch, hb, 8, name);
            return parseHeader(hb.array(), 0, (int) hlen, size, name);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new java.nio.file.NoSuchFileException(path.toString(), null, "safetensors file not found");
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long pos, String name) throws IOException {
        long p = pos;
        while (b.hasRemaining()) {
            int r = ch.read(b, p);
            if (r < 0) {
                throw new IOException(name + ": truncated at offset " + p);
            }
            p += r;
        }
        b.flip();
    }

    private static Header parseHeader(byte[] bytes, int at, int hlen, long fileSize, String name) throws IOException {
        JsonNode header;
        try {
            header = JSON.readTree(new String(bytes, at, hlen, StandardCharsets.UTF_8));
        } catch (JsonProcessingException e) {
            throw new IOException(name + ": malformed JSON header (bytes 8.." + (8 + hlen) + "): "
                    + e.getOriginalMessage());
        }
        if (header == null || !header.isObject()) {
            throw new IOException(name + ": the header at offset 8 is not a JSON object");
        }
        long dataStart = 8L + hlen;
        long dataLen = fileSize - dataStart;
        Map<String, Entry> entries = new LinkedHashMap<>();
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
            if (numel > Integer.MAX_VALUE - 16) {
                throw new IOException(name + ": tensor '" + key + "' has " + numel + " elements, more than one array holds");
            }
            if (b1 > dataLen) {
                throw new IOException(name + ": truncated: tensor '" + key + "' ends at byte " + (dataStart + b1)
                        + " of the file, which has only " + fileSize + " bytes");
            }
            entries.put(key, new Entry(dtype, shape, b0, b1));
        }
        return new Header(entries, meta, dataStart, fileSize);
    }

    /**
     * Streams the named F32 tensors of a file into existing tensors (same shapes; contiguous), with
     * bounded memory. Every target must be present with its shape; otherwise an {@link IOException}
     * naming the tensor.
     */
    public static void readInto(Path path, Header h, Map<String, Tensor> targets) throws IOException {
        String name = path.toString();
        for (Map.Entry<String, Tensor> t : targets.entrySet()) {
            Entry e = h.entries().get(t.getKey());
            if (e == null) {
                throw new IOException(name + ": tensor '" + t.getKey() + "' is missing");
            }
            if (!"F32".equals(e.dtype()) || !java.util.Arrays.equals(e.shape(), t.getValue().shape())) {
                throw new IOException(name + ": tensor '" + t.getKey() + "' is " + e.dtype()
                        + java.util.Arrays.toString(e.shape()) + ", expected F32"
                        + java.util.Arrays.toString(t.getValue().shape()));
            }
            if (!t.getValue().isContiguous()) {
                throw new IllegalArgumentException("readInto needs contiguous targets: '" + t.getKey() + "'");
            }
        }
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            if (ch.size() != h.fileSize()) {
                throw new IOException(name + ": changed size while reading (" + h.fileSize() + " -> " + ch.size() + ")");
            }
            ByteBuffer buf = ByteBuffer.allocateDirect(1 << 22).order(ByteOrder.LITTLE_ENDIAN);
            for (Map.Entry<String, Tensor> t : targets.entrySet()) {
                Entry e = h.entries().get(t.getKey());
                float[] d = t.getValue().data();
                int off = t.getValue().offset();
                long pos = h.dataStart() + e.begin(), end = h.dataStart() + e.end();
                while (pos < end) {
                    buf.clear();
                    buf.limit((int) Math.min(buf.capacity(), end - pos));
                    readFully(ch, buf, pos, name);
                    int n = buf.remaining() / 4;
                    buf.asFloatBuffer().get(d, off, n);
                    off += n;
                    pos += (long) n * 4;
                }
            }
        }
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
        Header h = parseHeader(bytes, 8, (int) hlen, bytes.length, name);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Map<String, int[]> ints = new LinkedHashMap<>();
        for (Map.Entry<String, Entry> me : h.entries().entrySet()) {
            String key = me.getKey();
            Entry en = me.getValue();
            String dtype = en.dtype();
            int[] shape = en.shape();
            ByteBuffer bb = ByteBuffer.wrap(bytes, (int) (h.dataStart() + en.begin()), (int) (en.end() - en.begin()))
                    .order(ByteOrder.LITTLE_ENDIAN);
            int n = (int) en.numel();
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
        return new File(tensors, ints, h.metadata());
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
