package dev.nalloc.internal.door;

import dev.nalloc.internal.jni.NallocLibrary;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Which binding the doors of this package use, and the FFM plumbing they share (JDK 22+ version).
 *
 * <p>The library is loaded once, by JavaCPP: {@link NallocLibrary#load()} extracts
 * {@code libjninalloc} from the platform jar and loads it (the JNI binding needs it anyway), and
 * returns the loaded file's path; {@link SymbolLookup#libraryLookup(Path, Arena)} on that path
 * finds the library already in the process (the system's loader hands back the same handle), and
 * the doors look their {@code nalloc_ffm_*} functions up in it ({@code nalloc_exports.h}).
 *
 * <p>The FFM binding is used unless the system property {@value #PROPERTY} is {@code jni}, or the
 * JDK is 22 or 23 and native access is not enabled ({@code --enable-native-access}: there the JDK
 * warns about FFM downcalls, not about JNI), or the library cannot be linked (then
 * {@link #status()} says why and the doors use JNI). On JDK 24+ JNI libraries need the flag too.
 */
@SuppressWarnings("restricted") // libraryLookup, downcallHandle: the library is nalloc's own (see the class notes)
public final class Binding {
    /** The system property that chooses the binding: {@code ffm} (default) or {@code jni}. */
    public static final String PROPERTY = "dev.nalloc.binding";

    /** {@code NALLOC_FFM_ABI} of {@code nalloc_exports.h}: the signatures this version calls. */
    private static final int ABI = 1;

    /**
     * Above this many bytes a call that copies or clears a block (realloc, calloc) takes the plain
     * downcall: a critical one holds up safepoints for as long as it runs, and clearing or copying
     * a large block takes long (a gibibyte: tens of milliseconds). Below it the work is well under
     * a microsecond.
     */
    static final long CRITICAL_COPY_MAX = 64 * 1024;

    /** Whether the doors use downcall handles; a constant for the JIT. */
    static final boolean FFM;
    private static final SymbolLookup LOOKUP;
    private static final String STATUS;

    static {
        String path = NallocLibrary.load();
        String requested = System.getProperty(PROPERTY, "ffm");
        SymbolLookup lookup = null;
        String status;
        int feature = Runtime.version().feature();
        if (requested.equalsIgnoreCase("jni")) {
            status = "jni (" + PROPERTY + "=" + requested + ")";
        } else if (feature < 24 && !Binding.class.getModule().isNativeAccessEnabled()) {
            // JDK 22 and 23 warn about restricted FFM methods but not about JNI libraries: a
            // library must not add a warning its users did not ask for
            status = "jni (JDK " + feature + " without --enable-native-access, where the FFM binding"
                    + " would make the JDK print a warning)";
        } else {
            try {
                lookup = path != null ? SymbolLookup.libraryLookup(Path.of(path), Arena.global())
                        : SymbolLookup.loaderLookup();
                Optional<MemorySegment> abi = lookup.find("nalloc_ffm_abi");
                if (abi.isEmpty()) {
                    throw new UnsatisfiedLinkError("nalloc_ffm_abi not found in " + path);
                }
                int found = (int) Linker.nativeLinker()
                        .downcallHandle(abi.get(), FunctionDescriptor.of(ValueLayout.JAVA_INT))
                        .invokeExact();
                if (found != ABI) {
                    throw new UnsatisfiedLinkError("library " + path + " has FFM ABI " + found + ", expected " + ABI);
                }
                status = "ffm (java.lang.foreign downcalls into " + path + ")";
            } catch (Throwable e) {
                // a library of another version, or native access denied: JNI still works (or fails
                // on its own terms), so the doors fall back to it rather than fail to initialise
                lookup = null;
                status = "jni (the FFM binding failed: " + e + ")";
            }
        }
        LOOKUP = lookup;
        FFM = lookup != null;
        STATUS = status;
    }

    private Binding() {}

    /**
     * The binding in use.
     *
     * @return {@code "ffm"} or {@code "jni"}
     */
    public static String kind() {
        return FFM ? "ffm" : "jni";
    }

    /**
     * The binding in use and why, for diagnostics.
     *
     * @return a one-line description
     */
    public static String status() {
        return STATUS;
    }

    /**
     * A downcall handle for {@code nalloc_exports.h}'s {@code name}, or null when the doors use JNI.
     * {@code critical}: {@code Linker.Option.critical(false)}, for calls that neither block for
     * long nor call back into Java (no thread-state transition).
     */
    static MethodHandle downcall(String name, boolean critical, MemoryLayout result, MemoryLayout... arguments) {
        if (!FFM) {
            return null;
        }
        FunctionDescriptor descriptor = result == null ? FunctionDescriptor.ofVoid(arguments)
                : FunctionDescriptor.of(result, arguments);
        MemorySegment symbol = LOOKUP.find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError(name + " not found in libjninalloc (FFM ABI " + ABI + ")"));
        return critical ? Linker.nativeLinker().downcallHandle(symbol, descriptor, Linker.Option.critical(false))
                : Linker.nativeLinker().downcallHandle(symbol, descriptor);
    }

    /** What a downcall threw, unchecked: a downcall itself throws no checked exception. */
    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new IllegalStateException(t);
    }
}
