import dev.metaprune.kernels.CpuKernels;
import dev.metaprune.kernels.EmulatedDeviceKernels;
import dev.metaprune.kernels.Kernels;
import dev.metaprune.nn.arch.Architecture;
import dev.metaprune.nn.arch.Architectures;
import dev.metaprune.nn.gene.Gene;
import dev.metaprune.pruningnet.PruningNet;
import dev.metaprune.tensor.Tensor;
import java.util.SplittableRandom;

/**
 * How far two PruningNet trainings on the CPU drift apart from a tiny difference (random data, random genes): the
 * yardstick for comparing backends over several steps. Modes: "emulated" runs the second PruningNet on the emulated
 * device (its generators take the eager SGD step, the CPU's the lazy one: equal up to rounding); "perturb" runs it on
 * the CPU with one generator's second-FC weights scaled by (1 + 1e-6).
 * Run: java --add-modules jdk.incubator.vector -cp "java/target/metaprune.jar:java/target/lib/*" \
 *        bench/probe/PruningNetSensitivity.java mobilenetv1-cifar 0.05 emulated|perturb [steps]
 */
public class PruningNetSensitivity {
    public static void main(String[] a) {
        Architecture arch = Architectures.get(a[0], 1, 28, 10);
        float lr = Float.parseFloat(a[1]);
        boolean perturb = a[2].equals("perturb");
        int steps = a.length > 3 ? Integer.parseInt(a[3]) : 8;
        PruningNet.Hyper h = PruningNet.Hyper.official(4e-5f);
        Kernels second = perturb ? new CpuKernels() : new EmulatedDeviceKernels();
        PruningNet p1 = new PruningNet(arch, 32, h, 7L, true, new CpuKernels());
        PruningNet p2 = new PruningNet(arch, 32, h, 7L, true, second);
        if (perturb) {
            for (int i = 0; i < arch.ops().size(); i++) {
                if (p2.generator(i) != null) {
                    float[] w = p2.generator(i).state().get("fc2.weight");
                    for (int j = 0; j < w.length; j++) {
                        w[j] *= 1.000001f;
                    }
                    System.out.println("perturbed " + arch.ops().get(i).name() + ".generator.fc2.weight by 1e-6");
                    break;
                }
            }
        }
        SplittableRandom r = new SplittableRandom(3);
        Tensor x = Tensor.zeros(32, 28, 28, 1);
        int[] labels = new int[32];
        System.out.println("step  loss (cpu)  loss (" + (perturb ? "cpu, perturbed" : second.name()) + ")  rel. diff");
        for (int s = 0; s < steps; s++) {
            for (int i = 0; i < x.data().length; i++) {
                x.data()[i] = (float) r.nextGaussian();
            }
            for (int i = 0; i < 32; i++) {
                labels[i] = r.nextInt(10);
            }
            int[] gene = Gene.random(arch.geneSpace(), r).indices();
            float l1 = p1.trainStep(x, labels, gene, lr), l2 = p2.trainStep(x, labels, gene, lr);
            System.out.printf("%4d  %.7f  %.7f  %.2e%n", s, l1, l2, Math.abs(l1 - l2) / Math.abs(l1));
        }
    }
}
