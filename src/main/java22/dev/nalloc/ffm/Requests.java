package dev.nalloc.ffm;

import dev.nalloc.NativeAllocator;




/** The checks and the malloc shared by {@link NallocSegmentAllocator} and {@link NallocArena}. */
final class Requests {
    private Requests() {}

    /** Blocks of every {@link NativeAllocator} are aligned to at least this (its contract). */
    private static final long NATURAL_ALIGNMENT = 16;

    /**
     * {@link java.lang.foreign.SegmentAllocator}'s argument checks, plus nalloc's alignment limit;
     * all before the allocator is touched.
     */
    static void check(long byteSize, long byteAlignment) {
        if (byteSize < 0) {
            throw new IllegalArgumentException("byteSize=" + byteSize + " is negative");
        }
        if (byteAlignment <= 0 || (byteAlignment & (byteAlignment - 1)) != 0) {
            throw new IllegalArgumentException("byteAlignment=" + byteAlignment + " is not a power of two");
        }
        if (byteAlignment > NativeAllocator.ALIGNMENT_MAX) {
            throw new IllegalArgumentException("byteAlignment=" + byteAlignment
                    + " exceeds nalloc's largest alignment " + NativeAllocator.ALIGNMENT_MAX);
        }
    }

    /** A block for a checked request; {@link OutOfMemoryError} instead of nalloc's 0. */
    static long malloc(NativeAllocator allocator, long byteSize, long byteAlignment) {
        long address = byteAlignment <= NATURAL_ALIGNMENT
                ? allocator.malloc(byteSize)
                : allocator.malloc(byteSize, byteAlignment);
        if (address == 0) {
            throw new OutOfMemoryError("nalloc cannot allocate byteSize=" + byteSize + " byteAlignment="
                    + byteAlignment + " from " + allocator);
        }
        return address;
    }
}
