package dev.metaprune.data;

import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.concurrent.ArrayBlockingQueue;

/**
 * Mini-batches of NHWC float images from an {@link ImageDataset}, in a seeded shuffled order per
 * epoch, augmented by an {@link Augmentation}, prepared ahead by a background thread.
 *
 * <p><b>Reproducibility.</b> The order of epoch {@code e} is the loader's index list shuffled by
 * {@code Rng(Rng.derive(seed, 1, e))} ({@link Rng#shuffle}; unshuffled: the list as given). The image
 * at position {@code p} of epoch {@code e} is augmented with {@code Rng(Rng.derive(seed, 2, e, p))}.
 * So a batch depends only on (data, indices, batch size, augmentation, seed, epoch, batch index):
 * {@link #epoch(int, int) starting at (epoch, batch)} after a restart gives exactly the batches an
 * uninterrupted run would have seen, on any JVM, whatever the prefetch depth or thread timing.
 *
 * <p><b>Threads and buffers.</b> With {@code prefetch > 0} one daemon thread per epoch fills batches
 * into a ring of {@code prefetch + 2} pre-allocated {@link Batch} buffers (one held by the consumer,
 * up to {@code prefetch} ready, one being filled) and hands them over through bounded queues; the
 * steady state allocates no pixel or label arrays. With {@code prefetch == 0} batches are filled on
 * the caller's thread in one buffer. A failure in the loader thread is rethrown to the consumer by the
 * next {@link Epoch#next()} as a {@link BatchLoaderException} carrying the cause. {@link Epoch#close()}
 * stops and joins the thread. One epoch may be open at a time per loader.
 */
public final class BatchLoader implements AutoCloseable {
    private static final long ORDER_STREAM = 1, AUGMENT_STREAM = 2;

    private final ImageDataset data;
    private final int[] indices;
    private final int batchSize;
    private final boolean shuffle, dropLast;
    private final long seed;
    private final Augmentation augmentation;
    private final int prefetch;
    private final int numBatches, tailSize;
    private final Batch[] ring;
    private Epoch open;
    private boolean closed;

    private BatchLoader(Builder b) {
        this.data = b.data;
        this.indices = b.indices != null ? b.indices.clone() : Split.all(b.data.size());
        for (int i : indices) {
            if (i < 0 || i >= data.size()) {
                throw new IllegalArgumentException("index " + i + " outside data set " + data.name() + " of "
                        + data.size() + " images");
            }
        }
        if (indices.length == 0) {
            throw new IllegalArgumentException("a batch loader over no images");
        }
        if (b.batchSize <= 0) {
            throw new IllegalArgumentException("batch size " + b.batchSize + " must be positive");
        }
        if (b.prefetch < 0) {
            throw new IllegalArgumentException("prefetch " + b.prefetch + " must be 0 (no thread) or more");
        }
        this.batchSize = b.batchSize;
        this.shuffle = b.shuffle;
        this.dropLast = b.dropLast;
        this.seed = b.seed;
        this.prefetch = b.prefetch;
        this.augmentation = b.augmentation != null ? b.augmentation
                : Augmentation.identity(data.height(), data.width(), data.channels());
        int[] in = augmentation.inputShape();
        if (in[0] != data.height() || in[1] != data.width() || in[2] != data.channels()) {
            throw new IllegalArgumentException("augmentation for " + in[0] + "x" + in[1] + "x" + in[2] + " images, data set "
                    + data.name() + " has " + data.height() + "x" + data.width() + "x" + data.channels());
        }
        int n = indices.length;
        int rest = n % batchSize;
        this.numBatches = dropLast ? n / batchSize : (n + batchSize - 1) / batchSize;
        if (numBatches == 0) {
            throw new IllegalArgumentException(n + " images make no full batch of " + batchSize + " (drop-last)");
        }
        this.tailSize = dropLast ? 0 : rest;
        int[] out = augmentation.outputShape();
        this.ring = new Batch[prefetch == 0 ? 1 : prefetch + 2];
        for (int i = 0; i < ring.length; i++) {
            ring[i] = new Batch(batchSize, tailSize, out[0], out[1], out[2]);
        }
    }

    public static Builder builder(ImageDataset data) {
        return new Builder(data);
    }

    /** Settings of a {@link BatchLoader}. Defaults: every image, shuffle, keep the last partial batch, seed 0, no augmentation, prefetch 2. */
    public static final class Builder {
        private final ImageDataset data;
        private int[] indices;
        private int batchSize = 32;
        private boolean shuffle = true, dropLast;
        private long seed;
        private Augmentation augmentation;
        private int prefetch = 2;

        private Builder(ImageDataset data) {
            this.data = data;
        }

        /** The images to draw from (e.g. {@link Split#train()}); default: all, in order. */
        public Builder indices(int[] indices) {
            this.indices = indices.clone();
            return this;
        }

        public Builder batchSize(int batchSize) {
            this.batchSize = batchSize;
            return this;
        }

        /** Shuffle each epoch (default true); false: the indices in the order given, every epoch. */
        public Builder shuffle(boolean shuffle) {
            this.shuffle = shuffle;
            return this;
        }

        /** Drop the last batch of an epoch when it has fewer than {@code batchSize} images (default false). */
        public Builder dropLast(boolean dropLast) {
            this.dropLast = dropLast;
            return this;
        }

        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Per-image transforms (default: none); its input shape must be the data set's. */
        public Builder augmentation(Augmentation augmentation) {
            this.augmentation = augmentation;
            return this;
        }

        /** Batches prepared ahead by the loader thread (default 2); 0: no thread, fill on {@code next()}. */
        public Builder prefetch(int prefetch) {
            this.prefetch = prefetch;
            return this;
        }

        public BatchLoader build() {
            return new BatchLoader(this);
        }
    }

    /** Batches per epoch. */
    public int batchesPerEpoch() {
        return numBatches;
    }

    public int batchSize() {
        return batchSize;
    }

    /** Images drawn per epoch: all indices, or fewer with drop-last. */
    public int imagesPerEpoch() {
        return dropLast ? numBatches * batchSize : indices.length;
    }

    /** {@code {H, W, C}} of the batches' images (the augmentation's output). */
    public int[] imageShape() {
        return augmentation.outputShape();
    }

    public ImageDataset dataset() {
        return data;
    }

    /** The data-set indices in the order epoch {@code epoch} visits them (before drop-last). */
    public int[] order(int epoch) {
        int[] o = indices.clone();
        if (shuffle) {
            new Rng(Rng.derive(seed, ORDER_STREAM, epoch)).shuffle(o);
        }
        return o;
    }

    /** Iterates over epoch {@code epoch} from its first batch. */
    public Epoch epoch(int epoch) {
        return epoch(epoch, 0);
    }

    /**
     * Iterates over batches {@code startBatch ..} of epoch {@code epoch} (to resume a run exactly).
     * Close the previous epoch first.
     */
    public synchronized Epoch epoch(int epoch, int startBatch) {
        if (closed) {
            throw new IllegalStateException("batch loader is closed");
        }
        if (open != null && !open.closed) {
            throw new IllegalStateException("epoch " + open.epoch + " of this loader is still open: close it first");
        }
        if (epoch < 0 || startBatch < 0 || startBatch > numBatches) {
            throw new IllegalArgumentException("start at epoch " + epoch + ", batch " + startBatch + ": batches run 0.."
                    + (numBatches - 1));
        }
        open = new Epoch(epoch, startBatch);
        return open;
    }

    /** Closes the open epoch, if any; the loader cannot be used afterwards. */
    @Override
    public synchronized void close() {
        closed = true;
        if (open != null) {
            open.close();
        }
    }

    /** Fills {@code buf} with batch {@code b} of an epoch whose order is {@code order}. */
    private void fill(Batch buf, int[] order, int epoch, int b, Augmentation.Worker worker, float[] scratch, Rng rng) {
        int start = b * batchSize;
        int size = Math.min(batchSize, order.length - start);
        buf.reset(size, epoch, b);
        float[] out = buf.images().data();
        int base = buf.images().offset();
        int outSize = augmentation.outputSize();
        int[] labels = buf.labels(), idx = buf.indices();
        boolean direct = augmentation.steps().isEmpty();
        for (int k = 0; k < size; k++) {
            int pos = start + k;
            int i = order[pos];
            labels[k] = data.label(i);
            idx[k] = i;
            if (direct) {
                data.readImage(i, out, base + k * outSize);
            } else {
                data.readImage(i, scratch, 0);
                rng.reseed(Rng.derive(seed, AUGMENT_STREAM, epoch, pos));
                worker.apply(scratch, 0, out, base + k * outSize, rng);
            }
        }
    }

    /** The batches of one epoch. Not thread-safe: one consumer. */
    public final class Epoch implements Iterator<Batch>, AutoCloseable {
        private final int epoch;
        private final int[] order;
        private int next;
        private volatile boolean closed;
        private Batch current;
        // prefetch == 0
        private Augmentation.Worker worker;
        private float[] scratch;
        private Rng rng;
        // prefetch > 0
        private final ArrayBlockingQueue<Batch> free;
        private final ArrayBlockingQueue<Object> ready;
        private final Thread thread;

        private Epoch(int epoch, int startBatch) {
            this.epoch = epoch;
            this.order = order(epoch);
            this.next = startBatch;
            if (prefetch == 0) {
                free = null;
                ready = null;
                thread = null;
                worker = augmentation.worker();
                scratch = new float[data.imageSize()];
                rng = new Rng(0);
            } else {
                free = new ArrayBlockingQueue<>(ring.length);
                ready = new ArrayBlockingQueue<>(ring.length + 1);
                for (Batch b : ring) {
                    free.add(b);
                }
                thread = new Thread(this::produce, "metaprune-batch-loader-" + data.name() + "-epoch-" + epoch);
                thread.setDaemon(true);
                thread.start();
            }
        }

        private void produce() {
            Augmentation.Worker w = augmentation.worker();
            float[] s = new float[data.imageSize()];
            Rng r = new Rng(0);
            int b = next;
            try {
                for (; b < numBatches && !closed; b++) {
                    Batch buf = free.take();
                    fill(buf, order, epoch, b, w, s, r);
                    ready.put(buf);
                }
            } catch (InterruptedException e) {
                // closing
            } catch (Throwable t) {
                ready.offer(new Failure(b, t)); // never full: capacity ring + 1
            }
        }

        /** This epoch's number. */
        public int epoch() {
            return epoch;
        }

        /** Index of the batch the next {@link #next()} returns. */
        public int nextBatchIndex() {
            return next;
        }

        @Override
        public boolean hasNext() {
            return !closed && next < numBatches;
        }

        /**
         * The next batch; the previous one returned becomes invalid (its buffer is refilled).
         *
         * @throws BatchLoaderException when preparing the batch failed (the epoch is closed then)
         */
        @Override
        public Batch next() {
            if (closed) {
                throw new IllegalStateException("epoch " + epoch + " is closed");
            }
            if (next >= numBatches) {
                throw new NoSuchElementException("epoch " + epoch + " has " + numBatches + " batches");
            }
            if (prefetch == 0) {
                Batch buf = ring[0];
                try {
                    fill(buf, order, epoch, next, worker, scratch, rng);
                } catch (RuntimeException | Error e) {
                    close();
                    throw new BatchLoaderException("preparing batch " + next + " of epoch " + epoch + " failed: " + e, e);
                }
                next++;
                current = buf;
                return buf;
            }
            if (current != null) {
                free.add(current); // never full: the ring has exactly free's capacity
                current = null;
            }
            Object o;
            try {
                o = ready.take();
            } catch (InterruptedException e) {
                close();
                Thread.currentThread().interrupt();
                throw new BatchLoaderException("interrupted while waiting for batch " + next + " of epoch " + epoch, e);
            }
            if (o instanceof Failure f) {
                close();
                throw new BatchLoaderException("the loader thread failed preparing batch " + f.batch + " of epoch "
                        + epoch + ": " + f.cause, f.cause);
            }
            Batch buf = (Batch) o;
            if (buf.index() != next) {
                throw new IllegalStateException("batch " + buf.index() + " arrived where " + next + " was expected");
            }
            next++;
            current = buf;
            return buf;
        }

        /** Stops the loader thread (interrupting it) and waits for it to end. Idempotent. */
        @Override
        public void close() {
            if (closed) {
                return;
            }
            closed = true;
            current = null;
            if (thread != null) {
                thread.interrupt();
                boolean interrupted = false;
                while (true) {
                    try {
                        thread.join();
                        break;
                    } catch (InterruptedException e) {
                        interrupted = true;
                    }
                }
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        /** For tests: whether the loader thread is still running. */
        boolean workerAlive() {
            return thread != null && thread.isAlive();
        }
    }

    private record Failure(int batch, Throwable cause) {}

    @Override
    public String toString() {
        return "BatchLoader[" + data.name() + ", " + indices.length + " images, batch " + batchSize + ", "
                + numBatches + " batches/epoch" + (shuffle ? ", shuffled" : "") + (dropLast ? ", drop-last" : "")
                + ", seed " + seed + ", " + augmentation + ", prefetch " + prefetch + "]";
    }
}
