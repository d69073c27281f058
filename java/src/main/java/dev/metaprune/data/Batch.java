package dev.metaprune.data;

import dev.metaprune.tensor.Tensor;

/**
 * One mini-batch from a {@link BatchLoader}: images as an NHWC tensor {@code [size, H, W, C]} and
 * their labels.
 *
 * <p><b>Lifetime.</b> Batches live in buffers that the loader reuses: a batch is valid until the next
 * call to {@link BatchLoader.Epoch#next()} or {@link BatchLoader.Epoch#close()} on its epoch. Copy
 * what must outlive that ({@code images().copy()}, {@code labels().clone()}).
 */
public final class Batch {
    private final Tensor fullImages, tailImages;
    private final int[] fullLabels, tailLabels, fullIndices, tailIndices;
    private int size, epoch, index;

    Batch(int batchSize, int tailSize, int h, int w, int c) {
        fullImages = Tensor.zeros(batchSize, h, w, c);
        fullLabels = new int[batchSize];
        fullIndices = new int[batchSize];
        if (tailSize > 0 && tailSize < batchSize) {
            tailImages = fullImages.slice0(0, tailSize);
            tailLabels = new int[tailSize];
            tailIndices = new int[tailSize];
        } else {
            tailImages = fullImages;
            tailLabels = fullLabels;
            tailIndices = fullIndices;
        }
    }

    /** Prepares for filling batch {@code index} of {@code epoch} with {@code size} images. */
    void reset(int size, int epoch, int index) {
        if (size != fullLabels.length && size != tailLabels.length) {
            throw new IllegalStateException("batch of " + size + " images in buffers for " + fullLabels.length
                    + " and " + tailLabels.length);
        }
        this.size = size;
        this.epoch = epoch;
        this.index = index;
    }

    boolean isTail() {
        return size != fullLabels.length;
    }

    /** The images, {@code [size, H, W, C]}, float. */
    public Tensor images() {
        return isTail() ? tailImages : fullImages;
    }

    /** The labels, one per image ({@code size} entries). */
    public int[] labels() {
        return isTail() ? tailLabels : fullLabels;
    }

    /** Index in the data set of each image. */
    public int[] indices() {
        return isTail() ? tailIndices : fullIndices;
    }

    /** Number of images: the batch size, or fewer for the last batch of an epoch without drop-last. */
    public int size() {
        return size;
    }

    public int epoch() {
        return epoch;
    }

    /** Position of this batch in its epoch, from 0. */
    public int index() {
        return index;
    }

    @Override
    public String toString() {
        return "Batch[epoch " + epoch + ", batch " + index + ", " + images() + "]";
    }
}
