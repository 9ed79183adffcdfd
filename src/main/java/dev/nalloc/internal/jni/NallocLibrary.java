package dev.nalloc.internal.jni;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Platform;
import org.bytedeco.javacpp.annotation.Properties;

/**
 * Shared JavaCPP configuration of the nalloc JNI library, in the role a javacpp-presets
 * {@code presets} class plays (here without a parser: the binding classes are hand-written).
 *
 * <p>Every binding class ({@link TlsfNative}, {@link SmmallocNative}, {@link SystemNative}, {@link LwjglNative}) inherits these properties,
 * so JavaCPP's Builder compiles them all into one library, {@code libjninalloc}, which links
 * the static C core ({@code libnalloc_core.a}, built by CMake) and is packaged as the classpath
 * resource {@code dev/nalloc/internal/jni/<platform>/libjninalloc.so} of the
 * {@code nalloc-<version>-<platform>.jar}. {@link Loader#load()} in each binding class's static
 * initializer extracts and loads it from the classpath: no {@code LD_LIBRARY_PATH} or
 * {@code java.library.path} is involved. The same library exports the {@code nalloc_ffm_*}
 * functions of {@code nalloc_exports.h}, which the JDK 22+ doors of
 * {@code dev.nalloc.internal.door} call through FFM downcall handles after {@link #load()}.
 *
 * <p>JavaCPP compiles its own natives (those of {@code org.bytedeco.javacpp.Pointer} and
 * friends, normally in {@code libjnijavacpp} of javacpp's platform jar) into
 * {@code libjninalloc} as well, so javacpp's plain jar suffices. The flip side: without
 * javacpp's platform jar, {@code Pointer.malloc} and the like work only after this library is
 * loaded; call {@link #load()} (or touch a binding class) first.
 */
@Properties(value = @Platform(
        include = {"tlsf.h", "nalloc_gate.h", "nalloc_jni.h", "nalloc_sm_gated.h", "nalloc_java.h", "nalloc_lwjgl.h", "nalloc_exports.h"},
        link = "nalloc_core",
        library = NallocLibrary.LIBRARY))
public final class NallocLibrary {

    /** JavaCPP library name; the file is {@code lib} + this + {@code .so} on Linux. */
    public static final String LIBRARY = "jninalloc";

    private NallocLibrary() {}

    /**
     * Loads the native library (idempotent, thread-safe) and returns the path of the
     * loaded file, as {@link Loader#load(Class)} does.
     *
     * @throws UnsatisfiedLinkError if no library for {@link Loader#getPlatform()} is on the classpath
     */
    public static String load() {
        return Loader.load(NallocLibrary.class);
    }
}
