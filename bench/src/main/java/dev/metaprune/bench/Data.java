package dev.metaprune.bench;

import java.util.SplittableRandom;

/** Deterministic benchmark inputs. */
final class Data {
    private Data() {
    }

    static float[] random(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return x;
    }

    /** {@code n} class labels uniform in {@code [0, classes)}. */
    static int[] labels(int n, int classes, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = r.nextInt(classes);
        }
        return y;
    }
}
