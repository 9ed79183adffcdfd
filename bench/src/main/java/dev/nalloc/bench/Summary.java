package dev.nalloc.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * Post-processing of JMH's JSON results ({@code -rf json}): a Markdown table of benchmark, size,
 * threads, ns/op (± the 99.9 % error JMH reports) and the ratio to {@code unsafe}
 * ({@code Unsafe.allocateMemory} + {@code freeMemory}) of the same size and thread count from the
 * same file, one column pair per file.
 *
 * <pre>java -cp bench/target/benchmarks.jar dev.nalloc.bench.Summary "JDK 17=bench/target/jmh/jdk17.json" "JDK 25=bench/target/jmh/jdk25.json"</pre>
 *
 * Uses nothing beyond the JDK (a minimal JSON reader is included).
 */
public final class Summary {
    private static final String BASELINE = "unsafe";
    /** Row order; benchmarks not listed follow, alphabetically. */
    private static final List<String> ORDER = Arrays.asList("unsafe", "libcMalloc", "smmallocFast", "smmallocCache",
            "smmallocNoCache", "tlsfHeap", "sharedTlsfHeap", "jemallocLwjgl", "rpmallocLwjgl", "nettyPooled", "debugAllocator", "debugAllocatorStacks",
            "systemAllocator", "blockPool", "concurrentBlockPool", "arenaBump", "smmallocFastView", "smmallocView", "allocateDirect",
            "allocateDirectFree", "arenaConfined", "lifoFloor", "lifoFloorCas");

    private Summary() {}

    public static void main(String[] args) throws IOException {
        if (args.length == 0) {
            System.err.println("usage: Summary [label=]results.json ...");
            System.exit(2);
        }
        List<String> labels = new ArrayList<>();
        List<Map<Key, double[]>> runs = new ArrayList<>();
        List<String> jvms = new ArrayList<>();
        TreeSet<Key> keys = new TreeSet<>();
        for (String arg : args) {
            int eq = arg.indexOf('=');
            String label = eq > 0 ? arg.substring(0, eq) : arg;
            Path file = Path.of(eq > 0 ? arg.substring(eq + 1) : arg);
            Object json = new Json(Files.readString(file, StandardCharsets.UTF_8)).value();
            Map<Key, double[]> scores = new LinkedHashMap<>();
            String jvm = "";
            for (Object o : (List<?>) json) {
                Map<?, ?> r = (Map<?, ?>) o;
                String name = (String) r.get("benchmark");
                Map<?, ?> params = (Map<?, ?>) r.get("params");
                Map<?, ?> metric = (Map<?, ?>) r.get("primaryMetric");
                int size = params == null || params.get("size") == null ? 0 : Integer.parseInt((String) params.get("size"));
                int threads = ((Number) r.get("threads")).intValue();
                Key key = new Key(name.substring(name.lastIndexOf('.') + 1), size, threads);
                double unitScale = nanosPerUnit((String) metric.get("scoreUnit"));
                scores.put(key, new double[] {number(metric.get("score")) * unitScale,
                        number(metric.get("scoreError")) * unitScale});
                keys.add(key);
                jvm = r.get("jdkVersion") + " " + r.get("vmName") + " " + r.get("vmVersion") + "; "
                        + text(r.get("forks")) + " fork(s) x " + text(r.get("measurementIterations")) + " x "
                        + r.get("measurementTime") + " measured after " + text(r.get("warmupIterations")) + " x "
                        + r.get("warmupTime") + " warmup";
            }
            labels.add(label);
            runs.add(scores);
            jvms.add(jvm);
        }
        print(System.out, labels, runs, jvms, keys);
    }

    private static void print(PrintStream out, List<String> labels, List<Map<Key, double[]>> runs,
            List<String> jvms, TreeSet<Key> keys) {
        for (int i = 0; i < labels.size(); i++) {
            out.println(labels.get(i) + ": " + jvms.get(i));
        }
        out.println("ns/op is per thread (average time of one malloc+free pair on one thread; with 2 threads both"
                + " run at once). x unsafe = ns/op / ns/op of Unsafe.allocateMemory+freeMemory, same size,"
                + " threads and run.");
        out.println();
        List<String[]> rows = new ArrayList<>();
        List<String> head = new ArrayList<>(List.of("benchmark", "size", "threads"));
        for (String label : labels) {
            head.add(label + " ns/op");
            head.add(label + " x unsafe");
        }
        rows.add(head.toArray(new String[0]));
        for (Key k : keys) {
            List<String> row = new ArrayList<>(List.of(k.benchmark, Integer.toString(k.size), Integer.toString(k.threads)));
            for (Map<Key, double[]> scores : runs) {
                double[] s = scores.get(k);
                double[] base = scores.get(new Key(BASELINE, k.size, k.threads));
                row.add(s == null ? "-" : format(s[0]) + (Double.isNaN(s[1]) ? "" : " ± " + format(s[1])));
                row.add(s == null || base == null ? "-" : String.format(Locale.ROOT, "%.2f", s[0] / base[0]));
            }
            rows.add(row.toArray(new String[0]));
        }
        int[] width = new int[rows.get(0).length];
        for (String[] r : rows) {
            for (int c = 0; c < r.length; c++) {
                width[c] = Math.max(width[c], r[c].length());
            }
        }
        for (int i = 0; i < rows.size(); i++) {
            StringBuilder line = new StringBuilder("|");
            for (int c = 0; c < width.length; c++) {
                String cell = rows.get(i)[c];
                String pad = " ".repeat(width[c] - cell.length());
                line.append(' ').append(c == 0 ? cell + pad : pad + cell).append(" |");
            }
            out.println(line);
            if (i == 0) {
                StringBuilder rule = new StringBuilder("|");
                for (int c = 0; c < width.length; c++) {
                    rule.append(c == 0 ? ":" : "-").append("-".repeat(width[c])).append(c == 0 ? "-|" : ":|");
                }
                out.println(rule);
            }
        }
    }

    private static String format(double ns) {
        return String.format(Locale.ROOT, ns >= 100 ? "%.0f" : ns >= 10 ? "%.1f" : "%.2f", ns);
    }

    private static String text(Object o) {
        return o instanceof Double && (Double) o == Math.rint((Double) o) ? Long.toString(((Double) o).longValue())
                : String.valueOf(o);
    }

    private static double number(Object o) {
        return o instanceof Number ? ((Number) o).doubleValue() : Double.NaN; // JMH writes "NaN" as a string
    }

    private static double nanosPerUnit(String unit) {
        switch (unit) {
            case "ns/op": return 1;
            case "us/op": return 1e3;
            case "ms/op": return 1e6;
            case "s/op": return 1e9;
            default: throw new IllegalArgumentException("unsupported score unit " + unit + " (run in -bm avgt)");
        }
    }

    private static final class Key implements Comparable<Key> {
        final String benchmark;
        final int size;
        final int threads;

        Key(String benchmark, int size, int threads) {
            this.benchmark = benchmark;
            this.size = size;
            this.threads = threads;
        }

        private int rank() {
            int i = ORDER.indexOf(benchmark);
            return i < 0 ? ORDER.size() : i;
        }

        @Override
        public int compareTo(Key o) {
            int c = Integer.compare(threads, o.threads);
            if (c == 0) c = Integer.compare(rank(), o.rank());
            if (c == 0) c = benchmark.compareTo(o.benchmark);
            if (c == 0) c = Integer.compare(size, o.size);
            return c;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key && compareTo((Key) o) == 0;
        }

        @Override
        public int hashCode() {
            return (benchmark.hashCode() * 31 + size) * 31 + threads;
        }
    }

    /** Just enough JSON for JMH's result files: objects, arrays, strings, numbers, literals. */
    private static final class Json {
        private final String s;
        private int i;

        Json(String s) {
            this.s = s;
        }

        Object value() {
            skip();
            char c = s.charAt(i);
            switch (c) {
                case '{': {
                    Map<String, Object> m = new LinkedHashMap<>();
                    i++;
                    skip();
                    if (s.charAt(i) == '}') { i++; return m; }
                    while (true) {
                        skip();
                        String k = string();
                        skip();
                        expect(':');
                        m.put(k, value());
                        skip();
                        if (s.charAt(i++) == '}') return m;
                    }
                }
                case '[': {
                    List<Object> l = new ArrayList<>();
                    i++;
                    skip();
                    if (s.charAt(i) == ']') { i++; return l; }
                    while (true) {
                        l.add(value());
                        skip();
                        if (s.charAt(i++) == ']') return l;
                    }
                }
                case '"':
                    return string();
                default:
                    int start = i;
                    while (i < s.length() && ",}] \t\r\n".indexOf(s.charAt(i)) < 0) i++;
                    String t = s.substring(start, i);
                    switch (t) {
                        case "true": return Boolean.TRUE;
                        case "false": return Boolean.FALSE;
                        case "null": return null;
                        default: return Double.parseDouble(t);
                    }
            }
        }

        private String string() {
            expect('"');
            StringBuilder b = new StringBuilder();
            while (true) {
                char c = s.charAt(i++);
                if (c == '"') return b.toString();
                if (c == '\\') {
                    char e = s.charAt(i++);
                    switch (e) {
                        case 'n': b.append('\n'); break;
                        case 't': b.append('\t'); break;
                        case 'r': b.append('\r'); break;
                        case 'b': b.append('\b'); break;
                        case 'f': b.append('\f'); break;
                        case 'u': b.append((char) Integer.parseInt(s.substring(i, i + 4), 16)); i += 4; break;
                        default: b.append(e);
                    }
                } else {
                    b.append(c);
                }
            }
        }

        private void expect(char c) {
            if (s.charAt(i) != c) throw new IllegalArgumentException("expected '" + c + "' at " + i);
            i++;
        }

        private void skip() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) i++;
        }
    }
}
