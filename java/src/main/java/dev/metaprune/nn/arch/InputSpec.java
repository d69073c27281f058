package dev.metaprune.nn.arch;

/**
 * What an architecture is built for: image channels, square image size, classes.
 *
 * @param channels image channels (3 for RGB, 1 for Fashion-MNIST)
 * @param size     image height = width in pixels
 * @param classes  classifier outputs
 */
public record InputSpec(int channels, int size, int classes) {
    public InputSpec {
        if (channels <= 0 || channels > 64) {
            throw new IllegalArgumentException("input channels must be in 1..64, got " + channels);
        }
        if (size <= 0 || size > 4096) {
            throw new IllegalArgumentException("input size must be in 1..4096, got " + size);
        }
        if (classes <= 0) {
            throw new IllegalArgumentException("classes must be positive, got " + classes);
        }
    }

    /** ImageNet: 3 x 224 x 224, 1000 classes. */
    public static final InputSpec IMAGENET = new InputSpec(3, 224, 1000);
    /** CIFAR-10: 3 x 32 x 32, 10 classes. */
    public static final InputSpec CIFAR10 = new InputSpec(3, 32, 10);

    /** This spec with the given fields replaced where non-null. */
    public InputSpec with(Integer channels, Integer size, Integer classes) {
        return new InputSpec(channels != null ? channels : this.channels, size != null ? size : this.size,
                classes != null ? classes : this.classes);
    }

    @Override
    public String toString() {
        return channels + "x" + size + "x" + size + ", " + classes + " classes";
    }
}
