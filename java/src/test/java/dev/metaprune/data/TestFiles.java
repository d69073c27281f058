package dev.metaprune.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

/** Small data files written by the tests. */
public final class TestFiles {
    private TestFiles() {}

    /** An IDX images file {@code [n, h, w]} (or {@code [n, h, w, c]} when c > 1) with pixel {@code (i * 31 + k * 7) & 255}. */
    static byte[] idxImages(int n, int h, int w, int c) {
        int dims = c > 1 ? 4 : 3;
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims + n * h * w * c);
        b.put((byte) 0).put((byte) 0).put((byte) 8).put((byte) dims).putInt(n).putInt(h).putInt(w);
        if (c > 1) {
            b.putInt(c);
        }
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < h * w * c; k++) {
                b.put((byte) pixel(i, k));
            }
        }
        return b.array();
    }

    static int pixel(int i, int k) {
        return (i * 31 + k * 7) & 255;
    }

    /** An IDX labels file with label {@code i % classes}. */
    static byte[] idxLabels(int n, int classes) {
        ByteBuffer b = ByteBuffer.allocate(8 + n);
        b.put((byte) 0).put((byte) 0).put((byte) 8).put((byte) 1).putInt(n);
        for (int i = 0; i < n; i++) {
            b.put((byte) (i % classes));
        }
        return b.array();
    }

    static byte[] gzip(byte[] data) {
        try {
            ByteArrayOutputStream bos = new ByteArrayOutputStream();
            try (GZIPOutputStream gz = new GZIPOutputStream(bos)) {
                gz.write(data);
            }
            return bos.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Path write(Path file, byte[] data) {
        try {
            Files.createDirectories(file.getParent());
            return Files.write(file, data);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes the four Fashion-MNIST / MNIST IDX files (gzip or not) into {@code dir}. */
    public static void writeIdxSet(Path dir, int nTrain, int nTest, boolean gz) {
        String ext = gz ? ".gz" : "";
        byte[][] files = {idxImages(nTrain, 28, 28, 1), idxLabels(nTrain, 10), idxImages(nTest, 28, 28, 1),
                idxLabels(nTest, 10)};
        String[] names = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                "t10k-labels-idx1-ubyte"};
        for (int i = 0; i < 4; i++) {
            write(dir.resolve(names[i] + ext), gz ? gzip(files[i]) : files[i]);
        }
    }

    /** A synthetic byte data set: {@code n} images {@code h x w x c}, label {@code i % classes}, pixel {@link #pixel}. */
    static ImageDataset synthetic(int n, int h, int w, int c, int classes) {
        byte[] px = new byte[n * h * w * c];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = i % classes;
            for (int k = 0; k < h * w * c; k++) {
                px[i * h * w * c + k] = (byte) pixel(i, k);
            }
        }
        return ImageDataset.ofBytes("synthetic", "test", h, w, c, classes, px, labels, null);
    }
}
