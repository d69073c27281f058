package dev.metaprune.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.metaprune.tensor.Tensor;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every {@link Kernels} method of {@link ForwardingKernels} reaches the same method of its delegate, with its arguments. */
class ForwardingKernelsTest {
    @Test
    void everyCallReachesTheSameMethodOfTheDelegateWithItsArguments() throws Exception {
        List<String> seen = new ArrayList<>();
        List<Object[]> seenArgs = new ArrayList<>();
        Kernels recorder = (Kernels) Proxy.newProxyInstance(Kernels.class.getClassLoader(),
                new Class<?>[] {Kernels.class}, (proxy, m, args) -> {
                    seen.add(m.getName());
                    seenArgs.add(args);
                    Class<?> r = m.getReturnType();
                    return r == float.class ? 1.5f : r == int.class ? 7 : r == String.class ? "rec"
                            : r == boolean.class ? Boolean.TRUE : null;
                });
        Kernels f = new ForwardingKernels(recorder) { };
        int n = 0;
        for (Method m : Kernels.class.getMethods()) {
            if (java.lang.reflect.Modifier.isStatic(m.getModifiers())) {
                continue;
            }
            Object[] args = new Object[m.getParameterCount()];
            Class<?>[] types = m.getParameterTypes();
            for (int i = 0; i < args.length; i++) {   // distinct values, so a swapped argument shows
                args[i] = types[i] == boolean.class ? (i % 2 == 0) : types[i] == float.class ? (float) i
                        : types[i] == int.class ? i : types[i] == int[].class ? new int[i]
                        : types[i] == Tensor[].class ? new Tensor[i + 1] : null;
            }
            seen.clear();
            seenArgs.clear();
            Object r = m.invoke(f, args);
            assertEquals(List.of(m.getName()), seen, m.getName() + " is forwarded once, to itself");
            Object[] got = seenArgs.get(0) == null ? new Object[0] : seenArgs.get(0);
            for (int i = 0; i < args.length; i++) {
                if (args[i] instanceof int[] || args[i] instanceof Tensor[]) {
                    assertSame(args[i], got[i], m.getName() + " argument " + i);
                } else {
                    assertEquals(args[i], got[i], m.getName() + " argument " + i);
                }
            }
            if (m.getReturnType() == float.class) {
                assertEquals(1.5f, r);
            } else if (m.getReturnType() == int.class) {
                assertEquals(7, r);
            } else if (m.getReturnType() == String.class) {
                assertEquals("rec", r);
            } else if (m.getReturnType() == boolean.class) {
                assertEquals(Boolean.TRUE, r);
            }
            n++;
        }
        assertEquals(35, n, "Kernels' instance methods");
    }
}
