package dev.metaprune.nn.arch;

/**
 * A tensor flowing between operations: {@code [batch, channels, height, width]}. The spatial size is fixed by the
 * architecture's input size; the channel count depends on the width configuration ({@link Widths#of(Channels)}).
 *
 * @param id       index in {@link Architecture#values()}; value 0 is the input image
 * @param channels its channel dimension
 * @param height   spatial height
 * @param width    spatial width (for the flattened output of global pooling and of the classifier: 1 x 1)
 */
public record Value(int id, Channels channels, int height, int width) {
}
