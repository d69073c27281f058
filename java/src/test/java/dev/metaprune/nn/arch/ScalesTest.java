package dev.metaprune.nn.arch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Width choices and truncation: must be Python's {@code int(base * ((10 + 3 * i) / 100))}, bit for bit. */
class ScalesTest {
    /** Every base width any family uses (gene bases, 1.0x references, mids). */
    static final int[] OFFICIAL_BASES = {32, 64, 128, 256, 512, 1024, 44, 22, 33, 88, 132, 224, 448, 198, 264, 528,
            792, 1344, 16, 24, 96, 160, 320, 1280, 144, 192, 384, 576, 960, 2048};

    @Test
    void thirtyOneScalesFromTenToHundredPercent() {
        assertEquals(31, Scales.COUNT);
        assertEquals(0.10, Scales.value(0));
        assertEquals(0.13, Scales.value(1));
        assertEquals(0.49, Scales.value(13));
        assertEquals(0.52, Scales.value(14));
        assertEquals(0.70, Scales.value(20));
        assertEquals(1.00, Scales.value(30));
        assertThrows(IllegalArgumentException.class, () -> Scales.value(31));
        assertThrows(IllegalArgumentException.class, () -> Scales.value(-1));
    }

    /** Values computed with CPython 3: {@code int(b * ((10 + i * 3) / 100))} where exact arithmetic differs. */
    @ParameterizedTest
    @CsvSource({"50,16,28,29", "90,20,62,63", "100,16,57,58", "150,24,122,123", "170,20,118,119", "200,16,115,116",
            "1200,24,983,984"})
    void truncationFollowsPythonFloatingPointNotExactArithmetic(int base, int index, int python, int exact) {
        assertEquals(python, Scales.width(base, index));
        assertEquals(exact, Scales.exactWidth(base, index));
    }

    @Test
    void officialBasesNeverHitARoundingCase() {
        long checksum = 0;
        for (int b : OFFICIAL_BASES) {
            for (int i = 0; i < Scales.COUNT; i++) {
                assertEquals(Scales.exactWidth(b, i), Scales.width(b, i), "base " + b + " index " + i);
                checksum += (long) Scales.width(b, i) * (i + 1);
            }
        }
        // sum(int(b * s_i) * (i + 1)) over the same bases, computed with CPython 3
        assertEquals(4275753, checksum);
    }

    @Test
    void knownWidths() {
        assertEquals(30, Scales.width(44, 20)); // 44 * 0.7 = 30.799999999999997
        assertEquals(313, Scales.width(448, 20)); // 313.6
        assertEquals(32, Scales.width(44, 21)); // 0.73
        assertEquals(3, Scales.width(32, 0));
        assertEquals(1024, Scales.width(1024, 30));
    }

    @Test
    void indexOfExactChoicesOnly() {
        assertEquals(5, Scales.indexOf(0.25));
        assertEquals(30, Scales.indexOf(1.0));
        assertEquals(0, Scales.indexOf(0.1));
        assertEquals(-1, Scales.indexOf(0.5));
        assertEquals(-1, Scales.indexOf(0.75));
        assertEquals(-1, Scales.indexOf(1.03));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Scales.requireIndexOf(0.5));
        assertTrue(e.getMessage().contains("0.49 (index 13)") && e.getMessage().contains("0.52 (index 14)"),
                e.getMessage());
    }
}
