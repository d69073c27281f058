package dev.metaprune.kernels;

import static dev.metaprune.testing.Refs.relErr;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaprune.pruningnet.Generator;
import dev.metaprune.tensor.Tensor;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The generator kernels' reference (eager SGD on every row) against the host {@link Generator} (the same SGD, lazy on
 * the rows outside the crop): several steps with changing crops, so that rows sit out steps and come back. Then the
 * same through the Generator's device path on the emulated device.
 */
class GeneratorKernelTest {
    private static Tensor random(SplittableRandom r, int... shape) {
        Tensor t = Tensor.zeros(shape);
        for (int i = 0; i < t.data().length; i++) {
            t.data()[i] = (float) r.nextGaussian();
        }
        return t;
    }

    @ParameterizedTest
    @CsvSource({"24, 16, 3, 32, false", "20, 1, 3, 8, true", "12, 10, 1, 6, false"})
    void theEagerStepEqualsTheHostGeneratorsLazyStep(int outMax, int inMax, int k, int hidden, boolean nesterov) {
        float m = 0.9f, wd = 4e-3f;   // a large decay, so that rows left out of steps move visibly
        Generator host = new Generator(3, hidden, outMax, inMax, k, k, m, wd, nesterov).initDefault(5);
        Map<String, float[]> s0 = host.state();
        int rows = outMax * inMax * k * k;
        Tensor w1 = Tensor.wrap(s0.get("fc1.weight").clone(), hidden, 3), b1 = Tensor.wrap(s0.get("fc1.bias").clone(), hidden);
        Tensor w2 = Tensor.wrap(s0.get("fc2.weight").clone(), rows, hidden), b2 = Tensor.wrap(s0.get("fc2.bias").clone(), rows);
        Tensor mw1 = Tensor.zeros(hidden, 3), mb1 = Tensor.zeros(hidden), mw2 = Tensor.zeros(rows, hidden);
        Tensor mb2 = Tensor.zeros(rows), pre = Tensor.zeros(hidden), h = Tensor.zeros(hidden), dh = Tensor.zeros(hidden);
        SplittableRandom r = new SplittableRandom(17);
        int[][] crops = {{outMax, inMax}, {outMax / 2, Math.max(1, inMax / 3)}, {3, inMax}, {outMax / 2, 1},
                {outMax, Math.max(1, inMax / 2)}, {outMax - 1, inMax}};
        for (int[] crop : crops) {
            int co = crop[0], ci = crop[1];
            float[] encoding = {(float) r.nextDouble(), (float) r.nextDouble(), 1f};
            Tensor outHost = Tensor.zeros(outMax, inMax, k, k), outRef = Tensor.zeros(outMax, inMax, k, k);
            host.forward(encoding, co, ci, outHost);
            Tensor enc = Tensor.wrap(encoding.clone(), 3);
            GeneratorKernel.hidden(w1, b1, enc, pre, h);
            GeneratorKernel.forward(w2, b2, h, co, ci, outRef);
            assertTrue(relErr(outRef.toArray(), outHost.toArray()) < 1e-5, "forward, crop " + co + "x" + ci);
            Tensor dOut = random(r, outMax, inMax, k, k);
            host.backwardAndStep(dOut, 0.05f);
            GeneratorKernel.backwardStep(w2, b2, mw2, mb2, h, dOut, co, ci, dh, 0.05f, m, wd, nesterov);
            GeneratorKernel.hiddenBackwardStep(w1, b1, mw1, mb1, enc, pre, dh, 0.05f, m, wd, nesterov);
        }
        Map<String, float[]> s1 = host.state();   // flushed: every row current
        Map<String, Tensor> ref = Map.of("fc1.weight", w1, "fc1.bias", b1, "fc2.weight", w2, "fc2.bias", b2,
                "fc1.weight.momentum", mw1, "fc1.bias.momentum", mb1, "fc2.weight.momentum", mw2,
                "fc2.bias.momentum", mb2);
        for (var e : ref.entrySet()) {
            double err = relErr(e.getValue().toArray(), s1.get(e.getKey()));
            assertTrue(err < 1e-5, e.getKey() + ": " + err);
        }
    }

    @Test
    void theGeneratorsDevicePathOnTheEmulatedDeviceMatchesItsHostPathAndHandsBackToIt() {
        float m = 0.9f, wd = 4e-3f;
        Generator host = new Generator(2, 16, 12, 8, 3, 3, m, wd, false).initDefault(9);
        Generator dev = new Generator(2, 16, 12, 8, 3, 3, m, wd, false).initDefault(9);
        EmulatedDeviceKernels k = new EmulatedDeviceKernels();
        SplittableRandom r = new SplittableRandom(3);
        int[][] crops = {{12, 8}, {6, 3}, {9, 8}, {4, 1}};
        for (int step = 0; step < 8; step++) {
            int[] crop = crops[step % crops.length];
            float[] enc = {(float) r.nextDouble(), (float) r.nextDouble()};
            Tensor oh = Tensor.zeros(12, 8, 3, 3), od = Tensor.zeros(12, 8, 3, 3);
            Tensor dOut = random(r, 12, 8, 3, 3);
            if (step < 2) {
                // the first steps on the host (lazy rows left pending), then the device takes over
                dev.forward(enc, crop[0], crop[1], od);
                dev.backwardAndStep(dOut, 0.05f);
            } else {
                Tensor encT = Tensor.wrap(enc, enc.length);
                dev.forwardOn(k, encT, crop[0], crop[1], od);
                k.toHost(od);
                k.hostChanged(dOut);
                dev.backwardAndStepOn(k, dOut, 0.05f);
            }
            host.forward(enc, crop[0], crop[1], oh);
            host.backwardAndStep(dOut, 0.05f);
            assertTrue(relErr(od.toArray(), oh.toArray()) < 1e-5, "generated weight of step " + step);
        }
        Map<String, float[]> sh = host.state(), sd = dev.state();   // state() brings the device's copies back
        for (String key : sh.keySet()) {
            assertTrue(relErr(sd.get(key), sh.get(key)) < 1e-5, key);
        }
        // the host generates from the device-trained arrays: its bookkeeping says every row is current
        Tensor gh = Tensor.zeros(12, 8, 3, 3), gd = Tensor.zeros(12, 8, 3, 3);
        host.generate(new float[] {0.3f, 0.7f}, 10, 5, gh);
        dev.generate(new float[] {0.3f, 0.7f}, 10, 5, gd);
        assertTrue(relErr(gd.toArray(), gh.toArray()) < 1e-5);
        assertTrue(host.step() == dev.step());
    }

    @Test
    void badShapesAndCropsAreRefusedByName() {
        Tensor w2 = Tensor.zeros(6 * 2 * 9, 4), b2 = Tensor.zeros(6 * 2 * 9), h = Tensor.zeros(4);
        Tensor out = Tensor.zeros(6, 2, 3, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> GeneratorKernel.forward(w2, b2, h, 7, 1, out));
        assertTrue(e.getMessage().contains("crop [7, 1]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> GeneratorKernel.forward(Tensor.zeros(6 * 2 * 9, 5), b2, h, 6, 2, out));
        assertTrue(e.getMessage().contains("generatorForward"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> GeneratorKernel.hidden(Tensor.zeros(4, 3), Tensor.zeros(4), Tensor.zeros(2), Tensor.zeros(4), h));
        assertTrue(e.getMessage().contains("generatorHidden"), e.getMessage());
    }
}
