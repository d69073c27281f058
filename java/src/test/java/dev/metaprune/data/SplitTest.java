package dev.metaprune.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class SplitTest {
    /** Labels with unequal class sizes: class k has 20 + 3k images, interleaved. */
    static ImageDataset unbalanced() {
        int classes = 5;
        int n = 0;
        for (int k = 0; k < classes; k++) {
            n += 20 + 3 * k;
        }
        int[] labels = new int[n];
        int[] left = new int[classes];
        for (int k = 0; k < classes; k++) {
            left[k] = 20 + 3 * k;
        }
        int i = 0, k = 0;
        while (i < n) {
            if (left[k] > 0) {
                labels[i++] = k;
                left[k]--;
            }
            k = (k + 1) % classes;
        }
        return ImageDataset.ofBytes("u", "test", 1, 1, 1, classes, new byte[n], labels, null);
    }

    @Test
    void holdoutIsClassBalancedDisjointAndComplete() {
        ImageDataset ds = unbalanced();
        Split s = Split.holdoutPerClass(ds, 7, 42);
        int[] perClass = new int[5];
        for (int i : s.holdout()) {
            perClass[ds.label(i)]++;
        }
        assertArrayEquals(new int[] {7, 7, 7, 7, 7}, perClass);
        int[] all = new int[ds.size()];
        for (int i : s.train()) {
            all[i]++;
        }
        for (int i : s.holdout()) {
            all[i]++;
        }
        for (int c : all) {
            assertEquals(1, c);
        }
        int[] t = s.train(), h = s.holdout();
        int[] ts = t.clone(), hs = h.clone();
        Arrays.sort(ts);
        Arrays.sort(hs);
        assertArrayEquals(ts, t);
        assertArrayEquals(hs, h);
    }

    @Test
    void holdoutIsDeterministicPerSeed() {
        ImageDataset ds = unbalanced();
        assertArrayEquals(Split.holdoutPerClass(ds, 5, 1).holdout(), Split.holdoutPerClass(ds, 5, 1).holdout());
        assertFalse(Arrays.equals(Split.holdoutPerClass(ds, 5, 1).holdout(), Split.holdoutPerClass(ds, 5, 2).holdout()));
        // not simply the first images of each class
        int[] first = new int[5];
        boolean allFirst = true;
        for (int i : Split.holdoutPerClass(ds, 5, 1).holdout()) {
            int k = ds.label(i);
            int rank = 0;
            for (int j = 0; j < i; j++) {
                rank += ds.label(j) == k ? 1 : 0;
            }
            allFirst &= rank < 5;
            first[k]++;
        }
        assertFalse(allFirst);
    }

    @Test
    void tooSmallClassIsAnError() {
        ImageDataset ds = unbalanced();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Split.holdoutPerClass(ds, 20, 0));
        assertTrue(e.getMessage().contains("class 0"), e.getMessage());
        assertEquals(ds.size(), Split.holdoutPerClass(ds, 0, 0).train().length);
    }
}
