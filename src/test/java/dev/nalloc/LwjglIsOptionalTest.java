package dev.nalloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
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
        Path classes = Paths.get(NativeAllocator.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        assertTrue(Files.isDirectory(classes), "tests run against target/classes: " + classes);
        Path adapter = classes.resolve("dev/nalloc/lwjgl");
        List<Path> all;
        try (Stream<Path> walk = Files.walk(classes)) {
            all = walk.filter(p -> p.toString().endsWith(".class")).collect(Collectors.toList());
        }
        List<String> offenders = all.stream()
                .filter(p -> !p.startsWith(adapter))
                .filter(LwjglIsOptionalTest::mentionsLwjgl)
                .map(p -> classes.relativize(p).toString())
                .collect(Collectors.toList());
        assertEquals(List.of(), offenders, "classes outside dev.nalloc.lwjgl that reference LWJGL");
        // the search does find references where they exist (or this test could never fail)
        assertTrue(mentionsLwjgl(adapter.resolve("NallocLwjglAllocator.class")), "the adapter names LWJGL");
    }

    private static boolean mentionsLwjgl(Path classFile) {
        try {
            return new String(Files.readAllBytes(classFile), StandardCharsets.ISO_8859_1).contains(LWJGL);
        } catch (IOException e) {
            throw new IllegalStateException(classFile.toString(), e);
        }
    }
}
