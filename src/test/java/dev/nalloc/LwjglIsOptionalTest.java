package dev.nalloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * LWJGL is a provided dependency: users who do not use the adapter must not need it at run time,
 * so no compiled class outside {@code dev.nalloc.lwjgl} may name an LWJGL type. A class file names
 * every class it refers to in its constant pool, in internal form ({@code org/lwjgl/...}), so a
 * byte search over the compiled classes is exact enough. (The packaged jars are also loaded without
 * LWJGL on the classpath by {@code LoadCheckIT}.)
 */
class LwjglIsOptionalTest {
    private static final String LWJGL = "org/lwjgl/";

    @Test
    void onlyTheAdapterPackageReferencesLwjgl() throws Exception {
        // target/classes under surefire, the packaged jar (with its META-INF/versions) under failsafe
        Path location = Paths.get(NativeAllocator.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        try (FileSystem jar = Files.isDirectory(location) ? null : FileSystems.newFileSystem(location)) {
            Path classes = jar == null ? location : jar.getPath("/");
            List<Path> all;
            try (Stream<Path> walk = Files.walk(classes)) {
                all = walk.filter(p -> p.toString().endsWith(".class")).collect(Collectors.toList());
            }
            assertTrue(all.size() > 10, "compiled classes found in " + location);
            List<String> offenders = all.stream()
                    .map(p -> classes.relativize(p).toString())
                    .filter(name -> !MULTI_RELEASE.matcher(name).replaceFirst("").startsWith("dev/nalloc/lwjgl/"))
                    .filter(name -> mentionsLwjgl(classes.resolve(name)))
                    .collect(Collectors.toList());
            assertEquals(List.of(), offenders, "classes outside dev.nalloc.lwjgl that reference LWJGL");
            // the search does find references where they exist (or this test could never fail)
            assertTrue(mentionsLwjgl(classes.resolve("dev/nalloc/lwjgl/NallocLwjglAllocator.class")), "the adapter names LWJGL");
        }
    }

    /** The prefix of a multi-release jar's versioned entries. */
    private static final Pattern MULTI_RELEASE = Pattern.compile("^META-INF/versions/[0-9]+/");

    private static boolean mentionsLwjgl(Path classFile) {
        try {
            return new String(Files.readAllBytes(classFile), StandardCharsets.ISO_8859_1).contains(LWJGL);
        } catch (IOException e) {
            throw new IllegalStateException(classFile.toString(), e);
        }
    }
}
