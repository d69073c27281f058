package dev.metaprune.nn.cost;

import dev.metaprune.nn.arch.Widths;
import java.util.List;

/**
 * FLOPs and parameters of a network at one width configuration, in the papers' convention (see
 * {@link CostCounter}).
 *
 * @param widths     the configuration counted
 * @param layers     per counted layer, in execution order
 * @param flops      multiply-adds of all convolutions and the classifier
 * @param convParams convolution weights (no biases: none of these convs has one)
 * @param bnParams   batch-norm gamma and beta, 2 per channel of every BN (running statistics are buffers, not counted)
 * @param fcParams   classifier weight and bias
 */
public record CostReport(Widths widths, List<LayerCost> layers, long flops, long convParams, long bnParams,
                         long fcParams) {
    public CostReport {
        layers = List.copyOf(layers);
    }

    /** All parameters: conv + BN + FC (what torchvision's {@code sum(p.numel())} gives: ResNet-50 25,557,032). */
    public long params() {
        return convParams + bnParams + fcParams;
    }

    /** FLOPs in millions (multiply-adds / 1e6). */
    public double mflops() {
        return flops / 1e6;
    }

    /** Parameters in millions. */
    public double mparams() {
        return params() / 1e6;
    }
}
