package dev.metaprune.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Everything that defines a PruningNet training run; stored in every checkpoint, so that a resumed
 * run continues with exactly the same settings.
 *
 * @param dataset          data set name ({@code fashion-mnist}, {@code mnist}, {@code cifar10}, ...)
 * @param arch             architecture name
 * @param inChannels       image channels
 * @param inputSize        image side
 * @param classes          classes
 * @param epochs           epochs to train
 * @param batch            mini-batch size
 * @param lr               base learning rate
 * @param schedule         {@code linear} (the official one), {@code cosine} or {@code multistep}
 * @param weightDecay      weight decay of the generators and the classifier
 * @param momentum         SGD momentum
 * @param labelSmoothing   label smoothing of the cross-entropy
 * @param seed             the seed of everything random: initialisation, data order, augmentation, genes
 * @param holdoutPerClass  images per class held out of training (the search's sub-validation split)
 * @param maxStepsPerEpoch cap on steps per epoch (0: the whole epoch); for quick runs and tests
 */
public record TrainConfig(String dataset, String arch, int inChannels, int inputSize, int classes, int epochs, int batch, double lr,
                          String schedule, float weightDecay, float momentum, float labelSmoothing, long seed,
                          int holdoutPerClass, int maxStepsPerEpoch) {
    public TrainConfig {
        schedule = Training.checkSettings(epochs, batch, lr, schedule, maxStepsPerEpoch);
        if (holdoutPerClass < 0) {
            throw new IllegalArgumentException("hold-out must be >= 0, got " + holdoutPerClass);
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    public String toJson() {
        return JSON.valueToTree(this).toString();
    }

    public static TrainConfig fromJson(String json) {
        try {
            return JSON.readValue(json, TrainConfig.class);
        } catch (Exception e) {
            throw new IllegalArgumentException("checkpoint has an unreadable training configuration: " + e.getMessage());
        }
    }

    ObjectNode toNode() {
        return JSON.valueToTree(this);
    }
}
