package dev.metaprune.nn.arch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Structure of the families: gene layouts, strides, generators, residuals. */
class ArchitecturesTest {
    @ParameterizedTest
    @CsvSource({"mobilenetv1,13,27,0,7", "mobilenetv2,35,53,10,7", "resnet50,20,53,16,7", "mobilenetv1-cifar,13,27,0,4",
            "mobilenetv2-cifar,35,53,10,4", "resnet50-cifar,20,53,16,4", "mobilenetv2-torchvision,34,52,10,7",
            "resnet20-cifar,12,21,9,8", "resnet56-cifar,30,57,27,8"})
    void shapes(String name, int geneLength, int convs, int adds, int finalMap) {
        Architecture a = Architectures.get(name);
        assertEquals(name, a.name());
        assertEquals(geneLength, a.geneSpace().length());
        assertEquals(convs, a.convs().size());
        assertEquals(adds, a.ops().stream().filter(o -> o instanceof Op.Add).count());
        Op.GlobalAvgPool gap = (Op.GlobalAvgPool) a.op("avgpool");
        assertEquals(finalMap, a.value(gap.input()).height());
        assertEquals(finalMap, a.value(gap.input()).width());
        assertEquals(a.input().classes(), a.output().channels().base());
    }

    @ParameterizedTest
    @CsvSource({"mobilenetv1-cifar,28", "mobilenetv2-cifar,28", "resnet50-cifar,28", "resnet50-cifar,32"})
    void smallVariantsEndAtFourByFour(String name, int size) {
        Architecture a = Architectures.get(name, 1, size, 10);
        Op.GlobalAvgPool gap = (Op.GlobalAvgPool) a.op("avgpool");
        assertEquals(4, a.value(gap.input()).height());
        assertEquals(1, a.channels().get(0).base());
    }

    @Test
    void namesAndAliases() {
        assertEquals("mobilenetv2", Architectures.get("MobileNet_V2").name());
        assertEquals("mobilenetv1-cifar", Architectures.get("mobilenetv1-small").name());
        assertEquals("resnet50", Architectures.get("ResNet-50").name());
        assertSame(Architectures.get("resnet50"), Architectures.get("resnet50"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Architectures.get("vgg16"));
        assertTrue(e.getMessage().contains("unknown architecture 'vgg16'"), e.getMessage());
        for (String n : List.of("mobilenetv1", "mobilenetv2", "resnet50", "resnet50-cifar")) {
            assertTrue(e.getMessage().contains(n), e.getMessage());
        }
    }

    @Test
    void mobileNetV1Layout() {
        GeneSpace s = Architectures.geneSpace("mobilenetv1");
        int[] bases = new int[13];
        for (int i = 0; i < 13; i++) {
            bases[i] = s.position(i).base();
        }
        assertArrayEquals(new int[] {32, 64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024}, bases);
        assertEquals(13, s.tieGroups().size());
        Architecture a = Architectures.get("mobilenetv1");
        Op.Conv pw13 = (Op.Conv) a.op("block13.pw");
        assertFalse(pw13.out().isGene());
        assertEquals(1024, pw13.out().base());
        assertEquals(12, pw13.in().genePosition());
        Op.Conv dw2 = (Op.Conv) a.op("block2.dw");
        assertEquals(2, dw2.stride());
        assertSame(dw2.in(), dw2.out());
        assertEquals(1, dw2.in().genePosition());
        assertEquals(List.of(dw2.in(), ((Op.Conv) a.op("block2.pw")).out()), dw2.generator().inputs());
        assertEquals(64 * 9, dw2.generator().maxWeights());
        assertEquals(32, dw2.generator().hidden());
        Op.Conv stem = (Op.Conv) a.op("stem.conv");
        assertEquals(32L * 3 * 9, stem.generator().maxWeights());
        assertEquals(1, stem.generator().inputs().size());
        assertTrue(((Op.BatchNorm) a.op("block2.dw.bn")).affineInPruningNet());
        assertFalse(((Op.BatchNorm) a.op("block2.pw.bn")).affineInPruningNet());
        // strides 2 at stem, blocks 2, 4, 6, 12
        for (Op.Conv c : a.convs()) {
            boolean two = List.of("stem.conv", "block2.dw", "block4.dw", "block6.dw", "block12.dw").contains(c.name());
            assertEquals(two ? 2 : 1, c.stride(), c.name());
        }
    }

    @Test
    void mobileNetV2LayoutAndTies() {
        GeneSpace s = Architectures.geneSpace("mobilenetv2");
        int[] outBases = {44, 22, 33, 33, 44, 44, 44, 88, 88, 88, 88, 132, 132, 132, 224, 224, 224, 448};
        int[] midBases = {44, 132, 198, 198, 264, 264, 264, 528, 528, 528, 528, 792, 792, 792, 1344, 1344, 1344};
        for (int i = 0; i < 18; i++) {
            assertEquals(outBases[i], s.position(i).base(), "out " + i);
        }
        for (int j = 0; j < 17; j++) {
            assertEquals(midBases[j], s.position(18 + j).base(), "mid " + j);
            assertEquals("block" + (j + 1) + ".mid", s.position(18 + j).label());
        }
        List<List<Integer>> ties = s.tieGroups();
        assertEquals(List.of(0), ties.get(0));
        assertEquals(List.of(1), ties.get(1));
        assertEquals(List.of(2, 3), ties.get(2));
        assertEquals(List.of(4, 5, 6), ties.get(3));
        assertEquals(List.of(7, 8, 9, 10), ties.get(4));
        assertEquals(List.of(11, 12, 13), ties.get(5));
        assertEquals(List.of(14, 15, 16), ties.get(6));
        assertEquals(List.of(17), ties.get(7));
        assertEquals(8 + 17, ties.size());

        Architecture a = Architectures.get("mobilenetv2");
        Op.Conv e1 = (Op.Conv) a.op("block1.expand"); // MetaPruning keeps the ratio-1 expand conv
        assertEquals(18, e1.out().genePosition());
        assertEquals(0, e1.in().genePosition());
        assertArrayEquals(new int[] {44, 44, 1, 1}, e1.maxWeightShape());
        Op.Conv p5 = (Op.Conv) a.op("block5.project");
        assertEquals(List.of("block5.mid", "block4.out", "block5.out"),
                p5.generator().inputs().stream().map(Channels::label).toList());
        assertEquals(64, p5.generator().hidden());
        assertEquals(44L * 264, p5.generator().maxWeights());
        Op.Conv last = (Op.Conv) a.op("last.conv");
        assertEquals(1280, last.out().base());
        assertFalse(last.out().isGene());
        assertEquals(List.of(last.in()), last.generator().inputs());
        assertSame(last.in(), ((Op.BatchNorm) a.op("last.conv.bn")).statsKey());
        for (Op.Conv c : a.convs()) {
            boolean two = List.of("stem.conv", "block2.dw", "block4.dw", "block7.dw", "block14.dw").contains(c.name());
            assertEquals(two ? 2 : 1, c.stride(), c.name());
        }
        List<String> adds = a.ops().stream().filter(o -> o instanceof Op.Add).map(Op::name).toList();
        assertEquals(List.of("block3.add", "block5.add", "block6.add", "block8.add", "block9.add", "block10.add",
                "block12.add", "block13.add", "block15.add", "block16.add"), adds);
        float[] enc = p5.generator().encode(fullGene(a));
        assertArrayEquals(new float[] {1f, 1f, 1f}, enc);
    }

    private static int[] fullGene(Architecture a) {
        int[] g = new int[a.geneSpace().length()];
        java.util.Arrays.fill(g, 30);
        return g;
    }

    @Test
    void resnet50Layout() {
        GeneSpace s = Architectures.geneSpace("resnet50");
        assertEquals("stem.out", s.position(0).label());
        assertEquals(256, s.position(1).base());
        assertEquals(512, s.position(2).base());
        assertEquals(1024, s.position(3).base());
        int[] mids = {64, 64, 64, 128, 128, 128, 128, 256, 256, 256, 256, 256, 256, 512, 512, 512};
        for (int j = 0; j < 16; j++) {
            assertEquals(mids[j], s.position(4 + j).base());
        }
        assertEquals("layer1.0.mid", s.position(4).label());
        assertEquals("layer4.2.mid", s.position(19).label());
        Architecture a = Architectures.get("resnet50");
        Op.Conv c2 = (Op.Conv) a.op("layer2.0.conv2");
        assertEquals(2, c2.stride()); // v1.5: stride on the 3x3
        assertEquals(1, ((Op.Conv) a.op("layer2.0.conv1")).stride());
        Op.Conv ds = (Op.Conv) a.op("layer3.0.downsample");
        assertEquals(2, ds.stride());
        assertEquals(Op.ConvKind.POINTWISE, ds.kind());
        Op.Conv c3 = (Op.Conv) a.op("layer4.1.conv3");
        assertFalse(c3.out().isGene());
        assertEquals(2048, c3.out().base());
        assertEquals(List.of("layer4.1.mid", "layer4.out", "layer4.out"),
                c3.generator().inputs().stream().map(Channels::label).toList());
        Op.Conv stem = (Op.Conv) a.op("stem.conv");
        assertEquals(7, stem.kernel());
        assertEquals(64L * 3 * 49, stem.generator().maxWeights());
        assertEquals(56, a.value(((Op.MaxPool) a.op("stem.maxpool")).output()).height());
        assertThrows(IllegalArgumentException.class, () -> Architectures.get("resnet50-cifar").op("stem.maxpool"));
    }

    @Test
    void valuesAreConsistent() {
        for (String n : Architectures.names()) {
            Architecture a = Architectures.get(n);
            for (int i = 0; i < a.values().size(); i++) {
                assertEquals(i, a.value(i).id());
            }
            for (int i = 0; i < a.channels().size(); i++) {
                assertEquals(i, a.channels().get(i).id());
            }
            // every gene position is owned by exactly one dimension
            int[] owners = new int[a.geneSpace().length()];
            for (Channels c : a.channels()) {
                if (c.isGene()) {
                    owners[c.genePosition()]++;
                    assertEquals(a.geneSpace().position(c.genePosition()).base(), c.base());
                }
            }
            for (int o : owners) {
                assertEquals(1, o, n);
            }
        }
    }
}
