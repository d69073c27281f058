package dev.metaprune.nn;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.metaprune.kernels.Conv2dSpec;
import dev.metaprune.nn.arch.Architecture;
import dev.metaprune.nn.arch.Op;
import dev.metaprune.nn.arch.Value;
import dev.metaprune.nn.arch.Widths;

/**
 * The network as run at a width configuration, as plain JSON: every value (channels, height,
 * width) and every op with its resolved geometry. Other tools rebuild the same network from it
 * (the PyTorch reference generator in {@code test-data/gen/gen_network.py} does).
 */
public final class GraphJson {
    private GraphJson() {
    }

    public static ObjectNode of(Widths w) {
        Architecture a = w.architecture();
        ObjectMapper m = new ObjectMapper();
        ObjectNode g = m.createObjectNode();
        ArrayNode values = g.putArray("values");
        for (Value v : a.values()) {
            ObjectNode o = values.addObject();
            o.put("id", v.id());
            o.put("channels", w.ofValue(v.id()));
            o.put("height", v.height());
            o.put("width", v.width());
        }
        ArrayNode ops = g.putArray("ops");
        for (Op op : a.ops()) {
            ObjectNode o = ops.addObject();
            o.put("name", op.name());
            switch (op) {
                case Op.Conv c -> {
                    Conv2dSpec s = w.conv(c);
                    o.put("op", "conv");
                    o.put("in", c.input());
                    o.put("cin", s.cIn());
                    o.put("cout", s.cOut());
                    o.put("kernel", s.kh());
                    o.put("stride", s.strideH());
                    o.put("padding", s.padH());
                    o.put("groups", s.groups());
                }
                case Op.BatchNorm b -> {
                    o.put("op", "bn");
                    o.put("in", b.input());
                    o.put("channels", w.ofValue(b.input()));
                    o.put("affineInPruningNet", b.affineInPruningNet());
                }
                case Op.Activation act -> {
                    o.put("op", act.function() == Op.Activation.Function.RELU ? "relu" : "relu6");
                    o.put("in", act.input());
                }
                case Op.Add add -> {
                    o.put("op", "add");
                    o.put("a", add.a());
                    o.put("b", add.b());
                }
                case Op.MaxPool p -> {
                    o.put("op", "maxpool");
                    o.put("in", p.input());
                    o.put("kernel", p.kernel());
                    o.put("stride", p.stride());
                    o.put("padding", p.padding());
                }
                case Op.GlobalAvgPool p -> {
                    o.put("op", "gap");
                    o.put("in", p.input());
                }
                case Op.Linear l -> {
                    o.put("op", "linear");
                    o.put("in", l.input());
                    o.put("cin", w.ofValue(l.input()));
                    o.put("cout", l.outFeatures());
                }
            }
            o.put("out", op.output());
        }
        return g;
    }
}
