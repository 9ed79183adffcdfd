package dev.nalloc;

import dev.nalloc.internal.Blocks;
import dev.nalloc.internal.Handles;
import dev.nalloc.internal.door.SmmallocDoor;
import dev.nalloc.internal.jni.GateNative;
import dev.nalloc.internal.jni.GatedSmmallocNative;
import dev.nalloc.internal.jni.SmmallocNative;
import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A small-block bucket allocator for many threads: lock-free size buckets of 16, 32, ...,
 * 16 &times; {@code bucketCount} bytes, optional per-thread caches, no header per block, and the
 * system allocator as fallback for everything a bucket cannot serve (larger blocks, alignments no
 * bucket block size is a multiple of, an exhausted bucket). Pick it for floods of small blocks
 * (messages, nodes, small buffers) allocated and freed by several threads.
 *
 * <p><b>Thread safety.</b> Every method may be called by any number of threads at once,
 * {@link #close()} and {@link #check()} included:
 * <ul>
 *   <li>{@link #close()} may race every other call, as in a shutdown hook closing the allocator
 *       while workers still allocate: a racing call either completes normally or throws
 *       {@link IllegalStateException}, and {@code close()} returns once no call can touch the
 *       allocator's memory any more. Calls made afterwards from any thread throw
 *       {@link IllegalStateException}. Every call passes the allocator's gate: two plain stores
 *       and a load, no atomic instruction; {@code close()} shuts it, makes every other thread
 *       execute a memory barrier (Linux {@code membarrier(2)}, Windows
 *       {@code FlushProcessWriteBuffers}; elsewhere calls use a full fence instead) and waits
 *       for the calls inside to leave. Creating, destroying and closing thread caches and
 *       {@code close()} are serialized by an internal lock (cold paths only); {@code malloc},
 *       {@code free} and the other hot methods take no lock and allocate nothing.</li>
 *   <li>{@link #check()} waits until no call is inside (new calls wait meanwhile), walks every
 *       structure and lets them go on: a health check may call it at any time.</li>
 *   <li>A block may be freed by any thread; as with {@code malloc}, the allocation must
 *       happen-before the free (hand the address over through a queue, a lock, a volatile,
 *       ...).</li>
 *   <li>Thread caches belong to the calling thread: see {@link #createThreadCache}. A thread
 *       that ends without destroying its cache loses no memory: the C layer's thread-exit hook
 *       returns the cached blocks.</li>
 * </ul>
 *
 * <p><b>Memory.</b> The buckets live in one reservation of address space of
 * {@code bucketCount × bucketSizeBytes} bytes, touched (made resident) only as blocks are handed
 * out. Two allocators share nothing, not even on one thread: a block is only ever accepted by the
 * allocator that made it.
 *
 * <p><b>Errors.</b> As {@link NativeAllocator} states. Double frees of bucket blocks are always
 * detected (each free is an atomic exchange on a per-block state table), as are frees of
 * foreign or interior pointers and of fallback blocks already freed (the fallback registry
 * knows its live blocks): {@link IllegalArgumentException}, allocator unchanged. "Always" holds
 * while the freed block has not been handed out again: once {@code malloc} reuses an address,
 * a second free of the old block frees the new one, as with any allocator. Because buckets fall
 * back to the system allocator, {@code malloc} returns 0 only when the system is out of memory
 * or the size is absurd (beyond {@code Long.MAX_VALUE - 4096}).
 */
public final class Smmalloc implements NativeAllocator {
    static {
        // the handle stays out of the public API; nalloc's other packages reach it through Handles
        Handles.registerSmmalloc(s -> s.open ? GatedSmmallocNative.nalloc_sm_allocator(s.gate) : 0);
    }

    /**
     * Frees each allocator's gate once the allocator is unreachable: only then can no thread be
     * about to enter it (a call that read the gate just before close() still needs it).
     */
    private static final Cleaner GATES = Cleaner.create(task -> {
        Thread t = new Thread(task, "nalloc-gate-cleaner");
        t.setDaemon(true);
        return t;
    });

    /*
     * Every call reads the gate from this object and passes it to C; the object must stay
     * reachable until the call has entered the gate, or the Cleaner could free the gate under
     * it. Methods whose code does not touch the object after the native call end with
     * Reference.reachabilityFence(this) (free in HotSpot's compiled code).
     */

    /** The nalloc_gate in front of the sm_allocator; freed by GATES, never 0. */
    private final long gate;
    /** False once close() began. Volatile: closed state visible to every thread. */
    private volatile boolean open = true;
    private final int bucketCount;
    /** Serializes close() with thread-cache creation and destruction. */
    private final Object lifecycle = new Object();
    /**
     * Each thread's {@link ThreadCache} object over its C cache, so that destroying or replacing the
     * C cache through this class (cold paths, all on the owning thread) can switch the object's
     * fast path off before its addresses dangle. An entry keeps this small Java object reachable
     * until its thread ends or destroys the cache; the native memory is released by close().
     */
    private final ThreadLocal<ThreadCache> boundCache = new ThreadLocal<>();

    /**
     * Creates an allocator with {@code bucketCount} buckets: bucket {@code i} serves blocks of
     * {@code 16 × (i + 1)} bytes and holds {@code bucketSizeBytes / (16 × (i + 1))} of them.
     * Only address space is reserved here.
     *
     * @param bucketCount 1 to 64 (largest bucket block: 16 × bucketCount bytes)
     * @param bucketSizeBytes bytes per bucket, 4096 (one page) to 2<sup>30</sup> (1 GiB)
     * @throws IllegalArgumentException if an argument is outside its limits
     * @throws OutOfMemoryError if the address space cannot be reserved (the reservation is a
     *         {@code mmap}, so the JVM's heap size plays no part; think of it as
     *         {@code ByteBuffer.allocateDirect} failing)
     */
    public Smmalloc(int bucketCount, long bucketSizeBytes) {
        if (bucketCount < 1 || bucketCount > SmmallocNative.SM_MAX_BUCKETS) {
            throw new IllegalArgumentException("bucketCount=" + bucketCount + " is not in 1.." + SmmallocNative.SM_MAX_BUCKETS);
        }
        if (bucketSizeBytes < SmmallocNative.SM_BUCKET_SIZE_MIN || bucketSizeBytes > SmmallocNative.SM_BUCKET_SIZE_MAX) {
            throw new IllegalArgumentException("bucketSizeBytes=" + bucketSizeBytes + " is not in "
                    + SmmallocNative.SM_BUCKET_SIZE_MIN + ".." + SmmallocNative.SM_BUCKET_SIZE_MAX);
        }
        long g = GatedSmmallocNative.nalloc_sm_open(bucketCount, bucketSizeBytes);
        if (g == 0) {
            throw new OutOfMemoryError("cannot reserve address space for bucketCount=" + bucketCount
                    + " bucketSizeBytes=" + bucketSizeBytes);
        }
        this.bucketCount = bucketCount;
        this.gate = g;
        GATES.register(this, () -> GateNative.nalloc_gate_free(g));
    }

    /** The gate of an open allocator. */
    private long openGate() {
        if (!open) {
            throw closed();
        }
        return gate;
    }

    private static IllegalStateException closed() {
        return Blocks.closed("Smmalloc");
    }

    /**
     * The number of buckets given to the constructor.
     *
     * @return 1 to 64
     */
    public int bucketCount() {
        return bucketCount;
    }

    // ---- thread caches ----

    /**
     * Gives the calling thread a cache for this allocator: per bucket, spans of blocks that this
     * thread owns, allocates from and frees to without an atomic read-modify-write other than the
     * claim of each freed block ({@code cacheBytesPerBucket / block size} blocks, at least 1 and
     * at most a span's, are prepared at a time). An existing cache of this thread for this
     * allocator is destroyed first. Without a cache every call takes the bucket's shared owner,
     * which is correct but slower under contention. If the C layer cannot get memory for the
     * cache, the thread simply has none ({@link #hasThreadCache()} says so).
     *
     * <p>The same as {@link #threadCache} with the result left bound to the thread (get it back
     * with {@link #currentThreadCache()}); destroy it with {@link #destroyThreadCache()} on the
     * same thread. A thread that ends without destroying it loses no memory.
     *
     * @param cacheBytesPerBucket bytes of blocks cached per bucket, {@code >= 1}
     * @param warmup how much of the cache to fill now
     * @throws IllegalArgumentException if {@code cacheBytesPerBucket < 1}
     * @throws NullPointerException if {@code warmup} is null
     * @throws IllegalStateException if the allocator is closed
     */
    public void createThreadCache(long cacheBytesPerBucket, CacheWarmup warmup) {
        threadCache(cacheBytesPerBucket, warmup);
    }

    /**
     * Gives the calling thread's spans back to the allocator's pool and frees its cache for this
     * allocator; does nothing when it has none. The thread's {@link ThreadCache} object, if one
     * was handed out, stays open without its fast path: its calls go to the shared owner, as
     * {@link ThreadCache#isFastPath()} explains.
     *
     * @throws IllegalStateException if the allocator is closed
     */
    public void destroyThreadCache() {
        openGate();
        destroyThreadCacheIfOpen();
    }

    /**
     * Gives the calling thread a new C cache; the C call destroys its current one first, so the
     * ThreadCache object over that one loses its fast path before. Under lifecycle.
     */
    private void replaceCache(long g, long cacheBytesPerBucket, CacheWarmup warmup) {
        unbindCache();
        GatedSmmallocNative.nalloc_sm_thread_cache_create(g, warmup.nativeValue, cacheBytesPerBucket);
    }

    /** Switches off the fast path of this thread's ThreadCache object, if any. Owner thread only. */
    private void unbindCache() {
        ThreadCache bound = boundCache.get();
        if (bound != null) {
            bound.detach();
            boundCache.remove();
        }
    }

    /**
     * Whether the calling thread has a cache for this allocator.
     *
     * @return true when it has one
     * @throws IllegalStateException if the allocator is closed
     */
    public boolean hasThreadCache() {
        int exists = GatedSmmallocNative.nalloc_sm_thread_cache_exists(openGate());
        if (exists == GatedSmmallocNative.NALLOC_SM_CLOSED) {
            throw closed();
        }
        return exists != 0;
    }

    /**
     * Creates a cache for the calling thread, as described at {@link #createThreadCache}, and
     * returns it as the scope that destroys it when closed:
     * <pre>{@code
     * try (ThreadCache cache = smmalloc.threadCache(4096, CacheWarmup.WARM)) {
     *     ... allocate and free on this thread ...
     * }
     * }</pre>
     * Scopes do not nest: a thread has at most one cache per allocator, and closing the inner
     * scope leaves the thread without one.
     *
     * @param cacheBytesPerBucket bytes of blocks cached per bucket, {@code >= 1}
     * @param warmup how much of the cache to fill now
     * @return the scope, to be closed on this thread
     * @throws IllegalArgumentException if {@code cacheBytesPerBucket < 1}
     * @throws IllegalStateException if the allocator is closed
     */
    public ThreadCache threadCache(long cacheBytesPerBucket, CacheWarmup warmup) {
        checkCacheArguments(cacheBytesPerBucket, warmup);
        ThreadCache cache = threadCacheIfOpen(cacheBytesPerBucket, warmup);
        if (cache == null) {
            throw Blocks.closed("Smmalloc");
        }
        return cache;
    }

    /**
     * The calling thread's cache for this allocator as a {@link ThreadCache}, with its Java fast
     * path: the one {@link #threadCache}, {@link #createThreadCache} or a {@link #threadFactory}
     * thread made (closing it destroys the cache, as {@link #destroyThreadCache()} does). Worker
     * threads look it up once per task:
     * <pre>{@code
     * pool.submit(() -> {
     *     ThreadCache cache = smmalloc.currentThreadCache();   // the worker's own cache
     *     long msg = cache.malloc(64);
     *     ...
     * });
     * }</pre>
     *
     * @return the thread's cache, or null when the thread has none for this allocator
     * @throws IllegalStateException if the allocator is closed
     */
    public ThreadCache currentThreadCache() {
        synchronized (lifecycle) {
            long g = openGate();
            ThreadCache bound = boundCache.get();
            if (bound != null) {
                return bound;
            }
            return GatedSmmallocNative.nalloc_sm_thread_cache_exists(g) == 1 ? bindCache(g) : null;
        }
    }

    /** A ThreadCache over the calling thread's (existing) C cache. Under lifecycle. */
    private ThreadCache bindCache(long g) {
        ThreadCache cache = new ThreadCache(this, Thread.currentThread());
        cache.attach(g);
        boundCache.set(cache);
        return cache;
    }

    /**
     * A thread factory whose threads have a cache for this allocator while they run, so an
     * executor gets caches in one line:
     * {@code Executors.newFixedThreadPool(4, smmalloc.threadFactory(4096, CacheWarmup.WARM))}.
     * Threads are made by {@link java.util.concurrent.Executors#defaultThreadFactory()}; see
     * {@link SmmallocThreadFactory} for the contract and for wrapping another factory.
     *
     * @param cacheBytesPerBucket bytes of blocks cached per bucket, {@code >= 1}
     * @param warmup how much of each cache to fill when its thread starts
     * @return a new factory
     * @throws IllegalArgumentException if {@code cacheBytesPerBucket < 1}
     */
    public SmmallocThreadFactory threadFactory(long cacheBytesPerBucket, CacheWarmup warmup) {
        return new SmmallocThreadFactory(this, cacheBytesPerBucket, warmup);
    }

    static void checkCacheArguments(long cacheBytesPerBucket, CacheWarmup warmup) {
        Objects.requireNonNull(warmup, "warmup");
        if (cacheBytesPerBucket < 1) {
            throw new IllegalArgumentException("cacheBytesPerBucket=" + cacheBytesPerBucket + " is below 1");
        }
    }

    /** {@link #threadCache}, or null when the allocator is already closed. */
    ThreadCache threadCacheIfOpen(long cacheBytesPerBucket, CacheWarmup warmup) {
        synchronized (lifecycle) {
            if (!open) {
                return null;
            }
            replaceCache(gate, cacheBytesPerBucket, warmup);
            return bindCache(gate);
        }
    }

    /**
     * The end of every thread cache, whichever door closes it ({@link ThreadCache#close()},
     * {@link #destroyThreadCache()}, a {@link SmmallocThreadFactory} thread): the thread's C cache
     * and its ThreadCache object's fast path go together; after {@link #close()} the C cache is
     * gone already.
     */
    void destroyThreadCacheIfOpen() {
        synchronized (lifecycle) {
            unbindCache();
            if (open) {
                GatedSmmallocNative.nalloc_sm_thread_cache_destroy(gate);
            }
        }
    }

    // ---- hot path ----

    /** {@inheritDoc} Sizes up to 16 × bucketCount bytes come from a bucket. */
    @Override
    public long malloc(long size) {
        long g = openGate();
        Blocks.checkSize(size);
        return allocated(SmmallocDoor.malloc(g, size, 0));
    }

    /** A block, or 0 for exhaustion; a 0 from a shut gate is the race with close(). */
    private long allocated(long p) {
        if (p == 0 && !open) {
            throw closed();
        }
        return p;
    }

    /**
     * {@inheritDoc} A bucket serves the request when its block size is a multiple of
     * {@code alignment}; otherwise the system allocator does.
     */
    @Override
    public long malloc(long size, long alignment) {
        long g = openGate();
        Blocks.checkSize(size);
        Blocks.checkAlignment(alignment);
        return allocated(SmmallocDoor.malloc(g, size, alignment));
    }

    /** {@inheritDoc} Double frees of bucket blocks are always detected (see the class notes). */
    @Override
    public void free(long address) {
        long g = openGate();
        if (address != 0) {
            int rc = SmmallocDoor.free(g, address);
            if (rc != SmmallocNative.SM_OK) {
                throw rc == GatedSmmallocNative.NALLOC_SM_CLOSED ? closed() : notLive(address, rc);
            }
        }
        Reference.reachabilityFence(this);
    }

    /**
     * Frees {@code addresses[0..count)} in one native call (each block as by
     * {@link #free(long)}). 0 entries are skipped.
     *
     * <p><b>The array is modified:</b> each entry that is freed is set to 0, so afterwards the
     * non-zero entries of {@code [0, count)} are exactly the refused ones. The array is pinned,
     * not copied. Entries that are not live blocks of this allocator are refused and left in
     * place; the valid blocks of the batch are freed anyway, and then an
     * {@link IllegalArgumentException} lists the refused addresses.
     *
     * @param addresses blocks to free, 0 entries allowed
     * @param count number of leading entries to free
     * @throws IndexOutOfBoundsException if {@code count} is negative or exceeds the array length
     * @throws IllegalArgumentException after the call, if some entries were refused
     * @throws IllegalStateException if the allocator is closed
     */
    public void free(long[] addresses, int count) {
        long g = openGate();
        long refused = SmmallocDoor.freeBatch(g, addresses, count);
        if (refused != 0) {
            throw refused < 0 ? closed() : refusedBatch(addresses, count, refused);
        }
        Reference.reachabilityFence(this);
    }

    private static IllegalArgumentException refusedBatch(long[] addresses, int count, long refused) {
        StringBuilder message = new StringBuilder("refused=").append(refused).append(" of count=").append(count)
                .append(" are not live blocks of this allocator (double free or foreign pointer):");
        int listed = 0;
        for (int i = 0; i < count && listed < 16; i++) {
            if (addresses[i] != 0) {
                message.append(listed == 0 ? " " : ", ").append("addresses[").append(i).append("]=")
                        .append(Blocks.hex(addresses[i]));
                listed++;
            }
        }
        if (listed < refused) {
            message.append(", ...");
        }
        message.append("; the other blocks were freed and their entries set to 0");
        return new IllegalArgumentException(message.toString());
    }

    /**
     * {@inheritDoc}
     *
     * <p>The block is returned unchanged when it already fits where a fresh
     * {@code malloc(size)} would put it (same bucket); otherwise the contents move to a new
     * block. {@code size} 0 moves the block to the smallest bucket.
     */
    @Override
    public long realloc(long address, long size) {
        long g = openGate();
        Blocks.checkSize(size);
        return address == 0 ? allocated(SmmallocDoor.malloc(g, size, 0))
                : reallocLive(g, address, size, 0);
    }

    /**
     * As {@link #realloc(long, long)}, and the result is aligned to {@code alignment}.
     *
     * @param address a live block of this allocator, or 0 to allocate
     * @param size new requested bytes, {@code >= 0}
     * @param alignment a power of two from 1 to {@value #ALIGNMENT_MAX}
     * @return the block's (possibly new) address; 0 when the request cannot be satisfied, and
     *         then {@code address} is still valid and unchanged
     * @throws IllegalArgumentException if {@code size} is negative, {@code alignment} is bad or
     *         {@code address} is not a live block of this allocator
     * @throws IllegalStateException if the allocator is closed
     */
    public long realloc(long address, long size, long alignment) {
        long g = openGate();
        Blocks.checkSize(size);
        Blocks.checkAlignment(alignment);
        return address == 0 ? allocated(SmmallocDoor.malloc(g, size, alignment))
                : reallocLive(g, address, size, alignment);
    }

    private long reallocLive(long g, long address, long size, long alignment) {
        long p = SmmallocDoor.realloc(g, address, size, alignment);
        // sm_realloc refuses non-live blocks without touching them: tell exhaustion from a bad
        // address (or from a racing close) only on this (cold) path.
        if (p == 0) {
            int owns = SmmallocDoor.owns(g, address);
            if (owns == GatedSmmallocNative.NALLOC_SM_CLOSED || !open) {
                throw closed();
            }
            if (owns == 0) {
                throw notLive(address, SmmallocNative.SM_ERR_NOT_OWNED);
            }
        }
        Reference.reachabilityFence(this);
        return p;
    }

    /** {@inheritDoc} 16 × (i + 1) for a block of bucket i, the rounded request for others. */
    @Override
    public long size(long address) {
        long usable = SmmallocDoor.msize(openGate(), address);
        if (usable == 0) {
            throw open ? notLive(address, SmmallocNative.SM_ERR_NOT_OWNED) : closed();
        }
        Reference.reachabilityFence(this);
        return usable;
    }

    /**
     * The bucket a block belongs to. Never throws for an address that is not a live bucket
     * block: use it to tell bucket blocks from fallback blocks, or blocks of this allocator from
     * others.
     *
     * @param address any address
     * @return 0 to {@code bucketCount() - 1} for a live bucket block of this allocator; -1 for
     *         anything else (fallback blocks, freed blocks, foreign or interior pointers, 0)
     * @throws IllegalStateException if the allocator is closed
     */
    public int bucket(long address) {
        int bucket = SmmallocDoor.mbucket(openGate(), address);
        if (bucket == GatedSmmallocNative.NALLOC_SM_CLOSED) {
            throw closed();
        }
        Reference.reachabilityFence(this);
        return bucket;
    }

    static IllegalArgumentException notLive(long address, int rc) {
        return Blocks.notLive(address, "allocator", rc == SmmallocNative.SM_ERR_DOUBLE_FREE ? "double free"
                : "double free or foreign pointer");
    }

    /** True: any number of threads may call it at once (see the class notes). */
    @Override
    public boolean isThreadSafe() {
        return true;
    }

    /**
     * A direct buffer over the whole usable size of a block, without copying: native byte order,
     * position 0, limit = capacity = {@link #size(long)}.
     *
     * <p>The view is raw: it does not keep the block alive and is not invalidated by
     * {@code free}, {@code realloc} or {@code close}. Using it after the block is freed or moved
     * reads or corrupts other memory and may crash the JVM; drop the view first.
     *
     * @param address a live block of this allocator
     * @return a new buffer over the block
     * @throws IllegalArgumentException if {@code address} is not a live block
     * @throws IllegalStateException if the allocator is closed
     */
    public ByteBuffer view(long address) {
        return Blocks.view(address, size(address));
    }

    /**
     * A direct buffer over the first {@code length} bytes of a block, as {@link #view(long)}.
     *
     * @param address a live block of this allocator
     * @param length bytes, 0 to {@link #size(long) size(address)}
     * @return a new buffer over the block
     * @throws IllegalArgumentException if {@code address} is not a live block or {@code length}
     *         is outside 0..usable size
     * @throws IllegalStateException if the allocator is closed
     */
    public ByteBuffer view(long address, int length) {
        return Blocks.view(address, length, size(address));
    }

    // ---- introspection ----

    /**
     * A snapshot of the allocator's counters; may be taken while other threads allocate.
     *
     * @return a new snapshot
     * @throws IllegalStateException if the allocator is closed
     */
    public SmmallocStats stats() {
        long[] s = new long[SmmallocNative.SM_STATS_HEADER_LONGS + bucketCount * SmmallocNative.SM_BUCKET_STATS_LONGS];
        if (GatedSmmallocNative.nalloc_sm_stats(openGate(), s) == GatedSmmallocNative.NALLOC_SM_CLOSED) {
            throw closed();
        }
        List<SmmallocStats.BucketStats> buckets = new ArrayList<>(bucketCount);
        for (int b = 0; b < bucketCount; b++) {
            int i = SmmallocNative.smBucketStatsIndex(b, 0);
            buckets.add(new SmmallocStats.BucketStats(s[i + SmmallocNative.SM_BUCKET_BLOCK_SIZE], s[i + SmmallocNative.SM_BUCKET_BLOCKS_TOTAL],
                    s[i + SmmallocNative.SM_BUCKET_BLOCKS_TOUCHED], s[i + SmmallocNative.SM_BUCKET_BLOCKS_IN_USE], s[i + SmmallocNative.SM_BUCKET_BLOCKS_CACHED],
                    s[i + SmmallocNative.SM_BUCKET_CACHE_HITS], s[i + SmmallocNative.SM_BUCKET_GLOBAL_HITS], s[i + SmmallocNative.SM_BUCKET_FALLBACKS]));
        }
        return new SmmallocStats(buckets, s[SmmallocNative.SM_STATS_FALLBACK_ALLOCS], s[SmmallocNative.SM_STATS_FALLBACK_BLOCKS_IN_USE],
                s[SmmallocNative.SM_STATS_FALLBACK_BYTES_IN_USE], s[SmmallocNative.SM_STATS_THREAD_CACHES]);
    }

    /**
     * Walks every structure (free lists, state table, caches, fallback registry) and verifies
     * the invariants. Safe at any time, also while other threads allocate: it waits until no
     * other call is inside the allocator, holds new calls back while it walks (they wait, for
     * about as long as the walk takes, which grows with the blocks handed out so far) and then
     * lets them go on. A health check may call it; a tight loop of checks slows every allocating
     * thread down.
     *
     * @throws IllegalStateException with the number of broken invariants, or if closed
     * @throws OutOfMemoryError if the walk's bitmap (one bit per block handed out) cannot be had
     */
    public void check() {
        int broken = GatedSmmallocNative.nalloc_sm_check(openGate());
        if (broken == GatedSmmallocNative.NALLOC_SM_CLOSED) {
            throw closed();
        }
        if (broken == SmmallocNative.SM_CHECK_NO_MEMORY) {
            throw new OutOfMemoryError("sm_check found no memory for its walk");
        }
        if (broken != 0) {
            throw new IllegalStateException("smmalloc invariants broken=" + broken + " (sm_check)");
        }
    }

    /**
     * Releases the reservation, every live fallback block and the calling thread's cache. Other
     * threads may be inside calls meanwhile: each of them completes normally or throws
     * {@link IllegalStateException}, and this method returns only once none of them can touch the
     * allocator's memory any more (it waits for the calls inside, which take nanoseconds to
     * microseconds). Calls made afterwards from any thread throw
     * {@link IllegalStateException}. Other threads' idle caches are released by those threads at
     * exit or at their next smmalloc call. Calling it again does nothing.
     */
    @Override
    public void close() {
        synchronized (lifecycle) {
            if (open) {
                open = false;
                SmmallocDoor.close(gate);
            }
        }
    }

    /** {@code "Smmalloc[buckets=8]"} or {@code "Smmalloc[closed]"}; no native call. */
    @Override
    public String toString() {
        return open ? "Smmalloc[buckets=" + bucketCount + "]" : "Smmalloc[closed]";
    }
}
