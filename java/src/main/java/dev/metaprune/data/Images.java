package dev.metaprune.data;

/**
 * Image kernels on float HWC images inside arrays ({@code src} at {@code srcOff}, {@code h x w x c},
 * row-major, channels innermost). Outputs never overlap inputs. These are the deterministic parts of
 * the augmentations in {@link Transforms}; none allocates.
 */
public final class Images {
    private Images() {}

    /** Mirrors the image left-right: {@code dst[y][x] = src[y][w - 1 - x]}. */
    public static void flipHorizontal(float[] src, int srcOff, int h, int w, int c, float[] dst, int dstOff) {
        int row = w * c;
        for (int y = 0; y < h; y++) {
            int s = srcOff + y * row, d = dstOff + y * row;
            for (int x = 0; x < w; x++) {
                System.arraycopy(src, s + (w - 1 - x) * c, dst, d + x * c, c);
            }
        }
    }

    /**
     * Crops an {@code outH x outW} window from the image surrounded by {@code pad} zero pixels on each
     * side: window row {@code 0} is padded row {@code top}, i.e. source row {@code top - pad}. Pixels
     * outside the source are 0. {@code top} / {@code left} range over {@code [0, h + 2 pad - outH]}
     * / {@code [0, w + 2 pad - outW]}.
     */
    public static void cropPadded(float[] src, int srcOff, int h, int w, int c, int pad, int top, int left,
            float[] dst, int dstOff, int outH, int outW) {
        if (pad < 0 || top < 0 || left < 0 || top + outH > h + 2 * pad || left + outW > w + 2 * pad) {
            throw new IllegalArgumentException("crop " + outH + "x" + outW + " at (" + top + ", " + left
                    + ") is outside the " + h + "x" + w + " image padded by " + pad);
        }
        int row = outW * c;
        // source columns [x0, x1) of the window, window columns [xs, xs + (x1 - x0))
        int x0 = Math.max(0, left - pad), x1 = Math.min(w, left - pad + outW);
        int xs = x0 - (left - pad);
        for (int y = 0; y < outH; y++) {
            int sy = top - pad + y;
            int d = dstOff + y * row;
            if (sy < 0 || sy >= h || x1 <= x0) {
                java.util.Arrays.fill(dst, d, d + row, 0f);
                continue;
            }
            if (xs > 0) {
                java.util.Arrays.fill(dst, d, d + xs * c, 0f);
            }
            System.arraycopy(src, srcOff + (sy * w + x0) * c, dst, d + xs * c, (x1 - x0) * c);
            int end = xs + (x1 - x0);
            if (end < outW) {
                java.util.Arrays.fill(dst, d + end * c, d + row, 0f);
            }
        }
    }

    /**
     * Bilinear resize of the window {@code [y0, y0 + ch) x [x0, x0 + cw)} of the image to
     * {@code outH x outW}, with PyTorch's {@code align_corners=False} convention (pixel centres at
     * half-integers; source coordinate {@code max(0, (dst + 0.5) * scale - 0.5)}; the lower
     * neighbour, and the upper one clamped to the window's last row / column). No antialiasing:
     * strong downscaling samples rather than averages. A window of the output's size is copied exactly.
     */
    public static void resizeBilinear(float[] src, int srcOff, int h, int w, int c, int y0, int x0, int ch, int cw,
            float[] dst, int dstOff, int outH, int outW) {
        if (y0 < 0 || x0 < 0 || ch <= 0 || cw <= 0 || y0 + ch > h || x0 + cw > w) {
            throw new IllegalArgumentException("window " + ch + "x" + cw + " at (" + y0 + ", " + x0 + ") is outside the "
                    + h + "x" + w + " image");
        }
        float sy = (float) ch / outH, sx = (float) cw / outW;
        for (int y = 0; y < outH; y++) {
            float fy = Math.max(0f, (y + 0.5f) * sy - 0.5f);
            int iy = Math.min((int) fy, ch - 1);
            int iy1 = iy < ch - 1 ? iy + 1 : iy;
            float ly = fy - iy, hy = 1f - ly;
            int r0 = srcOff + ((y0 + iy) * w + x0) * c, r1 = srcOff + ((y0 + iy1) * w + x0) * c;
            int d = dstOff + y * outW * c;
            for (int x = 0; x < outW; x++) {
                float fx = Math.max(0f, (x + 0.5f) * sx - 0.5f);
                int ix = Math.min((int) fx, cw - 1);
                int ix1 = ix < cw - 1 ? ix + 1 : ix;
                float lx = fx - ix, hx = 1f - lx;
                int a = ix * c, b = ix1 * c;
                for (int k = 0; k < c; k++) {
                    dst[d + x * c + k] = hy * (hx * src[r0 + a + k] + lx * src[r0 + b + k])
                            + ly * (hx * src[r1 + a + k] + lx * src[r1 + b + k]);
                }
            }
        }
    }

    /** {@code dst = (src - mean[ch]) / std[ch]} per channel, for {@code pixels} pixels of {@code c = mean.length} channels. */
    public static void normalize(float[] src, int srcOff, int pixels, float[] mean, float[] std, float[] dst, int dstOff) {
        int c = mean.length;
        for (int p = 0; p < pixels; p++) {
            for (int k = 0; k < c; k++) {
                dst[dstOff + p * c + k] = (src[srcOff + p * c + k] - mean[k]) / std[k];
            }
        }
    }
}
