package dev.metaprune.data;

import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import javax.imageio.ImageIO;

/**
 * Reads a folder with one subfolder per class (torchvision's {@code ImageFolder} layout):
 * {@code root/<class>/<image>}. Classes are the subfolders' names sorted by {@link String#compareTo}
 * (hidden folders, starting with '.', are skipped) and numbered in that order; images are the files
 * with a {@code .png}, {@code .jpg}, {@code .jpeg}, {@code .bmp} or {@code .gif} extension (any case),
 * sorted by name, decoded by {@link ImageIO}. Other files are ignored.
 *
 * <p>Every image is converted to the requested {@code H x W x C}: {@code C = 1} gives grey (an RGB
 * image is converted with ITU-R 601 luma, {@code (19595 R + 38470 G + 7471 B + 2^15) >> 16}, as PIL's
 * {@code convert("L")}), {@code C = 3} gives RGB (grey replicated); alpha is ignored. A different size
 * is resized with {@link Images#resizeBilinear} over the whole image (the aspect ratio is not kept)
 * and rounded to bytes. A file that cannot be decoded is an {@link IOException} naming it.
 */
public final class ImageFolderReader {
    private ImageFolderReader() {}

    private static final Set<String> EXTENSIONS = Set.of("png", "jpg", "jpeg", "bmp", "gif");

    /**
     * Reads {@code root}.
     *
     * @param h image height, or 0 to take the first image's
     * @param w image width, or 0 to take the first image's
     * @param c 1 or 3, or 0 to take the first image's (1 for a grey image, otherwise 3)
     */
    public static ImageDataset read(Path root, int h, int w, int c, String name) throws IOException {
        if (!Files.isDirectory(root)) {
            throw new IOException(root + ": not a folder (expected one subfolder per class)");
        }
        if (c != 0 && c != 1 && c != 3) {
            throw new IllegalArgumentException("channels " + c + ": 1 (grey) or 3 (RGB), or 0 for the first image's");
        }
        List<Path> classDirs = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(root)) {
            for (Path p : ds) {
                if (Files.isDirectory(p) && !p.getFileName().toString().startsWith(".")) {
                    classDirs.add(p);
                }
            }
        }
        classDirs.sort((a, b) -> a.getFileName().toString().compareTo(b.getFileName().toString()));
        if (classDirs.isEmpty()) {
            throw new IOException(root + ": no class subfolders");
        }
        List<String> classNames = new ArrayList<>();
        List<Path> files = new ArrayList<>();
        List<Integer> fileLabels = new ArrayList<>();
        for (int k = 0; k < classDirs.size(); k++) {
            Path dir = classDirs.get(k);
            classNames.add(dir.getFileName().toString());
            List<Path> images = new ArrayList<>();
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
                for (Path p : ds) {
                    if (Files.isRegularFile(p) && EXTENSIONS.contains(extension(p))) {
                        images.add(p);
                    }
                }
            }
            if (images.isEmpty()) {
                throw new IOException(dir + ": class folder with no images (" + String.join(", ", EXTENSIONS.stream()
                        .sorted().toList()) + ")");
            }
            Collections.sort(images);
            files.addAll(images);
            fileLabels.addAll(Collections.nCopies(images.size(), k));
        }

        BufferedImage first = decode(files.get(0));
        int hh = h > 0 ? h : first.getHeight();
        int ww = w > 0 ? w : first.getWidth();
        int cc = c > 0 ? c : isGrey(first) ? 1 : 3;
        long total = (long) hh * ww * cc * files.size();
        if (total > TrackedInput.MAX_ARRAY) {
            throw new IOException(root + ": " + files.size() + " images of " + hh + "x" + ww + "x" + cc
                    + " do not fit one Java array");
        }
        byte[] pixels = new byte[(int) total];
        int[] labels = new int[files.size()];
        float[] resized = new float[hh * ww * cc];
        for (int i = 0; i < files.size(); i++) {
            BufferedImage img = i == 0 ? first : decode(files.get(i));
            float[] src = toFloats(img, cc);
            int sh = img.getHeight(), sw = img.getWidth();
            float[] out = src;
            if (sh != hh || sw != ww) {
                Images.resizeBilinear(src, 0, sh, sw, cc, 0, 0, sh, sw, resized, 0, hh, ww);
                out = resized;
            }
            int base = i * hh * ww * cc;
            for (int k = 0; k < hh * ww * cc; k++) {
                pixels[base + k] = (byte) Math.max(0, Math.min(255, Math.round(out[k])));
            }
            labels[i] = fileLabels.get(i);
        }
        return ImageDataset.ofBytes(name, root.toString(), hh, ww, cc, classNames.size(), pixels, labels, classNames);
    }

    private static String extension(Path p) {
        String n = p.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot < 0 ? "" : n.substring(dot + 1).toLowerCase(Locale.ROOT);
    }

    private static BufferedImage decode(Path file) throws IOException {
        BufferedImage img;
        try {
            img = ImageIO.read(file.toFile());
        } catch (IOException | RuntimeException e) {
            throw new IOException(file + ": cannot decode the image: " + e.getMessage(), e);
        }
        if (img == null) {
            throw new IOException(file + ": not a readable image (no ImageIO decoder recognises its content)");
        }
        return img;
    }

    private static boolean isGrey(BufferedImage img) {
        return img.getColorModel().getColorSpace().getNumComponents() == 1;
    }

    /**
     * The image as floats in {@code 0..255}, HWC with {@code c} channels. Grey images are read from
     * their raster (their samples are the stored values; {@code getRGB} would pass them through a
     * linear-to-sRGB conversion).
     */
    private static float[] toFloats(BufferedImage img, int c) {
        int h = img.getHeight(), w = img.getWidth();
        float[] out = new float[h * w * c];
        if (isGrey(img)) {
            Raster r = img.getRaster();
            int bits = img.getColorModel().getComponentSize(0);
            long max = (1L << bits) - 1;
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    long s = r.getSample(x, y, 0);
                    int v = (int) ((s * 255 + max / 2) / max);
                    for (int k = 0; k < c; k++) {
                        out[(y * w + x) * c + k] = v;
                    }
                }
            }
            return out;
        }
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int rgb = img.getRGB(x, y);
                int rr = (rgb >> 16) & 0xFF, g = (rgb >> 8) & 0xFF, b = rgb & 0xFF;
                int o = (y * w + x) * c;
                if (c == 1) {
                    out[o] = (19595 * rr + 38470 * g + 7471 * b + 0x8000) >> 16;
                } else {
                    out[o] = rr;
                    out[o + 1] = g;
                    out[o + 2] = b;
                }
            }
        }
        return out;
    }
}
