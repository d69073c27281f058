package dev.metaprune.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaprune.cli.Main;
import org.junit.jupiter.api.Test;

/** Choosing the backend by name ({@code Kernels.select}, the command line's {@code --backend}). */
class BackendsTest {
    @Test
    void theBackendInUseCanBeChosenAgainButNotChangedAndUnknownNamesAreListed() {
        Kernels inUse = Kernels.get();   // this test JVM: the default, cpu
        assertEquals("cpu", inUse.name());
        assertSame(inUse, Kernels.select("cpu"));
        IllegalStateException busy = assertThrows(IllegalStateException.class, () -> Kernels.select("emulated-device"));
        assertTrue(busy.getMessage().contains("already cpu"), busy.getMessage());
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class, () -> Kernels.select("tpu"));
        assertTrue(unknown.getMessage().contains("available: cpu, cuda, cuda-resident, cuda-verify, emulated-device"),
                unknown.getMessage());
        // made directly, every backend that needs no GPU works
        assertEquals("emulated-device", Backends.create("emulated-device").name());
    }

    @Test
    void theCommandLineRefusesABackendItCannotUseWithAUsageError() {
        assertEquals(2, Main.run("--backend", "tpu", "info"));
        assertEquals(2, Main.run("info", "--backend", "emulated-device"));   // cpu is in use in this JVM already
    }
}
