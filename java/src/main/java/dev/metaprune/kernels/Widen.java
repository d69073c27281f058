package dev.metaprune.kernels;

import static dev.metaprune.kernels.Vec.F;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Float-to-double widening and a reproducible exponential, shared by the kernels that sum in
 * double (BatchNorm statistics, softmax). Everything here is built from IEEE operations whose
 * results are fixed by the Java specification (add, multiply, fma, conversions, comparisons), never
 * from the Vector API's transcendental or floating-point reduction operations, whose results may
 * differ by an ulp between the interpreter, C2 and platforms (C2 may reorder
 * {@code reduceLanes(ADD)}; {@code lanewise(EXP)} calls SVML when compiled and {@code Math.exp}
 * when not). So a kernel built on this class gives the same bits on every run.
 */
final class Widen {
    private Widen() {
    }

    /**
     * Half-width float species feeding, lane for lane, a double species as wide as {@link Vec#F}
     * (at least 64 / 128 bits, so that both shapes exist whatever the preferred width).
     */
    static final VectorSpecies<Float> FH =
            VectorSpecies.of(float.class, VectorShape.forBitSize(Math.max(64, F.vectorBitSize() / 2)));
    static final VectorSpecies<Double> D =
            VectorSpecies.of(double.class, VectorShape.forBitSize(FH.vectorBitSize() * 2));
    /** Lanes of {@link #D} (= lanes of {@link #FH}). */
    static final int DL = D.length();

    /** The FH lanes as doubles (exact). */
    static DoubleVector toDouble(FloatVector h) {
        return (DoubleVector) h.convertShape(VectorOperators.F2D, D, 0);
    }

    /** Sum of the lanes in lane order (a fixed order, unlike {@code reduceLanes(ADD)}). */
    static double sumLanes(DoubleVector v) {
        double s = 0;
        for (int i = 0; i < DL; i++) {
            s += v.lane(i);
        }
        return s;
    }

    private static final float LOG2E = 1.44269504088896341f;
    private static final float ROUND = 12582912f;          // 1.5 * 2^23: x + ROUND rounds x to an integer
    private static final float LN2_HI = 0.693359375f;      // ln 2 = LN2_HI + LN2_LO (Cody-Waite)
    private static final float LN2_LO = -2.12194440e-4f;
    private static final float LOW = -87f;                  // below: exp < 1.7e-38, returned as 0
    private static final float P0 = 1.9875691500e-4f, P1 = 1.3981999507e-3f, P2 = 8.3334519073e-3f;
    private static final float P3 = 4.1665795894e-2f, P4 = 1.6666665459e-1f, P5 = 5.0000001201e-1f;

    /**
     * {@code exp(x)} for {@code x <= 0} (any float species): Cody-Waite reduction
     * {@code x = n ln2 + r}, |r| <= ln2 / 2, Cephes' degree-7 polynomial (within ~1 ulp), then
     * {@code * 2^n} through the exponent bits. {@code x < -87} gives 0 (the true value is under
     * 1.7e-38), NaN gives NaN. Not for positive arguments.
     */
    static FloatVector expNonPositive(FloatVector x) {
        VectorSpecies<Float> s = x.species();
        VectorMask<Float> tiny = x.compare(VectorOperators.LT, LOW);
        FloatVector xc = x.max(LOW);
        FloatVector n = xc.fma(FloatVector.broadcast(s, LOG2E), FloatVector.broadcast(s, ROUND)).sub(ROUND);
        FloatVector r = n.fma(FloatVector.broadcast(s, -LN2_HI), xc);
        r = n.fma(FloatVector.broadcast(s, -LN2_LO), r);
        FloatVector p = r.fma(FloatVector.broadcast(s, P0), FloatVector.broadcast(s, P1));
        p = p.fma(r, FloatVector.broadcast(s, P2));
        p = p.fma(r, FloatVector.broadcast(s, P3));
        p = p.fma(r, FloatVector.broadcast(s, P4));
        p = p.fma(r, FloatVector.broadcast(s, P5));
        FloatVector y = p.fma(r.mul(r), r).add(1f);
        IntVector e = (IntVector) n.convert(VectorOperators.F2I, 0);
        FloatVector scale = e.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return y.mul(scale).blend(0f, tiny);
    }
}
