package dev.nalloc.internal.door;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.nalloc.internal.jni.LwjglNative;
import dev.nalloc.internal.jni.SmmallocNative;
import java.lang.invoke.MethodHandle;

/**
 * The LWJGL adapter's own native calls ({@code nalloc_lwjgl.h}): on the process-global allocator,
 * which is never closed and so needs no gate. JDK 22+ version: critical downcalls (allocation
 * work; a calloc of a large block, which clears it, takes a plain one), or JNI when
 * {@link Binding#kind()} says so.
 */
public final class LwjglDoor {
    private LwjglDoor() {}

    private static final boolean FFM = Binding.FFM;
    private static final MethodHandle ALIGNED_ALLOC = Binding.downcall("nalloc_ffm_lwjgl_aligned_alloc", true, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG);
    private static final MethodHandle CALLOC = Binding.downcall("nalloc_ffm_lwjgl_calloc", true, JAVA_LONG, JAVA_LONG, JAVA_LONG);
    /** For blocks above {@link Binding#CRITICAL_COPY_MAX} bytes: clearing them takes long. */
    private static final MethodHandle CALLOC_LARGE = Binding.downcall("nalloc_ffm_lwjgl_calloc", false, JAVA_LONG, JAVA_LONG, JAVA_LONG);

    /** {@code sm_malloc(allocator, bytes, alignment)}: a block, or 0. */
    public static long alignedAlloc(long allocator, long bytes, long alignment) {
        if (!FFM) {
            return SmmallocNative.sm_malloc(allocator, bytes, alignment);
        }
        try {
            return (long) ALIGNED_ALLOC.invokeExact(allocator, bytes, alignment);
        } catch (Throwable t) {
            throw Binding.rethrow(t);
        }
    }

    /** The calloc entry point: a zeroed block of {@code num * size} bytes, or 0 (also on overflow). */
    public static long calloc(long num, long size) {
        if (!FFM) {
            return LwjglNative.nalloc_lwjgl_calloc(num, size);
        }
        try {
            // unsigned, as size_t: a negative count or size is huge (the C side refuses it), and
            // a product that overflows is refused there too, whichever handle runs
            boolean small = Long.compareUnsigned(num, Binding.CRITICAL_COPY_MAX) <= 0
                    && Long.compareUnsigned(size, Binding.CRITICAL_COPY_MAX) <= 0
                    && num * size <= Binding.CRITICAL_COPY_MAX;
            return small ? (long) CALLOC.invokeExact(num, size) : (long) CALLOC_LARGE.invokeExact(num, size);
        } catch (Throwable t) {
            throw Binding.rethrow(t);
        }
    }
}
