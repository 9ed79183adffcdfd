package dev.nalloc;

import dev.nalloc.internal.jni.SmmallocNative;

/**
 * How many free blocks a new {@link Smmalloc} thread cache prepares per bucket when it is created
 * ({@link Smmalloc#createThreadCache}). The cache's size in bytes per bucket, divided by the
 * block size, gives n (at least 1, at most one span's blocks). A prepared cache serves the
 * thread's first allocations without a refill, at the cost of claiming a span of each bucket for
 * this thread until the cache is destroyed.
 */
public enum CacheWarmup {
    /** Nothing is prepared; the first allocation of each bucket refills the cache. */
    COLD(SmmallocNative.SM_CACHE_COLD),
    /** n / 2 blocks of each bucket are prepared. */
    WARM(SmmallocNative.SM_CACHE_WARM),
    /** n blocks of each bucket are prepared. */
    HOT(SmmallocNative.SM_CACHE_HOT);

    /** The {@code sm_cache_warmup} value. */
    final int nativeValue;

    CacheWarmup(int nativeValue) {
        this.nativeValue = nativeValue;
    }
}
