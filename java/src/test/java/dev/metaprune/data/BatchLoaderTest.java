package dev.metaprune.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaprune.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class BatchLoaderTest {
    static final ImageDataset DATA = TestFiles.synthetic(53, 6, 6, 3, 5);

    /** A copied batch: what must outlive the loader's buffers. */
    record Copy(int epoch, int index, float[] images, int[] labels, int[] indices, int[] shape) {
        void assertSameAs(Copy o) {
            assertEquals(o.epoch, epoch);
            assertEquals(o.index, index);
            assertArrayEquals(o.shape, shape, "shape of batch " + index);
            assertArrayEquals(o.indices, indices, "indices of batch " + index + " of epoch " + epoch);
            assertArrayEquals(o.labels, labels);
            assertArrayEquals(o.images, images, "images of batch " + index + " of epoch " + epoch);
        }
    }

    static Copy copy(Batch b) {
        return new Copy(b.epoch(), b.index(), b.images().toArray(), b.labels().clone(), b.indices().clone(),
                b.images().shape());
    }

    static Augmentation augment() {
        return Augmentation.of(6, 6, 3, Transforms.randomCrop(6, 6, 2), Transforms.horizontalFlip(0.5),
                Transforms.normalize(new float[] {0.5f, 0.5f, 0.5f}, new float[] {0.25f, 0.25f, 0.25f}));
    }

    static BatchLoader.Builder base() {
        return BatchLoader.builder(DATA).batchSize(8).seed(99).augmentation(augment());
    }

    static List<Copy> run(BatchLoader l, int epoch, int start) {
        List<Copy> out = new ArrayList<>();
        try (BatchLoader.Epoch e = l.epoch(epoch, start)) {
            while (e.hasNext()) {
                out.add(copy(e.next()));
            }
        }
        return out;
    }

    @Test
    void everyImageOnceWithItsLabelAndPixels() {
        try (BatchLoader l = BatchLoader.builder(DATA).batchSize(8).seed(3).build()) {
            assertEquals(7, l.batchesPerEpoch());
            List<Copy> batches = run(l, 0, 0);
            assertEquals(7, batches.size());
            List<Integer> seen = new ArrayList<>();
            float[] img = new float[DATA.imageSize()];
            for (Copy b : batches) {
                int n = b.indices.length;
                assertEquals(b.index == 6 ? 5 : 8, n);
                assertArrayEquals(new int[] {n, 6, 6, 3}, b.shape);
                for (int k = 0; k < n; k++) {
                    int i = b.indices[k];
                    seen.add(i);
                    assertEquals(DATA.label(i), b.labels[k]);
                    DATA.readImage(i, img, 0);
                    assertArrayEquals(img, Arrays.copyOfRange(b.images, k * img.length, (k + 1) * img.length));
                }
            }
            List<Integer> sorted = new ArrayList<>(seen);
            Collections.sort(sorted);
            for (int i = 0; i < 53; i++) {
                assertEquals(i, sorted.get(i));
            }
            assertNotEquals(sorted, seen, "epoch order should be shuffled");
        }
    }

    @Test
    void dropLastAndUnshuffledOrder() {
        try (BatchLoader l = BatchLoader.builder(DATA).batchSize(8).dropLast(true).shuffle(false).build()) {
            assertEquals(6, l.batchesPerEpoch());
            assertEquals(48, l.imagesPerEpoch());
            List<Copy> b = run(l, 4, 0);
            assertEquals(6, b.size());
            for (Copy c : b) {
                assertEquals(8, c.indices.length);
                for (int k = 0; k < 8; k++) {
                    assertEquals(c.index * 8 + k, c.indices[k]);
                }
            }
        }
        assertThrows(IllegalArgumentException.class,
                () -> BatchLoader.builder(DATA).batchSize(54).dropLast(true).build());
    }

    @Test
    void indicesRestrictTheImages() {
        Split s = Split.holdoutPerClass(DATA, 2, 5);
        try (BatchLoader l = base().indices(s.holdout()).build()) {
            List<Integer> seen = new ArrayList<>();
            for (Copy c : run(l, 0, 0)) {
                for (int i : c.indices) {
                    seen.add(i);
                }
            }
            Collections.sort(seen);
            assertEquals(Arrays.stream(s.holdout()).boxed().toList(), seen);
        }
    }

    @Test
    void sameSeedSameBatchesWhateverThePrefetch() {
        List<Copy> a, b, c;
        try (BatchLoader l = base().prefetch(0).build()) {
            a = run(l, 2, 0);
        }
        try (BatchLoader l = base().prefetch(3).build()) {
            b = run(l, 2, 0);
        }
        try (BatchLoader l = base().seed(100).build()) {
            c = run(l, 2, 0);
        }
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            b.get(i).assertSameAs(a.get(i));
        }
        assertFalse(Arrays.equals(a.get(0).indices, c.get(0).indices), "another seed, another order");
    }

    @Test
    void epochsDifferAndResumeReproducesAnUninterruptedRun() {
        List<List<Copy>> full = new ArrayList<>();
        try (BatchLoader l = base().build()) {
            for (int e = 0; e < 3; e++) {
                full.add(run(l, e, 0));
            }
        }
        assertFalse(Arrays.equals(full.get(0).get(0).indices, full.get(1).get(0).indices));
        // a "restarted" process: a new loader, resuming at epoch 1, batch 3
        try (BatchLoader l = base().build()) {
            List<Copy> rest = run(l, 1, 3);
            assertEquals(full.get(1).size() - 3, rest.size());
            for (int i = 0; i < rest.size(); i++) {
                rest.get(i).assertSameAs(full.get(1).get(i + 3));
            }
            List<Copy> next = run(l, 2, 0);
            for (int i = 0; i < next.size(); i++) {
                next.get(i).assertSameAs(full.get(2).get(i));
            }
            assertEquals(0, run(l, 2, l.batchesPerEpoch()).size());
        }
    }

    @Test
    void augmentationIsAppliedPerSample() {
        try (BatchLoader plain = BatchLoader.builder(DATA).batchSize(8).seed(99).build();
                BatchLoader aug = base().build()) {
            Copy p = run(plain, 0, 0).get(0), a = run(aug, 0, 0).get(0);
            assertArrayEquals(p.indices, a.indices, "augmentation does not change the order");
            assertFalse(Arrays.equals(p.images, a.images));
        }
    }

    @Test
    void buffersAreReusedFromAFixedRing() {
        try (BatchLoader l = BatchLoader.builder(DATA).batchSize(4).prefetch(2).augmentation(augment()).build()) {
            Set<float[]> arrays = Collections.newSetFromMap(new IdentityHashMap<>());
            Set<int[]> labelArrays = Collections.newSetFromMap(new IdentityHashMap<>());
            for (int e = 0; e < 3; e++) {
                try (BatchLoader.Epoch ep = l.epoch(e)) {
                    while (ep.hasNext()) {
                        Batch b = ep.next();
                        arrays.add(b.images().data());
                        if (b.size() == 4) {
                            labelArrays.add(b.labels());
                        }
                    }
                }
            }
            assertTrue(arrays.size() <= 4, "distinct image buffers: " + arrays.size());
            assertTrue(labelArrays.size() <= 4, "distinct label buffers: " + labelArrays.size());
        }
    }

    @Test
    void loaderThreadFailureReachesTheConsumer() {
        AtomicInteger calls = new AtomicInteger();
        Transform failing = new Transform() {
            @Override
            public int[] outputShape(int h, int w, int c) {
                return new int[] {h, w, c};
            }

            @Override
            public void apply(float[] src, int srcOff, int h, int w, int c, float[] dst, int dstOff, Rng rng) {
                if (calls.incrementAndGet() == 20) {
                    throw new IllegalStateException("boom at image 20");
                }
                System.arraycopy(src, srcOff, dst, dstOff, h * w * c);
            }
        };
        for (int prefetch : new int[] {0, 2}) {
            calls.set(0);
            try (BatchLoader l = BatchLoader.builder(DATA).batchSize(8).prefetch(prefetch)
                    .augmentation(Augmentation.of(6, 6, 3, failing)).build()) {
                BatchLoader.Epoch e = l.epoch(0);
                e.next();
                e.next(); // images 0..15
                BatchLoaderException ex = assertThrows(BatchLoaderException.class, e::next);
                assertInstanceOf(IllegalStateException.class, ex.getCause());
                assertTrue(ex.getMessage().contains("batch 2"), ex.getMessage());
                assertFalse(e.hasNext());
                assertFalse(e.workerAlive());
                // the loader is usable again
                calls.set(-1000);
                assertEquals(7, run(l, 1, 0).size());
            }
        }
    }

    @Test
    void closeStopsTheThreadAndOneEpochAtATime() throws InterruptedException {
        try (BatchLoader l = BatchLoader.builder(DATA).batchSize(2).prefetch(2).build()) {
            BatchLoader.Epoch e = l.epoch(0);
            Batch b = e.next();
            assertSame(b, b);
            Thread.sleep(20); // let the loader thread fill the queue and block
            assertTrue(e.workerAlive());
            assertThrows(IllegalStateException.class, () -> l.epoch(1));
            e.close();
            assertFalse(e.workerAlive());
            assertFalse(e.hasNext());
            assertThrows(IllegalStateException.class, e::next);
            try (BatchLoader.Epoch e2 = l.epoch(1)) {
                assertEquals(0, e2.next().index());
            }
        }
        BatchLoader closed = BatchLoader.builder(DATA).build();
        closed.close();
        assertThrows(IllegalStateException.class, () -> closed.epoch(0));
    }

    @Test
    void iteratorContract() {
        try (BatchLoader l = BatchLoader.builder(DATA).batchSize(53).build(); BatchLoader.Epoch e = l.epoch(0)) {
            assertTrue(e.hasNext());
            Tensor t = e.next().images();
            assertArrayEquals(new int[] {53, 6, 6, 3}, t.shape());
            assertFalse(e.hasNext());
            assertThrows(NoSuchElementException.class, e::next);
        }
        assertThrows(IllegalArgumentException.class, () -> BatchLoader.builder(DATA).build().epoch(0, 9));
    }
}
