package dev.metaprune.data;

import java.util.Arrays;

/**
 * A partition of a data set's images into a training part and a held-out part, as two sorted index
 * arrays (views: the pixels stay in the {@link ImageDataset}).
 *
 * <p>MetaPruning trains the PruningNet on the training set minus a class-balanced "sub-validation"
 * split (50 images per class on ImageNet) on which the evolutionary search scores candidates;
 * {@link #holdoutPerClass} makes that split.
 */
public record Split(int[] train, int[] holdout) {
    public Split {
        train = train.clone();
        holdout = holdout.clone();
    }

    @Override
    public int[] train() {
        return train.clone();
    }

    @Override
    public int[] holdout() {
        return holdout.clone();
    }

    /**
     * Holds out {@code perClass} images of every class, chosen by {@code seed}; the rest is the
     * training part. Procedure (part of the contract): for class 0, 1, ... in turn, list that class's
     * image indices in ascending order, shuffle them with {@link Rng#shuffle} using one
     * {@code Rng(Rng.derive(seed, numClasses, perClass))} shared across classes, hold out the first
     * {@code perClass}; both parts are returned sorted ascending.
     *
     * @throws IllegalArgumentException when a class has no more than {@code perClass} images (the
     *     training part would lose the class)
     */
    public static Split holdoutPerClass(ImageDataset ds, int perClass, long seed) {
        return holdoutPerClass(ds.labels(), ds.numClasses(), perClass, seed, ds.name());
    }

    /** As {@link #holdoutPerClass(ImageDataset, int, long)} on a label array. */
    public static Split holdoutPerClass(int[] labels, int numClasses, int perClass, long seed, String what) {
        if (perClass < 0) {
            throw new IllegalArgumentException("hold-out of " + perClass + " images per class");
        }
        int[] counts = new int[numClasses];
        for (int l : labels) {
            counts[l]++;
        }
        int[][] byClass = new int[numClasses][];
        for (int k = 0; k < numClasses; k++) {
            if (counts[k] <= perClass) {
                throw new IllegalArgumentException(what + ": class " + k + " has " + counts[k]
                        + " images, a hold-out of " + perClass + " per class would leave it none for training");
            }
            byClass[k] = new int[counts[k]];
        }
        int[] fill = new int[numClasses];
        for (int i = 0; i < labels.length; i++) {
            byClass[labels[i]][fill[labels[i]]++] = i;
        }
        Rng rng = new Rng(Rng.derive(seed, numClasses, perClass));
        int[] holdout = new int[numClasses * perClass];
        int[] train = new int[labels.length - holdout.length];
        int h = 0, t = 0;
        for (int k = 0; k < numClasses; k++) {
            int[] idx = byClass[k];
            rng.shuffle(idx);
            System.arraycopy(idx, 0, holdout, h, perClass);
            System.arraycopy(idx, perClass, train, t, idx.length - perClass);
            h += perClass;
            t += idx.length - perClass;
        }
        Arrays.sort(holdout);
        Arrays.sort(train);
        return new Split(train, holdout);
    }

    /** Every index {@code 0 .. n-1}: the whole data set as one part. */
    public static int[] all(int n) {
        int[] a = new int[n];
        Arrays.setAll(a, i -> i);
        return a;
    }

    @Override
    public String toString() {
        return "Split[" + train.length + " train, " + holdout.length + " held out]";
    }
}
