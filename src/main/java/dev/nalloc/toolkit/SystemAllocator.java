package dev.nalloc.toolkit;

import dev.nalloc.NativeAllocator;
import dev.nalloc.Smmalloc;
import dev.nalloc.TlsfHeap;
import dev.nalloc.internal.Blocks;
import dev.nalloc.internal.jni.SystemNative;




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
 * another thread than the one that allocated them. {@link #close()} frees every block still live;
 * it must not race with other calls.
 */
public final class SystemAllocator implements NativeAllocator {
    private static final int STRIPES = 16; // power of two
    private final LiveBlocks[] stripes = new LiveBlocks[STRIPES];
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
        long p = SystemNative.nalloc_system_alloc(Math.max(alignment, 16), usable);
        if (p != 0) {
            LiveBlocks s = stripe(p);
            synchronized (s) {
                s.put(p, usable);
            }
        }
        return p;
    }

    @Override
    public long realloc(long address, long size) {
        checkOpen();
        Blocks.checkSize(size);
        if (address == 0) {
            return malloc(size);
        }
        long old = size(address);
        long p = malloc(size);
        if (p == 0) {
            return 0; // the old block stays valid
        }
        Blocks.copy(address, p, Math.min(old, Math.max(size, 1)));
        free(address);
        return p;
    }

    @Override
    public void free(long address) {
        checkOpen();
        if (address == 0) {
            return;
        }
        LiveBlocks s = stripe(address);
        long size;
        synchronized (s) {
            size = s.remove(address);
        }
        if (size < 0) {
            throw Blocks.notLive(address, "allocator", "double free or foreign pointer");
        }
        SystemNative.nalloc_system_free(address);
    }

    @Override
    public long size(long address) {
        checkOpen();
        LiveBlocks s = stripe(address);
        long size;
        synchronized (s) {
            size = s.get(address);
        }
        if (size < 0) {
            throw Blocks.notLive(address, "allocator", "double free or foreign pointer");
        }
        return size;
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

    /** Frees every live block; later calls throw {@link IllegalStateException}. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (LiveBlocks s : stripes) {
            synchronized (s) {
                s.drain((address, size) -> SystemNative.nalloc_system_free(address));
            }
        }
    }

    @Override
    public String toString() {
        return closed ? "SystemAllocator[closed]" : "SystemAllocator[live=" + liveBlocks() + "]";
    }
}
