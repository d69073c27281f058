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

    /** One line describing the vector unit the kernels run on. */
    public static String describe() {
        return "Vector API " + F.vectorBitSize() + "-bit (" + L + " float lanes)";
    }
}
