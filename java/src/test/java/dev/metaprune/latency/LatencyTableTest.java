package dev.metaprune.latency;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaprune.nn.arch.Architecture;
import dev.metaprune.nn.arch.Architectures;
import dev.metaprune.nn.arch.InputSpec;
import dev.metaprune.nn.arch.Op;
import dev.metaprune.nn.arch.TestArchitectures;
import dev.metaprune.nn.gene.Gene;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LatencyTableTest {
    static LatencyTable fullToy(int batch) throws IOException {
        Architecture a = Synthetic.toy();
        return new Profiler(a, batch, 0, Synthetic.device(1), TimingSettings.defaults(), null)
                .run(new Synthetic.Timer(), null, new Profiler.Listener() { });
    }

    @Test
    void positionsCoverEveryOpOnce() {
        for (Architecture a : List.of(Synthetic.toy(), Architectures.get("mobilenetv2"), Architectures.get("resnet50"))) {
            Set<String> seen = new HashSet<>();
            for (LayerPosition p : LayerPositions.of(a)) {
                for (String op : p.ops()) {
                    assertTrue(seen.add(op), op);
                }
            }
            assertEquals(a.ops().size(), seen.size(), a.name());
        }
        List<LayerPosition> v2 = LayerPositions.of(Architectures.get("mobilenetv2"));
        LayerPosition add = v2.stream().filter(p -> p.name().equals("block3.add")).findFirst().orElseThrow();
        assertEquals("add", add.kind());
        LayerPosition dw = v2.stream().filter(p -> p.name().equals("block3.dw")).findFirst().orElseThrow();
        assertEquals(List.of("block3.dw", "block3.dw.bn", "block3.dw.relu6"), dw.ops());
        assertEquals("block3.mid", dw.in().label());
        // tied stage positions move together: block3.add has one width per choice
        Architecture a = Architectures.get("mobilenetv2");
        assertEquals(31, add.allPairs(a.geneSpace().positions()).size());
        LayerPosition expand = v2.stream().filter(p -> p.name().equals("block3.expand")).findFirst().orElseThrow();
        assertEquals(31 * 31, expand.allPairs(a.geneSpace().positions()).size());
    }

    @Test
    void fullEntryCountsOfTheImageNetNetworks() {
        int v1 = LayerPositions.fullEntryCount(Architectures.get("mobilenetv1"));
        int v2 = LayerPositions.fullEntryCount(Architectures.get("mobilenetv2"));
        assertTrue(v1 > 11_000 && v1 < 13_000, "V1 " + v1);
        assertTrue(v2 > 30_000 && v2 < 36_000, "V2 " + v2);
    }

    @Test
    void predictionIsTheSumOfEntries() throws IOException {
        LatencyTable t = fullToy(4);
        Architecture a = Synthetic.toy();
        t.checkMatches(a, 4);
        SplittableRandom rnd = new SplittableRandom(3);
        for (int k = 0; k < 50; k++) {
            int[] g = Gene.random(a.geneSpace(), rnd).indices();
            assertEquals(Synthetic.expectedSum(a, g), t.predictMs(g), 1e-12);
        }
        int[] g = {30, 0, 17};
        t.setCalibration(new LatencyTable.Calibration("affine", 0.5, 1.25, null));
        assertEquals(1.25 * Synthetic.expectedSum(a, g) + 0.5, t.predictMs(g), 1e-12);
        assertEquals(Synthetic.expectedSum(a, g), t.layerSumMs(g), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> t.predictMs(new int[] {1, 2}));
        assertThrows(IllegalArgumentException.class, () -> t.predictMs(new int[] {1, 2, 31}));
    }

    @Test
    void roundTripPlainAndGzip(@TempDir Path dir) throws IOException {
        LatencyTable t = fullToy(2);
        t.setCalibration(new LatencyTable.Calibration("offset", 0.125, 1, null));
        for (String name : List.of("t.json", "t.json.gz")) {
            Path f = dir.resolve(name);
            t.write(f);
            assertFalse(Files.exists(dir.resolve(name + ".tmp")));
            LatencyTable r = LatencyTable.read(f);
            assertEquals(t.entryCount(), r.entryCount());
            assertEquals("toy", r.architecture());
            assertEquals(2, r.batch());
            assertTrue(r.isComplete());
            assertEquals("offset", r.calibration().model());
            assertTrue(r.deviceSummary().contains("test CPU"), r.deviceSummary());
            assertTrue(r.deviceSummary().contains("batch 2"), r.deviceSummary());
            int[] g = {4, 9, 22};
            assertEquals(t.predictMs(g), r.predictMs(g), 1e-5);
            r.checkMatches(Synthetic.toy(), 2);
        }
        String text = Files.readString(dir.resolve("t.json"));
        assertTrue(text.contains("\"unit\" : \"ms\""), text.substring(0, 300));
        assertTrue(text.contains("\"median_ms\""));
    }

    @Test
    void mismatchesAreNamed() throws IOException {
        LatencyTable t = fullToy(8);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> t.checkMatches(Architectures.get("mobilenetv1-cifar"), 8));
        assertTrue(e.getMessage().contains("architecture toy, not mobilenetv1-cifar"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> t.checkMatches(Synthetic.toy(), 32));
        assertTrue(e.getMessage().contains("batch 8, not 32"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> t.checkMatches(TestArchitectures.toy(new InputSpec(3, 16, 10)), 8));
        assertTrue(e.getMessage().contains("input 3x8x8, not 3x16x16"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> t.checkMatches(TestArchitectures.toy(new InputSpec(3, 8, 100)), 8));
        assertTrue(e.getMessage().contains("10 classes, not 100"), e.getMessage());
    }

    @Test
    void missingEntryIsNamed(@TempDir Path dir) throws IOException {
        LatencyTable t = fullToy(1);
        LatencyTable.Layer l = t.layer("block1.pw");
        assertNotNull(l.entry(4, 16));
        l.remove(4, 16);
        Path f = dir.resolve("holed.json");
        t.write(f);
        LatencyTable r = LatencyTable.read(f);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> r.checkMatches(Synthetic.toy(), 1));
        assertTrue(e.getMessage().contains("no entry for layer block1.pw at cin=4 cout=16"), e.getMessage());
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
        // the gene that needs it fails the same way; stem.out index 8 -> int(16 * 0.34) = 5? find one that gives 4
        int i = 0;
        while (dev.metaprune.nn.arch.Scales.width(16, i) != 4) {
            i++;
        }
        int j = 0;
        while (dev.metaprune.nn.arch.Scales.width(24, j) != 16) {
            j++;
        }
        int[] gene = {i, j, 0};
        e = assertThrows(IllegalArgumentException.class, () -> r.predictMs(gene));
        assertTrue(e.getMessage().contains("no entry for layer block1.pw at cin=4 cout=16"), e.getMessage());
    }

    @Test
    void formatErrorsNameTheFileAndTheProblem(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("t.json");
        fullToy(1).write(f);
        String text = Files.readString(f);
        Path seconds = dir.resolve("seconds.json");
        Files.writeString(seconds, text.replace("\"unit\" : \"ms\"", "\"unit\" : \"s\""));
        IOException e = assertThrows(IOException.class, () -> LatencyTable.read(seconds));
        assertTrue(e.getMessage().contains("seconds.json") && e.getMessage().contains("milliseconds"), e.getMessage());
        Path broken = dir.resolve("broken.json");
        Files.writeString(broken, text.substring(0, text.length() / 2));
        e = assertThrows(IOException.class, () -> LatencyTable.read(broken));
        assertTrue(e.getMessage().contains("broken.json") && e.getMessage().contains("not valid JSON"), e.getMessage());
        Path other = dir.resolve("other.json");
        Files.writeString(other, "{\"format\": \"something-else\"}");
        e = assertThrows(IOException.class, () -> LatencyTable.read(other));
        assertTrue(e.getMessage().contains("\"format\""), e.getMessage());
        Path negative = dir.resolve("negative.json");
        Files.writeString(negative, text.replaceFirst("\"median_ms\":[0-9.]+", "\"median_ms\":-1"));
        e = assertThrows(IOException.class, () -> LatencyTable.read(negative));
        assertTrue(e.getMessage().contains("invalid entry"), e.getMessage());
    }

    @Test
    void everyConvOfTheToyIsAPosition() {
        Architecture a = Synthetic.toy();
        long convs = a.ops().stream().filter(o -> o instanceof Op.Conv).count();
        long conv = LayerPositions.of(a).stream().filter(p -> p.kind().startsWith("conv")).count();
        assertEquals(convs, conv);
    }
}
