package dev.metaprune.cuda;

import dev.metaprune.data.HeldBatch;
import dev.metaprune.kernels.Kernels;
import dev.metaprune.nn.arch.Architecture;
import dev.metaprune.nn.arch.Architectures;
import dev.metaprune.nn.gene.Gene;
import dev.metaprune.pruningnet.GeneratedNetwork;
import dev.metaprune.pruningnet.PruningNet;
import dev.metaprune.tensor.Tensor;
import java.util.List;
import java.util.SplittableRandom;

/**
 * PruningNet training steps and one search evaluation on the backend selected by
 * {@code -Dmetaprune.backend} (cpu, cuda, cuda-resident, emulated-device), on seeded random data: run it once per
 * backend and compare the printed losses ({@code loss <step> <value>}) and the error ({@code eval-error}). The last
 * line is the median step time over the steps after the first two ({@code step-median-ms}): the first steps allocate
 * and, on a device-resident backend, upload what then stays on the device.
 * Usage: {@code CudaTrainCheck [arch] [batch] [steps] [lr] [in-channels input-size classes]} (default
 * mobilenetv2-cifar 32 5 0.05 and the architecture's own input). The PyTorch peer's PruningNet case is
 * {@code CudaTrainCheck mobilenetv2-cifar 128 20 0.01 1 28 10} (bench/peers/torch_pruningnet.py, --device cuda).
 */
public final class CudaTrainCheck {
    private CudaTrainCheck() {
    }

    public static void main(String[] args) {
        String archName = args.length > 0 ? args[0] : "mobilenetv2-cifar";
        int batch = args.length > 1 ? Integer.parseInt(args[1]) : 32;
        int steps = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        float lr = args.length > 3 ? Float.parseFloat(args[3]) : 0.05f;
        Kernels k = Kernels.get();
        System.out.println("backend " + k.describe());
        Architecture arch = args.length > 6 ? Architectures.get(archName, Integer.parseInt(args[4]),
                Integer.parseInt(args[5]), Integer.parseInt(args[6])) : Architectures.get(archName);
        PruningNet pn = new PruningNet(arch, batch, PruningNet.Hyper.official(4e-5f), 7L);
        int c = arch.input().channels(), s = arch.input().size(), classes = arch.input().classes();
        SplittableRandom rnd = new SplittableRandom(11L);
        double[] ms = new double[steps];
        for (int step = 0; step < steps; step++) {
            Tensor x = Tensor.zeros(batch, s, s, c);
            for (int i = 0; i < x.data().length; i++) {
                x.data()[i] = (float) rnd.nextGaussian();
            }
            int[] labels = new int[batch];
            for (int i = 0; i < batch; i++) {
                labels[i] = rnd.nextInt(classes);
            }
            int[] gene = Gene.random(arch.geneSpace(), rnd).indices();
            long t0 = System.nanoTime();
            float loss = pn.trainStep(x, labels, gene, lr);
            k.synchronize();
            long t1 = System.nanoTime();
            ms[step] = (t1 - t0) / 1e6;
            System.out.printf("loss %d %.7f  (%.1f ms)%n", step, loss, ms[step]);
        }
        pn.flush();
        GeneratedNetwork gn = pn.generatedNetwork(batch);
        List<HeldBatch> recal = List.of(randomBatch(rnd, batch, s, c, classes), randomBatch(rnd, batch, s, c, classes));
        List<HeldBatch> val = List.of(randomBatch(rnd, batch, s, c, classes));
        int[] gene = Gene.random(arch.geneSpace(), rnd).indices();
        double err = gn.error(gene, recal, val);
        System.out.printf("eval-error %.6f%n", err);
        if (steps > 2) {
            double[] later = java.util.Arrays.copyOfRange(ms, 2, steps);
            java.util.Arrays.sort(later);
            System.out.printf("step-median-ms %.2f (steps 2..%d, %s)%n", later[later.length / 2], steps - 1, k.name());
        }
    }

    private static HeldBatch randomBatch(SplittableRandom rnd, int batch, int s, int c, int classes) {
        Tensor x = Tensor.zeros(batch, s, s, c);
        for (int i = 0; i < x.data().length; i++) {
            x.data()[i] = (float) rnd.nextGaussian();
        }
        int[] labels = new int[batch];
        for (int i = 0; i < batch; i++) {
            labels[i] = rnd.nextInt(classes);
        }
        return new HeldBatch(x, labels);
    }
}
