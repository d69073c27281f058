/**
 * Per-device latency lookup tables for MetaPruning's latency-constrained search.
 *
 * <p>A network is split into <i>layer positions</i> ({@link LayerPosition}): a convolution with the batch norm and
 * activation that follow it, a residual add (with its activation), a pooling layer, the classifier. The cost of a
 * position depends only on its input and output widths, so a {@link LatencyTable} holds, per position, one entry per
 * (input width, output width) pair the gene encoding can produce (depthwise convolutions, adds and pools: one width;
 * fixed layers: one entry). A network's predicted latency is the sum of its positions' entries, plus an overhead
 * fitted against end-to-end measurements ({@link Validator}).
 *
 * <p>Tables are JSON, in milliseconds (named in the file), with the device's metadata; {@link Profiler} builds them
 * (full, or on a grid of width choices with bilinear interpolation in between), resumably.
 */
package dev.metaprune.latency;
