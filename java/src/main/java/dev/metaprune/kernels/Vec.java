package dev.metaprune.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector species every CPU kernel uses: the platform's preferred float species (512-bit on
 * AVX-512, 256-bit on AVX2, 128-bit on NEON or with {@code -XX:MaxVectorSize=16}). No kernel
 * assumes a lane count; tails are masked or scalar.
 */
public final class Vec {
    private Vec() {
    }

    public static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Lanes per vector. */
    public static final int L = F.length();

    /**
     * The sum of a vector's lanes in a fixed order (lane 0 first), the same bits in the interpreter
     * and in compiled code. {@code reduceLanes(ADD)} is not: C2 may reduce in a tree, the
     * interpreter does not, and an ulp of difference breaks bit-exact resume. {@code tmp} is the
     * caller's scratch of at least {@link #L} floats (held per thread, outside the hot loop).
     */
    public static float sumLanes(FloatVector v, float[] tmp) {
        v.intoArray(tmp, 0);
        float s = tmp[0];
        for (int i = 1; i < L; i++) {
            s += tmp[i];
        }
        return s;
    }

    /** One line describing the vector unit the kernels run on. */
    public static String describe() {
        return "Vector API " + F.vectorBitSize() + "-bit (" + L + " float lanes)";
    }
}
