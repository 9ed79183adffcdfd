package dev.nalloc.internal.jni;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.CriticalRegion;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.NoException;
import org.bytedeco.javacpp.annotation.Properties;

/**
 * Raw JNI bindings of {@code tlsf.h}, one static method per C function, same names.
 *
 * <p>Addresses and handles ({@code tlsf_t}, {@code void*}) are plain {@code long}s, sizes
 * ({@code size_t}) are {@code long}s; every method is {@link NoException} and allocates no Java
 * object, so calls cost one JNI transition. Nothing is checked on the Java side: a heap handle
 * must come from {@link #tlsf_create} and the thread-safety rules of {@code tlsf.h} apply (one
 * thread at a time per heap). Only {@link #tlsf_invariant_name} returns an object (a String).
 * {@code tlsf_walk} and {@code tlsf_walk_pool} (C callbacks) are not bound.
 */
@Properties(inherit = NallocLibrary.class)
@NoException
public final class TlsfNative {
    static {
        Loader.load();
    }

    private TlsfNative() {}

    // Constants of tlsf.h, as compile-time constants (NativeConstantsTest checks them
    // against the C header).
    public static final int TLSF_ALIGN_MAX = 4096;
    public static final int TLSF_OK = 0;
    public static final int TLSF_ERR_ARG = -1;
    public static final int TLSF_ERR_TOO_SMALL = -2;
    public static final int TLSF_ERR_TOO_BIG = -3;
    public static final int TLSF_ERR_OVERLAP = -4;
    public static final int TLSF_ERR_NOT_POOL = -5;
    public static final int TLSF_ERR_POOL_IN_USE = -6;
    public static final int TLSF_ERR_FIRST_POOL = -7;
    public static final int TLSF_ERR_NOT_OWNED = -8;
    /** {@code tlsf_check} result when every invariant holds. */
    public static final int TLSF_INV_OK = 0;
    /** Number of {@code enum tlsf_invariant} codes (not an invariant). */
    public static final int TLSF_INV_COUNT = 16;

    // Index of each tlsf_stats_t field in the long[] filled by tlsf_stats(long, long[]).
    public static final int TLSF_STATS_POOL_BYTES = 0;
    public static final int TLSF_STATS_USED_BYTES = 1;
    public static final int TLSF_STATS_FREE_BYTES = 2;
    public static final int TLSF_STATS_LARGEST_FREE_BLOCK = 3;
    public static final int TLSF_STATS_USED_BLOCKS = 4;
    public static final int TLSF_STATS_FREE_BLOCKS = 5;
    /** Length of a long[] that receives every tlsf_stats_t field. */
    public static final int TLSF_STATS_LONGS = 6;

    // ---- heap and pools ----

    public static native @Cast("tlsf_t") long tlsf_create(@Cast("void*") long mem, @Cast("size_t") long bytes);

    public static native int tlsf_add_pool(@Cast("tlsf_t") long tlsf, @Cast("void*") long mem, @Cast("size_t") long bytes);

    public static native int tlsf_remove_pool(@Cast("tlsf_t") long tlsf, @Cast("void*") long mem);

    public static native @Cast("tlsf_pool_t") long tlsf_get_pool(@Cast("tlsf_t") long tlsf);

    // ---- hot path ----

    public static native @Cast("void*") long tlsf_malloc(@Cast("tlsf_t") long tlsf, @Cast("size_t") long bytes);

    public static native @Cast("void*") long tlsf_memalign(@Cast("tlsf_t") long tlsf, @Cast("size_t") long align, @Cast("size_t") long bytes);

    public static native @Cast("void*") long tlsf_realloc(@Cast("tlsf_t") long tlsf, @Cast("void*") long ptr, @Cast("size_t") long bytes);

    public static native void tlsf_free(@Cast("tlsf_t") long tlsf, @Cast("void*") long ptr);

    /** {@link #TLSF_OK} when freed (or ptr is 0), {@link #TLSF_ERR_NOT_OWNED} otherwise. */
    public static native int tlsf_free_checked(@Cast("tlsf_t") long tlsf, @Cast("void*") long ptr);

    /** 1 if ptr is a live block of this heap, else 0. Never reads the memory at ptr. */
    public static native int tlsf_owns(@Cast("tlsf_t") long tlsf, @Cast("const void*") long ptr);

    public static native @Cast("size_t") long tlsf_block_size(@Cast("const void*") long ptr);

    // ---- checking and statistics ----

    public static native int tlsf_check(@Cast("tlsf_t") long tlsf);

    public static native @Cast("const char*") String tlsf_invariant_name(int code);

    /** Fills the tlsf_stats_t at native address {@code out} (caller-provided, 6 size_t). */
    public static native void tlsf_stats(@Cast("tlsf_t") long tlsf, @Cast("tlsf_stats_t*") long out);

    /**
     * Copies the heap's statistics into {@code out} at the TLSF_STATS_* indices (at most
     * {@code out.length} of them) and returns {@link #TLSF_STATS_LONGS}. Allocates nothing.
     */
    public static int tlsf_stats(long tlsf, long[] out) {
        return tlsfStatsLongs(tlsf, out, out.length);
    }

    @CriticalRegion
    @Name("nalloc_tlsf_stats_longs")
    private static native int tlsfStatsLongs(@Cast("tlsf_t") long tlsf, @Cast("jlong*") long[] out, int len);

    // ---- sizes ----

    public static native @Cast("size_t") long tlsf_size();

    public static native @Cast("size_t") long tlsf_align_size();

    public static native @Cast("size_t") long tlsf_block_size_min();

    public static native @Cast("size_t") long tlsf_block_size_max();

    public static native @Cast("size_t") long tlsf_pool_overhead(@Cast("size_t") long poolBytes);

    public static native @Cast("size_t") long tlsf_pool_size_for(@Cast("size_t") long bytes, @Cast("size_t") long align);

    /**
     * Usable bytes of {@code ptr} when it is a live block of heap {@code tlsf}, else 0: the
     * liveness check and the size in one transition ({@code nalloc_java.h}).
     */
    public static native @Cast("size_t") long nalloc_tlsf_usable_size(@Cast("tlsf_t") long tlsf, @Cast("const void*") long ptr);
}
