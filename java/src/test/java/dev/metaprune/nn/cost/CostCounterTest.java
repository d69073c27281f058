package dev.metaprune.nn.cost;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.metaprune.nn.arch.Architecture;
import dev.metaprune.nn.arch.Architectures;
import dev.metaprune.nn.arch.InputSpec;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The published figures (multiply-adds of conv + FC; params with BN gamma/beta and FC bias). Exact values were
 * cross-checked with an independent Python computation of the same layouts (and, for ResNet-50 and torchvision's
 * MobileNetV2, with torchvision's parameter counts).
 */
class CostCounterTest {
    static CostReport width(String arch, double m) {
        return CostCounter.count(Architectures.get(arch).widthsForMultiplier(m));
    }

    static CostReport gene(String arch, int... g) {
        return CostCounter.count(Architectures.get(arch).widthsForGene(g));
    }

    static double roundTo(double v, double step) {
        return Math.round(v / step) * step;
    }

    @ParameterizedTest
    @CsvSource({"1.0,568.7,568740352", "0.75,325.4,325400448", "0.5,149.5,149497088", "0.25,41.0,41030272"})
    void mobileNetV1Figures(double m, double paperM, long exact) {
        CostReport r = width("mobilenetv1", m);
        assertEquals(paperM, roundTo(r.mflops(), 0.1), 1e-9);
        assertEquals(exact, r.flops());
    }

    @Test
    void mobileNetV1Params() {
        CostReport r = width("mobilenetv1", 1.0);
        assertEquals(4.2, roundTo(r.mparams(), 0.1), 1e-9);
        assertEquals(4_231_976, r.params());
        assertEquals(1_025_000, r.fcParams());
        assertEquals(3_185_088, r.convParams());
        // gene of all 1.00 = the 1.0x network
        assertEquals(r.flops(), gene("mobilenetv1", fill(13, 30)).flops());
        assertEquals(r.params(), gene("mobilenetv1", fill(13, 30)).params());
    }

    @Test
    void mobileNetV2Figures() {
        CostReport tv = width("mobilenetv2-torchvision", 1.0);
        assertEquals(300.8, roundTo(tv.mflops(), 0.1), 1e-9);
        assertEquals(300_774_272, tv.flops());
        assertEquals(3_504_872, tv.params()); // torchvision mobilenet_v2(): sum of numel
        assertEquals(3.5, roundTo(tv.mparams(), 0.1), 1e-9);
        // MetaPruning's layout at the 1.0x widths: + the block-1 1x1 expand (32 -> 32 at 112x112 = 12,845,056)
        CostReport mp = width("mobilenetv2", 1.0);
        assertEquals(313.6, roundTo(mp.mflops(), 0.1), 1e-9);
        assertEquals(313_619_328, mp.flops());
        assertEquals(112L * 112 * 32 * 32, mp.flops() - tv.flops());
        assertEquals(3_505_960, mp.params());
        assertEquals(3.5, roundTo(mp.mparams(), 0.1), 1e-9);
        // the PruningNet's largest network: every gene index 30 (1.4x-ish bases)
        CostReport max = gene("mobilenetv2", fill(35, 30));
        assertEquals(Architectures.get("mobilenetv2").geneSpace().length(), 35);
        assertEquals(true, max.flops() > 550_000_000L && max.flops() < 620_000_000L);
    }

    @Test
    void resnet50Figures() {
        CostReport r = width("resnet50", 1.0);
        assertEquals(4_089_184_256L, r.flops());
        assertEquals(4.09, roundTo(r.flops() / 1e9, 0.01), 1e-9);
        assertEquals(25_557_032, r.params()); // torchvision resnet50(): sum of numel
        assertEquals(25.6, roundTo(r.mparams(), 0.1), 1e-9);
        assertEquals(53_120, r.bnParams());
        assertEquals(r.flops(), gene("resnet50", fill(20, 30)).flops());
        // the README's uniform baselines (2048 scaled too): 0.75x = 2.3 G, 0.5x = 1.1 G
        assertEquals(2.3, roundTo(width("resnet50", 0.75).flops() / 1e9, 0.1), 1e-9);
        assertEquals(1.1, roundTo(width("resnet50", 0.5).flops() / 1e9, 0.1), 1e-9);
    }

    @Test
    void officialEvaluationGenes() {
        // rngs / ids from the official evaluating scripts; values from an independent Python computation
        assertEquals(313_208_831, gene("mobilenetv1", 28, 18, 10, 23, 23, 22, 22, 13, 17, 28, 17, 25, 29).flops());
        assertEquals(104_870_557, gene("mobilenetv2", 14, 12, 11, 11, 8, 8, 8, 7, 7, 7, 7, 8, 8, 8, 14, 14, 14, 8, 6, 5,
                2, 15, 7, 17, 14, 5, 11, 12, 12, 11, 6, 16, 14, 13, 14).flops());
        CostReport rn = gene("resnet50", 19, 9, 15, 13, 10, 9, 10, 6, 9, 13, 11, 12, 7, 18, 7, 13, 12, 10, 19, 18);
        assertEquals(1_027_554_986, rn.flops());
        assertEquals(10_567_336, rn.params());
    }

    @ParameterizedTest
    @CsvSource({"mobilenetv1-cifar,3,32,1.0,175556608,3217226", "mobilenetv1-cifar,1,28,0.5,35967104,823434",
            "mobilenetv2-cifar,3,32,1.0,89025024,2237770", "mobilenetv2-cifar,1,28,0.5,21294400,697258",
            "resnet50-cifar,3,32,1.0,1297829888,23520842", "resnet50-cifar,1,28,0.5,261822976,5898474",
            // ResNet-20 / 56 with 1x1 projection shortcuts: a PyTorch model's conv and FC multiply-adds and parameters
            // (40.55 M and 0.27 M for the paper's option-A ResNet-20, plus the two projections)
            "resnet20-cifar,3,32,1.0,40813184,272474", "resnet20-cifar,1,28,0.5,7783872,68642",
            "resnet56-cifar,3,32,1.0,125747840,855770"})
    void smallVariants(String arch, int ch, int size, double m, long flops, long params) {
        Architecture a = Architectures.get(arch, new InputSpec(ch, size, 10));
        CostReport r = CostCounter.count(a.widthsForMultiplier(m));
        assertEquals(flops, r.flops());
        assertEquals(params, r.params());
    }

    @Test
    void smallResnetGene() {
        Architecture a = Architectures.get("resnet50-cifar");
        CostReport r = CostCounter.count(a.widthsForGene(
                new int[] {19, 9, 15, 13, 10, 9, 10, 6, 9, 13, 11, 12, 7, 18, 7, 13, 12, 10, 19, 18}));
        assertEquals(310_752_416, r.flops());
        assertEquals(8_533_786, r.params());
    }

    @Test
    void layerBreakdownAddsUp() {
        for (String n : Architectures.names()) {
            CostReport r = width(n, 0.7);
            assertEquals(r.flops(), r.layers().stream().mapToLong(LayerCost::macs).sum(), n);
            assertEquals(r.params(), r.layers().stream().mapToLong(LayerCost::params).sum(), n);
        }
        LayerCost fc = width("mobilenetv1", 1.0).layers().getLast();
        assertEquals("fc", fc.name());
        assertEquals(1_024_000, fc.macs());
    }

    @Test
    void badMultipliers() {
        assertThrows(IllegalArgumentException.class, () -> width("mobilenetv1", 0));
        assertThrows(IllegalArgumentException.class, () -> width("mobilenetv1", -0.5));
        assertThrows(IllegalArgumentException.class, () -> width("mobilenetv1", Double.NaN));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> width("mobilenetv1", 0.01));
        assertEquals(true, e.getMessage().contains("stem.out"), e.getMessage());
    }

    static int[] fill(int n, int v) {
        int[] g = new int[n];
        Arrays.fill(g, v);
        return g;
    }
}
