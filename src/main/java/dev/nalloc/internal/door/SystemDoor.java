package dev.nalloc.internal.door;

import dev.nalloc.internal.jni.SystemNative;

/** Aligned memory from the system allocator ({@code nalloc_java.h}). This version binds through JNI. */
public final class SystemDoor {
    private SystemDoor() {}

    /** {@code bytes} bytes aligned to {@code alignment} (a power of two, at least 8), or 0. */
    public static long alloc(long alignment, long bytes) {
        return SystemNative.nalloc_system_alloc(alignment, bytes);
    }

    /** Releases memory from {@link #alloc}; 0 is ignored. */
    public static void free(long address) {
        SystemNative.nalloc_system_free(address);
    }
}
