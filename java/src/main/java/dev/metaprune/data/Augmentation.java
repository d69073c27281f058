package dev.metaprune.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A fixed sequence of {@link Transform}s for images of one input shape. Immutable and shareable;
 * each thread applies it through its own {@link Worker}, which owns the scratch buffers between
 * steps (allocated once). The transforms draw from the one {@link Rng} in sequence order.
 */
public final class Augmentation {
    private final List<Transform> steps;
    private final int[][] shapes; // shapes[0] = input, shapes[i + 1] = output of step i

    private Augmentation(List<Transform> steps, int h, int w, int c) {
        this.steps = List.copyOf(steps);
        this.shapes = new int[steps.size() + 1][];
        shapes[0] = new int[] {h, w, c};
        for (int i = 0; i < steps.size(); i++) {
            int[] s = shapes[i];
            shapes[i + 1] = steps.get(i).outputShape(s[0], s[1], s[2]).clone();
        }
    }

    /** The steps, applied in order to {@code h x w x c} images. Checks every shape now. */
    public static Augmentation of(int h, int w, int c, Transform... steps) {
        return new Augmentation(Arrays.asList(steps), h, w, c);
    }

    public static Augmentation of(int h, int w, int c, List<Transform> steps) {
        return new Augmentation(new ArrayList<>(steps), h, w, c);
    }

    /** No transformation: images pass through unchanged. */
    public static Augmentation identity(int h, int w, int c) {
        return new Augmentation(List.of(), h, w, c);
    }

    public int[] inputShape() {
        return shapes[0].clone();
    }

    /** {@code {h, w, c}} of the images this pipeline produces. */
    public int[] outputShape() {
        return shapes[shapes.length - 1].clone();
    }

    /** Floats per output image. */
    public int outputSize() {
        int[] s = shapes[shapes.length - 1];
        return s[0] * s[1] * s[2];
    }

    public List<Transform> steps() {
        return steps;
    }

    /** A worker with its own scratch buffers, for one thread. */
    public Worker worker() {
        return new Worker();
    }

    /** Applies the pipeline without allocating. Not thread-safe: one per thread. */
    public final class Worker {
        private final float[] ping, pong;

        private Worker() {
            int max = 0;
            for (int i = 1; i < shapes.length - 1; i++) { // intermediate shapes only
                max = Math.max(max, shapes[i][0] * shapes[i][1] * shapes[i][2]);
            }
            ping = new float[max];
            pong = new float[max];
        }

        /**
         * Transforms the input-shaped image at {@code src[srcOff]} into the output-shaped image at
         * {@code dst[dstOff]} (regions must not overlap), drawing from {@code rng}.
         */
        public void apply(float[] src, int srcOff, float[] dst, int dstOff, Rng rng) {
            int n = steps.size();
            if (n == 0) {
                int[] s = shapes[0];
                System.arraycopy(src, srcOff, dst, dstOff, s[0] * s[1] * s[2]);
                return;
            }
            float[] in = src;
            int inOff = srcOff;
            for (int i = 0; i < n; i++) {
                float[] out = i == n - 1 ? dst : (i % 2 == 0 ? ping : pong);
                int outOff = i == n - 1 ? dstOff : 0;
                int[] s = shapes[i];
                steps.get(i).apply(in, inOff, s[0], s[1], s[2], out, outOff, rng);
                in = out;
                inOff = outOff;
            }
        }
    }

    @Override
    public String toString() {
        return steps.isEmpty() ? "identity" : steps.toString();
    }
}
