package dev.metaprune.prune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaprune.data.HeldBatch;
import dev.metaprune.nn.DenseModel;
import dev.metaprune.nn.arch.Architecture;
import dev.metaprune.nn.arch.Op;
import dev.metaprune.nn.cost.CostCounter;
import dev.metaprune.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** AMC's parts: the least-squares reconstruction, the agent's networks, the bounded environment. */
class AmcTest {
    static List<HeldBatch> batches(Architecture a, int n, int size, long seed) {
        List<HeldBatch> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int[] labels = new int[size];
            for (int j = 0; j < size; j++) {
                labels[j] = (i * size + j) % 10;
            }
            out.add(new HeldBatch(SurgeryTest.input(a, size, seed + i), labels));
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"mobilenetv2-cifar", "resnet20-cifar"})
    void leastSquaresReconstructionReducesTheFeatureError(String name) {
        Architecture a = SurgeryTest.arch(name);
        DenseModel m = SurgeryTest.dense(a, 13);
        ChannelGroups g = ChannelGroups.of(a);
        List<Reconstruction.Stats> stats = Reconstruction.sample(g, m.widths(), m.weights(), batches(a, 2, 4, 1), 6, 2);
        assertEquals(Reconstruction.consumers(g).size(), stats.size());
        // ResNet's 3x3 convs are refitted on their receptive fields (9 taps per input channel)
        assertEquals(name.startsWith("resnet"), stats.stream().anyMatch(s -> s.taps() == 9));
        double[][] scores = Ranking.consumerL1(g, m.widths(), m.weights());
        int improved = 0;
        for (Reconstruction.Stats s : stats) {
            Op.Conv c = s.conv();
            Tensor w = m.weights().get(c.name() + ".weight");
            int[] all = Surgery.range(s.cin());
            // the sampled pairs are consistent: the unpruned weights reproduce the sampled outputs
            double total = 0;
            for (double v : s.yy()) {
                total += v;
            }
            double exact = Reconstruction.error(s, all, Reconstruction.keptWeights(w, all));
            assertTrue(exact <= 1e-6 * total + 1e-9, c.name() + ": " + exact + " of " + total);
            int[] kept = Ranking.top(scores[g.groupOf(c.in())], Math.max(1, s.cin() / 2));
            double before = Reconstruction.error(s, kept, Reconstruction.keptWeights(w, kept));
            double[] refit = Reconstruction.solve(s, kept);
            double after = Reconstruction.error(s, kept, refit);
            assertTrue(after <= before * (1 + 1e-9) + 1e-9, c.name() + ": " + after + " > " + before);
            // a least-squares optimum: perturbing any weight does not lower the error
            double[] p = refit.clone();
            p[new Random(c.name().hashCode()).nextInt(p.length)] += 1e-2;
            assertTrue(Reconstruction.error(s, kept, p) >= after - 1e-9 * Math.max(1, total));
            if (after < 0.9 * before) {
                improved++;
            }
        }
        assertTrue(improved >= stats.size() / 2, improved + " of " + stats.size() + " consumers improved by >10%");
    }

    @ParameterizedTest
    @ValueSource(strings = {"mobilenetv2-cifar", "resnet20-cifar"})
    void reconstructedNetworkIsCloserToTheUnprunedOnFreshInputs(String name) {
        Architecture a = SurgeryTest.arch(name);
        DenseModel m = SurgeryTest.dense(a, 17);
        ChannelGroups g = ChannelGroups.of(a);
        // 1,024 samples: enough for a refit of up to 512 kept features (MIN_SAMPLES_PER_FEATURE)
        List<Reconstruction.Stats> stats = Reconstruction.sample(g, m.widths(), m.weights(), batches(a, 16, 4, 3), 16, 4);
        double[][] scores = Ranking.consumerL1(g, m.widths(), m.weights());
        double[] f = new double[g.size()];
        java.util.Arrays.fill(f, 0.7);
        int[][] byDim = Surgery.keptByDim(g, m.widths(), Pruner.perGroup(g, m.widths(), scores, f));
        Surgery.Pruned plain = Surgery.apply(m.widths(), m.weights(), byDim);
        Surgery.Pruned rec = Surgery.apply(m.widths(), Reconstruction.apply(stats, m.weights(), byDim), byDim);
        Tensor x = SurgeryTest.input(a, 4, 99);
        float[] ref = m.predict(x).toArray();
        double dPlain = distance(ref, logits(plain, x)), dRec = distance(ref, logits(rec, x));
        assertTrue(dRec < dPlain, "reconstructed " + dRec + " vs plain " + dPlain);
    }

    static float[] logits(Surgery.Pruned p, Tensor x) {
        DenseModel q = new DenseModel(p.widths(), x.dim(0), 0.9f, 0f, false, 0f, 1);
        for (Map.Entry<String, Tensor> e : q.weights().entrySet()) {
            e.getValue().copyFrom(p.weights().get(e.getKey()));
        }
        return q.predict(x).toArray();
    }

    static double distance(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (a[i] - b[i]) * (double) (a[i] - b[i]);
        }
        return s;
    }

    @Test
    void aKilledSearchContinuesExactlyFromItsSavedState(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp)
            throws Exception {
        Architecture a = SurgeryTest.arch("mobilenetv1-cifar");
        DenseModel m = SurgeryTest.dense(a, 23);
        ChannelGroups g = ChannelGroups.of(a);
        Amc.Settings st = new Amc.Settings(0.5, 2, 1, 0.2, 1.0, 0.5, 0.95, 2, 9); // warm-up, trained, trained
        java.util.function.Supplier<Amc> make = () -> new Amc(g, m.widths(), m.weights(), batches(a, 1, 4, 7),
                batches(a, 1, 4, 8), 3, st);
        List<Amc.Episode> straight = new ArrayList<>();
        make.get().run((e, b) -> straight.add(e));
        java.nio.file.Path file = tmp.resolve("state.bin");
        Amc first = make.get();
        List<Amc.Episode> resumed = new ArrayList<>();
        class Killed extends RuntimeException {
        }
        assertThrows(Killed.class, () -> first.run((e, b) -> {
            resumed.add(e);
            if (e.index() == 2) {
                throw new Killed(); // dies in episode 3, before its state is saved
            }
        }, first.newState("dense"), s -> {
            try {
                s.write(file);
            } catch (java.io.IOException ex) {
                throw new java.io.UncheckedIOException(ex);
            }
        }, 1));
        resumed.remove(resumed.size() - 1);
        Amc.State state = Amc.State.read(file, st, "dense");
        assertEquals(2, state.nextEpisode());
        make.get().run((e, b) -> resumed.add(e), state, null, 1);
        assertEquals(straight.size(), resumed.size());
        for (int i = 0; i < straight.size(); i++) {
            org.junit.jupiter.api.Assertions.assertArrayEquals(straight.get(i).actions(), resumed.get(i).actions(),
                    "episode " + i);
            assertEquals(straight.get(i).error(), resumed.get(i).error(), "episode " + i);
        }
        var e = assertThrows(IllegalArgumentException.class, () -> Amc.State.read(file,
                new Amc.Settings(0.4, 2, 1, 0.2, 1.0, 0.5, 0.95, 2, 9), "dense"));
        assertTrue(e.getMessage().contains("same options"), e.getMessage());
    }

    @Test
    void mlpGradientsMatchFiniteDifferences() {
        Mlp net = new Mlp(new Random(3), true, 4, 7, 5, 1);
        double[] x = {0.3, -0.2, 0.9, 0.1};
        double[][] acts = net.forward(x);
        double[] dx = net.backward(acts, new double[] {1}, true);
        double eps = 1e-6;
        for (int l = 0; l < net.w.length; l++) {
            for (int i = 0; i < net.w[l].length; i += 3) {
                double old = net.w[l][i];
                net.w[l][i] = old + eps;
                double up = net.output(x)[0];
                net.w[l][i] = old - eps;
                double down = net.output(x)[0];
                net.w[l][i] = old;
                assertEquals((up - down) / (2 * eps), net.gw[l][i], 1e-6, "w[" + l + "][" + i + "]");
            }
        }
        for (int i = 0; i < x.length; i++) {
            double[] xp = x.clone(), xm = x.clone();
            xp[i] += eps;
            xm[i] -= eps;
            assertEquals((net.output(xp)[0] - net.output(xm)[0]) / (2 * eps), dx[i], 1e-6);
        }
    }

    @Test
    void ddpgLearnsAOneStepBandit() {
        Ddpg agent = new Ddpg(2, 1000, 5);
        double[] s = {0.5, 1.0};
        double start = Math.abs(agent.act(s) - 0.75);
        for (int ep = 0; ep < 250; ep++) {
            double a = ep < 100 ? agent.uniform(0, 1)
                    : agent.truncatedNormal(agent.act(s), 0.5 * Math.pow(0.98, ep - 100), 0, 1);
            agent.observeEpisode(List.of(s), new double[] {a}, -(a - 0.75) * (a - 0.75) * 10);
            if (ep >= 100) {
                agent.update();
                agent.update();
            }
        }
        double end = Math.abs(agent.act(s) - 0.75);
        // the critic has learnt the reward's shape where the data is (a ReLU net this briefly trained is flat-ish at
        // the right edge) and the actor has followed it from 0.5 into the good region
        assertTrue(agent.q(s, 0.75) > agent.q(s, 0.2) + 1 && agent.q(s, 0.5) > agent.q(s, 0.2), "critic: Q(0.2) "
                + agent.q(s, 0.2) + ", Q(0.75) " + agent.q(s, 0.75) + ", Q(1) " + agent.q(s, 1.0));
        assertTrue(end < 0.15 && end < start, "actor " + agent.act(s) + " (optimum 0.75), started " + start);
    }

    @Test
    void everyEpisodeMeetsTheFlopsTargetAndTheBestIsKept() {
        Architecture a = SurgeryTest.arch("mobilenetv2-cifar");
        DenseModel m = SurgeryTest.dense(a, 19);
        ChannelGroups g = ChannelGroups.of(a);
        long full = CostCounter.count(m.widths()).flops();
        List<Amc.Episode> seen = new ArrayList<>();
        Amc amc = new Amc(g, m.widths(), m.weights(), batches(a, 1, 4, 7), batches(a, 2, 5, 8), 4,
                new Amc.Settings(0.5, 2, 3, 0.2, 1.0, 0.5, 0.95, 2, 1));
        Amc.Result r = amc.run((e, best) -> seen.add(e));
        assertEquals(5, seen.size());
        double bestErr = 2;
        for (Amc.Episode e : seen) {
            assertTrue(e.flops() <= 0.5 * full, "episode " + e.index() + ": " + e.flops() + " of " + full);
            assertEquals(amc.steps(), e.actions().length);
            for (double x : e.actions()) {
                assertTrue(x >= 0.2 - 1e-12 && x <= 1.0);
            }
            bestErr = Math.min(bestErr, e.error());
        }
        assertEquals(bestErr, r.error(), 1e-12, "the returned plan is the best episode's, re-evaluated");
        assertTrue(r.flops() <= 0.5 * full);
        var e = assertThrows(IllegalArgumentException.class, () -> new Amc(g, m.widths(), m.weights(),
                batches(a, 1, 2, 7), batches(a, 1, 2, 8), 2, new Amc.Settings(0.01, 1, 1, 0.2, 1.0, 0.5, 0.95, 1, 1))
                .run(null));
        assertTrue(e.getMessage().contains("cannot be met"), e.getMessage());
    }
}
