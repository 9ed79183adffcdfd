package dev.nalloc.internal.door;

import dev.nalloc.internal.jni.LwjglNative;
import dev.nalloc.internal.jni.SmmallocNative;

/**
 * The LWJGL adapter's own native calls ({@code nalloc_lwjgl.h}): on the process-global allocator,
 * which is never closed and so needs no gate. This version binds through JNI.
 */
public final class LwjglDoor {
    private LwjglDoor() {}

    /** {@code sm_malloc(allocator, bytes, alignment)}: a block, or 0. */
    public static long alignedAlloc(long allocator, long bytes, long alignment) {
        return SmmallocNative.sm_malloc(allocator, bytes, alignment);
    }

    /** The calloc entry point: a zeroed block of {@code num * size} bytes, or 0 (also on overflow). */
    public static long calloc(long num, long size) {
        return LwjglNative.nalloc_lwjgl_calloc(num, size);
    }
}
