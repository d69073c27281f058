package dev.metaprune.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class RngTest {
    @Test
    void matchesTheSplitMix64ReferenceSequence() {
        // Reference outputs of SplitMix64 (Vigna's splitmix64.c) from state 0 and from state 1234567.
        Rng r = new Rng(0);
        assertEquals(0xE220A8397B1DCDAFL, r.nextLong());
        assertEquals(0x6E789E6AA1B965F4L, r.nextLong());
        assertEquals(0x06C45D188009454FL, r.nextLong());
        Rng s = new Rng(1234567);
        assertEquals(6457827717110365317L, s.nextLong());
        assertEquals(3203168211198807973L, s.nextLong());
        // reseed restarts the sequence
        assertEquals(0xE220A8397B1DCDAFL, r.reseed(0).nextLong());
    }

    @Test
    void boundedDrawsAreInRangeAndRoughlyUniform() {
        Rng r = new Rng(7);
        int[] counts = new int[7];
        for (int i = 0; i < 70_000; i++) {
            counts[r.nextInt(7)]++;
        }
        for (int c : counts) {
            assertTrue(Math.abs(c - 10_000) < 500, Arrays.toString(counts));
        }
        for (int i = 0; i < 1000; i++) {
            double d = r.nextDouble();
            assertTrue(d >= 0 && d < 1);
            assertEquals(0, r.nextInt(1));
        }
    }

    @Test
    void shuffleIsASeededPermutation() {
        int[] a = new int[100];
        Arrays.setAll(a, i -> i);
        int[] b = a.clone(), c = a.clone();
        new Rng(5).shuffle(b);
        new Rng(5).shuffle(c);
        assertArrayEquals(b, c);
        assertNotEquals(Arrays.toString(a), Arrays.toString(b));
        int[] sorted = b.clone();
        Arrays.sort(sorted);
        assertArrayEquals(a, sorted);
    }

    @Test
    void deriveSeparatesPaths() {
        assertEquals(Rng.derive(1, 2, 3, 4), Rng.derive(1, new long[] {2, 3, 4}));
        assertNotEquals(Rng.derive(1, 2, 3, 4), Rng.derive(1, 2, 4, 3));
        assertNotEquals(Rng.derive(1, 0), Rng.derive(2, 0));
        assertNotEquals(Rng.derive(1, 0), Rng.derive(1, 1));
    }
}
