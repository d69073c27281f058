package dev.metaprune.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;

/**
 * Reads the IDX format of MNIST and Fashion-MNIST: an images file and a labels file, each plain or
 * gzip-compressed (recognised by the gzip magic bytes, not by the file name).
 *
 * <p>Format (big-endian): two zero bytes, an element-type byte ({@code 0x08}: unsigned byte, the only
 * type accepted), a dimension-count byte, one 32-bit size per dimension, then the elements in
 * row-major order. Images: 3 dimensions {@code [N, rows, cols]} (one channel) or 4
 * {@code [N, rows, cols, channels]} (magic {@code 0x00000803} / {@code 0x00000804}); labels: 1
 * dimension {@code [N]} (magic {@code 0x00000801}).
 *
 * <p>Checked: magic bytes, positive dimensions, equal image and label counts, labels below the class
 * count, and the exact length (a truncated file and a file with trailing data both fail). Every
 * failure is an {@link IOException} whose message starts with the file and names the byte offset
 * (of the decompressed data, for gzip files); a reader never returns a partial or shifted image.
 */
public final class IdxReader {
    private IdxReader() {}

    /** Something to open: a file or a class-path resource. */
    @FunctionalInterface
    interface Opener {
        InputStream open() throws IOException;
    }

    /**
     * Reads a pair of files.
     *
     * @param numClasses labels must lie in {@code [0, numClasses)}; 0 or less: the largest label + 1
     * @param classNames one per class, or null
     */
    public static ImageDataset read(Path images, Path labels, String name, int numClasses, List<String> classNames)
            throws IOException {
        try (TrackedInput li = TrackedInput.open(labels); TrackedInput ii = TrackedInput.open(images)) {
            return read(ii, li, name, images + ", " + labels, numClasses, classNames);
        }
    }

    /** As {@link #read(Path, Path, String, int, List)} from streams named {@code imagesName} / {@code labelsName} in messages. */
    static ImageDataset read(Opener images, String imagesName, Opener labels, String labelsName, String name,
            String source, int numClasses, List<String> classNames) throws IOException {
        try (TrackedInput li = TrackedInput.open(labels.open(), labelsName);
                TrackedInput ii = TrackedInput.open(images.open(), imagesName)) {
            return read(ii, li, name, source, numClasses, classNames);
        }
    }

    private static ImageDataset read(TrackedInput ii, TrackedInput li, String name, String source, int numClasses,
            List<String> classNames) throws IOException {
        int[] idims = header(ii, 3, 4, "images");
        int[] ldims = header(li, 1, 1, "labels");
        int n = idims[0];
        if (ldims[0] != n) {
            throw new IOException(ii.file() + ": " + n + " images (count at " + ii.at(4) + ") but " + li.file()
                    + " has " + ldims[0] + " labels (count at " + li.at(4) + ")");
        }
        int h = idims[1], w = idims[2], c = idims.length == 4 ? idims[3] : 1;
        long imageSize = (long) h * w * c;
        long dataStart = ii.position();
        byte[] pixels = ii.readBytes(imageSize * n,
                "the pixels of " + n + " images of " + h + "x" + w + (c == 1 ? "" : "x" + c));
        ii.expectEnd("the pixel data of " + n + " images starting at " + ii.at(dataStart));

        long labelStart = li.position();
        byte[] raw = li.readBytes(n, "the " + n + " labels");
        li.expectEnd("the label data of " + n + " labels starting at " + li.at(labelStart));
        int[] labels = new int[n];
        int max = 0;
        for (int i = 0; i < n; i++) {
            labels[i] = raw[i] & 0xFF;
            max = Math.max(max, labels[i]);
        }
        int classes = numClasses > 0 ? numClasses : max + 1;
        for (int i = 0; i < n; i++) {
            if (labels[i] >= classes) {
                throw li.error("label " + labels[i] + " of image " + i + " at " + li.at(labelStart + i)
                        + " is outside [0, " + classes + ")");
            }
        }
        return ImageDataset.ofBytes(name, source, h, w, c, classes, pixels, labels, classNames);
    }

    /** Reads and checks the magic and the dimensions; returns the dimensions. */
    private static int[] header(TrackedInput in, int minDims, int maxDims, String kind) throws IOException {
        int z0 = in.readUnsignedByte("the IDX magic number");
        int z1 = in.readUnsignedByte("the IDX magic number");
        int type = in.readUnsignedByte("the IDX element type");
        int ndims = in.readUnsignedByte("the IDX dimension count");
        String magic = String.format("%02x %02x %02x %02x", z0, z1, type, ndims);
        String expected = minDims == maxDims ? String.format("00 00 08 %02x", minDims)
                : String.format("00 00 08 %02x .. 00 00 08 %02x", minDims, maxDims);
        if (z0 != 0 || z1 != 0) {
            throw in.error("not an IDX " + kind + " file: magic bytes " + magic + " at " + in.at(0) + " (expected "
                    + expected + ")");
        }
        if (type != 0x08) {
            throw in.error(String.format("element type 0x%02x at %s is not supported: only unsigned bytes (0x08); "
                    + "magic bytes %s, expected %s", type, in.at(2), magic, expected));
        }
        if (ndims < minDims || ndims > maxDims) {
            throw in.error("an IDX " + kind + " file has " + (minDims == maxDims ? "" : minDims + " to ") + maxDims
                    + " dimensions, this one " + ndims + " (byte offset 3; magic bytes " + magic + ", expected "
                    + expected + ")");
        }
        int[] dims = new int[ndims];
        for (int d = 0; d < ndims; d++) {
            long off = in.position();
            dims[d] = in.readInt("dimension " + d + " of the IDX header");
            if (dims[d] <= 0) {
                throw in.error("dimension " + d + " at " + in.at(off) + " is " + dims[d] + ": must be positive");
            }
        }
        return dims;
    }
}
