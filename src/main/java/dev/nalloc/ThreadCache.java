package dev.nalloc;

import dev.nalloc.internal.Blocks;
import dev.nalloc.internal.DirectBufferFactory;
import dev.nalloc.internal.RawMemory;
import dev.nalloc.internal.jni.GateNative;
import dev.nalloc.internal.jni.GatedSmmallocNative;
import dev.nalloc.internal.jni.SmmallocNative;
import java.nio.ByteBuffer;

/**
 * A {@link Smmalloc} thread cache, owned by one thread, with the allocator's fastest path:
 * {@link #malloc(long)} and {@link #free(long)} of bucket blocks run in Java, without a JNI call,
 * on the cache's own native stacks of free blocks.
 * <pre>{@code
 * try (ThreadCache cache = smmalloc.threadCache(4096, CacheWarmup.WARM)) {
 *     long p = cache.malloc(48);      // a few ns: no JNI transition
 *     ...
 *     cache.free(p);                  // or smmalloc.free(p), from any thread
 * }                                   // cached blocks go back to the shared lists
 * }</pre>
 * Threads made by {@link Smmalloc#threadFactory} get theirs from
 * {@link Smmalloc#currentThreadCache()}.
 *
 * <p><b>One cache, two doors.</b> This object and the C library share the thread's cache: a
 * block from {@code cache.malloc} may be freed with {@code smmalloc.free} (on any thread) and the
 * other way round, statistics and {@link Smmalloc#check()} see every block, and a thread that ends
 * without closing its cache loses nothing (the C thread-exit hook returns the blocks). Only the
 * empty and full ends of the cache cross into C: an empty cache is refilled with half its capacity
 * of blocks, a full one hands half back, each in one native call. Sizes above the largest bucket,
 * 0, blocks of other allocators' fallback and every call after the cache or allocator is closed go
 * through the allocator's ordinary JNI path with its ordinary checks.
 *
 * <p><b>Checks are not traded for speed.</b> A free of an address that is not a live block (a
 * double free, an interior or foreign address) is an {@link IllegalArgumentException} and changes
 * nothing: the fast path claims the block with the same compare-and-swap on the block's state word
 * that C uses. Calls after {@link #close()} or {@link Smmalloc#close()} are
 * {@link IllegalStateException}s.
 *
 * <p><b>Thread safety:</b> confined to its owner thread; a call from another thread throws
 * {@link IllegalStateException} (and never touches the cache). The fast path is on by default
 * on every JDK ({@link RawMemory}: {@code sun.misc.Unsafe} on JDK 17 to 21, the FFM API on 22+;
 * {@code -Ddev.nalloc.fastPath=false} turns it off; see {@link #isFastPath()}); without it the
 * same methods call the allocator through JNI.
 */
public final class ThreadCache implements AutoCloseable {
    /**
     * Whether close() makes every thread execute a barrier (see Smmalloc's thread-safety notes):
     * then entering the gate takes a plain store, else a volatile one.
     */
    private static final boolean LIGHT_GATE = RawMemory.ENABLED && GateNative.nalloc_gate_light() == 1;

    private final Smmalloc allocator;
    private final Thread owner;
    private boolean closed;

    /*
     * The C cache's layout (sm_thread_cache_layout): addresses of its counts, slots and counters
     * and of the buckets' state words. null = no fast path: the cache is closed, was replaced or
     * destroyed through the allocator, or the fast path is off. Addresses are valid exactly while
     * the C cache lives; every path that destroys it first sets this to null, on the owner thread,
     * and the allocator's own close() is caught by the gate that every fast-path call enters.
     */
    private long[] layout;
    /** The allocator's gate and this thread's reader record (nalloc_gate.h), for the fast path. */
    private long gate;
    private long reader;
    private long base;
    private long dataSpan;
    private int strideLog2;
    private long strideMask;
    private int bucketCount;
    private int markUsed;
    private int markFree;

    ThreadCache(Smmalloc allocator, Thread owner) {
        this.allocator = allocator;
        this.owner = owner;
    }

    /** Enables the fast path over the calling (owner) thread's C cache, if it has one. */
    void attach(long gate) {
        if (!RawMemory.ENABLED) {
            return;
        }
        long r = GateNative.nalloc_gate_reader_of_thread();
        long[] l = new long[SmmallocNative.SM_LAYOUT_HEADER + SmmallocNative.SM_MAX_BUCKETS * SmmallocNative.SM_LAYOUT_BUCKET];
        if (r == 0 || GatedSmmallocNative.nalloc_sm_thread_cache_layout(gate, l) == 0) {
            return; // the C layer could not make the cache (or a reader record): no fast path
        }
        this.gate = gate;
        this.reader = r;
        base = l[SmmallocNative.SM_LAYOUT_BASE];
        dataSpan = l[SmmallocNative.SM_LAYOUT_DATA_SPAN];
        strideLog2 = (int) l[SmmallocNative.SM_LAYOUT_STRIDE_LOG2];
        strideMask = (1L << strideLog2) - 1;
        bucketCount = (int) l[SmmallocNative.SM_LAYOUT_BUCKET_COUNT];
        markUsed = (int) l[SmmallocNative.SM_LAYOUT_MARK_USED];
        markFree = (int) l[SmmallocNative.SM_LAYOUT_MARK_FREE];
        layout = l;
    }

    /** The C cache is going away or being replaced: from now on every call takes the JNI path. */
    void detach() {
        layout = null;
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
     * The allocator this cache serves.
     *
     * @return the allocator
     */
    public Smmalloc allocator() {
        return allocator;
    }

    /**
     * Whether {@link #malloc} and {@link #free} currently run in Java (no JNI call while the cache
     * is neither empty nor full). False when the fast path is off on this JVM (by
     * {@code -Ddev.nalloc.fastPath=false}, or on JDK 22+ where native access is denied), after
     * {@link #close()}, or after the thread's cache was destroyed or replaced through the
     * allocator ({@link Smmalloc#destroyThreadCache()}, {@link Smmalloc#createThreadCache}).
     *
     * @return true when the fast path is active
     */
    public boolean isFastPath() {
        return layout != null;
    }

    /**
     * A block of at least {@code size} bytes, as {@link Smmalloc#malloc(long)}. Sizes 1 to
     * {@code 16 × bucketCount} are served from this cache without a JNI call while it holds a
     * block of the right bucket.
     *
     * @param size requested bytes, {@code >= 0}
     * @return the block's address; 0 when memory is exhausted
     * @throws IllegalArgumentException if {@code size} is negative
     * @throws IllegalStateException if this cache or the allocator is closed, or if called from a
     *         thread other than {@link #owner()}
     */
    public long malloc(long size) {
        long[] l = layout;
        long bucket = (size - 1) >>> 4; // size 0 and negative sizes land far above any bucket
        if (l == null || bucket >= bucketCount || Thread.currentThread() != owner || !enter()) {
            return mallocSlow(size);
        }
        long p = pop(l, SmmallocNative.SM_LAYOUT_HEADER + (int) bucket * SmmallocNative.SM_LAYOUT_BUCKET);
        leave();
        // 0: the cache is empty; C refills it with half its capacity and returns one
        return p != 0 ? p : mallocSlow(size);
    }

    /** The newest block of bucket {@code at}'s stack, or 0 when it is empty. Inside the gate. */
    private long pop(long[] l, int at) {
        long countAddress = l[at + SmmallocNative.SM_LAYOUT_COUNT];
        int n = RawMemory.getInt(countAddress);
        if (n == 0) {
            return 0;
        }
        long k = RawMemory.getInt(l[at + SmmallocNative.SM_LAYOUT_SLOTS] + ((long) (n - 1) << 2)) & 0xFFFF_FFFFL;
        RawMemory.putInt(countAddress, n - 1);
        long hits = l[at + SmmallocNative.SM_LAYOUT_HITS];
        RawMemory.putLong(hits, RawMemory.getLong(hits) + 1);
        RawMemory.putInt(l[at + SmmallocNative.SM_LAYOUT_SIDE] + (k << 2), markUsed);
        return l[at + SmmallocNative.SM_LAYOUT_DATA] + k * l[at + SmmallocNative.SM_LAYOUT_BLOCK_SIZE];
    }

    /*
     * The fast path touches the allocator's memory only between enter() and leave(), the Java
     * half of the gate protocol of nalloc_gate.h: announce the gate in this thread's reader
     * record, then read the gate's state. Smmalloc.close() shuts the gate, runs the process-wide
     * barrier and waits until no record names the gate, so either it waits for this thread or
     * this thread sees the gate shut and takes the slow path, which throws. loadFence() keeps the
     * JIT from moving the state load above the store (no instruction on x86); the barrier in
     * close() does the same for the CPU. Where there is no such barrier the store is volatile.
     */

    /** Enters the allocator's gate; false (not inside) when it is shut or held. */
    private boolean enter() {
        long r = reader;
        if (LIGHT_GATE) {
            RawMemory.putLong(r + GateNative.READER_INSIDE_OFFSET, gate);
            RawMemory.loadFence();
        } else {
            RawMemory.putLongVolatile(r + GateNative.READER_INSIDE_OFFSET, gate);
        }
        if (RawMemory.getIntVolatile(gate + GateNative.GATE_STATE_OFFSET) == GateNative.GATE_OPEN) {
            return true;
        }
        leave();
        return false;
    }

    /** Leaves the gate: everything done inside happens-before a close() that sees it. */
    private void leave() {
        RawMemory.putLongRelease(reader + GateNative.READER_INSIDE_OFFSET, 0L);
    }

    private long mallocSlow(long size) {
        checkUsable();
        return allocator.malloc(size);
    }

    /**
     * Frees a block of the allocator, as {@link Smmalloc#free(long)}; bucket blocks go onto this
     * cache without a JNI call while it is not full. The block may come from any thread's cache or
     * from {@link Smmalloc#malloc}.
     *
     * @param address a live block of the allocator, or 0 (ignored)
     * @throws IllegalArgumentException if {@code address} is not a live block (double free,
     *         interior or foreign address); nothing is changed
     * @throws IllegalStateException if this cache or the allocator is closed, or if called from a
     *         thread other than {@link #owner()}
     */
    public void free(long address) {
        long[] l = layout;
        long offset = address - base;
        if (l == null || Long.compareUnsigned(offset, dataSpan) >= 0 || Thread.currentThread() != owner
                || !enter()) {
            freeSlow(address); // 0, fallback blocks and foreign addresses land here too
            return;
        }
        boolean pushed;
        try {
            pushed = push(l, offset, address);
        } finally {
            leave();
        }
        if (!pushed) {
            freeSlow(address); // C hands half the cache back to the bucket, then takes this block
        }
    }

    /**
     * Claims the block and puts it on its bucket's stack; false when the stack is full. Inside
     * the gate.
     */
    private boolean push(long[] l, long offset, long address) {
        int at = bucketAt(offset);
        long k = blockIndex(l, at, offset, address);
        long countAddress = l[at + SmmallocNative.SM_LAYOUT_COUNT];
        int n = RawMemory.getInt(countAddress);
        if (n == (int) l[at + SmmallocNative.SM_LAYOUT_CAPACITY]) {
            return false;
        }
        if (!RawMemory.casInt(l[at + SmmallocNative.SM_LAYOUT_SIDE] + (k << 2), markUsed, markFree)) {
            throw Smmalloc.notLive(address, SmmallocNative.SM_ERR_DOUBLE_FREE);
        }
        RawMemory.putInt(l[at + SmmallocNative.SM_LAYOUT_SLOTS] + ((long) n << 2), (int) k);
        RawMemory.putInt(countAddress, n + 1);
        long frees = l[at + SmmallocNative.SM_LAYOUT_FREES];
        RawMemory.putLong(frees, RawMemory.getLong(frees) + 1);
        return true;
    }

    /**
     * A direct buffer over the whole usable size of a block, as {@link Smmalloc#view(long)}: for
     * bucket blocks on the fast path neither the liveness check nor the buffer needs a JNI call.
     * The same caveat holds: the view does not keep the block alive.
     *
     * @param address a live block of the allocator
     * @return a new native-order buffer over the block
     * @throws IllegalArgumentException if {@code address} is not a live block
     * @throws IllegalStateException if this cache or the allocator is closed, or if called from a
     *         thread other than {@link #owner()}
     */
    public ByteBuffer view(long address) {
        long[] l = layout;
        long offset = address - base;
        if (l == null || Long.compareUnsigned(offset, dataSpan) >= 0 || Thread.currentThread() != owner
                || !enter()) {
            checkUsable();
            return allocator.view(address);
        }
        int usable;
        try {
            usable = liveBlockSize(l, offset, address);
        } finally {
            leave();
        }
        return DirectBufferFactory.view(address, usable);
    }

    /** The size of the live block at {@code address}; inside the gate. */
    private int liveBlockSize(long[] l, long offset, long address) {
        int at = bucketAt(offset);
        long k = blockIndex(l, at, offset, address);
        if (RawMemory.getInt(l[at + SmmallocNative.SM_LAYOUT_SIDE] + (k << 2)) != markUsed) {
            throw Smmalloc.notLive(address, SmmallocNative.SM_ERR_NOT_OWNED); // a cached or listed block: freed
        }
        return (int) l[at + SmmallocNative.SM_LAYOUT_BLOCK_SIZE];
    }

    /** Index in {@link #layout} of the bucket of {@code offset} (inside the buckets' span). */
    private int bucketAt(long offset) {
        return SmmallocNative.SM_LAYOUT_HEADER + (int) (offset >>> strideLog2) * SmmallocNative.SM_LAYOUT_BUCKET;
    }

    /**
     * The block index of {@code offset} in bucket {@code at}, as C's {@code locate}: refused
     * unless it is the start of a block handed out at least once (a multiple of the block size,
     * below the bump frontier), so the state word read or swapped next always exists.
     */
    private long blockIndex(long[] l, int at, long offset, long address) {
        long within = offset & strideMask;
        long units = within >>> 4;
        long k = (units * l[at + SmmallocNative.SM_LAYOUT_MAGIC]) >>> 32; // exact: units / (bucket + 1)
        if ((within & 15) != 0 || k * l[at + SmmallocNative.SM_LAYOUT_UNITS] != units
                || k >= (RawMemory.getInt(l[at + SmmallocNative.SM_LAYOUT_BUMPED]) & 0xFFFF_FFFFL)) {
            throw Smmalloc.notLive(address, SmmallocNative.SM_ERR_NOT_OWNED);
        }
        return k;
    }

    private void freeSlow(long address) {
        checkUsable();
        allocator.free(address);
    }

    private void checkUsable() {
        Thread current = Thread.currentThread();
        if (current != owner) {
            throw new IllegalStateException("thread=" + current.getName() + " cannot use the ThreadCache of thread="
                    + owner.getName());
        }
        if (closed) {
            throw Blocks.closed("ThreadCache");
        }
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
            layout = null;
            allocator.destroyThreadCacheIfOpen();
        }
    }

    /** {@code "ThreadCache[thread=name fast path on|off, open|closed]"}. */
    @Override
    public String toString() {
        return "ThreadCache[thread=" + owner.getName() + " fast path " + (layout != null ? "on" : "off")
                + (closed ? ", closed]" : ", open]");
    }

    /** Why the fast path is on or off on this JVM (see {@link RawMemory}). */
    static String fastPathStatus() {
        return RawMemory.STATUS;
    }
}
