package dev.nalloc.toolkit;

import dev.nalloc.NativeAllocator;
import dev.nalloc.internal.Blocks;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A scoped allocator: blocks are bumped out of chunks taken from a parent allocator, and all of
 * them are freed together by {@link #reset()} or {@link #close()}, as ZiggyAlloc's scoped
 * allocator does. Single blocks cannot be freed: {@link #free} throws
 * {@link UnsupportedOperationException}.
 * <pre>{@code
 * try (ArenaAllocator frame = new ArenaAllocator(heap, 64 << 10)) {
 *     long vertices = frame.malloc(4096, 64);
 *     NativeFloatBuffer uv = NativeFloatBuffer.allocate(frame, 512);   // typed, bounds-checked
 *     ...
 * }                                    // every chunk goes back to heap
 * }</pre>
 *
 * <p>A request that does not fit the current chunk opens a new chunk of
 * {@code max(chunkBytes, size + alignment)} bytes; the space left in the old one is not reused
 * until {@code reset}. {@link #reset()} keeps the chunks for the next round (a frame allocator
 * asks its parent for nothing in steady state); {@link #close()} hands them back. malloc returns 0
 * when the parent cannot give a chunk. Every block is recorded (address and size, in order) so
 * that {@link #size} and {@link #realloc} refuse foreign and interior addresses.
 *
 * <p><b>Thread safety:</b> none; one arena per thread, as with ZiggyAlloc's scoped allocator.
 */
public final class ArenaAllocator implements NativeAllocator {
    private final NativeAllocator parent;
    private final long chunkBytes;
    private final List<BumpChunk> chunks = new ArrayList<>();
    private BumpChunk current; // the chunk malloc bumps in; null before the first block
    private int currentIndex = -1;
    private boolean closed;

    /**
     * An arena over {@code parent} that takes chunks of {@code chunkBytes}.
     *
     * @param parent gives and takes back the chunks; must support single frees
     * @param chunkBytes bytes per chunk, {@code >= 64}
     * @throws IllegalArgumentException if {@code chunkBytes < 64} or the parent cannot free single
     *         blocks
     */
    public ArenaAllocator(NativeAllocator parent, long chunkBytes) {
        this.parent = Objects.requireNonNull(parent, "parent");
        if (chunkBytes < 64) {
            throw new IllegalArgumentException("chunkBytes=" + chunkBytes + " is below 64");
        }
        if (!parent.supportsFree()) {
            throw new IllegalArgumentException("parent " + parent + " cannot free single chunks");
        }
        this.chunkBytes = chunkBytes;
    }

    /**
     * An arena over {@code parent} with 64 KiB chunks.
     *
     * @param parent gives and takes back the chunks
     */
    public ArenaAllocator(NativeAllocator parent) {
        this(parent, 64 << 10);
    }

    private void checkOpen() {
        if (closed) {
            throw Blocks.closed("ArenaAllocator");
        }
    }

    @Override
    public long malloc(long size) {
        return malloc(size, 16);
    }

    /** {@inheritDoc} 0 when the parent cannot give a chunk large enough. */
    @Override
    public long malloc(long size, long alignment) {
        checkOpen();
        Blocks.checkSize(size);
        Blocks.checkAlignment(alignment);
        return bump(size, alignment);
    }

    private long bump(long size, long alignment) {
        if (current != null) {
            long p = current.alloc(size, alignment);
            if (p != 0) {
                return p;
            }
            // Chunks kept by reset(): try the next one before asking the parent.
            while (currentIndex + 1 < chunks.size()) {
                current = chunks.get(++currentIndex);
                p = current.alloc(size, alignment);
                if (p != 0) {
                    return p;
                }
            }
        }
        if (size > Long.MAX_VALUE - 2 * NativeAllocator.ALIGNMENT_MAX) {
            return 0;
        }
        long bytes = Math.max(chunkBytes, size + alignment);
        long chunk = parent.malloc(bytes, 16);
        if (chunk == 0) {
            return 0;
        }
        BumpChunk c = new BumpChunk(chunk, bytes);
        chunks.add(c);
        currentIndex = chunks.size() - 1;
        current = c;
        return c.alloc(size, alignment);
    }

    @Override
    public long realloc(long address, long size) {
        checkOpen();
        Blocks.checkSize(size);
        if (address == 0) {
            return bump(size, 16);
        }
        BumpChunk c = chunkOf(address);
        int i = c.find(address);
        if (c == current && c.isLast(i) && c.resizeLast(size)) {
            return address;
        }
        long old = c.size(i);
        long p = bump(size, 16);
        if (p != 0) {
            Blocks.copy(address, p, Math.min(old, Math.max(size, 1)));
        }
        return p;
    }

    private BumpChunk chunkOf(long address) {
        for (BumpChunk c : chunks) {
            if (c.contains(address) && c.find(address) >= 0) {
                return c;
            }
        }
        throw Blocks.notLive(address, "allocator", "not a block of this arena");
    }

    /** Refused: an arena frees only everything at once ({@link #reset()}, {@link #close()}). */
    @Override
    public void free(long address) {
        checkOpen();
        if (address != 0) {
            throw new UnsupportedOperationException("ArenaAllocator cannot free single blocks; reset() or close() frees all");
        }
    }

    /** {@inheritDoc} The requested size (at least 1). */
    @Override
    public long size(long address) {
        checkOpen();
        BumpChunk c = chunkOf(address);
        return c.size(c.find(address));
    }

    /** False: blocks are freed all at once. */
    @Override
    public boolean supportsFree() {
        return false;
    }

    /** False: one arena per thread. */
    @Override
    public boolean isThreadSafe() {
        return false;
    }

    /**
     * Frees every block and keeps the chunks for reuse.
     *
     * @throws IllegalStateException if closed
     */
    public void reset() {
        checkOpen();
        for (BumpChunk c : chunks) {
            c.reset();
        }
        currentIndex = chunks.isEmpty() ? -1 : 0;
        current = chunks.isEmpty() ? null : chunks.get(0);
    }

    /**
     * Bytes used in the chunks since the last reset, alignment padding included.
     *
     * @return bytes
     */
    public long used() {
        long n = 0;
        for (BumpChunk c : chunks) {
            n += c.used();
        }
        return n;
    }

    /**
     * Bytes taken from the parent and not yet handed back.
     *
     * @return the chunks' total size
     */
    public long capacity() {
        long n = 0;
        for (BumpChunk c : chunks) {
            n += c.capacity();
        }
        return n;
    }

    /**
     * Chunks taken from the parent and not yet handed back.
     *
     * @return the number of chunks
     */
    public int chunks() {
        return chunks.size();
    }

    /**
     * Blocks handed out since the last reset.
     *
     * @return the number of live blocks
     */
    public long blocks() {
        long n = 0;
        for (BumpChunk c : chunks) {
            n += c.blocks();
        }
        return n;
    }

    /** Frees every block and hands every chunk back to the parent. Calling it again does nothing. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (BumpChunk c : chunks) {
            parent.free(c.base);
        }
        chunks.clear();
        current = null;
    }

    @Override
    public String toString() {
        return closed ? "ArenaAllocator[closed]" : "ArenaAllocator[chunks=" + chunks.size() + ", blocks=" + blocks() + "]";
    }
}
