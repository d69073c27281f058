package dev.metaprune.prune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaprune.nn.DenseModel;
import dev.metaprune.nn.arch.Architecture;
import dev.metaprune.nn.arch.Architectures;
import dev.metaprune.nn.arch.Channels;
import dev.metaprune.nn.arch.Op;
import dev.metaprune.nn.arch.Widths;
import dev.metaprune.tensor.Init;
import dev.metaprune.tensor.Tensor;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** Pruning surgery: shapes, residual consistency, the kept channels, and exactness on channels that are dead. */
class SurgeryTest {
    static Architecture arch(String name) {
        return Architectures.get(name, 1, 8, 10);
    }

    static DenseModel dense(Architecture a, long seed) {
        DenseModel m = new DenseModel(Widths.uniform(a, 1.0), 4, 0.9f, 0f, false, 0f, seed);
        Random r = new Random(seed);
        for (Map.Entry<String, Tensor> e : m.weights().entrySet()) { // non-trivial BN parameters and statistics
            String n = e.getKey();
            float[] d = e.getValue().data();
            if (n.endsWith(".running_var")) {
                for (int i = 0; i < d.length; i++) {
                    d[i] = 0.5f + r.nextFloat();
                }
            } else if (n.endsWith(".running_mean") || (n.endsWith(".bias") && !n.startsWith("fc"))) {
                for (int i = 0; i < d.length; i++) {
                    d[i] = 0.2f * (float) r.nextGaussian();
                }
            } else if (n.endsWith(".weight") && e.getValue().rank() == 1) {
                for (int i = 0; i < d.length; i++) {
                    d[i] = 0.5f + r.nextFloat();
                }
            }
        }
        return m;
    }

    static Tensor input(Architecture a, int n, long seed) {
        Tensor x = Tensor.zeros(n, a.input().size(), a.input().size(), a.input().channels());
        Init.normal(x, 0f, 1f, seed);
        return x;
    }

    @ParameterizedTest
    @ValueSource(strings = {"mobilenetv2-cifar", "mobilenetv1-cifar"})
    void shapesFollowTheKeptChannelsAndThePrunedNetworkRuns(String name) {
        Architecture a = arch(name);
        DenseModel m = dense(a, 3);
        Widths src = m.widths();
        ChannelGroups g = ChannelGroups.of(a);
        double[][] scores = Ranking.l1(g, src, m.weights());
        double[] f = new double[g.size()];
        Arrays.fill(f, 0.4);
        int[][] byDim = Surgery.keptByDim(g, src, Pruner.perGroup(g, src, scores, f));
        Surgery.Pruned p = Surgery.apply(src, m.weights(), byDim);
        for (Channels c : a.channels()) {
            int expect = c.isGene() ? Pruner.keepCount(0.4, src.of(c)) : src.of(c);
            assertEquals(expect, p.widths().of(c), c.label());
        }
        for (Op.Conv c : a.convs()) {
            int[] shape = p.weights().get(c.name() + ".weight").shape();
            int in = c.kind() == Op.ConvKind.DEPTHWISE ? 1 : p.widths().of(c.in());
            assertArrayEquals(new int[] {p.widths().of(c.out()), in, c.kernel(), c.kernel()}, shape, c.name());
        }
        DenseModel q = new DenseModel(p.widths(), 4, 0.9f, 0f, false, 0f, 1);
        for (Map.Entry<String, Tensor> e : q.weights().entrySet()) {
            Tensor t = p.weights().get(e.getKey());
            assertArrayEquals(e.getValue().shape(), t.shape(), e.getKey());
            e.getValue().copyFrom(t);
        }
        Tensor y = q.predict(input(a, 2, 5));
        assertEquals(2, y.dim(0));
        for (float v : y.toArray()) {
            assertTrue(Float.isFinite(v));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"mobilenetv2-cifar", "resnet50-cifar", "resnet20-cifar"})
    void residualOperandsKeepTheSameChannels(String name) {
        Architecture a = arch(name);
        DenseModel m = dense(a, 4);
        ChannelGroups g = ChannelGroups.of(a);
        int adds = 0;
        double[][] scores = Ranking.l1(g, m.widths(), m.weights());
        double[] f = new double[g.size()];
        Arrays.fill(f, 0.5);
        int[][] byDim = Surgery.keptByDim(g, m.widths(), Pruner.perGroup(g, m.widths(), scores, f));
        for (Op op : a.ops()) {
            if (op instanceof Op.Add add) {
                Channels ca = a.value(add.a()).channels(), cb = a.value(add.b()).channels();
                assertEquals(g.groupOf(ca), g.groupOf(cb), add.name());
                assertArrayEquals(byDim[ca.id()], byDim[cb.id()], add.name());
                assertEquals(g.prunable(g.groupOf(ca)), byDim[ca.id()].length < m.widths().of(ca),
                        "pruned iff prunable (ResNet's stage 4 output is fixed): " + add.name());
                adds++;
            }
        }
        assertTrue(adds >= 9, "the family has residual adds: " + adds);
        // MobileNetV2: the three blocks of stage 3 (block4..6 outputs) form one group
        if (name.startsWith("mobilenetv2")) {
            int g4 = g.groupOfLabel("block4.out");
            assertEquals(g4, g.groupOfLabel("block5.out"));
            assertEquals(g4, g.groupOfLabel("block6.out"));
            assertTrue(g.groupOfLabel("block3.out") != g4);
            assertTrue(g.groupOfLabel("block5.mid") != g4);
        }
    }

    @Test
    void keptFiltersAreTheHighestL1AndCopiedExactly() {
        Architecture a = arch("mobilenetv2-cifar");
        DenseModel m = dense(a, 7);
        Widths src = m.widths();
        ChannelGroups g = ChannelGroups.of(a);
        double[][] scores = Ranking.l1(g, src, m.weights());
        double[] f = new double[g.size()];
        Arrays.fill(f, 0.3);
        int[][] kept = Pruner.perGroup(g, src, scores, f);
        int[][] byDim = Surgery.keptByDim(g, src, kept);
        Surgery.Pruned p = Surgery.apply(src, m.weights(), byDim);
        // block5's expand conv is the only non-depthwise producer of block5.mid: its score is its own filter L1
        Op.Conv expand = (Op.Conv) a.op("block5.expand");
        Tensor w = m.weights().get("block5.expand.weight");
        int co = w.dim(0), per = w.dim(1);
        double[] l1 = new double[co];
        for (int o = 0; o < co; o++) {
            for (int i = 0; i < per; i++) {
                l1[o] += Math.abs(w.get(o, i, 0, 0));
            }
        }
        int[] k = byDim[expand.out().id()];
        boolean[] isKept = new boolean[co];
        double minKept = Double.MAX_VALUE, maxDropped = -1;
        for (int o : k) {
            isKept[o] = true;
            minKept = Math.min(minKept, l1[o]);
        }
        for (int o = 0; o < co; o++) {
            if (!isKept[o]) {
                maxDropped = Math.max(maxDropped, l1[o]);
            }
        }
        assertEquals(Pruner.keepCount(0.3, co), k.length);
        assertTrue(minKept >= maxDropped, minKept + " < " + maxDropped);
        // and the pruned weight holds exactly those filters at the kept input channels
        int[] ki = byDim[expand.in().id()];
        Tensor pw = p.weights().get("block5.expand.weight");
        for (int o = 0; o < k.length; o++) {
            for (int i = 0; i < ki.length; i++) {
                assertEquals(w.get(k[o], ki[i], 0, 0), pw.get(o, i, 0, 0));
            }
        }
        // the depthwise conv keeps the same channels' filters, the BN their statistics
        Tensor dw = m.weights().get("block5.dw.weight"), pdw = p.weights().get("block5.dw.weight");
        Tensor rm = m.weights().get("block5.dw.bn.running_mean"), prm = p.weights().get("block5.dw.bn.running_mean");
        for (int o = 0; o < k.length; o++) {
            assertEquals(dw.get(k[o], 0, 1, 2), pdw.get(o, 0, 1, 2));
            assertEquals(rm.get(k[o]), prm.get(o));
        }
    }

    /**
     * Channels whose every BatchNorm has zero scale and shift contribute nothing: slimming them away must give
     * exactly the same logits (in every family, through residual stages, downsamples, depthwise convs).
     */
    @ParameterizedTest
    @ValueSource(strings = {"mobilenetv2-cifar", "resnet50-cifar", "mobilenetv1-cifar", "resnet20-cifar"})
    void pruningDeadChannelsLeavesTheOutputUnchanged(String name) {
        Architecture a = arch(name);
        DenseModel m = dense(a, 11);
        Widths src = m.widths();
        ChannelGroups g = ChannelGroups.of(a);
        Random r = new Random(5);
        int alive = 0;
        for (int gi = 0; gi < g.size(); gi++) {
            if (!g.prunable(gi)) {
                continue;
            }
            int w = src.of(a.channels().get(g.members(gi)[0]));
            boolean[] dead = new boolean[w];
            for (int c = 0; c < w; c++) {
                dead[c] = r.nextDouble() < 0.5;
            }
            dead[r.nextInt(w)] = false;
            for (int c = 0; c < w; c++) {
                alive += dead[c] ? 0 : 1;
            }
            for (Op op : a.ops()) {
                if (op instanceof Op.BatchNorm b && g.groupOf(b.channels()) == gi) {
                    for (int c = 0; c < w; c++) {
                        if (dead[c]) {
                            m.weights().get(b.name() + ".weight").set(0f, c);
                            m.weights().get(b.name() + ".bias").set(0f, c);
                        }
                    }
                }
            }
        }
        double[][] scores = Ranking.bnScale(g, src, m.weights());
        int[][] kept = Pruner.global(g, scores, alive);
        Surgery.Pruned p = Surgery.apply(src, m.weights(), Surgery.keptByDim(g, src, kept));
        assertTrue(dev.metaprune.nn.cost.CostCounter.count(p.widths()).flops()
                < 0.6 * dev.metaprune.nn.cost.CostCounter.count(src).flops());
        DenseModel q = new DenseModel(p.widths(), 4, 0.9f, 0f, false, 0f, 1);
        for (Map.Entry<String, Tensor> e : q.weights().entrySet()) {
            e.getValue().copyFrom(p.weights().get(e.getKey()));
        }
        Tensor x = input(a, 3, 9);
        float[] full = m.predict(x).toArray();
        float[] pruned = q.predict(x).toArray();
        float scale = 0;
        for (float v : full) {
            scale = Math.max(scale, Math.abs(v));
        }
        for (int i = 0; i < full.length; i++) {
            assertEquals(full[i], pruned[i], 1e-4f * Math.max(1f, scale), "logit " + i);
        }
    }

    @Test
    void bnSparsityAddsItsSubgradientToTheScales() {
        Architecture a = arch("mobilenetv1-cifar");
        DenseModel plain = dense(a, 21), sparse = dense(a, 21);
        sparse.setBnL1(0.5f);
        Tensor x = input(a, 4, 3);
        int[] labels = {0, 1, 2, 3};
        Map<String, Tensor> before = new java.util.HashMap<>();
        for (Map.Entry<String, Tensor> e : plain.weights().entrySet()) {
            before.put(e.getKey(), e.getValue().copy());
        }
        float lr = 0.1f;
        plain.trainStep(x, labels, lr);
        sparse.trainStep(x, labels, lr);
        int checked = 0;
        for (Op op : a.ops()) {
            if (op instanceof Op.BatchNorm b) {
                String n = b.name() + ".weight";
                float[] g0 = before.get(n).toArray(), gp = plain.weights().get(n).toArray(),
                        gs = sparse.weights().get(n).toArray();
                for (int c = 0; c < g0.length; c++) { // first step: momentum buffer = gradient
                    assertEquals(-lr * 0.5f * Math.signum(g0[c]), gs[c] - gp[c], 1e-5f, n + "[" + c + "]");
                    checked++;
                }
                assertArrayEquals(plain.weights().get(b.name() + ".bias").toArray(),
                        sparse.weights().get(b.name() + ".bias").toArray(), 1e-6f);
            }
        }
        assertTrue(checked > 100);
    }

    @Test
    void globalRankingKeepsEveryGroupsBestAndTheHighestOverall() {
        Architecture a = arch("mobilenetv1-cifar");
        ChannelGroups g = ChannelGroups.of(a);
        double[][] s = new double[g.size()][];
        int prunable = 0;
        Random r = new Random(1);
        for (int i = 0; i < g.size(); i++) {
            if (g.prunable(i)) {
                s[i] = new double[4];
                for (int c = 0; c < 4; c++) {
                    s[i][c] = prunable == 0 ? 100 + c : r.nextDouble();
                }
                prunable++;
            }
        }
        int[][] kept = Pruner.global(g, s, prunable + 3);
        int first = -1;
        for (int i = 0; i < g.size(); i++) {
            if (s[i] != null) {
                assertTrue(kept[i].length >= 1);
                if (first < 0) {
                    first = i;
                }
            }
        }
        assertArrayEquals(new int[] {0, 1, 2, 3}, kept[first], "the four highest scores are all in the first group");
        final int tooFew = prunable - 1;
        assertThrows(IllegalArgumentException.class, () -> Pruner.global(g, s, tooFew));
    }

    @Test
    void badKeptSetsAndWidthsAreRefused() {
        Architecture a = arch("mobilenetv2-cifar");
        Widths src = Widths.uniform(a, 1.0);
        ChannelGroups g = ChannelGroups.of(a);
        int[][] kept = new int[g.size()][];
        int gi = g.groupOfLabel("block3.mid");
        kept[gi] = new int[] {1, 1};
        var e = assertThrows(IllegalArgumentException.class, () -> Surgery.keptByDim(g, src, kept));
        assertTrue(e.getMessage().contains("repeated"), e.getMessage());
        kept[gi] = new int[] {0, 10_000};
        assertThrows(IllegalArgumentException.class, () -> Surgery.keptByDim(g, src, kept));
        int last = -1;
        for (Channels c : a.channels()) {
            if (c.label().equals("last.out")) {
                last = c.id();
            }
        }
        int[] w = Widths.uniform(a, 1.0).all();
        w[last] = 10;
        final int[] ww = w;
        e = assertThrows(IllegalArgumentException.class, () -> Widths.explicit(a, ww));
        assertTrue(e.getMessage().contains("fixed"), e.getMessage());
        var e2 = assertThrows(IllegalArgumentException.class, () -> g.groupOfLabel("block99.mid"));
        assertTrue(e2.getMessage().contains("block3.mid"), e2.getMessage());
    }

    @Test
    void uniformFractionMeetsTheBudgetTightly() {
        Architecture a = arch("mobilenetv2-cifar");
        DenseModel m = dense(a, 2);
        ChannelGroups g = ChannelGroups.of(a);
        double[][] scores = Ranking.l1(g, m.widths(), m.weights());
        long full = dev.metaprune.nn.cost.CostCounter.count(m.widths()).flops();
        long budget = full / 2;
        double f = Pruner.uniformFractionFor(g, m.widths(), scores, budget);
        double[] fr = new double[g.size()];
        Arrays.fill(fr, f);
        long at = Pruner.flops(g, m.widths(), Pruner.perGroup(g, m.widths(), scores, fr));
        assertTrue(at <= budget && at > 0.9 * budget, at + " vs " + budget);
        int n = Pruner.globalCountFor(g, m.widths(), scores, budget);
        long gl = Pruner.flops(g, m.widths(), Pruner.global(g, scores, n));
        assertTrue(gl <= budget && Pruner.flops(g, m.widths(), Pruner.global(g, scores, n + 1)) > budget);
        assertThrows(IllegalArgumentException.class, () -> Pruner.uniformFractionFor(g, m.widths(), scores, 1000));
    }
}
