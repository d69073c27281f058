package dev.metaprune.data;

import java.util.Arrays;

/**
 * Per-channel mean and standard deviation of a data set's pixels as {@link ImageDataset#readImage}
 * gives them (bytes scaled to {@code [0, 1]}), for {@link Transforms#normalize(ChannelStats)}.
 * The standard deviation is the population one (divide by the pixel count), accumulated in double.
 */
public record ChannelStats(float[] mean, float[] std) {
    public ChannelStats {
        mean = mean.clone();
        std = std.clone();
    }

    @Override
    public float[] mean() {
        return mean.clone();
    }

    @Override
    public float[] std() {
        return std.clone();
    }

    /** Statistics over the images {@code indices} of {@code ds} (typically the training split only). */
    public static ChannelStats of(ImageDataset ds, int[] indices) {
        int c = ds.channels(), n = ds.imageSize();
        double[] sum = new double[c], sq = new double[c];
        float[] img = new float[n];
        for (int i : indices) {
            ds.readImage(i, img, 0);
            for (int p = 0; p < n; p++) {
                double v = img[p];
                sum[p % c] += v;
                sq[p % c] += v * v;
            }
        }
        double count = (double) indices.length * (n / c);
        if (count == 0) {
            throw new IllegalArgumentException("statistics of no images");
        }
        float[] mean = new float[c], std = new float[c];
        for (int k = 0; k < c; k++) {
            double m = sum[k] / count;
            mean[k] = (float) m;
            std[k] = (float) Math.sqrt(Math.max(0, sq[k] / count - m * m));
        }
        return new ChannelStats(mean, std);
    }

    /** Statistics over every image of {@code ds}. */
    public static ChannelStats of(ImageDataset ds) {
        int[] all = new int[ds.size()];
        Arrays.setAll(all, i -> i);
        return of(ds, all);
    }

    @Override
    public String toString() {
        return "ChannelStats[mean " + Arrays.toString(mean) + ", std " + Arrays.toString(std) + "]";
    }
}
