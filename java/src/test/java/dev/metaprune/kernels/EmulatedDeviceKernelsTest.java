package dev.metaprune.kernels;

import static dev.metaprune.testing.Refs.relErr;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaprune.data.HeldBatch;
import dev.metaprune.nn.DenseModel;
import dev.metaprune.nn.Network;
import dev.metaprune.nn.arch.Architecture;
import dev.metaprune.nn.arch.InputSpec;
import dev.metaprune.nn.arch.Op;
import dev.metaprune.nn.arch.TestArchitectures;
import dev.metaprune.pruningnet.PruningNet;
import dev.metaprune.tensor.Tensor;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The device-resident protocol ({@link Kernels#toHost}, {@link Kernels#hostChanged}, {@link Kernels#copy}) on the
 * emulated device: a missed call shows (poisoned host arrays, refused writes), and PruningNet training, a search's
 * gene evaluation and dense training compute bit for bit what the CPU backend computes while only what the host
 * touches is copied. The CUDA backend's resident mode runs the same {@link Residency} bookkeeping.
 */
class EmulatedDeviceKernelsTest {
    /** The net of the training tests (max pooling, residual adds), its SGD settings, and a batch's labels. */
    private static final Architecture TOY = TestArchitectures.toyResidual(new InputSpec(1, 12, 4));
    private static final PruningNet.Hyper HYPER = PruningNet.Hyper.official(4e-5f);
    private static final int[] LABELS = {0, 1, 2, 3, 1, 2};

    private static Tensor random(long seed, int... shape) {
        Tensor t = Tensor.zeros(shape);
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < t.data().length; i++) {
            t.data()[i] = (float) r.nextGaussian();
        }
        return t;
    }

    @Test
    void whatAKernelWroteIsStaleOnTheHostUntilToHostAndHostWritesAreDeclared() {
        EmulatedDeviceKernels k = new EmulatedDeviceKernels();
        Tensor x = random(1, 4, 6), y = Tensor.zeros(4, 6);
        Tensor expected = Tensor.zeros(4, 6);
        new CpuKernels().relu(x, expected);
        k.relu(x, y);
        assertTrue(Float.isNaN(y.data()[0]) && Float.isNaN(y.data()[23]), "the host's copy of an output is poisoned");
        assertFalse(Float.isNaN(x.data()[0]), "an input stays current on the host");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> k.hostChanged(y));
        assertTrue(e.getMessage().contains("toHost"), e.getMessage());
        k.toHost(y);
        assertArrayEquals(expected.data(), y.data());
        assertEquals(1, k.residency().downloads());

        // a host write after toHost is declared and reaches the next kernel; without the declaration it would not
        y.fill(-1f);
        k.hostChanged(y);
        Tensor z = Tensor.zeros(4, 6);
        k.relu(y, z);
        k.toHost(z);
        assertArrayEquals(new float[24], z.data());
        // the input changed on the host without a declaration: the device still holds the old values
        x.fill(2f);
        k.relu(x, z);
        k.toHost(z);
        assertArrayEquals(expected.data(), z.data());
    }

    @Test
    void copyWorksBetweenChannelViewsOnTheDevice() {
        EmulatedDeviceKernels k = new EmulatedDeviceKernels();
        Tensor src = random(2, 3, 8), dst = Tensor.zeros(3, 8);
        Tensor dv = dst.channels(2, 7);
        k.copy(src.channels(0, 5), dv);
        k.toHost(dst);
        for (int r = 0; r < 3; r++) {
            for (int c = 0; c < 8; c++) {
                assertEquals(c >= 2 && c < 7 ? src.get(r, c - 2) : 0f, dst.get(r, c), "row " + r + " col " + c);
            }
        }
    }

    private static int convs(Architecture a) {
        return (int) a.ops().stream().filter(o -> o instanceof Op.Conv).count();
    }

    /** The emulated device with the generators left on the host (as on a backend that cannot run them). */
    private static Kernels hostGenerators(EmulatedDeviceKernels dev) {
        return new ForwardingKernels(dev) {
            @Override
            public boolean deviceResident() {
                return false;
            }
        };
    }

    @Test
    void aPruningNetWithHostGeneratorsTrainsAndEvaluatesAsOnTheCpuMovingOnlyWhatTheHostTouches() {
        Architecture a = TOY;
        PruningNet.Hyper h = HYPER;
        CpuKernels cpuK = new CpuKernels();
        EmulatedDeviceKernels dev = new EmulatedDeviceKernels();
        PruningNet onCpu = new PruningNet(a, 6, h, 11, true, cpuK);
        PruningNet onDev = new PruningNet(a, 6, h, 11, true, hostGenerators(dev));
        Tensor x = random(3, 6, 12, 12, 1);
        int[] labels = LABELS.clone();
        int[][] genes = {{30, 30, 30}, {4, 17, 29}, {12, 0, 7}, {30, 30, 30}, {25, 9, 18}};
        int convs = convs(a);
        long[] up = new long[genes.length], down = new long[genes.length];
        for (int s = 0; s < genes.length; s++) {
            long u0 = dev.residency().uploads(), d0 = dev.residency().downloads();
            float lc = onCpu.trainStep(x, labels, genes[s], 0.05f);
            float ld = onDev.trainStep(x, labels, genes[s], 0.05f);
            assertEquals(Float.floatToIntBits(lc), Float.floatToIntBits(ld), "loss of step " + s);
            up[s] = dev.residency().uploads() - u0;
            down[s] = dev.residency().downloads() - d0;
        }
        Tensor logitsCpu = onCpu.network().activation(a.output().id(), 6);
        Tensor logitsDev = onDev.network().activation(a.output().id(), 6);
        assertEquals(cpuK.countTopK(logitsCpu, labels, 2), dev.countTopK(logitsDev, labels, 2));
        assertArrayEquals(logitsCpu.toArray(), logitsDev.toArray(), "countTopK brought the logits to the host");

        // after the first step only the generated weights and the input go up, only the generators' gradients come
        // down: activations, BatchNorm statistics, the classifier and its momentum stay on the device. Step 3 repeats
        // step 0's gene (full widths: no gradient is zeroed on the host, every statistics set is resident already)
        assertEquals(convs + 1, up[3], "uploads of a step at full width with a gene seen before");
        assertEquals(convs, down[3], "downloads of that step");
        // other genes add first-sight copies of their BatchNorm statistics sets (2 per BN); the gradients outside the
        // used width are zeroed on the device
        int bns = (int) a.ops().stream().filter(o -> o instanceof Op.BatchNorm).count();
        for (int s = 1; s < genes.length; s++) {
            assertTrue(up[s] >= convs + 1 && up[s] <= convs + 1 + 2 * bns, "uploads in step " + s + ": " + up[s]);
            assertEquals(convs, down[s], "downloads in step " + s);
        }
        assertTrue(dev.residency().size() > 3L * convs, dev.residency().size() + " arrays resident");

        Map<String, Tensor> sc = onCpu.state(), sd = onDev.state();
        assertEquals(sc.keySet(), sd.keySet());
        for (String key : sc.keySet()) {
            assertArrayEquals(sc.get(key).toArray(), sd.get(key).toArray(), key);
        }

        // a search's evaluation of a gene: generated weights, BatchNorm recalibration, top-1 error
        List<HeldBatch> recal = List.of(new HeldBatch(random(5, 6, 12, 12, 1), labels.clone()),
                new HeldBatch(random(6, 6, 12, 12, 1), labels.clone()));
        List<HeldBatch> val = List.of(new HeldBatch(random(7, 6, 12, 12, 1), new int[] {3, 2, 1, 0, 0, 1}));
        onCpu.flush();
        onDev.flush();
        for (int[] g : new int[][] {{10, 20, 30}, {3, 3, 3}}) {
            assertEquals(onCpu.generatedNetwork(6).error(g, recal, val), onDev.generatedNetwork(6).error(g, recal, val),
                    "error of gene " + java.util.Arrays.toString(g));
        }
    }

    @Test
    void aPruningNetWithDeviceGeneratorsTrainsAsOnTheCpuAndNoWeightCrossesToTheHost() {
        Architecture a = TOY;
        PruningNet.Hyper h = HYPER;
        EmulatedDeviceKernels dev = new EmulatedDeviceKernels();
        PruningNet onCpu = new PruningNet(a, 6, h, 11, true, new CpuKernels());
        PruningNet onDev = new PruningNet(a, 6, h, 11, true, dev);
        Tensor x = random(3, 6, 12, 12, 1);
        int[] labels = LABELS.clone();
        int[][] genes = {{30, 30, 30}, {4, 17, 29}, {12, 0, 7}, {30, 30, 30}, {25, 9, 18}, {30, 30, 30}};
        int convs = convs(a);
        long[] up = new long[genes.length], down = new long[genes.length];
        for (int s = 0; s < genes.length; s++) {
            long u0 = dev.residency().uploads(), d0 = dev.residency().downloads();
            float lc = onCpu.trainStep(x, labels, genes[s], 0.05f);
            float ld = onDev.trainStep(x, labels, genes[s], 0.05f);
            // the host generators step lazily (rows outside the crop caught up in double precision), the device ones
            // eagerly in float: the same SGD, rounded differently
            assertEquals(lc, ld, 1e-5 * Math.abs(lc), "loss of step " + s);
            up[s] = dev.residency().uploads() - u0;
            down[s] = dev.residency().downloads() - d0;
        }
        // a step with a gene seen before: the input and the generators' encodings (one array) go up, nothing comes
        // down (the generated weights and their gradients stay on the device); a new gene adds its BatchNorm
        // statistics sets once
        assertEquals(2, up[3], "uploads");
        assertEquals(2, up[5], "uploads");
        int bns = (int) a.ops().stream().filter(o -> o instanceof Op.BatchNorm).count();
        for (int s = 1; s < genes.length; s++) {
            assertTrue(up[s] >= 2 && up[s] <= 2 + 2 * bns, "uploads in step " + s + ": " + up[s]);
            assertEquals(0, down[s], "downloads in step " + s);
        }
        assertEquals(onCpu.step(), onDev.step());

        Map<String, Tensor> sc = onCpu.state(), sd = onDev.state();
        assertEquals(sc.keySet(), sd.keySet());
        for (String key : sc.keySet()) {
            assertTrue(relErr(sd.get(key).toArray(), sc.get(key).toArray()) < 1e-5, key + ": "
                    + relErr(sd.get(key).toArray(), sc.get(key).toArray()));
        }
        // after the device steps the host generates from the same weights (flush brings them back)
        onCpu.flush();
        onDev.flush();
        for (int i = 0; i < a.ops().size(); i++) {
            if (a.ops().get(i) instanceof Op.Conv c) {
                float[] enc = c.generator().encode(new int[] {7, 19, 23});
                int[] sh = c.maxWeightShape();
                Tensor wc = Tensor.zeros(sh), wd = Tensor.zeros(sh);
                int co = Math.min(5, sh[0]), ci = Math.min(3, sh[1]);
                onCpu.generator(i).generate(enc, co, ci, wc);
                onDev.generator(i).generate(enc, co, ci, wd);
                assertTrue(relErr(wd.toArray(), wc.toArray()) < 1e-5, c.name());
            }
        }
        // and training goes on on the device after the host generated
        float lc = onCpu.trainStep(x, labels, genes[1], 0.05f), ld = onDev.trainStep(x, labels, genes[1], 0.05f);
        assertEquals(lc, ld, 1e-5 * Math.abs(lc));

        // a search's evaluation generates on the device too: per gene only the encodings cross (one array)
        onCpu.flush();
        onDev.flush();
        var gc = onCpu.generatedNetwork(6);
        var gd = onDev.generatedNetwork(6);
        Tensor xr = random(8, 6, 12, 12, 1);
        for (int[] g : new int[][] {{10, 20, 30}, {3, 3, 3}, {30, 1, 17}}) {
            long u0 = dev.residency().uploads(), d0 = dev.residency().downloads();
            var wc = gc.load(g);
            var wdv = gd.load(g);
            if (g[0] != 10) {   // after the first gene: the weights are resident
                assertEquals(1, dev.residency().uploads() - u0, "uploads to generate a gene");
                assertEquals(0, dev.residency().downloads() - d0, "downloads to generate a gene");
            }
            gc.network().forward(xr, wc, Network.BnMode.RECALIBRATE);
            gd.network().forward(xr, wdv, Network.BnMode.RECALIBRATE);
            Tensor yc = gc.network().forward(xr, wc, Network.BnMode.EVAL);
            Tensor yd = gd.network().forward(xr, wdv, Network.BnMode.EVAL);
            dev.toHost(yd);
            assertTrue(relErr(yd.toArray(), yc.toArray()) < 1e-5, "logits of gene " + java.util.Arrays.toString(g)
                    + ": " + relErr(yd.toArray(), yc.toArray()));
        }
    }

    @Test
    void aCheckpointReadBackIntoTheStateReachesTheDevice() {
        Architecture a = TOY;
        PruningNet.Hyper h = HYPER;
        EmulatedDeviceKernels dev = new EmulatedDeviceKernels();
        PruningNet trained = new PruningNet(a, 6, h, 11, true, new CpuKernels());
        PruningNet restored = new PruningNet(a, 6, h, 99, true, dev);
        PruningNet reference = new PruningNet(a, 6, h, 11, true, new CpuKernels());
        Tensor x = random(3, 6, 12, 12, 1);
        int[] labels = LABELS.clone();
        trained.trainStep(x, labels, new int[] {20, 20, 20}, 0.05f);
        reference.trainStep(x, labels, new int[] {20, 20, 20}, 0.05f);
        restored.trainStep(x, labels, new int[] {5, 6, 7}, 0.05f);   // its own values on the device first
        Map<String, Tensor> src = trained.state(), dst = restored.state();
        for (var e : src.entrySet()) {
            dst.get(e.getKey()).copyFrom(e.getValue());
        }
        restored.stateChanged();
        restored.restoredAt(trained.step());
        float lr = reference.trainStep(x, labels, new int[] {8, 30, 14}, 0.05f);
        float ld = restored.trainStep(x, labels, new int[] {8, 30, 14}, 0.05f);
        // the restored net's own values are still on the device unless stateChanged refreshed them: a wrong loss
        assertEquals(lr, ld, 1e-5 * Math.abs(lr));
        assertEquals(reference.step(), restored.step());
    }

    @Test
    void aDenseModelWithBatchNormSparsityTrainsAsOnTheCpu() {
        Architecture a = TOY;
        var w = a.widthsForGene(new int[] {14, 22, 9});
        EmulatedDeviceKernels dev = new EmulatedDeviceKernels();
        DenseModel onCpu = new DenseModel(w, 6, 0.9f, 1e-4f, false, 0.1f, 5, new CpuKernels());
        DenseModel onDev = new DenseModel(w, 6, 0.9f, 1e-4f, false, 0.1f, 5, dev);
        onCpu.setBnL1(1e-3f);
        onDev.setBnL1(1e-3f);
        Tensor x = random(4, 6, 12, 12, 1);
        int[] labels = {3, 1, 2, 0, 1, 2};
        for (int s = 0; s < 4; s++) {
            assertEquals(Float.floatToIntBits(onCpu.trainStep(x, labels, 0.05f)),
                    Float.floatToIntBits(onDev.trainStep(x, labels, 0.05f)), "loss of step " + s);
        }
        Map<String, Tensor> sc = onCpu.state(), sd = onDev.state();
        for (String key : sc.keySet()) {
            assertArrayEquals(sc.get(key).toArray(), sd.get(key).toArray(), key);
        }
        Tensor pc = onCpu.predict(x), pd = onDev.predict(x);
        dev.toHost(pd);
        assertArrayEquals(pc.toArray(), pd.toArray());
    }
}
