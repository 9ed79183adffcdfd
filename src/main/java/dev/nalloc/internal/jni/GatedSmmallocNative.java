package dev.nalloc.internal.jni;

import java.util.Objects;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.CriticalRegion;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.NoException;
import org.bytedeco.javacpp.annotation.Properties;

/**
 * JNI bindings of {@code nalloc_sm_gated.h}: the bucket allocator's calls as {@code Smmalloc}
 * makes them, each behind the allocator's gate so that {@code close()} may race them. Every
 * method takes the gate ({@code nalloc_gate*}) that {@link #nalloc_sm_open} returned, never the
 * allocator. On a shut gate a method returns 0 where the C call returns a pointer or a size, and
 * {@link #NALLOC_SM_CLOSED} where it returns a status.
 */
@Properties(inherit = NallocLibrary.class)
@NoException
public final class GatedSmmallocNative {
    static {
        Loader.load();
    }

    private GatedSmmallocNative() {}

    private static final String GATE = "nalloc_gate*";

    /** The status of a call on a shut gate (checked against the header by NativeConstantsTest). */
    public static final int NALLOC_SM_CLOSED = -100;

    /** A new allocator behind a new gate: the gate, or 0 on bad arguments or exhaustion. */
    public static native @Cast(GATE) long nalloc_sm_open(@Cast("size_t") long bucketCount, @Cast("size_t") long bucketSizeBytes);

    /** Shuts the gate, waits for the calls inside and destroys the allocator. Once only. */
    public static native void nalloc_sm_close(@Cast(GATE) long gate);

    /** The {@code sm_allocator} behind the gate, for nalloc's own C entry points. */
    public static native @Cast("sm_allocator") long nalloc_sm_allocator(@Cast(GATE) long gate);

    public static native @Cast("void*") long nalloc_sm_malloc(@Cast(GATE) long gate, @Cast("size_t") long bytes, @Cast("size_t") long alignment);

    /** {@code sm_free_checked}'s result, or {@link #NALLOC_SM_CLOSED}. */
    public static native int nalloc_sm_free(@Cast(GATE) long gate, @Cast("void*") long ptr);

    public static native @Cast("void*") long nalloc_sm_realloc(@Cast(GATE) long gate, @Cast("void*") long ptr, @Cast("size_t") long bytes, @Cast("size_t") long alignment);

    public static native @Cast("size_t") long nalloc_sm_msize(@Cast(GATE) long gate, @Cast("void*") long ptr);

    /** The bucket, -1 for no live bucket block, or {@link #NALLOC_SM_CLOSED}. */
    public static native int nalloc_sm_mbucket(@Cast(GATE) long gate, @Cast("void*") long ptr);

    /** 1 or 0 as {@code sm_owns}, or {@link #NALLOC_SM_CLOSED}. */
    public static native int nalloc_sm_owns(@Cast(GATE) long gate, @Cast("void*") long ptr);

    /** 1, or {@link #NALLOC_SM_CLOSED}. */
    public static native int nalloc_sm_thread_cache_create(@Cast(GATE) long gate, int warmup, @Cast("size_t") long cacheBytesPerBucket);

    /** 1, or {@link #NALLOC_SM_CLOSED}. */
    public static native int nalloc_sm_thread_cache_destroy(@Cast(GATE) long gate);

    /** 1 or 0, or {@link #NALLOC_SM_CLOSED}. */
    public static native int nalloc_sm_thread_cache_exists(@Cast(GATE) long gate);

    /** Broken invariants (0: consistent), walked with the gate held; or {@link #NALLOC_SM_CLOSED}. */
    public static native int nalloc_sm_check(@Cast(GATE) long gate);

    /**
     * Frees the valid pointers of {@code ptrs[0..count)}, sets each freed entry to 0 and returns
     * how many were refused; -1 when closed (nothing freed). The array is pinned, not copied.
     */
    public static long nalloc_sm_free_batch(long gate, long[] ptrs, int count) {
        Objects.checkFromIndexSize(0, count, ptrs.length);
        return freeBatch(gate, ptrs, count);
    }

    @CriticalRegion
    @Name("nalloc_sm_free_batch")
    private static native long freeBatch(@Cast(GATE) long gate, @Cast("jlong*") long[] ptrs, long count);

    /** {@code sm_thread_cache_layout} into {@code out}; 0 when there is no cache or the gate is shut. */
    public static int nalloc_sm_thread_cache_layout(long gate, long[] out) {
        return (int) threadCacheLayout(gate, out, out.length);
    }

    @CriticalRegion
    @Name("nalloc_sm_thread_cache_layout")
    private static native long threadCacheLayout(@Cast(GATE) long gate, @Cast("jlong*") long[] out, long len);

    /** {@code SmmallocNative.sm_get_stats(long, long[])} behind the gate, or {@link #NALLOC_SM_CLOSED}. */
    public static int nalloc_sm_stats(long gate, long[] out) {
        return stats(gate, out, out.length);
    }

    @CriticalRegion
    @Name("nalloc_sm_stats")
    private static native int stats(@Cast(GATE) long gate, @Cast("jlong*") long[] out, int len);
}
