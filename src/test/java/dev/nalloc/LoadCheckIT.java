package dev.nalloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nalloc.internal.jni.NallocLibrary;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.bytedeco.javacpp.Loader;
import org.junit.jupiter.api.Test;

/**
 * The packaged artifacts work on their own: a fresh JVM whose classpath is exactly the main
 * jar, the platform jar and javacpp's jar (no target/classes, no LD_LIBRARY_PATH, an empty
 * java.library.path, an empty JavaCPP cache) runs {@link LoadCheck}, which must print OK.
 * Runs in failsafe's integration-test phase, after both jars are packaged.
 */
class LoadCheckIT {
    private static final String PLATFORM = Loader.getPlatform();
    private static final String LIBRARY_ENTRY =
            "dev/nalloc/internal/jni/" + PLATFORM + "/lib" + NallocLibrary.LIBRARY + ".so";

    private static Path jarProperty(String name) {
        String value = System.getProperty(name);
        assertNotNull(value, "failsafe passes " + name);
        Path jar = Paths.get(value);
        assertTrue(Files.isRegularFile(jar), name + " exists: " + jar);
        return jar;
    }

    @Test
    void jarsHaveTheJavacppLayout() throws IOException {
        try (JarFile main = new JarFile(jarProperty("nalloc.it.mainJar").toFile())) {
            assertNotNull(main.getEntry("dev/nalloc/LoadCheck.class"));
            assertEquals("dev.nalloc", main.getManifest().getMainAttributes().getValue("Automatic-Module-Name"),
                    "the jar's JPMS name");
            assertNull(main.getEntry("dev/nalloc/demo/NallocDemo.class"), "the demo is not in the library jar");
            assertFalse(main.stream().anyMatch(e -> e.getName().endsWith(".so")),
                    "the main jar holds no native library");
        }
        try (JarFile natives = new JarFile(jarProperty("nalloc.it.nativeJar").toFile())) {
            assertNotNull(natives.getEntry(LIBRARY_ENTRY), "platform jar holds " + LIBRARY_ENTRY);
            assertFalse(natives.stream().anyMatch(e -> e.getName().endsWith(".class")),
                    "the platform jar holds no classes");
        }
    }

    /**
     * The main jar is a multi-release jar whose META-INF/versions/22 holds the FFM adapter
     * when the build made it (failsafe passes nalloc.it.ffmSkipped), and a JDK before 22 (this
     * test's, in the JDK 17 build) does not see those classes.
     */
    @Test
    void mainJarIsMultiReleaseWithTheFfmAdapterForJdk22() throws Exception {
        boolean ffmSkipped = Boolean.parseBoolean(System.getProperty("nalloc.it.ffmSkipped", "true"));
        try (JarFile main = new JarFile(jarProperty("nalloc.it.mainJar").toFile())) {
            assertEquals("true", main.getManifest().getMainAttributes().getValue("Multi-Release"),
                    "Multi-Release manifest attribute");
            for (String name : List.of("NallocArena", "NallocSegmentAllocator")) {
                String entry = "META-INF/versions/22/dev/nalloc/ffm/" + name + ".class";
                if (!ffmSkipped) { // (when skipped, a build without clean may still hold older ones)
                    assertNotNull(main.getEntry(entry), entry + " in the main jar");
                }
                assertNull(main.getEntry("dev/nalloc/ffm/" + name + ".class"), "no unversioned " + name);
            }
        }
        if (Runtime.version().feature() < 22) {
            assertThrows(ClassNotFoundException.class, () -> Class.forName("dev.nalloc.ffm.NallocArena"),
                    "JDK " + Runtime.version().feature() + " does not see the JDK 22 classes");
        }
    }

    @Test
    void freshJvmLoadsFromTheClasspathOnly() throws Exception {
        Path javacppJar = Paths.get(Loader.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        assertTrue(javacppJar.toString().endsWith(".jar"), "javacpp comes from its jar: " + javacppJar);
        String classPath = Stream.of(jarProperty("nalloc.it.mainJar"), jarProperty("nalloc.it.nativeJar"), javacppJar)
                .map(Path::toString)
                .collect(Collectors.joining(File.pathSeparator));

        Path work = Paths.get(System.getProperty("nalloc.it.workDir", "target/it"));
        Path cache = work.resolve("javacpp-cache");
        Path emptyLibraryPath = work.resolve("empty-library-path");
        deleteRecursively(cache);
        Files.createDirectories(emptyLibraryPath);

        Path java = Paths.get(System.getProperty("java.home"), "bin", "java");
        List<String> command = new ArrayList<>(List.of(
                java.toString(),
                "-Djava.library.path=" + emptyLibraryPath,
                "-Dorg.bytedeco.javacpp.cachedir=" + cache,
                "-cp", classPath,
                LoadCheck.class.getName()));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().remove("LD_LIBRARY_PATH");
        builder.environment().remove("JAVA_TOOL_OPTIONS");
        builder.environment().remove("CLASSPATH");

        Process process = builder.start();
        process.getOutputStream().close();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "LoadCheck finished");
        assertEquals(0, process.exitValue(), "LoadCheck exit status, output:\n" + output);

        List<String> lines = output.lines().collect(Collectors.toList());
        assertEquals("OK", lines.get(lines.size() - 1), output);
        assertTrue(output.contains("platform " + PLATFORM), output);
        // The library was extracted from the platform jar into the (fresh) JavaCPP cache.
        Path extracted = cache.resolve(jarProperty("nalloc.it.nativeJar").getFileName().toString())
                .resolve(LIBRARY_ENTRY);
        assertTrue(Files.isRegularFile(extracted), "extracted " + extracted + "\n" + output);
        assertTrue(output.contains("library " + extracted), output);
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).collect(Collectors.toList())) {
                Files.delete(p);
            }
        }
    }
}
