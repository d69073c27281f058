package dev.metaprune.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

class TensorTest {
    private static Tensor iota(int... shape) {
        Tensor t = Tensor.zeros(shape);
        for (int i = 0; i < t.data().length; i++) {
            t.data()[i] = i;
        }
        return t;
    }

    @Test
    void channelViewSharesStorageAndNarrowsRows() {
        Tensor t = iota(2, 3, 4, 10); // NHWC
        Tensor v = t.channels(3, 7);
        assertSame(t.data(), v.data());
        assertArrayEquals(new int[] {2, 3, 4, 4}, v.shape());
        assertEquals(10, v.ld());
        assertFalse(v.isContiguous());
        assertEquals(t.get(1, 2, 3, 5), v.get(1, 2, 3, 2));
        v.set(-1f, 0, 0, 1, 0);
        assertEquals(-1f, t.get(0, 0, 1, 3));
        // nested view
        Tensor vv = v.channels(1, 3);
        assertEquals(t.get(1, 1, 1, 4), vv.get(1, 1, 1, 0));
        // copy is dense and equal
        Tensor c = v.copy();
        assertTrue(c.isContiguous());
        assertEquals(v.get(1, 2, 3, 3), c.get(1, 2, 3, 3));
    }

    @Test
    void fillAndCopyTouchOnlyTheView() {
        Tensor t = iota(1, 2, 2, 6);
        t.channels(2, 4).fill(0f);
        assertEquals(1f, t.get(0, 0, 0, 1));
        assertEquals(0f, t.get(0, 0, 0, 2));
        assertEquals(4f, t.get(0, 0, 0, 4));
        assertEquals(0f, t.get(0, 1, 1, 3));
        assertEquals(22f, t.get(0, 1, 1, 4));
    }

    @Test
    void sliceAndReshape() {
        Tensor t = iota(4, 2, 2, 3);
        Tensor s = t.slice0(1, 3);
        assertArrayEquals(new int[] {2, 2, 2, 3}, s.shape());
        assertEquals(t.get(1, 0, 0, 0), s.get(0, 0, 0, 0));
        Tensor r = t.reshape(16, 3);
        assertEquals(t.get(3, 1, 1, 2), r.get(15, 2));
        Tensor v = t.channels(0, 2);
        assertEquals(t.get(2, 1, 0, 1), v.reshape(16, 2).get(2 * 4 + 2, 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> v.reshape(4, 8));
        assertTrue(e.getMessage().contains("row length"), e.getMessage());
    }

    @Test
    void segmentIsTheSameMemory() {
        Tensor t = iota(3, 5);
        Tensor v = t.channels(1, 4);
        var seg = v.segment();
        assertEquals(v.get(0, 0), seg.getAtIndex(ValueLayout.JAVA_FLOAT, 0));
        assertEquals(v.get(2, 2), seg.getAtIndex(ValueLayout.JAVA_FLOAT, 2L * 5 + 2));
        seg.setAtIndex(ValueLayout.JAVA_FLOAT, 1, 42f);
        assertEquals(42f, t.get(0, 2));
    }

    @Test
    void badShapesAreRejectedWithTheShape() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(2, 0, 3));
        assertTrue(e.getMessage().contains("[2, 0, 3]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(2, -1));
        assertTrue(e.getMessage().contains("-1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.wrap(new float[5], 2, 3));
        assertTrue(e.getMessage().contains("[2, 3]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> iota(2, 4).channels(3, 6));
        assertTrue(e.getMessage().contains("[3, 6)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.view(new float[10], 0, 4, 3, 4));
        assertTrue(e.getMessage().contains("needs 12"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.view(new float[10], 0, 2, 2, 4));
        assertTrue(e.getMessage().contains("row stride"), e.getMessage());
        assertThrows(IndexOutOfBoundsException.class, () -> iota(2, 2).get(2, 0));
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(50_000, 50_000));
        assertTrue(e.getMessage().contains("more than a Java array"), e.getMessage());
    }
}
