package dev.metaprune.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class ParallelTest {
    @Test
    void everyPartRunsExactlyOnce() {
        for (int parts : new int[] {1, 2, 3, 7, 64}) {
            AtomicIntegerArray hits = new AtomicIntegerArray(parts);
            Parallel.get().run(parts, (p, n) -> {
                assertEquals(parts, n);
                hits.incrementAndGet(p);
            });
            for (int i = 0; i < parts; i++) {
                assertEquals(1, hits.get(i), "part " + i + " of " + parts);
            }
        }
    }

    @Test
    void failuresPropagateAndThePoolKeepsWorking() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Parallel.get().run(4, (p, n) -> {
            if (p == 3) {
                throw new IllegalStateException("boom in part 3");
            }
        }));
        assertEquals("boom in part 3", e.getMessage());
        AtomicIntegerArray hits = new AtomicIntegerArray(4);
        Parallel.get().run(4, (p, n) -> hits.incrementAndGet(p));
        assertEquals(4, hits.get(0) + hits.get(1) + hits.get(2) + hits.get(3));
    }

    @Test
    void nestedCallsRunSerially() {
        AtomicIntegerArray hits = new AtomicIntegerArray(16);
        Parallel.get().run(2, (p, n) -> Parallel.get().run(8, (q, m) -> hits.incrementAndGet(p * 8 + q)));
        for (int i = 0; i < 16; i++) {
            assertEquals(1, hits.get(i));
        }
    }

    @Test
    void splitCoversTheRange() {
        for (int n : new int[] {0, 1, 5, 100}) {
            for (int parts = 1; parts < 9; parts++) {
                assertEquals(0, Parallel.split(n, parts, 0));
                assertEquals(n, Parallel.split(n, parts, parts));
                for (int p = 0; p < parts; p++) {
                    int len = Parallel.split(n, parts, p + 1) - Parallel.split(n, parts, p);
                    assertEquals(true, len >= n / parts && len <= n / parts + 1);
                }
            }
        }
    }
}
