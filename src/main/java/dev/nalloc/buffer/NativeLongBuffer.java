package dev.nalloc.buffer;

import dev.nalloc.NativeAllocator;
import java.nio.LongBuffer;

/**
 * A bounds-checked array of {@code long}s in native memory; see {@link NativeBuffer} for the
 * safety, memory and lifetime rules.
 * <pre>{@code
 * try (NativeLongBuffer values = NativeLongBuffer.allocate(allocator, 1000)) {
 *     values.set(0, 42L);
 *     long first = values.get(0);
 * }
 * }</pre>
 */
public final class NativeLongBuffer extends NativeBuffer {
    private static final int BYTES = Long.BYTES;
    /** Typed view over the same memory; its absolute methods are used, never its position. */
    private final LongBuffer view;

    private NativeLongBuffer(NativeAllocator allocator, long address, int length, Lifetime lifetime, boolean slice) {
        super(allocator, address, length, BYTES, lifetime, slice);
        this.view = bytes.asLongBuffer();
    }

    /**
     * A buffer of {@code length} zeroed elements from {@code allocator}.
     *
     * @param allocator where the block comes from; {@link #close()} gives it back
     * @param length number of elements, 0 to {@code Integer.MAX_VALUE / Long.BYTES}
     * @return a new buffer
     * @throws IllegalArgumentException if {@code length} is out of range
     * @throws OutOfMemoryError if the allocator cannot satisfy the request
     * @throws IllegalStateException if the allocator is closed
     */
    public static NativeLongBuffer allocate(NativeAllocator allocator, long length) {
        return new NativeLongBuffer(allocator, allocateBlock(allocator, length, BYTES, true), (int) length,
                new Lifetime(), false);
    }

    /**
     * As {@link #allocate}, without zeroing: the elements hold whatever the block held.
     *
     * @param allocator where the block comes from
     * @param length number of elements
     * @return a new buffer
     * @throws IllegalArgumentException if {@code length} is out of range
     * @throws OutOfMemoryError if the allocator cannot satisfy the request
     */
    public static NativeLongBuffer allocateUninitialized(NativeAllocator allocator, long length) {
        return new NativeLongBuffer(allocator, allocateBlock(allocator, length, BYTES, false), (int) length,
                new Lifetime(), false);
    }

    /**
     * A buffer over {@code length} elements at {@code address}, memory the caller owns and keeps
     * valid; {@link #close()} frees nothing.
     *
     * @param address of element 0, a multiple of {@code Long.BYTES}
     * @param length number of elements
     * @return a new buffer
     * @throws IllegalArgumentException if the address is 0 or misaligned, the length out of range, or
     *         the range wraps past the end of the address space
     */
    public static NativeLongBuffer wrap(long address, long length) {
        checkWrap(address, length, BYTES);
        return new NativeLongBuffer(null, address, (int) length, new Lifetime(), false);
    }

    @Override
    int elementBytes() {
        return BYTES;
    }

    /**
     * Element {@code index}.
     *
     * @param index 0 to {@code length() - 1}
     * @return the element
     * @throws IndexOutOfBoundsException if {@code index} is out of range
     * @throws IllegalStateException if closed
     */
    public long get(int index) {
        return view.get(checkIndex(index));
    }

    /**
     * Sets element {@code index}.
     *
     * @param index 0 to {@code length() - 1}
     * @param value the new value
     * @throws IndexOutOfBoundsException if {@code index} is out of range
     * @throws IllegalStateException if closed
     */
    public void set(int index, long value) {
        view.put(checkIndex(index), value);
    }

    /**
     * Sets every element to {@code value}.
     *
     * @param value the value
     * @throws IllegalStateException if closed
     */
    public void fill(long value) {
        checkOpen();
        for (int i = 0; i < length; i++) {
            view.put(i, value);
        }
    }

    /**
     * Copies {@code count} elements of {@code src} from {@code srcIndex} to this buffer at
     * {@code index}.
     *
     * @param src the array
     * @param srcIndex first element of {@code src}
     * @param index first element of this buffer
     * @param count elements to copy
     * @throws IndexOutOfBoundsException if either range is out of bounds (nothing is copied)
     * @throws IllegalStateException if closed
     */
    public void copyFrom(long[] src, int srcIndex, int index, int count) {
        checkRange(index, count);
        java.util.Objects.checkFromIndexSize(srcIndex, count, src.length);
        view.put(index, src, srcIndex, count);
    }

    /**
     * Copies the whole array to the start of this buffer.
     *
     * @param src the array, at most {@link #length()} elements
     * @throws IndexOutOfBoundsException if the array is longer than this buffer
     * @throws IllegalStateException if closed
     */
    public void copyFrom(long[] src) {
        copyFrom(src, 0, 0, src.length);
    }

    /**
     * Copies {@code count} elements of another buffer (or of this one: overlapping ranges are
     * copied as if through a temporary).
     *
     * @param src the source buffer
     * @param srcIndex first element of {@code src}
     * @param index first element of this buffer
     * @param count elements to copy
     * @throws IndexOutOfBoundsException if either range is out of bounds (nothing is copied)
     * @throws IllegalStateException if either buffer is closed
     */
    public void copyFrom(NativeLongBuffer src, int srcIndex, int index, int count) {
        checkRange(index, count);
        src.checkRange(srcIndex, count);
        view.put(index, src.view, srcIndex, count);
    }

    /**
     * Copies {@code count} elements from {@code index} into {@code dst} at {@code dstIndex}.
     *
     * @param index first element of this buffer
     * @param dst the array
     * @param dstIndex first element of {@code dst}
     * @param count elements to copy
     * @throws IndexOutOfBoundsException if either range is out of bounds (nothing is copied)
     * @throws IllegalStateException if closed
     */
    public void copyTo(int index, long[] dst, int dstIndex, int count) {
        checkRange(index, count);
        java.util.Objects.checkFromIndexSize(dstIndex, count, dst.length);
        view.get(index, dst, dstIndex, count);
    }

    /**
     * The elements as a new Java array.
     *
     * @return a copy of every element
     * @throws IllegalStateException if closed
     */
    public long[] toArray() {
        long[] out = new long[length];
        copyTo(0, out, 0, length);
        return out;
    }

    /**
     * A buffer over elements {@code [index, index + count)} of this one, sharing its memory and its
     * lifetime: closing this buffer invalidates the slice; closing the slice does nothing.
     *
     * @param index first element
     * @param count number of elements
     * @return the slice
     * @throws IndexOutOfBoundsException if the range is out of bounds
     * @throws IllegalStateException if closed
     */
    public NativeLongBuffer slice(int index, int count) {
        checkRange(index, count);
        return new NativeLongBuffer(null, address + (long) index * BYTES, count, lifetime, true);
    }

    /**
     * A zero-copy NIO view of the whole buffer (native order, position 0, limit = capacity =
     * {@link #length()}). Unchecked after close (see {@link NativeBuffer}).
     *
     * @return a new LongBuffer over the same memory
     * @throws IllegalStateException if closed
     */
    public LongBuffer asLongBuffer() {
        checkOpen();
        return view.duplicate();
    }
}
