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
 * @param widths           the width configuration: {@code gene:i,j,k,...} (scale indices) or {@code uniform:m}
 * @param epochs           epochs
 * @param batch            mini-batch size
 * @param lr               base learning rate
 * @param schedule         {@code linear}, {@code cosine} or {@code multistep}
 * @param weightDecay      weight decay on conv and FC weights (BN and biases are not decayed)
 * @param momentum         SGD momentum
 * @param labelSmoothing   label smoothing
 * @param seed             seed of the initial weights, the data order and the augmentation
 * @param maxStepsPerEpoch cap on steps per epoch (0: whole epochs)
 */
public record RetrainConfig(String dataset, String arch, int inChannels, int inputSize, int classes, String widths,
                            int epochs, int batch, double lr, String schedule, float weightDecay, float momentum,
                            float labelSmoothing, long seed, int maxStepsPerEpoch) {
    public RetrainConfig {
        schedule = Training.checkSettings(epochs, batch, lr, schedule, maxStepsPerEpoch);
        if (!widths.startsWith("gene:") && !widths.startsWith("uniform:")) {
            throw new IllegalArgumentException("widths must be 'gene:<indices>' or 'uniform:<multiplier>', got '"
                    + widths + "'");
        }
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
