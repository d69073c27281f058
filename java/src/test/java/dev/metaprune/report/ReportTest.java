package dev.metaprune.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The report's collection (runs, searches, latency tables), grouping over seeds, and the page with its PNGs. */
class ReportTest {
    @TempDir
    Path tmp;

    void run(String name, String method, String widths, long flops, double top1, long seed) throws Exception {
        Path d = Files.createDirectories(tmp.resolve("runs").resolve(name));
        Files.writeString(d.resolve("run.json"), String.format(java.util.Locale.ROOT,
                "{\"method\":\"%s\",\"config\":{\"arch\":\"mobilenetv2-cifar\",\"widths\":\"%s\",\"seed\":%d,"
                        + "\"epochs\":3},\"flops\":%d,\"params\":1000,\"test_top1\":%s}", method, widths, seed, flops,
                top1));
    }

    @Test
    void collectsGroupsAndRendersASelfContainedPage() throws Exception {
        run("l1-a", "l1-finetune", "channels:1,2", 50_000_000, 0.80, 1);
        run("l1-b", "l1-finetune", "channels:1,2", 50_000_000, 0.84, 2);
        run("uni", "uniform", "uniform:0.7", 52_000_000, 0.81, 1);
        Path unfinished = Files.createDirectories(tmp.resolve("runs/unfinished"));
        Files.writeString(unfinished.resolve("run.json"), "{\"config\":{\"widths\":\"uniform:1.0\"}}");
        Path s = Files.createDirectories(tmp.resolve("runs/search"));
        Files.writeString(s.resolve("result.json"), "{\"arch\":\"mobilenetv2-cifar\"}");
        Files.writeString(s.resolve("candidates.jsonl"), "{\"iteration\":0,\"error\":0.5}\n{\"iteration\":0,"
                + "\"error\":0.4}\n{\"iteration\":1,\"error\":0.45}\n{\"iteration\":2,\"error\":0.3}\n");
        Files.writeString(tmp.resolve("runs/latency-x.json"), "{\"unit\":\"ms\",\"architecture\":\"mobilenetv1\","
                + "\"batch\":1,\"layers\":[],\"calibration\":{\"model\":\"affine\",\"offset_ms\":1.0,\"scale\":2.0,"
                + "\"details\":{\"samples\":[{\"sum_ms\":1.0,\"measured_ms\":3.3},{\"sum_ms\":2.0,"
                + "\"measured_ms\":4.9}]}}}");
        Report r = Report.collect(List.of(tmp.resolve("runs")));
        assertEquals(3, r.trained.size());
        assertEquals(1, r.skipped.size(), r.skipped.toString());
        List<Report.Group> g = r.groups();
        assertEquals(2, g.size());
        Report.Group l1 = g.stream().filter(x -> x.method().equals("l1-finetune")).findFirst().orElseThrow();
        assertEquals(2, l1.n());
        assertEquals(0.82, l1.mean(), 1e-12);
        assertEquals(Math.sqrt(0.0008), l1.std(), 1e-12, "sample standard deviation over seeds");
        assertEquals(1, r.searches.size());
        assertArrayEquals(new double[] {0.4, 0.4, 0.3}, r.searches.get(0).bestSoFar(), 1e-12);
        assertEquals(1, r.latencies.size());
        assertArrayEquals(new double[] {3.0, 5.0}, r.latencies.get(0).predicted(), 1e-12, "offset + scale x sum");
        String html = r.html(List.of("test"));
        assertTrue(html.contains("l1-finetune") && html.contains("82.00") && html.contains("uniform"));
        assertTrue(!html.contains("src=\"http") && !html.contains("<script"), "self-contained");
        Matcher m = Pattern.compile("data:image/png;base64,([A-Za-z0-9+/=]+)").matcher(html);
        int images = 0;
        while (m.find()) {
            BufferedImage img = ImageIO.read(new ByteArrayInputStream(Base64.getDecoder().decode(m.group(1))));
            assertEquals(900, img.getWidth());
            images++;
        }
        assertEquals(3, images, "FLOPs, search and latency plots (no measured latency here)");
    }

    @Test
    void plotTicksAreNiceAndCoverTheRange() {
        double[] t = Plot.ticks(0.13, 0.92, 6);
        assertTrue(t[0] >= 0.13 && t[t.length - 1] <= 0.92 && t.length >= 4, java.util.Arrays.toString(t));
        assertEquals(0.2, t[0], 1e-12);
        assertEquals("2.5", Plot.fmt(2.5));
        assertEquals("40", Plot.fmt(40.0));
    }
}
