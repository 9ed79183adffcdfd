package dev.nalloc;

import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;

/**
 * A {@link ThreadFactory} whose threads have a {@link Smmalloc} thread cache while they run: each
 * thread creates its cache before running its task and destroys it in a {@code finally} when the
 * task returns or throws. The threads themselves come from a delegate factory (by default
 * {@link Executors#defaultThreadFactory()}), so names, priorities and daemon status are the
 * delegate's.
 * <pre>{@code
 * ExecutorService pool = Executors.newFixedThreadPool(4, smmalloc.threadFactory(4096, CacheWarmup.WARM));
 * }</pre>
 *
 * <p><b>Lifecycle.</b> Shut the executor down and await its termination before closing the
 * allocator: tasks that call the allocator after {@link Smmalloc#close()} get
 * {@link IllegalStateException}. Note that a {@link java.util.concurrent.ThreadPoolExecutor}
 * reports termination from inside its workers' {@code run()}, so {@code awaitTermination} can
 * return a moment before the last workers have destroyed their caches ({@link Smmalloc#stats()}
 * may still count them); join the threads (e.g. collected by a delegate factory) to wait for
 * that. Closing the allocator right after {@code awaitTermination} is nevertheless safe: thread
 * start and exit take the allocator's lifecycle lock, a thread that starts after the allocator is
 * closed runs its task without a cache, and a thread that ends after it skips the destruction
 * (the allocator already released the cache). Memory is never lost either way.
 *
 * <p><b>Thread safety:</b> the factory is immutable; {@link #newThread} may be called from any
 * thread.
 */
public final class SmmallocThreadFactory implements ThreadFactory {
    private final Smmalloc allocator;
    private final long cacheBytesPerBucket;
    private final CacheWarmup warmup;
    private final ThreadFactory delegate;

    /**
     * A factory over {@link Executors#defaultThreadFactory()}.
     *
     * @param allocator the allocator to cache for
     * @param cacheBytesPerBucket bytes of blocks cached per bucket, {@code >= 1}
     * @param warmup how much of each cache to fill when its thread starts
     * @throws IllegalArgumentException if {@code cacheBytesPerBucket < 1}
     * @throws NullPointerException if an argument is null
     */
    public SmmallocThreadFactory(Smmalloc allocator, long cacheBytesPerBucket, CacheWarmup warmup) {
        this(allocator, cacheBytesPerBucket, warmup, Executors.defaultThreadFactory());
    }

    /**
     * A factory over {@code delegate}.
     *
     * @param allocator the allocator to cache for
     * @param cacheBytesPerBucket bytes of blocks cached per bucket, {@code >= 1}
     * @param warmup how much of each cache to fill when its thread starts
     * @param delegate makes the threads
     * @throws IllegalArgumentException if {@code cacheBytesPerBucket < 1}
     * @throws NullPointerException if an argument is null
     */
    public SmmallocThreadFactory(Smmalloc allocator, long cacheBytesPerBucket, CacheWarmup warmup,
                                 ThreadFactory delegate) {
        Smmalloc.checkCacheArguments(cacheBytesPerBucket, warmup);
        this.allocator = Objects.requireNonNull(allocator, "allocator");
        this.cacheBytesPerBucket = cacheBytesPerBucket;
        this.warmup = warmup;
        this.delegate = Objects.requireNonNull(delegate, "delegate");
    }

    /**
     * A thread from the delegate that runs {@code task} between creating and destroying its
     * cache.
     *
     * @param task what the thread runs
     * @return the delegate's thread, or null if the delegate refused to make one
     */
    @Override
    public Thread newThread(Runnable task) {
        Objects.requireNonNull(task, "task");
        return delegate.newThread(() -> runWithCache(task));
    }

    private void runWithCache(Runnable task) {
        ThreadCache cache = allocator.threadCacheIfOpen(cacheBytesPerBucket, warmup);
        try {
            task.run();
        } finally {
            if (cache != null) {
                cache.close();
            }
        }
    }
}
