package dev.nalloc.toolkit;

import dev.nalloc.NativeAllocator;
import dev.nalloc.internal.Blocks;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * {@link BlockPool} for many threads, lock-free: any number of threads allocate and free blocks
 * at once (a block may be freed by another thread than the one that took it), and only growing by
 * a chunk takes a lock.
 *
 * <p><b>The free list</b> is a Treiber stack of block indices: the head is one {@link AtomicLong}
 * holding {@code (tag << 32) | (top index + 1)}, and each block's successor lives in an
 * {@link AtomicIntegerArray} beside its chunk, never in the block (a thread popping a block can
 * then never race with the new owner writing into it).
 *
 * <p><b>ABA</b>: a pop reads the head (top A, successor B) and swings it to B with a CAS. If
 * between the read and the CAS other threads pop A, pop B and push A back, the head shows A again
 * but A's successor is no longer B; a CAS on the index alone would succeed and hand B out twice.
 * The tag makes the CAS fail instead: it grows by one on every successful CAS, so "A again" is a
 * different 64-bit value. It wraps after 2<sup>32</sup> successful operations, all of which would
 * have to happen inside one thread's read-to-CAS window for an ABA to slip through; the course
 * notes' second remedy (hold freed nodes back until a sync point) is not needed. Java's atomics
 * give the orderings: the successor written before a push's CAS is visible to whoever pops it.
 *
 * <p><b>Checks</b>: one allocated bit per block, flipped by CAS, so double frees (even two threads
 * freeing one block at once) and foreign or interior addresses are {@link IllegalArgumentException}s
 * with the pool unchanged.
 *
 * <p><b>Thread safety:</b> every method but {@link #close()} may be called from any thread at any
 * time; {@code close} needs the pool quiescent. A parent is only called while growing (under the
 * pool's lock) and on close: it must be thread-safe if other threads use it meanwhile.
 */
public final class ConcurrentBlockPool extends BlockPoolBase {
    /** The chunks in two orders, published together (copy on grow). */
    private static final class Directory {
        final ChunkIndex index;
        final Chunk[] byNumber;

        Directory(ChunkIndex index, Chunk[] byNumber) {
            this.index = index;
            this.byNumber = byNumber;
        }
    }

    private static final class Chunk {
        final long base;
        final AtomicIntegerArray next; // successor index + 1 of each free block, 0 = end
        final AtomicLongArray allocated;

        Chunk(long base, int blocks) {
            this.base = base;
            this.next = new AtomicIntegerArray(blocks);
            this.allocated = new AtomicLongArray((blocks + 63) >>> 6);
        }
    }

    /**
     * Tests only: run by {@link #allocBlock()} between reading the head's successor and the CAS,
     * the window in which ABA strikes, so a test can make it happen on purpose. Null otherwise (one
     * static load per pop).
     */
    static Runnable popWindowHook;

    private final AtomicLong head = new AtomicLong();
    private final LongAdder live = new LongAdder();
    private final Object growLock = new Object();
    private volatile Directory directory = new Directory(ChunkIndex.EMPTY, new Chunk[0]);
    private volatile boolean closed;

    private ConcurrentBlockPool(PoolLayout layout) {
        super(layout);
        if (!layout.grows()) {
            publishAndPush(layout.bufferAddress);
        }
    }

    /**
     * A pool that takes chunks of {@code blocksPerChunk} blocks from {@code parent} as needed.
     *
     * @param parent gives and takes back the chunks (must support single frees)
     * @param blockSize bytes per block, 1 to 2<sup>40</sup>
     * @param alignment of every block, a power of two up to {@value NativeAllocator#ALIGNMENT_MAX}
     * @param blocksPerChunk blocks per chunk, {@code >= 1}
     * @return a new, empty pool
     * @throws IllegalArgumentException if an argument is out of range
     */
    public static ConcurrentBlockPool over(NativeAllocator parent, long blockSize, long alignment, int blocksPerChunk) {
        return new ConcurrentBlockPool(PoolLayout.growing(parent, blockSize, alignment, blocksPerChunk));
    }

    /**
     * A pool over {@code [address, address + bytes)}, memory the caller owns; never grows.
     *
     * @param address start of the buffer
     * @param bytes size of the buffer
     * @param blockSize bytes per block
     * @param alignment of every block
     * @return a new pool with every block free
     * @throws IllegalArgumentException if an argument is out of range
     */
    public static ConcurrentBlockPool over(long address, long bytes, long blockSize, long alignment) {
        return new ConcurrentBlockPool(PoolLayout.fixed(address, bytes, blockSize, alignment));
    }

    /** Adds a chunk at {@code base} and pushes all its blocks with one CAS. Under growLock or in the constructor. */
    private boolean publishAndPush(long base) {
        Directory d = directory;
        int number = d.byNumber.length;
        int n = layout.blocksPerChunk;
        if ((long) (number + 1) * n > Integer.MAX_VALUE - 1) {
            return false;
        }
        Chunk c = new Chunk(base, n);
        int first = number * n;
        for (int i = 0; i < n - 1; i++) {
            c.next.set(i, first + i + 2); // a chain in address order
        }
        Chunk[] chunks = Arrays.copyOf(d.byNumber, number + 1);
        chunks[number] = c;
        directory = new Directory(d.index.with(base, number), chunks); // before any of its blocks is reachable
        if (n > 0) {
            long h;
            do {
                h = head.get();
                c.next.set(n - 1, (int) h);
            } while (!head.compareAndSet(h, tagged(h, first + 1)));
        }
        return true;
    }

    private static long tagged(long old, int top) {
        return (((old >>> 32) + 1) << 32) | (top & 0xFFFF_FFFFL);
    }

    private boolean grow() {
        if (!layout.grows()) {
            return false;
        }
        synchronized (growLock) {
            if ((int) head.get() != 0) {
                return true; // another thread grew, or blocks came back, meanwhile
            }
            long base = layout.parent.malloc(layout.chunkBytes(), layout.alignment);
            if (base == 0) {
                return false;
            }
            if (!publishAndPush(base)) {
                layout.parent.free(base);
                return false;
            }
            return true;
        }
    }

    @Override
    void checkOpen() {
        if (closed) {
            throw Blocks.closed("ConcurrentBlockPool");
        }
    }

    /**
     * One block of {@link #blockSize()} bytes; lock-free unless the pool has to grow.
     *
     * @return its address, or 0 when the pool is exhausted
     * @throws IllegalStateException if closed
     */
    @Override
    public long allocBlock() {
        checkOpen();
        int n = layout.blocksPerChunk;
        for (;;) {
            long h = head.get();
            int top = (int) h;
            if (top == 0) {
                if (!grow()) {
                    return 0;
                }
                continue;
            }
            int i = top - 1;
            Chunk c = directory.byNumber[i / n];
            int successor = c.next.get(i % n);
            Runnable hook = popWindowHook;
            if (hook != null) {
                hook.run();
            }
            if (head.compareAndSet(h, tagged(h, successor))) {
                int local = i % n;
                long bit = 1L << local;
                long w;
                do {
                    w = c.allocated.get(local >>> 6);
                } while (!c.allocated.compareAndSet(local >>> 6, w, w | bit));
                live.increment();
                return c.base + (long) local * layout.stride;
            }
        }
    }

    /**
     * Returns a block to the pool, from any thread. 0 is ignored.
     *
     * @param address a live block of this pool
     * @throws IllegalArgumentException if {@code address} is not a live block (double free,
     *         foreign or interior address); the pool is unchanged
     * @throws IllegalStateException if closed
     */
    @Override
    public void freeBlock(long address) {
        checkOpen();
        if (address == 0) {
            return;
        }
        Directory d = directory;
        int index = d.index.blockAt(layout, address);
        if (index < 0) {
            throw Blocks.notLive(address, "pool", "foreign or interior pointer");
        }
        int n = layout.blocksPerChunk;
        Chunk c = d.byNumber[index / n];
        int local = index % n;
        long bit = 1L << local;
        long w;
        do {
            w = c.allocated.get(local >>> 6);
            if ((w & bit) == 0) {
                throw Blocks.notLive(address, "pool", "double free");
            }
        } while (!c.allocated.compareAndSet(local >>> 6, w, w & ~bit));
        long h;
        do {
            h = head.get();
            c.next.set(local, (int) h);
        } while (!head.compareAndSet(h, tagged(h, index + 1)));
        live.decrement();
    }

    @Override
    boolean isLive(long address) {
        Directory d = directory;
        int index = d.index.blockAt(layout, address);
        if (index < 0) {
            return false;
        }
        int n = layout.blocksPerChunk;
        int local = index % n;
        return (d.byNumber[index / n].allocated.get(local >>> 6) & (1L << local)) != 0;
    }

    /** True: every method but {@link #close()} may be called from any thread. */
    @Override
    public boolean isThreadSafe() {
        return true;
    }

    /**
     * Blocks handed out and not yet freed (exact when quiescent).
     *
     * @return live blocks
     */
    public long liveBlocks() {
        return live.sum();
    }

    /**
     * Blocks the pool holds, free or not.
     *
     * @return capacity in blocks
     */
    public long capacity() {
        return (long) directory.byNumber.length * layout.blocksPerChunk;
    }

    /**
     * Walks the free list and the allocated bits and checks that they agree: every free block is
     * on the list exactly once, no live block is. Quiescent pools only; for tests.
     *
     * @throws IllegalStateException naming the first broken invariant
     */
    public void check() {
        checkOpen();
        Directory d = directory;
        int n = layout.blocksPerChunk;
        long total = (long) d.byNumber.length * n;
        boolean[] seen = new boolean[(int) total];
        long free = 0;
        for (int top = (int) head.get(); top != 0; ) {
            int i = top - 1;
            if (i < 0 || i >= total) {
                throw new IllegalStateException("free list holds index " + i + " outside " + total + " blocks");
            }
            if (seen[i]) {
                throw new IllegalStateException("block " + i + " is on the free list twice");
            }
            seen[i] = true;
            Chunk c = d.byNumber[i / n];
            if ((c.allocated.get((i % n) >>> 6) & (1L << (i % n))) != 0) {
                throw new IllegalStateException("live block " + i + " is on the free list");
            }
            free++;
            top = c.next.get(i % n);
        }
        long liveBits = 0;
        for (Chunk c : d.byNumber) {
            for (int w = 0; w < c.allocated.length(); w++) {
                liveBits += Long.bitCount(c.allocated.get(w));
            }
        }
        if (free + liveBits != total) {
            throw new IllegalStateException("free=" + free + " + live=" + liveBits + " != blocks=" + total);
        }
        if (liveBits != live.sum()) {
            throw new IllegalStateException("live bits=" + liveBits + " but counter=" + live.sum());
        }
    }

    /** Hands every chunk back to the parent (none for a fixed buffer); needs the pool quiescent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (layout.grows()) {
            for (Chunk c : directory.byNumber) {
                layout.parent.free(c.base);
            }
        }
    }

    @Override
    public String toString() {
        return closed ? "ConcurrentBlockPool[closed]" : "ConcurrentBlockPool[blockSize=" + layout.blockSize
                + ", live=" + live.sum() + " of " + capacity() + "]";
    }
}
