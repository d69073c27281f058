package dev.metaprune.pruningnet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.metaprune.tensor.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The search's thread-safe generation gives exactly the training forward's weights. */
class GenerateTest {
    @Test
    void generateEqualsForwardAfterFlush() {
        Generator g = new Generator(3, 64, 40, 24, 3, 3, 0.9f, 1e-4f, false).initDefault(3);
        SplittableRandom r = new SplittableRandom(1);
        Tensor out = Tensor.zeros(40, 24, 3, 3), grad = Tensor.zeros(40, 24, 3, 3);
        for (int step = 0; step < 6; step++) {
            int co = 1 + r.nextInt(40), ci = 1 + r.nextInt(24);
            float[] enc = {(float) r.nextDouble(), (float) r.nextDouble(), (float) r.nextDouble()};
            g.forward(enc, co, ci, out);
            for (int i = 0; i < grad.data().length; i++) {
                grad.data()[i] = (float) (r.nextDouble() - 0.5) * 1e-2f;
            }
            g.backwardAndStep(grad, 0.05f);
        }
        float[] enc = {0.4f, 0.7f, 1.0f};
        Tensor a = Tensor.zeros(40, 24, 3, 3), b = Tensor.zeros(40, 24, 3, 3);
        assertThrows(IllegalStateException.class, () -> g.generate(enc, 33, 17, b), "stale rows are refused");
        g.flush();
        g.generate(enc, 33, 17, b);
        g.forward(enc, 33, 17, a);
        assertArrayEquals(a.toArray(), b.toArray());
    }
}
