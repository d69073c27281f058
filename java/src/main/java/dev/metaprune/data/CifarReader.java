package dev.metaprune.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Reads the binary versions of CIFAR-10 and CIFAR-100 ({@code cifar-10-batches-bin/data_batch_1.bin}
 * .. {@code data_batch_5.bin}, {@code test_batch.bin}; {@code cifar-100-binary/train.bin},
 * {@code test.bin}).
 *
 * <p>Each file is a sequence of fixed-size records: the label byte(s), then 3072 pixel bytes, the
 * 32x32 red plane, then green, then blue (planar, row-major). CIFAR-10 has one label byte
 * (0..9); CIFAR-100 two, the coarse label (0..19) then the fine label (0..99): the fine label is
 * used. Pixels are converted to MetaPrune's channels-last layout (HWC) on load.
 *
 * <p>Checked: every file's length is a whole number of records (otherwise an {@link IOException}
 * names the file and the byte offset where the partial record starts), and every label is in range
 * (the message names the offset of the label byte). Gzip-compressed files are accepted too.
 */
public final class CifarReader {
    private CifarReader() {}

    /** Image side (32) and pixel bytes per record (3072). */
    public static final int SIDE = 32, PIXELS = SIDE * SIDE * 3;

    /** The two variants, by their label bytes. */
    public enum Variant {
        /** One label byte, 10 classes. */
        CIFAR10(1, 10),
        /** Coarse then fine label byte; the fine label (100 classes) is used. */
        CIFAR100(2, 100);

        final int labelBytes, classes;

        Variant(int labelBytes, int classes) {
            this.labelBytes = labelBytes;
            this.classes = classes;
        }

        /** Bytes per record: label bytes + 3072. */
        public int recordSize() {
            return labelBytes + PIXELS;
        }

        public int numClasses() {
            return classes;
        }
    }

    /** CIFAR-10's class names, in label order (as in {@code batches.meta.txt}). */
    public static final List<String> CIFAR10_CLASSES = List.of("airplane", "automobile", "bird", "cat", "deer", "dog",
            "frog", "horse", "ship", "truck");

    /**
     * Reads and concatenates the records of {@code files}, in the order given.
     *
     * @param classNames one per class, or null (CIFAR-10: {@link #CIFAR10_CLASSES}; CIFAR-100: "0".."99")
     */
    public static ImageDataset read(List<Path> files, Variant variant, String name, List<String> classNames)
            throws IOException {
        if (files.isEmpty()) {
            throw new IllegalArgumentException("no CIFAR files given for " + name);
        }
        int rec = variant.recordSize();
        byte[][] contents = new byte[files.size()][];
        long images = 0;
        for (int f = 0; f < files.size(); f++) {
            try (TrackedInput in = TrackedInput.open(files.get(f))) {
                byte[] all = in.readAll("the records");
                long partial = all.length / rec * (long) rec;
                if (partial != all.length) {
                    throw in.error("length " + all.length + " is not a multiple of the " + rec + "-byte "
                            + variant + " record: partial record of " + (all.length - partial) + " bytes at "
                            + in.at(partial));
                }
                if (all.length == 0) {
                    throw in.error("empty file: no " + variant + " records");
                }
                for (long r = 0; r < all.length; r += rec) {
                    for (int b = 0; b < variant.labelBytes; b++) {
                        int label = all[(int) r + b] & 0xFF;
                        int bound = variant == Variant.CIFAR100 && b == 0 ? 20 : variant.classes;
                        if (label >= bound) {
                            String which = variant == Variant.CIFAR10 ? "label" : b == 0 ? "coarse label" : "fine label";
                            throw in.error(which + " " + label + " of record " + r / rec + " at " + in.at(r + b)
                                    + " is outside [0, " + bound + ")");
                        }
                    }
                }
                contents[f] = all;
                images += all.length / rec;
            }
        }
        if (images * PIXELS > TrackedInput.MAX_ARRAY) {
            throw new IOException(files + ": " + images + " images do not fit one Java array");
        }
        int n = (int) images;
        byte[] pixels = new byte[n * PIXELS];
        int[] labels = new int[n];
        int i = 0;
        int plane = SIDE * SIDE;
        for (byte[] all : contents) {
            for (int r = 0; r < all.length; r += rec, i++) {
                labels[i] = all[r + variant.labelBytes - 1] & 0xFF;
                int src = r + variant.labelBytes, dst = i * PIXELS;
                for (int p = 0; p < plane; p++) {
                    pixels[dst + 3 * p] = all[src + p];
                    pixels[dst + 3 * p + 1] = all[src + plane + p];
                    pixels[dst + 3 * p + 2] = all[src + 2 * plane + p];
                }
            }
        }
        List<String> names = classNames != null ? classNames : variant == Variant.CIFAR10 ? CIFAR10_CLASSES : null;
        return ImageDataset.ofBytes(name, files.size() == 1 ? files.get(0).toString() : files.toString(), SIDE, SIDE,
                3, variant.classes, pixels, labels, names);
    }
}
