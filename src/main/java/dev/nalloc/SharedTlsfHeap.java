package dev.nalloc;

import java.nio.ByteBuffer;

/**
 * A {@link TlsfHeap} that any number of threads may use at once: every method runs under one
 * lock. Same methods, same results and exceptions as {@link TlsfHeap}.
 *
 * <p><b>What it costs.</b> Each call acquires and releases the lock: uncontended, one atomic
 * compare-and-swap to enter and one to leave (tens of nanoseconds on top of the call itself);
 * contended, the threads take turns, so throughput does not scale with threads and a thread may
 * wait for another's call, including a {@link ChunkAllocator} call during growth. For many
 * threads allocating small blocks use {@link Smmalloc} (lock-free, per-thread caches); for
 * per-thread data, one {@link TlsfHeap} per thread.
 *
 * <p><b>Why {@code synchronized}.</b> Since JDK 15 (no biased locking) an uncontended
 * {@code synchronized} block and an uncontended {@link java.util.concurrent.locks.ReentrantLock}
 * both cost a CAS to enter and leave; {@code synchronized} needs no extra object, allocates no
 * queue node when threads wait, and cannot be left locked by a forgotten {@code unlock()}. The
 * monitor is a private object, so callers cannot hold it.
 *
 * <p>Blocks may be freed by a thread other than the one that allocated them; the lock provides
 * the happens-before edges for the heap's own state, the caller remains responsible for
 * publishing the address (and the block's contents) to the other thread. {@link #close()} takes
 * the lock too, so it waits for a call in progress; calls that start after it throw
 * {@link IllegalStateException}.
 */
public final class SharedTlsfHeap implements NativeAllocator {
    /** Guarded by itself: the monitor of every call. */
    private final TlsfHeap heap;

    private SharedTlsfHeap(TlsfHeap heap) {
        this.heap = heap;
    }

    /**
     * A shared heap over one pool from the system allocator, as {@link TlsfHeap#create(long)}.
     *
     * @param poolBytes bytes of the pool, at least {@link TlsfHeap#minimumBytes()}
     * @return a new heap
     * @throws IllegalArgumentException if {@code poolBytes} is out of range
     * @throws OutOfMemoryError if the system allocator cannot provide the pool
     */
    public static SharedTlsfHeap create(long poolBytes) {
        return new SharedTlsfHeap(TlsfHeap.create(poolBytes).confinedByCaller());
    }

    /**
     * A shared heap that grows through {@code chunks}, as
     * {@link TlsfHeap#create(long, ChunkAllocator)}. {@code chunks} is called while the lock is
     * held, by whichever thread needs the memory.
     *
     * @param initialBytes size of the first chunk, at least {@link TlsfHeap#minimumBytes()}
     * @param chunks source of memory
     * @return a new heap
     * @throws IllegalArgumentException if {@code initialBytes} is out of range
     * @throws OutOfMemoryError if {@code chunks} returns 0 for the first chunk
     */
    public static SharedTlsfHeap create(long initialBytes, ChunkAllocator chunks) {
        return new SharedTlsfHeap(TlsfHeap.create(initialBytes, chunks).confinedByCaller());
    }

    /** {@inheritDoc} Under the lock. */
    @Override
    public long malloc(long size) {
        synchronized (heap) {
            return heap.malloc(size);
        }
    }

    /** {@inheritDoc} Under the lock. */
    @Override
    public long malloc(long size, long alignment) {
        synchronized (heap) {
            return heap.malloc(size, alignment);
        }
    }

    /** {@inheritDoc} Under the lock; see {@link TlsfHeap#realloc(long, long)}. */
    @Override
    public long realloc(long address, long size) {
        synchronized (heap) {
            return heap.realloc(address, size);
        }
    }

    /** {@inheritDoc} Under the lock. */
    @Override
    public void free(long address) {
        synchronized (heap) {
            heap.free(address);
        }
    }

    /** {@inheritDoc} Under the lock. */
    @Override
    public long size(long address) {
        synchronized (heap) {
            return heap.size(address);
        }
    }

    /** True: every call takes the heap's lock. */
    @Override
    public boolean isThreadSafe() {
        return true;
    }

    /**
     * As {@link TlsfHeap#view(long)}; the size is read under the lock. The view is raw: it must
     * not be used after any thread frees or moves the block.
     *
     * @param address a live block of this heap
     * @return a new native-order buffer over the whole usable size
     */
    public ByteBuffer view(long address) {
        synchronized (heap) {
            return heap.view(address);
        }
    }

    /**
     * As {@link TlsfHeap#view(long, int)}.
     *
     * @param address a live block of this heap
     * @param length bytes, 0 to the usable size
     * @return a new native-order buffer over the first {@code length} bytes
     */
    public ByteBuffer view(long address, int length) {
        synchronized (heap) {
            return heap.view(address, length);
        }
    }

    /**
     * As {@link TlsfHeap#stats()}, a consistent snapshot (taken under the lock).
     *
     * @return a new snapshot
     */
    public TlsfStats stats() {
        synchronized (heap) {
            return heap.stats();
        }
    }

    /**
     * As {@link TlsfHeap#check()}; holds the lock for the whole walk (O(blocks)).
     *
     * @throws IllegalStateException naming the first broken invariant, or if closed
     */
    public void check() {
        synchronized (heap) {
            heap.check();
        }
    }

    /**
     * As {@link TlsfHeap#trim()}.
     *
     * @return bytes handed back to the chunk allocator
     */
    public long trim() {
        synchronized (heap) {
            return heap.trim();
        }
    }

    /** {@inheritDoc} Waits for a call in progress (takes the lock). */
    @Override
    public void close() {
        synchronized (heap) {
            heap.close();
        }
    }

    /** The state of the wrapped heap, e.g. {@code "SharedTlsfHeap[pools=1 heldBytes=1048576]"}. */
    @Override
    public String toString() {
        synchronized (heap) {
            return "Shared" + heap;
        }
    }
}
