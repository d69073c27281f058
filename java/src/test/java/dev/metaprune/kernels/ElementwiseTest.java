package dev.metaprune.kernels;

import static dev.metaprune.testing.Refs.assertPaddingUntouched;
import static dev.metaprune.testing.Refs.assertSameBits;
import static dev.metaprune.testing.Refs.strided;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaprune.tensor.SafeTensors;
import dev.metaprune.tensor.Tensor;
import dev.metaprune.testing.Refs;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * ReLU, ReLU6, their backward passes and add. Tolerance: none. Every result is exact in float32
 * (a selection, or one correctly rounded addition), so outputs must equal PyTorch's bit for bit,
 * signed zeros included.
 */
class ElementwiseTest {
    @Test
    void matchesPyTorchBitForBit() {
        SafeTensors.File f = Refs.load("nnops/elementwise");
        Tensor x = f.get("x"), dy = f.get("dy"), a = f.get("a"), b = f.get("b");
        Tensor out = Tensor.zeros(x.shape());
        Elementwise.relu(x, out);
        assertSameBits("relu", out, f.get("relu"));
        Elementwise.relu6(x, out);
        assertSameBits("relu6", out, f.get("relu6"));
        Elementwise.reluBackward(x, dy, out);
        assertSameBits("reluBackward", out, f.get("relu_bwd"));
        Elementwise.relu6Backward(x, dy, out);
        assertSameBits("relu6Backward", out, f.get("relu6_bwd"));
        Elementwise.add(a, b, out);
        assertSameBits("add", out, f.get("add"));
        // the file really holds the boundary values
        int zeros = 0, sixes = 0;
        for (float v : x.data()) {
            zeros += v == 0f ? 1 : 0;
            sixes += v == 6f ? 1 : 0;
        }
        assertTrue(zeros >= 3 && sixes >= 2, "reference lacks exact 0 / 6 inputs");
    }

    @Test
    void specialValues() {
        float nan = Float.NaN, inf = Float.POSITIVE_INFINITY;
        float[] xs = {nan, -inf, inf, -0f, 0f, Float.MIN_VALUE, -Float.MIN_VALUE, 6f, Math.nextUp(6f),
                Math.nextDown(6f), -3f, 2.5f, 7f};
        float[] relu = {nan, 0f, inf, -0f, 0f, Float.MIN_VALUE, 0f, 6f, Math.nextUp(6f), Math.nextDown(6f), 0f, 2.5f, 7f};
        float[] relu6 = {nan, 0f, 6f, -0f, 0f, Float.MIN_VALUE, 0f, 6f, 6f, Math.nextDown(6f), 0f, 2.5f, 6f};
        // gradient passes (1) or not (0); dy = inf everywhere: a blocked entry must be 0, not inf * 0 = NaN
        int[] passRelu = {1, 0, 1, 0, 0, 1, 0, 1, 1, 1, 0, 1, 1};
        int[] passRelu6 = {1, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0};
        Tensor x = Tensor.wrap(xs.clone(), xs.length), y = Tensor.zeros(xs.length);
        Elementwise.relu(x, y);
        assertSameBits("relu specials", y, Tensor.wrap(relu, relu.length));
        Elementwise.relu6(x, y);
        assertSameBits("relu6 specials", y, Tensor.wrap(relu6, relu6.length));
        Tensor dy = Tensor.zeros(xs.length).fill(inf);
        Elementwise.reluBackward(x, dy, y);
        for (int i = 0; i < xs.length; i++) {
            assertEquals(passRelu[i] == 1 ? inf : 0f, y.get(i), "reluBackward at x = " + xs[i]);
        }
        Elementwise.relu6Backward(x, dy, y);
        for (int i = 0; i < xs.length; i++) {
            assertEquals(passRelu6[i] == 1 ? inf : 0f, y.get(i), "relu6Backward at x = " + xs[i]);
        }
    }

    static float relu(float v) {
        return v < 0 ? 0 : v;
    }

    static float relu6(float v) {
        return v < 0 ? 0 : (v > 6 ? 6 : v);
    }

    /** Scalar reference for every op on every element, over views and a tensor big enough to split. */
    @Test
    void viewsLargeTensorsAndAliasing() {
        SplittableRandom r = new SplittableRandom(9);
        for (int[] shape : new int[][] {{3, 5, 7, 13}, {4, 56, 56, 24}, {1, 1, 1, 1}, {2, 300001}}) {
            Tensor x0 = Refs.uniform(r, -3, 9, shape), d0 = Refs.uniform(r, -1, 1, shape);
            for (boolean view : new boolean[] {false, true}) {
                Tensor x = view ? strided(x0, 2, 3) : x0.copy(), dy = view ? strided(d0, 0, 1) : d0.copy();
                Tensor y = view ? strided(Tensor.zeros(shape), 1, 1) : Tensor.zeros(shape);
                String where = java.util.Arrays.toString(shape) + (view ? " view" : "");
                for (int op = 0; op < 5; op++) {
                    switch (op) {
                        case 0 -> Elementwise.relu(x, y);
                        case 1 -> Elementwise.relu6(x, y);
                        case 2 -> Elementwise.reluBackward(x, dy, y);
                        case 3 -> Elementwise.relu6Backward(x, dy, y);
                        default -> Elementwise.add(x, dy, y);
                    }
                    for (int i = 0; i < y.rows(); i++) {
                        for (int j = 0; j < y.cols(); j++) {
                            float xv = x.data()[x.rowOffset(i) + j], dv = dy.data()[dy.rowOffset(i) + j];
                            float want = switch (op) {
                                case 0 -> relu(xv);
                                case 1 -> relu6(xv);
                                case 2 -> xv <= 0 ? 0 : dv;
                                case 3 -> xv <= 0 || xv >= 6 ? 0 : dv;
                                default -> xv + dv;
                            };
                            float got = y.data()[y.rowOffset(i) + j];
                            if (Float.floatToIntBits(got) != Float.floatToIntBits(want)) {
                                throw new AssertionError("op " + op + " " + where + " at " + i + "," + j + ": got "
                                        + got + ", want " + want);
                            }
                        }
                    }
                    if (view) {
                        assertPaddingUntouched("op " + op + " output " + where, y);
                    }
                }
                // in place: y = x, dx = dy, y = a + b into either operand
                Tensor want = Tensor.zeros(shape);
                Elementwise.relu6(x, want);
                Tensor xin = view ? strided(x, 1, 2) : x.copy();
                Elementwise.relu6(xin, xin);
                assertSameBits("relu6 in place " + where, xin, want);
                Elementwise.reluBackward(x, dy, want);
                Tensor din = view ? strided(dy, 3, 0) : dy.copy();
                Elementwise.reluBackward(x, din, din);
                assertSameBits("reluBackward in place " + where, din, want);
                Elementwise.add(x, dy, want);
                Tensor ain = x.copy(), bin = dy.copy();
                Elementwise.add(ain, dy, ain);
                Elementwise.add(x, bin, bin);
                assertSameBits("add into a " + where, ain, want);
                assertSameBits("add into b " + where, bin, want);
            }
        }
    }

    @Test
    void rejectsBadShapes() {
        Tensor a = Tensor.zeros(2, 4, 4, 8), b = Tensor.zeros(2, 4, 4, 9);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Elementwise.add(a, b, a));
        assertTrue(e.getMessage().contains("[2, 4, 4, 9]") && e.getMessage().contains("[2, 4, 4, 8]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Elementwise.relu(a, Tensor.zeros(2, 4, 32)));
        assertTrue(e.getMessage().contains("[2, 4, 32]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Elementwise.reluBackward(a, b, a));
        assertThrows(IllegalArgumentException.class, () -> Elementwise.relu6Backward(a, a, b));
        assertThrows(IllegalArgumentException.class, () -> Elementwise.relu6(a, null));
        assertThrows(IllegalArgumentException.class, () -> Elementwise.add(a, null, a));
    }
}
