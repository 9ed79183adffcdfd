package dev.nalloc.internal;

import dev.nalloc.NativeAllocator;
import java.nio.ByteBuffer;

/**
 * Argument checks, exception messages and buffer views shared by every allocator class, written
 * once. Checks are a compare or two and allocate nothing unless they throw.
 */
public final class Blocks {
    private Blocks() {}

    public static void checkSize(long size) {
        if (size < 0) {
            throw new IllegalArgumentException("size=" + size + " is negative");
        }
    }

    public static void checkAlignment(long alignment) {
        if (alignment <= 0 || alignment > NativeAllocator.ALIGNMENT_MAX || (alignment & (alignment - 1)) != 0) {
            throw new IllegalArgumentException("alignment=" + alignment
                    + " is not a power of two in 1.." + NativeAllocator.ALIGNMENT_MAX);
        }
    }

    /**
     * Checks that {@code [address, address + bytes)} is a range of memory: address not 0, bytes
     * not negative, and the range does not wrap past the top of the address space. Addresses are
     * unsigned, so the wrap test is an unsigned compare: a signed one lets a range starting in the
     * upper half (a negative long) and ending past 2<sup>64</sup> through.
     */
    public static void checkRange(long address, long bytes) {
        if (address == 0 || bytes < 0 || Long.compareUnsigned(address + bytes, address) < 0) {
            throw new IllegalArgumentException("address=" + hex(address) + " bytes=" + bytes
                    + " is not a memory range (0, negative, or wraps past the end of the address space)");
        }
    }

    public static String hex(long address) {
        return "0x" + Long.toHexString(address);
    }

    public static IllegalStateException closed(String what) {
        return new IllegalStateException(what + " is closed");
    }

    /** {@code owner} is "heap" or "allocator", {@code why} the likely cause. */
    public static IllegalArgumentException notLive(long address, String owner, String why) {
        return new IllegalArgumentException("address=" + hex(address) + " is not a live block of this " + owner
                + " (" + why + ")");
    }

    /** A native-order view of the whole usable size of a block. */
    public static ByteBuffer view(long address, long usable) {
        if (usable > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("address=" + hex(address) + " usable=" + usable
                    + " exceeds a ByteBuffer's capacity; use view(address, length)");
        }
        return newView(address, usable);
    }

    /** A native-order view of the first {@code length} bytes of a block of {@code usable} bytes. */
    public static ByteBuffer view(long address, int length, long usable) {
        if (length < 0 || length > usable) {
            throw new IllegalArgumentException("length=" + length + " is not in 0..usable=" + usable
                    + " of address=" + hex(address));
        }
        return newView(address, length);
    }

    /** The address of a direct buffer's memory. */
    public static long address(ByteBuffer buffer) {
        return DirectBufferFactory.address(buffer);
    }

    /**
     * Copies {@code bytes} bytes from {@code from} to {@code to} (the ranges may overlap) through
     * views: no JNI call where views are made in Java, and the JDK's intrinsic copy.
     */
    public static void copy(long from, long to, long bytes) {
        if (from == to || bytes == 0) {
            return;
        }
        // overlapping with the destination above: unsigned, as addresses are
        boolean backwards = Long.compareUnsigned(to - from, bytes) < 0;
        long done = 0;
        while (done < bytes) {
            int n = (int) Math.min(bytes - done, 1 << 30);
            long offset = backwards ? bytes - done - n : done;
            ByteBuffer src = newView(from + offset, n);
            ByteBuffer dst = newView(to + offset, n);
            dst.put(src); // the JDK copies overlapping direct buffers correctly (memmove)
            done += n;
        }
    }

    /** Sets {@code bytes} bytes at {@code address} to {@code value}. */
    public static void fill(long address, long bytes, byte value) {
        if (RawMemory.ENABLED) {
            RawMemory.setMemory(address, bytes, value);
            return;
        }
        long pattern = (value & 0xFFL) * 0x0101_0101_0101_0101L;
        long done = 0;
        while (done < bytes) {
            int n = (int) Math.min(bytes - done, 1 << 30);
            ByteBuffer b = newView(address + done, n);
            int i = 0;
            for (; i + 8 <= n; i += 8) {
                b.putLong(i, pattern);
            }
            for (; i < n; i++) {
                b.put(i, value);
            }
            done += n;
        }
    }

    private static ByteBuffer newView(long address, long length) {
        return DirectBufferFactory.view(address, (int) length);
    }
}
