package dev.metaprune.bindgen;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the C header of MetaPrune's native path ({@code native/include/metaprune.h}) and writes the
 * Java FFM bindings: one class with the header's integer constants and, per function, a downcall
 * {@code MethodHandle} with its {@code FunctionDescriptor} and a typed Java method calling it.
 *
 * <p>The C it understands is the subset the header uses, and it refuses everything else with the
 * line number, so that a construct it would bind wrongly never passes silently:
 * <ul>
 *   <li>{@code #include <...>}, include guards, {@code #ifdef __cplusplus ... #endif} (skipped);</li>
 *   <li>{@code #define NAME <integer>} (a constant); {@code #define NAME} and
 *       {@code #define NAME __attribute__((...))} (qualifier macros, ignored where they are used;
 *       {@code MP_CRITICAL} marks a critical downcall that may take heap memory);</li>
 *   <li>{@code typedef struct tag *name;} (an opaque handle, passed as an address);</li>
 *   <li>prototypes {@code type name(params);} over {@code void}, {@code int}, {@code int32_t},
 *       {@code int64_t}, {@code size_t}, {@code float}, {@code double}, {@code char} (pointer only),
 *       the handles, {@code const} and pointers of any depth.</li>
 * </ul>
 * Rejected: enums, unions, structs by value, arrays, function pointers, varargs, {@code unsigned},
 * {@code long}, {@code short}, bodies, unknown type names, other preprocessor directives.
 *
 * <p>Written for Java 17 and up (so that it also runs as a single-file source program in the build).
 * Usage: {@code java BindingsGen.java <header> <output dir> <package> <class name>}.
 */
public final class BindingsGen {

    /** A C type reduced to what FFM needs. */
    public enum Kind {
        VOID("void", null, null), INT("int", "JAVA_INT", "int"), LONG("long", "JAVA_LONG", "long"),
        FLOAT("float", "JAVA_FLOAT", "float"), DOUBLE("double", "JAVA_DOUBLE", "double"),
        ADDRESS("MemorySegment", "ADDRESS", "MemorySegment");

        public final String javaType;
        public final String layout;
        public final String boxed;

        Kind(String javaType, String layout, String boxed) {
            this.javaType = javaType;
            this.layout = layout;
            this.boxed = boxed;
        }
    }

    public record Param(String cType, String name, Kind kind) {
    }

    public record Function(String name, String cReturn, Kind ret, List<Param> params, boolean critical, int line) {
        /** The descriptor as Java source. */
        public String descriptorSource() {
            StringBuilder sb = new StringBuilder(ret == Kind.VOID ? "FunctionDescriptor.ofVoid(" : "FunctionDescriptor.of(" + ret.layout);
            boolean first = ret == Kind.VOID;
            for (Param p : params) {
                sb.append(first ? "" : ", ").append(p.kind().layout);
                first = false;
            }
            return sb.append(')').toString();
        }
    }

    /** What the parser found: constants in order, handle names, functions in order. */
    public record Header(Map<String, Long> constants, List<String> handles, List<Function> functions) {
    }

    /** A construct outside the supported subset, with its line. */
    public static final class UnsupportedCException extends RuntimeException {
        public final int line;

        public UnsupportedCException(int line, String message) {
            super("line " + line + ": " + message);
            this.line = line;
        }
    }

    private static final Set<String> BASE = Set.of("void", "int", "int32_t", "int64_t", "size_t", "float", "double",
            "char");
    private static final Set<String> REJECTED_WORDS = Set.of("enum", "union", "unsigned", "signed", "long", "short",
            "static", "inline", "register", "volatile", "restrict", "_Bool", "bool", "uint32_t", "uint64_t",
            "int8_t", "uint8_t", "int16_t", "uint16_t", "__int128", "va_list");
    private static final Pattern IDENT = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final Pattern DEFINE = Pattern.compile("#\\s*define\\s+([A-Za-z_][A-Za-z0-9_]*)(\\(.*?\\))?\\s*(.*)");
    private static final Pattern INT_LIT = Pattern.compile("-?(0[xX][0-9a-fA-F]+|[0-9]+)");
    private static final Pattern ATTRIBUTE = Pattern.compile("__attribute__\\s*\\(\\(.*\\)\\)");
    private static final Pattern HANDLE = Pattern.compile("typedef\\s+struct\\s+([A-Za-z_][A-Za-z0-9_]*)\\s*\\*\\s*([A-Za-z_][A-Za-z0-9_]*)\\s*;");

    private BindingsGen() {
    }

    /** Parses header text; throws {@link UnsupportedCException} on anything outside the subset. */
    public static Header parse(String text) {
        String src = stripComments(text);
        Map<String, Long> constants = new LinkedHashMap<>();
        List<String> qualifiers = new ArrayList<>();
        List<String> handles = new ArrayList<>();
        List<Function> functions = new ArrayList<>();
        String[] lines = src.split("\n", -1);
        StringBuilder decl = new StringBuilder();
        int declLine = 0;
        int skipDepth = 0;      // inside #ifdef __cplusplus
        int depth = 0;          // #if nesting
        String guard = null;
        for (int i = 0; i < lines.length; i++) {
            int ln = i + 1;
            String line = lines[i].strip();
            if (line.startsWith("#")) {
                if (decl.length() > 0) {
                    throw new UnsupportedCException(ln, "preprocessor directive inside a declaration");
                }
                String d = line.substring(1).strip();
                if (skipDepth > 0) {
                    if (d.startsWith("if")) {
                        skipDepth++;
                    } else if (d.startsWith("endif")) {
                        skipDepth--;
                    }
                    continue;
                }
                if (d.equals("ifdef __cplusplus")) {
                    skipDepth = 1;
                } else if (d.startsWith("ifndef ")) {
                    guard = d.substring(7).strip();
                    depth++;
                } else if (d.startsWith("endif")) {
                    if (depth == 0) {
                        throw new UnsupportedCException(ln, "#endif without #if");
                    }
                    depth--;
                } else if (d.startsWith("include")) {
                    if (!d.matches("include\\s*<(stddef|stdint)\\.h>")) {
                        throw new UnsupportedCException(ln, "only <stddef.h> and <stdint.h> may be included: " + line);
                    }
                } else if (d.startsWith("define")) {
                    Matcher m = DEFINE.matcher(line);
                    if (!m.matches()) {
                        throw new UnsupportedCException(ln, "cannot read #define: " + line);
                    }
                    String name = m.group(1), body = m.group(3).strip();
                    if (m.group(2) != null) {
                        throw new UnsupportedCException(ln, "function-like macro " + name + " is not supported");
                    }
                    if (name.equals(guard) && body.isEmpty()) {
                        continue;
                    }
                    if (body.isEmpty() || ATTRIBUTE.matcher(body).matches()) {
                        qualifiers.add(name);
                    } else if (INT_LIT.matcher(body).matches()) {
                        constants.put(name, Long.decode(body));
                    } else {
                        throw new UnsupportedCException(ln, "#define " + name + " must be an integer literal, empty, "
                                + "or an __attribute__ qualifier; got '" + body + "'");
                    }
                } else {
                    throw new UnsupportedCException(ln, "unsupported preprocessor directive: " + line);
                }
                continue;
            }
            if (skipDepth > 0 || line.isEmpty()) {
                continue;
            }
            if (decl.length() == 0) {
                declLine = ln;
            }
            decl.append(line).append(' ');
            if (line.contains("{") || line.contains("}")) {
                throw new UnsupportedCException(ln, "braces (bodies, struct or enum definitions, extern blocks outside "
                        + "#ifdef __cplusplus) are not supported: " + line);
            }
            if (!line.endsWith(";")) {
                continue;
            }
            String s = decl.toString().strip();
            decl.setLength(0);
            if (s.startsWith("typedef")) {
                Matcher h = HANDLE.matcher(s);
                if (!h.matches()) {
                    throw new UnsupportedCException(declLine, "only opaque handle typedefs (typedef struct tag *name;) "
                            + "are supported: " + s);
                }
                handles.add(h.group(2));
            } else {
                functions.add(parseFunction(s, declLine, qualifiers, handles));
            }
        }
        if (decl.length() > 0) {
            throw new UnsupportedCException(lines.length, "unterminated declaration: " + decl.toString().strip());
        }
        if (skipDepth != 0 || depth != 0) {
            throw new UnsupportedCException(lines.length, "unbalanced #if/#endif");
        }
        return new Header(constants, handles, functions);
    }

    private static Function parseFunction(String s, int line, List<String> qualifiers, List<String> handles) {
        Matcher words = IDENT.matcher(s);
        while (words.find()) {
            String w = words.group();
            if (REJECTED_WORDS.contains(w) || w.equals("struct")) {
                throw new UnsupportedCException(line, "'" + w + "' is not supported: " + s);
            }
        }
        int open = s.indexOf('('), close = s.lastIndexOf(')');
        if (open < 0 || close < open || !s.substring(close + 1).strip().equals(";")) {
            throw new UnsupportedCException(line, "not a function prototype: " + s);
        }
        if (s.indexOf('(', open + 1) >= 0 && s.indexOf('(', open + 1) < close) {
            throw new UnsupportedCException(line, "function pointers are not supported: " + s);
        }
        List<String> head = tokens(s.substring(0, open), line);
        boolean critical = false;
        List<String> typeTokens = new ArrayList<>();
        for (String t : head) {
            if (qualifiers.contains(t)) {
                critical |= t.equals("MP_CRITICAL");
            } else {
                typeTokens.add(t);
            }
        }
        if (typeTokens.size() < 2 || !IDENT.matcher(typeTokens.get(typeTokens.size() - 1)).matches()) {
            throw new UnsupportedCException(line, "cannot find the function name in: " + s);
        }
        String name = typeTokens.remove(typeTokens.size() - 1);
        Kind ret = kindOf(typeTokens, handles, line, "return type of " + name);
        String cRet = String.join(" ", typeTokens);
        List<Param> params = new ArrayList<>();
        String inner = s.substring(open + 1, close).strip();
        if (!inner.equals("void")) {
            if (inner.isEmpty()) {
                throw new UnsupportedCException(line, name + "(): write (void) for no parameters (K&R style is not supported)");
            }
            for (String p : inner.split(",")) {
                List<String> pt = tokens(p, line);
                if (pt.contains("...")) {
                    throw new UnsupportedCException(line, "varargs are not supported: " + name);
                }
                if (pt.size() < 2) {
                    throw new UnsupportedCException(line, "parameter without a name in " + name + ": '" + p.strip() + "'");
                }
                String pname = pt.remove(pt.size() - 1);
                if (!IDENT.matcher(pname).matches()) {
                    throw new UnsupportedCException(line, "bad parameter name '" + pname + "' in " + name);
                }
                params.add(new Param(String.join(" ", pt), pname, kindOf(pt, handles, line, "parameter " + pname + " of " + name)));
            }
        }
        return new Function(name, cRet, ret, params, critical, line);
    }

    /** Splits on spaces and around '*'; rejects characters outside the subset (arrays, bit fields...). */
    private static List<String> tokens(String s, int line) {
        List<String> out = new ArrayList<>();
        String t = s.replace("*", " * ").strip();
        if (t.contains("[") || t.contains(":") || t.contains("=")) {
            throw new UnsupportedCException(line, "arrays, bit fields and default values are not supported: " + s.strip());
        }
        for (String w : t.split("\\s+")) {
            if (!w.isEmpty()) {
                out.add(w);
            }
        }
        return out;
    }

    private static Kind kindOf(List<String> tt, List<String> handles, int line, String what) {
        int stars = 0;
        String base = null;
        for (String t : tt) {
            if (t.equals("*")) {
                stars++;
            } else if (t.equals("const")) {
                continue;
            } else if (REJECTED_WORDS.contains(t) || t.equals("struct")) {
                throw new UnsupportedCException(line, "'" + t + "' is not supported (" + what + ")");
            } else if (BASE.contains(t) || handles.contains(t)) {
                if (base != null) {
                    throw new UnsupportedCException(line, "two base types '" + base + "' and '" + t + "' (" + what + ")");
                }
                if (stars > 0) {
                    throw new UnsupportedCException(line, "'*' before the base type (" + what + ")");
                }
                base = t;
            } else {
                throw new UnsupportedCException(line, "unknown type name '" + t + "' (" + what + ")");
            }
        }
        if (base == null) {
            throw new UnsupportedCException(line, "no type (" + what + ")");
        }
        if (stars > 0 || handles.contains(base)) {
            return Kind.ADDRESS;
        }
        switch (base) {
            case "void":
                return Kind.VOID;
            case "int":
            case "int32_t":
                return Kind.INT;
            case "int64_t":
            case "size_t":
                return Kind.LONG;
            case "float":
                return Kind.FLOAT;
            case "double":
                return Kind.DOUBLE;
            default:
                throw new UnsupportedCException(line, "'" + base + "' is only supported behind a pointer (" + what + ")");
        }
    }

    private static String stripComments(String s) {
        StringBuilder out = new StringBuilder(s.length());
        int i = 0;
        while (i < s.length()) {
            if (s.startsWith("/*", i)) {
                int e = s.indexOf("*/", i + 2);
                if (e < 0) {
                    throw new UnsupportedCException(s.substring(0, i).split("\n", -1).length, "unterminated comment");
                }
                for (int k = i; k < e + 2; k++) {
                    if (s.charAt(k) == '\n') {
                        out.append('\n');   // keep line numbers
                    }
                }
                i = e + 2;
            } else if (s.startsWith("//", i)) {
                int e = s.indexOf('\n', i);
                i = e < 0 ? s.length() : e;
            } else {
                out.append(s.charAt(i++));
            }
        }
        return out.toString();
    }

    /** Java source of the bindings class. */
    public static String generate(Header h, String pkg, String cls, String sourceName) {
        StringBuilder sb = new StringBuilder();
        sb.append("// Generated by bindings-gen from ").append(sourceName).append(". Do not edit.\n");
        sb.append("package ").append(pkg).append(";\n\n");
        sb.append("import java.lang.foreign.FunctionDescriptor;\nimport java.lang.foreign.Linker;\n")
                .append("import java.lang.foreign.MemorySegment;\nimport java.lang.foreign.SymbolLookup;\n")
                .append("import java.lang.invoke.MethodHandle;\nimport java.util.List;\n\n")
                .append("import static java.lang.foreign.ValueLayout.*;\n\n");
        sb.append("/** FFM downcalls for every function of ").append(sourceName)
                .append(", bound from one {@link SymbolLookup}. */\n");
        sb.append("public final class ").append(cls).append(" {\n");
        for (Map.Entry<String, Long> c : h.constants().entrySet()) {
            long v = c.getValue();
            boolean isInt = v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE;
            sb.append("    public static final ").append(isInt ? "int " : "long ").append(c.getKey()).append(" = ")
                    .append(v).append(isInt ? "" : "L").append(";\n");
        }
        sb.append("\n    /** Every function of the header, in order. */\n    public static final List<String> FUNCTIONS = List.of(");
        for (int i = 0; i < h.functions().size(); i++) {
            sb.append(i == 0 ? "\n            \"" : ",\n            \"").append(h.functions().get(i).name()).append('"');
        }
        sb.append(");\n\n");
        for (Function f : h.functions()) {
            sb.append("    private final MethodHandle ").append(f.name()).append("$mh;\n");
        }
        sb.append("\n    /** Binds every function; a missing symbol is an {@link IllegalArgumentException} naming it. */\n");
        sb.append("    public ").append(cls).append("(SymbolLookup lookup) {\n");
        sb.append("        Linker linker = Linker.nativeLinker();\n");
        for (Function f : h.functions()) {
            sb.append("        ").append(f.name()).append("$mh = linker.downcallHandle(find(lookup, \"").append(f.name())
                    .append("\"),\n                ").append(f.descriptorSource());
            if (f.critical()) {
                sb.append(", Linker.Option.critical(true)");
            }
            sb.append(");\n");
        }
        sb.append("    }\n\n");
        sb.append("    private static MemorySegment find(SymbolLookup lookup, String name) {\n")
                .append("        return lookup.find(name).orElseThrow(() -> new IllegalArgumentException(\"symbol \" + name\n")
                .append("                + \" not found in the native library (header and library differ)\"));\n    }\n");
        for (Function f : h.functions()) {
            sb.append("\n    /** {@code ").append(f.cReturn()).append(' ').append(f.name()).append('(');
            for (int i = 0; i < f.params().size(); i++) {
                Param p = f.params().get(i);
                sb.append(i == 0 ? "" : ", ").append(p.cType()).append(' ').append(p.name());
            }
            sb.append(")}").append(f.critical() ? " (critical: may take heap segments)" : "").append(" */\n");
            sb.append("    public ").append(f.ret().javaType).append(' ').append(f.name()).append('(');
            for (int i = 0; i < f.params().size(); i++) {
                Param p = f.params().get(i);
                sb.append(i == 0 ? "" : ", ").append(p.kind().javaType).append(' ').append(javaName(p.name()));
            }
            sb.append(") {\n        try {\n            ");
            if (f.ret() != Kind.VOID) {
                sb.append("return (").append(f.ret().javaType).append(") ");
            }
            sb.append(f.name()).append("$mh.invokeExact(");
            for (int i = 0; i < f.params().size(); i++) {
                sb.append(i == 0 ? "" : ", ").append(javaName(f.params().get(i).name()));
            }
            sb.append(");\n        } catch (RuntimeException | Error e) {\n            throw e;\n")
                    .append("        } catch (Throwable t) {\n            throw new IllegalStateException(\"")
                    .append(f.name()).append(" failed\", t);\n        }\n    }\n");
        }
        sb.append("}\n");
        return sb.toString();
    }

    private static final Set<String> JAVA_KEYWORDS = Set.of("abstract", "assert", "boolean", "break", "byte", "case",
            "catch", "char", "class", "const", "continue", "default", "do", "double", "else", "enum", "extends", "final",
            "finally", "float", "for", "goto", "if", "implements", "import", "instanceof", "int", "interface", "long",
            "native", "new", "package", "private", "protected", "public", "return", "short", "static", "strictfp",
            "super", "switch", "synchronized", "this", "throw", "throws", "transient", "try", "void", "volatile",
            "while", "var", "record", "yield");

    private static String javaName(String c) {
        return JAVA_KEYWORDS.contains(c) ? c + "_" : c;
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 4) {
            System.err.println("usage: BindingsGen <header> <output dir> <package> <class name>");
            System.exit(2);
        }
        Path header = Path.of(args[0]);
        Header h;
        try {
            h = parse(Files.readString(header, StandardCharsets.UTF_8));
        } catch (UnsupportedCException e) {
            System.err.println("bindings-gen: " + header + ": " + e.getMessage());
            System.exit(1);
            return;
        }
        String src = generate(h, args[2], args[3], header.getFileName().toString());
        Path out = Path.of(args[1]).resolve(args[2].replace('.', '/')).resolve(args[3] + ".java");
        Files.createDirectories(out.getParent());
        if (!Files.exists(out) || !Files.readString(out, StandardCharsets.UTF_8).equals(src)) {
            Files.writeString(out, src, StandardCharsets.UTF_8);
        }
        System.out.println("bindings-gen: " + h.functions().size() + " functions, " + h.constants().size()
                + " constants, " + h.handles().size() + " handles -> " + out);
    }
}
