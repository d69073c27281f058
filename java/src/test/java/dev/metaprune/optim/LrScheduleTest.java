package dev.metaprune.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Learning-rate schedules: hand-computed values at the start, the middle, the boundaries and past
 * the end. Tolerance 1e-15 relative (double arithmetic on exactly representable inputs; only the
 * cosine involves a transcendental function).
 */
class LrScheduleTest {
    static void near(double want, double got, String what) {
        assertTrue(Math.abs(got - want) <= 1e-15 * Math.max(1, Math.abs(want)), what + ": got " + got + ", want " + want);
    }

    @Test
    void constant() {
        LrSchedule s = LrSchedule.constant(0.25);
        assertEquals(0.25, s.lr(0));
        assertEquals(0.25, s.lr(1_000_000_000_000L));
    }

    @Test
    void linearDecayIsTheOfficialMetaPruningRule() {
        // lr * (1 - step / total) while step <= total, 0 after
        LrSchedule s = LrSchedule.linearDecay(0.25, 1000);
        assertEquals(0.25, s.lr(0));
        near(0.25 * 0.999, s.lr(1), "step 1");
        near(0.125, s.lr(500), "half way");
        near(0.25 * 0.001, s.lr(999), "last step");
        assertEquals(0.0, s.lr(1000));
        assertEquals(0.0, s.lr(5000));
    }

    @Test
    void cosine() {
        LrSchedule s = LrSchedule.cosine(0.1, 100, 0.001);
        assertEquals(0.1, s.lr(0));
        near(0.001 + 0.099 * 0.5, s.lr(50), "half way");
        near(0.001 + 0.099 * 0.5 * (1 + Math.cos(Math.PI / 4)), s.lr(25), "quarter");
        assertEquals(0.001, s.lr(100));
        assertEquals(0.001, s.lr(101));
        double prev = Double.MAX_VALUE;
        for (long t = 0; t <= 100; t++) {
            assertTrue(s.lr(t) <= prev, "monotone at " + t);
            prev = s.lr(t);
        }
    }

    @Test
    void multiStepLikeTorchMultiStepLR() {
        // MetaPruning ResNet-50: milestones at 1/4, 1/2, 3/4 of the run, gamma 0.1
        LrSchedule s = LrSchedule.multiStep(0.1, new long[] {25, 50, 75}, 0.1);
        assertEquals(0.1, s.lr(0));
        assertEquals(0.1, s.lr(24));
        near(0.01, s.lr(25), "first milestone");
        near(0.01, s.lr(49), "before the second");
        near(0.001, s.lr(50), "second");
        near(0.0001, s.lr(75), "third");
        near(0.0001, s.lr(10_000), "far past");
        assertEquals(0.3, LrSchedule.multiStep(0.3, new long[0], 0.5).lr(99));
    }

    @Test
    void warmup() {
        LrSchedule s = LrSchedule.withWarmup(LrSchedule.linearDecay(1.0, 100), 10, 0.1);
        near(0.1, s.lr(0), "start");
        near(0.95 * (0.1 + 0.9 * 0.5), s.lr(5), "half warm");
        near(0.9, s.lr(10), "warm-up over: inner schedule");
        near(0.5, s.lr(50), "inner");
        LrSchedule none = LrSchedule.withWarmup(LrSchedule.constant(2.0), 0, 0.0);
        assertEquals(2.0, none.lr(0));
    }

    @Test
    void rejectsBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.constant(-1));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.constant(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.linearDecay(0.1, 0));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.linearDecay(Double.POSITIVE_INFINITY, 10));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.cosine(0.1, 10, 0.2));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.cosine(0.1, -5, 0.0));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LrSchedule.multiStep(0.1, new long[] {50, 25}, 0.1));
        assertTrue(e.getMessage().contains("[50, 25]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.multiStep(0.1, new long[] {0, 25}, 0.1));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.multiStep(0.1, new long[] {25}, 0));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.multiStep(0.1, null, 0.1));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.withWarmup(null, 10, 0.1));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.withWarmup(LrSchedule.constant(1), -1, 0.1));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.withWarmup(LrSchedule.constant(1), 5, 1.5));
        for (LrSchedule s : new LrSchedule[] {LrSchedule.constant(1), LrSchedule.linearDecay(1, 10),
                LrSchedule.cosine(1, 10, 0), LrSchedule.multiStep(1, new long[] {3}, 0.5),
                LrSchedule.withWarmup(LrSchedule.constant(1), 3, 0)}) {
            assertThrows(IllegalArgumentException.class, () -> s.lr(-1));
        }
    }
}
