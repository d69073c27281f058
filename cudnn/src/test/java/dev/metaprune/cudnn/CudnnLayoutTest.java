package dev.metaprune.cudnn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaprune.kernels.Conv2dSpec;
import dev.metaprune.tensor.Init;
import dev.metaprune.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** The tensor-to-cuDNN layout mapping, checked element by element against {@link Tensor#get} (no GPU needed). */
class CudnnLayoutTest {
    /** Packs {@code w}'s leading block for {@code s} and checks every element against OIHW indexing. */
    private static void checkPacked(Tensor w, Conv2dSpec s) {
        float[] p = CudnnLayout.packFilter(w, s);
        int cinG = s.cIn() / s.groups();
        assertEquals(s.cOut() * s.kh() * s.kw() * cinG, p.length);
        for (int o = 0; o < s.cOut(); o++) {
            for (int r = 0; r < s.kh(); r++) {
                for (int c = 0; c < s.kw(); c++) {
                    for (int i = 0; i < cinG; i++) {
                        assertEquals(w.get(o, i, r, c), p[((o * s.kh() + r) * s.kw() + c) * cinG + i],
                                "KRSC element (" + o + ", " + r + ", " + c + ", " + i + ") of " + s);
                    }
                }
            }
        }
    }

    @Test
    void packsTheLeadingBlockOfASlicedWeightAsKrsc() {
        Tensor pw = Tensor.zeros(8, 6, 1, 1);
        Init.normal(pw, 0f, 1f, 1);
        checkPacked(pw, Conv2dSpec.of(4, 3, 1, 1, 0, 1));      // sliced 1x1: 3 of 8 outputs, 4 of 6 inputs
        checkPacked(pw, Conv2dSpec.of(6, 8, 1, 1, 0, 1));      // the whole weight
        Tensor general = Tensor.zeros(5, 4, 3, 3);
        Init.normal(general, 0f, 1f, 2);
        checkPacked(general, Conv2dSpec.of(2, 3, 3, 2, 1, 1)); // sliced 3x3, stride 2
        Tensor dw = Tensor.zeros(6, 1, 3, 3);
        Init.normal(dw, 0f, 1f, 3);
        checkPacked(dw, Conv2dSpec.depthwise(4, 3, 2, 1));     // depthwise: one input channel per group
        // a weight that does not start at its array's beginning
        float[] big = new float[7 + 5 * 4 * 9];
        Tensor at7 = Tensor.view(big, 7, 3, 5, 4, 3, 3);
        Init.normal(at7, 0f, 1f, 4);
        checkPacked(at7, Conv2dSpec.of(3, 4, 3, 1, 1, 1));
    }

    @Test
    void refusesAWeightThatDoesNotHoldTheConvolution() {
        Tensor w = Tensor.zeros(4, 4, 1, 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CudnnLayout.packFilter(w, Conv2dSpec.of(6, 4, 1, 1, 0, 1)));
        assertTrue(e.getMessage().contains("[4, 4, 1, 1] does not hold"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> CudnnLayout.packFilter(w, Conv2dSpec.of(4, 4, 3, 1, 1, 1)));
    }

    @Test
    void onlyAPackedTensorPassesAsItIs() {
        Tensor full = Tensor.zeros(2, 3, 4, 10);
        assertTrue(CudnnLayout.packed(full));
        assertFalse(CudnnLayout.packed(full.channels(2, 7)), "rows 10 apart, 5 channels: staged");
        assertTrue(CudnnLayout.packed(Tensor.view(new float[2 * 3 * 4 * 5], 0, 5, 2, 3, 4, 5)));
    }

    @Test
    void planKeysTellShapesApart() {
        Tensor y = Tensor.zeros(1, 4, 4, 4);
        Conv2dSpec s = Conv2dSpec.of(4, 4, 1, 1, 0, 1);
        String key = CudnnLayout.planKey(Tensor.zeros(1, 4, 4, 4), y, s, false);
        assertFalse(key.equals(CudnnLayout.planKey(Tensor.zeros(2, 4, 4, 4), Tensor.zeros(2, 4, 4, 4), s, false)),
                "batch differs");
        assertFalse(key.equals(CudnnLayout.planKey(Tensor.zeros(1, 4, 4, 4), y, s, true)), "bias differs");
        assertFalse(key.equals(CudnnLayout.planKey(Tensor.zeros(1, 4, 4, 4), y, Conv2dSpec.depthwise(4, 1, 1, 0),
                false)), "groups differ");
        // a channel view is planned as its packed copy
        assertEquals(key, CudnnLayout.planKey(Tensor.zeros(1, 4, 4, 8).channels(0, 4), y, s, false));
    }
}
