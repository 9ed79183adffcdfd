package dev.nalloc.buffer;

import dev.nalloc.NativeAllocator;
import dev.nalloc.internal.Blocks;
import dev.nalloc.toolkit.ArenaAllocator;
import dev.nalloc.toolkit.LinearAllocator;
import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * A typed, bounds-checked array of primitives in native memory, as ZiggyAlloc's
 * {@code UnmanagedBuffer<T>}: {@link NativeByteBuffer}, {@link NativeIntBuffer},
 * {@link NativeLongBuffer}, {@link NativeFloatBuffer} and {@link NativeDoubleBuffer}, each made
 * over any {@link NativeAllocator} and freed by {@link #close()}:
 * <pre>{@code
 * try (NativeFloatBuffer positions = NativeFloatBuffer.allocate(heap, 3 * vertexCount)) {
 *     positions.set(0, 1.5f);
 *     positions.copyFrom(mesh, 0, 3, mesh.length - 3);
 *     glBufferData(GL_ARRAY_BUFFER, positions.asByteBuffer(), GL_STATIC_DRAW); // zero-copy
 * }
 * }</pre>
 *
 * <p><b>Safety.</b> Every access is checked: an index outside {@code [0, length())} is an
 * {@link IndexOutOfBoundsException} and never reads or writes outside the block; any access after
 * {@code close()} is an {@link IllegalStateException}. Slices ({@code slice(from, count)}) share
 * the memory and the lifetime of the buffer they come from: closing the buffer invalidates them,
 * closing a slice does nothing. The one unchecked door is the NIO view ({@link #asByteBuffer()},
 * {@code asIntBuffer()}, ...): like every direct buffer over foreign memory it does not know when
 * the block is freed, so drop it before closing.
 *
 * <p><b>Memory.</b> {@code allocate} zeroes the elements (as Java arrays and
 * {@code ByteBuffer.allocateDirect} do); {@code allocateUninitialized} skips that. A buffer over an
 * allocator that frees only in bulk ({@link ArenaAllocator}, {@link LinearAllocator}) leaves its
 * block to the allocator's reset or close. {@code wrap} makes a buffer over memory the caller
 * owns; closing it frees nothing. A buffer holds at most {@link Integer#MAX_VALUE} bytes.
 *
 * <p>The five typed classes are kept line for line parallel, as the JDK's own {@code IntBuffer},
 * {@code LongBuffer}, ... are: Java has no generics over primitives, and one class per element type
 * is what keeps {@code get} and {@code set} free of boxing. A change to one is a change to all five.
 *
 * <p><b>Thread safety:</b> none beyond that of plain Java arrays; {@link #close()} must not race
 * with accesses.
 */
public abstract sealed class NativeBuffer implements AutoCloseable
        permits NativeByteBuffer, NativeIntBuffer, NativeLongBuffer, NativeFloatBuffer, NativeDoubleBuffer {

    /** Shared by a buffer and its slices: one closed flag for all of them. */
    static final class Lifetime {
        boolean closed;
    }

    final NativeAllocator allocator; // null: not owned (wrapped memory or a slice)
    final long address;
    final int length;
    final Lifetime lifetime;
    final boolean slice; // true: the lifetime belongs to the buffer this was sliced from
    /** The whole buffer as native-order bytes; never used once closed (every access checks). */
    final ByteBuffer bytes;

    NativeBuffer(NativeAllocator allocator, long address, int length, int elementBytes, Lifetime lifetime,
            boolean slice) {
        this.allocator = allocator;
        this.address = address;
        this.length = length;
        this.lifetime = lifetime;
        this.slice = slice;
        this.bytes = Blocks.view(address, length * elementBytes, (long) length * elementBytes);
    }

    /** Allocates {@code length} elements of {@code elementBytes} from {@code allocator}. */
    static long allocateBlock(NativeAllocator allocator, long length, int elementBytes, boolean zeroed) {
        Objects.requireNonNull(allocator, "allocator");
        if (length < 0 || length > Integer.MAX_VALUE / elementBytes) {
            throw new IllegalArgumentException("length=" + length + " is not in 0.." + Integer.MAX_VALUE / elementBytes);
        }
        long bytes = length * elementBytes;
        long p = allocator.malloc(bytes, Math.max(elementBytes, 16));
        if (p == 0) {
            throw new OutOfMemoryError(allocator + " cannot allocate " + bytes + " bytes");
        }
        if (zeroed) {
            Blocks.fill(p, bytes, (byte) 0);
        }
        return p;
    }

    static void checkWrap(long address, long length, int elementBytes) {
        if (address == 0 || length < 0 || length > Integer.MAX_VALUE / elementBytes
                || address % elementBytes != 0) {
            throw new IllegalArgumentException("address=" + Blocks.hex(address) + " length=" + length
                    + " is not a buffer of " + elementBytes + "-byte elements");
        }
        Blocks.checkRange(address, length * elementBytes);
    }

    final void checkOpen() {
        if (lifetime.closed) {
            throw new IllegalStateException(getClass().getSimpleName() + " is closed");
        }
    }

    final int checkIndex(int index) {
        checkOpen();
        return java.util.Objects.checkIndex(index, length);
    }

    final void checkRange(int index, int count) {
        checkOpen();
        java.util.Objects.checkFromIndexSize(index, count, length);
    }

    /**
     * The address of element 0, for native calls.
     *
     * @return the address
     * @throws IllegalStateException if closed
     */
    public final long address() {
        checkOpen();
        return address;
    }

    /**
     * The number of elements.
     *
     * @return length, fixed for the buffer's life
     */
    public final int length() {
        return length;
    }

    /**
     * The size in bytes.
     *
     * @return {@code length() × element size}
     */
    public final long byteSize() {
        return (long) length * elementBytes();
    }

    abstract int elementBytes();

    /**
     * Whether this buffer (or the buffer it is a slice of) was closed.
     *
     * @return true after close
     */
    public final boolean isClosed() {
        return lifetime.closed;
    }

    /**
     * Sets every byte to 0.
     *
     * @throws IllegalStateException if closed
     */
    public final void clear() {
        checkOpen();
        Blocks.fill(address, byteSize(), (byte) 0);
    }

    /**
     * A zero-copy NIO view of the whole buffer: native byte order, position 0, limit = capacity =
     * {@link #byteSize()}. Unchecked after close (see the class notes).
     *
     * @return a new direct buffer over the same memory
     * @throws IllegalStateException if closed
     */
    public final ByteBuffer asByteBuffer() {
        checkOpen();
        return bytes.duplicate().order(bytes.order());
    }

    /**
     * Frees the block (unless the buffer wraps memory it does not own, is a slice, or its
     * allocator frees only in bulk) and invalidates this buffer and its slices. Calling it again
     * does nothing.
     */
    @Override
    public final void close() {
        if (slice || lifetime.closed) {
            return;
        }
        lifetime.closed = true;
        if (allocator != null && allocator.supportsFree()) {
            allocator.free(address);
        }
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[length=" + length + (lifetime.closed ? ", closed]" : ", address="
                + Blocks.hex(address) + "]");
    }
}
