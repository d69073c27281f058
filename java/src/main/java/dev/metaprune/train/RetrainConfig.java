package dev.metaprune.train;

import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Everything that defines a from-scratch training run of one pruned network (MetaPruning's last
 * stage, and the uniform-width rival it must beat); stored in every checkpoint so a resumed run
 * continues with exactly the same settings.
 *
 * @param dataset          data set name
 * @param arch             architecture name
 * @param inChannels       image channels
 * @param inputSize        image side
 * @param classes          classes
 * @param widths           the width configuration: {@code gene:i,j,k,...} (scale indices), {@code uniform:m} or
 *                         {@code channels:w0,w1,...} (every dimension's width by id: a pruned network)
 * @param epochs           epochs
 * @param batch            mini-batch size
 * @param lr               base learning rate
 * @param schedule         {@code linear}, {@code cosine} or {@code multistep}
 * @param weightDecay      weight decay on conv and FC weights (BN and biases are not decayed)
 * @param momentum         SGD momentum
 * @param labelSmoothing   label smoothing
 * @param seed             seed of the initial weights, the data order and the augmentation
 * @param maxStepsPerEpoch cap on steps per epoch (0: whole epochs)
 * @param bnL1             L1 sparsity on the BatchNorm scales (Network Slimming's {@code s}; 0: none): the subgradient
 *                         {@code bnL1 * sign(gamma)} is added to every BatchNorm scale's gradient
 */
public record RetrainConfig(String dataset, String arch, int inChannels, int inputSize, int classes, String widths,
                            int epochs, int batch, double lr, String schedule, float weightDecay, float momentum,
                            float labelSmoothing, long seed, int maxStepsPerEpoch, float bnL1) {
    @com.fasterxml.jackson.annotation.JsonCreator
    public RetrainConfig {
        schedule = Training.checkSettings(epochs, batch, lr, schedule, maxStepsPerEpoch);
        if (!widths.startsWith("gene:") && !widths.startsWith("uniform:") && !widths.startsWith("channels:")) {
            throw new IllegalArgumentException("widths must be 'gene:<indices>', 'uniform:<multiplier>' or"
                    + " 'channels:<widths>', got '" + widths + "'");
        }
        if (!(bnL1 >= 0) || !Float.isFinite(bnL1)) {
            throw new IllegalArgumentException("BatchNorm L1 sparsity must be >= 0, got " + bnL1);
        }
    }

    /** Without BatchNorm sparsity (plain training). */
    public RetrainConfig(String dataset, String arch, int inChannels, int inputSize, int classes, String widths,
                         int epochs, int batch, double lr, String schedule, float weightDecay, float momentum,
                         float labelSmoothing, long seed, int maxStepsPerEpoch) {
        this(dataset, arch, inChannels, inputSize, classes, widths, epochs, batch, lr, schedule, weightDecay, momentum,
                labelSmoothing, seed, maxStepsPerEpoch, 0f);
    }

    /** The same settings with another width configuration, epochs, learning rate and sparsity. */
    public RetrainConfig with(String newWidths, int newEpochs, double newLr, float newBnL1) {
        return new RetrainConfig(dataset, arch, inChannels, inputSize, classes, newWidths, newEpochs, batch, newLr,
                schedule, weightDecay, momentum, labelSmoothing, seed, maxStepsPerEpoch, newBnL1);
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    public String toJson() {
        return JSON.valueToTree(this).toString();
    }

    public static RetrainConfig fromJson(String json) {
        try {
            return JSON.readValue(json, RetrainConfig.class);
        } catch (Exception e) {
            throw new IllegalArgumentException("checkpoint has an unreadable training configuration: " + e.getMessage());
        }
    }
}
