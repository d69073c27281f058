package dev.metaprune.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsTest {
    @TempDir
    Path dir;

    private Path writeSample() throws IOException {
        Tensor a = Tensor.zeros(2, 3);
        for (int i = 0; i < 6; i++) {
            a.data()[i] = i * 0.5f - 1;
        }
        Tensor wide = Tensor.zeros(2, 5);
        for (int i = 0; i < 10; i++) {
            wide.data()[i] = i;
        }
        Map<String, Tensor> ts = new LinkedHashMap<>();
        ts.put("a", a);
        ts.put("view", wide.channels(1, 3)); // written densely
        Path p = dir.resolve("s.safetensors");
        SafeTensors.write(p, ts, Map.of("labels", new int[] {3, -1, 7}), Map.of("arch", "mobilenetv2", "epoch", "3"));
        return p;
    }

    @Test
    void roundTrip() throws IOException {
        Path p = writeSample();
        SafeTensors.File f = SafeTensors.read(p);
        assertArrayEquals(new float[] {-1, -0.5f, 0, 0.5f, 1, 1.5f}, f.get("a").toArray());
        assertArrayEquals(new int[] {2, 2}, f.get("view").shape());
        assertArrayEquals(new float[] {1, 2, 6, 7}, f.get("view").toArray());
        assertArrayEquals(new int[] {3, -1, 7}, f.ints("labels"));
        assertEquals("mobilenetv2", f.meta("arch"));
        assertEquals("3", f.meta("epoch"));
        // the header is 8-byte aligned (what the safetensors spec recommends)
        byte[] b = Files.readAllBytes(p);
        long h = ByteBuffer.wrap(b, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, h % 8);
        // no temporary files left behind
        try (var s = Files.list(dir)) {
            assertEquals(1, s.count());
        }
    }

    @Test
    void truncatedFileNamesFileAndOffset() throws IOException {
        Path p = writeSample();
        byte[] b = Files.readAllBytes(p);
        Path t = dir.resolve("t.safetensors");
        Files.write(t, Arrays.copyOf(b, b.length - 5));
        IOException e = assertThrows(IOException.class, () -> SafeTensors.read(t));
        assertTrue(e.getMessage().contains(t.toString()) && e.getMessage().contains("truncated")
                && e.getMessage().contains("ends at byte"), e.getMessage());
        Files.write(t, Arrays.copyOf(b, 5));
        e = assertThrows(IOException.class, () -> SafeTensors.read(t));
        assertTrue(e.getMessage().contains("offset 0"), e.getMessage());
    }

    @Test
    void malformedHeaders() throws IOException {
        assertBad("{not json", "malformed JSON");
        assertBad("[1,2]", "not a JSON object");
        assertBad("{\"a\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,2]}}", "dtype 'F16'");
        assertBad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", "needs 8 bytes");
        assertBad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", "data_offsets");
        Path p = dir.resolve("len.safetensors");
        byte[] b = new byte[16];
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40);
        Files.write(p, b);
        IOException e = assertThrows(IOException.class, () -> SafeTensors.read(p));
        assertTrue(e.getMessage().contains("header length"), e.getMessage());
    }

    private void assertBad(String header, String expect) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer bb = ByteBuffer.allocate(8 + h.length + 8).order(ByteOrder.LITTLE_ENDIAN);
        bb.putLong(h.length).put(h);
        Path p = dir.resolve("bad.safetensors");
        Files.write(p, bb.array());
        IOException e = assertThrows(IOException.class, () -> SafeTensors.read(p));
        assertTrue(e.getMessage().contains(expect) && e.getMessage().contains(p.toString()), e.getMessage());
    }

    @Test
    void missingFileIsAnIOException() {
        assertThrows(IOException.class, () -> SafeTensors.read(dir.resolve("nope.safetensors")));
    }
}
