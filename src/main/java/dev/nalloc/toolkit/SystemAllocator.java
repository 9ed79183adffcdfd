package dev.nalloc.toolkit;

import dev.nalloc.NativeAllocator;
import dev.nalloc.Smmalloc;
import dev.nalloc.TlsfHeap;
import dev.nalloc.internal.Blocks;
import dev.nalloc.internal.door.SystemDoor;




/**
 * The C library's allocator ({@code posix_memalign} / {@code free}; {@code _aligned_malloc} on
 * Windows) behind {@link NativeAllocator}, with the contract every nalloc allocator keeps: a
 * double free or a foreign address is an {@link IllegalArgumentException}, not a dead JVM.
 *
 * <p>libc cannot say whether an address is one of its live blocks, so this class records every
 * block it hands out (address &rarr; requested size) in a striped table and checks
 * {@code free}, {@code realloc} and {@code size} against it. That costs a lock per call; pick
 * {@link Smmalloc} or {@link TlsfHeap} for speed, this class for a baseline, for large and rare
 * blocks, or as the parent of an {@link ArenaAllocator} or {@link BlockPool}.
 *
 * <p><b>Thread safety:</b> every method may be called from any thread; blocks may be freed by
 * another thread than the one that allocated them. {@link #close()} may race with other calls:
 * each racing call completes normally or throws {@link IllegalStateException}, and nothing leaks.
 * A call only ever touches memory it owns alone: a block leaves the registry (under its stripe's
 * lock) before it is freed or copied from, and a new block enters it only after it is written.
 * {@code close()} sets the closed flag and then drains every stripe under its lock, and a call
 * registers a block only under the same lock after seeing the flag clear, so a block is either
 * drained by {@code close()} or freed by the call that holds it, never both. That costs nothing
 * beyond the stripe lock each call already takes.
 */
public final class SystemAllocator implements NativeAllocator {
    private static final int STRIPES = 16; // power of two
    private final LiveBlocks[] stripes = new LiveBlocks[STRIPES];
    /** Written before close() drains the stripes; read under a stripe's lock wherever it matters. */
    private volatile boolean closed;

    /** A new allocator with no live blocks. */
    public SystemAllocator() {
        for (int i = 0; i < STRIPES; i++) {
            stripes[i] = new LiveBlocks();
        }
    }

    private LiveBlocks stripe(long address) {
        return stripes[(int) ((address >>> 4) ^ (address >>> 12)) & (STRIPES - 1)];
    }

    private void checkOpen() {
        if (closed) {
            throw Blocks.closed("SystemAllocator");
        }
    }

    /** {@inheritDoc} Aligned to 16 bytes; the usable size is the requested size (at least 1). */
    @Override
    public long malloc(long size) {
        return malloc(size, 16);
    }

    @Override
    public long malloc(long size, long alignment) {
        checkOpen();
        Blocks.checkSize(size);
        Blocks.checkAlignment(alignment);
        long usable = Math.max(size, 1);
        long p = SystemDoor.alloc(Math.max(alignment, 16), usable);
        if (p != 0) {
            register(p, usable);
        }
        return p;
    }

    /**
     * Hands a new block over to the registry; if close() came first, frees it (it would leak, as
     * close() has drained the stripes already) and throws.
     */
    private void register(long address, long usable) {
        LiveBlocks s = stripe(address);
        synchronized (s) {
            if (!closed) {
                s.put(address, usable);
                return;
            }
        }
        SystemDoor.free(address);
        throw Blocks.closed("SystemAllocator");
    }

    /**
     * The size of a live block; with {@code take}, also takes it out of the registry, so that
     * close() can no longer free it: from there the caller owns it.
     */
    private long lookUp(long address, boolean take) {
        LiveBlocks s = stripe(address);
        long size;
        synchronized (s) {
            checkOpen();
            size = take ? s.remove(address) : s.get(address);
        }
        if (size < 0) {
            throw Blocks.notLive(address, "allocator", "double free or foreign pointer");
        }
        return size;
    }

    /**
     * {@inheritDoc} While it runs, {@code address} is out of the registry (another thread's
     * {@code free} or {@code size} of it is refused), so a racing {@link #close()} cannot free
     * either block under the copy.
     */
    @Override
    public long realloc(long address, long size) {
        checkOpen();
        Blocks.checkSize(size);
        if (address == 0) {
            return malloc(size);
        }
        long old = lookUp(address, true);
        long usable = Math.max(size, 1);
        long p = SystemDoor.alloc(16, usable);
        if (p == 0) {
            register(address, old); // the old block stays valid (or is freed if closed meanwhile)
            return 0;
        }
        Blocks.copy(address, p, Math.min(old, usable));
        SystemDoor.free(address);
        register(p, usable);
        return p;
    }

    @Override
    public void free(long address) {
        if (address == 0) {
            checkOpen();
            return;
        }
        lookUp(address, true);
        SystemDoor.free(address);
    }

    @Override
    public long size(long address) {
        return lookUp(address, false);
    }

    /** True: see the class notes. */
    @Override
    public boolean isThreadSafe() {
        return true;
    }

    /**
     * Blocks currently live.
     *
     * @return the number of blocks allocated and not yet freed
     * @throws IllegalStateException if closed
     */
    public long liveBlocks() {
        checkOpen();
        long n = 0;
        for (LiveBlocks s : stripes) {
            synchronized (s) {
                n += s.count();
            }
        }
        return n;
    }

    /**
     * Bytes currently live (requested sizes, at least 1 per block).
     *
     * @return the sum of the live blocks' usable sizes
     * @throws IllegalStateException if closed
     */
    public long liveBytes() {
        checkOpen();
        long n = 0;
        for (LiveBlocks s : stripes) {
            synchronized (s) {
                n += s.bytes();
            }
        }
        return n;
    }

    /**
     * Frees every block in the registry; later calls throw {@link IllegalStateException}. Calls
     * racing with it complete or throw {@link IllegalStateException} (see the class notes); once
     * it returns, no block it freed can be touched by any call.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (LiveBlocks s : stripes) {
            synchronized (s) {
                s.drain((address, size) -> SystemDoor.free(address));
            }
        }
    }

    @Override
    public String toString() {
        return closed ? "SystemAllocator[closed]" : "SystemAllocator[live=" + liveBlocks() + "]";
    }
}
