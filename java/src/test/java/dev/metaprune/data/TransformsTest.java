package dev.metaprune.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TransformsTest {
    static float[] random(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextDouble();
        }
        return x;
    }

    static float[] apply(Transform t, float[] src, int h, int w, int c, long seed) {
        int[] s = t.outputShape(h, w, c);
        float[] out = new float[s[0] * s[1] * s[2]];
        t.apply(src, 0, h, w, c, out, 0, new Rng(seed));
        return out;
    }

    @Test
    void flipTwiceIsIdentityAndFlipMirrors() {
        int h = 5, w = 7, c = 3;
        float[] x = random(h * w * c, 1), once = new float[x.length], twice = new float[x.length];
        Images.flipHorizontal(x, 0, h, w, c, once, 0);
        Images.flipHorizontal(once, 0, h, w, c, twice, 0);
        assertArrayEquals(x, twice);
        assertFalse(Arrays.equals(x, once));
        assertEquals(x[(2 * w + 1) * c + 2], once[(2 * w + (w - 2)) * c + 2]);
    }

    @Test
    void flipTransformFlipsAtTheDrawnRate() {
        int h = 2, w = 3, c = 1;
        float[] x = random(6, 2), mirrored = new float[6];
        Images.flipHorizontal(x, 0, h, w, c, mirrored, 0);
        Transform t = Transforms.horizontalFlip(0.5);
        int flips = 0;
        for (long s = 0; s < 400; s++) {
            float[] y = apply(t, x, h, w, c, s);
            boolean flipped = Arrays.equals(y, mirrored);
            assertTrue(flipped || Arrays.equals(y, x));
            assertEquals(new Rng(s).nextDouble() < 0.5, flipped, "seed " + s);
            flips += flipped ? 1 : 0;
        }
        assertTrue(flips > 150 && flips < 250, "flips " + flips);
        assertArrayEquals(x, apply(Transforms.horizontalFlip(0), x, h, w, c, 3));
        assertArrayEquals(mirrored, apply(Transforms.horizontalFlip(1), x, h, w, c, 3));
    }

    @Test
    void fullSizeCropWithoutPaddingIsIdentity() {
        int h = 6, w = 4, c = 2;
        float[] x = random(h * w * c, 3);
        for (long s = 0; s < 20; s++) {
            assertArrayEquals(x, apply(Transforms.randomCrop(h, w, 0), x, h, w, c, s));
        }
        assertArrayEquals(x, apply(Transforms.centerCrop(h, w), x, h, w, c, 0));
    }

    @Test
    void paddedCropShiftsAndZeroFills() {
        int h = 4, w = 5, c = 2, pad = 2;
        float[] x = random(h * w * c, 4);
        Transform t = Transforms.randomCrop(h, w, pad);
        boolean sawShift = false;
        for (long s = 0; s < 30; s++) {
            Rng r = new Rng(s);
            int top = r.nextInt(h + 2 * pad - h + 1), left = r.nextInt(w + 2 * pad - w + 1);
            sawShift |= top != pad || left != pad;
            float[] y = apply(t, x, h, w, c, s);
            for (int yy = 0; yy < h; yy++) {
                for (int xx = 0; xx < w; xx++) {
                    int sy = yy + top - pad, sx = xx + left - pad;
                    for (int k = 0; k < c; k++) {
                        float want = sy >= 0 && sy < h && sx >= 0 && sx < w ? x[(sy * w + sx) * c + k] : 0f;
                        assertEquals(want, y[(yy * w + xx) * c + k], "seed " + s + " at " + yy + "," + xx);
                    }
                }
            }
        }
        assertTrue(sawShift);
    }

    @Test
    void bilinearMatchesPyTorchAlignCornersFalse() {
        // torch.nn.functional.interpolate([[0, 1]], size=4, mode="linear", align_corners=False) = [0, .25, .75, 1]
        float[] x = {0f, 1f}, y = new float[4];
        Images.resizeBilinear(x, 0, 1, 2, 1, 0, 0, 1, 2, y, 0, 1, 4);
        assertArrayEquals(new float[] {0f, 0.25f, 0.75f, 1f}, y, 1e-7f);
        // downscale 4 -> 2 samples at 0.5 and 2.5: averages of neighbours
        float[] z = {0f, 2f, 4f, 8f}, d = new float[2];
        Images.resizeBilinear(z, 0, 1, 4, 1, 0, 0, 1, 4, d, 0, 1, 2);
        assertArrayEquals(new float[] {1f, 6f}, d, 1e-6f);
        // same size: exact copy
        float[] r = random(5 * 6 * 3, 5);
        assertArrayEquals(r, apply(Transforms.resize(5, 6), r, 5, 6, 3, 0));
    }

    @Test
    void randomResizedCropAtFullScaleAndRatioIsIdentity() {
        int h = 6, w = 9, c = 3;
        float[] x = random(h * w * c, 6);
        double ratio = (double) w / h;
        Transform t = Transforms.randomResizedCrop(h, w, 1, 1, ratio, ratio);
        for (long s = 0; s < 10; s++) {
            assertArrayEquals(x, apply(t, x, h, w, c, s), 1e-6f);
        }
    }

    @Test
    void randomResizedCropIsSeededAndVaries() {
        int h = 16, w = 16, c = 1;
        float[] x = random(h * w, 7);
        Transform t = Transforms.randomResizedCrop(8, 8);
        assertArrayEquals(apply(t, x, h, w, c, 11), apply(t, x, h, w, c, 11));
        assertFalse(Arrays.equals(apply(t, x, h, w, c, 11), apply(t, x, h, w, c, 12)));
        // every output value lies within the input's range (bilinear interpolates)
        float[] y = apply(t, x, h, w, c, 13);
        for (float v : y) {
            assertTrue(v >= 0f && v < 1f);
        }
        // impossible ratios force the central fallback: full height, width = height * ratioMax
        Transform fallback = Transforms.randomResizedCrop(4, 2, 1, 1, 0.5, 0.5);
        float[] tall = random(4 * 4, 8);
        float[] want = new float[8];
        Images.resizeBilinear(tall, 0, 4, 4, 1, 0, 1, 4, 2, want, 0, 4, 2);
        assertArrayEquals(want, apply(fallback, tall, 4, 4, 1, 0));
    }

    @Test
    void centerCropTakesTheMiddle() {
        int h = 5, w = 6, c = 1;
        float[] x = new float[h * w];
        for (int i = 0; i < x.length; i++) {
            x[i] = i;
        }
        // top = rint(3 / 2) = 2, left = rint(2 / 2) = 1
        float[] y = apply(Transforms.centerCrop(2, 4), x, h, w, c, 0);
        assertArrayEquals(new float[] {13, 14, 15, 16, 19, 20, 21, 22}, y);
        assertThrows(IllegalArgumentException.class, () -> Transforms.centerCrop(6, 6).outputShape(5, 6, 1));
    }

    @Test
    void normalisationByDataStatisticsGivesZeroMeanUnitStd() {
        ImageDataset ds = TestFiles.synthetic(40, 6, 5, 3, 4);
        ChannelStats st = ChannelStats.of(ds);
        // direct double-precision reference
        for (int ch = 0; ch < 3; ch++) {
            double s = 0, q = 0;
            int n = 0;
            for (int i = 0; i < 40; i++) {
                for (int p = 0; p < 30; p++) {
                    double v = ds.pixelByte(i, p * 3 + ch) / 255.0;
                    s += v;
                    q += v * v;
                    n++;
                }
            }
            double m = s / n;
            assertEquals(m, st.mean()[ch], 1e-6);
            assertEquals(Math.sqrt(q / n - m * m), st.std()[ch], 1e-6);
        }
        Augmentation a = Augmentation.of(6, 5, 3, Transforms.normalize(st));
        Augmentation.Worker wk = a.worker();
        double[] sum = new double[3], sq = new double[3];
        float[] img = new float[90], out = new float[90];
        for (int i = 0; i < 40; i++) {
            ds.readImage(i, img, 0);
            wk.apply(img, 0, out, 0, new Rng(0));
            for (int p = 0; p < 90; p++) {
                sum[p % 3] += out[p];
                sq[p % 3] += out[p] * out[p];
            }
        }
        for (int ch = 0; ch < 3; ch++) {
            double m = sum[ch] / 1200;
            assertEquals(0, m, 1e-5);
            assertEquals(1, Math.sqrt(sq[ch] / 1200 - m * m), 1e-5);
        }
        assertThrows(IllegalArgumentException.class, () -> Augmentation.of(6, 5, 1, Transforms.normalize(st)));
        assertThrows(IllegalArgumentException.class,
                () -> Transforms.normalize(new float[] {0f}, new float[] {0f}));
    }

    @Test
    void pipelineEqualsTheStepsAppliedInOrderWithOneRng() {
        int h = 8, w = 8, c = 3;
        float[] x = random(h * w * c, 9);
        Transform crop = Transforms.randomCrop(6, 6, 2), flip = Transforms.horizontalFlip(0.5),
                norm = Transforms.normalize(new float[] {0.5f, 0.4f, 0.3f}, new float[] {0.2f, 0.25f, 0.3f});
        Augmentation a = Augmentation.of(h, w, c, crop, flip, norm);
        assertArrayEquals(new int[] {6, 6, 3}, a.outputShape());
        Augmentation.Worker wk = a.worker();
        for (long s = 0; s < 10; s++) {
            float[] got = new float[a.outputSize()];
            wk.apply(x, 0, got, 0, new Rng(s));
            Rng r = new Rng(s);
            float[] t1 = new float[108], t2 = new float[108], t3 = new float[108];
            crop.apply(x, 0, h, w, c, t1, 0, r);
            flip.apply(t1, 0, 6, 6, c, t2, 0, r);
            norm.apply(t2, 0, 6, 6, c, t3, 0, r);
            assertArrayEquals(t3, got, "seed " + s);
        }
    }
}
