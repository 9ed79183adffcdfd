package dev.nalloc;

/**
 * A {@link Smmalloc} thread cache scoped to a try-with-resources block on the thread that
 * created it ({@link Smmalloc#threadCache}):
 * <pre>{@code
 * try (ThreadCache cache = smmalloc.threadCache(4096, CacheWarmup.WARM)) {
 *     long p = smmalloc.malloc(48);   // served by this thread's cache
 *     ...
 * }                                   // cached blocks go back to the shared lists
 * }</pre>
 *
 * <p><b>Thread safety:</b> confined to its thread. {@link #close()} from another thread throws
 * {@link IllegalStateException} (a cache can only be destroyed by its own thread). Closing it
 * after the allocator was closed does nothing: the allocator already released the cache.
 */
public final class ThreadCache implements AutoCloseable {
    private final Smmalloc allocator;
    private final Thread owner;
    private boolean closed;

    ThreadCache(Smmalloc allocator, Thread owner) {
        this.allocator = allocator;
        this.owner = owner;
    }

    /**
     * The thread this cache belongs to.
     *
     * @return the thread that created it
     */
    public Thread owner() {
        return owner;
    }

    /**
     * Destroys the cache: its blocks go back to the allocator's shared lists. Calling it again,
     * or after the allocator was closed, does nothing.
     *
     * @throws IllegalStateException if called from a thread other than {@link #owner()}
     */
    @Override
    public void close() {
        Thread current = Thread.currentThread();
        if (current != owner) {
            throw new IllegalStateException("thread=" + current.getName() + " cannot close the ThreadCache of thread="
                    + owner.getName());
        }
        if (!closed) {
            closed = true;
            allocator.destroyThreadCacheIfOpen();
        }
    }

    /** {@code "ThreadCache[thread=name open|closed]"}. */
    @Override
    public String toString() {
        return "ThreadCache[thread=" + owner.getName() + (closed ? " closed]" : " open]");
    }
}
