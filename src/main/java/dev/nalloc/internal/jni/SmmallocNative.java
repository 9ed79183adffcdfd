package dev.nalloc.internal.jni;

import java.util.Objects;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.CriticalRegion;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.NoException;
import org.bytedeco.javacpp.annotation.Properties;

/**
 * Raw JNI bindings of {@code smmalloc.h}, one static method per C function, same names.
 *
 * <p>Handles ({@code sm_allocator}) and addresses are plain {@code long}s, sizes are
 * {@code long}s; every method is {@link NoException} and allocates no Java object. The
 * {@code long[]} overloads of the batch frees pin the array with
 * {@code GetPrimitiveArrayCritical} (JavaCPP's {@link CriticalRegion}): no copy, no allocation,
 * and entries the C side sets to NULL are seen by Java. The thread-safety contract of
 * {@code smmalloc.h} applies unchanged.
 */
@Properties(inherit = NallocLibrary.class)
@NoException
public final class SmmallocNative {
    static {
        Loader.load();
    }

    private SmmallocNative() {}

    /** The C handle type, for {@code @Cast} on allocator parameters. */
    static final String SM_ALLOCATOR = "sm_allocator";

    // Constants of smmalloc.h (NativeConstantsTest checks them against the C header).
    public static final int SM_CACHE_COLD = 0;
    public static final int SM_CACHE_WARM = 1;
    public static final int SM_CACHE_HOT = 2;
    public static final int SM_MAX_BUCKETS = 64;
    public static final long SM_BUCKET_SIZE_MIN = 4096L;
    public static final long SM_BUCKET_SIZE_MAX = 1L << 30;
    public static final int SM_BLOCK_GRANULE = 16;
    public static final int SM_ALIGN_DEFAULT = 16;
    public static final int SM_ALIGN_MAX = 4096;
    public static final long SM_ALIGN_FALLBACK_MAX = 1L << 30;
    public static final int SM_OK = 0;
    public static final int SM_ERR_DOUBLE_FREE = -1;
    public static final int SM_ERR_NOT_OWNED = -2;

    // Layout of the long[] filled by sm_get_stats(long, long[]): a header, then
    // SM_BUCKET_STATS_LONGS longs per bucket starting at SM_STATS_HEADER_LONGS.
    public static final int SM_STATS_BUCKET_COUNT = 0;
    public static final int SM_STATS_FALLBACK_ALLOCS = 1;
    public static final int SM_STATS_FALLBACK_BLOCKS_IN_USE = 2;
    public static final int SM_STATS_FALLBACK_BYTES_IN_USE = 3;
    public static final int SM_STATS_THREAD_CACHES = 4;
    public static final int SM_STATS_HEADER_LONGS = 5;
    // Offsets inside one bucket's group: index = SM_STATS_HEADER_LONGS + i * SM_BUCKET_STATS_LONGS + field.
    public static final int SM_BUCKET_BLOCK_SIZE = 0;
    public static final int SM_BUCKET_BLOCKS_TOTAL = 1;
    public static final int SM_BUCKET_BLOCKS_TOUCHED = 2;
    public static final int SM_BUCKET_BLOCKS_IN_USE = 3;
    public static final int SM_BUCKET_BLOCKS_CACHED = 4;
    public static final int SM_BUCKET_CACHE_HITS = 5;
    public static final int SM_BUCKET_GLOBAL_HITS = 6;
    public static final int SM_BUCKET_FALLBACKS = 7;
    public static final int SM_BUCKET_STATS_LONGS = 8;
    /** Length of a long[] that holds the stats of an allocator with SM_MAX_BUCKETS buckets. */
    public static final int SM_STATS_MAX_LONGS = SM_STATS_HEADER_LONGS + SM_MAX_BUCKETS * SM_BUCKET_STATS_LONGS;

    /** Index in the sm_get_stats long[] of {@code field} (SM_BUCKET_*) of bucket {@code bucket}. */
    public static int smBucketStatsIndex(int bucket, int field) {
        return SM_STATS_HEADER_LONGS + bucket * SM_BUCKET_STATS_LONGS + field;
    }

    // ---- allocator and thread caches ----

    public static native @Cast(SM_ALLOCATOR) long sm_allocator_create(@Cast("size_t") long bucketCount, @Cast("size_t") long bucketSizeBytes);

    public static native void sm_allocator_destroy(@Cast(SM_ALLOCATOR) long allocator);

    /** {@code warmup} is one of SM_CACHE_COLD, SM_CACHE_WARM, SM_CACHE_HOT. */
    public static native void sm_allocator_thread_cache_create(@Cast(SM_ALLOCATOR) long allocator, @Cast("sm_cache_warmup") int warmup, @Cast("size_t") long cacheBytesPerBucket);

    public static native void sm_allocator_thread_cache_destroy(@Cast(SM_ALLOCATOR) long allocator);

    public static native int sm_allocator_thread_cache_exists(@Cast(SM_ALLOCATOR) long allocator);

    // ---- hot path ----

    public static native @Cast("void*") long sm_malloc(@Cast(SM_ALLOCATOR) long allocator, @Cast("size_t") long bytes, @Cast("size_t") long alignment);

    public static native void sm_free(@Cast(SM_ALLOCATOR) long allocator, @Cast("void*") long ptr);

    /** {@link #SM_OK} when freed (or ptr is 0), {@link #SM_ERR_DOUBLE_FREE} or {@link #SM_ERR_NOT_OWNED}. */
    public static native int sm_free_checked(@Cast(SM_ALLOCATOR) long allocator, @Cast("void*") long ptr);

    public static native @Cast("void*") long sm_realloc(@Cast(SM_ALLOCATOR) long allocator, @Cast("void*") long ptr, @Cast("size_t") long bytes, @Cast("size_t") long alignment);

    public static native @Cast("size_t") long sm_msize(@Cast(SM_ALLOCATOR) long allocator, @Cast("void*") long ptr);

    public static native int sm_mbucket(@Cast(SM_ALLOCATOR) long allocator, @Cast("void*") long ptr);

    /** 1 when ptr is a live block of this allocator, else 0. */
    public static native int sm_owns(@Cast(SM_ALLOCATOR) long allocator, @Cast("const void*") long ptr);

    // ---- batch frees ----

    /** Frees {@code count} pointers stored at native address {@code ptrs} (a {@code void*[]}). */
    public static native void sm_free_batch(@Cast(SM_ALLOCATOR) long allocator, @Cast("void**") long ptrs, @Cast("size_t") long count);

    /** Frees {@code ptrs[0..count)}; the array is pinned, not copied. */
    public static void sm_free_batch(long allocator, long[] ptrs, int count) {
        Objects.checkFromIndexSize(0, count, ptrs.length);
        smFreeBatch(allocator, ptrs, count);
    }

    /**
     * Frees the valid pointers at native address {@code ptrs}, sets each freed entry to 0 and
     * returns how many were refused.
     */
    public static native @Cast("size_t") long sm_free_batch_checked(@Cast(SM_ALLOCATOR) long allocator, @Cast("void**") long ptrs, @Cast("size_t") long count);

    /**
     * Frees the valid pointers of {@code ptrs[0..count)}, sets each freed entry to 0 (visible in
     * the Java array) and returns how many were refused. The array is pinned, not copied.
     */
    public static long sm_free_batch_checked(long allocator, long[] ptrs, int count) {
        Objects.checkFromIndexSize(0, count, ptrs.length);
        return smFreeBatchChecked(allocator, ptrs, count);
    }

    @CriticalRegion
    @Name("sm_free_batch")
    private static native void smFreeBatch(@Cast(SM_ALLOCATOR) long allocator, @Cast("void**") long[] ptrs, @Cast("size_t") long count);

    @CriticalRegion
    @Name("sm_free_batch_checked")
    private static native @Cast("size_t") long smFreeBatchChecked(@Cast(SM_ALLOCATOR) long allocator, @Cast("void**") long[] ptrs, @Cast("size_t") long count);

    // ---- binding support: the thread cache's hit path run from Java ----

    // Layout of the long[] filled by sm_thread_cache_layout (smmalloc.h documents the protocol).
    public static final int SM_LAYOUT_BASE = 0;
    public static final int SM_LAYOUT_DATA_SPAN = 1;
    public static final int SM_LAYOUT_STRIDE_LOG2 = 2;
    public static final int SM_LAYOUT_BUCKET_COUNT = 3;
    public static final int SM_LAYOUT_MARK_USED = 4;
    public static final int SM_LAYOUT_HEADER = 8;
    public static final int SM_LAYOUT_HEAD = 0;
    public static final int SM_LAYOUT_CUR_LO = 1;
    public static final int SM_LAYOUT_CUR_HI = 2;
    public static final int SM_LAYOUT_DATA = 3;
    public static final int SM_LAYOUT_BLOCK_SIZE = 4;
    public static final int SM_LAYOUT_SIDE = 5;
    public static final int SM_LAYOUT_MAGIC = 6;
    public static final int SM_LAYOUT_UNITS = 7;
    public static final int SM_LAYOUT_HITS = 8;
    public static final int SM_LAYOUT_FREES = 9;
    public static final int SM_LAYOUT_BUCKET = 12;

    /**
     * Copies the layout of the calling thread's cache for {@code allocator} into {@code out} (at
     * most {@code out.length} longs) and returns the length a full copy needs, or 0 when the thread
     * has no cache. The array is pinned, not copied.
     */
    public static int sm_thread_cache_layout(long allocator, long[] out) {
        return (int) smThreadCacheLayout(allocator, out, out.length);
    }

    @CriticalRegion
    @Name("sm_thread_cache_layout")
    private static native @Cast("size_t") long smThreadCacheLayout(@Cast(SM_ALLOCATOR) long allocator, @Cast("uint64_t*") long[] out, @Cast("size_t") long len);

    // ---- introspection ----

    public static native @Cast("size_t") long sm_bucket_count(@Cast(SM_ALLOCATOR) long allocator);

    public static native @Cast("size_t") long sm_max_block_size(@Cast(SM_ALLOCATOR) long allocator);

    /** Fills the sm_stats at native address {@code out} (caller-provided, zeroed first by C). */
    public static native void sm_get_stats(@Cast(SM_ALLOCATOR) long allocator, @Cast("sm_stats*") long out);

    /**
     * Copies the allocator's statistics into {@code out} (layout: SM_STATS_* header, then
     * SM_BUCKET_* per bucket; at most {@code out.length} longs) and returns the length a full
     * copy needs, {@code SM_STATS_HEADER_LONGS + SM_BUCKET_STATS_LONGS * bucket_count}.
     * A {@code long[SM_STATS_MAX_LONGS]} always suffices. Allocates nothing.
     */
    public static int sm_get_stats(long allocator, long[] out) {
        return smStatsLongs(allocator, out, out.length);
    }

    @CriticalRegion
    @Name("nalloc_sm_stats_longs")
    private static native int smStatsLongs(@Cast(SM_ALLOCATOR) long allocator, @Cast("jlong*") long[] out, int len);

    /** {@code sm_check}'s answer when it could not get memory for its walk. */
    public static final int SM_CHECK_NO_MEMORY = -1;

    /**
     * Number of broken invariants (0 = consistent), or {@link #SM_CHECK_NO_MEMORY}. Safe at any
     * time, meaningful only on a quiescent allocator.
     */
    public static native int sm_check(@Cast(SM_ALLOCATOR) long allocator);
}
