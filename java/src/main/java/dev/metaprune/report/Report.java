package dev.metaprune.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.ToDoubleFunction;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/**
 * What {@code metaprune report} reads and writes: trained networks (every run folder whose {@code run.json} has a
 * configuration and a test top-1: retrain, {@code train --full}, prune), searches ({@code result.json} and
 * {@code candidates.jsonl}) and latency tables with a validation (predicted versus measured), gathered from folders;
 * rendered as one self-contained HTML page (PNG plots inline, the tables behind them).
 */
public final class Report {
    static final ObjectMapper JSON = new ObjectMapper();

    /** A trained network. {@code latencyMs}: measured by the report (NaN when not). */
    public record Trained(Path dir, String method, String arch, String widths, long flops, long params, double top1,
                          long seed, int epochs, double latencyMs) {
        Trained withLatency(double ms) {
            return new Trained(dir, method, arch, widths, flops, params, top1, seed, epochs, ms);
        }
    }

    /** A search: the best error among the candidates up to each iteration, and each iteration's own best. */
    public record Search(Path dir, String arch, String constraint, double[] bestSoFar, double[] iterationBest,
                         int evaluated) {
    }

    /** A validated latency table: per sampled network, the predicted and the measured latency (ms). */
    public record Latency(Path file, String arch, int batch, String device, String model, double[] predicted,
                          double[] measured) {
        double meanAbsPct() {
            double s = 0;
            for (int i = 0; i < predicted.length; i++) {
                s += Math.abs(predicted[i] - measured[i]) / measured[i];
            }
            return 100 * s / predicted.length;
        }
    }

    public final List<Trained> trained = new ArrayList<>();
    public final List<Search> searches = new ArrayList<>();
    public final List<Latency> latencies = new ArrayList<>();
    public final List<String> skipped = new ArrayList<>();

    /** Scans folders (recursively, at most 4 levels) and files for runs and latency tables. */
    public static Report collect(List<Path> inputs) throws IOException {
        Report r = new Report();
        for (Path in : inputs) {
            if (!Files.exists(in)) {
                throw new IllegalArgumentException("no such file or folder: " + in);
            }
            if (Files.isRegularFile(in)) {
                r.readLatencyTable(in, true);
                continue;
            }
            List<Path> files;
            try (Stream<Path> s = Files.walk(in, 4)) {
                files = s.filter(Files::isRegularFile).sorted().toList();
            }
            for (Path f : files) {
                String n = f.getFileName().toString();
                if (n.equals("run.json")) {
                    r.readRun(f);
                } else if (n.equals("result.json") && Files.exists(f.resolveSibling("candidates.jsonl"))) {
                    r.readSearch(f.getParent());
                } else if (n.startsWith("latency") && (n.endsWith(".json") || n.endsWith(".json.gz"))) {
                    r.readLatencyTable(f, false);
                }
            }
        }
        return r;
    }

    void readRun(Path f) throws IOException {
        JsonNode j = JSON.readTree(f.toFile());
        JsonNode cfg = j.path("config");
        if (!j.has("test_top1") || !cfg.has("widths") || !j.has("flops")) {
            if (cfg.has("widths")) {
                skipped.add(f.getParent() + " (not finished: no test top-1)");
            }
            return;
        }
        String widths = cfg.get("widths").asText();
        String method = j.path("method").asText(null);
        if (method == null) { // runs written before methods were recorded
            String cmd = j.path("invocations").path(0).path("command").asText("");
            if (widths.startsWith("gene:")) {
                method = cmd.contains("--from-search") && !cmd.contains("--uniform") ? "metapruning" : "gene";
            } else if (widths.startsWith("uniform:")) {
                method = widths.equals("uniform:1.0") ? "full" : "uniform";
            } else {
                method = "pruned";
            }
        }
        trained.add(new Trained(f.getParent(), method, cfg.path("arch").asText(), widths, j.get("flops").asLong(),
                j.path("params").asLong(), j.get("test_top1").asDouble(), cfg.path("seed").asLong(),
                cfg.path("epochs").asInt(), Double.NaN));
    }

    void readSearch(Path dir) throws IOException {
        JsonNode res = JSON.readTree(dir.resolve("result.json").toFile());
        TreeMap<Integer, Double> best = new TreeMap<>();
        int n = 0;
        for (String line : Files.readAllLines(dir.resolve("candidates.jsonl"))) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode c = JSON.readTree(line);
            int it = c.path("iteration").asInt();
            double e = c.path("error").asDouble();
            best.merge(it, e, Math::min);
            n++;
        }
        if (best.isEmpty()) {
            skipped.add(dir + " (search without candidates)");
            return;
        }
        double[] iter = new double[best.lastKey() + 1];
        double[] so = new double[iter.length];
        java.util.Arrays.fill(iter, Double.NaN);
        double run = Double.POSITIVE_INFINITY;
        for (int i = 0; i < iter.length; i++) {
            Double v = best.get(i);
            if (v != null) {
                iter[i] = v;
                run = Math.min(run, v);
            }
            so[i] = run;
        }
        String constraint = res.path("constraint").asText(res.path("settings").path("constraint").asText(""));
        searches.add(new Search(dir, res.path("arch").asText(), constraint, so, iter, n));
    }

    void readLatencyTable(Path f, boolean explicit) throws IOException {
        JsonNode j;
        try (InputStream in = f.toString().endsWith(".gz") ? new GZIPInputStream(Files.newInputStream(f))
                : Files.newInputStream(f)) {
            j = JSON.readTree(in);
        } catch (IOException e) {
            if (explicit) {
                throw new IOException(f + ": not a readable JSON latency table (" + e.getMessage() + ")");
            }
            return;
        }
        if (!j.has("layers") || !j.has("unit")) {
            if (explicit) {
                throw new IllegalArgumentException(f + " is not a latency table (no 'layers' and 'unit')");
            }
            return;
        }
        JsonNode c = j.path("calibration");
        JsonNode samples = c.path("details").path("samples");
        if (!samples.isArray() || samples.isEmpty()) {
            skipped.add(f + " (latency table without validation samples: run `metaprune profile --validate N`)");
            return;
        }
        if (!"ms".equals(j.path("unit").asText())) {
            throw new IllegalArgumentException(f + ": latency unit '" + j.path("unit").asText() + "', expected ms");
        }
        double off = c.path("offset_ms").asDouble(0), scale = c.path("scale").asDouble(1);
        double[] p = new double[samples.size()], m = new double[samples.size()];
        for (int i = 0; i < p.length; i++) {
            p[i] = off + scale * samples.get(i).get("sum_ms").asDouble();
            m[i] = samples.get(i).get("measured_ms").asDouble();
        }
        String device = j.path("device").isObject() ? j.path("device").path("cpu").asText(j.path("device").toString())
                : j.path("device").asText();
        latencies.add(new Latency(f, j.path("architecture").asText(), j.path("batch").asInt(), device,
                c.path("model").asText(), p, m));
    }

    /** Runs of one method on one architecture at (nearly) the same FLOPs: the rows of the summary. */
    public record Group(String method, String arch, double mflops, int n, double mean, double std, double latencyMs) {
    }

    public List<Group> groups() {
        Map<String, List<Trained>> by = new LinkedHashMap<>();
        for (Trained t : trained) {
            // the same structure, or structures within 0.5 % FLOPs of each other (AMC's differ per seed)
            String key = t.method() + "|" + t.arch() + "|" + Math.round(Math.log(t.flops()) / Math.log(1.005));
            by.computeIfAbsent(key, k -> new ArrayList<>()).add(t);
        }
        List<Group> out = new ArrayList<>();
        for (List<Trained> l : by.values()) {
            double mean = l.stream().mapToDouble(Trained::top1).average().orElse(Double.NaN);
            double var = 0;
            for (Trained t : l) {
                var += (t.top1() - mean) * (t.top1() - mean);
            }
            double std = l.size() > 1 ? Math.sqrt(var / (l.size() - 1)) : 0;
            double lat = l.stream().mapToDouble(Trained::latencyMs).filter(Double::isFinite).average()
                    .orElse(Double.NaN);
            out.add(new Group(l.get(0).method(), l.get(0).arch(), l.stream().mapToLong(Trained::flops).average()
                    .orElse(0) / 1e6, l.size(), mean, std, lat));
        }
        out.sort(Comparator.comparing(Group::arch).thenComparing(Group::method).thenComparingDouble(Group::mflops));
        return out;
    }

    private Plot methodPlot(String title, String xLabel, ToDoubleFunction<Group> x) {
        Plot p = new Plot(title, xLabel, "test top-1 (%)");
        Map<String, List<Group>> by = new TreeMap<>();
        boolean manyArch = groups().stream().map(Group::arch).distinct().count() > 1;
        for (Group g : groups()) {
            if (Double.isFinite(x.applyAsDouble(g))) {
                by.computeIfAbsent(g.method() + (manyArch ? " (" + g.arch() + ")" : ""), k -> new ArrayList<>()).add(g);
            }
        }
        for (Map.Entry<String, List<Group>> e : by.entrySet()) {
            List<Group> l = new ArrayList<>(e.getValue());
            l.sort(Comparator.comparingDouble(x));
            p.add(new Plot.Series(e.getKey(), l.stream().mapToDouble(x).toArray(),
                    l.stream().mapToDouble(g -> 100 * g.mean()).toArray(),
                    l.stream().mapToDouble(g -> 100 * g.std()).toArray(), l.size() > 1, true));
        }
        return p;
    }

    /** The HTML page. {@code provenance}: lines shown under the title (command, versions, how latency was timed). */
    public String html(List<String> provenance) {
        StringBuilder h = new StringBuilder();
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>MetaPrune report</title>\n")
                .append("<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}")
                .append("table{border-collapse:collapse;margin:1em 0;font-size:13px}")
                .append("td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f3f3f3}")
                .append("td.l,th.l{text-align:left}img{max-width:100%;border:1px solid #ddd}")
                .append(".note{color:#666;font-size:13px}code{background:#f5f5f5}</style></head><body>\n")
                .append("<h1>MetaPrune report</h1>\n");
        for (String line : provenance) {
            h.append("<div class=\"note\">").append(esc(line)).append("</div>\n");
        }
        List<Group> groups = groups();
        h.append("<h2>Accuracy versus FLOPs</h2>\n");
        if (groups.isEmpty()) {
            h.append("<p class=\"note\">No finished training runs found.</p>\n");
        } else {
            img(h, methodPlot("Test top-1 vs FLOPs (mean and standard deviation over seeds)", "FLOPs (M multiply-adds)",
                    Group::mflops));
            h.append("<table><tr><th class=l>method</th><th class=l>architecture</th><th>FLOPs (M)</th><th>runs</th>")
                    .append("<th>test top-1 (%)</th><th>std (%)</th><th>latency (ms)</th></tr>\n");
            for (Group g : groups) {
                h.append(String.format(Locale.ROOT, "<tr><td class=l>%s</td><td class=l>%s</td><td>%.2f</td><td>%d</td>"
                        + "<td>%.2f</td><td>%s</td><td>%s</td></tr>%n", esc(g.method()), esc(g.arch()), g.mflops(),
                        g.n(), 100 * g.mean(), g.n() > 1 ? String.format(Locale.ROOT, "%.2f", 100 * g.std()) : "-",
                        Double.isFinite(g.latencyMs()) ? String.format(Locale.ROOT, "%.3f", g.latencyMs()) : "-"));
            }
            h.append("</table>\n");
        }
        h.append("<h2>Accuracy versus measured latency</h2>\n");
        if (groups.stream().anyMatch(g -> Double.isFinite(g.latencyMs()))) {
            img(h, methodPlot("Test top-1 vs measured latency", "latency (ms)", Group::latencyMs));
        } else {
            h.append("<p class=\"note\">Latency not measured (--no-latency).</p>\n");
        }
        h.append("<h2>Search: best error per iteration</h2>\n");
        if (searches.isEmpty()) {
            h.append("<p class=\"note\">No search runs found.</p>\n");
        } else {
            Plot p = new Plot("Evolutionary search: best held-out error so far", "iteration", "error (%)");
            for (Search s : searches) {
                double[] x = new double[s.bestSoFar().length], y = new double[x.length];
                for (int i = 0; i < x.length; i++) {
                    x[i] = i;
                    y[i] = 100 * s.bestSoFar()[i];
                }
                p.add(new Plot.Series(s.dir().getFileName() + " (" + s.arch() + ")", x, y, null, true, true));
            }
            img(h, p);
            h.append("<table><tr><th class=l>search</th><th class=l>architecture</th><th class=l>constraint</th>")
                    .append("<th>candidates</th><th>iterations</th><th>best error (%)</th></tr>\n");
            for (Search s : searches) {
                h.append(String.format(Locale.ROOT, "<tr><td class=l>%s</td><td class=l>%s</td><td class=l>%s</td>"
                        + "<td>%d</td><td>%d</td><td>%.2f</td></tr>%n", esc(s.dir().toString()), esc(s.arch()),
                        esc(s.constraint()), s.evaluated(), s.bestSoFar().length,
                        100 * s.bestSoFar()[s.bestSoFar().length - 1]));
            }
            h.append("</table>\n");
        }
        h.append("<h2>Latency: predicted versus measured</h2>\n");
        if (latencies.isEmpty()) {
            h.append("<p class=\"note\">No validated latency tables given (pass a table file from `metaprune profile"
                    + " --validate N`).</p>\n");
        } else {
            Plot p = new Plot("Lookup-table prediction vs measurement", "measured (ms)", "predicted (ms)").diagonal();
            for (Latency l : latencies) {
                p.add(new Plot.Series(l.arch() + " b" + l.batch() + " (" + l.model() + ")", l.measured(), l.predicted(),
                        null, false, true));
            }
            img(h, p);
            h.append("<table><tr><th class=l>table</th><th class=l>architecture</th><th>batch</th>")
                    .append("<th class=l>calibration</th><th>networks</th><th>mean |error| (%)</th></tr>\n");
            for (Latency l : latencies) {
                h.append(String.format(Locale.ROOT, "<tr><td class=l>%s</td><td class=l>%s</td><td>%d</td>"
                        + "<td class=l>%s</td><td>%d</td><td>%.2f</td></tr>%n", esc(l.file().getFileName().toString()),
                        esc(l.arch()), l.batch(), esc(l.model()), l.measured().length, l.meanAbsPct()));
            }
            h.append("</table>\n");
        }
        h.append("<h2>Every run</h2>\n<table><tr><th class=l>run</th><th class=l>method</th><th class=l>architecture")
                .append("</th><th>FLOPs (M)</th><th>params (M)</th><th>epochs</th><th>seed</th><th>test top-1 (%)</th>")
                .append("<th>latency (ms)</th></tr>\n");
        List<Trained> all = new ArrayList<>(trained);
        all.sort(Comparator.comparing(Trained::method).thenComparingLong(Trained::flops));
        for (Trained t : all) {
            h.append(String.format(Locale.ROOT, "<tr><td class=l>%s</td><td class=l>%s</td><td class=l>%s</td>"
                    + "<td>%.2f</td><td>%.3f</td><td>%d</td><td>%d</td><td>%.2f</td><td>%s</td></tr>%n",
                    esc(t.dir().toString()), esc(t.method()), esc(t.arch()), t.flops() / 1e6, t.params() / 1e6,
                    t.epochs(), t.seed(), 100 * t.top1(), Double.isFinite(t.latencyMs())
                            ? String.format(Locale.ROOT, "%.3f", t.latencyMs()) : "-"));
        }
        h.append("</table>\n");
        if (!skipped.isEmpty()) {
            h.append("<h3>Skipped</h3><ul>\n");
            for (String s : skipped) {
                h.append("<li class=\"note\">").append(esc(s)).append("</li>\n");
            }
            h.append("</ul>\n");
        }
        h.append("</body></html>\n");
        return h.toString();
    }

    private static void img(StringBuilder h, Plot p) {
        h.append("<p><img alt=\"plot\" src=\"data:image/png;base64,")
                .append(Base64.getEncoder().encodeToString(p.png(900, 480))).append("\"></p>\n");
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    /** Replaces a trained run by the same with a measured latency. */
    public void setLatency(int index, double ms) {
        trained.set(index, trained.get(index).withLatency(ms));
    }
}
