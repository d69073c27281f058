package dev.metaprune.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FlopsCommandTest {
    record Result(int code, String out, String err) {
    }

    static synchronized Result run(String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = Main.run(args);
            System.out.flush();
            System.err.flush();
            return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    static JsonNode json(Result r) throws Exception {
        assertEquals(0, r.code(), r.err());
        return new ObjectMapper().readTree(r.out());
    }

    @Test
    void widthJson() throws Exception {
        JsonNode j = json(run("flops", "--arch", "mobilenetv1", "--width", "0.5", "--json"));
        assertEquals("mobilenetv1", j.get("arch").asText());
        assertEquals(149_497_088L, j.get("flops").asLong());
        assertEquals(1_331_592L, j.get("params").asLong());
        assertEquals(0.5, j.get("width").asDouble());
        assertEquals(13, j.get("widths").size());
        assertEquals(16, j.get("widths").get(0).asInt());
        assertEquals(224, j.get("input").get("size").asInt());
        assertFalse(j.has("layers"));
    }

    @Test
    void geneStringAndFile(@TempDir Path dir) throws Exception {
        String g = "19,9,15,13,10,9,10,6,9,13,11,12,7,18,7,13,12,10,19,18";
        JsonNode j = json(run("flops", "-a", "resnet50", "--gene", g, "--json", "--layers"));
        assertEquals(1_027_554_986L, j.get("flops").asLong());
        assertEquals(g, j.get("gene").asText());
        assertEquals(20, j.get("indices").size());
        long sum = 0;
        for (JsonNode l : j.get("layers")) {
            sum += l.get("flops").asLong();
        }
        assertEquals(j.get("flops").asLong(), sum);

        Path f = dir.resolve("best.json");
        Files.writeString(f, "{\"arch\": \"resnet50\", \"indices\": [" + g + "]}");
        JsonNode k = json(run("flops", "--gene", f.toString(), "--json"));
        assertEquals(1_027_554_986L, k.get("flops").asLong());
        // the same gene on the CIFAR-style variant (same layout), 1-channel 28x28 input
        JsonNode c = json(run("flops", "--arch", "resnet50-cifar", "--gene", f.toString(), "--in-channels", "1",
                "--input-size", "28", "--json"));
        assertEquals("resnet50-cifar", c.get("arch").asText());
        assertEquals(1, c.get("input").get("channels").asInt());
        assertEquals(10, c.get("input").get("classes").asInt());
    }

    @Test
    void table() {
        Result r = run("flops", "--arch", "mobilenetv2-torchvision", "--layers");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("300,774,272") && r.out().contains("300.8 M"), r.out());
        assertTrue(r.out().contains("block1.dw") && r.out().contains("last.conv"), r.out());
    }

    @Test
    void errorsExitTwoOnStderr() {
        Result r = run("flops", "--arch", "vgg16");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("unknown architecture 'vgg16'") && r.err().contains("mobilenetv2"), r.err());
        assertEquals("", r.out());

        r = run("flops", "--arch", "mobilenetv1", "--gene", "28,18,10,23,40,22,22,13,17,28,17,25,29");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("position 4") && r.err().contains("0..30"), r.err());

        r = run("flops", "--arch", "mobilenetv1", "--gene", "1,2,3");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("13 positions"), r.err());

        r = run("flops", "--arch", "mobilenetv1", "--gene", "/no/such/gene.json");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("not found"), r.err());

        r = run("flops", "--arch", "mobilenetv1", "--width", "0.5", "--gene", "1");
        assertEquals(2, r.code());

        r = run("flops", "--gene", "1,2,3");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--arch"), r.err());
    }

    @Test
    void help() {
        Result r = run("flops", "--help");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("multiply-adds") && r.out().contains("resnet50-cifar")
                && r.out().contains("--gene"), r.out());
    }
}
