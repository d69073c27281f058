package dev.metaprune.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The bookkeeping of device-resident backends, against a device that records what it is asked to do. */
class ResidencyTest {
    /** "Device" buffers are float arrays; every request is logged. */
    static final class Recorder implements Residency.Device<float[]> {
        final List<String> log = new ArrayList<>();
        int freed;

        @Override
        public float[] allocate(Object array) {
            log.add("alloc");
            return new float[((float[]) array).length];
        }

        @Override
        public void upload(Object array, float[] buffer) {
            log.add("up");
            System.arraycopy(array, 0, buffer, 0, buffer.length);
        }

        @Override
        public void download(float[] buffer, Object array) {
            log.add("down");
            System.arraycopy(buffer, 0, array, 0, buffer.length);
        }

        @Override
        public void free(float[] buffer) {
            freed++;
        }
    }

    @Test
    void copiesMoveOnlyWhenOneSideIsNewer() {
        Recorder d = new Recorder();
        Residency<float[]> r = new Residency<>(d);
        float[] a = {1, 2, 3};
        float[] dev = r.device(a);
        assertArrayEquals(a, dev);
        assertSame(dev, r.device(a));
        r.toHost(a);                                   // both current: nothing moves
        assertEquals(List.of("alloc", "up"), d.log);

        dev[1] = 20;                                    // a kernel writes
        r.deviceWrote(a);
        assertTrue(r.deviceNewer(a));
        assertThrows(IllegalStateException.class, () -> r.hostChanged(a));
        r.toHost(a);
        assertArrayEquals(new float[] {1, 20, 3}, a);
        r.toHost(a);                                    // once only
        assertEquals(List.of("alloc", "up", "down"), d.log);

        a[0] = 10;                                      // the host writes
        r.hostChanged(a);
        assertFalse(r.deviceNewer(a));
        assertArrayEquals(new float[] {10, 20, 3}, r.device(a));
        r.device(a);
        assertEquals(List.of("alloc", "up", "down", "up"), d.log);
        assertEquals(2, r.uploads());
        assertEquals(1, r.downloads());

        float[] never = {5};
        r.hostChanged(never);                           // no copy yet: nothing to mark
        r.toHost(never);
        assertNull(r.existing(never));
        assertThrows(IllegalStateException.class, () -> r.deviceWrote(never));
        assertThrows(IllegalArgumentException.class, () -> r.device(new double[1]));
    }

    @Test
    void releaseKeepsTheHostCurrentWhenAskedAndFreesEverything() {
        Recorder d = new Recorder();
        Residency<float[]> r = new Residency<>(d);
        float[] a = {1}, b = {2};
        r.device(a)[0] = 7;
        r.deviceWrote(a);
        r.device(b)[0] = 8;
        r.deviceWrote(b);
        r.releaseAll(true);
        assertArrayEquals(new float[] {7}, a);
        assertArrayEquals(new float[] {8}, b);
        assertEquals(2, d.freed);
        assertEquals(0, r.size());

        r.device(a)[0] = 9;
        r.deviceWrote(a);
        r.releaseAll(false);                            // timing: outputs are not copied back
        assertArrayEquals(new float[] {7}, a);
        assertEquals(3, d.freed);
    }

    @Test
    void theCopyOfAnArrayTheCollectorTookIsFreed() throws InterruptedException {
        Recorder d = new Recorder();
        Residency<float[]> r = new Residency<>(d);
        float[] kept = new float[4];
        r.device(kept);
        r.device(new float[1 << 20]);
        assertEquals(2, r.size());
        for (int i = 0; i < 20 && r.size() > 1; i++) {
            System.gc();
            Thread.sleep(20);
        }
        assumeTrue(r.size() == 1, "the collector did not clear the weak reference in 20 tries");
        assertEquals(1, d.freed);
        assertSame(r.existing(kept), r.device(kept));
    }
}
