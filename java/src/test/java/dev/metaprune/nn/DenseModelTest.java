package dev.metaprune.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaprune.kernels.Kernels;
import dev.metaprune.nn.arch.Architecture;
import dev.metaprune.nn.arch.InputSpec;
import dev.metaprune.nn.arch.TestArchitectures;
import dev.metaprune.nn.arch.Widths;
import dev.metaprune.tensor.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** A network with its own weights on the shared executor: shapes follow the widths, and it learns. */
class DenseModelTest {
    @Test
    void weightsFollowTheWidthsAndTrainingFitsABatch() {
        Architecture a = TestArchitectures.toy(new InputSpec(1, 8, 3));
        Widths w = a.widthsForGene(new int[] {10, 20, 30});
        DenseModel m = new DenseModel(w, 12, 0.9f, 1e-4f, false, 0f, 5);
        var state = m.state();
        assertArrayEquals(new int[] {w.positionWidths()[0], 1, 3, 3}, state.get("stem.conv.weight").shape());
        assertArrayEquals(new int[] {32, w.positionWidths()[1], 1, 1}, state.get("block2.pw.weight").shape());
        assertArrayEquals(new int[] {3, 32}, state.get("fc.weight").shape());
        assertTrue(state.containsKey("fc.weight.momentum") && state.containsKey("block1.dw.bn.running_var"));

        SplittableRandom r = new SplittableRandom(9);
        Tensor x = Tensor.zeros(12, 8, 8, 1);
        for (int i = 0; i < x.data().length; i++) {
            x.data()[i] = (float) r.nextGaussian();
        }
        int[] labels = new int[12];
        for (int i = 0; i < 12; i++) {
            labels[i] = i % 3;
        }
        float first = m.trainStep(x, labels, 0.05f), last = first;
        for (int s = 0; s < 60; s++) {
            last = m.trainStep(x, labels, 0.05f);
        }
        assertTrue(last < 0.5f * first, "loss went from " + first + " to " + last + " on one memorised batch");
        // evaluation uses the running statistics; after training on the same batch it classifies it
        Tensor logits = m.predict(x);
        assertEquals(12, logits.dim(0));
        assertTrue(Kernels.get().countTopK(logits, labels, 1) >= 9);
    }
}
