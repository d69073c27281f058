package dev.metaprune.data;

import java.util.Arrays;

/**
 * The augmentations and preprocessing steps, as {@link Transform}s. Following torchvision, the
 * geometric steps come first and {@link #normalize} last (so that zero padding is black, as in
 * {@code RandomCrop(padding=p)} applied to a PIL image before {@code ToTensor}).
 */
public final class Transforms {
    private Transforms() {}

    /**
     * torchvision's {@code RandomCrop(size, padding=pad)} with zero fill: pad every side by
     * {@code pad} zeros, then take an {@code outH x outW} window at a uniform position.
     * Draws: {@code top = nextInt(h + 2 pad - outH + 1)}, then {@code left = nextInt(w + 2 pad - outW + 1)}.
     */
    public static Transform randomCrop(int outH, int outW, int pad) {
        if (outH <= 0 || outW <= 0 || pad < 0) {
            throw new IllegalArgumentException("random crop " + outH + "x" + outW + " with padding " + pad);
        }
        return new Transform() {
            @Override
            public int[] outputShape(int h, int w, int c) {
                if (outH > h + 2 * pad || outW > w + 2 * pad) {
                    throw new IllegalArgumentException("random crop " + outH + "x" + outW + " is larger than the "
                            + h + "x" + w + " image padded by " + pad);
                }
                return new int[] {outH, outW, c};
            }

            @Override
            public void apply(float[] src, int srcOff, int h, int w, int c, float[] dst, int dstOff, Rng rng) {
                int top = rng.nextInt(h + 2 * pad - outH + 1);
                int left = rng.nextInt(w + 2 * pad - outW + 1);
                Images.cropPadded(src, srcOff, h, w, c, pad, top, left, dst, dstOff, outH, outW);
            }

            @Override
            public String toString() {
                return "randomCrop(" + outH + "x" + outW + ", pad " + pad + ")";
            }
        };
    }

    /** {@code randomResizedCrop(outH, outW, 0.08, 1, 3/4, 4/3)}: torchvision's defaults. */
    public static Transform randomResizedCrop(int outH, int outW) {
        return randomResizedCrop(outH, outW, 0.08, 1.0, 3.0 / 4.0, 4.0 / 3.0);
    }

    /**
     * torchvision's {@code RandomResizedCrop(size, scale, ratio)}: pick a window of area fraction
     * {@code s} in {@code [scaleMin, scaleMax]} and aspect ratio (width / height) log-uniform in
     * {@code [ratioMin, ratioMax]}, resize it bilinearly (see {@link Images#resizeBilinear}) to
     * {@code outH x outW}.
     *
     * <p>Window choice, as torchvision's {@code get_params}: up to 10 attempts, each drawing
     * {@code s = uniform(scaleMin, scaleMax)} then {@code logr = uniform(ln ratioMin, ln ratioMax)};
     * {@code cw = rint(sqrt(h w s e^logr))}, {@code chh = rint(sqrt(h w s / e^logr))} (round half to
     * even, as Python's {@code round}); when {@code 0 < cw <= w} and {@code 0 < chh <= h} draw
     * {@code top = nextInt(h - chh + 1)} then {@code left = nextInt(w - cw + 1)} and stop. After 10
     * failures: the central crop of the largest window whose ratio is clamped into the range.
     */
    public static Transform randomResizedCrop(int outH, int outW, double scaleMin, double scaleMax, double ratioMin,
            double ratioMax) {
        if (outH <= 0 || outW <= 0 || !(scaleMin > 0) || scaleMin > scaleMax || !(ratioMin > 0)
                || ratioMin > ratioMax) {
            throw new IllegalArgumentException("random resized crop " + outH + "x" + outW + " scale [" + scaleMin
                    + ", " + scaleMax + "] ratio [" + ratioMin + ", " + ratioMax + "]");
        }
        double logLo = Math.log(ratioMin), logHi = Math.log(ratioMax);
        return new Transform() {
            @Override
            public int[] outputShape(int h, int w, int c) {
                return new int[] {outH, outW, c};
            }

            @Override
            public void apply(float[] src, int srcOff, int h, int w, int c, float[] dst, int dstOff, Rng rng) {
                double area = (double) h * w;
                for (int attempt = 0; attempt < 10; attempt++) {
                    double target = area * rng.uniform(scaleMin, scaleMax);
                    double ratio = Math.exp(rng.uniform(logLo, logHi));
                    int cw = (int) Math.rint(Math.sqrt(target * ratio));
                    int chh = (int) Math.rint(Math.sqrt(target / ratio));
                    if (cw > 0 && cw <= w && chh > 0 && chh <= h) {
                        int top = rng.nextInt(h - chh + 1);
                        int left = rng.nextInt(w - cw + 1);
                        Images.resizeBilinear(src, srcOff, h, w, c, top, left, chh, cw, dst, dstOff, outH, outW);
                        return;
                    }
                }
                double inRatio = (double) w / h;
                int cw, chh;
                if (inRatio < ratioMin) {
                    cw = w;
                    chh = (int) Math.rint(w / ratioMin);
                } else if (inRatio > ratioMax) {
                    chh = h;
                    cw = (int) Math.rint(h * ratioMax);
                } else {
                    cw = w;
                    chh = h;
                }
                chh = Math.max(1, Math.min(h, chh));
                cw = Math.max(1, Math.min(w, cw));
                Images.resizeBilinear(src, srcOff, h, w, c, (h - chh) / 2, (w - cw) / 2, chh, cw, dst, dstOff, outH,
                        outW);
            }

            @Override
            public String toString() {
                return "randomResizedCrop(" + outH + "x" + outW + ", scale [" + scaleMin + ", " + scaleMax
                        + "], ratio [" + ratioMin + ", " + ratioMax + "])";
            }
        };
    }

    /** Mirror left-right with probability {@code p}. Draws one {@code nextDouble()}; flips when it is {@code < p}. */
    public static Transform horizontalFlip(double p) {
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException("flip probability " + p + " outside [0, 1]");
        }
        return new Transform() {
            @Override
            public int[] outputShape(int h, int w, int c) {
                return new int[] {h, w, c};
            }

            @Override
            public void apply(float[] src, int srcOff, int h, int w, int c, float[] dst, int dstOff, Rng rng) {
                if (rng.nextDouble() < p) {
                    Images.flipHorizontal(src, srcOff, h, w, c, dst, dstOff);
                } else {
                    System.arraycopy(src, srcOff, dst, dstOff, h * w * c);
                }
            }

            @Override
            public String toString() {
                return "horizontalFlip(" + p + ")";
            }
        };
    }

    /** Bilinear resize of the whole image to {@code outH x outW} (see {@link Images#resizeBilinear}). Draws nothing. */
    public static Transform resize(int outH, int outW) {
        if (outH <= 0 || outW <= 0) {
            throw new IllegalArgumentException("resize to " + outH + "x" + outW);
        }
        return new Transform() {
            @Override
            public int[] outputShape(int h, int w, int c) {
                return new int[] {outH, outW, c};
            }

            @Override
            public void apply(float[] src, int srcOff, int h, int w, int c, float[] dst, int dstOff, Rng rng) {
                Images.resizeBilinear(src, srcOff, h, w, c, 0, 0, h, w, dst, dstOff, outH, outW);
            }

            @Override
            public String toString() {
                return "resize(" + outH + "x" + outW + ")";
            }
        };
    }

    /**
     * The central {@code outH x outW} window, as torchvision's {@code CenterCrop}: top
     * {@code rint((h - outH) / 2)}, left {@code rint((w - outW) / 2)} (round half to even, as Python's
     * {@code round}). The image must be at least that large. Draws nothing.
     */
    public static Transform centerCrop(int outH, int outW) {
        if (outH <= 0 || outW <= 0) {
            throw new IllegalArgumentException("center crop " + outH + "x" + outW);
        }
        return new Transform() {
            @Override
            public int[] outputShape(int h, int w, int c) {
                if (outH > h || outW > w) {
                    throw new IllegalArgumentException("center crop " + outH + "x" + outW + " of a smaller " + h
                            + "x" + w + " image");
                }
                return new int[] {outH, outW, c};
            }

            @Override
            public void apply(float[] src, int srcOff, int h, int w, int c, float[] dst, int dstOff, Rng rng) {
                int top = (int) Math.rint((h - outH) / 2.0), left = (int) Math.rint((w - outW) / 2.0);
                Images.cropPadded(src, srcOff, h, w, c, 0, top, left, dst, dstOff, outH, outW);
            }

            @Override
            public String toString() {
                return "centerCrop(" + outH + "x" + outW + ")";
            }
        };
    }

    /** {@code (x - mean[ch]) / std[ch]} for each channel (as many as the image has). Draws nothing. */
    public static Transform normalize(float[] mean, float[] std) {
        if (mean.length != std.length || mean.length == 0) {
            throw new IllegalArgumentException("normalisation with " + mean.length + " means and " + std.length
                    + " standard deviations");
        }
        for (float s : std) {
            if (!(s > 0)) {
                throw new IllegalArgumentException("standard deviation " + s + " in " + Arrays.toString(std)
                        + " must be positive");
            }
        }
        float[] m = mean.clone(), s = std.clone();
        return new Transform() {
            @Override
            public int[] outputShape(int h, int w, int c) {
                if (c != m.length) {
                    throw new IllegalArgumentException("normalisation for " + m.length + " channels applied to "
                            + c + " channels");
                }
                return new int[] {h, w, c};
            }

            @Override
            public void apply(float[] src, int srcOff, int h, int w, int c, float[] dst, int dstOff, Rng rng) {
                Images.normalize(src, srcOff, h * w, m, s, dst, dstOff);
            }

            @Override
            public String toString() {
                return "normalize(mean " + Arrays.toString(m) + ", std " + Arrays.toString(s) + ")";
            }
        };
    }

    /** A normalisation by the statistics of a data set (see {@link ChannelStats}). */
    public static Transform normalize(ChannelStats stats) {
        return normalize(stats.mean(), stats.std());
    }
}
