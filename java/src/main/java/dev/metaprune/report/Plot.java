package dev.metaprune.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * A small x-y chart drawn with Java2D (headless) and written as PNG: named series of points, each drawn as markers,
 * a line through them, or both, with optional vertical error bars; linear axes with "nice" ticks, axis labels, a
 * legend; an optional dashed {@code y = x} diagonal (predicted versus measured).
 */
public final class Plot {
    /** One series. {@code yErr} may be null. */
    public record Series(String name, double[] x, double[] y, double[] yErr, boolean line, boolean markers) {
    }

    private static final Color[] PALETTE = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c),
            new Color(0xff7f0e), new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f),
            new Color(0xbcbd22), new Color(0x17becf)};

    private final String title, xLabel, yLabel;
    private final List<Series> series = new ArrayList<>();
    private boolean diagonal;

    public Plot(String title, String xLabel, String yLabel) {
        this.title = title;
        this.xLabel = xLabel;
        this.yLabel = yLabel;
    }

    public Plot add(Series s) {
        if (s.x().length != s.y().length) {
            throw new IllegalArgumentException(s.name() + ": " + s.x().length + " x values, " + s.y().length + " y");
        }
        series.add(s);
        return this;
    }

    /** Draw the dashed line {@code y = x}. */
    public Plot diagonal() {
        diagonal = true;
        return this;
    }

    public boolean isEmpty() {
        for (Series s : series) {
            if (s.x().length > 0) {
                return false;
            }
        }
        return true;
    }

    /** "Nice" tick positions covering [lo, hi]. */
    static double[] ticks(double lo, double hi, int target) {
        double span = hi - lo;
        double raw = span / Math.max(1, target);
        double mag = Math.pow(10, Math.floor(Math.log10(raw)));
        double step = mag;
        for (double m : new double[] {1, 2, 2.5, 5, 10}) {
            if (m * mag >= raw) {
                step = m * mag;
                break;
            }
        }
        double start = Math.ceil(lo / step - 1e-9) * step;
        List<Double> t = new ArrayList<>();
        for (double v = start; v <= hi + step * 1e-9; v += step) {
            t.add(Math.abs(v) < step * 1e-9 ? 0 : v);
        }
        return t.stream().mapToDouble(Double::doubleValue).toArray();
    }

    static String fmt(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e7) {
            return String.format(Locale.ROOT, "%d", (long) v);
        }
        String s = String.format(Locale.ROOT, "%.3g", v);
        return s.contains("e") ? s : s.replaceAll("\\.?0+$", "");
    }

    /** Renders to PNG bytes. */
    public byte[] png(int width, int height) {
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, height);
        double xlo = Double.POSITIVE_INFINITY, xhi = Double.NEGATIVE_INFINITY, ylo = xlo, yhi = xhi;
        for (Series s : series) {
            for (int i = 0; i < s.x().length; i++) {
                if (!Double.isFinite(s.x()[i]) || !Double.isFinite(s.y()[i])) {
                    continue;
                }
                double e = s.yErr() == null || !Double.isFinite(s.yErr()[i]) ? 0 : s.yErr()[i];
                xlo = Math.min(xlo, s.x()[i]);
                xhi = Math.max(xhi, s.x()[i]);
                ylo = Math.min(ylo, s.y()[i] - e);
                yhi = Math.max(yhi, s.y()[i] + e);
            }
        }
        if (!(xlo <= xhi)) {
            xlo = 0;
            xhi = 1;
            ylo = 0;
            yhi = 1;
        }
        if (diagonal) {
            xlo = ylo = Math.min(xlo, ylo);
            xhi = yhi = Math.max(xhi, yhi);
        }
        double xpad = xhi > xlo ? 0.06 * (xhi - xlo) : Math.max(1e-3, Math.abs(xlo) * 0.1);
        double ypad = yhi > ylo ? 0.08 * (yhi - ylo) : Math.max(1e-3, Math.abs(ylo) * 0.1);
        xlo -= xpad;
        xhi += xpad;
        ylo -= ypad;
        yhi += ypad;
        Font font = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
        Font bold = new Font(Font.SANS_SERIF, Font.BOLD, 14);
        g.setFont(font);
        FontMetrics fm = g.getFontMetrics();
        int legendW = 0;
        for (Series s : series) {
            legendW = Math.max(legendW, fm.stringWidth(s.name()));
        }
        int left = 70, right = series.isEmpty() ? 20 : legendW + 56, top = 36, bottom = 52;
        int pw = width - left - right, ph = height - top - bottom;
        final double fxlo = xlo, fxhi = xhi, fylo = ylo, fyhi = yhi;
        java.util.function.DoubleUnaryOperator px = v -> left + (v - fxlo) / (fxhi - fxlo) * pw;
        java.util.function.DoubleUnaryOperator py = v -> top + ph - (v - fylo) / (fyhi - fylo) * ph;
        // grid and ticks
        g.setColor(new Color(0xeeeeee));
        double[] xt = ticks(xlo, xhi, 6), yt = ticks(ylo, yhi, 6);
        for (double t : xt) {
            g.drawLine((int) px.applyAsDouble(t), top, (int) px.applyAsDouble(t), top + ph);
        }
        for (double t : yt) {
            g.drawLine(left, (int) py.applyAsDouble(t), left + pw, (int) py.applyAsDouble(t));
        }
        g.setColor(Color.DARK_GRAY);
        g.drawRect(left, top, pw, ph);
        for (double t : xt) {
            String s = fmt(t);
            int x = (int) px.applyAsDouble(t);
            g.drawLine(x, top + ph, x, top + ph + 4);
            g.drawString(s, x - fm.stringWidth(s) / 2, top + ph + 4 + fm.getAscent());
        }
        for (double t : yt) {
            String s = fmt(t);
            int y = (int) py.applyAsDouble(t);
            g.drawLine(left - 4, y, left, y);
            g.drawString(s, left - 6 - fm.stringWidth(s), y + fm.getAscent() / 2 - 1);
        }
        g.drawString(xLabel, left + pw / 2 - fm.stringWidth(xLabel) / 2, height - 10);
        AffineTransform old = g.getTransform();
        g.rotate(-Math.PI / 2);
        g.drawString(yLabel, -(top + ph / 2) - fm.stringWidth(yLabel) / 2, 16);
        g.setTransform(old);
        g.setFont(bold);
        g.drawString(title, left, 22);
        g.setFont(font);
        if (diagonal) {
            g.setColor(Color.GRAY);
            g.setStroke(new BasicStroke(1f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {5f, 4f},
                    0f));
            double lo = Math.max(xlo, ylo), hi = Math.min(xhi, yhi);
            g.drawLine((int) px.applyAsDouble(lo), (int) py.applyAsDouble(lo), (int) px.applyAsDouble(hi),
                    (int) py.applyAsDouble(hi));
        }
        g.setClip(left, top, pw + 1, ph + 1);
        for (int k = 0; k < series.size(); k++) {
            Series s = series.get(k);
            g.setColor(PALETTE[k % PALETTE.length]);
            g.setStroke(new BasicStroke(2f));
            if (s.line()) {
                for (int i = 1; i < s.x().length; i++) {
                    g.drawLine((int) px.applyAsDouble(s.x()[i - 1]), (int) py.applyAsDouble(s.y()[i - 1]),
                            (int) px.applyAsDouble(s.x()[i]), (int) py.applyAsDouble(s.y()[i]));
                }
            }
            g.setStroke(new BasicStroke(1.5f));
            for (int i = 0; i < s.x().length; i++) {
                int x = (int) px.applyAsDouble(s.x()[i]), y = (int) py.applyAsDouble(s.y()[i]);
                if (s.yErr() != null && s.yErr()[i] > 0) {
                    int y0 = (int) py.applyAsDouble(s.y()[i] - s.yErr()[i]);
                    int y1 = (int) py.applyAsDouble(s.y()[i] + s.yErr()[i]);
                    g.drawLine(x, y0, x, y1);
                    g.drawLine(x - 4, y0, x + 4, y0);
                    g.drawLine(x - 4, y1, x + 4, y1);
                }
                if (s.markers()) {
                    marker(g, k, x, y);
                }
            }
        }
        g.setClip(null);
        // legend
        int lx = left + pw + 16, ly = top, lh = fm.getHeight() + 2; // outside the plot: hides no point
        int lw = legendW;
        if (!series.isEmpty()) {
            g.setColor(new Color(255, 255, 255, 220));
            g.fillRect(lx - 4, ly - 4, lw + 36, lh * series.size() + 6);
            g.setColor(Color.LIGHT_GRAY);
            g.drawRect(lx - 4, ly - 4, lw + 36, lh * series.size() + 6);
        }
        for (int k = 0; k < series.size(); k++) {
            g.setColor(PALETTE[k % PALETTE.length]);
            int y = ly + k * lh + lh / 2;
            marker(g, k, lx + 10, y);
            g.setColor(Color.BLACK);
            g.drawString(series.get(k).name(), lx + 24, y + fm.getAscent() / 2 - 1);
        }
        g.dispose();
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ImageIO.write(img, "png", out);
            return out.toByteArray();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void marker(Graphics2D g, int k, int x, int y) {
        switch (k % 4) {
            case 0 -> g.fillOval(x - 4, y - 4, 9, 9);
            case 1 -> g.fillRect(x - 4, y - 4, 8, 8);
            case 2 -> g.fillPolygon(new int[] {x, x - 5, x + 5}, new int[] {y - 5, y + 4, y + 4}, 3);
            default -> g.fillPolygon(new int[] {x, x - 5, x, x + 5}, new int[] {y - 5, y, y + 5, y}, 4);
        }
    }
}
