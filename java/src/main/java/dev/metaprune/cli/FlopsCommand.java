package dev.metaprune.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.metaprune.nn.arch.Architecture;
import dev.metaprune.nn.arch.Architectures;
import dev.metaprune.nn.arch.Widths;
import dev.metaprune.nn.cost.CostCounter;
import dev.metaprune.nn.cost.CostReport;
import dev.metaprune.nn.cost.LayerCost;
import dev.metaprune.nn.gene.Gene;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code metaprune flops}: FLOPs (multiply-adds) and parameters of an architecture at a width multiplier or gene. */
@Command(name = "flops", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
                "Count FLOPs and parameters of a network at a uniform width multiplier or at a MetaPruning gene.",
                "",
                "FLOPs are multiply-adds (the papers' convention) of every convolution and of the classifier;"
                        + " batch norm, activations, pooling, residual adds and biases are not counted."
                        + " Parameters are conv weights + batch-norm gamma/beta + classifier weight and bias"
                        + " (as PyTorch's sum of numel over parameters); the PruningNet's generators are not counted.",
                "",
                "A gene holds one scale index 0..30 per position; index i means width int(base * (10 + 3i) / 100)."
                        + " Layouts: mobilenetv1 13 (outputs of stem and blocks 1-12); mobilenetv2 35 (18 stage-tied"
                        + " outputs: stem, blocks 1-17; then 17 block mids); resnet50 20 (stem, stage outputs 1-3,"
                        + " 16 block mids). The last width (1024 / 1280 / 2048) is fixed.",
                ""},
        footer = {"", "Examples:",
                "  metaprune flops --arch mobilenetv1 --width 0.5",
                "  metaprune flops --arch mobilenetv1 --gene 28,18,10,23,23,22,22,13,17,28,17,25,29 --json",
                "  metaprune flops --gene best.json --layers",
                "  metaprune flops --arch resnet50-cifar --in-channels 1 --input-size 28 --width 0.5"})
public final class FlopsCommand implements Callable<Integer> {
    /** Architecture names for the help text. */
    static final class ArchNames implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return Architectures.names().iterator();
        }
    }

    @Option(names = {"-a", "--arch"}, paramLabel = "NAME", completionCandidates = ArchNames.class,
            description = "Architecture: ${COMPLETION-CANDIDATES}. The -cifar variants (stem stride 1, input / 8)"
                    + " default to 3x32x32 and 10 classes, the others to 3x224x224 and 1000."
                    + " Optional with a gene JSON file (taken from its \"arch\").")
    String arch;

    @Option(names = {"-w", "--width"}, paramLabel = "M",
            description = "Uniform width multiplier, any value in (0, 4]: every width int(m x its 1.0x width), as the"
                    + " papers' 0.75x / 0.5x baselines (MobileNetV2 keeps 1280 for m <= 1, and scales its 1.0x"
                    + " widths 32, 16, 24, ... not the 1.4x gene bases). Default 1.0 when no --gene is given.")
    Double width;

    @Option(names = {"-g", "--gene"}, paramLabel = "FILE|INDICES",
            description = "A gene: a JSON file {\"arch\": ..., \"indices\": [...]} or comma-separated scale indices"
                    + " (\"[...]\" accepted).")
    String gene;

    @Option(names = "--input-size", paramLabel = "PIXELS", description = "Square input size (default: the architecture's).")
    Integer inputSize;

    @Option(names = "--in-channels", paramLabel = "C", description = "Image channels, e.g. 1 for Fashion-MNIST (default 3).")
    Integer inChannels;

    @Option(names = "--classes", paramLabel = "K", description = "Classifier outputs (default 1000, -cifar: 10).")
    Integer classes;

    @Option(names = "--layers", description = "Add the per-layer breakdown (table, or \"layers\" in JSON).")
    boolean layers;

    @Option(names = "--graph", description = "With --json: add \"graph\", every value and op of the network at these"
            + " widths (what other tools need to rebuild it).")
    boolean graph;

    @Option(names = "--json", description = "Print one JSON object: arch, input, width or gene, indices, widths,"
            + " flops, params (and parts), convention.")
    boolean json;

    @Override
    public Integer call() throws IOException {
        if (width != null && gene != null) {
            throw new IllegalArgumentException("give --width or --gene, not both");
        }
        Gene g = null;
        String archName = arch;
        if (gene != null) {
            Path p = Path.of(gene.strip());
            if (looksLikeFile(gene) && Files.isRegularFile(p)) {
                g = Gene.read(p);
                if (archName == null) {
                    archName = g.arch(); // else widthsIn checks that the layouts agree
                }
            } else {
                if (looksLikeFile(gene)) {
                    throw new IllegalArgumentException("gene file not found: " + gene);
                }
                if (archName == null) {
                    throw new IllegalArgumentException("--arch is required with a gene given as indices");
                }
                g = Gene.parse(Architectures.geneSpace(archName), gene);
            }
        }
        if (archName == null) {
            throw new IllegalArgumentException("--arch is required; available: "
                    + String.join(", ", Architectures.names()));
        }
        Architecture a = Architectures.get(archName, inChannels, inputSize, classes);
        Widths w = g != null ? g.widthsIn(a) : a.widthsForMultiplier(width != null ? width : 1.0);
        CostReport r = CostCounter.count(w);
        PrintStream out = System.out;
        if (json) {
            ObjectNode o = toJson(a, g, r, layers);
            if (graph) {
                o.set("graph", dev.metaprune.nn.GraphJson.of(w));
            }
            out.println(o.toString());
        } else {
            printTable(out, a, g, r);
        }
        return 0;
    }

    private static boolean looksLikeFile(String s) {
        return !s.strip().matches("[\\[\\]0-9,\\s+-]*");
    }

    static ObjectNode toJson(Architecture a, Gene g, CostReport r, boolean withLayers) {
        ObjectMapper m = new ObjectMapper();
        ObjectNode o = m.createObjectNode();
        o.put("arch", a.name());
        ObjectNode in = o.putObject("input");
        in.put("channels", a.input().channels());
        in.put("size", a.input().size());
        in.put("classes", a.input().classes());
        if (g != null) {
            o.put("gene", g.toString());
            ArrayNode idx = o.putArray("indices");
            for (int v : g.indices()) {
                idx.add(v);
            }
        } else {
            o.put("width", r.widths().multiplier().orElseThrow());
            o.putNull("gene");
        }
        ArrayNode ws = o.putArray("widths");
        for (int v : r.widths().positionWidths()) {
            ws.add(v);
        }
        o.put("flops", r.flops());
        o.put("params", r.params());
        o.put("paramsConv", r.convParams());
        o.put("paramsBn", r.bnParams());
        o.put("paramsFc", r.fcParams());
        o.put("convention", "flops = multiply-adds of conv and FC layers (BN, activations, pooling, adds, biases not"
                + " counted); params = conv weights + BN gamma/beta + FC weight and bias");
        if (withLayers) {
            ArrayNode ls = m.createArrayNode();
            for (LayerCost l : r.layers()) {
                ObjectNode lo = ls.addObject();
                lo.put("name", l.name());
                lo.put("type", l.type());
                lo.put("geometry", l.geometry());
                lo.put("outHeight", l.outHeight());
                lo.put("outWidth", l.outWidth());
                lo.put("flops", l.macs());
                lo.put("params", l.params());
            }
            o.set("layers", ls);
        }
        return o;
    }

    private void printTable(PrintStream out, Architecture a, Gene g, CostReport r) {
        out.println(a.name() + " (" + a.input() + "), " + (g != null ? "gene " + g : r.widths().describe()));
        out.printf(Locale.ROOT, "FLOPs:  %,d multiply-adds (%.1f M)%n", r.flops(), r.mflops());
        out.printf(Locale.ROOT, "params: %,d (%.2f M) = conv %,d + BN %,d + FC %,d%n", r.params(), r.mparams(),
                r.convParams(), r.bnParams(), r.fcParams());
        StringBuilder ws = new StringBuilder();
        for (int v : r.widths().positionWidths()) {
            ws.append(ws.isEmpty() ? "" : ",").append(v);
        }
        out.println("widths by gene position: " + ws);
        if (layers) {
            out.println();
            out.printf(Locale.ROOT, "%-24s %-15s %-30s %9s %12s %10s%n", "layer", "type", "geometry", "out", "MFLOPs",
                    "params");
            for (LayerCost l : r.layers()) {
                out.printf(Locale.ROOT, "%-24s %-15s %-30s %9s %12.3f %,10d%n", l.name(), l.type(), l.geometry(),
                        l.outHeight() + "x" + l.outWidth(), l.macs() / 1e6, l.params());
            }
        }
    }
}
