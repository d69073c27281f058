package dev.metaprune.nn.arch;

import java.util.List;

/**
 * The PruningNet weight generator of one convolution: {@code Linear(inputs.size() -> hidden) -> ReLU ->
 * Linear(hidden -> maxWeights)}, whose output, viewed as the full {@code [base out, base in / groups, k, k]} weight, is
 * cropped to {@code [:c_out, :c_in]}.
 *
 * <p>The generator's input vector is the scale of each dimension in {@link #inputs()}, in order:
 * {@code Scales.value(gene[c.genePosition()])} for a gene dimension, 1.0 for a fixed one (the official code passes
 * scale index -1, i.e. 1.00, for the fixed last widths). Official layouts: MobileNetV1 stem {@code [out]}, depthwise
 * and pointwise convs of a block {@code [in, out]}; MobileNetV2 and ResNet bottleneck convs (and ResNet downsample)
 * {@code [mid, in, out]}; MobileNetV2 stem {@code [out]}, last 1x1 {@code [in]}; ResNet stem {@code [out]}.
 * (MobileNetV1 divides by the maximum scale, 1.00: no difference.)
 *
 * @param inputs     the dimensions whose scales form the input vector
 * @param hidden     hidden size: 32 (V1, ResNet, V2 stem and last), 64 (V2 bottlenecks)
 * @param maxWeights the full weight count {@code outBase * inBase / groups * k * k} the second linear produces
 */
public record GeneratorSpec(List<Channels> inputs, int hidden, long maxWeights) {
    public GeneratorSpec {
        inputs = List.copyOf(inputs);
    }

    /** The generator's input vector for a gene (scale indices by position). */
    public float[] encode(int[] geneIndices) {
        float[] v = new float[inputs.size()];
        for (int i = 0; i < v.length; i++) {
            Channels c = inputs.get(i);
            v[i] = (float) (c.isGene() ? Scales.value(geneIndices[c.genePosition()]) : 1.0);
        }
        return v;
    }
}
