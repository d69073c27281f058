package dev.metaprune.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * A float32 tensor: a shape over a region of a {@code float[]}.
 *
 * <p><b>Layout.</b> Activations are NHWC (channels-last) everywhere in MetaPrune: shape
 * {@code [N, H, W, C]}. Weights keep PyTorch's layouts ({@code [out, in, kh, kw]} for convolutions,
 * {@code [out, in]} for linear layers) so that checkpoints and generator outputs map one to one.
 *
 * <p><b>Rows and views.</b> A tensor is a sequence of <i>rows</i>: the last dimension is contiguous
 * (stride 1) and consecutive rows lie {@link #ld()} elements apart ({@code ld >= lastDim}). Every
 * leading dimension is flattened into rows. A {@link #channels(int, int) channel view} narrows the
 * last dimension without copying (its {@code ld} stays the parent's), which is how a pruned network
 * addresses a slice of a wider buffer.
 *
 * <p><b>Storage.</b> The data lives on the Java heap ({@code float[]}), where the Vector API
 * kernels are fastest. {@link #segment()} exposes the very same memory as a {@link MemorySegment}:
 * native code reads it without a copy through FFM downcalls linked with
 * {@code Linker.Option.critical(true)} (heap access allowed).
 */
public final class Tensor {
    private final float[] data;
    private final int offset;
    private final int[] shape;
    private final int ld;

    private Tensor(float[] data, int offset, int[] shape, int ld) {
        this.data = data;
        this.offset = offset;
        this.shape = shape;
        this.ld = ld;
    }

    /** A new zero-filled tensor of the given shape. Every dimension must be positive. */
    public static Tensor zeros(int... shape) {
        int[] s = checkShape(shape);
        long n = numel(s);
        if (n > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("tensor of shape " + Arrays.toString(s) + " has " + n
                    + " elements, more than a Java array holds (" + (Integer.MAX_VALUE - 16) + ")");
        }
        return new Tensor(new float[(int) n], 0, s, s[s.length - 1]);
    }

    /** Wraps an existing array (no copy); its length must equal the shape's element count. */
    public static Tensor wrap(float[] data, int... shape) {
        int[] s = checkShape(shape);
        long n = numel(s);
        if (data.length != n) {
            throw new IllegalArgumentException("array of length " + data.length + " does not match shape "
                    + Arrays.toString(s) + " (" + n + " elements)");
        }
        return new Tensor(data, 0, s, s[s.length - 1]);
    }

    /**
     * Wraps a region of an array as rows of {@code shape[last]} elements, {@code ld} apart,
     * starting at {@code offset}. Checked: the last row must end inside the array.
     */
    public static Tensor view(float[] data, int offset, int ld, int... shape) {
        int[] s = checkShape(shape);
        int cols = s[s.length - 1];
        if (ld < cols) {
            throw new IllegalArgumentException("row stride " + ld + " is smaller than the row length " + cols
                    + " of shape " + Arrays.toString(s));
        }
        long rows = numel(s) / cols;
        long end = offset + (rows - 1) * (long) ld + cols;
        if (offset < 0 || end > data.length) {
            throw new IllegalArgumentException("view of shape " + Arrays.toString(s) + " at offset " + offset
                    + " with row stride " + ld + " needs " + end + " elements, the array has " + data.length);
        }
        return new Tensor(data, offset, s, ld);
    }

    private static int[] checkShape(int[] shape) {
        if (shape == null || shape.length == 0) {
            throw new IllegalArgumentException("a tensor needs at least one dimension");
        }
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] <= 0) {
                throw new IllegalArgumentException("dimension " + i + " of shape " + Arrays.toString(shape)
                        + " is " + shape[i] + ": every dimension must be positive");
            }
        }
        return shape.clone();
    }

    private static long numel(int[] s) {
        long n = 1;
        for (int d : s) {
            n *= d;
        }
        return n;
    }

    /** The backing array (shared with every view of it). */
    public float[] data() {
        return data;
    }

    /** Index of element 0 in {@link #data()}. */
    public int offset() {
        return offset;
    }

    /** Distance in elements between consecutive rows (rows are the last dimension). */
    public int ld() {
        return ld;
    }

    public int rank() {
        return shape.length;
    }

    public int dim(int i) {
        return shape[i < 0 ? shape.length + i : i];
    }

    public int[] shape() {
        return shape.clone();
    }

    /** Number of elements. */
    public long numel() {
        return numel(shape);
    }

    /** Length of a row (the last dimension). */
    public int cols() {
        return shape[shape.length - 1];
    }

    /** Number of rows (the product of every dimension but the last). */
    public int rows() {
        return (int) (numel(shape) / cols());
    }

    /** True when the rows are packed back to back (no gaps). */
    public boolean isContiguous() {
        return ld == cols() || rows() == 1;
    }

    /** Offset in {@link #data()} of row {@code r}. */
    public int rowOffset(int r) {
        return offset + r * ld;
    }

    /** Channels {@code [from, to)} of the last dimension, without copying. */
    public Tensor channels(int from, int to) {
        int c = cols();
        if (from < 0 || to > c || from >= to) {
            throw new IllegalArgumentException("channel range [" + from + ", " + to + ") is outside [0, " + c
                    + ") of shape " + Arrays.toString(shape));
        }
        int[] s = shape.clone();
        s[s.length - 1] = to - from;
        return new Tensor(data, offset + from, s, ld);
    }

    /** The same rows seen under another shape with the same row length and count... or any shape when contiguous. */
    public Tensor reshape(int... newShape) {
        int[] s = checkShape(newShape);
        if (numel(s) != numel(shape)) {
            throw new IllegalArgumentException("cannot reshape " + Arrays.toString(shape) + " to "
                    + Arrays.toString(s) + ": element counts differ");
        }
        if (isContiguous()) {
            return new Tensor(data, offset, s, s[s.length - 1]);
        }
        if (s[s.length - 1] != cols()) {
            throw new IllegalArgumentException("cannot reshape the strided view " + Arrays.toString(shape)
                    + " (row stride " + ld + ") to " + Arrays.toString(s) + ": the row length must stay "
                    + cols());
        }
        return new Tensor(data, offset, s, ld);
    }

    /** Rows {@code [from, to)} of the first dimension (e.g. a sub-batch), without copying. */
    public Tensor slice0(int from, int to) {
        int n = shape[0];
        if (from < 0 || to > n || from >= to) {
            throw new IllegalArgumentException("range [" + from + ", " + to + ") is outside [0, " + n
                    + ") of dimension 0 of shape " + Arrays.toString(shape));
        }
        int rowsPer = (int) (numel(shape) / n / cols());
        int[] s = shape.clone();
        s[0] = to - from;
        return new Tensor(data, offset + from * rowsPer * ld, s, ld);
    }

    /** Element at a multi-index (slow path, for tests and tools). */
    public float get(int... idx) {
        return data[index(idx)];
    }

    public void set(float v, int... idx) {
        data[index(idx)] = v;
    }

    private int index(int[] idx) {
        if (idx.length != shape.length) {
            throw new IllegalArgumentException("index of rank " + idx.length + " for shape " + Arrays.toString(shape));
        }
        long row = 0;
        for (int i = 0; i < idx.length - 1; i++) {
            if (idx[i] < 0 || idx[i] >= shape[i]) {
                throw new IndexOutOfBoundsException("index " + Arrays.toString(idx) + " outside " + Arrays.toString(shape));
            }
            row = row * shape[i] + idx[i];
        }
        int c = idx[idx.length - 1];
        if (c < 0 || c >= cols()) {
            throw new IndexOutOfBoundsException("index " + Arrays.toString(idx) + " outside " + Arrays.toString(shape));
        }
        return (int) (offset + row * ld + c);
    }

    /** Sets every element of this tensor (views: only the viewed elements). */
    public Tensor fill(float v) {
        int r = rows(), c = cols();
        if (isContiguous()) {
            Arrays.fill(data, offset, offset + r * c, v);
        } else {
            for (int i = 0; i < r; i++) {
                Arrays.fill(data, offset + i * ld, offset + i * ld + c, v);
            }
        }
        return this;
    }

    /** Copies {@code src} (same shape) into this tensor. */
    public Tensor copyFrom(Tensor src) {
        Shapes.requireSameShape("copy", src, this);
        int r = rows(), c = cols();
        for (int i = 0; i < r; i++) {
            System.arraycopy(src.data, src.offset + i * src.ld, data, offset + i * ld, c);
        }
        return this;
    }

    /** A contiguous copy. */
    public Tensor copy() {
        return zeros(shape).copyFrom(this);
    }

    /** The elements in row-major order, as a new array. */
    public float[] toArray() {
        return isContiguous() && offset == 0 && data.length == numel() ? data.clone() : copy().data;
    }

    /**
     * This tensor's memory as a segment of the heap array (no copy). For native code: pass it to
     * a downcall linked with {@code Linker.Option.critical(true)}. Only contiguous tensors have one
     * flat segment; a strided view returns the span from its first to its last element.
     */
    public MemorySegment segment() {
        long len = (long) (rows() - 1) * ld + cols();
        return MemorySegment.ofArray(data).asSlice(offset * ValueLayout.JAVA_FLOAT.byteSize(),
                len * ValueLayout.JAVA_FLOAT.byteSize());
    }

    @Override
    public String toString() {
        return "Tensor" + Arrays.toString(shape) + (isContiguous() ? "" : "(ld=" + ld + ")");
    }
}
