package dev.metaprune.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CifarReaderTest {
    @TempDir
    Path dir;

    /** Planar pixel value of record r, channel ch, pixel p (row-major in the 32x32 plane). */
    static int planar(int r, int ch, int p) {
        return (r * 13 + ch * 101 + p * 3) & 255;
    }

    static byte[] records(int n, int labelBytes, int firstRecord, int... labels) {
        int rec = labelBytes + 3072;
        byte[] b = new byte[n * rec];
        for (int r = 0; r < n; r++) {
            for (int l = 0; l < labelBytes; l++) {
                b[r * rec + l] = (byte) labels[(r * labelBytes + l) % labels.length];
            }
            for (int ch = 0; ch < 3; ch++) {
                for (int p = 0; p < 1024; p++) {
                    b[r * rec + labelBytes + ch * 1024 + p] = (byte) planar(firstRecord + r, ch, p);
                }
            }
        }
        return b;
    }

    @Test
    void cifar10ConcatenatesFilesAndConvertsToHwc() throws IOException {
        Path a = TestFiles.write(dir.resolve("data_batch_1.bin"), records(3, 1, 0, 3, 9, 0));
        Path b = TestFiles.write(dir.resolve("data_batch_2.bin"), records(2, 1, 3, 7));
        ImageDataset ds = CifarReader.read(List.of(a, b), CifarReader.Variant.CIFAR10, "c10", null);
        assertEquals(5, ds.size());
        assertEquals(32, ds.height());
        assertEquals(3, ds.channels());
        assertEquals(10, ds.numClasses());
        assertEquals("truck", ds.classNames().get(9));
        assertEquals(List.of(3, 9, 0, 7, 7), Arrays.stream(ds.labels()).boxed().toList());
        for (int i = 0; i < 5; i++) {
            for (int y : new int[] {0, 5, 31}) {
                for (int x : new int[] {0, 17, 31}) {
                    for (int ch = 0; ch < 3; ch++) {
                        assertEquals(planar(i, ch, y * 32 + x), ds.pixelByte(i, (y * 32 + x) * 3 + ch),
                                "image " + i + " at (" + y + ", " + x + ") channel " + ch);
                    }
                }
            }
        }
    }

    @Test
    void cifar100UsesTheFineLabel() throws IOException {
        // coarse, fine pairs: (19, 99), (4, 0)
        Path f = TestFiles.write(dir.resolve("train.bin"), records(2, 2, 0, 19, 99, 4, 0));
        ImageDataset ds = CifarReader.read(List.of(f), CifarReader.Variant.CIFAR100, "c100", null);
        assertEquals(100, ds.numClasses());
        assertEquals(99, ds.label(0));
        assertEquals(0, ds.label(1));
        assertEquals(planar(1, 2, 1023), ds.pixelByte(1, 1023 * 3 + 2));
    }

    @Test
    void partialRecordNamesFileAndOffset() {
        byte[] full = records(3, 1, 0, 1);
        Path f = TestFiles.write(dir.resolve("data_batch_3.bin"), Arrays.copyOf(full, 2 * 3073 + 100));
        IOException e = assertThrows(IOException.class,
                () -> CifarReader.read(List.of(f), CifarReader.Variant.CIFAR10, "c10", null));
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("partial record of 100 bytes at byte offset 6146"), e.getMessage());
        // the same bytes are a whole number of CIFAR-100 records? 6246 / 3074 is not: still an error
        Path g = TestFiles.write(dir.resolve("train.bin"), Arrays.copyOf(records(2, 2, 0, 1), 3074 + 5));
        IOException e2 = assertThrows(IOException.class,
                () -> CifarReader.read(List.of(g), CifarReader.Variant.CIFAR100, "c100", null));
        assertTrue(e2.getMessage().contains("at byte offset 3074"), e2.getMessage());
    }

    @Test
    void labelOutOfRangeNamesOffset() {
        Path f = TestFiles.write(dir.resolve("bad.bin"), records(3, 1, 0, 1, 2, 10));
        IOException e = assertThrows(IOException.class,
                () -> CifarReader.read(List.of(f), CifarReader.Variant.CIFAR10, "c10", null));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("label 10")
                && e.getMessage().contains("byte offset " + 2 * 3073), e.getMessage());
        Path g = TestFiles.write(dir.resolve("bad100.bin"), records(1, 2, 0, 20, 5));
        IOException e2 = assertThrows(IOException.class,
                () -> CifarReader.read(List.of(g), CifarReader.Variant.CIFAR100, "c100", null));
        assertTrue(e2.getMessage().contains("coarse label 20") && e2.getMessage().contains("byte offset 0"),
                e2.getMessage());
    }

    @Test
    void emptyFileIsAnError() {
        Path f = TestFiles.write(dir.resolve("empty.bin"), new byte[0]);
        IOException e = assertThrows(IOException.class,
                () -> CifarReader.read(List.of(f), CifarReader.Variant.CIFAR10, "c10", null));
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
    }
}
