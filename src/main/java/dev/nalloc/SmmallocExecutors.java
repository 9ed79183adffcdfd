package dev.nalloc;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Executors whose worker threads own a {@link Smmalloc} thread cache for their whole life, the
 * counterparts of {@link java.util.concurrent.Executors}' factories. A task finds its worker's
 * cache with {@link Smmalloc#currentThreadCache()} and allocates through the Java fast path:
 * <pre>{@code
 * ExecutorService pool = SmmallocExecutors.newFixedThreadPool(sm, 4, 4096, CacheWarmup.WARM);
 * pool.submit(() -> {
 *     ThreadCache cache = sm.currentThreadCache();
 *     long msg = cache.malloc(64);
 *     ...
 *     cache.free(msg);                         // or hand msg to another thread, which frees it
 * });
 * }</pre>
 *
 * <p><b>Pools that grow and shrink</b> ({@link #newCachedThreadPool},
 * {@link #newElasticThreadPool}): each new worker creates its cache when it starts (prefilled per
 * the {@link CacheWarmup}: one native call preparing half a cache of blocks per bucket for
 * {@code WARM}); a worker that retires after its keep-alive destroys its cache in a
 * {@code finally}, which hands its spans back to the allocator's pool for the next worker. A
 * worker killed by an uncaught error loses nothing either (the C thread-exit hook). So the memory
 * parked in caches follows the pool's size: per worker and bucket, the free blocks of the spans it
 * holds (a span of 64 KiB at most; one that is entirely free and not in use goes back to the pool).
 * Prefer {@code COLD} or a small {@code cacheBytesPerBucket} for pools that churn threads quickly,
 * {@code WARM} or {@code HOT} for long-lived workers.
 *
 * <p><b>Shutdown</b>: shut the executor down and await its termination before closing the
 * allocator; see {@link SmmallocThreadFactory} for why closing right after
 * {@code awaitTermination} is safe.
 */
public final class SmmallocExecutors {
    private SmmallocExecutors() {}

    /**
     * {@link java.util.concurrent.Executors#newFixedThreadPool(int)} with a cache per worker.
     *
     * @param allocator the allocator the caches serve
     * @param threads number of workers, {@code >= 1}
     * @param cacheBytesPerBucket bytes of blocks each worker caches per bucket
     * @param warmup how much of each cache to fill when its worker starts
     * @return a new executor
     * @throws IllegalArgumentException if {@code threads < 1} or {@code cacheBytesPerBucket < 1}
     */
    public static ExecutorService newFixedThreadPool(Smmalloc allocator, int threads, long cacheBytesPerBucket,
            CacheWarmup warmup) {
        SmmallocThreadFactory factory = new SmmallocThreadFactory(allocator, cacheBytesPerBucket, warmup);
        return new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(),
                factory);
    }

    /**
     * {@link java.util.concurrent.Executors#newCachedThreadPool()} with a cache per worker: grows
     * without bound on demand, workers idle for 60 s retire and hand their cache back.
     *
     * @param allocator the allocator the caches serve
     * @param cacheBytesPerBucket bytes of blocks each worker caches per bucket
     * @param warmup how much of each cache to fill when its worker starts
     * @return a new executor
     * @throws IllegalArgumentException if {@code cacheBytesPerBucket < 1}
     */
    public static ExecutorService newCachedThreadPool(Smmalloc allocator, long cacheBytesPerBucket,
            CacheWarmup warmup) {
        return newElasticThreadPool(allocator, 0, Integer.MAX_VALUE, Duration.ofSeconds(60), cacheBytesPerBucket,
                warmup);
    }

    /**
     * A pool between {@code coreThreads} and {@code maxThreads} workers: tasks go to an idle worker,
     * else to a new one up to {@code maxThreads} (none is queued: when all are busy the caller is
     * refused with {@link java.util.concurrent.RejectedExecutionException}, as with a
     * {@link SynchronousQueue}), and workers beyond the core that stay idle for {@code keepAlive}
     * retire with their caches.
     *
     * @param allocator the allocator the caches serve
     * @param coreThreads workers kept even when idle, {@code >= 0}
     * @param maxThreads upper bound, {@code >= max(1, coreThreads)}
     * @param keepAlive idle time after which a non-core worker retires
     * @param cacheBytesPerBucket bytes of blocks each worker caches per bucket
     * @param warmup how much of each cache to fill when its worker starts
     * @return a new executor
     * @throws IllegalArgumentException if the bounds are inconsistent or {@code cacheBytesPerBucket < 1}
     */
    public static ExecutorService newElasticThreadPool(Smmalloc allocator, int coreThreads, int maxThreads,
            Duration keepAlive, long cacheBytesPerBucket, CacheWarmup warmup) {
        Objects.requireNonNull(keepAlive, "keepAlive");
        SmmallocThreadFactory factory = new SmmallocThreadFactory(allocator, cacheBytesPerBucket, warmup);
        return new ThreadPoolExecutor(coreThreads, maxThreads, keepAlive.toNanos(), TimeUnit.NANOSECONDS,
                new SynchronousQueue<>(), factory);
    }
}
