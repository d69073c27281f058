package dev.metaprune.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxReaderTest {
    @TempDir
    Path dir;

    private static void assertMessage(IOException e, String... parts) {
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "message lacks '" + p + "': " + e.getMessage());
        }
    }

    private void checkContent(ImageDataset ds, int n, int h, int w, int c) {
        assertEquals(n, ds.size());
        assertEquals(h, ds.height());
        assertEquals(w, ds.width());
        assertEquals(c, ds.channels());
        assertEquals(10, ds.numClasses());
        float[] img = new float[ds.imageSize()];
        for (int i = 0; i < n; i++) {
            assertEquals(i % 10, ds.label(i));
            ds.readImage(i, img, 0);
            for (int k = 0; k < img.length; k++) {
                assertEquals(TestFiles.pixel(i, k), ds.pixelByte(i, k), "image " + i + " pixel " + k);
                assertEquals(TestFiles.pixel(i, k) / 255f, img[k], 0f);
            }
        }
    }

    @Test
    void readsPlainAndGzipByMagicNotName() throws IOException {
        byte[] img = TestFiles.idxImages(13, 5, 4, 1), lbl = TestFiles.idxLabels(13, 10);
        Path pi = TestFiles.write(dir.resolve("plain-images.gz"), img); // plain despite the name
        Path pl = TestFiles.write(dir.resolve("plain-labels"), lbl);
        checkContent(IdxReader.read(pi, pl, "t", 10, null), 13, 5, 4, 1);
        Path gi = TestFiles.write(dir.resolve("gz-images"), TestFiles.gzip(img)); // gzip without .gz
        Path gl = TestFiles.write(dir.resolve("gz-labels.gz"), TestFiles.gzip(lbl));
        ImageDataset ds = IdxReader.read(gi, gl, "t", 10, null);
        checkContent(ds, 13, 5, 4, 1);
        assertTrue(ds.source().contains("gz-images"));
    }

    @Test
    void readsFourDimensionalImages() throws IOException {
        Path pi = TestFiles.write(dir.resolve("i"), TestFiles.idxImages(7, 3, 2, 3));
        Path pl = TestFiles.write(dir.resolve("l"), TestFiles.idxLabels(7, 10));
        checkContent(IdxReader.read(pi, pl, "t", 10, null), 7, 3, 2, 3);
    }

    @Test
    void truncatedPlainFileNamesFileAndOffset() {
        byte[] img = TestFiles.idxImages(10, 4, 4, 1); // 16 + 160 bytes
        Path pi = TestFiles.write(dir.resolve("short-images"), Arrays.copyOf(img, 100));
        Path pl = TestFiles.write(dir.resolve("labels"), TestFiles.idxLabels(10, 10));
        IOException e = assertThrows(IOException.class, () -> IdxReader.read(pi, pl, "t", 10, null));
        assertMessage(e, pi.toString(), "truncated", "byte offset 16", "byte offset 100");
    }

    @Test
    void truncatedHeaderNamesOffset() {
        byte[] img = TestFiles.idxImages(10, 4, 4, 1);
        Path pi = TestFiles.write(dir.resolve("hdr"), Arrays.copyOf(img, 10));
        Path pl = TestFiles.write(dir.resolve("labels"), TestFiles.idxLabels(10, 10));
        IOException e = assertThrows(IOException.class, () -> IdxReader.read(pi, pl, "t", 10, null));
        assertMessage(e, pi.toString(), "truncated", "byte offset 8", "byte offset 10");
    }

    @Test
    void truncatedGzipStreamNamesFileAndOffset() {
        byte[] gz = TestFiles.gzip(TestFiles.idxImages(50, 8, 8, 1));
        Path pi = TestFiles.write(dir.resolve("cut.gz"), Arrays.copyOf(gz, gz.length / 2));
        Path pl = TestFiles.write(dir.resolve("labels"), TestFiles.idxLabels(50, 10));
        IOException e = assertThrows(IOException.class, () -> IdxReader.read(pi, pl, "t", 10, null));
        assertMessage(e, pi.toString(), "byte offset", "decompressed");
    }

    @Test
    void gzipOfATruncatedFileNamesWhereTheDataEnds() {
        byte[] img = TestFiles.idxImages(10, 4, 4, 1);
        Path pi = TestFiles.write(dir.resolve("short.gz"), TestFiles.gzip(Arrays.copyOf(img, 50)));
        Path pl = TestFiles.write(dir.resolve("labels"), TestFiles.idxLabels(10, 10));
        IOException e = assertThrows(IOException.class, () -> IdxReader.read(pi, pl, "t", 10, null));
        assertMessage(e, pi.toString(), "truncated", "byte offset 50 of the decompressed data");
    }

    @Test
    void wrongMagicIsRejected() {
        Path pl = TestFiles.write(dir.resolve("labels"), TestFiles.idxLabels(10, 10));
        byte[] img = TestFiles.idxImages(10, 4, 4, 1);
        img[0] = 0x12;
        Path bad = TestFiles.write(dir.resolve("notidx"), img);
        IOException e = assertThrows(IOException.class, () -> IdxReader.read(bad, pl, "t", 10, null));
        assertMessage(e, bad.toString(), "magic", "byte offset 0", "12 00 08 03");
        // the labels file given as images: 1 dimension, images need 3 or 4
        IOException e2 = assertThrows(IOException.class, () -> IdxReader.read(pl, pl, "t", 10, null));
        assertMessage(e2, pl.toString(), "dimensions", "byte offset 3");
        byte[] img2 = TestFiles.idxImages(10, 4, 4, 1);
        img2[2] = 0x0D; // float elements
        Path flt = TestFiles.write(dir.resolve("float"), img2);
        IOException e3 = assertThrows(IOException.class, () -> IdxReader.read(flt, pl, "t", 10, null));
        assertMessage(e3, flt.toString(), "0x0d", "byte offset 2");
    }

    @Test
    void countMismatchNamesBothFiles() {
        Path pi = TestFiles.write(dir.resolve("images"), TestFiles.idxImages(10, 4, 4, 1));
        Path pl = TestFiles.write(dir.resolve("labels"), TestFiles.idxLabels(9, 10));
        IOException e = assertThrows(IOException.class, () -> IdxReader.read(pi, pl, "t", 10, null));
        assertMessage(e, pi.toString(), pl.toString(), "10 images", "9 labels", "byte offset 4");
    }

    @Test
    void trailingDataIsRejected() {
        byte[] img = TestFiles.idxImages(10, 4, 4, 1);
        Path pi = TestFiles.write(dir.resolve("long"), Arrays.copyOf(img, img.length + 3));
        Path pl = TestFiles.write(dir.resolve("labels"), TestFiles.idxLabels(10, 10));
        IOException e = assertThrows(IOException.class, () -> IdxReader.read(pi, pl, "t", 10, null));
        assertMessage(e, pi.toString(), "byte offset " + img.length, "3 more bytes");
    }

    @Test
    void labelOutOfRangeNamesOffset() {
        Path pi = TestFiles.write(dir.resolve("images"), TestFiles.idxImages(10, 4, 4, 1));
        byte[] lbl = TestFiles.idxLabels(10, 10);
        lbl[8 + 6] = 10;
        Path pl = TestFiles.write(dir.resolve("labels"), lbl);
        IOException e = assertThrows(IOException.class, () -> IdxReader.read(pi, pl, "t", 10, null));
        assertMessage(e, pl.toString(), "label 10", "byte offset 14");
        // with the class count left open, the largest label decides it
        assertEquals(11, assertDoesNotThrow(() -> IdxReader.read(pi, pl, "t", 0, null)).numClasses());
    }

    private static <T> T assertDoesNotThrow(org.junit.jupiter.api.function.ThrowingSupplier<T> s) {
        return org.junit.jupiter.api.Assertions.assertDoesNotThrow(s);
    }

    @Test
    void zeroDimensionIsRejected() {
        byte[] img = TestFiles.idxImages(10, 4, 4, 1);
        img[11] = 0; // rows = 0
        Path pi = TestFiles.write(dir.resolve("zero"), img);
        Path pl = TestFiles.write(dir.resolve("labels"), TestFiles.idxLabels(10, 10));
        IOException e = assertThrows(IOException.class, () -> IdxReader.read(pi, pl, "t", 10, null));
        assertMessage(e, pi.toString(), "dimension 1", "byte offset 8");
    }

    @Test
    void readImageWritesAtOffsetOnly() throws IOException {
        Path pi = TestFiles.write(dir.resolve("i"), TestFiles.idxImages(3, 2, 2, 1));
        Path pl = TestFiles.write(dir.resolve("l"), TestFiles.idxLabels(3, 10));
        ImageDataset ds = IdxReader.read(pi, pl, "t", 10, null);
        float[] buf = new float[10];
        Arrays.fill(buf, -1f);
        ds.readImage(2, buf, 3);
        assertArrayEquals(new float[] {-1, -1, -1}, Arrays.copyOf(buf, 3));
        assertArrayEquals(new float[] {-1, -1, -1}, Arrays.copyOfRange(buf, 7, 10));
        assertEquals(TestFiles.pixel(2, 3) / 255f, buf[6]);
    }
}
