package dev.metaprune.tensor;

import java.util.Arrays;

/** Shape checks shared by every kernel; each failure names the operation and the shapes. */
public final class Shapes {
    private Shapes() {
    }

    public static void requireRank(String op, String name, Tensor t, int rank) {
        if (t == null) {
            throw new IllegalArgumentException(op + ": " + name + " is null");
        }
        if (t.rank() != rank) {
            throw new IllegalArgumentException(op + ": " + name + " must have rank " + rank + ", got shape "
                    + Arrays.toString(t.shape()));
        }
    }

    public static void requireSameShape(String op, Tensor a, Tensor b) {
        if (!Arrays.equals(a.shape(), b.shape())) {
            throw new IllegalArgumentException(op + ": shapes differ: " + Arrays.toString(a.shape()) + " vs "
                    + Arrays.toString(b.shape()));
        }
    }

    public static void requireShape(String op, String name, Tensor t, int... shape) {
        if (t == null) {
            throw new IllegalArgumentException(op + ": " + name + " is null");
        }
        if (!Arrays.equals(t.shape(), shape)) {
            throw new IllegalArgumentException(op + ": " + name + " must have shape " + Arrays.toString(shape)
                    + ", got " + Arrays.toString(t.shape()));
        }
    }

    public static void requireContiguous(String op, String name, Tensor t) {
        if (!t.isContiguous()) {
            throw new IllegalArgumentException(op + ": " + name + " " + t + " must be contiguous");
        }
    }

    /**
     * Throws with {@code message} unless {@code cond}. Pass a constant: a concatenated message is built on every
     * call, failing or not, and on a kernel's per-layer path that string building once cost more than a small layer
     * (the kernels write {@code if (!cond) throw ...} so the message is built only on failure).
     */
    public static void require(boolean cond, String message) {
        if (!cond) {
            throw new IllegalArgumentException(message);
        }
    }
}
