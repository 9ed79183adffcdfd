package dev.nalloc.toolkit;

import dev.nalloc.NativeAllocator;
import dev.nalloc.internal.Blocks;
import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * A linear (also called static) allocator: blocks are cut one after another
 * from a buffer, and single blocks cannot be freed ({@link #free} throws
 * {@link UnsupportedOperationException}); {@link #reset()} frees them all at once. Two forms:
 * <ul>
 *   <li>static, {@link #over(long, long)} / {@link #over(ByteBuffer)}: over a fixed buffer the
 *       caller owns; it never grows, and malloc returns 0 when the buffer is full;</li>
 *   <li>growing, {@link #over(NativeAllocator, long)}: over a parent, taking chunks as needed and
 *       handing them back on {@link #close()} (the same machinery as {@link ArenaAllocator}, which
 *       is the scoped form of this one).</li>
 * </ul>
 *
 * <pre>{@code
 * try (LinearAllocator scratch = LinearAllocator.over(frameBuffer)) {   // a direct ByteBuffer
 *     long a = scratch.malloc(256);
 *     long b = scratch.malloc(1024, 64);
 *     ...
 *     scratch.reset();                                                  // next frame
 * }
 * }</pre>
 *
 * <p>malloc is a bump of a pointer plus one record (kept so that {@link #size} and
 * {@link #realloc} can refuse addresses that are not blocks); it returns 0 when the buffer is
 * full. {@link #realloc} resizes the last block in place, and copies any other block to a new one
 * (the old space is reclaimed only by {@code reset}). {@link #close()} does not free the buffer:
 * the caller owns it.
 *
 * <p><b>Thread safety:</b> none; confine an instance to one thread (or lock around it).
 */
public final class LinearAllocator implements NativeAllocator {
    private final BumpChunk region;  // static form; null when growing
    private final ArenaAllocator chunks; // growing form; null when static
    private final Object keepAlive; // the ByteBuffer whose memory this is, if any
    private boolean closed;

    private LinearAllocator(long address, long bytes, Object keepAlive) {
        this.region = new BumpChunk(address, bytes);
        this.chunks = null;
        this.keepAlive = keepAlive;
    }

    private LinearAllocator(ArenaAllocator chunks) {
        this.region = null;
        this.chunks = chunks;
        this.keepAlive = null;
    }

    /**
     * A growing linear allocator over {@code parent}, taking chunks of {@code chunkBytes} (a
     * larger block gets a chunk of its own).
     *
     * @param parent gives and takes back the chunks; must support single frees
     * @param chunkBytes bytes per chunk, {@code >= 64}
     * @return a new allocator
     * @throws IllegalArgumentException if {@code chunkBytes < 64} or the parent frees only in bulk
     */
    public static LinearAllocator over(NativeAllocator parent, long chunkBytes) {
        return new LinearAllocator(new ArenaAllocator(parent, chunkBytes));
    }

    /**
     * A linear allocator over {@code [address, address + bytes)}, memory the caller owns and keeps
     * valid while the allocator is used.
     *
     * @param address start of the buffer, not 0
     * @param bytes size of the buffer, {@code >= 0}
     * @return a new allocator
     * @throws IllegalArgumentException if {@code address} is 0, {@code bytes} is negative or the
     *         range wraps past the end of the address space
     */
    public static LinearAllocator over(long address, long bytes) {
        Blocks.checkRange(address, bytes);
        return new LinearAllocator(address, bytes, null);
    }

    /**
     * A linear allocator over the whole capacity of a direct buffer (position and limit are
     * ignored); the allocator keeps the buffer reachable.
     *
     * @param buffer a direct buffer
     * @return a new allocator
     * @throws IllegalArgumentException if the buffer is not direct
     */
    public static LinearAllocator over(ByteBuffer buffer) {
        Objects.requireNonNull(buffer, "buffer");
        if (!buffer.isDirect()) {
            throw new IllegalArgumentException("buffer is not direct: its memory can move");
        }
        return new LinearAllocator(Blocks.address(buffer), buffer.capacity(), buffer);
    }

    private void checkOpen() {
        if (closed) {
            throw Blocks.closed("LinearAllocator");
        }
    }

    /** {@inheritDoc} 0 when the buffer cannot hold the block. */
    @Override
    public long malloc(long size) {
        return malloc(size, 16);
    }

    @Override
    public long malloc(long size, long alignment) {
        checkOpen();
        if (chunks != null) {
            return chunks.malloc(size, alignment);
        }
        Blocks.checkSize(size);
        Blocks.checkAlignment(alignment);
        return region.alloc(size, alignment);
    }

    @Override
    public long realloc(long address, long size) {
        checkOpen();
        if (chunks != null) {
            return chunks.realloc(address, size);
        }
        Blocks.checkSize(size);
        if (address == 0) {
            return region.alloc(size, 16);
        }
        int i = indexOf(address);
        if (region.isLast(i) && region.resizeLast(size)) {
            return address;
        }
        long old = region.size(i);
        long p = region.alloc(size, 16);
        if (p != 0) {
            Blocks.copy(address, p, Math.min(old, Math.max(size, 1)));
        }
        return p;
    }

    private int indexOf(long address) {
        int i = region.find(address);
        if (i < 0) {
            throw Blocks.notLive(address, "allocator", "not a block of this linear allocator");
        }
        return i;
    }

    /** Refused: a linear allocator frees only everything at once, with {@link #reset()}. */
    @Override
    public void free(long address) {
        checkOpen();
        if (address != 0) {
            throw new UnsupportedOperationException("LinearAllocator cannot free single blocks; reset() frees all");
        }
    }

    /** {@inheritDoc} The requested size (at least 1). */
    @Override
    public long size(long address) {
        checkOpen();
        return chunks != null ? chunks.size(address) : region.size(indexOf(address));
    }

    /** False: blocks are freed all at once by {@link #reset()}. */
    @Override
    public boolean supportsFree() {
        return false;
    }

    /** False: confine it to one thread. */
    @Override
    public boolean isThreadSafe() {
        return false;
    }

    /**
     * Frees every block: the whole buffer is available again.
     *
     * @throws IllegalStateException if closed
     */
    public void reset() {
        checkOpen();
        if (chunks != null) {
            chunks.reset();
        } else {
            region.reset();
        }
    }

    /**
     * Bytes used so far, alignment padding included.
     *
     * @return 0 to {@link #capacity()}
     */
    public long used() {
        return chunks != null ? chunks.used() : region.used();
    }

    /**
     * The buffer's size (static form) or the bytes taken from the parent (growing form).
     *
     * @return bytes
     */
    public long capacity() {
        return chunks != null ? chunks.capacity() : region.capacity();
    }

    /**
     * Ends the allocator. The static form leaves the buffer alone (it is the caller's); the growing
     * form hands its chunks back to the parent. Calling it again does nothing.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (chunks != null) {
            chunks.close();
        }
        Objects.hashCode(keepAlive); // reachable until here
    }

    @Override
    public String toString() {
        return closed ? "LinearAllocator[closed]" : "LinearAllocator[" + (chunks != null ? "growing, " : "")
                + "used=" + used() + " of " + capacity() + "]";
    }
}
