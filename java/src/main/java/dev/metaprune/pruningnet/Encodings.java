package dev.metaprune.pruningnet;

import dev.metaprune.kernels.Kernels;
import dev.metaprune.nn.arch.Op;
import dev.metaprune.tensor.Tensor;
import java.util.List;

/**
 * Every generator's encoding of one gene in a single array, each generator reading its view: on a device-resident
 * backend a gene's encodings then cost one copy to the device, not one per convolution.
 */
final class Encodings {
    private final List<Op> ops;
    private final Tensor all;
    private final Tensor[] of;

    Encodings(List<Op> ops) {
        this.ops = ops;
        int total = 0;
        for (Op op : ops) {
            if (op instanceof Op.Conv c) {
                total += c.generator().inputs().size();
            }
        }
        float[] data = new float[Math.max(total, 1)];
        all = Tensor.wrap(data, data.length);
        of = new Tensor[ops.size()];
        for (int i = 0, at = 0; i < ops.size(); i++) {
            if (ops.get(i) instanceof Op.Conv c) {
                int e = c.generator().inputs().size();
                of[i] = Tensor.view(data, at, e, e);
                at += e;
            }
        }
    }

    /** The encoding of the convolution at op position {@code opIndex}. */
    Tensor of(int opIndex) {
        return of[opIndex];
    }

    /** Writes every convolution's encoding of {@code gene} and declares the array to {@code k} (one copy). */
    void write(int[] gene, Kernels k) {
        for (int i = 0; i < ops.size(); i++) {
            if (ops.get(i) instanceof Op.Conv c) {
                float[] e = c.generator().encode(gene);
                System.arraycopy(e, 0, all.data(), of[i].offset(), e.length);
            }
        }
        k.hostChanged(all);
    }
}
