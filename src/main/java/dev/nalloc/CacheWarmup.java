package dev.nalloc;

import dev.nalloc.internal.jni.SmmallocNative;




/**
 * How much of a new {@link Smmalloc} thread cache is filled with free blocks when it is created
 * ({@link Smmalloc#createThreadCache}). A filled cache serves the thread's first allocations
 * without touching the shared free lists, at the cost of taking those blocks from other threads
 * until the cache is destroyed.
 */
public enum CacheWarmup {
    /** The cache starts empty and fills as the thread frees blocks. */
    COLD(SmmallocNative.SM_CACHE_COLD),
    /** Half of each bucket's cache capacity is prefilled. */
    WARM(SmmallocNative.SM_CACHE_WARM),
    /** Each bucket's cache is prefilled to capacity. */
    HOT(SmmallocNative.SM_CACHE_HOT);

    /** The {@code sm_cache_warmup} value. */
    final int nativeValue;

    CacheWarmup(int nativeValue) {
        this.nativeValue = nativeValue;
    }
}
