package dev.metaprune.nn.arch;

/**
 * One channel dimension of a network: the width of a tensor (and of the convolutions that produce and consume it),
 * chosen either by a gene position or fixed.
 *
 * <p>Several layers share one {@code Channels}: a ResNet stage output is read by every block of the stage, a
 * depthwise convolution's input and output are the same dimension. Widths are resolved per {@code Channels}
 * ({@link Widths#of(Channels)}).
 *
 * @param id          index in {@link Architecture#channels()}
 * @param label       a readable name, e.g. {@code "block3.mid"}, {@code "layer2.out"}, {@code "input"}
 * @param base        the maximum width: what the PruningNet's generated weights are sized for; a gene index
 *                    {@code i} at this dimension gives {@code Scales.width(base, i)} channels. For a fixed dimension,
 *                    its width.
 * @param genePosition the gene position that chooses this width, or -1 when fixed
 * @param reference   the width in the paper's 1.0x network, which a uniform width multiplier {@code m} scales
 *                    (see {@link MultiplierRule}); equals {@code base} except in MobileNetV2, whose gene space uses
 *                    1.4x base widths
 * @param multiplierRule how a uniform width multiplier treats this dimension
 */
public record Channels(int id, String label, int base, int genePosition, int reference, MultiplierRule multiplierRule) {

    /** How a uniform width multiplier {@code m} sets a dimension's width (the papers' "0.5x" baselines). */
    public enum MultiplierRule {
        /** {@code int(reference * m)} (MobileNetV1 and ResNet-50 scale every layer, the last included). */
        SCALED,
        /** Always {@code reference}: the image channels. */
        FIXED,
        /** {@code reference} for {@code m <= 1}, {@code int(reference * m)} above (MobileNetV2's last 1280, as torchvision). */
        FIXED_UNLESS_WIDER
    }

    public Channels {
        if (base <= 0 || reference <= 0) {
            throw new IllegalArgumentException(label + ": base and reference widths must be positive");
        }
    }

    /** Whether a gene position chooses this width. */
    public boolean isGene() {
        return genePosition >= 0;
    }

    /** Width at gene scale index {@code index} (fixed dimensions ignore it). */
    public int widthAtIndex(int index) {
        return isGene() ? Scales.width(base, index) : base;
    }

    /** Width under a uniform width multiplier {@code m}. */
    public int widthAtMultiplier(double m) {
        return switch (multiplierRule) {
            case FIXED -> reference;
            case SCALED -> (int) (reference * m);
            case FIXED_UNLESS_WIDER -> m <= 1.0 ? reference : Math.max(reference, (int) (reference * m));
        };
    }

    @Override
    public String toString() {
        return label + (isGene() ? "[gene " + genePosition + ", base " + base + "]" : "[fixed " + base + "]");
    }
}
