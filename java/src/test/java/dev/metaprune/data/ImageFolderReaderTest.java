package dev.metaprune.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageFolderReaderTest {
    @TempDir
    Path dir;

    static int r(int s, int y, int x) {
        return (s * 40 + y * 20 + x * 3) & 255;
    }

    static int g(int s, int y, int x) {
        return (s * 7 + y * 5 + x * 30 + 60) & 255;
    }

    static int b(int s, int y, int x) {
        return (255 - s * 11 - y - x * 9) & 255;
    }

    static void writeRgb(Path file, int seed, int h, int w) throws IOException {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, (r(seed, y, x) << 16) | (g(seed, y, x) << 8) | b(seed, y, x));
            }
        }
        Files.createDirectories(file.getParent());
        assertTrue(ImageIO.write(img, "png", file.toFile()));
    }

    static void writeGrey(Path file, int seed, int h, int w) throws IOException {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.getRaster().setSample(x, y, 0, r(seed, y, x));
            }
        }
        Files.createDirectories(file.getParent());
        assertTrue(ImageIO.write(img, "png", file.toFile()));
    }

    @Test
    void readsSortedClassesAndExactRgbPixels() throws IOException {
        writeRgb(dir.resolve("zebra/b.png"), 1, 5, 6);
        writeRgb(dir.resolve("zebra/a.PNG"), 2, 5, 6);
        writeRgb(dir.resolve("ant/x.png"), 3, 5, 6);
        Files.writeString(dir.resolve("ant/notes.txt"), "ignored");
        Files.createDirectories(dir.resolve(".hidden"));
        ImageDataset ds = ImageFolderReader.read(dir, 0, 0, 0, "f");
        assertEquals(List.of("ant", "zebra"), ds.classNames());
        assertEquals(3, ds.size());
        assertEquals(5, ds.height());
        assertEquals(6, ds.width());
        assertEquals(3, ds.channels());
        int[] seeds = {3, 2, 1}; // ant/x, zebra/a.PNG, zebra/b
        int[] labels = {0, 1, 1};
        for (int i = 0; i < 3; i++) {
            assertEquals(labels[i], ds.label(i));
            for (int y = 0; y < 5; y++) {
                for (int x = 0; x < 6; x++) {
                    int o = (y * 6 + x) * 3;
                    assertEquals(r(seeds[i], y, x), ds.pixelByte(i, o));
                    assertEquals(g(seeds[i], y, x), ds.pixelByte(i, o + 1));
                    assertEquals(b(seeds[i], y, x), ds.pixelByte(i, o + 2));
                }
            }
        }
    }

    @Test
    void greyImagesKeepTheirValuesAndConvert() throws IOException {
        writeGrey(dir.resolve("c0/a.png"), 4, 3, 4);
        writeRgb(dir.resolve("c1/a.png"), 5, 3, 4);
        ImageDataset grey = ImageFolderReader.read(dir, 0, 0, 0, "f");
        assertEquals(1, grey.channels()); // from the first image
        for (int k = 0; k < 12; k++) {
            assertEquals(r(4, k / 4, k % 4), grey.pixelByte(0, k), "grey pixel " + k);
            int y = k / 4, x = k % 4;
            int luma = (19595 * r(5, y, x) + 38470 * g(5, y, x) + 7471 * b(5, y, x) + 0x8000) >> 16;
            assertEquals(luma, grey.pixelByte(1, k), "luma of pixel " + k);
        }
        ImageDataset rgb = ImageFolderReader.read(dir, 0, 0, 3, "f");
        for (int k = 0; k < 12; k++) {
            for (int ch = 0; ch < 3; ch++) {
                assertEquals(r(4, k / 4, k % 4), rgb.pixelByte(0, k * 3 + ch));
            }
        }
    }

    @Test
    void resizesToTheRequestedShape() throws IOException {
        writeGrey(dir.resolve("c/a.png"), 0, 2, 2); // pixels 0, 3 / 20, 23
        writeGrey(dir.resolve("c/b.png"), 1, 7, 3);
        ImageDataset ds = ImageFolderReader.read(dir, 4, 4, 1, "f");
        assertEquals(4, ds.height());
        assertEquals(2, ds.size());
        // bilinear, align_corners=False: columns 0, 0.75, 2.25, 3 for 0..3 -> rounded
        int[] row0 = {0, 1, 2, 3};
        for (int x = 0; x < 4; x++) {
            assertEquals(row0[x], ds.pixelByte(0, x), "row 0 column " + x);
        }
        assertEquals(20, ds.pixelByte(0, 12));
        assertEquals(23, ds.pixelByte(0, 15));
    }

    @Test
    void unreadableImageNamesTheFile() throws IOException {
        writeGrey(dir.resolve("c/a.png"), 0, 2, 2);
        Path bad = dir.resolve("c/broken.png");
        Files.write(bad, new byte[] {1, 2, 3, 4, 5});
        IOException e = assertThrows(IOException.class, () -> ImageFolderReader.read(dir, 0, 0, 0, "f"));
        assertTrue(e.getMessage().contains(bad.toString()), e.getMessage());
    }

    @Test
    void emptyClassFolderAndMissingRootAreErrors() throws IOException {
        writeGrey(dir.resolve("c/a.png"), 0, 2, 2);
        Files.createDirectories(dir.resolve("d"));
        IOException e = assertThrows(IOException.class, () -> ImageFolderReader.read(dir, 0, 0, 0, "f"));
        assertTrue(e.getMessage().contains(dir.resolve("d").toString()), e.getMessage());
        assertThrows(IOException.class, () -> ImageFolderReader.read(dir.resolve("nope"), 0, 0, 0, "f"));
    }
}
