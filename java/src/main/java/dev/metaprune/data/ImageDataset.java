package dev.metaprune.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * An in-memory labelled image data set: {@code size()} images of {@code height x width x channels},
 * each stored channels-last (HWC, the per-image part of MetaPrune's NHWC layout), plus one
 * {@code int} label per image in {@code [0, numClasses)}.
 *
 * <p><b>Pixels.</b> Either unsigned bytes (what every standard format stores; 1 byte per pixel keeps
 * a data set 4x smaller in memory) or floats. {@link #readImage} hands out floats in both cases:
 * byte pixels are scaled to {@code [0, 1]} ({@code b / 255}, as torchvision's {@code ToTensor}), float
 * pixels are copied as stored.
 *
 * <p><b>Immutability.</b> The arrays passed to the constructor are owned by the data set afterwards
 * and never written; accessors return copies or single elements. Subsets (splits, batches) are
 * index arrays into a data set, never copies of its pixels.
 */
public final class ImageDataset {
    private static final float[] BYTE_TO_UNIT = new float[256];

    static {
        for (int i = 0; i < 256; i++) {
            BYTE_TO_UNIT[i] = i / 255f;
        }
    }

    private final String name;
    private final String source;
    private final int height, width, channels, numClasses;
    private final byte[] bytePixels;
    private final float[] floatPixels;
    private final int[] labels;
    private final List<String> classNames;

    private ImageDataset(String name, String source, int height, int width, int channels, int numClasses,
            byte[] bytePixels, float[] floatPixels, int[] labels, List<String> classNames) {
        if (height <= 0 || width <= 0 || channels <= 0) {
            throw new IllegalArgumentException("image shape " + height + "x" + width + "x" + channels
                    + " of data set " + name + ": every dimension must be positive");
        }
        long imageSize = (long) height * width * channels;
        long pixels = bytePixels != null ? bytePixels.length : floatPixels.length;
        if (pixels != imageSize * labels.length) {
            throw new IllegalArgumentException("data set " + name + ": " + pixels + " pixel values for "
                    + labels.length + " images of " + height + "x" + width + "x" + channels + " (" + imageSize
                    + " values each)");
        }
        if (numClasses <= 0) {
            throw new IllegalArgumentException("data set " + name + ": class count " + numClasses + " must be positive");
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= numClasses) {
                throw new IllegalArgumentException("data set " + name + ": label " + labels[i] + " of image " + i
                        + " is outside [0, " + numClasses + ")");
            }
        }
        List<String> names = classNames;
        if (names == null) {
            names = new ArrayList<>(numClasses);
            for (int c = 0; c < numClasses; c++) {
                names.add(Integer.toString(c));
            }
        } else if (names.size() != numClasses) {
            throw new IllegalArgumentException("data set " + name + ": " + names.size() + " class names for "
                    + numClasses + " classes");
        }
        this.name = name;
        this.source = source;
        this.height = height;
        this.width = width;
        this.channels = channels;
        this.numClasses = numClasses;
        this.bytePixels = bytePixels;
        this.floatPixels = floatPixels;
        this.labels = labels;
        this.classNames = List.copyOf(names);
    }

    /**
     * A data set over unsigned byte pixels ({@code pixels.length == labels.length * h * w * c}, HWC per
     * image). {@code classNames} may be null (then "0", "1", ...). The arrays are taken, not copied.
     */
    public static ImageDataset ofBytes(String name, String source, int h, int w, int c, int numClasses,
            byte[] pixels, int[] labels, List<String> classNames) {
        return new ImageDataset(name, source, h, w, c, numClasses, pixels, null, labels, classNames);
    }

    /** As {@link #ofBytes} with float pixels, returned by {@link #readImage} unchanged. */
    public static ImageDataset ofFloats(String name, String source, int h, int w, int c, int numClasses,
            float[] pixels, int[] labels, List<String> classNames) {
        return new ImageDataset(name, source, h, w, c, numClasses, null, pixels, labels, classNames);
    }

    /** Short name, e.g. {@code fashion-mnist/train}. */
    public String name() {
        return name;
    }

    /** Where the data came from (files, package), one line. */
    public String source() {
        return source;
    }

    public int size() {
        return labels.length;
    }

    public int height() {
        return height;
    }

    public int width() {
        return width;
    }

    public int channels() {
        return channels;
    }

    /** {@code height * width * channels}: floats per image. */
    public int imageSize() {
        return height * width * channels;
    }

    public int numClasses() {
        return numClasses;
    }

    public List<String> classNames() {
        return classNames;
    }

    /** True when pixels are stored as unsigned bytes (scaled by 1/255 on read). */
    public boolean isBytes() {
        return bytePixels != null;
    }

    public int label(int i) {
        return labels[i];
    }

    /** A copy of every label. */
    public int[] labels() {
        return labels.clone();
    }

    /** Number of images of each class. */
    public int[] classCounts() {
        int[] counts = new int[numClasses];
        for (int l : labels) {
            counts[l]++;
        }
        return counts;
    }

    /** Unsigned pixel value {@code 0..255} of a byte data set (HWC index {@code k} inside image {@code i}). */
    public int pixelByte(int i, int k) {
        if (bytePixels == null) {
            throw new IllegalStateException("data set " + name + " stores float pixels");
        }
        return bytePixels[checkedBase(i) + checkedPixel(k)] & 0xFF;
    }

    /** Pixel {@code k} (HWC order) of image {@code i} as {@link #readImage} gives it. */
    public float pixel(int i, int k) {
        int p = checkedBase(i) + checkedPixel(k);
        return bytePixels != null ? BYTE_TO_UNIT[bytePixels[p] & 0xFF] : floatPixels[p];
    }

    /**
     * Writes image {@code i} ({@link #imageSize()} floats, HWC) into {@code dst} at {@code off}: byte
     * pixels as {@code b / 255}, float pixels unchanged. Allocates nothing.
     */
    public void readImage(int i, float[] dst, int off) {
        int n = imageSize();
        int base = checkedBase(i);
        if (off < 0 || off + n > dst.length) {
            throw new IndexOutOfBoundsException("image of " + n + " floats at offset " + off + " in an array of "
                    + dst.length);
        }
        if (bytePixels != null) {
            byte[] src = bytePixels;
            for (int k = 0; k < n; k++) {
                dst[off + k] = BYTE_TO_UNIT[src[base + k] & 0xFF];
            }
        } else {
            System.arraycopy(floatPixels, base, dst, off, n);
        }
    }

    private int checkedBase(int i) {
        if (i < 0 || i >= labels.length) {
            throw new IndexOutOfBoundsException("image " + i + " of data set " + name + " with " + labels.length
                    + " images");
        }
        return i * imageSize();
    }

    private int checkedPixel(int k) {
        if (k < 0 || k >= imageSize()) {
            throw new IndexOutOfBoundsException("pixel " + k + " of a " + height + "x" + width + "x" + channels
                    + " image");
        }
        return k;
    }

    /** One line: name, counts, shape, classes, source. */
    public String describe() {
        return name + ": " + size() + " images " + height + "x" + width + "x" + channels + ", " + numClasses
                + " classes, from " + source;
    }

    @Override
    public String toString() {
        return "ImageDataset[" + name + ", " + size() + " x " + Arrays.toString(new int[] {height, width, channels})
                + "]";
    }
}
