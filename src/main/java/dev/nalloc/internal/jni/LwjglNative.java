package dev.nalloc.internal.jni;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.NoException;
import org.bytedeco.javacpp.annotation.Properties;

/**
 * JNI bindings of {@code nalloc_lwjgl.h}: the process-global allocator behind the C entry points
 * that {@code dev.nalloc.lwjgl.NallocLwjglAllocator} hands to LWJGL, and those entry points'
 * addresses.
 *
 * <p>This class names no LWJGL type, so the library builds and loads without LWJGL; only
 * {@code dev.nalloc.lwjgl} depends on it. Addresses and handles are plain {@code long}s, every
 * method is {@link NoException}, nothing is checked on the Java side.
 */
@Properties(inherit = NallocLibrary.class)
@NoException
public final class LwjglNative {
    static {
        Loader.load();
    }

    private LwjglNative() {}

    // Indices of nalloc_lwjgl_function (NativeConstantsTest checks them against the header).
    public static final int NALLOC_LWJGL_MALLOC = 0;
    public static final int NALLOC_LWJGL_CALLOC = 1;
    public static final int NALLOC_LWJGL_REALLOC = 2;
    public static final int NALLOC_LWJGL_FREE = 3;
    public static final int NALLOC_LWJGL_ALIGNED_ALLOC = 4;
    public static final int NALLOC_LWJGL_ALIGNED_FREE = 5;

    /**
     * Makes {@code allocator} the one the C entry points use, unless another was installed
     * first: 1 when {@code allocator} is installed (now or already), 0 otherwise.
     */
    public static native int nalloc_lwjgl_install(@Cast("sm_allocator") long allocator);

    /** The installed allocator, 0 before {@link #nalloc_lwjgl_install}. */
    public static native @Cast("sm_allocator") long nalloc_lwjgl_allocator();

    /** Address of the C entry point {@code which} (NALLOC_LWJGL_*), 0 for an unknown index. */
    public static native long nalloc_lwjgl_function(int which);

    /**
     * The calloc entry point called directly: a zeroed block of {@code num * size} bytes from the
     * installed allocator, or 0 when the product overflows {@code size_t}, memory is exhausted or
     * nothing is installed. Negative arguments read as huge unsigned sizes and so give 0.
     */
    public static native @Cast("void*") long nalloc_lwjgl_calloc(@Cast("size_t") long num, @Cast("size_t") long size);
}
