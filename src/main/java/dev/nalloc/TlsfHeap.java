package dev.nalloc;

import dev.nalloc.internal.Blocks;
import dev.nalloc.internal.door.GateDoor;
import dev.nalloc.internal.door.SystemDoor;
import dev.nalloc.internal.door.TlsfDoor;
import dev.nalloc.internal.jni.GateNative;
import dev.nalloc.internal.jni.TlsfNative;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Objects;

/**
 * A TLSF (two-level segregated fit) heap: O(1) malloc and free with a bounded worst case,
 * immediate coalescing and one word of header per block, over native memory that the heap
 * owns. Pick it for variable-size blocks that one thread manages: frame data of a real-time
 * loop, records of a store, parse trees.
 *
 * <p><b>Thread safety: confined, checked.</b> A heap is used by one thread at a time, every
 * method included (the C heap takes no locks and even its lookups update a cache). Handing it to
 * another thread between calls is fine: the heap follows its user, at the cost of a process-wide
 * memory barrier (microseconds) on each hand-over; hand it over through a happens-before edge
 * (a lock, a volatile, a queue). A call made while another thread is inside a call on the same
 * heap, {@link #close()} included, is refused with {@link IllegalStateException} naming both
 * threads, and the heap is left intact: the caller that came second learns of the bug instead of
 * corrupting the heap. The check costs the thread that uses the heap a few plain loads and stores
 * per call, no atomic instruction (see {@code Lease}). For a heap shared by threads use
 * {@link SharedTlsfHeap}, or give each thread its own heap. The hot methods take no lock and
 * allocate nothing.
 *
 * <p><b>Memory.</b> {@link #create(long)} takes one pool from the system allocator
 * ({@code posix_memalign}, 64-byte aligned) that {@link #close()} frees.
 * {@link #create(long, ChunkAllocator)} takes its first region and every later pool from a
 * {@link ChunkAllocator} and grows on demand; see there.
 *
 * <p><b>Errors.</b> As {@link NativeAllocator} states: exhaustion gives 0, bad arguments and
 * addresses that are not live blocks give {@link IllegalArgumentException} with the heap
 * unchanged (the C layer keeps a live bitmap per pool, so the check is exact and O(1) with few
 * pools), and every call after {@link #close()} gives {@link IllegalStateException}.
 */
public final class TlsfHeap implements NativeAllocator {
    /** Alignment of every block and of every pool start. */
    private static final long ALIGN = TlsfNative.tlsf_align_size();
    private static final long MINIMUM_BYTES = TlsfNative.tlsf_size() + TlsfNative.tlsf_pool_size_for(0, 0);
    private static final long BLOCK_SIZE_MAX = TlsfNative.tlsf_block_size_max();
    /** Alignment of the pool from the system allocator: a cache line. */
    private static final long SYSTEM_POOL_ALIGNMENT = 64;
    /** Growth chunks are multiples of a page, friendly to page-based chunk allocators. */
    private static final long GROWTH_GRANULE = 4096;
    /** Past this, growth stops doubling and adds what the request needs. */
    private static final long GROWTH_DOUBLING_LIMIT = BLOCK_SIZE_MAX / 4;

    /*
     * Confinement, checked without atomic instructions on the user's path. The thread using the
     * heap holds the current Lease and counts its calls in it (plain stores, ordered for the
     * compiler); a thread that finds another's lease installs its own, runs the process-wide
     * barrier (nalloc_gate_barrier: every other thread executes a full fence) and then reads the
     * old lease's count. Either the old holder's count store is visible after the barrier, and
     * the newcomer backs out with an exception, or the old holder's re-read of the lease, after
     * its store, sees the new lease and it backs out to claim() itself. Where the system has no
     * such barrier the count store is volatile instead.
     */
    private static final boolean LIGHT = GateNative.nalloc_gate_light() == 1;
    private static final VarHandle LEASE;
    private static final VarHandle INSIDE;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            LEASE = lookup.findVarHandle(TlsfHeap.class, "lease", Lease.class);
            INSIDE = lookup.findVarHandle(Lease.class, "inside", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** One thread's right to use the heap; {@code inside} is written by that thread only. */
    private static final class Lease {
        final Thread thread;
        /** Calls of {@code thread} in progress (nested through a ChunkAllocator callback: more than 1). */
        int inside;

        Lease(Thread thread) {
            this.thread = thread;
        }
    }

    /** The current lease; accessed through LEASE. */
    @SuppressWarnings("unused")
    private Lease lease = new Lease(Thread.currentThread());
    /** Serializes claims (hand-overs), never taken by the lease holder's calls. */
    private final Object claims = new Object();
    /** False for the heap inside a SharedTlsfHeap, whose monitor confines every call. */
    private boolean confined = true;

    /** The tlsf_t; 0 once closed. Plain: confined (see Lease). */
    private long heap;
    /** null: one pool from the system allocator. */
    private final ChunkAllocator chunks;
    /** Memory held, index 0 = the first region (control structure + first pool). */
    private long[] chunkAddress = new long[4];
    private long[] chunkBytes = new long[4];
    private long[] poolAddress = new long[4];
    private int chunkCount;
    private long heldBytes;

    private TlsfHeap(ChunkAllocator chunks) {
        this.chunks = chunks;
    }

    /**
     * The smallest size {@link #create(long)} and {@link #create(long, ChunkAllocator)} accept:
     * the control structure ({@code tlsf_size()}) plus the smallest pool that holds one
     * minimum block ({@code tlsf_pool_size_for(0, 0)}). A heap this small serves one tiny block;
     * size real heaps by their payload.
     *
     * @return bytes
     */
    public static long minimumBytes() {
        return MINIMUM_BYTES;
    }

    /**
     * Creates a heap over one pool of {@code poolBytes} bytes taken from the system allocator
     * (64-byte aligned). The heap never grows: when the pool is full, {@code malloc} returns 0.
     * The control structure (a few KiB) lives at the start of the pool.
     *
     * @param poolBytes bytes of the pool, at least {@link #minimumBytes()}
     * @return a new heap, owned by the calling thread
     * @throws IllegalArgumentException if {@code poolBytes} is below {@link #minimumBytes()}, or
     *         so large that a single pool cannot describe it (about 1 TiB)
     * @throws OutOfMemoryError if the system allocator cannot provide the pool
     */
    public static TlsfHeap create(long poolBytes) {
        checkRegionBytes("poolBytes", poolBytes);
        long memory = SystemDoor.alloc(SYSTEM_POOL_ALIGNMENT, poolBytes);
        if (memory == 0) {
            throw new OutOfMemoryError("system allocator refused poolBytes=" + poolBytes);
        }
        TlsfHeap result = new TlsfHeap(null);
        long handle = TlsfNative.tlsf_create(memory, poolBytes);
        if (handle == 0) {
            SystemDoor.free(memory);
            throw new IllegalArgumentException("poolBytes=" + poolBytes + " is too large for one pool");
        }
        result.heap = handle;
        result.record(memory, poolBytes, memory);
        return result;
    }

    /**
     * Creates a heap that takes its memory from {@code chunks} and grows on demand.
     *
     * <p>The first chunk, of {@code initialBytes} bytes, holds the control structure and the
     * first pool; it is kept for the heap's life. When {@code malloc} or {@code realloc} finds no
     * room, the heap asks for one more chunk of {@code max(P, H)} bytes, where {@code P} is the
     * pool the request needs ({@code tlsf_pool_size_for(size, alignment)} plus 16 bytes of
     * alignment slack, rounded up to 4 KiB) and {@code H} the bytes the heap already holds, adds it
     * as a pool and retries once. If that larger chunk is refused (0) and {@code P < H}, it asks
     * once more for {@code P}. A chunk allocator that returns 0 means "no more memory": the
     * allocation returns 0 and the heap is unchanged.
     *
     * <p>Why geometric growth: the heap's size at least doubles with each new pool, so the pool
     * count stays logarithmic in the heap's size. That matters because validating an address
     * ({@code free}, {@code realloc}, {@code size}) is O(1) for the most recently used pool but
     * O(pools) otherwise.
     *
     * <p>{@link #close()} hands every chunk back through {@link ChunkAllocator#freeChunk} with
     * exactly the address and size it got; {@link #trim()} hands back grown pools that are
     * entirely free.
     *
     * @param initialBytes size of the first chunk, at least {@link #minimumBytes()}
     *        (plus 15 bytes if the chunk allocator may return chunks not aligned to 16 bytes)
     * @param chunks source of memory; called on the heap's thread
     * @return a new heap, owned by the calling thread
     * @throws IllegalArgumentException if {@code initialBytes} is below {@link #minimumBytes()}
     *         or too large for one pool
     * @throws OutOfMemoryError if {@code chunks} returns 0 for the first chunk
     * @throws IllegalStateException if the first chunk is unusable (too small once aligned, or an
     *         address range that wraps); it is handed back first
     */
    public static TlsfHeap create(long initialBytes, ChunkAllocator chunks) {
        Objects.requireNonNull(chunks, "chunks");
        checkRegionBytes("initialBytes", initialBytes);
        long chunk = chunks.allocateChunk(initialBytes);
        if (chunk == 0) {
            throw new OutOfMemoryError("chunk allocator refused initialBytes=" + initialBytes);
        }
        long start = alignUp(chunk);
        long usable = usableBytes(chunk, initialBytes, start);
        long handle = usable >= MINIMUM_BYTES ? TlsfNative.tlsf_create(start, usable) : 0;
        if (handle == 0) {
            chunks.freeChunk(chunk, initialBytes);
            throw new IllegalStateException("first chunk address=" + Blocks.hex(chunk) + " bytes=" + initialBytes
                    + " is unusable: usable=" + usable + " after aligning to " + ALIGN + " bytes, minimum=" + MINIMUM_BYTES);
        }
        TlsfHeap result = new TlsfHeap(chunks);
        result.heap = handle;
        result.record(chunk, initialBytes, start);
        return result;
    }

    private static void checkRegionBytes(String name, long bytes) {
        if (bytes < MINIMUM_BYTES) {
            throw new IllegalArgumentException(name + "=" + bytes + " is below the minimum=" + MINIMUM_BYTES);
        }
    }

    private static long alignUp(long address) {
        return (address + ALIGN - 1) & -ALIGN;
    }

    /** Bytes of [start, chunk + bytes) rounded down to the alignment. */
    private static long usableBytes(long chunk, long bytes, long start) {
        return (bytes - (start - chunk)) & -ALIGN;
    }

    private void record(long chunk, long bytes, long pool) {
        if (chunkCount == chunkAddress.length) {
            int n = chunkCount * 2;
            chunkAddress = Arrays.copyOf(chunkAddress, n);
            chunkBytes = Arrays.copyOf(chunkBytes, n);
            poolAddress = Arrays.copyOf(poolAddress, n);
        }
        chunkAddress[chunkCount] = chunk;
        chunkBytes[chunkCount] = bytes;
        poolAddress[chunkCount] = pool;
        chunkCount++;
        heldBytes += bytes;
    }

    /** For SharedTlsfHeap, before it publishes this heap: its monitor confines every call. */
    TlsfHeap confinedByCaller() {
        confined = false;
        return this;
    }

    /**
     * Starts a call of the current thread: its lease, with the call counted. Claims the heap when
     * another thread held it last. Null for a heap confined by its caller.
     */
    private Lease enter() {
        if (!confined) {
            return null;
        }
        Thread me = Thread.currentThread();
        for (;;) {
            Lease l = (Lease) LEASE.getOpaque(this);
            if (l.thread != me) {
                l = claim(me);
            }
            if (LIGHT) {
                INSIDE.setOpaque(l, l.inside + 1);
                VarHandle.acquireFence(); // the compiler keeps the re-read below after the store
            } else {
                INSIDE.setVolatile(l, l.inside + 1);
            }
            if (LEASE.getOpaque(this) == l) {
                return l;
            }
            INSIDE.setRelease(l, l.inside - 1); // claimed meanwhile: back out, claim it back
        }
    }

    /** Ends a call started by enter(). */
    private static void leave(Lease l) {
        if (l != null) {
            INSIDE.setRelease(l, l.inside - 1);
        }
    }

    /** Hands the heap to {@code me}, or refuses when its holder is inside a call. */
    private Lease claim(Thread me) {
        synchronized (claims) {
            Lease current = (Lease) LEASE.getVolatile(this);
            if (current.thread == me) {
                return current;
            }
            Lease mine = new Lease(me);
            LEASE.setVolatile(this, mine);
            GateDoor.barrier();
            if ((int) INSIDE.getVolatile(current) != 0) {
                LEASE.setVolatile(this, current);
                throw new IllegalStateException("TlsfHeap called by thread=" + me.getName() + " while thread="
                        + current.thread.getName() + " is inside a call on it: a TlsfHeap is confined to one thread"
                        + " at a time (use SharedTlsfHeap to share one); the heap is unchanged");
            }
            return mine;
        }
    }

    private long handle() {
        long h = heap;
        if (h == 0) {
            throw Blocks.closed("TlsfHeap");
        }
        return h;
    }

    /**
     * {@inheritDoc} With a {@link ChunkAllocator}, the heap grows when it has no room (see
     * {@link #create(long, ChunkAllocator)}); an exception thrown by the chunk allocator
     * propagates and the heap stays unchanged.
     */
    @Override
    public long malloc(long size) {
        Lease l = enter();
        try {
            return mallocInside(size);
        } finally {
            leave(l);
        }
    }

    private long mallocInside(long size) {
        long h = handle();
        Blocks.checkSize(size);
        long p = TlsfDoor.malloc(h, size);
        if (p == 0 && chunks != null && grow(size, 0)) {
            p = TlsfDoor.malloc(h, size);
        }
        return p;
    }

    /**
     * {@inheritDoc} {@link #realloc} keeps at least this alignment when it has to move the block.
     */
    @Override
    public long malloc(long size, long alignment) {
        Lease l = enter();
        try {
            long h = handle();
            Blocks.checkSize(size);
            Blocks.checkAlignment(alignment);
            long p = TlsfDoor.memalign(h, alignment, size);
            if (p == 0 && chunks != null && grow(size, alignment)) {
                p = TlsfDoor.memalign(h, alignment, size);
            }
            return p;
        } finally {
            leave(l);
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>Shrinking and growing happen in place when a neighbouring block allows it; a block from
     * {@link #malloc(long, long)} keeps its alignment when it moves. {@code size} 0 shrinks the
     * block to the minimum size and returns it (it does not free it). A heap with a
     * {@link ChunkAllocator} grows when it must, as {@link #malloc(long)} does.
     */
    @Override
    public long realloc(long address, long size) {
        Lease l = enter();
        try {
            long h = handle();
            Blocks.checkSize(size);
            if (address == 0) {
                return mallocInside(size);
            }
            long p = TlsfDoor.realloc(h, address, size);
            if (p == 0) {
                // tlsf_realloc refuses non-live blocks without touching them: tell the cases apart
                // only on this (cold) path.
                if (TlsfDoor.owns(h, address) == 0) {
                    throw notLive(address);
                }
                // A moved block needs at most its current alignment (a power of two dividing it).
                long alignment = Math.min(Long.lowestOneBit(address), ALIGNMENT_MAX);
                if (chunks != null && grow(size, alignment > ALIGN ? alignment : 0)) {
                    p = TlsfDoor.realloc(h, address, size);
                }
            }
            return p;
        } finally {
            leave(l);
        }
    }

    /** {@inheritDoc} Exact: the heap keeps a bit per possible block start. */
    @Override
    public void free(long address) {
        Lease l = enter();
        try {
            long h = handle();
            if (address != 0 && TlsfDoor.freeChecked(h, address) != TlsfNative.TLSF_OK) {
                throw notLive(address);
            }
        } finally {
            leave(l);
        }
    }

    @Override
    public long size(long address) {
        Lease l = enter();
        try {
            long usable = TlsfDoor.usableSize(handle(), address);
            if (usable == 0) {
                throw notLive(address);
            }
            return usable;
        } finally {
            leave(l);
        }
    }

    private static IllegalArgumentException notLive(long address) {
        return Blocks.notLive(address, "heap", "double free or foreign pointer");
    }

    /** False: single-threaded by contract (see the class notes); use {@link SharedTlsfHeap}. */
    @Override
    public boolean isThreadSafe() {
        return false;
    }

    /**
     * A direct buffer over the whole usable size of a block, without copying: writes through the
     * buffer are writes to the block. Native byte order, position 0, limit = capacity =
     * {@link #size(long)}.
     *
     * <p>The view is raw: it does not keep the block alive and is not invalidated by
     * {@code free}, {@code realloc} or {@code close}. Using it after the block is freed or moved
     * reads or corrupts other memory and may crash the JVM; drop the view first.
     *
     * @param address a live block of this heap
     * @return a new buffer over the block
     * @throws IllegalArgumentException if {@code address} is not a live block, or its usable size
     *         exceeds {@link Integer#MAX_VALUE}
     * @throws IllegalStateException if the heap is closed
     */
    public ByteBuffer view(long address) {
        return Blocks.view(address, size(address));
    }

    /**
     * A direct buffer over the first {@code length} bytes of a block, as {@link #view(long)}.
     *
     * @param address a live block of this heap
     * @param length bytes, 0 to {@link #size(long) size(address)}
     * @return a new buffer over the block
     * @throws IllegalArgumentException if {@code address} is not a live block or {@code length}
     *         is outside 0..usable size
     * @throws IllegalStateException if the heap is closed
     */
    public ByteBuffer view(long address, int length) {
        return Blocks.view(address, length, size(address));
    }

    /**
     * The heap's counters; O(1) apart from one free-list scan for the largest free block.
     *
     * @return a new snapshot
     * @throws IllegalStateException if the heap is closed
     */
    public TlsfStats stats() {
        long[] s = new long[TlsfNative.TLSF_STATS_LONGS];
        Lease l = enter();
        try {
            TlsfNative.tlsf_stats(handle(), s);
        } finally {
            leave(l);
        }
        return new TlsfStats(s[TlsfNative.TLSF_STATS_POOL_BYTES], s[TlsfNative.TLSF_STATS_USED_BYTES],
                s[TlsfNative.TLSF_STATS_FREE_BYTES], s[TlsfNative.TLSF_STATS_LARGEST_FREE_BLOCK],
                s[TlsfNative.TLSF_STATS_USED_BLOCKS], s[TlsfNative.TLSF_STATS_FREE_BLOCKS], chunkCount);
    }

    /**
     * Walks every block and free list and verifies the heap's invariants (bitmaps, list links,
     * sizes, coalescing, live bits, counters). O(blocks): for tests and debugging.
     *
     * @throws IllegalStateException naming the first broken invariant, or if the heap is closed
     */
    public void check() {
        int code;
        Lease l = enter();
        try {
            code = TlsfNative.tlsf_check(handle());
        } finally {
            leave(l);
        }
        if (code != TlsfNative.TLSF_INV_OK) {
            throw new IllegalStateException("TLSF invariant broken: " + TlsfNative.tlsf_invariant_name(code)
                    + " (tlsf_check=" + code + ")");
        }
    }

    /**
     * Hands back to the {@link ChunkAllocator} every pool added by growth that holds no
     * allocated block. The first region is never released. A heap from {@link #create(long)}
     * has nothing to trim.
     *
     * @return bytes handed back
     * @throws IllegalStateException if the heap is closed
     */
    public long trim() {
        Lease l = enter();
        try {
            long h = handle();
            long released = 0;
            for (int i = chunkCount - 1; i >= 1; i--) {
                if (TlsfNative.tlsf_remove_pool(h, poolAddress[i]) == TlsfNative.TLSF_OK) {
                    long chunk = chunkAddress[i];
                    long bytes = chunkBytes[i];
                    forget(i);
                    released += bytes;
                    chunks.freeChunk(chunk, bytes);
                }
            }
            return released;
        } finally {
            leave(l);
        }
    }

    private void forget(int i) {
        heldBytes -= chunkBytes[i];
        int tail = chunkCount - i - 1;
        System.arraycopy(chunkAddress, i + 1, chunkAddress, i, tail);
        System.arraycopy(chunkBytes, i + 1, chunkBytes, i, tail);
        System.arraycopy(poolAddress, i + 1, poolAddress, i, tail);
        chunkCount--;
    }

    /** Adds a pool that can serve (size, alignment); false when none can be had. */
    private boolean grow(long size, long alignment) {
        if (size > BLOCK_SIZE_MAX) {
            return false;
        }
        long poolNeed = TlsfNative.tlsf_pool_size_for(size, alignment);
        if (poolNeed == 0 || poolNeed > BLOCK_SIZE_MAX) {
            return false;
        }
        long need = (poolNeed + ALIGN + GROWTH_GRANULE - 1) & -GROWTH_GRANULE;
        long bytes = Math.max(need, Math.min(heldBytes, GROWTH_DOUBLING_LIMIT));
        long chunk = chunks.allocateChunk(bytes);
        if (chunk == 0 && bytes > need) {
            bytes = need;
            chunk = chunks.allocateChunk(bytes);
        }
        if (chunk == 0) {
            return false;
        }
        long start = alignUp(chunk);
        int rc = TlsfNative.tlsf_add_pool(heap, start, usableBytes(chunk, bytes, start));
        if (rc != TlsfNative.TLSF_OK) {
            chunks.freeChunk(chunk, bytes);
            throw new IllegalStateException("chunk allocator returned an unusable chunk address=" + Blocks.hex(chunk)
                    + " bytes=" + bytes + " (tlsf_add_pool=" + rc + ", e.g. it overlaps memory the heap holds)");
        }
        record(chunk, bytes, start);
        return true;
    }

    /**
     * Releases the heap and all its memory: every block becomes invalid. The system pool is
     * freed, or every chunk is handed back to the {@link ChunkAllocator} (last first) with the
     * address and size it was obtained with; if {@code freeChunk} throws, the remaining chunks
     * are still handed back and the first exception is rethrown with the others suppressed.
     * Calling it again does nothing. From a thread other than the last user it is a hand-over
     * first: refused with {@link IllegalStateException}, heap intact, while that thread is inside a
     * call.
     */
    @Override
    public void close() {
        Lease l = enter();
        try {
            closeInside();
        } finally {
            leave(l);
        }
    }

    private void closeInside() {
        if (heap == 0) {
            return;
        }
        heap = 0;
        if (chunks == null) {
            SystemDoor.free(chunkAddress[0]);
            chunkCount = 0;
            heldBytes = 0;
            return;
        }
        RuntimeException failure = null;
        for (int i = chunkCount - 1; i >= 0; i--) {
            try {
                chunks.freeChunk(chunkAddress[i], chunkBytes[i]);
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = e;
                } else if (failure != e) {
                    failure.addSuppressed(e);
                }
            }
        }
        chunkCount = 0;
        heldBytes = 0;
        if (failure != null) {
            throw failure;
        }
    }

    /** {@code "TlsfHeap[pools=.. heldBytes=..]"} or {@code "TlsfHeap[closed]"}; no native call. */
    @Override
    public String toString() {
        return heap == 0 ? "TlsfHeap[closed]" : "TlsfHeap[pools=" + chunkCount + " heldBytes=" + heldBytes + "]";
    }
}
