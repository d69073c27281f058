package dev.metaprune.data;

/**
 * One step of an augmentation pipeline on a float HWC image. A transform is immutable and may be
 * shared by threads; all randomness comes from the {@link Rng} passed in, which the caller seeds per
 * sample (see {@link BatchLoader}), so a result depends only on the image and that seed.
 *
 * <p>Each implementation documents exactly which numbers it draws, in which order: changing that
 * changes every augmented batch, so it is part of the contract.
 */
public interface Transform {
    /** Output shape {@code {h, w, c}} for an input of {@code h x w x c}; throws if the input is unsupported. */
    int[] outputShape(int h, int w, int c);

    /**
     * Reads the {@code h x w x c} image at {@code src[srcOff]}, writes the output (of
     * {@link #outputShape}) at {@code dst[dstOff]}. The two regions never overlap. Allocates nothing.
     */
    void apply(float[] src, int srcOff, int h, int w, int c, float[] dst, int dstOff, Rng rng);
}
