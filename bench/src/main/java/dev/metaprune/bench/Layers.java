package dev.metaprune.bench;

import dev.metaprune.kernels.Conv2dSpec;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The layer shapes benchmarked (MobileNetV2 1.0 at 224 and batch 32, its CIFAR-scale variant at
 * batch 128, a ResNet 3x3), by name. Names read {@code kind_cin-cout@H_nBATCH}; the same names are
 * used by {@code bench/peers/} so the tables line up.
 */
public final class Layers {
    private Layers() {
    }

    /** One convolution layer at a batch size. */
    public record Layer(String name, int n, int h, int w, Conv2dSpec spec) {
        public int outH() {
            return spec.outH(h);
        }

        public int outW() {
            return spec.outW(w);
        }

        /** Multiply-adds of the forward pass. */
        public long macs() {
            return (long) n * spec.macs(outH(), outW());
        }
    }

    public static final Map<String, Layer> ALL = new LinkedHashMap<>();

    private static void add(String name, int n, int h, int cin, int cout, int k, int s, int groups) {
        ALL.put(name, new Layer(name, n, h, h, Conv2dSpec.of(cin, cout, k, s, k / 2, groups)));
    }

    static {
        add("stem3x3s2_3-32@224_n32", 32, 224, 3, 32, 3, 2, 1);
        add("dw3x3s2_96@112_n32", 32, 112, 96, 96, 3, 2, 96);
        add("pw_24-144@56_n32", 32, 56, 24, 144, 1, 1, 1);
        add("dw3x3s1_144@56_n32", 32, 56, 144, 144, 3, 1, 144);
        add("dw3x3s2_144@56_n32", 32, 56, 144, 144, 3, 2, 144);
        add("pw_144-24@56_n32", 32, 56, 144, 24, 1, 1, 1);
        add("pw_160-960@7_n32", 32, 7, 160, 960, 1, 1, 1);
        add("dw3x3s1_960@7_n32", 32, 7, 960, 960, 3, 1, 960);
        add("pw_320-1280@7_n32", 32, 7, 320, 1280, 1, 1, 1);
        add("conv3x3_64-64@56_n32", 32, 56, 64, 64, 3, 1, 1);
        add("stem3x3s1_3-32@32_n128", 128, 32, 3, 32, 3, 1, 1);
        add("pw_24-144@32_n128", 128, 32, 24, 144, 1, 1, 1);
        add("dw3x3s1_144@32_n128", 128, 32, 144, 144, 3, 1, 144);
        add("dw3x3s2_144@32_n128", 128, 32, 144, 144, 3, 2, 144);
        add("pw_144-24@32_n128", 128, 32, 144, 24, 1, 1, 1);
    }

    public static Layer get(String name) {
        Layer l = ALL.get(name);
        if (l == null) {
            throw new IllegalArgumentException("unknown layer '" + name + "'; known: " + ALL.keySet());
        }
        return l;
    }
}
