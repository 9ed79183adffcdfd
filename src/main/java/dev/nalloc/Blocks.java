package dev.nalloc;

import java.nio.ByteBuffer;

/**
 * Argument checks, exception messages and buffer views shared by every allocator class, written
 * once. Checks are a compare or two and allocate nothing unless they throw.
 */
final class Blocks {
    private Blocks() {}

    static void checkSize(long size) {
        if (size < 0) {
            throw new IllegalArgumentException("size=" + size + " is negative");
        }
    }

    static void checkAlignment(long alignment) {
        if (alignment <= 0 || alignment > NativeAllocator.ALIGNMENT_MAX || (alignment & (alignment - 1)) != 0) {
            throw new IllegalArgumentException("alignment=" + alignment
                    + " is not a power of two in 1.." + NativeAllocator.ALIGNMENT_MAX);
        }
    }

    static String hex(long address) {
        return "0x" + Long.toHexString(address);
    }

    static IllegalStateException closed(String what) {
        return new IllegalStateException(what + " is closed");
    }

    /** {@code owner} is "heap" or "allocator", {@code why} the likely cause. */
    static IllegalArgumentException notLive(long address, String owner, String why) {
        return new IllegalArgumentException("address=" + hex(address) + " is not a live block of this " + owner
                + " (" + why + ")");
    }

    /** A native-order view of the whole usable size of a block. */
    static ByteBuffer view(long address, long usable) {
        if (usable > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("address=" + hex(address) + " usable=" + usable
                    + " exceeds a ByteBuffer's capacity; use view(address, length)");
        }
        return newView(address, usable);
    }

    /** A native-order view of the first {@code length} bytes of a block of {@code usable} bytes. */
    static ByteBuffer view(long address, int length, long usable) {
        if (length < 0 || length > usable) {
            throw new IllegalArgumentException("length=" + length + " is not in 0..usable=" + usable
                    + " of address=" + hex(address));
        }
        return newView(address, length);
    }

    private static ByteBuffer newView(long address, long length) {
        return DirectBufferFactory.view(address, (int) length);
    }
}
