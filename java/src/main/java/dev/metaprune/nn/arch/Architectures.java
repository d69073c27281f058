package dev.metaprune.nn.arch;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;

/**
 * The registry of architecture names. Names are matched ignoring case, {@code -}, {@code _} and {@code .}
 * ({@code "MobileNet_V2"} finds {@code mobilenetv2}); each entry also has aliases ({@code -small} for {@code -cifar}).
 *
 * <table>
 * <caption>Architectures</caption>
 * <tr><th>name</th><th>default input</th><th>gene</th><th>notes</th></tr>
 * <tr><td>mobilenetv1</td><td>3x224x224, 1000</td><td>13</td><td>official MetaPruning layout</td></tr>
 * <tr><td>mobilenetv2</td><td>3x224x224, 1000</td><td>35</td><td>official layout, 1.4x bases</td></tr>
 * <tr><td>resnet50</td><td>3x224x224, 1000</td><td>20</td><td>official layout, v1.5 strides</td></tr>
 * <tr><td>mobilenetv1-cifar</td><td>3x32x32, 10</td><td>13</td><td>stem and block 2 stride 1</td></tr>
 * <tr><td>mobilenetv2-cifar</td><td>3x32x32, 10</td><td>35</td><td>stem and block 2 stride 1</td></tr>
 * <tr><td>resnet50-cifar</td><td>3x32x32, 10</td><td>20</td><td>stem 3x3 stride 1, no max-pool</td></tr>
 * <tr><td>resnet20-cifar</td><td>3x32x32, 10</td><td>12</td><td>He et al.'s CIFAR ResNet-20, 1x1 projection shortcuts</td></tr>
 * <tr><td>resnet56-cifar</td><td>3x32x32, 10</td><td>30</td><td>ResNet-56, the same layout with 9 blocks per stage</td></tr>
 * <tr><td>mobilenetv2-torchvision</td><td>3x224x224, 1000</td><td>34</td><td>torchvision 1.0 layout, for the 300.8 M check</td></tr>
 * </table>
 * The CIFAR-style variants take any input size, image channels (1 for Fashion-MNIST) and class count; the final
 * feature map is {@code ceil(size / 8)} (4x4 at 32 and at 28); the small ResNets end at {@code ceil(size / 4)}.
 */
public final class Architectures {
    /**
     * A registry entry: canonical name, aliases, default input, one-line summary, and the factory building it at an
     * input shape (given the canonical name).
     */
    public record Entry(String name, List<String> aliases, InputSpec defaults, String summary,
                        BiFunction<String, InputSpec, Architecture> factory) {
    }

    private static final List<Entry> ENTRIES = List.of(
            new Entry("mobilenetv1", List.of("mobilenet-v1", "mbv1"), InputSpec.IMAGENET,
                    "MobileNetV1, MetaPruning layout, ImageNet shape; gene 13",
                    (n, in) -> MobileNetV1Family.build(n, in, false)),
            new Entry("mobilenetv2", List.of("mobilenet-v2", "mbv2"), InputSpec.IMAGENET,
                    "MobileNetV2, MetaPruning layout (1.4x bases, block-1 expand conv), ImageNet shape; gene 35",
                    (n, in) -> MobileNetV2Family.build(n, in, false, false)),
            new Entry("resnet50", List.of("resnet-50"), InputSpec.IMAGENET,
                    "ResNet-50 (v1.5 strides), MetaPruning layout, ImageNet shape; gene 20",
                    (n, in) -> ResNet50Family.build(n, in, false)),
            new Entry("mobilenetv1-cifar", List.of("mobilenetv1-small"), InputSpec.CIFAR10,
                    "MobileNetV1 for 32x32 / 28x28 inputs: stem and block 2 stride 1 (input / 8); gene 13",
                    (n, in) -> MobileNetV1Family.build(n, in, true)),
            new Entry("mobilenetv2-cifar", List.of("mobilenetv2-small"), InputSpec.CIFAR10,
                    "MobileNetV2 for 32x32 / 28x28 inputs: stem and block 2 stride 1 (input / 8); gene 35",
                    (n, in) -> MobileNetV2Family.build(n, in, true, false)),
            new Entry("resnet50-cifar", List.of("resnet50-small"), InputSpec.CIFAR10,
                    "ResNet-50 for 32x32 / 28x28 inputs: stem 3x3 stride 1, no max-pool (input / 8); gene 20",
                    (n, in) -> ResNet50Family.build(n, in, true)),
            new Entry("resnet20-cifar", List.of("resnet20", "resnet-20"), InputSpec.CIFAR10,
                    "ResNet-20 (He et al. 2016, CIFAR): basic blocks 3-3-3 at 16-32-64 channels; gene 12",
                    (n, in) -> ResNetCifarFamily.build(n, in, 3)),
            new Entry("resnet56-cifar", List.of("resnet56", "resnet-56"), InputSpec.CIFAR10,
                    "ResNet-56 (He et al. 2016, CIFAR): basic blocks 9-9-9 at 16-32-64 channels; gene 30",
                    (n, in) -> ResNetCifarFamily.build(n, in, 9)),
            new Entry("mobilenetv2-torchvision", List.of("mobilenetv2-tv"), InputSpec.IMAGENET,
                    "MobileNetV2, torchvision 1.0 layout (no block-1 expand), for checking 300.8 M; gene 34",
                    (n, in) -> MobileNetV2Family.build(n, in, false, true)));

    private static final ConcurrentHashMap<String, Architecture> CACHE = new ConcurrentHashMap<>();

    private Architectures() {
    }

    /** Every entry, in the order listed above. */
    public static List<Entry> entries() {
        return ENTRIES;
    }

    /** Canonical names. */
    public static List<String> names() {
        List<String> out = new ArrayList<>();
        for (Entry e : ENTRIES) {
            out.add(e.name());
        }
        return out;
    }

    /** The entry for a name or alias; {@link IllegalArgumentException} listing the available names otherwise. */
    public static Entry entry(String name) {
        String key = normalize(name);
        for (Entry e : ENTRIES) {
            if (normalize(e.name()).equals(key)) {
                return e;
            }
            for (String a : e.aliases()) {
                if (normalize(a).equals(key)) {
                    return e;
                }
            }
        }
        throw new IllegalArgumentException("unknown architecture '" + name + "'; available: "
                + String.join(", ", names()));
    }

    /** The architecture at its default input shape. */
    public static Architecture get(String name) {
        Entry e = entry(name);
        return get(e.name(), e.defaults());
    }

    /** The architecture at a given input shape. */
    public static Architecture get(String name, InputSpec input) {
        Entry e = entry(name);
        return CACHE.computeIfAbsent(e.name() + "|" + input.channels() + "|" + input.size() + "|" + input.classes(),
                k -> e.factory().apply(e.name(), input));
    }

    /** The architecture with the defaults' fields replaced where non-null. */
    public static Architecture get(String name, Integer inChannels, Integer inputSize, Integer classes) {
        Entry e = entry(name);
        return get(e.name(), e.defaults().with(inChannels, inputSize, classes));
    }

    /** The gene space of a name (independent of the input shape). */
    public static GeneSpace geneSpace(String name) {
        return get(name).geneSpace();
    }

    private static String normalize(String s) {
        return s.toLowerCase(Locale.ROOT).replaceAll("[-_. ]", "");
    }
}
