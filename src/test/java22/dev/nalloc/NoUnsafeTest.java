package dev.nalloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * On JDK 22+ the library reaches no {@code sun.misc.Unsafe} memory method and needs only
 * {@code --enable-native-access}: {@link NoUnsafeScenario} runs every public class in a JVM of
 * this JDK that denies Unsafe memory access (the methods throw) with the flag the README gives,
 * on this run's class path (the packaged multi-release jar, so the META-INF/versions/22 classes).
 * The run must succeed, with the fast path on, and print no warning on standard error: JDK 24+
 * warns there for Unsafe memory access (JEP 498) and for native access without the flag
 * (JEP 472), and JDK 22+ for a restricted FFM method called without it.
 */
class NoUnsafeTest {

    record Run(int exitCode, String stdout, String stderr) {}

    static Run run(Path dir, List<String> options, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(options);
        command.add("-cp");
        command.add(System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")));
        String cache = System.getProperty("org.bytedeco.javacpp.cachedir");
        if (cache != null) {
            command.add("-Dorg.bytedeco.javacpp.cachedir=" + cache);
        }
        command.add(NoUnsafeScenario.class.getName());
        command.addAll(List.of(args));
        Path out = dir.resolve("stdout.txt");
        Path err = dir.resolve("stderr.txt");
        Process process = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        process.getOutputStream().close();
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
            throw new AssertionError("the scenario did not end within 120 s:\n" + Files.readString(out)
                    + Files.readString(err));
        }
        return new Run(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8));
    }

    @Test
    void everyClassRunsWithUnsafeMemoryAccessDeniedAndPrintsNoWarning(@TempDir Path dir) throws Exception {
        assertTrue(Runtime.version().feature() >= 22, "a JDK 22+ run");
        Run run = run(dir, List.of("--sun-misc-unsafe-memory-access=deny", "--enable-native-access=ALL-UNNAMED"));
        String all = "exit " + run.exitCode() + "\n--- stdout\n" + run.stdout() + "--- stderr\n" + run.stderr();
        assertEquals(0, run.exitCode(), all);
        List<String> lines = run.stdout().strip().lines().toList();
        assertEquals("ALL OK", lines.get(lines.size() - 1), all);
        assertTrue(run.stdout().contains("fast path on") && run.stdout().contains("FFM MemorySegment"), all);
        assertEquals(List.of(), run.stderr().lines().filter(l -> l.contains("WARNING")).toList(), all);
    }

    @Test
    void noClassThatAJdk22LoadsNamesUnsafe() throws Exception {
        // the static half: paths the scenario does not take. A class file names every class it
        // uses in its constant pool (sun/misc/Unsafe), so a byte search is exact enough; a JDK 22+
        // loads META-INF/versions/22/X instead of X where both exist.
        Path jar = Paths.get(NativeAllocator.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        assertTrue(Files.isRegularFile(jar), "tests run against the packaged jar: " + jar);
        Map<String, byte[]> seen = new TreeMap<>();
        try (JarFile file = new JarFile(jar.toFile())) {
            for (JarEntry e : Collections.list(file.entries())) {
                String name = e.getName();
                if (name.endsWith(".class") && !name.startsWith("META-INF/versions/")) {
                    seen.putIfAbsent(name, file.getInputStream(e).readAllBytes());
                } else if (name.endsWith(".class") && name.startsWith(VERSIONED)) {
                    seen.put(name.substring(VERSIONED.length()), file.getInputStream(e).readAllBytes());
                }
            }
            assertTrue(file.getEntry(VERSIONED + "dev/nalloc/internal/RawMemory.class") != null, "the JDK 22+ RawMemory");
            // the base RawMemory does name it (or this search could never find anything)
            assertTrue(names(file.getInputStream(file.getEntry("dev/nalloc/internal/RawMemory.class")).readAllBytes()));
        }
        List<String> offenders = seen.entrySet().stream().filter(e -> names(e.getValue())).map(Map.Entry::getKey).toList();
        assertEquals(List.of(), offenders, "classes a JDK 22+ loads from " + jar + " that name sun.misc.Unsafe");
    }

    private static final String VERSIONED = "META-INF/versions/22/";

    private static boolean names(byte[] classFile) {
        return new String(classFile, StandardCharsets.ISO_8859_1).contains("sun/misc/Unsafe");
    }

    @Test
    void theFastPathIsOffWhereNativeAccessIsDeniedAndSaysWhy(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(Runtime.version().feature() >= 24, "--illegal-native-access: JDK 24+");
        Run run = run(dir, List.of("--illegal-native-access=deny"), "status");
        assertEquals(0, run.exitCode(), run.stdout() + run.stderr());
        assertTrue(run.stdout().startsWith("fast path false, views in Java false: off (MemorySegment.reinterpret refused: "
                + "java.lang.IllegalCallerException"), run.stdout());
        Run on = run(dir, List.of("--enable-native-access=ALL-UNNAMED"), "status");
        assertEquals("fast path true, views in Java true: on (FFM MemorySegment)", on.stdout().strip(), on.stdout() + on.stderr());
        Run off = run(dir, List.of("--enable-native-access=ALL-UNNAMED", "-Ddev.nalloc.fastPath=false"), "status");
        assertEquals("fast path false, views in Java false: off (dev.nalloc.fastPath=false)", off.stdout().strip(),
                off.stdout() + off.stderr());
    }

    @Test
    void theWarningCheckSeesTheJdksWarnings(@TempDir Path dir) throws Exception {
        // without the flag, the restricted FFM method (and on JDK 24+ JNI's loadLibrary) warns:
        // the same scenario, the same check, must see it, or the test above could never fail
        Run run = run(dir, List.of("--sun-misc-unsafe-memory-access=deny"));
        assertEquals(0, run.exitCode(), run.stdout() + run.stderr());
        assertTrue(run.stderr().lines().anyMatch(l -> l.contains("WARNING")), run.stderr());
    }
}
