package dev.nalloc.internal.jni;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import org.bytedeco.javacpp.Loader;
import org.junit.jupiter.api.Test;

class NallocLibraryTest {

    @Test
    void loadsTheLibraryFromTheClasspath() {
        String path = NallocLibrary.load();
        assertNotNull(path, "Loader.load returned no path");
        File file = new File(path);
        assertTrue(file.isFile(), "loaded library file exists: " + path);
        assertEquals("lib" + NallocLibrary.LIBRARY + ".so", file.getName());
        // Loaded from the classpath resource folder, i.e. .../dev/nalloc/internal/jni/<platform>/
        assertEquals(Loader.getPlatform(), file.getParentFile().getName());
        assertTrue(file.getParentFile().getPath().replace(File.separatorChar, '/')
                .endsWith("dev/nalloc/internal/jni/" + Loader.getPlatform()), path);
        assertEquals(path, NallocLibrary.load(), "loading again is a no-op");
    }

    @Test
    void buildPlatformMatchesRuntimePlatform() {
        // The pom's ${javacpp.platform} (classifier and resource folder) must be the name that
        // Loader.getPlatform() computes at run time, or Loader.load() would look elsewhere.
        String buildPlatform = System.getProperty("nalloc.javacpp.platform");
        assertNotNull(buildPlatform, "surefire passes nalloc.javacpp.platform");
        assertEquals(Loader.getPlatform(), buildPlatform);
    }

    @Test
    void bindingClassesInitialise() {
        // Touching each binding class runs its static Loader.load().
        assertEquals(16, TlsfNative.tlsf_align_size());
        assertTrue(TlsfNative.tlsf_size() > 0);
        assertEquals(0, SmmallocNative.sm_bucket_count(0));
    }
}
