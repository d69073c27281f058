package dev.metaprune.bindgen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaprune.bindgen.BindingsGen.Function;
import dev.metaprune.bindgen.BindingsGen.Header;
import dev.metaprune.bindgen.BindingsGen.Kind;
import dev.metaprune.bindgen.BindingsGen.UnsupportedCException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BindingsGenTest {
    private static final String OK = """
            /* a comment with int x[3]; inside */
            #ifndef T_H
            #define T_H
            #include <stddef.h>
            #include <stdint.h>
            #ifdef __cplusplus
            extern "C" {
            #endif
            #define API __attribute__((visibility("default")))
            #define MP_CRITICAL
            #define ANSWER 42
            #define BIG 0x100000000
            typedef struct s_s *handle;   // an opaque handle
            API int f(void);
            API MP_CRITICAL const char *g(handle h, handle *out, const float *x, float y,
                                          double z, int64_t n, size_t bytes, void **pp);
            void h(int a);
            #ifdef __cplusplus
            }
            #endif
            #endif
            """;

    @Test
    void parsesTheSubset() {
        Header h = BindingsGen.parse(OK);
        assertEquals(42L, h.constants().get("ANSWER"));
        assertEquals(0x100000000L, h.constants().get("BIG"));
        assertEquals(List.of("handle"), h.handles());
        assertEquals(3, h.functions().size());
        Function f = h.functions().get(0);
        assertEquals("f", f.name());
        assertEquals(Kind.INT, f.ret());
        assertTrue(f.params().isEmpty());
        assertFalse(f.critical());
        Function g = h.functions().get(1);
        assertTrue(g.critical());
        assertEquals(Kind.ADDRESS, g.ret());
        assertEquals(List.of(Kind.ADDRESS, Kind.ADDRESS, Kind.ADDRESS, Kind.FLOAT, Kind.DOUBLE, Kind.LONG, Kind.LONG,
                Kind.ADDRESS), g.params().stream().map(BindingsGen.Param::kind).toList());
        assertEquals("FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_FLOAT, JAVA_DOUBLE, JAVA_LONG, "
                + "JAVA_LONG, ADDRESS)", g.descriptorSource());
        assertEquals("FunctionDescriptor.ofVoid(JAVA_INT)", h.functions().get(2).descriptorSource());
    }

    private static void rejects(String decl, String why) {
        UnsupportedCException e = assertThrows(UnsupportedCException.class, () -> BindingsGen.parse(decl),
                () -> "accepted: " + decl);
        assertTrue(e.getMessage().contains(why), () -> e.getMessage() + " does not say " + why);
    }

    @Test
    void rejectsWhatItDoesNotUnderstand() {
        rejects("typedef enum { A, B } e;", "braces");
        rejects("enum e f(void);", "'enum'");
        rejects("struct s f(void);", "'struct'");
        rejects("union u;", "'union'");
        rejects("int f(int a[4]);", "arrays");
        rejects("int f(int (*cb)(int));", "function pointers");
        rejects("int f(int a, ...);", "varargs");
        rejects("unsigned f(void);", "'unsigned'");
        rejects("long f(void);", "'long'");
        rejects("int f();", "K&R");
        rejects("int f(int);", "without a name");
        rejects("foo_t f(void);", "unknown type name 'foo_t'");
        rejects("char f(void);", "only supported behind a pointer");
        rejects("#define X (1 + 2)", "integer literal");
        rejects("#define F(x) x", "function-like macro");
        rejects("#include \"other.h\"", "only <stddef.h>");
        rejects("#pragma once", "unsupported preprocessor directive");
        rejects("int f(void) { return 0; }", "braces");
        rejects("typedef int myint;", "opaque handle");
        rejects("int f(void)", "unterminated");
        rejects("static int f(void);", "'static'");
        rejects("/* open", "unterminated comment");
        rejects("int f(int a = 1);", "default values");
    }

    @Test
    void rejectionNamesTheLine() {
        UnsupportedCException e = assertThrows(UnsupportedCException.class,
                () -> BindingsGen.parse("int f(void);\n\nlong g(void);\n"));
        assertEquals(3, e.line);
    }

    /** The real header: every function binds, and the generated class compiles. */
    @Test
    void theRealHeaderGeneratesCompilableBindings(@TempDir Path dir) throws Exception {
        Path header = Path.of(System.getProperty("metaprune.header", "../native/include/metaprune.h"));
        Header h = BindingsGen.parse(Files.readString(header));
        assertTrue(h.functions().size() >= 45, "functions: " + h.functions().size());
        assertTrue(h.functions().stream().anyMatch(f -> f.name().equals("mp_conv1x1_forward")));
        assertTrue(h.functions().stream().filter(Function::critical).anyMatch(f -> f.name().equals("mp_memcpy_htod")));
        assertEquals(0L, h.constants().get("MP_OK"));
        String src = BindingsGen.generate(h, "gen.test", "Native", "metaprune.h");
        Path file = dir.resolve("gen/test/Native.java");
        Files.createDirectories(file.getParent());
        Files.writeString(file, src);
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        int rc = javac.run(null, null, null, "-d", dir.resolve("classes").toString(), file.toString());
        assertEquals(0, rc, "generated bindings compile");
    }
}
