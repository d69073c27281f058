package dev.metaprune.nn.gene;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metaprune.nn.arch.Architectures;
import dev.metaprune.nn.arch.GeneSpace;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GeneTest {
    static final GeneSpace V1 = Architectures.geneSpace("mobilenetv1");
    static final GeneSpace V2 = Architectures.geneSpace("mobilenetv2");
    static final GeneSpace R50 = Architectures.geneSpace("resnet50");
    static final String V1_GENE = "28,18,10,23,23,22,22,13,17,28,17,25,29";
    static final String V2_GENE = "14,12,11,11,8,8,8,7,7,7,7,8,8,8,14,14,14,8,6,5,2,15,7,17,14,5,11,12,12,11,6,16,14,13,14";

    static IllegalArgumentException rejects(Runnable r) {
        return assertThrows(IllegalArgumentException.class, r::run);
    }

    @Test
    void textRoundTrip() {
        Gene g = Gene.parse(V1, V1_GENE);
        assertEquals(V1_GENE, g.toString());
        assertEquals(g, Gene.parse(V1, g.toString()));
        assertEquals(g, Gene.parse(V1, "[28, 18, 10, 23, 23, 22, 22, 13, 17, 28, 17, 25, 29]")); // Python list
        assertEquals(13, g.length());
        assertEquals(28, g.index(0));
        assertEquals(0.94, g.scale(0));
        assertEquals(30, g.width(0)); // int(32 * 0.94)
        assertEquals(V2_GENE, Gene.parse(V2, V2_GENE).toString());
    }

    @Test
    void jsonRoundTrip(@TempDir Path dir) throws Exception {
        Gene g = Gene.parse(V2, V2_GENE);
        JsonNode j = new ObjectMapper().readTree(g.toJson());
        assertEquals("mobilenetv2", j.get("arch").asText());
        assertEquals(35, j.get("indices").size());
        assertEquals(22, j.get("widths").get(0).asInt()); // int(44 * 0.52)
        assertEquals(g, Gene.fromJson(g.toJson()));
        Path f = dir.resolve("gene.json");
        g.write(f);
        assertEquals(g, Gene.read(f));
        // widths are optional on reading
        assertEquals(Gene.parse(V1, V1_GENE),
                Gene.fromJson("{\"arch\": \"MobileNet_V1\", \"indices\": [" + V1_GENE + "]}"));
    }

    @Test
    void rejectsWrongLength() {
        IllegalArgumentException e = rejects(() -> Gene.parse(V1, "1,2,3,4,5,6,7,8,9,10,11,12"));
        assertTrue(e.getMessage().contains("mobilenetv1") && e.getMessage().contains("13 positions")
                && e.getMessage().contains("got 12"), e.getMessage());
        e = rejects(() -> Gene.of(R50, new int[21]));
        assertTrue(e.getMessage().contains("resnet50") && e.getMessage().contains("20 positions"), e.getMessage());
    }

    @Test
    void rejectsIndexOutOfRange() {
        IllegalArgumentException e = rejects(() -> Gene.parse(V1, "28,18,10,23,31,22,22,13,17,28,17,25,29"));
        assertTrue(e.getMessage().contains("position 4") && e.getMessage().contains("block4.out")
                && e.getMessage().contains("index 31") && e.getMessage().contains("0..30"), e.getMessage());
        e = rejects(() -> Gene.parse(V1, "-1,18,10,23,23,22,22,13,17,28,17,25,29"));
        assertTrue(e.getMessage().contains("position 0") && e.getMessage().contains("0..30"), e.getMessage());
    }

    @Test
    void rejectsMalformed() {
        IllegalArgumentException e = rejects(() -> Gene.parse(V1, "28,18,x,23"));
        assertTrue(e.getMessage().contains("malformed") && e.getMessage().contains("token 2")
                && e.getMessage().contains("'x'"), e.getMessage());
        assertTrue(rejects(() -> Gene.parse(V1, "")).getMessage().contains("malformed"));
        assertTrue(rejects(() -> Gene.parse(V1, "1,,2")).getMessage().contains("token 1"));
        assertTrue(rejects(() -> Gene.fromJson("{not json")).getMessage().contains("malformed gene JSON"));
        assertTrue(rejects(() -> Gene.fromJson("{\"indices\": [1]}")).getMessage().contains("\"arch\""));
        assertTrue(rejects(() -> Gene.fromJson("{\"arch\": \"mobilenetv1\", \"indices\": [1.5]}")).getMessage()
                .contains("indices[0]"));
    }

    @Test
    void rejectsUnknownArchAndWrongWidths() {
        IllegalArgumentException e = rejects(() -> Gene.fromJson("{\"arch\": \"vgg16\", \"indices\": [1, 2]}"));
        assertTrue(e.getMessage().contains("unknown architecture 'vgg16'") && e.getMessage().contains("mobilenetv2"),
                e.getMessage());
        String bad = Gene.parse(V1, V1_GENE).toJson().replace("\"widths\":[30,", "\"widths\":[31,");
        e = rejects(() -> Gene.fromJson(bad));
        assertTrue(e.getMessage().contains("widths[0]") && e.getMessage().contains("gives 30"), e.getMessage());
    }

    @Test
    void rejectsBrokenTies() {
        String broken = V2_GENE.replaceFirst("^14,12,11,11", "14,12,11,12");
        IllegalArgumentException e = rejects(() -> Gene.parse(V2, broken));
        assertTrue(e.getMessage().contains("[2, 3]") && e.getMessage().contains("tied"), e.getMessage());
    }

    @Test
    void randomGenesKeepTiesAndCoverTheRange() {
        SplittableRandom r = new SplittableRandom(42);
        boolean[] seen = new boolean[31];
        for (int t = 0; t < 500; t++) {
            Gene g = Gene.random(V2, r);
            for (List<Integer> group : V2.tieGroups()) {
                for (int p : group) {
                    assertEquals(g.index(group.get(0)), g.index(p));
                }
            }
            for (int p = 0; p < g.length(); p++) {
                seen[g.index(p)] = true;
            }
        }
        for (int i = 0; i < 31; i++) {
            assertTrue(seen[i], "index " + i + " never drawn");
        }
        assertEquals(Gene.random(R50, 7), Gene.random(R50, 7));
        assertNotEquals(Gene.random(R50, 7), Gene.random(R50, 8));
    }

    @Test
    void uniformGenes() {
        assertArrayEquals(CostFill.fill(13, 5), Gene.uniform(V1, 0.25).indices());
        assertArrayEquals(CostFill.fill(35, 30), Gene.uniform(V2, 1.0).indices());
        IllegalArgumentException e = rejects(() -> Gene.uniform(V1, 0.5));
        assertTrue(e.getMessage().contains("not one of the 31") && e.getMessage().contains("0.49"), e.getMessage());
        rejects(() -> Gene.uniform(V1, 0.75));
        rejects(() -> Gene.uniformIndex(V1, 31));
    }

    @Test
    void withKeepsTies() {
        Gene g = Gene.uniformIndex(V2, 10).with(8, 3);
        for (int p = 7; p <= 10; p++) {
            assertEquals(3, g.index(p));
        }
        assertEquals(10, g.index(6));
        assertEquals(10, g.index(11));
    }

    @Test
    void widthsInArchitectures() {
        Gene g = Gene.parse(V1, V1_GENE);
        assertArrayEquals(g.widths(), g.widthsIn(Architectures.get("mobilenetv1")).positionWidths());
        // a family and its -cifar variant share the layout
        assertArrayEquals(g.widths(), g.widthsIn(Architectures.get("mobilenetv1-cifar")).positionWidths());
        rejects(() -> Gene.parse(V2, V2_GENE).widthsIn(Architectures.get("mobilenetv2-torchvision")));
        rejects(() -> g.widthsIn(Architectures.get("resnet50")));
    }

    /** Tiny helper shared by tests. */
    static final class CostFill {
        static int[] fill(int n, int v) {
            int[] a = new int[n];
            java.util.Arrays.fill(a, v);
            return a;
        }
    }
}
