package dev.metaprune.latency;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Pinning runs on threads of its own, so that the test runner's thread stays free. */
class ThreadPinningTest {
    /** Runs {@code body} on a fresh thread and rethrows what it threw. */
    private static void onThread(Runnable body) throws Throwable {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                body.run();
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        t.start();
        t.join();
        if (failure.get() != null) {
            throw failure.get();
        }
    }

    /** The calling thread's own affinity, as the kernel reports it. */
    private static String threadAllowedCpus() {
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/thread-self/status"))) {
                if (line.startsWith("Cpus_allowed_list:")) {
                    return line.substring(line.indexOf(':') + 1).strip();
                }
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return "?";
    }

    @Test
    void aPinnedThreadRunsOnItsCpuAndStaysThere() throws Throwable {
        assumeTrue(ThreadPinning.supported(), "pinning needs Linux");
        int cpus = Runtime.getRuntime().availableProcessors();
        for (int cpu = 0; cpu < Math.min(cpus, 2); cpu++) {
            int c = cpu;
            onThread(() -> {
                ThreadPinning.pinCurrentThread(c);
                assertEquals(String.valueOf(c), threadAllowedCpus(), "the kernel's mask for this thread");
                List<Integer> seen = new ArrayList<>();
                double x = 0;
                for (int i = 0; i < 50; i++) {
                    for (int j = 0; j < 20_000; j++) {
                        x += Math.sqrt(j + i);  // work, so that the scheduler has chances to move the thread
                    }
                    seen.add(ThreadPinning.currentCpu());
                    Thread.yield();
                }
                assertTrue(x > 0);
                assertEquals(List.of(c), seen.stream().distinct().toList(), "pinned to CPU " + c);
            });
        }
    }

    @Test
    void aPinnedThreadGetsItsCpusBack() throws Throwable {
        assumeTrue(ThreadPinning.supported() && Runtime.getRuntime().availableProcessors() > 1,
                "needs Linux and two CPUs");
        onThread(() -> {
            String before = threadAllowedCpus();
            long[] mask = ThreadPinning.currentMask();
            ThreadPinning.pinCurrentThread(0);
            assertEquals("0", threadAllowedCpus());
            ThreadPinning.restore(mask);
            assertEquals(before, threadAllowedCpus());
        });
    }

    @Test
    void aCpuThisProcessCannotUseIsRefusedByName() throws Throwable {
        assumeTrue(ThreadPinning.supported(), "pinning needs Linux");
        onThread(() -> {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ThreadPinning.pinCurrentThread(1023));
            assertTrue(e.getMessage().startsWith("cannot pin to CPU 1023: this process may use CPUs "),
                    e.getMessage());
            assertTrue(e.getMessage().endsWith(ThreadPinning.allowedCpus()), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> ThreadPinning.pinCurrentThread(-1));
            assertThrows(IllegalArgumentException.class, () -> ThreadPinning.pinCurrentThread(1024));
        });
    }
}
