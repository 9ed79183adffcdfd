package dev.nalloc.internal.door;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.nalloc.internal.jni.SystemNative;
import java.lang.invoke.MethodHandle;

/**
 * Aligned memory from the system allocator ({@code nalloc_java.h}). JDK 22+ version: critical
 * downcalls (the system allocator neither calls back nor waits on nalloc's account), or JNI when
 * {@link Binding#kind()} says so.
 */
public final class SystemDoor {
    private SystemDoor() {}

    private static final boolean FFM = Binding.FFM;
    private static final MethodHandle ALLOC = Binding.downcall("nalloc_ffm_system_alloc", true, JAVA_LONG, JAVA_LONG, JAVA_LONG);
    private static final MethodHandle FREE = Binding.downcall("nalloc_ffm_system_free", true, null, JAVA_LONG);

    /** {@code bytes} bytes aligned to {@code alignment} (a power of two, at least 8), or 0. */
    public static long alloc(long alignment, long bytes) {
        if (!FFM) {
            return SystemNative.nalloc_system_alloc(alignment, bytes);
        }
        try {
            return (long) ALLOC.invokeExact(alignment, bytes);
        } catch (Throwable t) {
            throw Binding.rethrow(t);
        }
    }

    /** Releases memory from {@link #alloc}; 0 is ignored. */
    public static void free(long address) {
        if (!FFM) {
            SystemNative.nalloc_system_free(address);
            return;
        }
        try {
            FREE.invokeExact(address);
        } catch (Throwable t) {
            throw Binding.rethrow(t);
        }
    }
}
