/**
 * Network families as data: {@link dev.metaprune.nn.arch.Architecture} = channel dimensions
 * ({@link dev.metaprune.nn.arch.Channels}, each chosen by a gene position or fixed), tensors
 * ({@link dev.metaprune.nn.arch.Value}) and operations ({@link dev.metaprune.nn.arch.Op}) in execution order; a
 * {@link dev.metaprune.nn.arch.Widths} resolves every dimension's channel count from a gene or a uniform width
 * multiplier. Names: {@link dev.metaprune.nn.arch.Architectures}.
 *
 * <h2>Width choices</h2>
 * 31 scales {@code (10 + 3i) / 100}, i = 0..30; a dimension of base (maximum) width {@code b} at index {@code i} runs
 * {@code int(b * scale_i)} channels, computed in double precision exactly as Python does ({@link
 * dev.metaprune.nn.arch.Scales}).
 *
 * <h2>Gene layouts (the official code's order)</h2>
 * <ul>
 * <li><b>mobilenetv1</b>, 13 positions: position {@code i} = output width of layer {@code i}, i.e. 0 = stem (base 32),
 * 1..12 = depthwise-separable blocks 1..12 (bases 64, 128, 128, 256, 256, 512 x 6, 1024). Block 13's output (1024) is
 * fixed. Block {@code i} reads position {@code i - 1} (input) and {@code i} (output). (The official
 * {@code evaluating/mobilenet_v1.py} reads {@code rngs[i-1]} for layer {@code i}'s output: an off-by-one not
 * copied.)</li>
 * <li><b>mobilenetv2</b>, 35 positions: 0..17 = output widths of the stem (0, base 44) and of blocks 1..17
 * (bases 22, 33, 33, 44, 44, 44, 88 x 4, 132 x 3, 224 x 3, 448), tied per stage: {0}, {1}, {2,3}, {4,5,6},
 * {7,8,9,10}, {11,12,13}, {14,15,16}, {17}; 18..34 = mid (expanded) widths of blocks 1..17 (position 17 + j is block
 * j's mid; bases 44 for block 1, whose expand ratio is 1, else 6 x the block's base input: 132, 198, 198, 264, 264,
 * 264, 528, 528, 528, 528, 792, 792, 792, 1344, 1344, 1344). Last 1x1 conv: 1280, fixed. This is
 * {@code model_for_FLOPs.adapt_channel} and the search's {@code ids[:18]} / {@code ids[18:]} split. (The official
 * training code indexes mids by block number, {@code mid_scale_ids[1..17]} of 18, and the search calls the
 * PruningNet with the two lists swapped; neither is copied.)</li>
 * <li><b>resnet50</b>, 20 positions: 0 = stem output (base 64); 1, 2, 3 = outputs of stages 1-3 (bases 256, 512,
 * 1024; shared by every block of the stage, so no ties are needed); 4..19 = mid widths of the 16 bottlenecks in order
 * ({@code layer1.0} .. {@code layer4.2}; base = stage output / 4: 64 x 3, 128 x 4, 256 x 6, 512 x 3). Stage 4's output
 * (2048) is fixed. This is {@code model_for_FLOPs.adapt_channel}.</li>
 * <li><b>resnet20-cifar / resnet56-cifar</b> (no official MetaPruning layout; the same conventions), {@code 3 + 3n}
 * positions for {@code n} blocks per stage: 0 = stem output = stage 1's output (its identity shortcuts carry it; base
 * 16), 1, 2 = outputs of stages 2 and 3 (bases 32, 64), then the mid width of every block in order (bases 16, 32,
 * 64).</li>
 * </ul>
 * The {@code -cifar} variants share their family's layout (bases and positions); {@code mobilenetv2-torchvision} has
 * 34 positions (18 outputs as above, then the mids of blocks 2..17: its block 1 has no expand conv) at the 1.0x bases.
 *
 * <h2>Reuse by executors and the PruningNet</h2>
 * Each {@link dev.metaprune.nn.arch.Op.Conv} carries its input and output dimensions (gene position or fixed, base
 * width: the maximum weight is {@code [out.base, in.base / groups, k, k]}, cropped to the configured widths) and its
 * {@link dev.metaprune.nn.arch.GeneratorSpec} (which dimensions' scales feed the generator, hidden size). Each
 * {@link dev.metaprune.nn.arch.Op.BatchNorm} says which dimension keys its per-width running statistics and whether
 * the PruningNet's BN is affine.
 */
package dev.metaprune.nn.arch;
