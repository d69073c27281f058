package dev.metaprune.data;

import dev.metaprune.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/** A labelled batch held in memory (copied out of a loader's reused buffers). */
public record HeldBatch(Tensor images, int[] labels) {
    public int size() {
        return labels.length;
    }

    /**
     * The images {@code indices} of {@code ds} in order, transformed by {@code aug}, in batches of at
     * most {@code batch} (the last may be smaller).
     */
    public static List<HeldBatch> load(ImageDataset ds, int[] indices, int batch, Augmentation aug) {
        List<HeldBatch> out = new ArrayList<>();
        if (indices.length == 0) {
            return out;
        }
        try (BatchLoader l = BatchLoader.builder(ds).indices(indices).batchSize(batch).shuffle(false).dropLast(false)
                .seed(0).augmentation(aug).prefetch(1).build(); BatchLoader.Epoch it = l.epoch(0, 0)) {
            while (it.hasNext()) {
                Batch b = it.next();
                out.add(new HeldBatch(b.images().copy(), b.labels().clone()));
            }
        }
        return out;
    }

    /** Every image of {@code ds}, normalised with {@code stats}, not augmented. */
    public static List<HeldBatch> all(ImageDataset ds, int batch, ChannelStats stats) {
        return load(ds, java.util.stream.IntStream.range(0, ds.size()).toArray(), batch,
                Augmentation.of(ds.height(), ds.width(), ds.channels(), Transforms.normalize(stats)));
    }
}
